"""Editable grids, the generic part: a frozen snapshot per grid, the editor's edits as typed changes,
validation per cell, one save = one transaction = one change set, stale rows refused by name, and
"reload and keep my edits".

A grid is drawn from a :class:`Snapshot` kept in the session: ``base`` (the rows as read, each with
its id and the ``row_version`` it was read with) and ``shown`` (the frame the editor edits: ``base``,
or after a reload the fresh rows with the user's typed values written over them). The snapshot is
never refreshed behind the user's back: a fresh read under typed edits would turn a stale save into
a lost update.

    edits = grids.diff(snap, st.session_state.get(snap.key), key="component_id", columns=[...])
    plan = my_planner(edits)                       # -> Plan(steps, errors)
    grids.save(snap, plan, summary="components: 3 changed")

:func:`diff` compares the editor's final frame with ``base`` by id, so it works the same before and
after a reload. A :class:`Plan` holds :class:`Step` s (one service call each, with the grid row it
comes from). :func:`run` calls them in order in one transaction; each row's *first* step carries the
row_version read at load (the services check it; within a save, list services move a row_version on,
so later calls on the same row pass None). Refusals are collected across rows: every stale row and
every refused cell is named, then the transaction is rolled back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from panopticum_data.errors import PanopticumError, PermissionDenied, StaleWrite
from panopticum_data.models import ChangeSet
from panopticum_data.services import Actor, ConcurrentWrite

from . import actions
from .style import md_text

_LINK = re.compile(r"^https?://[^\s/?#]+\S*$", re.IGNORECASE)

# --- cell values ----------------------------------------------------------------------------------


def norm(value: Any) -> Any:
    """A cell value without pandas' flavours: NaN / NA / blank text -> None, numpy scalars -> Python,
    arrays and tuples -> lists."""
    if isinstance(value, list | tuple | np.ndarray):
        return [norm(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return norm(value.item())
    if isinstance(value, str) and not value.strip():
        return None
    return value


def same(old: Any, new: Any) -> bool:
    """Equal as the grid shows them (lists compare as sets, ignoring case; numbers as numbers)."""
    old, new = norm(old), norm(new)
    if isinstance(old, list) or isinstance(new, list):
        return sorted(str(v).lower() for v in old or []) == sorted(str(v).lower() for v in new or [])
    if isinstance(old, bool) or isinstance(new, bool):
        return bool(old) == bool(new)
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) == float(new)
    return bool(old == new)


class BadCell(ValueError):
    """An invalid cell value; the message says why (raised by cleaners)."""


def text(value: Any, *, max_length: int | None = None) -> str | None:
    value = norm(value)
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if max_length is not None and len(value) > max_length:
        raise BadCell(f"is longer than {max_length} characters")
    return value


def name(value: Any, *, max_length: int = 128) -> str:
    """A required single-line name."""
    value = text(value, max_length=max_length)
    if value is None:
        raise BadCell("is empty: give a name")
    if "\n" in value.strip() or "\r" in value.strip():
        raise BadCell("must be a single line")
    return value.strip()


def choice(value: Any, options: Iterable[str], *, required: bool = True) -> str | None:
    """One of ``options`` (ignoring case; the option's spelling is returned)."""
    value = norm(value)
    if value is None:
        if required:
            raise BadCell("is empty: choose a value")
        return None
    known = {str(o).lower(): str(o) for o in options}
    found = known.get(str(value).strip().lower())
    if found is None:
        raise BadCell(f"{value!r} is not one of the choices")
    return found


def names(value: Any, options: Iterable[str] | None = None) -> list[str]:
    """A list cell (or a comma-separated text): stripped names, blanks and repeats dropped; with
    ``options``, each must be one of them."""
    value = norm(value)
    items = value.split(",") if isinstance(value, str) else (value or [])
    out: list[str] = []
    for item in items:
        entry = str(item).strip() if item is not None else ""
        if entry and entry.lower() not in {n.lower() for n in out}:
            out.append(entry)
    if options is not None:
        known = {str(o).lower(): str(o) for o in options}
        unknown = [n for n in out if n.lower() not in known]
        if unknown:
            raise BadCell(f"unknown: {', '.join(repr(n) for n in unknown)}")
        out = [known[n.lower()] for n in out]
    return out


def boolean(value: Any) -> bool:
    value = norm(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise BadCell(f"{value!r} is not yes or no")


def number(value: Any, *, minimum: float | None = None) -> float | None:
    value = norm(value)
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadCell(f"{value!r} is not a number") from None
    if math.isnan(result) or (minimum is not None and result < minimum):
        raise BadCell(f"must be a number, {minimum:g} or more" if minimum is not None else "is not a number")
    return result


def link(value: Any) -> str | None:
    value = text(value)
    if value is None:
        return None
    value = value.strip()
    if not _LINK.match(value):
        raise BadCell(f"{value!r} is not an http(s) link: write it as https://… without spaces")
    return value


# --- errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellError:
    """One refused cell: ``row`` counts from 1 as the grid shows it (0: the grid as a whole);
    ``label`` names the row (e.g. the component)."""

    row: int
    label: str
    column: str
    reason: str

    def __str__(self) -> str:
        if self.row <= 0:
            return f"{self.column}: {self.reason}"
        return f"Row {self.row} ({self.label}), {self.column}: {self.reason}"


class GridRefused(PanopticumError):
    """Cells the data layer refused during a save (the transaction was rolled back)."""

    def __init__(self, cells: Sequence[CellError]) -> None:
        super().__init__("; ".join(map(str, cells)))
        self.cells = tuple(cells)


class StaleRows(StaleWrite):
    """Rows someone else saved after this grid read them: the save was refused as a whole."""

    def __init__(self, rows: Sequence[str]) -> None:
        super().__init__("grid rows", None, None, None)
        self.rows = tuple(rows)
        self.args = (
            f"Not saved: someone else changed {', '.join(rows)} since this grid was loaded. Nothing "
            "was written. Your edits are still in the grid: reload (your edits are kept), check the "
            "other change, then save again.",
        )


# --- the editor's state -> changed / added / deleted rows -------------------------------------------


@dataclass(frozen=True)
class Row:
    """A row of the grid as the user left it: ``pos`` counts from 1 as shown; ``values`` the cells
    that differ from what was read (changed rows) or every cell (added rows); ``base`` as read."""

    pos: int
    label: str
    values: Mapping[str, Any]
    base: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.base["__id__"])


@dataclass(frozen=True)
class Edits:
    changed: tuple[Row, ...] = ()
    added: tuple[Row, ...] = ()
    deleted: tuple[Row, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.deleted)


def has_edits(state: Mapping[str, Any] | None) -> bool:
    return bool(state) and any(state.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))  # type: ignore[union-attr]


