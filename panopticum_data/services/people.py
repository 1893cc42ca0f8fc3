"""People, groups, passwords and API tokens. Admins manage everyone (``SYSTEM`` is an admin: the CLI
and the directory sync use it); a person may set their own password, edit their own contact details
and manage their own API tokens.

Audit: entity ``person`` (logical fields; department, organisation, job_role by name, manager by
username; a password change is recorded as field ``password`` without any value; a photo by size);
groups: entity ``person_group`` and a list event (entity ``group_member``, field ``members``);
tokens: entity ``api_token`` (name and expiry only — never the token or its hash).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from .. import security
from ..enums import ACCESS_ROLES
from ..errors import DuplicateName, InvalidValue, PermissionDenied
from ..models import (
    ApiToken,
    ChangeSet,
    Department,
    GroupMember,
    JobRole,
    Organisation,
    Person,
    PersonGroup,
)
from ._core import Actor, begin_change, ensure_unique_name, require_admin
from ._util import (
    FieldChange,
    RefField,
    apply_changes,
    check_keys,
    check_version,
    clean_bool,
    clean_choice,
    clean_name,
    clean_text,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    ids_by_names,
    int_like,
    names_by_ids,
    person_ids,
    record_list,
    record_row,
    unique_names,
)

MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_HIDDEN = "(hidden)"

PERSON_REFS: Mapping[str, RefField] = {
    "department": RefField("department_id", Department),
    "organisation": RefField("organisation_id", Organisation),
    "job_role": RefField("job_role_id", JobRole),
    "manager": RefField("manager_id", Person, lookup="username"),
}


def _email(value: Any) -> str | None:
    text = clean_text(value, "email", max_length=256)
    if text is not None and not _EMAIL.match(text):
        raise InvalidValue("email", value, "is not an e-mail address")
    return text


def _photo(value: Any) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidValue("photo", type(value).__name__, "is not an image (bytes)")
    return bytes(value)


_CLEANERS: Mapping[str, Any] = {
    "username": lambda v: clean_name(v, "username"),
    "first_name": lambda v: clean_text(v, "first_name", max_length=128),
    "last_name": lambda v: clean_text(v, "last_name", max_length=128),
    "email": _email,
    "title": lambda v: clean_text(v, "title", max_length=128),
    "office_phone": lambda v: clean_text(v, "office_phone", max_length=64),
    "mobile_phone": lambda v: clean_text(v, "mobile_phone", max_length=64),
    "info": lambda v: clean_text(v, "info"),
    "photo": _photo,
    "employee_number": lambda v: clean_text(v, "employee_number", max_length=64),
    "directory_guid": lambda v: clean_text(v, "directory_guid", max_length=64),
    "directory_dn": lambda v: clean_text(v, "directory_dn", max_length=1024),
    "hidden": lambda v: clean_bool(v, "hidden"),
    "access_role": lambda v: clean_choice(v, ACCESS_ROLES, "access_role"),
    "active": lambda v: clean_bool(v, "active"),
}
PERSON_FIELDS = (*_CLEANERS, *PERSON_REFS)
SELF_FIELDS = ("first_name", "last_name", "email", "title", "office_phone", "mobile_phone", "info", "photo")


def add_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    access_role: str = "viewer",
    password: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    title: str | None = None,
    office_phone: str | None = None,
    mobile_phone: str | None = None,
    department: str | None = None,
    organisation: str | None = None,
    job_role: str | None = None,
    manager: str | None = None,
    employee_number: str | None = None,
    directory_guid: str | None = None,
    directory_dn: str | None = None,
    hidden: bool = False,
    change_set: ChangeSet | None = None,
) -> Person:
    """Create a person (references by name, manager by username). Admins only.

    ``password`` (optional: directory users log in by bind) is stored as a bcrypt hash. Raises
    PermissionDenied, DuplicateName (username, directory_guid), NotFound (a reference),
    InvalidValue (a field, a password shorter than MIN_PASSWORD_LENGTH); nothing is written then.
    """
    require_admin(actor, "add users")
    values = {
        "username": username,
        "access_role": access_role,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "title": title,
        "office_phone": office_phone,
        "mobile_phone": mobile_phone,
        "employee_number": employee_number,
        "directory_guid": directory_guid,
        "directory_dn": directory_dn,
        "hidden": hidden,
        "department": department,
        "organisation": organisation,
        "job_role": job_role,
        "manager": manager,
    }
    blank = Person(access_role="viewer", active=True, hidden=False)
    diffs = diff_fields(session, blank, values, refs=PERSON_REFS, cleaners=_CLEANERS)
    by_field = {c.field: c for c in diffs}
    ensure_unique_name(session, Person, by_field["username"].value, "username", column="username")
    _ensure_unique_guid(session, by_field.get("directory_guid"), None)
    hashed = _hash(password) if password is not None else None
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"add user {by_field['username'].value}"
    )
    person = Person(access_role="viewer", active=True, hidden=False, password_hash=hashed)
    for change in diffs:
        setattr(person, change.column, change.value)
    session.add(person)
    flush_rows(session)
    record_values = {c.field: c.new for c in diffs} | {"access_role": person.access_role}
    if hashed is not None:
        record_values["password"] = "(set)"
    record_row(
        audit, action="create", entity="person", entity_id=person.id, values=record_values, component_id=None
    )
    finish(audit)
    return person


def update_person(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> Person:
    """Change fields of a person (keys: PERSON_FIELDS). Admins; a person may change their own SELF_FIELDS.

    Refuses to leave no active admin. Raises NotFound, PermissionDenied, StaleWrite, InvalidValue,
    DuplicateName (username, directory_guid); nothing is written then.
    """
    person = get_row(session, Person, person_id, "person_id")
    if not actor.is_admin:
        own = actor.person_id == person.id
        forbidden = [k for k in changes if not (own and k in SELF_FIELDS)]
        if forbidden:
            raise PermissionDenied(
                actor.username,
                f"change {forbidden[0]} of {person.username!r}",
                field=forbidden[0],
                value=changes[forbidden[0]],
            )
    check_version("person", person, expected_row_version)
    check_keys(changes, PERSON_FIELDS, "person")
    diffs = diff_fields(session, person, changes, refs=PERSON_REFS, cleaners=_CLEANERS)
    return _apply_person(session, actor, person, diffs, change_set)


def set_access_role(
    session: Session,
    *,
    actor: Actor,
    person: int | str,
    access_role: str,
    change_set: ChangeSet | None = None,
) -> Person:
    """Give a person (id or username) an access role (admin, editor, viewer). Admins only.

    Raises PermissionDenied, NotFound (person), InvalidValue (access_role; the last active admin).
    """
    require_admin(actor, "change access roles")
    row = _person(session, person)
    diffs = diff_fields(session, row, {"access_role": access_role}, refs=PERSON_REFS, cleaners=_CLEANERS)
    return _apply_person(session, actor, row, diffs, change_set)


def deactivate_person(
    session: Session, *, actor: Actor, person: int | str, change_set: ChangeSet | None = None
) -> Person:
    """Mark a person as gone: they can no longer log in; their history and ownerships stay. Admins only.

    Raises PermissionDenied, NotFound (person), InvalidValue (active: the last active admin).
    """
    require_admin(actor, "deactivate people")
    row = _person(session, person)
    diffs = diff_fields(session, row, {"active": False}, refs=PERSON_REFS, cleaners=_CLEANERS)
    return _apply_person(session, actor, row, diffs, change_set)


def set_password(
    session: Session, *, actor: Actor, person: int | str, password: str, change_set: ChangeSet | None = None
) -> None:
    """Set a person's password (stored as a bcrypt hash). Admins, or the person themselves.

    Raises NotFound (person), PermissionDenied, InvalidValue (password, value never shown).
    """
    row = _person(session, person)
    if not (actor.is_admin or actor.person_id == row.id):
        raise PermissionDenied(
            actor.username, f"set the password of {row.username!r}", field="person", value=person
        )
    hashed = _hash(password)
    audit = begin_change(session, actor, change_set=change_set, summary=f"password of {row.username}")
    row.password_hash = hashed
    audit.event(entity="person", entity_id=row.id, action="update", field="password", new="(changed)")
    finish(audit)


def create_group(
    session: Session,
    *,
    actor: Actor,
    name: str,
    description: str | None = None,
    members: Sequence[str] = (),
    directory_dn: str | None = None,
    change_set: ChangeSet | None = None,
) -> PersonGroup:
    """Create a group of people (members by username). Admins only.

    Raises PermissionDenied, DuplicateName (name), NotFound (username), InvalidValue; nothing is written then.
    """
    require_admin(actor, "create groups")
    clean = clean_name(name, "name")
    ensure_unique_name(session, PersonGroup, clean, "name")
    clean_description = clean_text(description, "description")
    clean_dn = clean_text(directory_dn, "directory_dn", max_length=1024)
    names = unique_names(members, "username")
    ids = person_ids(session, names)
    audit = begin_change(session, actor, change_set=change_set, summary=f"create group {clean}")
    group = PersonGroup(name=clean, description=clean_description, directory_dn=clean_dn)
    session.add(group)
    flush_rows(session)
    record_row(
        audit,
        action="create",
        entity="person_group",
        entity_id=group.id,
        values={"name": clean, "description": clean_description, "directory_dn": clean_dn},
        component_id=None,
    )
    if ids:
        session.execute(insert(GroupMember), [{"group_id": group.id, "person_id": p} for p in ids])
        new = sorted(names_by_ids(session, Person, ids, column="username").values(), key=str.lower)
        record_list(
            audit,
            entity="group_member",
            entity_id=group.id,
            field="members",
            old=[],
            new=new,
            component_id=None,
        )
    finish(audit)
    return group


def set_group_members(
    session: Session,
    *,
    actor: Actor,
    group: int | str,
    usernames: Sequence[str],
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Make the group's members exactly ``usernames``; return them. Admins only.

    Raises PermissionDenied, NotFound (group, username); nothing is written then.
    """
    require_admin(actor, "change group members")
    key = (
        group
        if int_like(group) is not None
        else ids_by_names(session, PersonGroup, [clean_name(group, "group")], "group")[0]
    )
    row = get_row(session, PersonGroup, key, "group")
    ids = person_ids(session, unique_names(usernames, "username"))
    old = sorted(
        session.scalars(
            select(Person.username)
            .join(GroupMember, GroupMember.person_id == Person.id)
            .where(GroupMember.group_id == row.id)
        ),
        key=str.lower,
    )
    new = sorted(names_by_ids(session, Person, ids, column="username").values(), key=str.lower)
    if old == new:
        return old
    audit = begin_change(session, actor, change_set=change_set, summary=f"members of {row.name}")
    session.execute(delete(GroupMember).where(GroupMember.group_id == row.id))
    if ids:
        session.execute(insert(GroupMember), [{"group_id": row.id, "person_id": p} for p in ids])
    record_list(
        audit, entity="group_member", entity_id=row.id, field="members", old=old, new=new, component_id=None
    )
    finish(audit)
    return new


