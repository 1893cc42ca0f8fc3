"""Endpoints: URL patterns mapped to the component that serves them ("who serves
``https://api.example.com/v2/orders``?").

Editors, admins and the owners of the endpoint's component; moving an endpoint to another component
needs the right on both. Patterns are unique, ignoring case.

The ``endpoint`` table has no row_version: a caller that read an endpoint passes the values it read as
``expected`` (any of ``pattern``, ``component``, ``notes``); when the row holds something else now,
the call is refused with StaleWrite (field: the first field that differs). The row is locked
(SELECT … FOR UPDATE) before it is compared, so of two concurrent saves the second waits and then
compares against the first one's values.

Audit: entity ``endpoint``, fields ``pattern``, ``component`` (by name) and ``notes``, component_id =
the component that serves it; a move records its ``component`` event on both components.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidValue, NotFound, StaleWrite
from ..models import ChangeSet, Component, Endpoint
from ._core import Actor, begin_change, component_name, require_component_write
from ._util import (
    DuplicateEntry,
    FieldChange,
    apply_changes,
    check_keys,
    clean_text,
    clean_url,
    component_id_by_ref,
    describe_rows,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    int_like,
    is_blank,
    record_row,
    row_of,
    table_of,
)

ENDPOINT_FIELDS = ("pattern", "component", "notes")
_CLEANERS: Mapping[str, Any] = {
    "pattern": lambda v: clean_pattern(v),
    "notes": lambda v: clean_text(v, "notes"),
}


class StaleEndpoint(StaleWrite):
    """The endpoint holds other values than the caller read (someone saved it since)."""

    def __init__(self, endpoint_id: int, field: str, read: Any, now: Any) -> None:
        super().__init__("endpoint", endpoint_id, None, None)
        self.field = field
        self.value = read
        self.args = (
            f"endpoint {endpoint_id}: {field} was {read!r} when read, it is now {now!r}: someone else "
            "changed it since it was loaded; reload and apply your change again",
        )


def create_endpoint(
    session: Session,
    *,
    actor: Actor,
    component: int | str,
    pattern: str,
    notes: str | None = None,
    change_set: ChangeSet | None = None,
) -> Endpoint:
    """Map a URL pattern to a component (given by id or by name, ignoring case). Returns the row.

    Raises NotFound (component), PermissionDenied (not an editor, admin or owner of the component),
    InvalidValue (pattern: blank, spaces, a script scheme, too long; notes), DuplicateName (pattern
    already mapped, ignoring case); nothing is written then.
    """
    cid = component_id_by_ref(session, component, "component")
    require_component_write(session, actor, cid, "add endpoints to this component")
    clean = clean_pattern(pattern)
    clean_notes = clean_text(notes, "notes")
    _ensure_unique(session, clean)
    audit = begin_change(session, actor, change_set=change_set, summary=f"add endpoint {clean}")
    endpoint = Endpoint(pattern=clean, component_id=cid, notes=clean_notes)
    session.add(endpoint)
    flush_rows(session)
    values = describe_rows(session, table_of(Endpoint), [row_of(endpoint)], skip=("id",))[0]
    record_row(
        audit, action="create", entity="endpoint", entity_id=endpoint.id, values=values, component_id=cid
    )
    finish(audit)
    return endpoint


def update_endpoint(
    session: Session,
    *,
    actor: Actor,
    endpoint_id: int,
    changes: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
    change_set: ChangeSet | None = None,
) -> Endpoint:
    """Change the pattern, the component (by id or name: a move) or the notes of an endpoint.

    Raises NotFound (endpoint_id, component), PermissionDenied (on the endpoint's component, or on the
    component it moves to), StaleWrite (``expected`` differs from the row), InvalidValue (a field
    unknown or malformed), DuplicateName (pattern); nothing is written then.
    """
    endpoint = _load_for_write(session, endpoint_id)
    require_component_write(session, actor, endpoint.component_id, "change the endpoints of this component")
    check_endpoint(session, endpoint, expected)
    check_keys(changes, ENDPOINT_FIELDS, "endpoint")
    diffs: list[FieldChange] = []
    old_cid = endpoint.component_id
    if "component" in changes:
        new_cid = component_id_by_ref(session, changes["component"], "component")
        if new_cid != old_cid:
            require_component_write(session, actor, new_cid, "move endpoints to this component")
            old, new = component_name(session, old_cid), component_name(session, new_cid)
            diffs.append(FieldChange("component", "component_id", new_cid, old, new))
    plain = {k: v for k, v in changes.items() if k != "component"}
    diffs += diff_fields(session, endpoint, plain, refs={}, cleaners=_CLEANERS)
    for change in diffs:
        if change.field == "pattern":
            _ensure_unique(session, change.value, exclude_id=endpoint.id)
    if not diffs:
        return endpoint
    moved = next((c for c in diffs if c.field == "component"), None)
    cid = old_cid if moved is None else int(moved.value)
    audit = begin_change(session, actor, change_set=change_set, summary=f"update endpoint {endpoint.pattern}")
    apply_changes(audit, endpoint, diffs, entity="endpoint", component_id=cid)
    if moved is not None:  # the component that lost the endpoint sees the move in its history too
        audit.event(
            entity="endpoint",
            entity_id=endpoint.id,
            action="update",
            field="component",
            old=moved.old,
            new=moved.new,
            component_id=old_cid,
        )
    finish(audit)
    return endpoint


def delete_endpoint(
    session: Session,
    *,
    actor: Actor,
    endpoint_id: int,
    expected: Mapping[str, Any] | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Delete an endpoint. Raises NotFound, PermissionDenied, StaleWrite, InvalidValue (``expected``
    names a field that is not the endpoint's); nothing is written then."""
    endpoint = _load_for_write(session, endpoint_id)
    cid = endpoint.component_id
    require_component_write(session, actor, cid, "delete the endpoints of this component")
    check_endpoint(session, endpoint, expected)
    audit = begin_change(session, actor, change_set=change_set, summary=f"delete endpoint {endpoint.pattern}")
    values = describe_rows(session, table_of(Endpoint), [row_of(endpoint)], skip=("id",))[0]
    record_row(
        audit, action="delete", entity="endpoint", entity_id=endpoint.id, values=values, component_id=cid
    )
    session.delete(endpoint)
    finish(audit)


