"""What every service shares: the acting person, permission checks, change sets and audit events.

A service is ``fn(session, *, actor, ..., change_set=None) -> result``. It checks the actor's
permission, applies the change, records one audit event per changed field in the caller's
transaction, and flushes (never commits). Passing the same ``change_set`` to several calls groups
their events into one save.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session

from ..errors import DuplicateName, NotFound, PermissionDenied, StaleWrite
from ..models import (
    AuditEvent,
    Base,
    ChangeSet,
    Component,
    ComponentVersion,
    GroupMember,
    Person,
    SignerGroup,
    VersionOwner,
    utcnow,
)

M = TypeVar("M", bound=Base)


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acts: taken from the person row at the start of the action (never cached across actions)."""

    person_id: int | None
    username: str
    access_role: str = "viewer"
    group_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.access_role == "admin"

    @property
    def is_editor(self) -> bool:
        return self.access_role in ("admin", "editor")


SYSTEM = Actor(person_id=None, username="system", access_role="admin")


def load_actor(session: Session, username: str) -> Actor:
    """The actor for an active person, found by username (case-insensitive)."""
    person = session.scalar(select(Person).where(func.lower(Person.username) == username.lower()))
    if person is None or not person.active:
        raise NotFound("username", username)
    groups = session.scalars(select(GroupMember.group_id).where(GroupMember.person_id == person.id)).all()
    return Actor(
        person_id=person.id,
        username=person.username,
        access_role=person.access_role,
        group_ids=frozenset(groups),
    )


# --- permissions -------------------------------------------------------------------------------


def owns_component(session: Session, actor: Actor, component_id: int) -> bool:
    """True when the actor holds one of the seven owner roles on the component's CURRENT version.

    Only the current version counts: a new version copies its owners, so a person removed from the
    current version must not keep rights through an older one. A component without a current
    version has no owners (editors and admins only).
    """
    if actor.person_id is None:
        return False
    pid = actor.person_id
    direct = exists().where(
        Component.id == component_id,
        ComponentVersion.id == Component.current_version_id,
        or_(ComponentVersion.maintainer_id == pid, ComponentVersion.responsible_qa_id == pid),
    )
    listed = exists().where(
        Component.id == component_id,
        VersionOwner.version_id == Component.current_version_id,
        VersionOwner.person_id == pid,
    )
    return bool(session.scalar(select(or_(direct, listed))))


def require_editor(actor: Actor, action: str) -> None:
    if not actor.is_editor:
        raise PermissionDenied(actor.username, action)


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(actor.username, action)


def require_component_write(session: Session, actor: Actor, component_id: int, action: str) -> None:
    """Admins and editors may change every component; owners may change their own."""
    if actor.is_editor or owns_component(session, actor, component_id):
        return
    raise PermissionDenied(actor.username, action, field="component_id", value=component_id)


def signs_set(session: Session, actor: Actor, set_id: int) -> bool:
    """True when the actor belongs to one of the set's signer groups (admins sign every set)."""
    if actor.is_admin:
        return True
    if not actor.group_ids:
        return False
    return bool(
        session.scalar(
            select(exists().where(SignerGroup.set_id == set_id, SignerGroup.group_id.in_(actor.group_ids)))
        )
    )


# --- lookups -----------------------------------------------------------------------------------


def get_or_fail(session: Session, model: type[M], ident: Any, field_name: str) -> M:
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(field_name, ident)
    return obj


def id_by_name(
    session: Session, model: type[Base], name: str | None, field_name: str, *, column: str = "name"
) -> int | None:
    """Resolve a reference given by name (case-insensitive); None stays None; unknown raises NotFound."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return None
    col = getattr(model, column)
    found = session.scalar(select(model.id).where(func.lower(col) == str(name).strip().lower()))  # type: ignore[attr-defined]
    if found is None:
        raise NotFound(field_name, name)
    return int(found)


def ensure_unique_name(
    session: Session,
    model: type[Base],
    name: str,
    field_name: str = "name",
    *,
    column: str = "name",
    exclude_id: int | None = None,
) -> None:
    col = getattr(model, column)
    query = select(model.id).where(func.lower(col) == name.strip().lower())  # type: ignore[attr-defined]
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)  # type: ignore[attr-defined]
    if session.scalar(query) is not None:
        raise DuplicateName(field_name, name)


def check_row_version(entity: str, obj: Any, expected: int | None) -> None:
    """Refuse a write based on an outdated read (``expected`` None means: the caller did not read)."""
    if expected is not None and obj.row_version != expected:
        raise StaleWrite(entity, obj.id, expected, obj.row_version)


def component_of_version(session: Session, version_id: int) -> int:
    cid = session.scalar(select(ComponentVersion.component_id).where(ComponentVersion.id == version_id))
    if cid is None:
        raise NotFound("version_id", version_id)
    return int(cid)


def component_name(session: Session, component_id: int) -> str:
    name = session.scalar(select(Component.name).where(Component.id == component_id))
    if name is None:
        raise NotFound("component_id", component_id)
    return str(name)


# --- audit -------------------------------------------------------------------------------------


def to_text(value: Any) -> str | None:
    """The audit trail stores values as text: None stays None, lists become JSON arrays."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return json.dumps([to_text(v) for v in items], ensure_ascii=False)
    return str(value)


