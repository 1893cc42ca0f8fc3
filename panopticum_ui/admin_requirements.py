"""Admin grids for requirement sets and requirements: the page model behind views/admin_requirements.py.

Each grid edits a frame frozen when it was read (:class:`Grid`: the frame, the data version, the
editor's key), so the data editor's row positions stay valid while someone edits. A save turns the
editor's state (``edited_rows`` / ``added_rows``) into typed service calls (:func:`plan_sets`,
:func:`plan_requirements`), validating every changed cell first: any invalid cell and nothing is
called, each bad cell named (row, column, why). :func:`save` then runs the calls in one transaction
and one change set (``actions.perform_steps``) after checking that no edited row changed since it
was read (its row version moved on; for a save that moves requirements, also when the set's order
changed): a stale row refuses the whole save, naming the rows, and the edits stay in the grid. Each
row's first service call carries the row version read, so the data layer checks it again.

The requirements grid shows each requirement's place in the set (1..n); a changed place moves it
there (``set_requirement_position``), the others keeping their order.

The grids offer only what the data layer's services accept. Not offered yet: deleting sets or
requirements, a requirement's documentation link.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from panopticum_data import queries
from panopticum_data.db import read_connection
from panopticum_data.errors import PanopticumError, PermissionDenied, StaleWrite
from panopticum_data.models import ChangeSet
from panopticum_data.queries.entities import list_groups
from panopticum_data.services import (
    Actor,
    create_requirement,
    create_requirement_set,
    set_requirement_position,
    set_requirement_sets,
    set_signer_groups,
    update_requirement,
    update_requirement_set,
)

from . import actions, cached, grids
from .style import md_text

SET_LABELS = {  # editable columns of the sets grid -> their headers
    "name": "Name",
    "position": "Order",
    "description": "Description",
    "doc_link": "Documentation",
    "signer_groups": "Signer groups",
    "ui_slot": "Place on component page",
    "validity_days": "Validity (days)",
}
REQUIREMENT_LABELS = {
    "title": "Title",
    "description": "Description",
    "position": "Position in set",
    "sets": "Sets",
}
# fields named by the services' errors -> the grid's column
_ERROR_FIELDS = {"group": "signer_groups", "requirement_set": "sets"}
_LINK = re.compile(r"^https?://[^\s/?#]+\S*$", re.IGNORECASE)


# --- errors ---------------------------------------------------------------------------------------


# CellError and GridRefused are the shared grid module's (grids.py); the stale message is ours
CellError = grids.CellError
GridRefused = grids.GridRefused


class StaleRows(PanopticumError):
    """Rows someone else saved after this grid read them: the save was refused as a whole."""

    def __init__(self, rows: Sequence[str]) -> None:
        super().__init__(
            f"Someone else changed {', '.join(rows)} since this grid was loaded, so nothing was "
            "saved. Your edits are still in the grid: reload to see the other change, then apply "
            "yours again."
        )
        self.rows = tuple(rows)


class _Bad(ValueError):
    """An invalid cell value; the message says why."""


# --- cell values ----------------------------------------------------------------------------------


def norm(value: Any) -> Any:
    """A cell value without pandas' flavours: NaN / NA / blank text -> None, numpy scalars -> Python,
    arrays and tuples -> lists."""
    if isinstance(value, list | tuple | np.ndarray):
        return [norm(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return norm(value.item())
    if isinstance(value, str) and not value.strip():
        return None
    return value


def same(old: Any, new: Any) -> bool:
    """Equal as the grid shows them (lists compare as sets of names, ignoring case)."""
    old, new = norm(old), norm(new)
    if isinstance(old, list) or isinstance(new, list):
        return sorted(str(v).lower() for v in old or []) == sorted(str(v).lower() for v in new or [])
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(new, bool):
        return float(old) == float(new)
    return bool(old == new)


def _name(value: Any) -> str:
    value = norm(value)
    if not isinstance(value, str):
        raise _Bad("is empty: give a name")
    if "\n" in value.strip() or "\r" in value.strip():
        raise _Bad("must be a single line")
    return value.strip()


def _text(value: Any) -> str | None:
    value = norm(value)
    if value is not None and not isinstance(value, str):
        raise _Bad("is not a text")
    return value


def _whole(value: Any, *, minimum: int | None = None, why: str = "is not a whole number") -> int | None:
    value = norm(value)
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _Bad(why)
    if minimum is not None and value < minimum:
        raise _Bad(why)
    return int(value)


def _required(clean: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        result = clean(value)
        if result is None:
            raise _Bad("is empty: give a value")
        return result

    return check


def _link(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = text.strip()
    if not _LINK.match(text):
        raise _Bad(f"{text!r} is not an http(s) link: write it as https://… without spaces")
    return text


def _names(value: Any) -> list[str]:
    """A list cell (or a comma-separated text): stripped names, blanks and repeats dropped."""
    value = norm(value)
    items = value.split(",") if isinstance(value, str) else (value or [])
    out: list[str] = []
    for item in items:
        name = str(item).strip() if item is not None else ""
        if name and name.lower() not in {n.lower() for n in out}:
            out.append(name)
    return out


_POSITION = "is not a whole number"
SET_CLEANERS: Mapping[str, Callable[[Any], Any]] = {
    "name": _name,
    "position": _required(lambda v: _whole(v, why=_POSITION)),
    "description": _text,
    "doc_link": _link,
    "signer_groups": _names,
    "ui_slot": _required(lambda v: _whole(v, minimum=0, why="must be a whole number, 0 or more")),
    "validity_days": lambda v: _whole(
        v, minimum=1, why="must be a whole number of days, 1 or more (leave it empty: never expires)"
    ),
}


# --- the frames the grids edit --------------------------------------------------------------------


def sets_frame(sets: pd.DataFrame) -> pd.DataFrame:
    """The sets grid, from ``queries.list_requirement_sets``: one row per set, in their order."""
    frame = sets[["set_id", *SET_LABELS, "requirements", "row_version"]].copy()
    frame["signer_groups"] = [list(v) if isinstance(v, list | tuple) else [] for v in frame["signer_groups"]]
    for column in ("set_id", "position", "ui_slot", "validity_days", "requirements", "row_version"):
        frame[column] = pd.array([norm(v) for v in frame[column]], dtype="Int64")
    return frame.reset_index(drop=True)


def requirements_frame(requirements: pd.DataFrame, set_id: int) -> pd.DataFrame:
    """The requirements grid of one set, from ``queries.list_requirements``: one row per
    requirement of the set, in the set's order, with its place there (1..n, whatever the stored
    positions), every set it belongs to and its row version."""
    sets_of = requirements.groupby("requirement_id", sort=False)["set_name"].agg(list).to_dict()
    mine = requirements[requirements["set_id"] == set_id]
    ids = [int(i) for i in mine["requirement_id"]]
    return pd.DataFrame(
        {
            "requirement_id": pd.array(ids, dtype="Int64"),
            "title": list(mine["title"]),
            "description": [norm(v) for v in mine["description"]],
            "position": pd.array(range(1, len(ids) + 1), dtype="Int64"),
            "sets": [list(sets_of[i]) for i in ids],
            "row_version": pd.array([int(v) for v in mine["requirement_row_version"]], dtype="Int64"),
        }
    )


def cell(frame: pd.DataFrame, state: Mapping[str, Any], row: int, column: str) -> Any:
    """A cell as the editor shows it after the last submit (0-based ``row``, new rows after the frame)."""
    if row >= len(frame):
        added = list(state.get("added_rows") or [])
        return added[row - len(frame)].get(column) if row - len(frame) < len(added) else None
    edits = _edited_rows(state).get(row, {})
    return edits[column] if column in edits else frame.iloc[row][column]


def _edited_rows(state: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(k): dict(v) for k, v in (state.get("edited_rows") or {}).items()}


def has_edits(state: Mapping[str, Any] | None) -> bool:
    return bool(state) and any(state.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))  # type: ignore[union-attr]


# --- plans: the editor's state -> validated service calls -----------------------------------------


@dataclass(frozen=True)
class Step:
    """One service call of a save, with the grid row it comes from (for messages)."""

    row: int
    label: str
    service: Callable[..., Any]
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    """What a save will do. ``touched``: the ids of edited rows, to check they are not stale;
    ``moves``: whether it reorders rows (then the order read must still hold)."""

    steps: tuple[Step, ...] = ()
    errors: tuple[CellError, ...] = ()
    touched: tuple[int, ...] = ()
    added: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    moves: bool = False


def _clean_cells(
    values: Mapping[str, Any], cleaners: Mapping[str, Callable[[Any], Any]], where: tuple[int, str]
) -> tuple[dict[str, Any], list[CellError]]:
    clean: dict[str, Any] = {}
    errors: list[CellError] = []
    for column, value in values.items():
        try:
            clean[column] = cleaners[column](value)
        except _Bad as bad:
            label = {**SET_LABELS, **REQUIREMENT_LABELS}.get(column, column)
            errors.append(CellError(where[0], where[1], label, str(bad)))
    return clean, errors


def _changed(edits: Mapping[str, Any], original: pd.Series, columns: Sequence[str]) -> dict[str, Any]:
    return {c: v for c, v in edits.items() if c in columns and not same(original[c], v)}


def _final(
    frame: pd.DataFrame,
    edited: Mapping[int, Mapping[str, Any]],
    added: Sequence[Mapping[str, Any]],
    column: str,
) -> list[tuple[int, str, Any]]:
    """(row, label, value) of ``column`` in every row once the edits are applied."""
    out = [
        (pos + 1, str(value), edited.get(pos, {}).get(column, value))
        for pos, value in enumerate(frame[column])
    ]
    out += [(len(frame) + i + 1, f"new: {norm(v.get(column))}", v.get(column)) for i, v in enumerate(added)]
    return out


def plan_sets(frame: pd.DataFrame, state: Mapping[str, Any]) -> Plan:
    """The calls that turn the sets grid's edits into the registry's state: edited sets first
    (``update_requirement_set`` with the row version read, ``set_signer_groups``), then new ones."""
    columns = list(SET_LABELS)
    steps: list[Step] = []
    errors: list[CellError] = []
    touched: list[int] = []
    edited = _edited_rows(state)
    if state.get("deleted_rows"):
        rows = ", ".join(str(int(r) + 1) for r in state["deleted_rows"])
        errors.append(CellError(0, "", "Rows", f"{rows} cannot be deleted: sets are not deleted here"))
    for pos, edits in sorted(edited.items()):
        original = frame.iloc[pos]
        where = (pos + 1, str(original["name"]))
        clean, bad = _clean_cells(_changed(edits, original, columns), SET_CLEANERS, where)
        errors.extend(bad)
        if bad or not clean:
            continue
        set_id = int(original["set_id"])
        touched.append(set_id)
        groups = clean.pop("signer_groups", None)
        seen = int(original["row_version"])  # checked by the row's first call (a change moves it on)
        if clean:
            kwargs = {"set_id": set_id, "expected_row_version": seen, "changes": clean}
            steps.append(Step(*where, update_requirement_set, kwargs))
        if groups is not None:
            kwargs = {"set_id": set_id, "groups": groups, "expected_row_version": None if clean else seen}
            steps.append(Step(*where, set_signer_groups, kwargs))
    positions = [p for p in (norm(v) for v in frame["position"]) if isinstance(p, int | float)]
    next_position = int(max(positions, default=0)) + 1
    added = [dict(r) for r in state.get("added_rows") or [] if any(norm(v) is not None for v in r.values())]
    for i, values in enumerate(added):
        row = len(frame) + i + 1
        where = (row, f"new: {norm(values.get('name')) or 'no name'}")
        raw = {c: values.get(c) for c in columns}
        raw["position"] = next_position + i if norm(raw["position"]) is None else raw["position"]
        raw["ui_slot"] = 1 if norm(raw["ui_slot"]) is None else raw["ui_slot"]
        clean, bad = _clean_cells(raw, SET_CLEANERS, where)
        errors.extend(bad)
        if not bad:
            groups = clean.pop("signer_groups")
            steps.append(Step(*where, create_requirement_set, {**clean, "signer_groups": groups}))
    errors.extend(grids.duplicates(_final(frame, edited, added, "name"), SET_LABELS["name"]))
    # renames first, so that a new set may take a name an edited one gives up
    steps.sort(key=lambda s: s.service is create_requirement_set)
    return Plan(
        tuple(steps), tuple(sorted(errors, key=lambda e: e.row)), tuple(touched), len(added), SET_LABELS
    )


def plan_requirements(
    frame: pd.DataFrame,
    state: Mapping[str, Any],
    *,
    set_id: int,
    set_name: str,
    set_names: Sequence[str],
    titles: Mapping[int, str],
) -> Plan:
    """The calls for the requirements grid of the set ``set_id`` named ``set_name``: edited requirements
    (``update_requirement``, ``set_requirement_sets``), then the moves of changed places
    (``set_requirement_position``, see :func:`moves`), then new ones (``create_requirement``, in
    the order of their places; no set chosen -> this set). ``set_names``: every set; ``titles``:
    every requirement's title by id."""
    columns = list(REQUIREMENT_LABELS)
    known = {n.lower(): n for n in set_names}
    steps: list[Step] = []
    errors: list[CellError] = []
    touched: list[int] = []

    def sets_cell(value: Any) -> list[str]:
        names = _names(value)
        unknown = [n for n in names if n.lower() not in known]
        if unknown:
            raise _Bad(f"no such set: {', '.join(repr(n) for n in unknown)}")
        if not names:
            raise _Bad("is empty: a requirement must belong to at least one set")
        return [known[n.lower()] for n in names]

    cleaners: dict[str, Callable[[Any], Any]] = {
        "title": _name,
        "description": _text,
        "position": _required(lambda v: _whole(v, minimum=1, why=_PLACE)),
        "sets": sets_cell,
    }
    if state.get("deleted_rows"):
        rows = ", ".join(str(int(r) + 1) for r in state["deleted_rows"])
        errors.append(
            CellError(0, "", "Rows", f"{rows} cannot be deleted: requirements are not deleted here")
        )
    edited = _edited_rows(state)
    places: dict[int, int] = {}  # requirement id -> its new place
    leaving: set[int] = set()  # requirements taken out of this set
    checked: set[int] = set()  # requirements whose row version a step already carries
    for pos, edits in sorted(edited.items()):
        original = frame.iloc[pos]
        where = (pos + 1, str(original["title"]))
        clean, bad = _clean_cells(_changed(edits, original, columns), cleaners, where)
        errors.extend(bad)
        if bad or not clean:
            continue
        requirement_id = int(original["requirement_id"])
        touched.append(requirement_id)
        seen = int(original["row_version"])
        place = clean.pop("position", None)
        sets = clean.pop("sets", None)
        if clean:
            kwargs = {"requirement_id": requirement_id, "expected_row_version": seen, "changes": clean}
            steps.append(Step(*where, update_requirement, kwargs))
            checked.add(requirement_id)
        if sets is not None:
            kwargs = {
                "requirement_id": requirement_id,
                "sets": sets,
                "expected_row_version": None if requirement_id in checked else seen,
            }
            steps.append(Step(*where, set_requirement_sets, kwargs))
            checked.add(requirement_id)
            if set_name not in sets:
                leaving.add(requirement_id)
                if place is not None:
                    why = "cannot be changed for a requirement taken out of this set"
                    errors.append(CellError(*where, REQUIREMENT_LABELS["position"], why))
                    continue
        if place is not None:
            places[requirement_id] = place
    steps += _move_steps(frame, set_id, places, leaving=leaving, checked=checked)
    added = [dict(r) for r in state.get("added_rows") or [] if any(norm(v) is not None for v in r.values())]
    cleaners["position"] = lambda v: _whole(v, minimum=1, why=_PLACE)
    creates: list[Step] = []
    for i, values in enumerate(added):
        where = (len(frame) + i + 1, f"new: {norm(values.get('title')) or 'no title'}")
        raw = {c: values.get(c) for c in columns}
        raw["sets"] = raw["sets"] if _names(raw["sets"]) else [set_name]
        clean, bad = _clean_cells(raw, cleaners, where)
        errors.extend(bad)
        if not bad:
            creates.append(Step(*where, create_requirement, clean))
    creates.sort(key=lambda step: step.kwargs.get("position") or math.inf)  # each lands at its place
    errors.extend(_title_clashes(frame, edited, added, titles))
    return Plan(
        (*steps, *creates),
        tuple(sorted(errors, key=lambda e: e.row)),
        tuple(touched),
        len(added),
        REQUIREMENT_LABELS,
        moves=bool(places),
    )


