"""The Edit page's model: one grid per part of the registry — components, tags, current versions,
owners, dependencies, deployments, QA, endpoints — each with a loader (rows of the components in scope, as
read, with the row_version that guards them), a planner (the editor's edits -> validated service
calls) and the columns the editor shows. The generic machinery (snapshots, diff, stale rows, reload
keeping the typed values) is :mod:`panopticum_ui.grids`.

Rows a person may not change (not an owner of the component, and not an editor or admin) are not in
the editable grid: :func:`split` puts them in a read-only table. The services check again on save.

Reads go through ``panopticum_data.queries`` (the page's through :mod:`panopticum_ui.cached`, per data
version), writes through ``panopticum_data.services``: this module holds no SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Connection, Engine

from panopticum_data import queries
from panopticum_data.db import read_connection, session_scope
from panopticum_data.enums import (
    API_PUBLIC,
    DEPENDENCY_LABELS,
    DEPENDENCY_TYPES,
    LIFE_STATUS_LABELS,
    LIFE_STATUSES,
    MULTI_OWNER_ROLES,
    OWNER_ROLES,
    QA_KINDS,
    QA_LEVELS,
    SINGLE_OWNER_ROLES,
)
from panopticum_data.queries import OverviewFilters, apply_filters
from panopticum_data.queries import ui as ui_queries
from panopticum_data.services import (
    DependencySpec,
    add_deployment,
    create_endpoint,
    delete_component,
    delete_endpoint,
    load_actor,
    open_change_set,
    preload_rows,
    register_component,
    remove_deployment,
    set_dependencies,
    set_owners,
    set_qa_level,
    set_tags,
    update_component,
    update_deployment,
    update_endpoint,
    update_version,
)

from . import cached, grids
from .grids import BadCell, CellError, Edits, Plan, Row, Step

GRIDS = ("components", "tags", "versions", "owners", "dependencies", "deployments", "qa", "endpoints")
GRID_TITLES = {
    "components": "Components",
    "tags": "Tags",
    "versions": "Current versions",
    "owners": "Owners",
    "dependencies": "Dependencies",
    "deployments": "Deployments",
    "qa": "QA",
    "endpoints": "Endpoints",
}
PAGE_COMPONENTS = {  # components per page of each grid (rows: × 9 for QA, × their edges otherwise)
    "components": 500,
    "tags": 500,
    "versions": 500,
    "owners": 500,
    "dependencies": 200,
    "deployments": 200,
    "qa": 50,
    "endpoints": 500,
}
ROLE_LABELS = {
    "maintainer": "Maintainer",
    "responsible_qa": "Responsible QA",
    "product_manager": "Product managers",
    "program_manager": "Program managers",
    "escalation": "Escalation list",
    "expert": "Experts",
    "architect": "Architects",
}
REFS = {  # component reference column -> reference table
    "type": "component_type",
    "category": "category",
    "subcategory": "subcategory",
    "vendor": "vendor",
    "privacy_class": "privacy_class",
}
DEPLOYMENT_REFS = {
    "product_version": "product_version",
    "location_class": "location_class",
    "environment": "environment",
    "runtime": "runtime",
}


@dataclass(frozen=True)
class GridSpec:
    key: str  # the id column
    columns: tuple[str, ...]  # editable columns
    labels: Mapping[str, str]
    shown: tuple[str, ...]  # column order in the editor
    can_add: bool = True
    can_delete: bool = True
    error_fields: Mapping[str, str] | None = None


SPECS: dict[str, GridSpec] = {
    "components": GridSpec(
        "component_id",
        (
            "name",
            "life_status",
            "type",
            "category",
            "subcategory",
            "vendor",
            "privacy_class",
            "highly_loaded",
            "tags",
            "description",
        ),
        {
            "name": "Name",
            "life_status": "Life status",
            "type": "Type",
            "category": "Category",
            "subcategory": "Subcategory",
            "vendor": "Vendor",
            "privacy_class": "Privacy class",
            "highly_loaded": "Highly loaded",
            "tags": "Tags",
            "description": "Description",
        },
        (),
        error_fields={"tag": "tags", "component": "name", "component_id": "name"},
    ),
    "tags": GridSpec(
        "component_id",
        ("tags",),
        {"component": "Component", "tags": "Tags"},
        ("component", "tags"),
        can_add=False,
        can_delete=False,
        error_fields={"tag": "tags"},
    ),
    "versions": GridSpec(
        "version_id",
        ("version", "comments", "code_kloc", "api_is_public", "qa_applicable"),
        {
            "component": "Component",
            "version": "Version",
            "comments": "Comments",
            "code_kloc": "Code (KLOC)",
            "api_is_public": "API is public",
            "qa_applicable": "QA applies",
        },
        ("component", "version", "api_is_public", "qa_applicable", "code_kloc", "comments"),
        can_add=False,
        can_delete=False,
    ),
    "owners": GridSpec(
        "version_id",
        OWNER_ROLES,
        {"component": "Component", **ROLE_LABELS},
        ("component", *OWNER_ROLES),
        can_add=False,
        can_delete=False,
        error_fields={"username": "maintainer"},
    ),
    "dependencies": GridSpec(
        "dependency_id",
        ("component", "depends_on", "type", "notes"),
        {"component": "Component", "depends_on": "Depends on", "type": "Type", "notes": "Notes"},
        ("component", "depends_on", "type", "notes"),
        error_fields={"component": "depends_on"},
    ),
    "deployments": GridSpec(
        "deployment_id",
        (
            "component",
            "product_version",
            "location_class",
            "environment",
            "runtime",
            "name",
            "service_name",
            "binary_name",
            "ports",
            "is_new",
            "notes",
        ),
        {
            "component": "Component",
            "product_version": "Product version",
            "location_class": "Location",
            "environment": "Environment",
            "runtime": "Runtime",
            "name": "Name",
            "service_name": "Service name",
            "binary_name": "Binary name",
            "ports": "Ports",
            "is_new": "New in product",
            "notes": "Notes",
        },
        (),
        error_fields={"port": "ports"},
    ),
    "qa": GridSpec(
        "qa_id",
        ("level", "notes"),
        {"component": "Component", "kind": "Testing", "level": "Level", "notes": "Notes"},
        ("component", "kind", "level", "notes"),
        can_add=False,
        can_delete=False,
    ),
    "endpoints": GridSpec(
        "endpoint_id",
        ("component", "pattern", "notes"),
        {"component": "Component", "pattern": "URL pattern", "notes": "Notes"},
        ("component", "pattern", "notes"),
        error_fields={"component_id": "component", "endpoint_id": "pattern"},
    ),
}
VERSION_ROW_VERSIONS = "version_row_versions"  # dependencies grid: base.attrs, version id -> row_version
SPECS["components"] = GridSpec(**{**SPECS["components"].__dict__, "shown": SPECS["components"].columns})
SPECS["deployments"] = GridSpec(**{**SPECS["deployments"].__dict__, "shown": SPECS["deployments"].columns})


# --- context: what the planners check against ---------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Choices and rights a plan is checked against. ``editable``: None = every component."""

    is_editor: bool
    editable: frozenset[int] | None
    options: Mapping[str, tuple[str, ...]]  # reference table -> names
    people: Mapping[str, str]  # username -> display name
    component_ids: Mapping[str, int]  # lower-cased component name -> id (the whole registry)
    component_names: tuple[str, ...]  # every component's name, in the registry's order
    current_versions: Mapping[int, int]  # component id -> current version id (in scope)

    def may_edit(self, component_id: int) -> bool:
        return self.editable is None or component_id in self.editable