def final_frame(shown: pd.DataFrame, state: Mapping[str, Any] | None) -> pd.DataFrame:
    """``shown`` with the editor's state applied: edited cells, deleted rows dropped, added rows
    appended (their id empty). The index counts positions as the editor shows them."""
    state = state or {}
    out = shown.copy().astype(object)
    for pos, cells in (state.get("edited_rows") or {}).items():
        i = int(pos)
        if 0 <= i < len(out):
            for column, value in dict(cells).items():
                if column in out.columns:
                    out.iat[i, out.columns.get_loc(column)] = value
    deleted = {int(p) for p in state.get("deleted_rows") or []}
    out = out.drop(index=[out.index[p] for p in deleted if 0 <= p < len(out)])
    added = [dict(r) for r in state.get("added_rows") or []]
    if added:
        extra = pd.DataFrame([{c: r.get(c) for c in shown.columns} for r in added], columns=shown.columns)
        out = pd.concat([out, extra.astype(object)], ignore_index=False)
    return out.reset_index(drop=True)


def diff(
    base: pd.DataFrame,
    shown: pd.DataFrame,
    state: Mapping[str, Any] | None,
    *,
    key: str,
    columns: Sequence[str],
    label: Callable[[Mapping[str, Any]], str],
) -> Edits:
    """The editor's edits as rows, compared with ``base`` by ``key`` (the id column): changed rows
    carry only the ``columns`` that differ; added rows (no id) every column; deleted rows their base."""
    final = final_frame(shown, state)
    # rows the editor did not touch equal ``shown``; when ``shown`` is ``base`` they need no compare.
    # The editor's edited positions count the rows as shown (before deletions): matched by id.
    touched = None if shown is not base else _edited_ids(shown, state, key)
    by_id = {
        int(k): r for k, r in zip(base[key], base.to_dict("records"), strict=True) if norm(k) is not None
    }
    changed: list[Row] = []
    added: list[Row] = []
    seen: set[int] = set()
    for pos, row in enumerate(final.to_dict("records"), start=1):
        ident = norm(row.get(key))
        if ident is None:
            if any(norm(row.get(c)) is not None for c in columns):
                added.append(Row(pos, f"new: {label(row) or 'no name'}", {c: row.get(c) for c in columns}))
            continue
        seen.add(int(ident))
        old = by_id.get(int(ident))
        if old is None or (touched is not None and int(ident) not in touched):
            continue
        cells = {c: row.get(c) for c in columns if not same(old.get(c), row.get(c))}
        if cells:
            changed.append(Row(pos, label(old), cells, {**old, "__id__": int(ident)}))
    shown_at = {int(k): i for i, k in enumerate(shown[key], start=1) if norm(k) is not None}
    deleted = [
        Row(shown_at.get(ident, 0), label(old), {}, {**old, "__id__": ident})
        for ident, old in by_id.items()
        if ident not in seen
    ]
    return Edits(tuple(changed), tuple(added), tuple(deleted))