_PLACE = "must be a whole number, 1 or more (a place past the last: at the end)"


def _move_steps(
    frame: pd.DataFrame, set_id: int, places: Mapping[int, int], *, leaving: Set[int], checked: Set[int]
) -> list[Step]:
    """``set_requirement_position`` calls giving the requirements of ``places`` their new places
    among those staying in the set; each carries the row version read unless an earlier call of
    its row (``checked``) did."""
    ids = [int(i) for i in frame["requirement_id"]]
    rows = {i: (pos + 1, str(title)) for pos, (i, title) in enumerate(zip(ids, frame["title"], strict=True))}
    seen = {i: int(v) for i, v in zip(ids, frame["row_version"], strict=True)}
    steps: list[Step] = []
    for requirement_id, place in moves([i for i in ids if i not in leaving], places):
        kwargs = {
            "set_id": set_id,
            "requirement_id": requirement_id,
            "position": place,
            "expected_row_version": None if requirement_id in checked else seen[requirement_id],
        }
        steps.append(Step(*rows[requirement_id], set_requirement_position, kwargs))
    return steps


def moves(order: Sequence[int], places: Mapping[int, int]) -> list[tuple[int, int]]:
    """The (id, 1-based place) moves that bring ``order`` to where each id of ``places`` sits at
    its place (past the end: at the end; two at one place: in their order in ``order``) and the
    others keep their order. Only ids of ``places`` move, each at most once: in the order of the
    result, each goes right after the id that precedes it there."""
    final = [i for i in order if i not in places]
    # by place; at one place the later row first, so that the earlier one ends up before it
    for i in sorted(places, key=lambda i: (places[i], -list(order).index(i))):
        final.insert(min(places[i], len(final) + 1) - 1, i)
    current = list(order)
    out: list[tuple[int, int]] = []
    for k, i in enumerate(final):
        if i not in places:
            continue
        rest = [j for j in current if j != i]
        at = 0 if k == 0 else rest.index(final[k - 1]) + 1
        if current.index(i) != at:
            out.append((i, at + 1))
        rest.insert(at, i)
        current = rest
    return out