def clean_pattern(value: Any) -> str:
    """A required URL pattern: one line without spaces, at most 2048 characters, no script scheme."""
    text = clean_url(value, "pattern")
    if text is None:
        raise InvalidValue(
            "pattern", value, "is required: give a URL pattern, e.g. https://api.example.com/v2/*"
        )
    return text


def check_endpoint(session: Session, endpoint: Endpoint, expected: Mapping[str, Any] | None) -> None:
    """Refuse a write based on an outdated read: each field of ``expected`` must still hold the value
    read (pattern and notes exactly, blank = none; component by id or by name, ignoring case)."""
    if not expected:
        return
    check_keys(expected, ENDPOINT_FIELDS, "endpoint")
    for field, read in expected.items():
        if field == "component":
            now: Any = component_name(session, endpoint.component_id)
            same = (
                int_like(read) == endpoint.component_id
                if int_like(read) is not None
                else isinstance(read, str) and read.strip().lower() == now.lower()
            )
        else:
            now = getattr(endpoint, field)
            same = (None if is_blank(read) else read) == (None if is_blank(now) else now)
        if not same:
            raise StaleEndpoint(endpoint.id, field, read, now)


def _load_for_write(session: Session, endpoint_id: Any) -> Endpoint:
    """The endpoint, locked until the transaction ends and read afresh, so that ``check_endpoint``
    compares what is committed now and a save racing this one waits, then sees this one's values
    (PostgreSQL, READ COMMITTED). SQLite has no row locks: its writes start with BEGIN IMMEDIATE,
    one at a time, and the row (perhaps preloaded in this transaction) is current already."""
    if session.get_bind().dialect.name == "sqlite":
        return get_row(session, Endpoint, endpoint_id, "endpoint_id")
    key = int_like(endpoint_id)
    endpoint = (
        session.get(Endpoint, key, with_for_update=True, populate_existing=True) if key is not None else None
    )
    if endpoint is None:
        raise NotFound("endpoint_id", endpoint_id)
    return endpoint


def _ensure_unique(session: Session, pattern: str, *, exclude_id: int | None = None) -> None:
    query = (
        select(Component.name)
        .join(Endpoint, Endpoint.component_id == Component.id)
        .where(func.lower(Endpoint.pattern) == pattern.lower())
    )
    if exclude_id is not None:
        query = query.where(Endpoint.id != exclude_id)
    holder = session.scalar(query)
    if holder is not None:
        raise DuplicateEntry(
            "pattern", pattern, f"is already an endpoint of {holder!r} (patterns are unique, ignoring case)"
        )
