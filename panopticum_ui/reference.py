"""Admin: reference data ("wheels") edited in grids — the page model behind views/reference.py.

One generic grid for every table of ``models.REFERENCE_MODELS``, its columns taken from the
schema: the name, plain fields (text, whole numbers, ports, links) and parent references (a
subcategory's category, a product version's family) shown by name in select boxes, plus a read-only
"used by" count (``queries.list_reference``: every referencing table counted in one query).

A save turns the editor's state into typed service calls (:func:`plan`): every changed cell is
validated first, and any invalid cell means nothing is called, each bad cell named (row, column,
why). :func:`save` then runs the calls in ONE transaction and ONE change set, after checking that
no edited or deleted row changed since the grid was read (reference rows carry no row version: the
values as read are compared). Each call runs in a savepoint so that every refused row is reported
(a deletion of a row in use, with the service's reason); any refusal rolls the whole save back.
The editor keeps what was typed until a save succeeds or the admin reloads.

Merging (two rows into one) goes through ``merge_reference`` after a confirmation dialog.
The grid logic is kept here (no shared grid module existed when this was written).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import Connection, Integer, String, Text
from sqlalchemy.orm import Session

from panopticum_data import queries
from panopticum_data.db import read_connection
from panopticum_data.errors import InUse, PanopticumError, PermissionDenied
from panopticum_data.models import REFERENCE_MODELS, ChangeSet
from panopticum_data.services import (
    Actor,
    create_reference,
    delete_reference,
    merge_reference,
    reference_usage,
    update_reference,
)

from . import actions, cached
from .style import md_text

# --- the tables and their columns -----------------------------------------------------------------

GROUPS: dict[str, tuple[str, ...]] = {
    "Components": ("category", "subcategory", "component_type", "privacy_class", "location_class", "tag"),
    "Technology": ("language", "framework", "runtime", "orm", "logger", "database_vendor"),
    "Products": ("product_family", "product_version"),
    "Deployments": ("environment", "data_center", "tcp_port"),
    "Suppliers and documents": ("vendor", "document_type"),
    "People": ("organisation", "department", "job_role"),
}
TITLES = {
    "category": "Categories",
    "subcategory": "Subcategories",
    "component_type": "Component types",
    "privacy_class": "Privacy classes",
    "location_class": "Location classes",
    "tag": "Tags",
    "language": "Languages",
    "framework": "Frameworks",
    "runtime": "Runtimes",
    "orm": "ORMs",
    "logger": "Loggers",
    "database_vendor": "Databases",
    "product_family": "Product families",
    "product_version": "Product versions",
    "environment": "Environments",
    "data_center": "Data centres",
    "tcp_port": "Ports",
    "vendor": "Vendors",
    "document_type": "Document types",
    "organisation": "Organisations",
    "department": "Departments",
    "job_role": "Job roles",
}
TABLES: tuple[str, ...] = tuple(t for group in GROUPS.values() for t in group)
_LABELS = {
    "position": "Order",
    "shortname": "Short name",
    "grafana_url": "Grafana link",
    "metrics_url": "Metrics link",
    "family": "Product family",
    "used_by": "Used by",
}
_UNSAFE_LINK = re.compile(r"^\s*(javascript|data|vbscript|file):", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """An editable column: its service field (a parent by name under the key's name without ``_id``)."""

    name: str
    kind: str  # "name", "text", "int", "port", "link" or "parent"
    required: bool  # a value must stay (NOT NULL)
    has_default: bool = False  # a new row may leave it empty
    max_length: int | None = None
    parent: str | None = None  # the parent's table

    @property
    def label(self) -> str:
        return _LABELS.get(self.name, self.name.replace("_", " ").capitalize())


def fields(table: str) -> tuple[Field, ...]:
    """The editable columns of a reference table, from the schema (``name`` first)."""
    out: list[Field] = []
    for col in REFERENCE_MODELS[table].__table__.columns:
        if col.name == "id":
            continue
        required = not col.nullable
        has_default = col.default is not None or col.server_default is not None
        length = col.type.length if isinstance(col.type, String) and not isinstance(col.type, Text) else None
        if col.foreign_keys:
            parent = next(iter(col.foreign_keys)).column.table.name
            out.append(Field(col.name.removesuffix("_id"), "parent", required, has_default, parent=parent))
        elif col.name == "name":
            out.insert(0, Field("name", "name", True, max_length=length))
        elif isinstance(col.type, Integer):
            kind = "port" if col.name == "port" else "int"
            out.append(Field(col.name, kind, required, has_default))
        else:
            kind = "link" if col.name.endswith("_url") else "text"
            out.append(Field(col.name, kind, required, has_default, max_length=length))
    return tuple(out)


def labels(table: str) -> dict[str, str]:
    return {f.name: f.label for f in fields(table)}


# --- cell values ----------------------------------------------------------------------------------


def norm(value: Any) -> Any:
    """A cell value without pandas' flavours: NaN / NA / blank text -> None, numpy scalars -> Python."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return norm(value.item())
    if isinstance(value, str) and not value.strip():
        return None
    return value


def same(old: Any, new: Any) -> bool:
    old, new = norm(old), norm(new)
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(new, bool):
        return float(old) == float(new)
    return bool(old == new)


class _Bad(ValueError):
    """An invalid cell value; the message says why."""


def clean(f: Field, value: Any, parents: Sequence[str]) -> Any:
    """The typed value of a cell (None for empty), or ``_Bad`` saying why it cannot be saved."""
    value = norm(value)
    if value is None:
        if f.required:
            raise _Bad("is empty: give a name" if f.kind == "name" else "is empty: give a value")
        return None
    if f.kind == "int" or f.kind == "port":
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise _Bad(f"{value!r} is not a whole number")
        if f.kind == "port" and not 1 <= value <= 65535:
            raise _Bad(f"{int(value)} is not a port: give a number from 1 to 65535")
        return int(value)
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not a text")
    if f.kind == "parent":
        known = {p.lower(): p for p in parents}
        if value.strip().lower() not in known:
            raise _Bad(f"no such {f.label.lower()} {value.strip()!r}: pick one from the list")
        return known[value.strip().lower()]
    text = value.strip() if f.kind in ("name", "link") or f.max_length else value
    if f.max_length is not None and len(text) > f.max_length:
        raise _Bad(f"is longer than {f.max_length} characters")
    if f.kind == "name" and ("\n" in text or "\r" in text):
        raise _Bad("must be a single line")
    if f.kind == "link" and (any(ch.isspace() for ch in text) or _UNSAFE_LINK.match(text)):
        raise _Bad(f"{text!r} is not a link: write it as https://… without spaces")
    return text


# --- the frame a grid edits -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A table as the grid shows it (parents by name) and the names each parent column offers."""

    frame: pd.DataFrame
    parents: Mapping[str, tuple[str, ...]]


def read_rows(conn: Connection, table: str) -> Rows:
    """``id``, the editable columns and ``used_by`` (three queries at most: the table, its parent)."""
    raw = queries.list_reference(conn, table)
    out = pd.DataFrame({"id": pd.array([int(v) for v in raw["id"]], dtype="Int64")})
    parents: dict[str, tuple[str, ...]] = {}
    for f in fields(table):
        if f.parent is not None:
            options = queries.list_reference(conn, f.parent)
            names = dict(zip((int(i) for i in options["id"]), options["name"], strict=True))
            parents[f.name] = tuple(str(n) for n in options["name"])
            out[f.name] = [names.get(int(v)) if norm(v) is not None else None for v in raw[f"{f.name}_id"]]
        elif f.kind in ("int", "port"):
            out[f.name] = pd.array([norm(v) for v in raw[f.name]], dtype="Int64")
        else:
            out[f.name] = pd.Series([norm(v) for v in raw[f.name]], dtype=object)
    out["used_by"] = pd.array([int(v) for v in raw["used_by"]], dtype="Int64")
    return Rows(out, parents)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_rows(url: str, version: int, table: str) -> Rows:
    with read_connection(cached.engine(url)) as conn:
        return read_rows(conn, table)


# --- plans: the editor's state -> validated service calls -----------------------------------------


@dataclass(frozen=True)
class CellError:
    """One refused cell: ``row`` counts from 1 as the grid shows it; ``label`` names the row."""

    row: int
    label: str
    column: str
    reason: str

    def __str__(self) -> str:
        return f"Row {self.row} ({self.label}), {self.column}: {self.reason}"


@dataclass(frozen=True)
class Step:
    """One service call of a save, with the grid row it comes from (for messages)."""

    row: int
    label: str
    service: Callable[..., Any]
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    """What a save does. ``touched``: ids of the rows edited or deleted (checked for staleness)."""

    steps: tuple[Step, ...] = ()
    errors: tuple[CellError, ...] = ()
    touched: tuple[int, ...] = ()
    counts: tuple[int, int, int] = (0, 0, 0)  # added, changed, deleted

    def describe(self) -> str:
        added, changed, deleted = self.counts
        return f"{added} added, {changed} changed, {deleted} deleted"


def _clean_row(
    table: str, values: Mapping[str, Any], parents: Mapping[str, Sequence[str]], where: tuple[int, str]
) -> tuple[dict[str, Any], list[CellError]]:
    by_name = {f.name: f for f in fields(table)}
    out: dict[str, Any] = {}
    errors: list[CellError] = []
    for column, value in values.items():
        f = by_name[column]
        try:
            out[column] = clean(f, value, parents.get(column, ()))
        except _Bad as bad:
            errors.append(CellError(where[0], where[1], f.label, str(bad)))
    return out, errors


def plan(
    table: str, frame: pd.DataFrame, state: Mapping[str, Any], parents: Mapping[str, Sequence[str]]
) -> Plan:
    """Deletions first (so a new row may take a deleted one's name), then edits, then new rows."""
    editable = [f.name for f in fields(table)]
    deleted = sorted({int(r) for r in state.get("deleted_rows") or []})
    edited = {int(k): dict(v) for k, v in (state.get("edited_rows") or {}).items() if int(k) not in deleted}
    added = [dict(r) for r in state.get("added_rows") or [] if any(norm(v) is not None for v in r.values())]
    steps: list[Step] = []
    errors: list[CellError] = []
    touched: list[int] = []
    for pos in deleted:
        row = frame.iloc[pos]
        touched.append(int(row["id"]))
        steps.append(Step(pos + 1, str(row["name"]), delete_reference, {"table": table, "name": row["name"]}))
    for pos, edits in sorted(edited.items()):
        row = frame.iloc[pos]
        where = (pos + 1, str(row["name"]))
        changed = {c: v for c, v in edits.items() if c in editable and not same(row[c], v)}
        values, bad = _clean_row(table, changed, parents, where)
        errors.extend(bad)
        if values and not bad:
            touched.append(int(row["id"]))
            kwargs = {"table": table, "name": row["name"], "changes": values}
            steps.append(Step(*where, update_reference, kwargs))
    required = [f.name for f in fields(table) if f.required and not f.has_default]
    for i, values in enumerate(added):
        where = (len(frame) + i + 1, f"new: {norm(values.get('name')) or 'no name'}")
        raw = {c: values.get(c) for c in editable if c in values or c in required}
        cells, bad = _clean_row(table, raw, parents, where)
        errors.extend(bad)
        if not bad:
            name = cells.pop("name")
            rest = {k: v for k, v in cells.items() if v is not None}
            steps.append(Step(*where, create_reference, {"table": table, "name": name, **rest}))
    errors.extend(_duplicates(frame, edited, added, deleted))
    updates = sum(1 for s in steps if s.service is update_reference)
    return Plan(
        tuple(steps),
        tuple(sorted(errors, key=lambda e: e.row)),
        tuple(touched),
        (len(added), updates, len(deleted)),
    )


def _duplicates(
    frame: pd.DataFrame,
    edited: Mapping[int, Mapping[str, Any]],
    added: Sequence[Mapping[str, Any]],
    deleted: Sequence[int],
) -> list[CellError]:
    """Names repeated once the edits are applied (ignoring case): every later row is named."""
    final = [
        (pos + 1, str(name), edited.get(pos, {}).get("name", name))
        for pos, name in enumerate(frame["name"])
        if pos not in deleted
    ]
    final += [(len(frame) + i + 1, f"new: {norm(v.get('name'))}", v.get("name")) for i, v in enumerate(added)]
    seen: dict[str, int] = {}
    errors: list[CellError] = []
    for row, label, name in final:
        if not isinstance(name, str) or not name.strip():
            continue
        key = name.strip().lower()
        if key in seen:
            why = f"{name.strip()!r} is already the name of row {seen[key]} (names are unique, ignoring case)"
            errors.append(CellError(row, label, "Name", why))
        else:
            seen[key] = row
    return errors


# --- saving ---------------------------------------------------------------------------------------


class GridRefused(PanopticumError):
    """Rows the data layer refused during a save (the transaction was rolled back)."""

    def __init__(self, cells: Sequence[CellError]) -> None:
        super().__init__("; ".join(map(str, cells)))
        self.cells = tuple(cells)


class StaleRows(PanopticumError):
    """Rows someone else saved after this grid read them: the save was refused as a whole."""

    def __init__(self, rows: Sequence[str]) -> None:
        super().__init__(
            f"Someone else changed {', '.join(rows)} since this grid was loaded, so nothing was "
            "saved. Your edits are still in the grid: reload to see the other change, then apply "
            "yours again."
        )
        self.rows = tuple(rows)


def stale_rows(
    original: pd.DataFrame, current: pd.DataFrame, ids: Sequence[int], columns: Sequence[str]
) -> list[str]:
    """The rows (``ids``) whose ``columns`` differ in ``current``, or that are gone: "row N (name)"."""
    now = {int(r["id"]): r for _, r in current.iterrows()}
    out: list[str] = []
    for pos, (_, row) in enumerate(original.iterrows()):
        ident = int(row["id"])
        if ident in ids:
            fresh = now.get(ident)
            if fresh is None or not all(same(row[c], fresh[c]) for c in columns):
                out.append(f"row {pos + 1} ({row['name']})")
    return out


def _run(
    session: Session,
    actor: Actor,
    change_set: ChangeSet | None,
    steps: Sequence[Step],
    labels: Mapping[str, str],
) -> None:
    """Each call in a savepoint, so that every refused row is reported; any refusal -> GridRefused."""
    refused: list[CellError] = []
    for step in steps:
        try:
            with session.begin_nested():
                step.service(session, actor=actor, change_set=change_set, **step.kwargs)
        except PermissionDenied:
            raise
        except PanopticumError as error:
            column = "Delete" if step.service is delete_reference else labels.get(error.field or "", "Row")
            reason = str(error)
            if isinstance(error, InUse):
                reason += " (merge it into another row instead)"
            refused.append(CellError(step.row, step.label, column, reason))
    if refused:
        raise GridRefused(refused)


def save_plan(table: str, p: Plan, original: pd.DataFrame) -> actions.Outcome:
    """One transaction, one change set: refuse stale rows (read again in the same transaction), else
    run the plan. The outcome's value is the change set's id."""
    columns = [f.name for f in fields(table)]

    def steps(session: Session, actor: Actor, change_set: ChangeSet | None) -> int | None:
        fresh = read_rows(session.connection(), table).frame
        stale = stale_rows(original, fresh, p.touched, columns)
        if stale:
            raise StaleRows(stale)
        _run(session, actor, change_set, p.steps, labels(table))
        return None if change_set is None else int(change_set.id)

    return actions.perform_steps(steps, summary=f"{table}: {p.describe()}")


# --- Streamlit state: frozen grids, save callback, results ---------------------------------------

_GRIDS = "_reference_grids"
_GENERATION = "_reference_generation"
_RESULTS = "_reference_results"
_MERGE = "_reference_merge"


@dataclass(frozen=True)
class Grid:
    rows: Rows
    version: int
    key: str

    @property
    def frame(self) -> pd.DataFrame:
        return self.rows.frame


@dataclass(frozen=True)
class Result:
    ok: bool
    messages: tuple[str, ...]
    events: pd.DataFrame | None = None


def has_edits(state: Mapping[str, Any] | None) -> bool:
    return bool(state) and any(state.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))  # type: ignore[union-attr]