def _title_clashes(
    frame: pd.DataFrame,
    edited: Mapping[int, Mapping[str, Any]],
    added: Sequence[Mapping[str, Any]],
    titles: Mapping[int, str],
) -> list[CellError]:
    """Titles repeated in the grid, or taken by a requirement of another set (ignoring case)."""
    in_grid = {int(i) for i in frame["requirement_id"]}
    final = _final(frame, edited, added, "title")
    errors = grids.duplicates(final, REQUIREMENT_LABELS["title"])
    elsewhere = {t.lower(): t for i, t in titles.items() if i not in in_grid}
    for row, label, title in final:
        if isinstance(title, str) and title.strip().lower() in elsewhere:
            why = f"{title.strip()!r} is already the title of a requirement of another set"
            errors.append(CellError(row, label, REQUIREMENT_LABELS["title"], why))
    return errors


# --- saving ---------------------------------------------------------------------------------------


def stale_rows(
    original: pd.DataFrame, current: pd.DataFrame, *, key: str, ids: Sequence[int], compare: Sequence[str]
) -> list[str]:
    """The edited rows (``ids`` in column ``key``) whose ``compare`` columns changed, or that
    vanished, since the grid read them; named as "row N (first compared value)"."""
    now = {int(r[key]): r for _, r in current.iterrows()}
    out: list[str] = []
    for pos, (_, row) in enumerate(original.iterrows()):
        fresh = now.get(int(row[key]))
        if int(row[key]) in ids and (fresh is None or not all(same(row[c], fresh[c]) for c in compare)):
            out.append(f"row {pos + 1} ({row[compare[0]]})")
    return out