def read_context(conn: Connection, *, username: str | None, component_ids: Sequence[int]) -> Context:
    """The context for a save by ``username`` on the grid of ``component_ids`` (not cached: tests,
    benchmarks; the page uses :func:`context`)."""
    choices = cached.read_edit_choices(conn, _TABLES)
    return make_context(choices, ui_queries.owned_component_ids(conn, username), username, component_ids)


def make_context(
    choices: cached.EditChoices,
    editable: frozenset[int] | None,
    username: str | None,
    component_ids: Sequence[int],
) -> Context:
    """``editable``: the components the person may change (None: every one; ``owned_component_ids``)."""
    scope = set(component_ids)
    return Context(
        is_editor=editable is None and username is not None,
        editable=editable if username else frozenset(),
        options=choices.options,
        people=choices.people,
        component_ids=choices.component_ids,
        component_names=choices.component_names,
        current_versions={c: v for c, v in choices.current_versions.items() if c in scope},
    )


_TABLES = (*REFS.values(), *DEPLOYMENT_REFS.values(), "tag", "tcp_port")


# --- loaders: the rows of the components in scope ------------------------------------------------------


def load(conn: Connection, grid: str, component_ids: Sequence[int]) -> pd.DataFrame:
    """The grid's rows for these components (their current versions), in the order of ``component_ids``."""
    return _LOADERS[grid](conn, list(component_ids))


def _order(frame: pd.DataFrame, ids: Sequence[int], *extra: str) -> pd.DataFrame:
    rank = {int(c): i for i, c in enumerate(ids)}
    frame = frame[frame["component_id"].isin(list(ids))].copy()
    frame["_rank"] = [rank[int(c)] for c in frame["component_id"]]
    return frame.sort_values(["_rank", *extra], kind="stable").drop(columns="_rank").reset_index(drop=True)


def _components(conn: Connection, ids: list[int]) -> pd.DataFrame:
    df = _order(queries.list_components(conn), ids)
    out = df[["component_id", *SPECS["components"].columns, "row_version"]].copy()
    out["highly_loaded"] = out["highly_loaded"].astype(bool)
    return _objects(out)


def _tags(conn: Connection, ids: list[int]) -> pd.DataFrame:
    df = _order(queries.list_components(conn), ids)
    return _objects(df[["component_id", "name", "tags", "row_version"]].rename(columns={"name": "component"}))


def _current_versions(conn: Connection, ids: list[int]) -> pd.DataFrame:
    versions = queries.list_versions(conn)
    return _order(versions[versions["is_current"]], ids)


def _versions(conn: Connection, ids: list[int]) -> pd.DataFrame:
    df = _current_versions(conn, ids)
    out = df[["version_id", "component_id", "component", *SPECS["versions"].columns, "row_version"]].copy()
    out["qa_applicable"] = out["qa_applicable"].astype(bool)
    return _objects(out)


