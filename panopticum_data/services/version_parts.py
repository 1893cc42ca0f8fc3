"""What a version owns, edited by editors, admins and the component's owners: owners, tech stack,
links, document links and QA levels.

Audit: a collection replaced as a whole is one event with entity = its table (``version_owner``,
``version_language``, ``version_link``, …), entity_id = the version id, field = the role or kind,
old → new lists of names. Maintainer and responsible QA are columns of ``component_version``
(field = the role, old → new username). QA levels: entity ``qa_level``, entity_id = the version id,
fields ``<kind>.level`` and ``<kind>.notes``. Document links are rows (entity ``document_link``).

Every change here moves the version's ``row_version`` on (``touch``). Each service takes an optional
``expected_row_version``: the version's row_version the caller read (None: not checked); when the
version changed since, StaleWrite (entity ``component_version``, the version id) is raised and
nothing is written. Within one save, the row_version after a call is ``version.row_version``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..enums import LINK_KINDS, OWNER_ROLES, QA_KINDS, QA_LEVELS, SINGLE_OWNER_ROLES
from ..errors import InvalidValue, NotFound
from ..models import (
    Base,
    ChangeSet,
    ComponentVersion,
    DatabaseVendor,
    DocumentLink,
    DocumentType,
    Framework,
    Language,
    Logger,
    Orm,
    Person,
    QaLevel,
    Runtime,
    VersionDatabase,
    VersionFramework,
    VersionLanguage,
    VersionLink,
    VersionLogger,
    VersionOrm,
    VersionOwner,
    VersionRuntime,
    utcnow,
)
from ._core import Actor, begin_change
from ._util import (
    DuplicateEntry,
    check_version,
    clean_choice,
    clean_name,
    clean_text,
    clean_url,
    finish,
    flush_rows,
    ids_by_names,
    load_version_for_write,
    names_by_ids,
    person_ids,
    record_list,
    record_row,
    touch,
    unique_names,
)


@dataclass(frozen=True)
class StackKind:
    """One kind of tech-stack entry: the association model, the reference model and its column."""

    link: type[Base]
    model: type[Base]
    column: str
    field: str


STACK_KINDS: Mapping[str, StackKind] = {
    "languages": StackKind(VersionLanguage, Language, "language_id", "language"),
    "frameworks": StackKind(VersionFramework, Framework, "framework_id", "framework"),
    "databases": StackKind(VersionDatabase, DatabaseVendor, "database_vendor_id", "database"),
    "orms": StackKind(VersionOrm, Orm, "orm_id", "orm"),
    "loggers": StackKind(VersionLogger, Logger, "logger_id", "logger"),
    "runtimes": StackKind(VersionRuntime, Runtime, "runtime_id", "runtime"),
}


# --- owners ------------------------------------------------------------------------------------------


def owner_lists(session: Session, version_id: int) -> dict[str, list[str]]:
    """The version's owners by role (all seven roles), usernames sorted; one query per kind of slot."""
    out: dict[str, list[str]] = {role: [] for role in OWNER_ROLES}
    version = session.get(ComponentVersion, version_id)
    if version is None:
        raise NotFound("version_id", version_id)
    singles = names_by_ids(
        session, Person, [version.maintainer_id, version.responsible_qa_id], column="username"
    )
    if version.maintainer_id is not None:
        out["maintainer"] = [singles[version.maintainer_id]]
    if version.responsible_qa_id is not None:
        out["responsible_qa"] = [singles[version.responsible_qa_id]]
    rows = session.execute(
        select(VersionOwner.role, Person.username)
        .join(Person, Person.id == VersionOwner.person_id)
        .where(VersionOwner.version_id == version_id)
    )
    for role, username in rows:
        out[role].append(username)
    return {role: sorted(names, key=str.lower) for role, names in out.items()}