def run_steps(session: Session, actor: Actor, change_set: ChangeSet | None, plan: Plan) -> int:
    """Call the plan's services in order; a refusal names the row and the column it concerns."""
    for step in plan.steps:
        try:
            step.service(session, actor=actor, change_set=change_set, **step.kwargs)
        except StaleWrite as error:
            raise StaleRows([f"row {step.row} ({step.label})"]) from error
        except PermissionDenied:
            raise
        except PanopticumError as error:
            column = _ERROR_FIELDS.get(error.field or "", error.field or "")
            where = CellError(step.row, step.label, plan.labels.get(column, column or "row"), str(error))
            raise GridRefused([where]) from error
    return len(plan.steps)


def save(
    plan: Plan,
    *,
    original: pd.DataFrame,
    current: Callable[[Connection], pd.DataFrame],
    key: str,
    compare: Sequence[str],
    summary: str,
    order: str = "the order of the rows",
) -> actions.Outcome:
    """One transaction, one change set: refuse if an edited row is stale (its ``compare`` columns
    differ in ``current``, read in the same transaction) or, when the plan moves rows, if the rows
    (``key``) are no longer in the order read (named ``order``); else run the plan."""

    def steps(session: Session, actor: Actor, change_set: ChangeSet | None) -> int:
        fresh = current(session.connection())
        stale = stale_rows(original, fresh, key=key, ids=plan.touched, compare=compare)
        if plan.moves and [int(i) for i in original[key]] != [int(i) for i in fresh[key]]:
            stale.append(order)
        if stale:
            raise StaleRows(stale)
        return run_steps(session, actor, change_set, plan)

    return actions.perform_steps(steps, summary=summary)


