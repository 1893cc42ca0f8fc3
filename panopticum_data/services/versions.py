"""Component versions: create (as a copy of the current one), update, make current, delete — and,
re-exported from their modules, what a version owns (owners, stack, links, documents, QA,
dependencies).

Editors, admins and the component's owners may do all of this. Audit: entity ``component_version``
with logical fields (``maintainer`` and ``responsible_qa`` by username); a new version records every
row and list it received from its source (see ``version_parts`` for the list events).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, insert, literal, select
from sqlalchemy.orm import Session

from ..enums import API_PUBLIC, LINK_KINDS, MULTI_OWNER_ROLES
from ..errors import DuplicateName, InUse, InvalidValue, NotFound
from ..models import (
    Base,
    ChangeSet,
    Component,
    ComponentVersion,
    DataCenterDeployment,
    Dependency,
    Deployment,
    DeploymentPort,
    DocumentLink,
    Person,
    QaLevel,
    RequirementSet,
    RequirementStatus,
    SetExclusion,
    VersionLink,
    VersionOwner,
    utcnow,
)
from ._core import Actor, Audit, begin_change, require_component_write
from ._util import (
    RefField,
    apply_changes,
    check_keys,
    check_version,
    clean_bool,
    clean_choice,
    clean_kloc,
    clean_name,
    clean_text,
    describe_rows,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    load_version_for_write,
    record_list,
    record_row,
    row_of,
    table_of,
)
from .dependencies import DependencySpec, add_dependency, remove_dependency, set_dependencies
from .deployments import deployment_lists_of
from .version_parts import (
    STACK_KINDS,
    add_document_link,
    remove_document_link,
    set_links,
    set_owners,
    set_qa_level,
    set_stack,
)

VERSION_LENGTH = 64
VERSION_FIELDS = ("version", "comments", "code_kloc", "api_is_public", "qa_applicable")
_BOOKKEEPING = ("id", "row_version", "created_at", "updated_at")
_CLEANERS: Mapping[str, Any] = {
    "version": lambda v: clean_name(v, "version", max_length=VERSION_LENGTH),
    "comments": lambda v: clean_text(v, "comments"),
    "code_kloc": clean_kloc,
    "api_is_public": lambda v: clean_choice(v, API_PUBLIC, "api_is_public"),
    "qa_applicable": lambda v: clean_bool(v, "qa_applicable"),
}
_NO_REFS: Mapping[str, RefField] = {}
# Parts copied row for row by INSERT … SELECT (deployments are copied separately: they own rows).
_COPIED: tuple[type[Base], ...] = (
    VersionOwner,
    *(kind.link for kind in STACK_KINDS.values()),
    VersionLink,
    DocumentLink,
    QaLevel,
    Dependency,
    RequirementStatus,
    SetExclusion,
)


def create_version(
    session: Session,
    *,
    actor: Actor,
    component_id: int,
    version: str,
    copy_from: int | None = None,
    make_current: bool = False,
    change_set: ChangeSet | None = None,
) -> ComponentVersion:
    """Create a version of the component as a copy of ``copy_from`` (default: the current version).

    The copy takes the version's fields, owners, tech stack, links, document links, QA levels,
    dependencies, deployments (with ports and data centres), requirement statuses and set
    exclusions. A component without a current version gets the new one as current; otherwise
    ``make_current`` decides. Raises NotFound (component_id, copy_from), PermissionDenied,
    InvalidValue (version; copy_from of another component), DuplicateName (version); nothing is
    written then.
    """
    component = get_row(session, Component, component_id, "component_id")
    require_component_write(session, actor, component.id, f"add versions to component {component.name!r}")
    name = clean_name(version, "version", max_length=VERSION_LENGTH)
    _ensure_unique_version(session, component.id, name)
    source_id = copy_from if copy_from is not None else component.current_version_id
    source = None
    if source_id is not None:
        source = session.get(ComponentVersion, source_id)
        if source is None:
            raise NotFound("copy_from", copy_from)
        if source.component_id != component.id:
            raise InvalidValue(
                "copy_from", copy_from, f"is a version of another component than {component.name!r}"
            )

    audit = begin_change(
        session, actor, change_set=change_set, summary=f"new version {name} of {component.name}"
    )
    new = ComponentVersion(component_id=component.id, version=name)
    if source is not None:
        for field in (
            "comments",
            "maintainer_id",
            "responsible_qa_id",
            "code_kloc",
            "api_is_public",
            "qa_applicable",
        ):
            setattr(new, field, getattr(source, field))
    session.add(new)
    flush_rows(session)
    values = describe_rows(
        session, table_of(ComponentVersion), [row_of(new)], skip=(*_BOOKKEEPING, "component_id")
    )[0]
    if source is not None:
        values["copied_from"] = source.version
    record_row(
        audit,
        action="create",
        entity="component_version",
        entity_id=new.id,
        values=values,
        component_id=component.id,
    )
    if source is not None:
        _copy_parts(session, audit, source.id, new)
    if make_current or component.current_version_id is None:
        _make_current(session, audit, component, new)
    finish(audit)
    return new


def update_version(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> ComponentVersion:
    """Change fields of a version (keys: VERSION_FIELDS). Raises NotFound, PermissionDenied,
    StaleWrite, InvalidValue, DuplicateName (version); nothing is written then."""
    version = load_version_for_write(session, actor, version_id, "change this version")
    check_version("component_version", version, expected_row_version)
    check_keys(changes, VERSION_FIELDS, "component_version")
    diffs = diff_fields(session, version, changes, refs=_NO_REFS, cleaners=_CLEANERS)
    for change in diffs:
        if change.field == "version":
            _ensure_unique_version(session, version.component_id, change.value, exclude_id=version.id)
    if not diffs:
        return version
    audit = begin_change(session, actor, change_set=change_set, summary=f"update version {version.id}")
    apply_changes(audit, version, diffs, entity="component_version", component_id=version.component_id)
    finish(audit)
    return version


def set_current_version(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> Component:
    """Make the version its component's current one. ``expected_row_version`` is the component's.

    Raises NotFound, PermissionDenied, StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "choose the current version")
    component = get_row(session, Component, version.component_id, "component_id")
    check_version("component", component, expected_row_version)
    if component.current_version_id == version.id:
        return component
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"current version of {component.name}"
    )
    _make_current(session, audit, component, version)
    finish(audit)
    return component