def _owners(conn: Connection, ids: list[int]) -> pd.DataFrame:
    versions = _current_versions(conn, ids)
    owners = queries.list_owners(conn, version_ids=[int(v) for v in versions["version_id"]])
    out = versions[["version_id", "component_id", "component", "row_version"]].copy()
    for role in OWNER_ROLES:
        held = (
            owners[owners["role"] == role]
            .groupby("version_id")["username"]
            .agg(lambda s: sorted(s, key=str.lower))
        )
        values = [held.get(v, []) for v in out["version_id"]]
        out[role] = [(v[0] if v else None) for v in values] if role in SINGLE_OWNER_ROLES else values
    return _objects(out[["version_id", "component_id", "component", *OWNER_ROLES, "row_version"]])


def _dependencies(conn: Connection, ids: list[int]) -> pd.DataFrame:
    versions = _current_versions(conn, ids)
    deps = queries.list_dependencies(conn, current_only=True)
    deps = _order(deps, ids, "depends_on")
    rv = dict(zip(versions["version_id"].astype(int), versions["row_version"].astype(int), strict=True))
    out = deps[
        ["dependency_id", "version_id", "component_id", "component", "depends_on", "type", "notes"]
    ].copy()
    out["row_version"] = [rv.get(int(v)) for v in out["version_id"]]
    frame = _objects(out)
    frame.attrs[VERSION_ROW_VERSIONS] = {int(v): int(r) for v, r in rv.items()}  # those without a row too
    return frame


def _deployments(conn: Connection, ids: list[int]) -> pd.DataFrame:
    versions = _current_versions(conn, ids)
    deps = queries.list_deployments(conn)
    deps = deps[deps["version_id"].isin(list(versions["version_id"]))]
    deps = _order(deps, ids, "deployment_id")
    out = deps[
        ["deployment_id", "version_id", "component_id", *SPECS["deployments"].columns, "row_version"]
    ].copy()
    out["ports"] = [", ".join(str(p) for p in ports) or None for ports in out["ports"]]
    out["is_new"] = out["is_new"].astype(bool)
    return _objects(out)


def _qa(conn: Connection, ids: list[int]) -> pd.DataFrame:
    versions = _current_versions(conn, ids)
    vids = [int(v) for v in versions["version_id"]]
    levels = queries.list_qa_levels(conn, vids)
    found = {(int(v), str(k)): (lvl, notes) for v, k, lvl, notes in levels.itertuples(index=False)}
    rows = []
    for vid, cid, name, rv in versions[["version_id", "component_id", "component", "row_version"]].itertuples(
        index=False
    ):
        for i, kind in enumerate(QA_KINDS):
            level, notes = found.get((int(vid), kind), ("unknown", None))
            rows.append((int(vid) * 16 + i, int(vid), int(cid), name, kind, level, notes, int(rv)))
    columns = ["qa_id", "version_id", "component_id", "component", "kind", "level", "notes", "row_version"]
    return _objects(pd.DataFrame(rows, columns=columns))


def _endpoints(conn: Connection, ids: list[int]) -> pd.DataFrame:
    components = queries.list_components(conn)[["component_id", "name"]]
    endpoints = queries.list_endpoints(conn).merge(
        components.rename(columns={"name": "component"}), on="component", how="inner"
    )
    out = _order(endpoints, ids, "pattern")
    return _objects(out[["endpoint_id", "component_id", *SPECS["endpoints"].columns]])


def _objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain Python cells (None for missing), ids as Int64: what the editor and the diff expect."""
    out = frame.reset_index(drop=True).astype(object)
    out = out.where(out.notna(), None) if len(out) else out
    for column in out.columns:
        if column.endswith("_id") or column == "row_version":
            out[column] = pd.array([grids.norm(v) for v in out[column]], dtype="Int64")
    return out


_LOADERS: dict[str, Callable[[Connection, list[int]], pd.DataFrame]] = {
    "components": _components,
    "tags": _tags,
    "versions": _versions,
    "owners": _owners,
    "dependencies": _dependencies,
    "deployments": _deployments,
    "qa": _qa,
    "endpoints": _endpoints,
}


def split(frame: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows the person may change, the others)."""
    if ctx.editable is None or "component_id" not in frame:
        return frame, frame.iloc[0:0]
    editable = ctx.editable
    mine = frame["component_id"].map(lambda c: int(c) in editable)
    return frame[mine].reset_index(drop=True), frame[~mine].reset_index(drop=True)


# --- planners: edits -> service calls ---------------------------------------------------------------


def plan(
    grid: str, base: pd.DataFrame, shown: pd.DataFrame, state: Mapping[str, Any] | None, ctx: Context
) -> Plan:
    """The validated service calls that make the registry what the grid shows."""
    spec = SPECS[grid]
    label_column = "name" if grid == "components" else "component"
    edits = grids.diff(
        base,
        shown,
        state,
        key=spec.key,
        columns=spec.columns,
        label=lambda r: _label(grid, r, label_column),
    )
    errors: list[CellError] = []
    if edits.added and not spec.can_add:
        errors.append(CellError(0, "", "Rows", "rows cannot be added to this grid"))
    if edits.deleted and not spec.can_delete:
        rows = ", ".join(r.label for r in edits.deleted)
        errors.append(CellError(0, "", "Rows", f"rows cannot be deleted from this grid ({rows})"))
    steps, more = _PLANNERS[grid](edits, ctx, base)
    return grids.make_plan(steps, [*errors, *more], spec.labels, edits, _warm(steps))