def _edited_ids(shown: pd.DataFrame, state: Mapping[str, Any] | None, key: str) -> set[int]:
    """The ids of the rows whose cells the editor changed (its positions count ``shown``'s rows)."""
    ids = shown[key].tolist()
    out: set[int] = set()
    for pos in (state or {}).get("edited_rows") or {}:
        i = int(pos)
        if 0 <= i < len(ids) and norm(ids[i]) is not None:
            out.add(int(norm(ids[i])))
    return out


def clean_cells(
    row: Row, cleaners: Mapping[str, Callable[[Any], Any]], labels: Mapping[str, str]
) -> tuple[dict[str, Any], list[CellError]]:
    """Each cell of ``row`` through its column's cleaner; the bad ones as CellErrors."""
    clean: dict[str, Any] = {}
    errors: list[CellError] = []
    for column, value in row.values.items():
        cleaner = cleaners.get(column)
        if cleaner is None:
            errors.append(CellError(row.pos, row.label, labels.get(column, column), "cannot be changed here"))
            continue
        try:
            clean[column] = cleaner(value)
        except BadCell as bad:
            errors.append(CellError(row.pos, row.label, labels.get(column, column), str(bad)))
    return clean, errors


def duplicates(rows: Iterable[tuple[int, str, Any]], column: str) -> list[CellError]:
    """Later rows whose value repeats an earlier one's (ignoring case): (row, label, value) in."""
    first: dict[str, int] = {}
    errors: list[CellError] = []
    for row, label, value in rows:
        if not isinstance(value, str) or not value.strip():
            continue
        k = value.strip().lower()
        if k in first:
            why = f"{value.strip()!r} is already in row {first[k]} (each must be unique, ignoring case)"
            errors.append(CellError(row, label, column, why))
        else:
            first[k] = row
    return errors


# --- plans and running them -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One service call of a save. ``row``/``label``: the grid row (for messages); ``token``: the
    stale-check identity of the row (e.g. ``("version", 12)``); ``expected``: the row_version read
    at load, passed as ``expected_row_version`` when this is the token's first step."""

    row: int
    label: str
    service: Callable[..., Any]
    kwargs: Mapping[str, Any]
    token: tuple[str, int] | None = None
    expected: int | None = None