def delete_version(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Delete a version and everything it owns.

    The rows the database drops with it (owners, stack, links, documents, QA levels, dependencies,
    deployments with their ports and data centres, requirement statuses, set exclusions) are
    recorded as "delete" events with their old values (``record_parts``). Raises NotFound, PermissionDenied, StaleWrite, and InUse (field ``version``) for the current
    version while the component has others (make another one current first); nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "delete this version")
    check_version("component_version", version, expected_row_version)
    component = get_row(session, Component, version.component_id, "component_id")
    others = session.scalar(
        select(ComponentVersion.id).where(
            ComponentVersion.component_id == component.id, ComponentVersion.id != version.id
        )
    )
    if component.current_version_id == version.id and others is not None:
        raise InUse(
            "version",
            version.version,
            f"component {component.name!r} as its current version; make another current first",
        )
    audit = begin_change(session, actor, change_set=change_set, summary=f"delete version {version.version}")
    if component.current_version_id == version.id:
        _make_current(session, audit, component, None)
        flush_rows(session)
    values = describe_rows(
        session, table_of(ComponentVersion), [row_of(version)], skip=(*_BOOKKEEPING, "component_id")
    )[0]
    record_parts(session, audit, component.id, [version.id], action="delete")
    record_row(
        audit,
        action="delete",
        entity="component_version",
        entity_id=version.id,
        values=values,
        component_id=component.id,
    )
    session.delete(version)
    finish(audit)
    session.expire_all()


# --- internals -----------------------------------------------------------------------------------------


