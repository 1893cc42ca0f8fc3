"""Admin: reference data ("wheels") edited in grids — the page model behind views/reference.py.

One generic grid for every table of ``models.REFERENCE_MODELS``, its columns taken from the
schema: the name, plain fields (text, whole numbers, ports, links) and parent references (a
subcategory's category, a product version's family) shown by name in select boxes, plus a read-only
"used by" count (``queries.list_reference``: every referencing table counted in one query).

The generic grid machinery is ``panopticum_ui.grids`` (snapshot, diff by id, per-cell errors,
"reload and keep my edits"). A save turns the editor's state into typed service calls
(:func:`plan`): every changed cell is validated first, and any invalid cell means nothing is
called, each bad cell named (row, column, why). :func:`save` then runs the calls in ONE transaction
and ONE change set, after checking that no changed or deleted row changed since the grid was read
(reference rows carry no row version, so the values as read are compared, in the same
transaction). Each call runs in a savepoint so that every refused row is reported (a deletion of a
row in use, with the service's reason); any refusal rolls the whole save back.

Merging (two rows into one) goes through ``merge_reference`` after a confirmation dialog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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

from . import actions, cached, grids
from .grids import BadCell, CellError, GridRefused, Row, Snapshot, StaleRows, Step, norm, same
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


def clean(f: Field, value: Any, parents: Sequence[str]) -> Any:
    """The typed value of a cell (None for empty), or ``grids.BadCell`` saying why it cannot be saved."""
    value = norm(value)
    if value is None:
        if f.required:
            raise BadCell("is empty: give a name" if f.kind == "name" else "is empty: give a value")
        return None
    if f.kind == "int" or f.kind == "port":
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise BadCell(f"{value!r} is not a whole number")
        if f.kind == "port" and not 1 <= value <= 65535:
            raise BadCell(f"{int(value)} is not a port: give a number from 1 to 65535")
        return int(value)
    if not isinstance(value, str):
        raise BadCell(f"{value!r} is not a text")
    if f.kind == "parent":
        known = {p.lower(): p for p in parents}
        if value.strip().lower() not in known:
            raise BadCell(f"no such {f.label.lower()} {value.strip()!r}: pick one from the list")
        return known[value.strip().lower()]
    text = value.strip() if f.kind in ("name", "link") or f.max_length else value
    if f.max_length is not None and len(text) > f.max_length:
        raise BadCell(f"is longer than {f.max_length} characters")
    if f.kind == "name" and ("\n" in text or "\r" in text):
        raise BadCell("must be a single line")
    if f.kind == "link" and (any(ch.isspace() for ch in text) or _UNSAFE_LINK.match(text)):
        raise BadCell(f"{text!r} is not a link: write it as https://… without spaces")
    return text


# --- the frame a grid edits -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A table as the grid shows it (parents by name) and the names each parent column offers."""

    frame: pd.DataFrame
    parents: Mapping[str, tuple[str, ...]]


def read_rows(conn: Connection, table: str, *, for_update: bool = False) -> Rows:
    """``id``, the editable columns and ``used_by`` (two queries, three with a parent column).
    ``for_update``: the table's rows stay locked until the transaction ends (a save's stale check)."""
    raw = queries.list_reference(conn, table, for_update=for_update)
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
class Plan:
    """What a save does: ``steps`` (deletions, then changes, then new rows) or ``errors``;
    ``touched``: the rows changed or deleted, as read (id -> (row, label, values)), for the stale check."""

    steps: tuple[Step, ...] = ()
    errors: tuple[CellError, ...] = ()
    touched: Mapping[int, Row] = field(default_factory=dict)
    added: int = 0
    changed: int = 0
    deleted: int = 0

    def counts(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.deleted} deleted"


def _label(row: Mapping[str, Any]) -> str:
    return str(norm(row.get("name")) or "")


def plan(
    table: str,
    base: pd.DataFrame,
    shown: pd.DataFrame,
    state: Mapping[str, Any] | None,
    parents: Mapping[str, Sequence[str]],
) -> Plan:
    """The validated service calls that make the table what the grid shows. Deletions come first,
    so that a new row may take the name of a deleted one."""
    specs = fields(table)
    columns = [f.name for f in specs]
    lab = labels(table)
    edits = grids.diff(base, shown, state, key="id", columns=columns, label=_label)
    cleaners = {f.name: (lambda v, f=f: clean(f, v, parents.get(f.name, ()))) for f in specs}
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.deleted:
        steps.append(Step(row.pos, row.label, delete_reference, {"table": table, "name": row.base["name"]}))
    for row in edits.changed:
        values, bad = grids.clean_cells(row, cleaners, lab)
        errors.extend(bad)
        if not bad:
            kwargs = {"table": table, "name": row.base["name"], "changes": values}
            steps.append(Step(row.pos, row.label, update_reference, kwargs))
    fill = [f.name for f in specs if f.required and not f.has_default]  # checked even when left out
    for row in edits.added:
        typed = {c: v for c, v in row.values.items() if norm(v) is not None or c in fill}
        values, bad = grids.clean_cells(replace(row, values=typed), cleaners, lab)
        errors.extend(bad)
        if not bad:
            name = values.pop("name")
            rest = {k: v for k, v in values.items() if v is not None}
            steps.append(Step(row.pos, row.label, create_reference, {"table": table, "name": name, **rest}))
    final = grids.final_frame(shown, state)
    by_id = dict(zip(base["id"], base["name"], strict=True))
    named = [
        (pos, str(by_id.get(norm(r["id"]))) if norm(r["id"]) is not None else f"new: {_label(r)}", r["name"])
        for pos, r in enumerate(final.to_dict("records"), start=1)
    ]
    errors.extend(grids.duplicates(named, lab["name"]))
    touched = {r.id: r for r in (*edits.deleted, *edits.changed)}
    return Plan(
        tuple(steps),
        tuple(sorted(errors, key=lambda e: e.row)),
        touched,
        len(edits.added),
        sum(1 for s in steps if s.service is update_reference),
        len(edits.deleted),
    )