@dataclass(frozen=True)
class Plan:
    """What a save will do: ``steps`` in order, or ``errors`` (then nothing is called)."""

    steps: tuple[Step, ...] = ()
    errors: tuple[CellError, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    changed: int = 0
    added: int = 0
    deleted: int = 0
    warm: Callable[[Session], Any] | None = None  # loads the rows the steps touch, in one query

    def counts(self) -> str:
        return f"{self.changed} changed, {self.added} added, {self.deleted} deleted"


def make_plan(
    steps: Sequence[Step],
    errors: Sequence[CellError],
    labels: Mapping[str, str],
    edits: Edits,
    warm: Callable[[Session], Any] | None = None,
) -> Plan:
    return Plan(
        tuple(steps),
        tuple(sorted(errors, key=lambda e: e.row)),
        labels,
        len(edits.changed),
        len(edits.added),
        len(edits.deleted),
        warm,
    )


def run(
    session: Session,
    actor: Actor,
    change_set: ChangeSet | None,
    plan: Plan,
    *,
    error_fields: Mapping[str, str] | None = None,
) -> int:
    """Call the plan's services in order, in the caller's transaction. The first step of each token
    passes the row_version read at load. Every stale row and every refused cell is collected; then
    StaleRows (any stale row) or GridRefused is raised and the caller rolls back. PermissionDenied
    is raised as it comes. Returns the number of calls made."""
    fields = error_fields or {}
    first: set[tuple[str, int]] = set()
    failed: set[int] = set()
    stale: list[str] = []
    refused: list[CellError] = []
    if plan.warm is not None and plan.steps:
        plan.warm(session)
    for step in plan.steps:
        if step.row in failed:
            continue
        kwargs = dict(step.kwargs)
        if step.token is not None and step.token not in first:
            first.add(step.token)
            kwargs["expected_row_version"] = step.expected
        try:
            step.service(session, actor=actor, change_set=change_set, **kwargs)
        except PermissionDenied:
            raise
        except StaleWrite as error:
            stale.append(f"row {step.row} ({step.label})")
            failed.add(step.row)
            if isinstance(error, ConcurrentWrite):  # a failed flush: the session is done
                break
        except PanopticumError as error:
            column = fields.get(error.field or "", error.field or "")
            refused.append(
                CellError(step.row, step.label, plan.labels.get(column, column or "row"), str(error))
            )
            failed.add(step.row)
    if stale:
        raise StaleRows(stale)
    if refused:
        raise GridRefused(refused)
    return len(plan.steps)


# --- Streamlit state: snapshots, saves, messages -------------------------------------------------------

_SNAPSHOTS = "_grid_snapshots"


@dataclass
class Snapshot:
    """What a grid was drawn from: ``base`` (rows as read: the diff and the stale tokens use it) and
    ``shown`` (base, or fresh rows with the typed values re-applied after a reload). ``scope``: what
    was read (grid, filters, page, user); a new scope without pending edits reads afresh."""

    name: str
    scope: tuple[Any, ...]
    base: pd.DataFrame
    shown: pd.DataFrame
    data_version: int
    generation: int = 0
    messages: list[str] = field(default_factory=list)
    ok: bool = True
    stale: bool = False
    dropped: bool = False

    @property
    def key(self) -> str:
        """The editor's widget key; a new generation (after a reload or save) starts a fresh editor."""
        return f"grid_{self.name}_editor_{self.generation}"


def snapshot(
    name: str, scope: tuple[Any, ...], data_version: int, load: Callable[[], pd.DataFrame]
) -> Snapshot:
    """The grid's snapshot, read with ``load`` when there is none yet, when the scope changed, or
    when the registry changed and the grid holds no edits (nothing to lose)."""
    snaps: dict[str, Snapshot] = st.session_state.setdefault(_SNAPSHOTS, {})
    snap = snaps.get(name)
    if snap is not None and not _needs_reading(snap, scope, data_version):
        return snap
    frame = load()
    generation, messages, ok = 0, [], True
    if snap is not None:
        generation = snap.generation + 1
        if snap.scope == scope:
            messages, ok = snap.messages, snap.ok
        st.session_state.pop(snap.key, None)
    snaps[name] = Snapshot(name, scope, frame, frame, data_version, generation, messages, ok)
    return snaps[name]


def _needs_reading(snap: Snapshot, scope: tuple[Any, ...], data_version: int) -> bool:
    """A dropped snapshot or a new scope; or the registry changed and the grid holds no edits and
    no stale save (nothing to lose). Known limit: values typed in a form but not yet submitted are
    not visible here, so a rerun caused by a widget outside the form after someone else's write
    redraws the grid without them (nothing is written; no edit lands on another row)."""
    if snap.dropped or snap.scope != scope:
        return True
    pending = has_edits(st.session_state.get(snap.key))
    return snap.data_version != data_version and not pending and not snap.stale


def reload(
    name: str, load: Callable[[], pd.DataFrame], data_version: int, *, key: str, columns: Sequence[str]
) -> None:
    """Read the grid afresh and write the user's typed values over it (cells they changed, matched by
    id; rows they added stay added; rows they deleted stay deleted). A button callback."""
    snaps: dict[str, Snapshot] = st.session_state.get(_SNAPSHOTS, {})
    snap = snaps.get(name)
    if snap is None:
        return
    state = st.session_state.get(snap.key)
    fresh = load()
    shown = reapply(snap.base, final_frame(snap.shown, state), fresh, key=key, columns=columns)
    st.session_state.pop(snap.key, None)
    snaps[name] = replace(
        snap,
        base=fresh,
        shown=shown,
        data_version=data_version,
        generation=snap.generation + 1,
        messages=[
            "Reloaded: the grid shows the registry as it is now, with your edits on top. Check them, then save."
        ],
        ok=True,
        stale=False,
    )


def discard(name: str) -> None:
    """Forget the grid's snapshot and edits: the next run reads afresh into a new editor."""
    snaps: dict[str, Snapshot] = st.session_state.get(_SNAPSHOTS, {})
    snap = snaps.get(name)
    if snap is not None:
        st.session_state.pop(snap.key, None)
        snap.dropped = True


def _ids(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[int, ...] | None]:
    """Each row's id: its ``keys`` cells as whole numbers (None for a row without one, e.g. added)."""
    out: list[tuple[int, ...] | None] = []
    for parts in zip(*(frame[k] for k in keys), strict=True):
        values = [norm(v) for v in parts]
        out.append(None if any(v is None for v in values) else tuple(int(v) for v in values))
    return out


def reapply(
    base: pd.DataFrame,
    typed: pd.DataFrame,
    fresh: pd.DataFrame,
    *,
    key: str | Sequence[str],
    columns: Sequence[str],
) -> pd.DataFrame:
    """``fresh`` with what the user typed over it: cells of ``typed`` that differ from ``base``
    (matched by ``key``, one id column or several), rows deleted in ``typed`` dropped, rows added in
    ``typed`` appended."""
    keys = [key] if isinstance(key, str) else list(key)
    old = {k: r for k, r in zip(_ids(base, keys), base.to_dict("records"), strict=True) if k is not None}
    out = fresh.copy().astype(object)
    position = {k: i for i, k in enumerate(_ids(out, keys)) if k is not None}
    kept: set[tuple[int, ...]] = set()
    added: list[dict[str, Any]] = []
    for ident, row in zip(_ids(typed, keys), typed.to_dict("records"), strict=True):
        if ident is None:
            added.append(row)
            continue
        kept.add(ident)
        i = position.get(ident)
        before = old.get(ident)
        if i is None or before is None:
            continue
        for column in columns:
            if not same(before.get(column), row.get(column)):
                out.iat[i, out.columns.get_loc(column)] = row.get(column)
    gone = [i for k, i in position.items() if k in old and k not in kept]
    out = out.drop(index=[out.index[i] for i in gone])
    if added:
        out = pd.concat([out, pd.DataFrame(added, columns=fresh.columns).astype(object)])
    return out.reset_index(drop=True)


def save(
    snap: Snapshot,
    plan: Plan,
    *,
    summary: str,
    error_fields: Mapping[str, str] | None = None,
    done: str,
) -> actions.Outcome | None:
    """Run ``plan`` in one transaction and one change set; record the outcome on the snapshot. Any
    invalid cell: nothing is called. Success: the snapshot is dropped (the next run reads afresh)."""
    if plan.errors:
        snap.messages, snap.ok, snap.stale = (
            ["Nothing was saved. Fix these cells:", *map(str, plan.errors)],
            False,
            False,
        )
        return None
    if not plan.steps:
        snap.messages, snap.ok, snap.stale = ["Nothing to save: no cell was changed."], True, False
        return None
    outcome = actions.perform_steps(
        lambda session, actor, change_set: run(session, actor, change_set, plan, error_fields=error_fields),
        summary=summary,
    )
    record(snap, outcome, done)
    return outcome


def record(snap: Snapshot, outcome: actions.Outcome, done: str) -> None:
    """What a save's outcome leaves on the grid: ``done`` (and a fresh read next run), the refused
    cells, or the error — stale when a reload can help."""
    if outcome.ok:
        discard(snap.name)
        snap.messages, snap.ok, snap.stale = [done], True, False
    elif isinstance(outcome.error, GridRefused):
        snap.messages, snap.ok, snap.stale = (
            ["Nothing was saved:", *map(str, outcome.error.cells)],
            False,
            False,
        )
    else:
        snap.messages, snap.ok = [outcome.message], False
        snap.stale = isinstance(outcome.error, StaleWrite)


def show(snap: Snapshot) -> None:
    """The outcome of the grid's last save: each refused cell on its own line."""
    if not snap.messages:
        return
    head, *rest = (md_text(m) for m in snap.messages)
    body = "\n".join([head, *(f"- {line}" for line in rest)])
    if snap.ok:
        st.success(body, icon=":material/check_circle:")
    else:
        st.error(body, icon=":material/error:")