def _ensure_unique_version(
    session: Session, component_id: int, name: str, *, exclude_id: int | None = None
) -> None:
    query = select(ComponentVersion.id, ComponentVersion.version).where(
        ComponentVersion.component_id == component_id
    )
    if exclude_id is not None:
        query = query.where(ComponentVersion.id != exclude_id)
    if any(str(v).lower() == name.lower() for _, v in session.execute(query)):
        raise DuplicateName("version", name)


def _make_current(
    session: Session, audit: Audit, component: Component, version: ComponentVersion | None
) -> None:
    old = None
    if component.current_version_id is not None:
        old = session.scalar(
            select(ComponentVersion.version).where(ComponentVersion.id == component.current_version_id)
        )
    component.current_version_id = version.id if version is not None else None
    audit.event(
        entity="component",
        entity_id=component.id,
        action="update",
        field="current_version",
        old=old,
        new=version.version if version is not None else None,
        component_id=component.id,
    )


def _copy_parts(session: Session, audit: Audit, source_id: int, new: ComponentVersion) -> None:
    """Copy everything the source version owns to ``new`` (set-based), and record it."""
    now = utcnow()
    for model in _COPIED:
        _insert_copy(session, model, source_id, new.id, now)
    _copy_deployments(session, source_id, new.id)
    flush_rows(session)
    _record_copy(session, audit, new)


def _insert_copy(session: Session, model: type[Base], source_id: int, target_id: int, now: datetime) -> None:
    table = table_of(model)
    columns = [c for c in table.c if c.name != "id"]
    exprs: list[Any] = []
    for col in columns:
        if col.name == "version_id":
            exprs.append(literal(target_id, Integer))
        elif col.name == "row_version":
            exprs.append(literal(1, Integer))
        elif col.name in ("created_at", "updated_at"):
            exprs.append(literal(now, col.type))
        else:
            exprs.append(col)
    query = select(*exprs).where(table.c.version_id == source_id)
    session.execute(insert(table).from_select([c.name for c in columns], query))


def _copy_deployments(session: Session, source_id: int, target_id: int) -> None:
    fields = [c.key for c in table_of(Deployment).c if c.name not in (*_BOOKKEEPING, "version_id")]
    sources = list(
        session.scalars(select(Deployment).where(Deployment.version_id == source_id).order_by(Deployment.id))
    )
    copies = [Deployment(version_id=target_id, **{f: getattr(d, f) for f in fields}) for d in sources]
    session.add_all(copies)
    flush_rows(session)
    for old, new in zip(sources, copies, strict=True):
        for model, column in ((DeploymentPort, "port_id"), (DataCenterDeployment, "data_center_id")):
            table = table_of(model)
            query = select(literal(new.id, Integer), table.c[column]).where(table.c.deployment_id == old.id)
            session.execute(insert(table).from_select(["deployment_id", column], query))


def _record_copy(session: Session, audit: Audit, new: ComponentVersion) -> None:
    record_parts(session, audit, new.component_id, [new.id], action="create")