# --- saving ---------------------------------------------------------------------------------------


def stale_rows(touched: Mapping[int, Row], current: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The touched rows whose ``columns`` differ in ``current`` (or that are gone): "row N (name)"."""
    now = {int(r["id"]): r for r in current.to_dict("records")}
    out: list[str] = []
    for ident, row in touched.items():
        fresh = now.get(ident)
        if fresh is None or not all(same(row.base.get(c), fresh.get(c)) for c in columns):
            out.append(f"row {row.pos} ({row.label})")
    return out


def _run(session: Session, actor: Actor, change_set: ChangeSet | None, p: Plan, table: str) -> int | None:
    """Refuse stale rows (read again in this transaction, locked first: a concurrent save waits for
    this one, then compares with its values); then each call in a savepoint, so that every refused
    row is reported; any refusal -> GridRefused (the caller rolls back)."""
    columns = [f.name for f in fields(table)]
    stale = stale_rows(p.touched, read_rows(session.connection(), table, for_update=True).frame, columns)
    if stale:
        raise StaleRows(stale)
    lab = labels(table)
    refused: list[CellError] = []
    for step in p.steps:
        try:
            with session.begin_nested():
                step.service(session, actor=actor, change_set=change_set, **step.kwargs)
        except PermissionDenied:
            raise
        except PanopticumError as error:
            column = "Delete" if step.service is delete_reference else lab.get(error.field or "", "Row")
            reason = str(error) + (" (merge it into another row instead)" if isinstance(error, InUse) else "")
            refused.append(CellError(step.row, step.label, column, reason))
    if refused:
        raise GridRefused(refused)
    return None if change_set is None else int(change_set.id)


# --- Streamlit state: the grid's snapshot, save and reload callbacks --------------------------------

_RESULTS = "_reference_results"
_MERGE = "_reference_merge"


@dataclass(frozen=True)
class Result:
    """The outcome of the last merge on a table, with its change set's audit events."""

    ok: bool
    message: str
    events: pd.DataFrame | None = None


def snapshot(table: str) -> Snapshot:
    """The rows the table's grid edits (``grids.snapshot``: frozen while the editor holds edits)."""
    url, version = cached.key()
    return grids.snapshot(
        f"reference_{table}", (table,), version, lambda: cached_rows(url, version, table).frame
    )


def parents(table: str) -> Mapping[str, tuple[str, ...]]:
    return cached_rows(*cached.key(), table).parents


def save(table: str) -> None:
    """The Save button's callback: one transaction, one change set; the outcome on the snapshot."""
    snap = snapshot(table)
    p = plan(table, snap.base, snap.shown, st.session_state.get(snap.key), parents(table))
    if p.errors:
        snap.messages, snap.ok, snap.stale = (
            ["Nothing was saved. Fix these cells:", *map(str, p.errors)],
            False,
            False,
        )
        return
    if not p.steps:
        snap.messages, snap.ok, snap.stale = ["Nothing to save: no cell was changed."], True, False
        return
    outcome = actions.perform_steps(
        lambda session, actor, change_set: _run(session, actor, change_set, p, table),
        summary=f"{table}: {p.counts()}",
    )
    grids.record(snap, outcome, f"Saved {TITLES[table].lower()}: {p.counts()} (change set {outcome.value}).")


def reload(table: str) -> None:
    """Read the table afresh and put the typed values back on top (``grids.reload``)."""
    url, version = cached.key()
    columns = [f.name for f in fields(table)]
    grids.reload(f"reference_{table}", lambda: read_fresh(url, table), version, key="id", columns=columns)


def read_fresh(url: str, table: str) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return read_rows(conn, table).frame


def discard(table: str) -> None:
    grids.discard(f"reference_{table}")


def result(table: str) -> Result | None:
    return st.session_state.get(_RESULTS, {}).get(table)


def _set_result(table: str, outcome: Result) -> None:
    st.session_state.setdefault(_RESULTS, {})[table] = outcome


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
        _set_result(table, Result(False, f"Nothing was merged: {outcome.message}"))
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
    _set_result(table, Result(True, text, events))


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


def show_merge(table: str) -> None:
    """The outcome of the last merge on this table, and its change set's audit events."""
    outcome = result(table)
    if outcome is None:
        return
    if outcome.ok:
        st.success(md_text(outcome.message), icon=":material/check_circle:")
    else:
        st.error(md_text(outcome.message), icon=":material/error:")
    if outcome.events is not None and len(outcome.events):
        with st.expander("The change set's audit events"):
            shown = ["entity", "entity_id", "component", "action", "field", "old_value", "new_value"]
            st.dataframe(outcome.events[shown], hide_index=True)


def grid_buttons(table: str, snap: Snapshot) -> None:
    """After a stale save: reload keeping the typed values; always: discard the edits."""
    if snap.data_version != cached.key()[1]:
        st.caption("The registry changed since this grid was loaded.")
    with st.container(horizontal=True):
        if snap.stale:
            st.button(
                "Reload and keep my edits",
                key="reference_reload",
                on_click=reload,
                args=(table,),
                icon=":material/refresh:",
            )
        st.button("Discard my edits", key="reference_discard", on_click=discard, args=(table,))