def set_owners(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    role: str,
    usernames: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Replace the people holding ``role`` on the version; return the usernames now holding it.

    ``role`` is one of OWNER_ROLES; maintainer and responsible_qa take at most one person.
    Raises NotFound (version_id, username), PermissionDenied, InvalidValue (role, or more than one
    person for a single role), StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the owners of this version")
    check_version("component_version", version, expected_row_version)
    role = clean_choice(role, OWNER_ROLES, "role")
    names = unique_names(usernames, "username")
    if role in SINGLE_OWNER_ROLES and len(names) > 1:
        raise InvalidValue(role, names, "takes at most one person")
    ids = person_ids(session, names)
    old = owner_lists(session, version.id)[role]
    new_names = sorted(names_by_ids(session, Person, ids, column="username").values(), key=str.lower)
    if old == new_names:
        return old
    audit = begin_change(session, actor, change_set=change_set, summary=f"set {role} of version {version.id}")
    cid = version.component_id
    if role in SINGLE_OWNER_ROLES:
        setattr(version, f"{role}_id", ids[0] if ids else None)
    touch(session, version)
    if role in SINGLE_OWNER_ROLES:
        audit.event(
            entity="component_version",
            entity_id=version.id,
            action="update",
            field=role,
            old=old[0] if old else None,
            new=new_names[0] if new_names else None,
            component_id=cid,
        )
    else:
        session.execute(
            delete(VersionOwner).where(VersionOwner.version_id == version.id, VersionOwner.role == role)
        )
        if ids:
            session.execute(
                insert(VersionOwner), [{"version_id": version.id, "role": role, "person_id": p} for p in ids]
            )
        record_list(
            audit,
            entity="version_owner",
            entity_id=version.id,
            field=role,
            old=old,
            new=new_names,
            component_id=cid,
        )
    finish(audit)
    return new_names


# --- tech stack ----------------------------------------------------------------------------------------


def stack_lists(session: Session, version_id: int) -> dict[str, list[str]]:
    """The version's tech stack by kind, names sorted."""
    out: dict[str, list[str]] = {}
    for kind, spec in STACK_KINDS.items():
        link_col = getattr(spec.link, spec.column)
        rows = session.scalars(
            select(spec.model.name)  # type: ignore[attr-defined]
            .join(spec.link, link_col == spec.model.id)  # type: ignore[attr-defined]
            .where(spec.link.version_id == version_id)  # type: ignore[attr-defined]
        )
        out[kind] = sorted(rows, key=str.lower)
    return out


def set_stack(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    kind: str,
    names: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Replace one kind of the version's tech stack (kind: languages, frameworks, databases, orms,
    loggers, runtimes) with the named reference rows; return the names now set.

    Raises NotFound (version_id, or the kind's singular e.g. ``language``), PermissionDenied,
    InvalidValue (kind), StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the tech stack of this version")
    check_version("component_version", version, expected_row_version)
    kind = clean_choice(kind, tuple(STACK_KINDS), "kind")
    spec = STACK_KINDS[kind]
    wanted = unique_names(names, spec.field)
    ids = ids_by_names(session, spec.model, wanted, spec.field)
    old = stack_lists(session, version.id)[kind]
    new = sorted(names_by_ids(session, spec.model, ids).values(), key=str.lower)
    if old == new:
        return old
    audit = begin_change(session, actor, change_set=change_set, summary=f"set {kind} of version {version.id}")
    touch(session, version)
    session.execute(delete(spec.link).where(spec.link.version_id == version.id))  # type: ignore[attr-defined]
    if ids:
        session.execute(insert(spec.link), [{"version_id": version.id, spec.column: i} for i in ids])
    record_list(
        audit,
        entity=table_name(spec.link),
        entity_id=version.id,
        field=kind,
        old=old,
        new=new,
        component_id=version.component_id,
    )
    finish(audit)
    return new


def table_name(model: type[Base]) -> str:
    return str(model.__tablename__)


# --- links --------------------------------------------------------------------------------------------


def link_lists(session: Session, version_id: int) -> dict[str, list[str]]:
    """The version's links by kind, in their order."""
    out: dict[str, list[str]] = {kind: [] for kind in LINK_KINDS}
    rows = session.execute(
        select(VersionLink.kind, VersionLink.url)
        .where(VersionLink.version_id == version_id)
        .order_by(VersionLink.kind, VersionLink.position, VersionLink.id)
    )
    for kind, url in rows:
        out[kind].append(url)
    return out


def set_links(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    kind: str,
    urls: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Replace the version's links of one kind (one of LINK_KINDS) with ``urls``, in that order.

    Repeated URLs are kept once. Raises NotFound, PermissionDenied, InvalidValue (kind, url: empty,
    with spaces, too long or a javascript:/data:/file: link), StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the links of this version")
    check_version("component_version", version, expected_row_version)
    kind = clean_choice(kind, LINK_KINDS, "kind")
    new: list[str] = []
    for raw in urls:
        url = clean_url(raw, "url")
        if url is None:
            raise InvalidValue("url", raw, "is empty")
        if url not in new:
            new.append(url)
    old = link_lists(session, version.id)[kind]
    if old == new:
        return old
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"set {kind} links of version {version.id}"
    )
    touch(session, version)
    session.execute(delete(VersionLink).where(VersionLink.version_id == version.id, VersionLink.kind == kind))
    if new:
        session.execute(
            insert(VersionLink),
            [{"version_id": version.id, "kind": kind, "url": u, "position": i} for i, u in enumerate(new)],
        )
    record_list(
        audit,
        entity="version_link",
        entity_id=version.id,
        field=kind,
        old=old,
        new=new,
        component_id=version.component_id,
    )
    finish(audit)
    return new


def add_document_link(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    document_type: str,
    title: str,
    url: str,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> DocumentLink:
    """Attach a typed document (type by name, title, URL) to the version.

    Raises NotFound (version_id, document_type), PermissionDenied, InvalidValue (title, url),
    DuplicateName (url already linked with this type), StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "add documents to this version")
    check_version("component_version", version, expected_row_version)
    type_name = clean_name(document_type, "document_type")
    type_id = ids_by_names(session, DocumentType, [type_name], "document_type")[0]
    clean_title = clean_name(title, "title", max_length=256)
    clean = clean_url(url, "url")
    if clean is None:
        raise InvalidValue("url", url, "is empty")
    duplicate = session.scalar(
        select(DocumentLink.id).where(
            DocumentLink.version_id == version.id,
            DocumentLink.document_type_id == type_id,
            DocumentLink.url == clean,
        )
    )
    if duplicate is not None:
        raise DuplicateEntry("url", clean, f"is already linked as a {type_name!r} document of this version")
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"add document to version {version.id}"
    )
    touch(session, version)
    link = DocumentLink(version_id=version.id, document_type_id=type_id, title=clean_title, url=clean)
    session.add(link)
    flush_rows(session)
    type_label = names_by_ids(session, DocumentType, [type_id])[type_id]
    record_row(
        audit,
        action="create",
        entity="document_link",
        entity_id=link.id,
        values={"version_id": version.id, "document_type": type_label, "title": clean_title, "url": clean},
        component_id=version.component_id,
    )
    finish(audit)
    return link


def remove_document_link(
    session: Session,
    *,
    actor: Actor,
    link_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Remove a document link (``expected_row_version``: its version's). Raises NotFound (link_id),
    PermissionDenied, StaleWrite; nothing is written then."""
    link = session.get(DocumentLink, link_id)
    if link is None:
        raise NotFound("link_id", link_id)
    version = load_version_for_write(session, actor, link.version_id, "remove documents of this version")
    check_version("component_version", version, expected_row_version)
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"remove document from version {version.id}"
    )
    touch(session, version)
    type_label = names_by_ids(session, DocumentType, [link.document_type_id]).get(link.document_type_id)
    record_row(
        audit,
        action="delete",
        entity="document_link",
        entity_id=link.id,
        values={"version_id": version.id, "document_type": type_label, "title": link.title, "url": link.url},
        component_id=version.component_id,
    )
    session.delete(link)
    finish(audit)


# --- QA ---------------------------------------------------------------------------------------------


def set_qa_level(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    kind: str,
    level: str,
    notes: str | None = None,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> QaLevel:
    """Set the level (one of QA_LEVELS) and notes of one kind of testing (one of QA_KINDS).

    ``notes`` is stored as given (None clears them). When a person changes the level, they and the
    time are recorded as its sign-off. Raises NotFound, PermissionDenied, InvalidValue (kind, level),
    StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the QA levels of this version")
    check_version("component_version", version, expected_row_version)
    kind = clean_choice(kind, QA_KINDS, "kind")
    level = clean_choice(level, QA_LEVELS, "level")
    clean_notes = clean_text(notes, "notes")
    row = session.get(QaLevel, (version.id, kind))
    old_level = row.level if row is not None else "unknown"
    old_notes = row.notes if row is not None else None
    if row is not None and old_level == level and old_notes == clean_notes:
        return row
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"set {kind} QA of version {version.id}"
    )
    touch(session, version)
    if row is None:
        row = QaLevel(version_id=version.id, kind=kind, level="unknown")
        session.add(row)
    if old_level != level:
        row.level = level
        row.signed_off_by_id = actor.person_id
        row.signed_off_at = utcnow() if actor.person_id is not None else None
    row.notes = clean_notes
    cid = version.component_id
    if old_level != level:
        audit.event(
            entity="qa_level",
            entity_id=version.id,
            action="update",
            field=f"{kind}.level",
            old=old_level,
            new=level,
            component_id=cid,
        )
    if old_notes != clean_notes:
        audit.event(
            entity="qa_level",
            entity_id=version.id,
            action="update",
            field=f"{kind}.notes",
            old=old_notes,
            new=clean_notes,
            component_id=cid,
        )
    finish(audit)
    return row


__all__ = [
    "STACK_KINDS",
    "add_document_link",
    "link_lists",
    "owner_lists",
    "remove_document_link",
    "set_links",
    "set_owners",
    "set_qa_level",
    "set_stack",
    "stack_lists",
]