# --- Streamlit state: frozen grids, save callbacks, results ----------------------------------------

_GRIDS = "_admin_requirements_grids"
_GENERATION = "_admin_requirements_generation"
_RESULTS = "_admin_requirements_results"


@dataclass(frozen=True)
class Grid:
    frame: pd.DataFrame
    version: int
    key: str


@dataclass(frozen=True)
class Result:
    ok: bool
    messages: tuple[str, ...]


@st.cache_data(show_spinner=False, max_entries=4)
def read_sets(url: str, version: int) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return queries.list_requirement_sets(conn)


@st.cache_data(show_spinner=False, max_entries=4)
def read_requirements(url: str, version: int) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return queries.list_requirements(conn)


def grid(name: str, load: Callable[[str, int], pd.DataFrame]) -> Grid:
    """The frame the grid ``name`` edits, frozen while its editor holds edits; reloaded when the
    registry changed and there is nothing to lose."""
    grids: dict[str, Grid] = st.session_state.setdefault(_GRIDS, {})
    url, version = cached.key()
    current = grids.get(name)
    if current is None or (current.version != version and not has_edits(st.session_state.get(current.key))):
        generation = st.session_state.setdefault(_GENERATION, {})
        generation[name] = generation.get(name, -1) + 1
        current = grids[name] = Grid(load(url, version), version, f"admin_{name}_editor_{generation[name]}")
    return current