def create_api_token(
    session: Session,
    *,
    actor: Actor,
    person: int | str,
    name: str,
    expires_at: datetime | None = None,
    change_set: ChangeSet | None = None,
) -> tuple[ApiToken, str]:
    """Issue an API token for a person (admins, or the person themselves): returns the row and the
    plain token, which is shown once and never stored (only its SHA-256 hash is).

    Raises NotFound (person), PermissionDenied, InvalidValue (name).
    """
    row = _person(session, person)
    if not (actor.is_admin or actor.person_id == row.id):
        raise PermissionDenied(
            actor.username, f"issue API tokens for {row.username!r}", field="person", value=person
        )
    clean = clean_name(name, "name")
    plain, token_hash = security.new_api_token()
    audit = begin_change(session, actor, change_set=change_set, summary=f"API token for {row.username}")
    token = ApiToken(person_id=row.id, name=clean, token_hash=token_hash, expires_at=expires_at)
    session.add(token)
    flush_rows(session)
    record_row(
        audit,
        action="create",
        entity="api_token",
        entity_id=token.id,
        values={"person": row.username, "name": clean, "expires_at": expires_at},
        component_id=None,
    )
    finish(audit)
    return token, plain


def revoke_api_token(
    session: Session, *, actor: Actor, token_id: int, change_set: ChangeSet | None = None
) -> None:
    """Delete an API token (admins, or its owner). Raises NotFound (token_id), PermissionDenied."""
    token = get_row(session, ApiToken, token_id, "token_id")
    if not (actor.is_admin or actor.person_id == token.person_id):
        raise PermissionDenied(
            actor.username, "revoke API tokens of other people", field="token_id", value=token_id
        )
    audit = begin_change(session, actor, change_set=change_set, summary="revoke API token")
    record_row(
        audit,
        action="delete",
        entity="api_token",
        entity_id=token.id,
        values={"name": token.name},
        component_id=None,
    )
    session.delete(token)
    finish(audit)