class Audit:
    """Collects the events of one change set and writes them in one INSERT at flush time."""

    def __init__(self, session: Session, change_set: ChangeSet) -> None:
        self.session = session
        self.change_set = change_set
        self._pending: list[dict[str, Any]] = []

    def event(
        self,
        *,
        entity: str,
        entity_id: int,
        action: str,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
        component_id: int | None = None,
    ) -> None:
        self._pending.append(
            {
                "change_set_id": self.change_set.id,
                "entity": entity,
                "entity_id": entity_id,
                "component_id": component_id,
                "action": action,
                "field": field,
                "old_value": to_text(old),
                "new_value": to_text(new),
                "actor_id": self.change_set.actor_id,
                "actor_name": self.change_set.actor_name,
                "at": self.change_set.at,
            }
        )

    def set_fields(
        self,
        obj: Any,
        values: Mapping[str, Any],
        *,
        entity: str,
        component_id: int | None = None,
    ) -> dict[str, tuple[Any, Any]]:
        """Assign the values that differ, record one "update" event per changed field, return them."""
        changed: dict[str, tuple[Any, Any]] = {}
        for name, new in values.items():
            old = getattr(obj, name)
            if _same(old, new):
                continue
            setattr(obj, name, new)
            changed[name] = (old, new)
            self.event(
                entity=entity,
                entity_id=obj.id,
                action="update",
                field=name,
                old=old,
                new=new,
                component_id=component_id,
            )
        return changed

    def created(
        self, obj: Any, fields: Iterable[str], *, entity: str, component_id: int | None = None
    ) -> None:
        self.event(entity=entity, entity_id=obj.id, action="create", component_id=component_id)
        for name in fields:
            value = getattr(obj, name)
            if value is not None:
                self.event(
                    entity=entity,
                    entity_id=obj.id,
                    action="create",
                    field=name,
                    new=value,
                    component_id=component_id,
                )

    def deleted(
        self, obj: Any, fields: Iterable[str], *, entity: str, component_id: int | None = None
    ) -> None:
        self.event(entity=entity, entity_id=obj.id, action="delete", component_id=component_id)
        for name in fields:
            value = getattr(obj, name)
            if value is not None:
                self.event(
                    entity=entity,
                    entity_id=obj.id,
                    action="delete",
                    field=name,
                    old=value,
                    component_id=component_id,
                )

    def flush(self) -> None:
        """Flush the session, then write the pending events in ONE executemany (None rendered as
        NULL, so events with and without old/new values share a statement)."""
        self.session.flush()
        if self._pending:
            self.session.execute(insert(AuditEvent).execution_options(render_nulls=True), self._pending)
            self._pending = []


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return old is not None and new is not None and Decimal(str(old)) == Decimal(str(new))
        except ArithmeticError:
            return False
    return bool(old == new) and type(old) is type(new) or (old is None and new is None)


def begin_change(
    session: Session,
    actor: Actor,
    *,
    change_set: ChangeSet | None = None,
    source: str = "ui",
    summary: str = "",
) -> Audit:
    """Start (or join) a change set and return the recorder for its events."""
    if change_set is None:
        change_set = open_change_set(session, actor, source=source, summary=summary)
    return Audit(session, change_set)


def open_change_set(session: Session, actor: Actor, *, source: str = "ui", summary: str = "") -> ChangeSet:
    """A change set to pass to several service calls that form one save."""
    cs = ChangeSet(
        actor_id=actor.person_id,
        actor_name=actor.username,
        at=utcnow(),
        source=source,
        summary=summary or None,
    )
    session.add(cs)
    session.flush()
    return cs


def flush_audit(audit: Audit) -> None:
    """Kept for the services that call it: the same as ``audit.flush()``."""
    audit.flush()