def discard(name: str) -> None:
    """Forget the grid's frame and edits: the next run reads afresh into a new editor."""
    frozen = st.session_state.get(_GRIDS, {}).pop(name, None)
    if frozen is not None:
        st.session_state.pop(frozen.key, None)


def result(name: str) -> Result | None:
    return st.session_state.get(_RESULTS, {}).get(name)


def _finish(name: str, plan: Plan, run: Callable[[], actions.Outcome], done: str) -> None:
    results = st.session_state.setdefault(_RESULTS, {})
    if plan.errors:
        results[name] = Result(False, ("Nothing was saved. Fix these cells:", *map(str, plan.errors)))
        return
    if not plan.steps:
        results[name] = Result(True, ("Nothing to save: no cell was changed.",))
        return
    outcome = run()
    if outcome.ok:
        discard(name)
        results[name] = Result(True, (done,))
    elif isinstance(outcome.error, GridRefused):
        results[name] = Result(False, ("Nothing was saved:", *map(str, outcome.error.cells)))
    else:
        results[name] = Result(False, (outcome.message,))


def sets_grid() -> Grid:
    return grid("sets", lambda url, version: sets_frame(read_sets(url, version)))


def save_sets() -> None:
    """Form callback of the sets grid."""
    g = sets_grid()
    plan = plan_sets(g.frame, st.session_state.get(g.key) or {})
    changed = len(plan.touched)

    def run() -> actions.Outcome:
        return save(
            plan,
            original=g.frame,
            current=lambda conn: sets_frame(queries.list_requirement_sets(conn)),
            key="set_id",
            compare=(*SET_LABELS, "row_version"),  # not the requirement count: adding one is no conflict
            summary=f"requirement sets: {changed} changed, {plan.added} added",
        )

    _finish("sets", plan, run, f"Saved the requirement sets: {changed} changed, {plan.added} added.")