_TOKEN_TABLES = {"component": "component", "version": "component_version", "deployment": "deployment"}


def _warm(steps: Sequence[Step]) -> Callable[[Any], Any]:
    """Load the rows the steps will change in one query per table (the services then find them in
    the session instead of reading them one by one)."""
    wanted: dict[str, set[int]] = {}
    for step in steps:
        if step.token is not None:
            wanted.setdefault(_TOKEN_TABLES[step.token[0]], set()).add(step.token[1])
        elif "endpoint_id" in step.kwargs:
            wanted.setdefault("endpoint", set()).add(int(step.kwargs["endpoint_id"]))
    return lambda session: preload_rows(session, wanted)


def _label(grid: str, row: Mapping[str, Any], column: str) -> str:
    value = grids.norm(row.get(column))
    if grid == "qa":
        return f"{value} / {row.get('kind')}"
    if grid == "dependencies" and grids.norm(row.get("depends_on")):
        return f"{value} → {row.get('depends_on')}"
    if grid == "endpoints" and grids.norm(row.get("pattern")):
        return f"{value}: {row.get('pattern')}" if value is not None else str(row.get("pattern"))
    return "" if value is None else str(value)


Planned = tuple[list[Step], list[CellError]]


def _clean(
    row: Row, cleaners: Mapping[str, Callable[[Any], Any]], grid: str
) -> tuple[dict[str, Any], list[CellError]]:
    return grids.clean_cells(row, cleaners, SPECS[grid].labels)


def _ref(options: Sequence[str]) -> Callable[[Any], Any]:
    return lambda v: grids.choice(v, options, required=False)


def _component_cleaners(ctx: Context) -> dict[str, Callable[[Any], Any]]:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": grids.name,
        "description": grids.text,
        "life_status": lambda v: grids.choice(v, LIFE_STATUSES),
        "highly_loaded": grids.boolean,
        "tags": _tags_cleaner(ctx),
    }
    for column, table in REFS.items():
        cleaners[column] = _ref(ctx.options[table])
    return cleaners


def _tags_cleaner(ctx: Context) -> Callable[[Any], list[str]]:
    def clean(value: Any) -> list[str]:
        if ctx.is_editor:
            return grids.names(value)
        try:
            return grids.names(value, ctx.options["tag"])
        except BadCell as bad:
            raise BadCell(f"{bad}: only editors and admins create tags") from None

    return clean


def _denied(row: Row, ctx: Context, column: str, labels: Mapping[str, str]) -> CellError | None:
    cid = grids.norm(row.base.get("component_id"))
    if cid is not None and not ctx.may_edit(int(cid)):
        return CellError(row.pos, row.label, labels.get(column, column), "you may not change this component")
    return None


def _plan_components(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    cleaners = _component_cleaners(ctx)
    labels = SPECS["components"].labels
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "components")
        errors += bad
        if bad:
            continue
        token = ("component", row.id)
        expected = int(row.base["row_version"])
        tags = clean.pop("tags", None)
        if clean:
            kwargs = {"component_id": row.id, "changes": clean}
            steps.append(Step(row.pos, row.label, update_component, kwargs, token, expected))
        if tags is not None:
            steps.append(
                Step(row.pos, row.label, set_tags, {"component_id": row.id, "tags": tags}, token, expected)
            )
    for row in edits.added:
        if not ctx.is_editor:
            errors.append(
                CellError(row.pos, row.label, labels["name"], "only editors and admins add components")
            )
            continue
        values = {**row.values, "life_status": grids.norm(row.values.get("life_status")) or "unknown"}
        clean, bad = _clean(Row(row.pos, row.label, values), cleaners, "components")
        errors += bad
        if not bad:
            steps.append(Step(row.pos, row.label, register_component, clean))
    for row in edits.deleted:
        if not ctx.is_editor:
            errors.append(CellError(row.pos, row.label, "Rows", "only editors and admins delete components"))
            continue
        kwargs = {"component_id": row.id}
        steps.append(
            Step(
                row.pos,
                row.label,
                delete_component,
                kwargs,
                ("component", row.id),
                int(row.base["row_version"]),
            )
        )
    final = [
        (r.pos, r.label, r.values.get("name", r.base.get("name"))) for r in (*edits.changed, *edits.added)
    ]
    errors += _name_clashes(final, edits, base, ctx)
    # deletions and renames first, so that a new component may take a name given up
    steps.sort(key=lambda s: s.service is register_component)
    return steps, errors


def _name_clashes(
    final: list[tuple[int, str, Any]], edits: Edits, base: pd.DataFrame, ctx: Context
) -> list[CellError]:
    """Names repeated in the grid's edits, or taken by another component (ignoring case)."""
    errors = grids.duplicates(final, "Name")
    freed = {str(r.base.get("name")).lower() for r in (*edits.changed, *edits.deleted)}
    for pos, label, value in final:
        if not isinstance(value, str):
            continue
        owner = ctx.component_ids.get(value.strip().lower())
        if owner is not None and value.strip().lower() not in freed:
            row = next((r for r in edits.changed if r.pos == pos), None)
            if row is None or owner != row.id:
                errors.append(
                    CellError(pos, label, "Name", f"{value.strip()!r} is already the name of a component")
                )
    return errors


