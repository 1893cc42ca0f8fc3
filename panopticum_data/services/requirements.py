"""Owner claims and signee verdicts on requirements — batch services, one call per grid save —
plus (re-exported from ``requirement_sets``) set exclusions and the admin services for sets.

Both batch services are set-based: whatever the batch size they read the versions, permissions,
set memberships and existing status rows in a handful of queries, check every row before writing
any, and write the audit events in one executemany. A batch is all or nothing. Rows the actor may
not change raise one BatchPermissionDenied, rows changed since they were read one BatchStaleWrite;
each lists every such (version_id, requirement_id) in ``.conflicts``. An unknown id or an invalid
value raises NotFound / InvalidValue naming the first offending field and value. Nothing is written
when anything is refused.

Audit: entity ``requirement_status`` (the row's id), fields ``owner_status``, ``owner_notes``,
``signee_status``, ``signee_notes``, ``evidence_url``; a new row also records its ``version_id`` and
``requirement_id``. Who and when are the event's actor and time (the row's ``*_by_id``/``*_at``
columns are set too, not audited separately).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import insert, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..enums import OWNER_STATUSES, SIGNEE_STATUSES
from ..errors import InvalidValue, NotFound, PermissionDenied, StaleWrite
from ..models import (
    ChangeSet,
    ComponentVersion,
    Requirement,
    RequirementSet,
    RequirementSetItem,
    RequirementStatus,
    RequirementStatusDigest,
    SignerGroup,
    utcnow,
)
from ._core import Actor, Audit, begin_change
from ._util import (
    clean_choice,
    clean_row_version,
    clean_text,
    clean_url,
    finish,
    int_like,
    owned_components,
    table_of,
)
from .requirement_sets import (
    create_requirement,
    create_requirement_set,
    exclude_set,
    include_set,
    set_requirement_position,
    set_requirement_sets,
    set_signer_groups,
    update_requirement,
    update_requirement_set,
)

Pair = tuple[int, int]
T = TypeVar("T")
_CHUNK = 400


@dataclass(frozen=True)
class ClaimChange:
    """The owner's claim on one requirement of one version.

    ``expected_row_version``: the status row's version the caller read; 0 means "I saw no row";
    None means "do not check".
    """

    version_id: int
    requirement_id: int
    status: str
    notes: str | None = None
    expected_row_version: int | None = None


@dataclass(frozen=True)
class VerdictChange:
    """The signee's verdict on one requirement of one version; ``set_id``: the set signed for.

    A change with a ``status`` is a sign-off act: it records the signee and the time anew even when
    the status is the one already stored (this is how an expired verdict is renewed). A change
    with ``status=None`` edits ``notes`` and ``evidence_url`` only and keeps the recorded sign-off
    (status, signee and time), so that it cannot extend a verdict's validity.
    """

    version_id: int
    requirement_id: int
    status: str | None
    notes: str | None = None
    evidence_url: str | None = None
    set_id: int | None = None
    expected_row_version: int | None = None


class BatchStaleWrite(StaleWrite):
    """Status rows changed by someone else since they were read; ``conflicts`` lists every one."""

    def __init__(self, stale: Sequence[tuple[int, int, int | None, int | None]]) -> None:
        version_id, requirement_id, expected, actual = stale[0]
        super().__init__("requirement_status", (version_id, requirement_id), expected, actual)
        self.conflicts: list[Pair] = [(v, r) for v, r, _, _ in stale]
        details = "; ".join(
            f"version {v} requirement {r} (row_version {e if e else 'none'} read, now {a if a else 'none'})"
            for v, r, e, a in stale
        )
        self.args = (
            f"requirement_status: {details} — changed by someone else since loaded; reload and apply your changes again",
        )


class BatchPermissionDenied(PermissionDenied):
    """The actor may not change some rows of a batch; ``conflicts`` lists every one."""

    def __init__(self, actor: str, action: str, denied: Sequence[Pair]) -> None:
        listed = ", ".join(f"version {v} requirement {r}" for v, r in denied[:20])
        more = f" and {len(denied) - 20} more" if len(denied) > 20 else ""
        super().__init__(actor, f"{action}: {listed}{more}", field="version_id", value=denied[0][0])
        self.conflicts: list[Pair] = list(denied)


# --- services ------------------------------------------------------------------------------------------


def set_owner_claims(
    session: Session,
    *,
    actor: Actor,
    changes: Sequence[ClaimChange],
    change_set: ChangeSet | None = None,
) -> list[RequirementStatus]:
    """Record owner claims (status one of OWNER_STATUSES, notes as given) in one change set.

    Allowed to editors, admins and owners of each version's component. A changed claim status
    resets the signee's verdict to ``unknown`` (recorded as an event). Missing status rows are
    created. Returns the status rows in the order of ``changes``. Raises InvalidValue (owner_status,
    notes, a pair given twice), NotFound (version_id, requirement_id), BatchPermissionDenied,
    BatchStaleWrite; nothing is written then.
    """
    if not changes:
        return []
    changes = [_normalised(c) for c in changes]
    clean = [
        (c, clean_choice(c.status, OWNER_STATUSES, "owner_status"), clean_text(c.notes, "owner_notes"))
        for c in changes
    ]
    pairs = _pairs(changes)
    components = _components_of(session, {c.version_id for c in changes})
    if not actor.is_editor:
        owned = owned_components(session, actor, set(components.values()))
        denied = [p for p in pairs if components[p[0]] not in owned]
        if denied:
            raise BatchPermissionDenied(
                actor.username, "change owner claims of components they do not own", denied
            )
    _check_requirements(session, {c.requirement_id for c in changes})
    rows = _load_rows(session, pairs)
    _check_stale(changes, rows)

    updates: list[tuple[RequirementStatus | None, ClaimChange, dict[str, Any]]] = []
    for change, status, notes in clean:
        row = rows.get((change.version_id, change.requirement_id))
        values: dict[str, Any] = {"owner_status": status, "owner_notes": notes}
        if row is not None:
            values = {k: v for k, v in values.items() if getattr(row, k) != v}
            if not values:
                continue
            if "owner_status" in values and row.signee_status != "unknown":
                values.update(signee_status="unknown", signee_by_id=None, signee_at=None)
        values.update(owner_by_id=actor.person_id, owner_at=utcnow())
        updates.append((row, change, values))
    return _write(session, actor, change_set, "owner claims", changes, rows, updates, components)


def set_signee_verdicts(
    session: Session,
    *,
    actor: Actor,
    changes: Sequence[VerdictChange],
    change_set: ChangeSet | None = None,
) -> list[RequirementStatus]:
    """Record signee verdicts (status one of SIGNEE_STATUSES; ``n/a`` is refused — approve an owner's
    ``n/a`` with ``ready``) in one change set.

    A change with a status is a sign-off: status, signee and time are always set, even for the
    status already stored (renewing a verdict, e.g. an expired one; the event then records
    ``signee_at`` old → new). A change with ``status=None`` sets notes and evidence only and never
    touches ``signee_status``, ``signee_by_id`` or ``signee_at``. Notes and evidence are stored as
    given (None clears them).

    Allowed to admins and members of a signer group of a set containing the requirement; with
    ``set_id``, the requirement must be in that set and the actor must sign it. Missing status rows
    are created. Returns the status rows in the order of ``changes``. Raises InvalidValue
    (signee_status, evidence_url, requirement_id not in set_id), NotFound (version_id,
    requirement_id, set_id), BatchPermissionDenied, BatchStaleWrite; nothing is written then.
    """
    if not changes:
        return []
    changes = [_normalised(c) for c in changes]
    clean = []
    for c in changes:
        if c.status == "n/a":
            raise InvalidValue(
                "signee_status", c.status, "cannot be chosen by a signee: approve an owner's n/a with ready"
            )
        clean.append(
            (
                c,
                None if c.status is None else clean_choice(c.status, SIGNEE_STATUSES, "signee_status"),
                clean_text(c.notes, "signee_notes"),
                clean_url(c.evidence_url, "evidence_url"),
            )
        )
    pairs = _pairs(changes)
    components = _components_of(session, {c.version_id for c in changes})
    requirement_ids = {c.requirement_id for c in changes}
    _check_requirements(session, requirement_ids)
    _check_set_memberships(session, changes)
    if not actor.is_admin:
        signable = _signable(session, actor, requirement_ids)
        denied = [
            (c.version_id, c.requirement_id)
            for c in changes
            if not (
                (c.set_id, c.requirement_id) in signable
                if c.set_id is not None
                else any(r == c.requirement_id for _, r in signable)
            )
        ]
        if denied:
            raise BatchPermissionDenied(
                actor.username, "give verdicts on requirements of sets they do not sign", denied
            )
    rows = _load_rows(session, pairs)
    _check_stale(changes, rows)

    updates: list[tuple[RequirementStatus | None, Any, dict[str, Any]]] = []
    now = utcnow()
    for change, status, notes, evidence in clean:
        row = rows.get((change.version_id, change.requirement_id))
        values: dict[str, Any] = {"signee_notes": notes, "evidence_url": evidence}
        if row is not None:
            values = {k: v for k, v in values.items() if getattr(row, k) != v}
        else:
            values = {k: v for k, v in values.items() if v is not None}
        if status is not None:  # a sign-off act, even when the status stays the same
            if row is None or row.signee_status != status:
                values["signee_status"] = status
            values.update(signee_by_id=actor.person_id, signee_at=now)
        if not values:
            continue
        updates.append((row, change, values))
    return _write(session, actor, change_set, "signee verdicts", changes, rows, updates, components)


# --- internals -------------------------------------------------------------------------------------------

_AUDITED = ("owner_status", "owner_notes", "signee_status", "signee_notes", "evidence_url")


C = TypeVar("C", ClaimChange, VerdictChange)


def _normalised(change: C) -> C:
    """Ids as ints (numpy ints from a frame accepted) and a NaN row version read as "not read"."""
    ids: dict[str, Any] = {}
    for field in ("version_id", "requirement_id", "set_id"):
        value = getattr(change, field, None)
        if value is None and field == "set_id":
            continue
        number = int_like(value)
        if number is None:
            raise NotFound(field, value)
        ids[field] = number
    return replace(change, expected_row_version=clean_row_version(change.expected_row_version), **ids)


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _pairs(changes: Sequence[ClaimChange] | Sequence[VerdictChange]) -> list[Pair]:
    seen: set[Pair] = set()
    for c in changes:
        pair = (c.version_id, c.requirement_id)
        if pair in seen:
            raise InvalidValue(
                "requirement_id", c.requirement_id, f"is given twice for version {c.version_id} in one save"
            )
        seen.add(pair)
    return [(c.version_id, c.requirement_id) for c in changes]


def _components_of(session: Session, version_ids: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(version_ids, key=str)):
        rows = session.execute(
            select(ComponentVersion.id, ComponentVersion.component_id).where(ComponentVersion.id.in_(chunk))
        )
        found.update({int(v): int(c) for v, c in rows})
    for vid in version_ids:
        if vid not in found:
            raise NotFound("version_id", vid)
    return found


def _check_requirements(session: Session, requirement_ids: set[int]) -> None:
    found: set[int] = set()
    for chunk in _chunks(sorted(requirement_ids, key=str)):
        found.update(session.scalars(select(Requirement.id).where(Requirement.id.in_(chunk))))
    for rid in sorted(requirement_ids - found, key=str):
        raise NotFound("requirement_id", rid)


def _check_set_memberships(session: Session, changes: Sequence[VerdictChange]) -> None:
    set_ids = {c.set_id for c in changes if c.set_id is not None}
    if not set_ids:
        return
    names = dict(
        session.execute(
            select(RequirementSet.id, RequirementSet.name).where(RequirementSet.id.in_(set_ids))
        ).all()
    )
    for sid in sorted(set_ids - set(names), key=str):
        raise NotFound("set_id", sid)
    members = set(
        session.execute(
            select(RequirementSetItem.set_id, RequirementSetItem.requirement_id).where(
                RequirementSetItem.set_id.in_(set_ids)
            )
        ).all()
    )
    for c in changes:
        if c.set_id is not None and (c.set_id, c.requirement_id) not in members:
            raise InvalidValue(
                "requirement_id", c.requirement_id, f"is not in requirement set {names[c.set_id]!r}"
            )


def _signable(session: Session, actor: Actor, requirement_ids: set[int]) -> set[Pair]:
    """(set_id, requirement_id) pairs among the requirements whose set the actor's groups sign."""
    if not actor.group_ids:
        return set()
    out: set[Pair] = set()
    for chunk in _chunks(sorted(requirement_ids, key=str)):
        rows = session.execute(
            select(RequirementSetItem.set_id, RequirementSetItem.requirement_id)
            .join(SignerGroup, SignerGroup.set_id == RequirementSetItem.set_id)
            .where(RequirementSetItem.requirement_id.in_(chunk), SignerGroup.group_id.in_(actor.group_ids))
        )
        out.update((int(s), int(r)) for s, r in rows)
    return out