def requirements_grid(set_id: int) -> Grid:
    return grid(
        f"requirements_{set_id}",
        lambda url, version: requirements_frame(read_requirements(url, version), set_id),
    )


def save_requirements(set_id: int, set_name: str) -> None:
    """Form callback of the requirements grid of one set."""
    g = requirements_grid(set_id)
    url, version = cached.key()
    everything = read_requirements(url, version)
    plan = plan_requirements(
        g.frame,
        st.session_state.get(g.key) or {},
        set_id=set_id,
        set_name=set_name,
        set_names=list(read_sets(url, version)["name"]),
        titles=dict(zip(everything["requirement_id"].astype(int), everything["title"], strict=True)),
    )
    changed = len(plan.touched)

    def run() -> actions.Outcome:
        return save(
            plan,
            original=g.frame,
            current=lambda conn: requirements_frame(queries.list_requirements(conn), set_id),
            key="requirement_id",
            compare=("title", "row_version"),  # a requirement's sets and places move it on too
            summary=f"requirements of {set_name}: {changed} changed, {plan.added} added",
            order=f"the order of {set_name}",
        )

    done = f"Saved the requirements of {set_name}: {changed} changed, {plan.added} added."
    _finish(f"requirements_{set_id}", plan, run, done)


@st.cache_data(show_spinner=False, max_entries=4)
def read_groups(url: str, version: int) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return list_groups(conn)


def signer_group_options(frame: pd.DataFrame) -> list[str]:
    """Every person group by name, and any group the frozen ``frame`` names that is gone since."""
    names = [str(n) for n in read_groups(*cached.key())["name"]]
    known = {n.lower() for n in names}
    gone = {
        str(g) for groups in frame["signer_groups"] for g in (groups or []) if str(g).lower() not in known
    }
    return sorted([*names, *gone], key=str.lower)