def _plan_tags(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    cleaners = {"tags": _tags_cleaner(ctx)}
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "tags")
        errors += bad
        if not bad:
            kwargs = {"component_id": row.id, "tags": clean["tags"]}
            steps.append(
                Step(
                    row.pos, row.label, set_tags, kwargs, ("component", row.id), int(row.base["row_version"])
                )
            )
    return steps, errors


def _plan_versions(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "version": lambda v: grids.name(v, max_length=64),
        "comments": grids.text,
        "code_kloc": lambda v: grids.number(v, minimum=0),
        "api_is_public": lambda v: grids.choice(v, API_PUBLIC),
        "qa_applicable": grids.boolean,
    }
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "versions")
        errors += bad
        if not bad:
            kwargs = {"version_id": row.id, "changes": clean}
            steps.append(
                Step(
                    row.pos,
                    row.label,
                    update_version,
                    kwargs,
                    ("version", row.id),
                    int(row.base["row_version"]),
                )
            )
    return steps, errors


def _plan_owners(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    people = list(ctx.people)
    cleaners: dict[str, Callable[[Any], Any]] = {
        role: (lambda v: [p for p in [grids.choice(v, people, required=False)] if p])
        for role in SINGLE_OWNER_ROLES
    }
    cleaners.update({role: (lambda v: grids.names(v, people)) for role in MULTI_OWNER_ROLES})
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "owners")
        errors += bad
        if bad:
            continue
        for role, usernames in clean.items():
            kwargs = {"version_id": row.id, "role": role, "usernames": usernames}
            steps.append(
                Step(
                    row.pos, row.label, set_owners, kwargs, ("version", row.id), int(row.base["row_version"])
                )
            )
    return steps, errors


def _component_of(value: Any, ctx: Context) -> int:
    """The id of a component chosen by name in a new row; only components of this grid that the
    person may change."""
    name = grids.name(value)
    cid = ctx.component_ids.get(name.lower())
    if cid is None or cid not in ctx.current_versions:
        raise BadCell(f"{name!r} is not a component of this grid (narrow the filters to it first)")
    if not ctx.may_edit(cid):
        raise BadCell(f"you may not change {name!r}")
    return cid