def _load_rows(session: Session, pairs: Sequence[Pair]) -> dict[Pair, RequirementStatus]:
    rows: dict[Pair, RequirementStatus] = {}
    for chunk in _chunks(pairs):
        query = select(RequirementStatus).where(
            tuple_(RequirementStatus.version_id, RequirementStatus.requirement_id).in_(chunk)
        )
        rows.update({(r.version_id, r.requirement_id): r for r in session.scalars(query)})
    return rows


def _check_stale(
    changes: Sequence[ClaimChange] | Sequence[VerdictChange], rows: dict[Pair, RequirementStatus]
) -> None:
    stale: list[tuple[int, int, int | None, int | None]] = []
    for c in changes:
        if c.expected_row_version is None:
            continue
        row = rows.get((c.version_id, c.requirement_id))
        actual = row.row_version if row is not None else None
        if (actual or 0) != c.expected_row_version:
            stale.append((c.version_id, c.requirement_id, c.expected_row_version, actual))
    if stale:
        raise BatchStaleWrite(stale)


def _write(
    session: Session,
    actor: Actor,
    change_set: ChangeSet | None,
    what: str,
    changes: Sequence[ClaimChange] | Sequence[VerdictChange],
    rows: dict[Pair, RequirementStatus],
    updates: Sequence[tuple[RequirementStatus | None, Any, dict[str, Any]]],
    components: dict[int, int],
) -> list[RequirementStatus]:
    """Apply the checked updates (existing rows through the ORM, new rows in one executemany) and
    record their events; return the rows in the order of ``changes``.

    New rows are written in a savepoint: when another save created one of them since this one read
    (the unique (version_id, requirement_id) constraint refuses the insert), the savepoint is rolled
    back and BatchStaleWrite names each such pair; nothing of the batch stays written.
    """
    new_rows = [change for row, change, _ in updates if row is None]
    if not new_rows:
        _apply(session, actor, change_set, what, rows, updates, components)
    else:
        try:
            with session.begin_nested():
                _apply(session, actor, change_set, what, rows, updates, components)
        except IntegrityError as exc:
            meanwhile = _load_rows(session, [(c.version_id, c.requirement_id) for c in new_rows])
            stale = [
                (c.version_id, c.requirement_id, c.expected_row_version, row.row_version)
                for c in new_rows
                if (row := meanwhile.get((c.version_id, c.requirement_id))) is not None
            ]
            if stale:
                raise BatchStaleWrite(stale) from exc
            raise
    return [rows[(c.version_id, c.requirement_id)] for c in changes]