# --- internals ------------------------------------------------------------------------------------------------


def _person(session: Session, ref: int | str) -> Person:
    if int_like(ref) is not None:
        return get_row(session, Person, ref, "person")
    ident = ids_by_names(session, Person, [clean_name(ref, "person")], "person", column="username")[0]
    found = session.get(Person, ident)
    assert found is not None
    return found


def _hash(password: Any) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        shown = _HIDDEN if isinstance(password, str) and password else password
        raise InvalidValue("password", shown, f"is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    return security.hash_password(password)


def _ensure_unique_guid(session: Session, change: FieldChange | None, person_id: int | None) -> None:
    if change is None or change.value is None:
        return
    query = select(Person.id).where(func.lower(Person.directory_guid) == str(change.value).lower())
    if person_id is not None:
        query = query.where(Person.id != person_id)
    if session.scalar(query) is not None:
        raise DuplicateName("directory_guid", change.value)


def _apply_person(
    session: Session, actor: Actor, person: Person, diffs: list[FieldChange], change_set: ChangeSet | None
) -> Person:
    by_field = {c.field: c for c in diffs}
    if "username" in by_field:
        ensure_unique_name(
            session, Person, by_field["username"].value, "username", column="username", exclude_id=person.id
        )
    _ensure_unique_guid(session, by_field.get("directory_guid"), person.id)
    if "manager" in by_field and by_field["manager"].value == person.id:
        raise InvalidValue("manager", by_field["manager"].new, "is the person themselves")
    _keep_an_admin(session, person, by_field)
    if not diffs:
        return person
    audit = begin_change(session, actor, change_set=change_set, summary=f"update person {person.username}")
    shown = [
        FieldChange(c.field, c.column, c.value, _photo_label(c.old), _photo_label(c.new))
        if c.field == "photo"
        else c
        for c in diffs
    ]
    apply_changes(audit, person, shown, entity="person", component_id=None)
    finish(audit)
    return person


def _photo_label(value: Any) -> str | None:
    return None if value is None else f"({len(value)} bytes)"


def _keep_an_admin(session: Session, person: Person, by_field: Mapping[str, FieldChange]) -> None:
    """Refuse a change that would leave no active admin (demoting or deactivating the last one)."""
    role = by_field["access_role"].value if "access_role" in by_field else person.access_role
    active = by_field["active"].value if "active" in by_field else person.active
    if not (person.access_role == "admin" and person.active) or (role == "admin" and active):
        return
    others = session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.access_role == "admin", Person.active.is_(True), Person.id != person.id)
    )
    if not others:
        field = "access_role" if role != "admin" else "active"
        raise InvalidValue(
            field, by_field[field].value, f"would leave no active admin ({person.username!r} is the last one)"
        )


__all__ = [
    "PERSON_FIELDS",
    "SELF_FIELDS",
    "add_user",
    "create_api_token",
    "create_group",
    "deactivate_person",
    "revoke_api_token",
    "set_access_role",
    "set_group_members",
    "set_password",
    "update_person",
]