def _plan_dependencies(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    """One ``set_dependencies`` per version touched, with its whole list as the grid now shows it."""
    cleaners: dict[str, Callable[[Any], Any]] = {
        "depends_on": lambda v: grids.name(v),
        "type": lambda v: grids.choice(v, DEPENDENCY_TYPES),
        "notes": grids.text,
    }
    errors: list[CellError] = []
    wanted: dict[int, dict[int, DependencySpec]] = {}  # version -> dependency id (or -pos) -> spec
    first_row: dict[int, Row] = {}
    for row in edits.changed:
        if "component" in row.values:
            errors.append(
                CellError(
                    row.pos, row.label, "Component", "cannot be changed: delete the row and add a new one"
                )
            )
            continue
        clean, bad = _clean(Row(row.pos, row.label, row.values), cleaners, "dependencies")
        errors += bad
        vid = int(row.base["version_id"])
        merged = {**{k: row.base.get(k) for k in ("depends_on", "type", "notes")}, **clean}
        wanted.setdefault(vid, {})[row.id] = DependencySpec(
            merged["depends_on"], merged["type"], grids.norm(merged["notes"])
        )
        first_row.setdefault(vid, row)
    for row in edits.deleted:
        vid = int(row.base["version_id"])
        wanted.setdefault(vid, {})[row.id] = None  # type: ignore[assignment]
        first_row.setdefault(vid, row)
    for row in edits.added:
        values = {**row.values}
        try:
            cid = _component_of(values.get("component"), ctx)
        except BadCell as refused:
            errors.append(CellError(row.pos, row.label, "Component", str(refused)))
            continue
        clean, bad = _clean(
            Row(row.pos, row.label, {k: values.get(k) for k in cleaners}), cleaners, "dependencies"
        )
        errors += bad
        if bad:
            continue
        vid = ctx.current_versions[cid]
        wanted.setdefault(vid, {})[-row.pos] = DependencySpec(
            clean["depends_on"], clean["type"], clean["notes"]
        )
        first_row.setdefault(vid, row)
    for row in (*edits.changed, *edits.added):
        target = grids.norm(row.values.get("depends_on"))
        if isinstance(target, str) and target.strip().lower() not in ctx.component_ids:
            errors.append(
                CellError(row.pos, row.label, "Depends on", f"no such component {target.strip()!r}")
            )
    steps: list[Step] = []
    for vid, specs in wanted.items():
        rows = base[base["version_id"] == vid]
        full: list[DependencySpec] = []
        for dep_id, depends_on, kind, notes in rows[
            ["dependency_id", "depends_on", "type", "notes"]
        ].itertuples(index=False):
            if int(dep_id) in specs:
                spec = specs[int(dep_id)]
                if spec is not None:
                    full.append(spec)
            else:
                full.append(DependencySpec(str(depends_on), str(kind), grids.norm(notes)))
        full += [s for k, s in specs.items() if k < 0]
        row = first_row[vid]
        expected = _version_row_version(base, vid)
        if expected is None:  # the component's current version is not the one the grid read
            errors.append(CellError(row.pos, row.label, "Component", _NOT_READ))
            continue
        kwargs = {"version_id": vid, "dependencies": full}
        steps.append(Step(row.pos, row.label, set_dependencies, kwargs, ("version", vid), expected))
    return steps, errors


_NOT_READ = "its current version changed since the grid was loaded: reload the grid and add the row again"


def _version_row_version(base: pd.DataFrame, vid: int) -> int | None:
    """The version's row_version as the grid read it, with or without dependency rows (the loader
    keeps them in ``base.attrs``); None: the grid did not read this version."""
    known: Mapping[int, int] = base.attrs.get(VERSION_ROW_VERSIONS, {})
    if vid in known:
        return int(known[vid])
    if "version_id" not in base:
        return None
    rows = base[base["version_id"] == vid]["row_version"]
    return int(rows.iloc[0]) if len(rows) else None


def _plan_deployments(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "product_version": lambda v: grids.choice(v, ctx.options["product_version"]),
        "location_class": lambda v: grids.choice(v, ctx.options["location_class"]),
        "environment": _ref(ctx.options["environment"]),
        "runtime": _ref(ctx.options["runtime"]),
        "name": lambda v: grids.text(v, max_length=128),
        "service_name": lambda v: grids.text(v, max_length=128),
        "binary_name": lambda v: grids.text(v, max_length=128),
        "ports": _ports,
        "is_new": grids.boolean,
        "notes": grids.text,
    }
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        if "component" in row.values:
            errors.append(
                CellError(
                    row.pos, row.label, "Component", "cannot be changed: delete the row and add a new one"
                )
            )
            continue
        clean, bad = _clean(row, cleaners, "deployments")
        errors += bad
        if not bad:
            kwargs = {"deployment_id": row.id, "changes": clean}
            steps.append(
                Step(
                    row.pos,
                    row.label,
                    update_deployment,
                    kwargs,
                    ("deployment", row.id),
                    int(row.base["row_version"]),
                )
            )
    for row in edits.deleted:
        kwargs = {"deployment_id": row.id}
        steps.append(
            Step(
                row.pos,
                row.label,
                remove_deployment,
                kwargs,
                ("deployment", row.id),
                int(row.base["row_version"]),
            )
        )
    for row in edits.added:
        try:
            cid = _component_of(row.values.get("component"), ctx)
        except BadCell as refused:
            errors.append(CellError(row.pos, row.label, "Component", str(refused)))
            continue
        values = {k: v for k, v in row.values.items() if k != "component"}
        clean, bad = _clean(Row(row.pos, row.label, values), cleaners, "deployments")
        errors += bad
        if not bad:
            steps.append(
                Step(row.pos, row.label, add_deployment, {"version_id": ctx.current_versions[cid], **clean})
            )
    return steps, errors


def _ports(value: Any) -> list[str]:
    ports = grids.names(value)
    bad = [p for p in ports if not p.isdigit() or not 0 < int(p) < 65536]
    if bad:
        raise BadCell(
            f"{', '.join(repr(p) for p in bad)}: give TCP port numbers (1-65535), separated by commas"
        )
    return ports


def _plan_qa(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    cleaners: dict[str, Callable[[Any], Any]] = {
        "level": lambda v: grids.choice(v, QA_LEVELS),
        "notes": grids.text,
    }
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "qa")
        errors += bad
        if bad:
            continue
        vid = int(row.base["version_id"])
        kwargs = {
            "version_id": vid,
            "kind": str(row.base["kind"]),
            "level": clean.get("level", row.base["level"]),
            "notes": clean["notes"] if "notes" in clean else grids.norm(row.base["notes"]),
        }
        steps.append(
            Step(row.pos, row.label, set_qa_level, kwargs, ("version", vid), int(row.base["row_version"]))
        )
    return steps, errors


def _pattern(value: Any) -> str:
    pattern = grids.name(value, max_length=2048)
    if any(ch.isspace() for ch in pattern):
        raise BadCell("must not contain spaces: write the URL pattern as https://host/path/*")
    return pattern


def _read_endpoint(row: Row) -> dict[str, Any]:
    """The endpoint as the grid read it: the services refuse the call when it changed since (the table
    has no row_version)."""
    return {
        "pattern": row.base["pattern"],
        "component": int(row.base["component_id"]),
        "notes": grids.norm(row.base["notes"]),
    }


def _plan_endpoints(edits: Edits, ctx: Context, base: pd.DataFrame) -> Planned:
    """Deletions, then changes, then new rows (a pattern given up may be taken by a later row)."""
    cleaners: dict[str, Callable[[Any], Any]] = {
        "component": lambda v: _component_of(v, ctx),
        "pattern": _pattern,
        "notes": grids.text,
    }
    steps: list[Step] = []
    errors: list[CellError] = []
    for row in edits.deleted:
        kwargs = {"endpoint_id": row.id, "expected": _read_endpoint(row)}
        steps.append(Step(row.pos, row.label, delete_endpoint, kwargs))
    for row in edits.changed:
        clean, bad = _clean(row, cleaners, "endpoints")
        errors += bad
        if not bad:
            kwargs = {"endpoint_id": row.id, "changes": clean, "expected": _read_endpoint(row)}
            steps.append(Step(row.pos, row.label, update_endpoint, kwargs))
    for row in edits.added:
        values = {k: row.values.get(k) for k in cleaners}
        clean, bad = _clean(Row(row.pos, row.label, values), cleaners, "endpoints")
        errors += bad
        if not bad:
            steps.append(Step(row.pos, row.label, create_endpoint, clean))
    final = [
        (r.pos, r.label, r.values.get("pattern", r.base.get("pattern")))
        for r in (*edits.changed, *edits.added)
    ]
    errors += grids.duplicates(final, SPECS["endpoints"].labels["pattern"])
    return steps, errors


_PLANNERS: dict[str, Callable[[Edits, Context, pd.DataFrame], Planned]] = {
    "components": _plan_components,
    "tags": _plan_tags,
    "versions": _plan_versions,
    "owners": _plan_owners,
    "dependencies": _plan_dependencies,
    "deployments": _plan_deployments,
    "qa": _plan_qa,
    "endpoints": _plan_endpoints,
}


def execute(engine: Engine, username: str, plan_: Plan, grid: str, *, summary: str | None = None) -> int:
    """Run a plan outside Streamlit (benchmarks, tests): one transaction, one change set, as
    ``username``. Raises the grid's errors (StaleRows, GridRefused, PermissionDenied)."""
    with session_scope(engine) as session:
        actor = load_actor(session, username)
        change_set = open_change_set(session, actor, summary=summary or f"edit {grid}: {plan_.counts()}")
        return grids.run(session, actor, change_set, plan_, error_fields=SPECS[grid].error_fields)


# --- the page: scope, snapshots, save callbacks ----------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    grid: str
    component_ids: tuple[int, ...]
    total: int
    page: int
    pages: int


def scope(grid: str, filters: OverviewFilters, page: int) -> Scope:
    """The components on the requested page of the filtered registry (ordered by name)."""
    url, version = cached.key()
    frame = cached.overview(url, version) if cached.component_count(url, version) else None
    if frame is None:
        return Scope(grid, (), 0, 1, 1)
    if filters != OverviewFilters():
        with read_connection(cached.engine(url)) as conn:
            frame = apply_filters(conn, frame, filters)
    size = PAGE_COMPONENTS[grid]
    ids = [int(i) for i in frame["component_id"]]
    pages = max(1, -(-len(ids) // size))
    page = min(max(1, page), pages)
    return Scope(grid, tuple(ids[(page - 1) * size : page * size]), len(ids), page, pages)


def context(where: Scope, username: str | None) -> Context:
    """The page's context: the choices cached per data version; the person's rights read afresh."""
    url, version = cached.key()
    choices = cached.edit_choices(url, version, _TABLES)
    with read_connection(cached.engine(url)) as conn:
        editable = ui_queries.owned_component_ids(conn, username)
    return make_context(choices, editable, username, where.component_ids)


def _loader(where: Scope, ctx: Context, url: str, version: int) -> Callable[[], pd.DataFrame]:
    """The rows of the scope the person may change, read at ``version`` (cached per data version)."""
    return lambda: split(cached.edit_rows(url, version, where.grid, where.component_ids, load), ctx)[0]


def read_only(where: Scope, ctx: Context) -> pd.DataFrame:
    """The rows of the scope the person may not change (shown apart, read-only)."""
    if ctx.editable is None:
        return pd.DataFrame()
    url, version = cached.key()
    return split(cached.edit_rows(url, version, where.grid, where.component_ids, load), ctx)[1]


def grid_snapshot(where: Scope, ctx: Context, username: str | None) -> grids.Snapshot:
    url, version = cached.key()
    key = (where.grid, where.component_ids, username)
    return grids.snapshot(where.grid, key, version, _loader(where, ctx, url, version))


def save_grid(where: Scope, username: str | None) -> None:
    """The Save button's callback: plan the editor's edits, run them in one transaction."""
    ctx = context(where, username)
    snap = grid_snapshot(where, ctx, username)
    the_plan = plan(where.grid, snap.base, snap.shown, st.session_state.get(snap.key), ctx)
    title = GRID_TITLES[where.grid]
    grids.save(
        snap,
        the_plan,
        summary=f"edit {where.grid}: {the_plan.counts()}",
        error_fields=SPECS[where.grid].error_fields,
        done=f"Saved {title.lower()}: {the_plan.counts()}.",
    )


def reload_grid(where: Scope, username: str | None) -> None:
    ctx = context(where, username)
    url, version = cached.key()
    spec = SPECS[where.grid]
    grids.reload(where.grid, _loader(where, ctx, url, version), version, key=spec.key, columns=spec.columns)


def discard_grid(where: Scope) -> None:
    grids.discard(where.grid)


# --- the editor's columns --------------------------------------------------------------------------------


def column_config(grid: str, ctx: Context, component_names: Sequence[str]) -> dict[str, Any]:
    """The editor's columns: select boxes for references, people by name, ids and row versions hidden."""
    cc = st.column_config
    spec = SPECS[grid]
    config: dict[str, Any] = {c: None for c in ("component_id", "version_id", "row_version", spec.key)}
    labels = spec.labels
    people = sorted(ctx.people, key=lambda u: ctx.people[u].lower())

    def person(u: str | float | bool) -> str:
        return f"{ctx.people.get(str(u), str(u))} ({u})"

    if grid == "components":
        config.update(
            {
                "name": cc.TextColumn(labels["name"], required=True, max_chars=128, pinned=True),
                "life_status": cc.SelectboxColumn(
                    labels["life_status"],
                    options=list(LIFE_STATUSES),
                    format_func=lambda s: LIFE_STATUS_LABELS.get(str(s), str(s)),
                ),
                "highly_loaded": cc.CheckboxColumn(labels["highly_loaded"]),
                "tags": cc.MultiselectColumn(
                    labels["tags"], options=list(ctx.options["tag"]), accept_new_options=ctx.is_editor
                ),
                "description": cc.TextColumn(labels["description"], width="large", help="Markdown"),
            }
        )
        for column, table in REFS.items():
            config[column] = cc.SelectboxColumn(labels[column], options=list(ctx.options[table]))
    elif grid == "tags":
        config["component"] = cc.TextColumn(labels["component"], disabled=True, pinned=True)
        config["tags"] = cc.MultiselectColumn(
            labels["tags"], options=list(ctx.options["tag"]), accept_new_options=ctx.is_editor, width="large"
        )
    elif grid == "versions":
        config.update(
            {
                "component": cc.TextColumn(labels["component"], disabled=True, pinned=True),
                "version": cc.TextColumn(labels["version"], required=True, max_chars=64),
                "api_is_public": cc.SelectboxColumn(labels["api_is_public"], options=list(API_PUBLIC)),
                "qa_applicable": cc.CheckboxColumn(labels["qa_applicable"]),
                "code_kloc": cc.NumberColumn(labels["code_kloc"], min_value=0, format="%.1f"),
                "comments": cc.TextColumn(labels["comments"], width="large"),
            }
        )
    elif grid == "owners":
        config["component"] = cc.TextColumn(labels["component"], disabled=True, pinned=True)
        for role in SINGLE_OWNER_ROLES:
            config[role] = cc.SelectboxColumn(labels[role], options=people, format_func=person)
        for role in MULTI_OWNER_ROLES:
            config[role] = cc.MultiselectColumn(labels[role], options=people, format_func=person)
    elif grid == "dependencies":
        config.update(
            {
                "dependency_id": None,
                "component": cc.SelectboxColumn(
                    labels["component"],
                    options=list(component_names),
                    required=True,
                    pinned=True,
                    help="For new rows: the component whose current version depends on another",
                ),
                "depends_on": cc.SelectboxColumn(
                    labels["depends_on"], options=list(ctx.component_names), required=True
                ),
                "type": cc.SelectboxColumn(
                    labels["type"],
                    options=list(DEPENDENCY_TYPES),
                    required=True,
                    format_func=lambda t: DEPENDENCY_LABELS.get(str(t), str(t)),
                    default="strong_rw",
                ),
                "notes": cc.TextColumn(labels["notes"], width="large"),
            }
        )
    elif grid == "deployments":
        config.update(
            {
                "deployment_id": None,
                "component": cc.SelectboxColumn(
                    labels["component"], options=list(component_names), required=True, pinned=True
                ),
                "ports": cc.TextColumn(labels["ports"], help="TCP port numbers, separated by commas"),
                "is_new": cc.CheckboxColumn(labels["is_new"]),
                "notes": cc.TextColumn(labels["notes"], width="large"),
            }
        )
        for column, table in DEPLOYMENT_REFS.items():
            required = column in ("product_version", "location_class")
            config[column] = cc.SelectboxColumn(
                labels[column], options=list(ctx.options[table]), required=required
            )
    elif grid == "endpoints":
        config.update(
            {
                "endpoint_id": None,
                "component": cc.SelectboxColumn(
                    labels["component"], options=list(component_names), required=True, pinned=True
                ),
                "pattern": cc.TextColumn(
                    labels["pattern"],
                    required=True,
                    max_chars=2048,
                    width="large",
                    help="The URLs this component serves, e.g. https://api.example.com/v2/orders*",
                ),
                "notes": cc.TextColumn(labels["notes"], width="large"),
            }
        )
    elif grid == "qa":
        config.update(
            {
                "qa_id": None,
                "component": cc.TextColumn(labels["component"], disabled=True, pinned=True),
                "kind": cc.TextColumn(labels["kind"], disabled=True),
                "level": cc.SelectboxColumn(labels["level"], options=list(QA_LEVELS), required=True),
                "notes": cc.TextColumn(labels["notes"], width="large"),
            }
        )
    return config


def editable_names(ctx: Context) -> list[str]:
    """Names of the grid's components the person may change (offered for new rows)."""
    return [
        n
        for n in ctx.component_names
        if (cid := ctx.component_ids.get(n.lower())) is not None
        and cid in ctx.current_versions
        and ctx.may_edit(cid)
    ]


def column_order(grid: str) -> tuple[str, ...]:
    return SPECS[grid].shown