def _apply(
    session: Session,
    actor: Actor,
    change_set: ChangeSet | None,
    what: str,
    rows: dict[Pair, RequirementStatus],
    updates: Sequence[tuple[RequirementStatus | None, Any, dict[str, Any]]],
    components: dict[int, int],
) -> None:
    """Write the updates and their audit events (see ``_write``)."""
    if not updates:
        return
    _lock_for_write(session, updates)
    audit = begin_change(session, actor, change_set=change_set, summary=f"{len(updates)} {what}")
    created: list[dict[str, Any]] = []
    for row, change, values in updates:
        if row is None:
            created.append(
                {"version_id": change.version_id, "requirement_id": change.requirement_id, **values}
            )
            continue
        cid = components[change.version_id]
        for field, new in values.items():
            if field in _AUDITED or (field == "signee_at" and "signee_status" not in values):
                _event(audit, row, "update", field, getattr(row, field), new, cid)  # (a renewal)
            setattr(row, field, new)
    if created:
        created.sort(key=lambda values: (values["version_id"], values["requirement_id"]))  # (lock order)
        _insert_rows(session, created, rows)
        for values in created:
            row = rows[(values["version_id"], values["requirement_id"])]
            cid = components[row.version_id]
            _event(audit, row, "create", None, None, None, cid)
            for field in ("version_id", "requirement_id", *_AUDITED):
                if values.get(field) is not None:
                    _event(audit, row, "create", field, None, values[field], cid)
    finish(audit)