def grid(table: str) -> Grid:
    """The rows the table's grid edits, frozen while its editor holds edits; read afresh when the
    registry changed and nothing typed would be lost."""
    grids: dict[str, Grid] = st.session_state.setdefault(_GRIDS, {})
    url, version = cached.key()
    current = grids.get(table)
    if current is None or (current.version != version and not has_edits(st.session_state.get(current.key))):
        generation = st.session_state.setdefault(_GENERATION, {})
        generation[table] = generation.get(table, -1) + 1
        key = f"reference_{table}_editor_{generation[table]}"
        current = grids[table] = Grid(cached_rows(url, version, table), version, key)
    return current


def discard(table: str) -> None:
    frozen = st.session_state.get(_GRIDS, {}).pop(table, None)
    if frozen is not None:
        st.session_state.pop(frozen.key, None)


def result(table: str) -> Result | None:
    return st.session_state.get(_RESULTS, {}).get(table)


def _set_result(table: str, outcome: Result) -> None:
    st.session_state.setdefault(_RESULTS, {})[table] = outcome


def save(table: str) -> None:
    """Form callback of a table's grid."""
    g = grid(table)
    p = plan(table, g.frame, st.session_state.get(g.key) or {}, g.rows.parents)
    title = TITLES[table]
    if p.errors:
        _set_result(table, Result(False, ("Nothing was saved. Fix these cells:", *map(str, p.errors))))
        return
    if not p.steps:
        _set_result(table, Result(True, ("Nothing to save: no cell was changed.",)))
        return
    outcome = save_plan(table, p, g.frame)
    if outcome.ok:
        discard(table)
        done = f"Saved {title.lower()}: {p.describe()} (change set {outcome.value})."
        _set_result(table, Result(True, (done,)))
    elif isinstance(outcome.error, GridRefused):
        _set_result(table, Result(False, ("Nothing was saved:", *map(str, outcome.error.cells))))
    else:
        _set_result(table, Result(False, (outcome.message,)))