# --- layout pieces --------------------------------------------------------------------------------

SET_ORDER = (
    "set_id",
    "name",
    "position",
    "ui_slot",
    "validity_days",
    "signer_groups",
    "requirements",
    "doc_link",
    "description",
)
REQUIREMENT_ORDER = ("requirement_id", "title", "position", "description", "sets")


def sets_columns(groups: Sequence[str]) -> dict[str, Any]:
    cc = st.column_config
    return {
        "set_id": cc.NumberColumn("Id", disabled=True, width="small"),
        "name": cc.TextColumn(SET_LABELS["name"], required=True, max_chars=128),
        "position": cc.NumberColumn(
            SET_LABELS["position"], step=1, format="%d", help="Sets are listed in this order"
        ),
        "description": cc.TextColumn(SET_LABELS["description"], width="large", help="Markdown"),
        "doc_link": cc.LinkColumn(SET_LABELS["doc_link"], validate=r"^https?://\S+$", help="An http(s) link"),
        "signer_groups": cc.MultiselectColumn(
            SET_LABELS["signer_groups"],
            options=list(groups),
            help="Members of these groups sign the set off (groups are kept on the people admin page)",
        ),
        "ui_slot": cc.NumberColumn(
            SET_LABELS["ui_slot"],
            min_value=0,
            step=1,
            format="%d",
            help="Where its card goes on the component page",
        ),
        "validity_days": cc.NumberColumn(
            SET_LABELS["validity_days"],
            min_value=1,
            step=1,
            format="%d",
            help="Empty: a sign-off never expires",
        ),
        "requirements": cc.NumberColumn("Requirements", disabled=True, width="small"),
    }


def requirements_columns(set_names: Sequence[str]) -> dict[str, Any]:
    cc = st.column_config
    return {
        "requirement_id": cc.NumberColumn("Id", disabled=True, width="small"),
        "title": cc.TextColumn(REQUIREMENT_LABELS["title"], required=True, max_chars=128),
        "position": cc.NumberColumn(
            REQUIREMENT_LABELS["position"],
            min_value=1,
            step=1,
            format="%d",
            help="The place in the set: change it to move the requirement, the others keep their order "
            "(past the last: at the end; new ones: empty means at the end)",
        ),
        "description": cc.TextColumn(REQUIREMENT_LABELS["description"], width="large", help="Markdown"),
        "sets": cc.MultiselectColumn(
            REQUIREMENT_LABELS["sets"], options=list(set_names), help="New requirements: empty means this set"
        ),
    }


def set_picker(names: Sequence[str]) -> str | None:
    """The set whose description and requirements are shown, bound to ``?set=<name>``."""
    if not names:
        return None
    wanted = st.query_params.get("set")
    index = list(names).index(wanted) if wanted is not None and wanted in names else 0

    def go() -> None:
        st.query_params["set"] = st.session_state["admin_set_picker"]

    chosen: str | None = st.selectbox(
        "Requirement set", list(names), index=index, key="admin_set_picker", on_change=go
    )
    return chosen


def show(name: str) -> None:
    """The outcome of the grid's last save: each refused cell on its own line."""
    outcome = result(name)
    if outcome is None:
        return
    head, *rest = (md_text(m) for m in outcome.messages)
    text = "\n".join([head, *(f"- {line}" for line in rest)])
    if outcome.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error(text, icon=":material/error:")


def reload_button(name: str, g: Grid) -> None:
    """Discard the grid's edits and read afresh (the one way out after a refused save)."""
    newer = g.version != cached.key()[1]
    if newer:
        st.caption("The registry changed since this grid was loaded.")
    st.button(
        "Reload (discard my edits)",
        key=f"reload_{name}",
        on_click=_reload,
        args=(name,),
        icon=":material/refresh:",
    )


def _reload(name: str) -> None:
    discard(name)
    st.session_state.get(_RESULTS, {}).pop(name, None)