def record_parts(
    session: Session, audit: Audit, component_id: int, version_ids: Sequence[int], *, action: str
) -> None:
    """Record everything the versions own: as "create" (a copy just made; lists as old [] → new) or
    as "delete" (rows the database is about to drop by cascade; old values, no new ones).

    Set-based: a fixed number of queries whatever the number of versions and rows. Maintainer and
    responsible QA are columns of ``component_version``; the caller records that row.
    """
    if not version_ids:
        return
    ids = list(version_ids)
    cid = component_id
    owners: dict[tuple[int, str], list[str]] = {}
    for vid, role, username in session.execute(
        select(VersionOwner.version_id, VersionOwner.role, Person.username)
        .join(Person, Person.id == VersionOwner.person_id)
        .where(VersionOwner.version_id.in_(ids))
    ):
        owners.setdefault((vid, role), []).append(username)
    stack: dict[tuple[int, str], list[str]] = {}
    for kind, spec in STACK_KINDS.items():
        link_vid = spec.link.version_id  # type: ignore[attr-defined]
        for vid, name in session.execute(
            select(link_vid, spec.model.name)  # type: ignore[attr-defined]
            .join(spec.link, getattr(spec.link, spec.column) == spec.model.id)  # type: ignore[attr-defined]
            .where(link_vid.in_(ids))
        ):
            stack.setdefault((vid, kind), []).append(name)
    links: dict[tuple[int, str], list[str]] = {}
    for vid, kind, url in session.execute(
        select(VersionLink.version_id, VersionLink.kind, VersionLink.url)
        .where(VersionLink.version_id.in_(ids))
        .order_by(VersionLink.version_id, VersionLink.kind, VersionLink.position, VersionLink.id)
    ):
        links.setdefault((vid, kind), []).append(url)
    for vid in ids:
        for role in MULTI_OWNER_ROLES:
            names = sorted(owners.get((vid, role), []), key=str.lower)
            _record_list(audit, action, "version_owner", vid, role, names, cid)
        for kind, spec in STACK_KINDS.items():
            names = sorted(stack.get((vid, kind), []), key=str.lower)
            _record_list(audit, action, table_of(spec.link).name, vid, kind, names, cid)
        for kind in LINK_KINDS:
            _record_list(audit, action, "version_link", vid, kind, links.get((vid, kind), []), cid)
    qa_levels = session.scalars(
        select(QaLevel).where(QaLevel.version_id.in_(ids)).order_by(QaLevel.version_id, QaLevel.kind)
    )
    for qa in qa_levels:
        for field, value, created_from in (("level", qa.level, "unknown"), ("notes", qa.notes, None)):
            if field == "notes" and value is None:
                continue
            audit.event(
                entity="qa_level",
                entity_id=qa.version_id,
                action="update" if action == "create" else action,
                field=f"{qa.kind}.{field}",
                old=created_from if action == "create" else value,
                new=value if action == "create" else None,
                component_id=cid,
            )
    exclusions = session.execute(
        select(SetExclusion.version_id, RequirementSet.name, SetExclusion.reason)
        .join(SetExclusion, SetExclusion.set_id == RequirementSet.id)
        .where(SetExclusion.version_id.in_(ids))
        .order_by(SetExclusion.version_id, RequirementSet.name)
    )
    for vid, set_name, reason in exclusions:
        record_row(
            audit,
            action=action,
            entity="set_exclusion",
            entity_id=vid,
            values={"requirement_set": set_name, "reason": reason},
            component_id=cid,
        )
    for model in (DocumentLink, Dependency, RequirementStatus, Deployment):
        table = table_of(model)
        query = select(table).where(table.c.version_id.in_(ids)).order_by(table.c.id)
        rows = [dict(r._mapping) for r in session.execute(query)]
        described = describe_rows(session, table, rows, skip=_BOOKKEEPING)
        for row, values in zip(rows, described, strict=True):
            record_row(
                audit, action=action, entity=table.name, entity_id=row["id"], values=values, component_id=cid
            )
    for dep_id, lists in deployment_lists_of(session, ids).items():
        for field, names in lists.items():
            entity = "deployment_port" if field == "ports" else "data_center_deployment"
            _record_list(audit, action, entity, dep_id, field, names, cid)


def _record_list(
    audit: Audit, action: str, entity: str, entity_id: int, field: str, names: list[str], cid: int
) -> None:
    """A list a version part holds: created as an update [] → names, deleted with its old names."""
    if not names:
        return
    if action == "create":
        record_list(
            audit, entity=entity, entity_id=entity_id, field=field, old=[], new=names, component_id=cid
        )
    else:
        audit.event(
            entity=entity, entity_id=entity_id, action=action, field=field, old=list(names), component_id=cid
        )


__all__ = [
    "DependencySpec",
    "add_dependency",
    "add_document_link",
    "create_version",
    "delete_version",
    "remove_dependency",
    "remove_document_link",
    "set_current_version",
    "set_dependencies",
    "set_links",
    "set_owners",
    "set_qa_level",
    "set_stack",
    "update_version",
]