# --- merging --------------------------------------------------------------------------------------


def usage(table: str, name: str) -> dict[str, int]:
    """Who points at the row (``table.column`` -> rows); read in a session that writes nothing."""
    with Session(cached.current_engine()) as session:
        return reference_usage(session, table=table, name=name)


def usage_frame(counts: Mapping[str, int]) -> pd.DataFrame:
    pairs = [where.split(".", 1) for where in counts]
    return pd.DataFrame(
        {
            "Table": [t.replace("_", " ") for t, _ in pairs],
            "Field": [c.removesuffix("_id").replace("_", " ") for _, c in pairs],
            "Rows": list(counts.values()),
        }
    )


def open_merge(table: str, source: str | None, target: str | None) -> None:
    if source and target:
        st.session_state[_MERGE] = (table, source, target)


def close_merge() -> None:
    st.session_state.pop(_MERGE, None)


def pending_merge(table: str) -> tuple[str, str] | None:
    pending = st.session_state.get(_MERGE)
    return (pending[1], pending[2]) if pending and pending[0] == table else None


def merge(table: str, source: str, target: str) -> None:
    """Merge in one transaction and change set; the result holds that change set's events."""
    close_merge()
    for side in ("source", "target"):
        st.session_state.pop(f"merge_{side}_{table}", None)

    def steps(session: Session, actor: Actor, change_set: ChangeSet | None) -> int:
        merge_reference(
            session, actor=actor, table=table, source=source, target=target, change_set=change_set
        )
        assert change_set is not None
        return int(change_set.id)

    outcome = actions.perform_steps(steps, summary=f"merge {table} {source} into {target}")
    if not outcome.ok:
        _set_result(table, Result(False, (f"Nothing was merged: {outcome.message}",)))
        return
    with read_connection(cached.current_engine()) as conn:
        events = queries.list_audit(conn, change_set_id=outcome.value)
    moved = events[(events["action"] == "update")]
    summary = ", ".join(
        f"{n} {entity.replace('_', ' ')} row{'s' if n != 1 else ''}"
        for entity, n in moved.groupby("entity").size().items()
    )
    text = (
        f"Merged {source} into {target} (change set {outcome.value}, {len(events)} audit events): "
        f"{summary or 'no row referred to it'} moved; {source} was deleted."
    )
    _set_result(table, Result(True, (text,), events))