def _lock_for_write(
    session: Session, updates: Sequence[tuple[RequirementStatus | None, Any, dict[str, Any]]]
) -> None:
    """On PostgreSQL, before writing: lock the status rows being updated in (version, requirement)
    order, then the versions' status digests in version order (creating missing digest rows).

    The digest's triggers (migration 0007) lock a version's digest row after the status rows of a
    statement are written, as a plain ``UPDATE`` does: taking the rows first, then the digests, each
    in one order, keeps two batches, or a batch and another writer, from waiting on each other in
    a cycle (a deadlock). SQLite serialises writers and needs none of it."""
    if session.get_bind().dialect.name != "postgresql":
        return
    status, digest = RequirementStatus, RequirementStatusDigest
    # one global order across chunks: sorting by id would lock a later chunk's smaller pair last
    existing = sorted(
        (row.version_id, row.requirement_id, row.id) for row, _, _ in updates if row is not None
    )
    for chunk in _chunks([row_id for _, _, row_id in existing]):
        session.execute(
            select(status.id)
            .where(status.id.in_(chunk))
            .order_by(status.version_id, status.requirement_id)
            .with_for_update()
        )
    for chunk in _chunks(sorted({change.version_id for _, change, _ in updates})):
        session.execute(
            pg_insert(digest)
            .from_select(
                ["version_id", "cells"],
                select(ComponentVersion.id, literal(""))
                .where(ComponentVersion.id.in_(chunk))
                .order_by(ComponentVersion.id),
            )
            .on_conflict_do_nothing(index_elements=["version_id"])
        )
        session.execute(
            select(digest.version_id)
            .where(digest.version_id.in_(chunk))
            .order_by(digest.version_id)
            .with_for_update()
        )


def _insert_rows(session: Session, new: list[dict[str, Any]], rows: dict[Pair, RequirementStatus]) -> None:
    """Insert new status rows in one executemany (no per-row RETURNING), then load them in one query."""
    keys = sorted({key for values in new for key in values})
    session.execute(
        insert(table_of(RequirementStatus)), [{key: values.get(key) for key in keys} for values in new]
    )
    rows.update(_load_rows(session, [(v["version_id"], v["requirement_id"]) for v in new]))


def _event(
    audit: Audit, row: RequirementStatus, action: str, field: str | None, old: Any, new: Any, cid: int
) -> None:
    audit.event(
        entity="requirement_status",
        entity_id=row.id,
        action=action,
        field=field,
        old=old,
        new=new,
        component_id=cid,
    )


__all__ = [
    "BatchPermissionDenied",
    "BatchStaleWrite",
    "ClaimChange",
    "VerdictChange",
    "create_requirement",
    "create_requirement_set",
    "exclude_set",
    "include_set",
    "set_owner_claims",
    "set_requirement_sets",
    "set_signee_verdicts",
    "set_requirement_position",
    "set_signer_groups",
    "update_requirement",
    "update_requirement_set",
]