# --- layout pieces --------------------------------------------------------------------------------


def column_order(table: str) -> tuple[str, ...]:
    return ("id", *(f.name for f in fields(table)), "used_by")


def columns(table: str, parents: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    cc = st.column_config
    config: dict[str, Any] = {
        "id": cc.NumberColumn("Id", disabled=True, width="small"),
        "used_by": cc.NumberColumn(
            "Used by", disabled=True, width="small", help="Rows of other tables that refer to this one"
        ),
    }
    for f in fields(table):
        required = f.required and not f.has_default
        if f.kind == "parent":
            config[f.name] = cc.SelectboxColumn(
                f.label, options=list(parents.get(f.name, ())), required=required
            )
        elif f.kind == "port":
            config[f.name] = cc.NumberColumn(
                f.label, min_value=1, max_value=65535, step=1, format="%d", required=True
            )
        elif f.kind == "int":
            config[f.name] = cc.NumberColumn(f.label, step=1, format="%d")
        elif f.kind == "link":
            config[f.name] = cc.LinkColumn(f.label, validate=r"^https?://\S+$")
        else:
            config[f.name] = cc.TextColumn(
                f.label,
                required=required,
                max_chars=f.max_length,
                width="large" if f.kind == "text" and f.max_length is None else "medium",
            )
    return config


def table_picker() -> str:
    """The table shown, bound to ``?table=<name>`` (an unknown name falls back to the first)."""
    wanted = st.query_params.get("table")
    if wanted is not None and wanted not in TABLES:
        st.warning(f"No reference table {md_text(wanted)}.", icon=":material/search_off:")
    elif wanted is not None and st.session_state.get("reference_table") != wanted:
        st.session_state["reference_table"] = wanted  # a link typed or pasted in this session
    group_of = {t: g for g, tables in GROUPS.items() for t in tables}

    def go() -> None:
        st.query_params["table"] = st.session_state["reference_table"]

    chosen: str = st.selectbox(
        "Table",
        TABLES,
        key="reference_table",
        format_func=lambda t: f"{group_of[t]} › {TITLES[t]}",
        on_change=go,
    )
    if st.query_params.get("table") != chosen:
        st.query_params["table"] = chosen
    return chosen


def show(table: str) -> None:
    """The outcome of the last save or merge of this table: each refused cell on its own line."""
    outcome = result(table)
    if outcome is None:
        return
    head, *rest = (md_text(m) for m in outcome.messages)
    text = "\n".join([head, *(f"- {line}" for line in rest)])
    if outcome.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error(text, icon=":material/error:")
    if outcome.events is not None and len(outcome.events):
        with st.expander("The change set's audit events"):
            shown = outcome.events[
                ["entity", "entity_id", "component", "action", "field", "old_value", "new_value"]
            ]
            st.dataframe(shown, hide_index=True)


def reload_button(table: str, g: Grid) -> None:
    """Discard the grid's edits and read afresh (the way out after a refused save)."""
    if g.version != cached.key()[1]:
        st.caption("The registry changed since this grid was loaded.")
    st.button(
        "Reload (discard my edits)",
        key="reference_reload",
        on_click=_reload,
        args=(table,),
        icon=":material/refresh:",
    )


def _reload(table: str) -> None:
    discard(table)
    st.session_state.get(_RESULTS, {}).pop(table, None)
