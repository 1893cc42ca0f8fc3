"""The requirement-set page's model: cached heat-map pages, the plotly heat-map, the table view, and
the sign-off grids (signees' verdicts, owners' claims) with their save path.

A grid save is one service call (``set_signee_verdicts`` / ``set_owner_claims``) = one transaction =
one change set. The grid is drawn from a *snapshot* kept in the session: the rows and the
``row_version`` each was read with. The snapshot is not refreshed behind the user's back (a fresh read
under typed edits would silently turn a stale save into a lost update); after a refused save the user
reloads explicitly and their typed values are re-applied on top of the fresh rows.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from panopticum_data import scoring
from panopticum_data.db import read_connection
from panopticum_data.errors import InvalidValue, StaleWrite
from panopticum_data.queries import OverviewFilters, apply_filters
from panopticum_data.queries import ui as ui_queries
from panopticum_data.queries.entities import list_requirement_sets, list_requirements
from panopticum_data.queries.requirements import requirement_statuses
from panopticum_data.queries.signoff import (
    Heatmap,
    StatusFilter,
    all_sets_heatmap,
    set_heatmap,
    share_ready_by_category,
    share_ready_by_set,
)
from panopticum_data.services import (
    BatchPermissionDenied,
    BatchStaleWrite,
    ClaimChange,
    VerdictChange,
    set_owner_claims,
    set_signee_verdicts,
)
from panopticum_data.services._util import clean_url

from . import actions, cached, grids
from .style import STATUS_COLOURS, STATUS_MARKS, component_href, mark, md_text, set_href

PAGE_ROWS = 200  # components per heat-map page
GRID_ROWS = 2000  # (component, requirement) rows per grid at most

# overall status -> (code, colour); n/a and unknown differ here (the marks share grey)
HEAT_STATUSES: tuple[str, ...] = ("ready", "n/a", "waiting", "waiting_na", "not_ready", "unknown")
HEAT_COLOURS = STATUS_COLOURS
STATUS_LABELS = {s: STATUS_MARKS[s][1] for s in HEAT_STATUSES}
PARTY_LABELS = {"overall": "overall", "owner": "owner claim", "signee": "signee verdict"}
PARTY_STATUSES: dict[str, tuple[str, ...]] = {
    "owner": scoring.OWNER_STATUSES,
    "signee": scoring.SIGNEE_STATUSES,
    "overall": scoring.OVERALL_STATUSES,
}
SIGNEE_CHOICES = tuple(s for s in scoring.SIGNEE_STATUSES if s != "n/a")
OWNER_CHOICES = tuple(scoring.OWNER_STATUSES)

Mode = Literal["sign", "claim"]


@dataclass(frozen=True)
class SetInfo:
    set_id: int
    name: str
    description: str | None
    doc_link: str | None
    validity_days: int | None
    signer_groups: tuple[str, ...]
    requirements: tuple[str, ...]


@st.cache_data(show_spinner=False, max_entries=4)
def sets(url: str, version: int) -> tuple[SetInfo, ...]:
    with read_connection(cached.engine(url)) as conn:
        df = list_requirement_sets(conn)
        reqs = _titles_by_set(list_requirements(conn))
    out = []
    for row in df.itertuples(index=False):
        sid = int(row.set_id)
        out.append(
            SetInfo(
                set_id=sid,
                name=str(row.name),
                description=_text(row.description),
                doc_link=_text(row.doc_link),
                validity_days=None if pd.isna(row.validity_days) else int(row.validity_days),
                signer_groups=tuple(row.signer_groups or ()),
                requirements=tuple(reqs.get(sid, ())),
            )
        )
    return tuple(out)


def _titles_by_set(reqs: pd.DataFrame) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for sid, title in zip(reqs["set_id"], reqs["title"], strict=True):
        out.setdefault(int(sid), []).append(str(title))
    return out


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def find_set(url: str, version: int, name: str) -> SetInfo | None:
    wanted = name.strip().lower()
    return next((s for s in sets(url, version) if s.name.lower() == wanted), None)


def component_ids(url: str, version: int, filters: OverviewFilters) -> tuple[int, ...] | None:
    """The components the dashboard's filters select (None: no filter, every component)."""
    if filters == OverviewFilters():
        return None
    frame = cached.overview(url, version)
    with read_connection(cached.engine(url)) as conn:
        return tuple(int(i) for i in apply_filters(conn, frame, filters)["component_id"])


@st.cache_data(show_spinner=False, max_entries=16, ttl=cached.TIME_TTL)
def heatmap(
    url: str,
    version: int,
    set_id: int,
    filters: OverviewFilters,
    status_filters: tuple[StatusFilter, ...],
    offset: int,
    limit: int = PAGE_ROWS,
) -> Heatmap:
    ids = component_ids(url, version, filters)
    with read_connection(cached.engine(url)) as conn:
        return set_heatmap(
            conn, set_id, component_ids=ids, status_filters=status_filters, offset=offset, limit=limit
        )


def rights(url: str, username: str | None, set_id: int) -> ui_queries.SignOffRights:
    """Not cached: rights are read fresh on every rerun."""
    with read_connection(cached.engine(url)) as conn:
        return ui_queries.sign_off_rights(conn, username=username, set_id=set_id)


# --- the heat-map and the table -----------------------------------------------------------------------


def _column_labels(titles: Sequence[str]) -> list[str]:
    """Unique, short x labels: "3. Title" (titles are cut at 28 characters; hover has them whole)."""
    return [f"{i}. {t if len(t) <= 28 else t[:27] + '…'}" for i, t in enumerate(titles, start=1)]


def _when(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(value)


def _status_heatmap(
    z: Any, x: list[str], y: list[str], text: Any, customdata: Any, hover: str, title: str
) -> go.Heatmap:
    """A heat-map trace on the six statuses: one discrete colour each, a legend (colour bar with the
    status names), the status mark in each cell."""
    k = len(HEAT_STATUSES)
    scale = []
    for i, status in enumerate(HEAT_STATUSES):
        scale += [[i / k, HEAT_COLOURS[status]], [(i + 1) / k, HEAT_COLOURS[status]]]
    return go.Heatmap(
        z=z,
        x=x,
        y=y,
        text=text,
        texttemplate="%{text}",
        customdata=customdata,
        colorscale=scale,
        zmin=-0.5,
        zmax=k - 0.5,
        xgap=1,
        ygap=1,
        hovertemplate=hover,
        colorbar={
            "title": {"text": title},
            "tickvals": list(range(k)),
            "ticktext": [STATUS_LABELS[s] for s in HEAT_STATUSES],
            "lenmode": "pixels",
            "len": 220,
            "yanchor": "top",
            "y": 1,
        },
    )


def _linked_names(fig: go.Figure, names: list[str]) -> None:
    """Rows in order, top down, each name a link to its component's page."""
    fig.update_yaxes(
        autorange="reversed",
        tickmode="array",
        tickvals=names,
        ticktext=[
            f'<a href="{html.escape(component_href(n))}" target="_self">{html.escape(n)}</a>' for n in names
        ],
    )


def heatmap_figure(hm: Heatmap) -> go.Figure:
    """Components (rows, in page order) × requirements, coloured by overall status, a mark in each
    cell (the colour is never the only cue), a legend of the six statuses, hover with the details.
    A component's name on the axis links to its page."""
    n_rows, n_cols = len(hm.components), len(hm.requirements)
    code = {s: i for i, s in enumerate(HEAT_STATUSES)}
    z = np.full((n_rows, n_cols), np.nan)
    marks = np.full((n_rows, n_cols), "", dtype=object)
    custom = np.empty((n_rows, n_cols, 8), dtype=object)
    custom[:] = ""
    if len(hm.cells):
        row_of = {name: i for i, name in enumerate(hm.components)}
        col_of = {title: j for j, title in enumerate(hm.requirements)}
        cells = hm.cells
        rows = cells["component"].map(row_of).to_numpy()
        cols = cells["requirement"].map(col_of).to_numpy()
        ok = ~(pd.isna(rows) | pd.isna(cols))
        rows, cols = rows[ok].astype(int), cols[ok].astype(int)
        cells = cells[ok]
        overall = cells["overall"].fillna("unknown").to_numpy()
        z[rows, cols] = [code.get(s, code["unknown"]) for s in overall]
        marks[rows, cols] = [STATUS_MARKS.get(s, ("?",))[0] for s in overall]
        signee = [
            f"{STATUS_LABELS.get(eff, eff)} (expired: was {STATUS_LABELS.get(rec, rec)})" if exp else rec
            for rec, eff, exp in zip(
                cells["signee_status"], cells["signee_effective"], cells["expired"], strict=True
            )
        ]
        details = np.array(
            [
                [html.escape(str(r)) for r in cells["requirement"]],
                cells["owner_status"].map(lambda s: STATUS_LABELS.get(s, s)).to_numpy(),
                np.array([STATUS_LABELS.get(s, s) for s in signee], dtype=object),
                np.array([STATUS_LABELS.get(s, s) for s in overall], dtype=object),
                [html.escape(n).replace("\n", "<br>") if n else "–" for n in cells["notes"]],
                [html.escape(str(w)) if isinstance(w, str) and w else "–" for w in cells["who"]],
                [_when(w) or "–" for w in cells["when"]],
                [html.escape(str(c)) for c in cells["component"]],
            ],
            dtype=object,
        ).T
        custom[rows, cols] = details
    labels = [html.escape(label) for label in _column_labels(hm.requirements)]  # plotly reads some HTML
    y = list(hm.components)  # the axis shows linked, escaped names; hover the escaped name
    hover = (
        "<b>%{customdata[7]}</b><br>%{customdata[0]}<br>owner: %{customdata[1]}<br>"
        "signee: %{customdata[2]}<br>overall: <b>%{customdata[3]}</b><br>"
        "notes: %{customdata[4]}<br>last act: %{customdata[5]}, %{customdata[6]}<extra></extra>"
    )
    # lists, not numpy: plotly would ship typed-array blobs
    fig = go.Figure(_status_heatmap(z.tolist(), labels, y, marks.tolist(), custom.tolist(), hover, "overall"))
    _linked_names(fig, y)
    fig.update_xaxes(side="top", tickangle=-40)
    fig.update_layout(
        height=max(320, 26 * n_rows + 230),
        margin={"l": 10, "r": 10, "t": 160, "b": 10},
    )
    return fig


def table_view(hm: Heatmap) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per component of the page: the set status, then a status mark per requirement."""
    labels = _column_labels(hm.requirements)
    cc = st.column_config
    config: dict[str, Any] = {
        "component": cc.LinkColumn("Component", display_text=r"name=([^&]*)", pinned=True),
        "set_status": cc.TextColumn("Set status"),
    }
    out = pd.DataFrame(
        {
            "component": [component_href(n) for n in hm.components],
            "set_status": [mark(hm.set_status.get(n)) for n in hm.components],
        }
    )
    if len(hm.cells):
        wide = hm.cells.pivot_table(
            index="component", columns="requirement", values="overall", aggfunc="first"
        ).reindex(index=hm.components, columns=hm.requirements)
        for j, (title, label) in enumerate(zip(hm.requirements, labels, strict=True)):
            out[f"r{j}"] = [mark(s) if isinstance(s, str) else "" for s in wide[title].to_numpy()]
            config[f"r{j}"] = cc.TextColumn(label, help=md_text(title))
    return out, config


# --- the grids -------------------------------------------------------------------------------------

GRID_KEYS = ["version_id", "requirement_id"]
_SIGN_EDITABLE = ["verdict", "signee_notes", "evidence_url"]
_CLAIM_EDITABLE = ["claim", "owner_notes"]


@dataclass
class Snapshot:
    """What a grid was drawn from: ``base`` (rows as read, with their row_version: the diff and the
    stale check use it) and ``shown`` (base, plus typed values re-applied after a reload)."""

    scope: tuple[Any, ...]
    base: pd.DataFrame
    shown: pd.DataFrame
    generation: int = 0
    messages: list[str] = field(default_factory=list)
    stale: bool = False


def has_edits(state: Any) -> bool:
    """Whether a data editor's state holds typed changes."""
    return isinstance(state, dict) and any(
        state.get(k) for k in ("edited_rows", "added_rows", "deleted_rows")
    )


def editor_key(mode: Mode, generation: int) -> str:
    """The grid's widget key; a new generation (after a reload) starts a fresh editor."""
    return f"signoff_grid_{mode}_editor_{generation}"


def read_grid_rows(
    url: str, set_id: int, version_ids: Sequence[int], mode: Mode, only_open: bool = False
) -> pd.DataFrame:
    """Fresh (uncached) rows for a grid: one per (version, requirement of the set), excluded sets
    left out. ``only_open``: for signees, the claims awaiting a verdict (owner ready or n/a, verdict
    unknown or expired); for owners, the requirements whose overall status is unknown or not ready."""
    if not version_ids:
        df = pd.DataFrame(columns=_GRID_COLUMNS[mode])
        return df
    with read_connection(cached.engine(url)) as conn:
        df = requirement_statuses(conn, requirement_set=set_id, version_ids=list(version_ids))
    order = {int(v): i for i, v in enumerate(version_ids)}
    df = df.assign(_o=df["version_id"].map(lambda v: order.get(int(v), 0)))
    df = df.sort_values(["_o", "requirement_position", "requirement_id"], kind="stable")
    keep = ~df["excluded"]
    if only_open and mode == "sign":
        keep &= df["owner_status"].isin(("ready", "n/a")) & df["signee_effective"].eq("unknown")
    elif only_open:
        keep &= df["overall"].isin(("unknown", "not_ready"))
    df = df[keep].head(GRID_ROWS).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "component": df["component"].astype(str),
            "requirement": df["requirement"].astype(str),
            "claim": df["owner_status"],
            "owner_notes": df["owner_notes"].where(df["owner_notes"].notna(), None),
            "verdict": df["signee_effective"].where(~df["expired"], df["signee_status"]),
            "expired": df["expired"].astype(bool),
            "overall": df["overall"].map(mark),
            "signee_notes": df["signee_notes"].where(df["signee_notes"].notna(), None),
            "evidence_url": df["evidence_url"].where(df["evidence_url"].notna(), None),
            "version_id": df["version_id"].astype("int64"),
            "requirement_id": df["requirement_id"].astype("int64"),
            "row_version": df["row_version"].fillna(0).astype("int64"),
        }
    )
    out["verdict"] = out["verdict"].where(out["verdict"].isin(SIGNEE_CHOICES), "unknown")
    return out[_GRID_COLUMNS[mode]]


_GRID_COLUMNS: dict[str, list[str]] = {
    "sign": [
        "component",
        "requirement",
        "claim",
        "owner_notes",
        "overall",
        "verdict",
        "expired",
        "signee_notes",
        "evidence_url",
        "version_id",
        "requirement_id",
        "row_version",
    ],
    "claim": [
        "component",
        "requirement",
        "claim",
        "owner_notes",
        "overall",
        "verdict",
        "expired",
        "signee_notes",
        "version_id",
        "requirement_id",
        "row_version",
    ],
}


def grid_config(mode: Mode) -> tuple[dict[str, Any], list[str]]:
    """(column configuration, disabled columns) of a grid."""
    cc = st.column_config
    config: dict[str, Any] = {
        "component": cc.TextColumn("Component", pinned=True),
        "requirement": cc.TextColumn("Requirement", width="medium"),
        "claim": cc.SelectboxColumn("Owner claim", options=list(OWNER_CHOICES), required=True),
        "owner_notes": cc.TextColumn("Owner notes", width="medium"),
        "overall": cc.TextColumn("Overall", width="small"),
        "verdict": cc.SelectboxColumn(
            "Verdict",
            options=list(SIGNEE_CHOICES),
            required=True,
            help="ready / not ready / unknown. To approve an owner's n/a, choose ready.",
        ),
        "expired": cc.CheckboxColumn("Expired", help="The verdict is older than the set's validity."),
        "signee_notes": cc.TextColumn("Signee notes", width="medium"),
        "evidence_url": cc.LinkColumn("Evidence", help="A link to the evidence (http, https)"),
        "version_id": None,
        "requirement_id": None,
        "row_version": None,
    }
    editable = _SIGN_EDITABLE if mode == "sign" else _CLAIM_EDITABLE
    disabled = [c for c in _GRID_COLUMNS[mode] if c not in editable]
    return config, disabled


_blank = grids.text  # a cell's text, None when blank (NaN, NA, spaces)


def _differs(a: Any, b: Any) -> bool:
    return not grids.same(a, b)


def cell_errors(edited: pd.DataFrame, mode: Mode) -> list[str]:
    """Every invalid cell, as "row N (component / requirement), column: why" (nothing is saved then)."""
    errors: list[str] = []
    column, choices = ("verdict", SIGNEE_CHOICES) if mode == "sign" else ("claim", OWNER_CHOICES)
    for pos, row in enumerate(edited.itertuples(index=False), start=1):
        where = f"row {pos} ({row.component} / {row.requirement})"
        value = getattr(row, column)
        if value not in choices:
            errors.append(f"{where}, {column}: {value!r} is not one of {', '.join(choices)}")
        if mode == "sign":
            try:
                clean_url(row.evidence_url, "evidence")
            except InvalidValue as error:
                errors.append(f"{where}, evidence: {error}")
    return errors


def verdict_changes(base: pd.DataFrame, edited: pd.DataFrame, set_id: int) -> list[VerdictChange]:
    """The rows whose verdict, notes or evidence differ from what was read. A new verdict is a
    sign-off act; notes or evidence alone keep the recorded sign-off (``status=None``)."""
    changes = []
    for old, new in zip(base.itertuples(index=False), edited.itertuples(index=False), strict=True):
        verdict_changed = old.verdict != new.verdict
        if not (
            verdict_changed
            or _differs(old.signee_notes, new.signee_notes)
            or _differs(old.evidence_url, new.evidence_url)
        ):
            continue
        changes.append(
            VerdictChange(
                version_id=int(old.version_id),
                requirement_id=int(old.requirement_id),
                status=str(new.verdict) if verdict_changed else None,
                notes=_blank(new.signee_notes),
                evidence_url=_blank(new.evidence_url),
                set_id=set_id,
                expected_row_version=int(old.row_version),
            )
        )
    return changes


def claim_changes(base: pd.DataFrame, edited: pd.DataFrame) -> list[ClaimChange]:
    changes = []
    for old, new in zip(base.itertuples(index=False), edited.itertuples(index=False), strict=True):
        if old.claim == new.claim and not _differs(old.owner_notes, new.owner_notes):
            continue
        changes.append(
            ClaimChange(
                version_id=int(old.version_id),
                requirement_id=int(old.requirement_id),
                status=str(new.claim),
                notes=_blank(new.owner_notes),
                expected_row_version=int(old.row_version),
            )
        )
    return changes


def conflict_message(error: Exception, rows: pd.DataFrame) -> str:
    """Name the grid cells a refused save is about (component / requirement), not their ids."""
    if not isinstance(error, BatchStaleWrite | BatchPermissionDenied):
        return str(error)
    names = {
        (int(v), int(r)): f"{c} / {q}"
        for v, r, c, q in zip(
            rows["version_id"], rows["requirement_id"], rows["component"], rows["requirement"], strict=True
        )
    }
    listed = [names.get(pair, f"version {pair[0]} requirement {pair[1]}") for pair in error.conflicts]
    shown = "; ".join(listed[:20]) + (f"; and {len(listed) - 20} more" if len(listed) > 20 else "")
    if isinstance(error, BatchStaleWrite):
        return (
            f"Not saved: someone else changed {len(listed)} of these rows since you loaded them — "
            f"{shown}. Nothing was written. Reload to see their changes; what you typed is kept."
        )
    return f"Not saved: you may not change {shown}. Nothing was written."


def reapply(typed_base: pd.DataFrame, typed: pd.DataFrame, fresh: pd.DataFrame, mode: Mode) -> pd.DataFrame:
    """``fresh`` with the values the user typed (cells that differ from what they had read)
    written over it, matched by (version, requirement)."""
    editable = _SIGN_EDITABLE if mode == "sign" else _CLAIM_EDITABLE
    out = grids.reapply(typed_base, typed, fresh, key=GRID_KEYS, columns=editable)
    return out.astype(fresh.dtypes.to_dict())  # the grid's rows are fixed: the fresh rows' types hold


def status_filters(
    requirement: str | None, party: str | None, status: str | None
) -> tuple[StatusFilter, ...]:
    """The page's "requirement R has status S for owner / signee / overall" (none until R and S are chosen)."""
    if not requirement or not status:
        return ()
    return (StatusFilter(requirement, party or "overall", status),)  # type: ignore[arg-type]


def save(mode: Mode, snap: Snapshot, edited: pd.DataFrame, set_id: int) -> int | None:
    """Validate every cell, then save the grid's changes in one service call. Returns the number of
    rows saved (0: nothing changed), or None when refused — ``snap.messages`` says why and
    ``snap.stale`` whether a reload can help; nothing is written then."""
    errors = cell_errors(edited, mode)
    if errors:
        snap.messages, snap.stale = ["Nothing saved. Please correct:", *errors], False
        return None
    if mode == "sign":
        changes: Sequence[Any] = verdict_changes(snap.base, edited, set_id)
        outcome = actions.perform(set_signee_verdicts, changes=changes)
    else:
        changes = claim_changes(snap.base, edited)
        outcome = actions.perform(set_owner_claims, changes=changes)
    if outcome.ok:
        snap.messages, snap.stale = [], False
        return len(changes)
    assert outcome.error is not None
    snap.messages = [conflict_message(outcome.error, snap.base)]
    snap.stale = isinstance(outcome.error, StaleWrite)
    return None


# --- all sets ------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=4, ttl=cached.TIME_TTL)
def all_sets(url: str, version: int) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return all_sets_heatmap(conn)


def all_sets_filtered(url: str, version: int, filters: OverviewFilters) -> pd.DataFrame:
    frame = all_sets(url, version)
    ids = component_ids(url, version, filters)
    if ids is None:
        return frame
    out = frame[frame["component_id"].isin(ids)]
    out.attrs = dict(frame.attrs)
    return out


def all_sets_figure(page: pd.DataFrame) -> go.Figure:
    """Components (rows) × sets, coloured by set status, with the status mark in each cell; set
    names link to the set's page, component names to the component's."""
    columns = list(page.attrs.get("set_columns", []))
    code = {s: i for i, s in enumerate(HEAT_STATUSES)}
    values = page[columns].to_numpy(dtype=object) if columns else np.empty((len(page), 0), dtype=object)
    z = [[code.get(v, np.nan) if isinstance(v, str) else None for v in row] for row in values]
    text = [
        [STATUS_MARKS[v][0] if isinstance(v, str) and v in STATUS_MARKS else "" for v in row]
        for row in values
    ]
    names = [str(n) for n in page["component"]]
    sets_escaped = [html.escape(c) for c in columns]
    hover = [  # [component, set, status], escaped: plotly reads some HTML in hover text
        [
            [
                html.escape(name),
                sets_escaped[j],
                STATUS_LABELS.get(v, "no requirements") if isinstance(v, str) else "no requirements",
            ]
            for j, v in enumerate(row)
        ]
        for name, row in zip(names, values, strict=True)
    ]
    hover_text = "%{customdata[0]}<br>%{customdata[1]}: <b>%{customdata[2]}</b><extra></extra>"
    fig = go.Figure(_status_heatmap(z, columns, names, text, hover, hover_text, "set status"))
    _linked_names(fig, names)
    fig.update_xaxes(
        side="top",
        tickmode="array",
        tickvals=columns,
        ticktext=[
            f'<a href="{html.escape(set_href(c))}" target="_self">{html.escape(c)}</a>' for c in columns
        ],
    )
    fig.update_layout(height=max(300, 24 * len(page) + 140), margin={"l": 10, "r": 10, "t": 80, "b": 10})
    return fig


def share_by_set_figure(shares: pd.DataFrame) -> go.Figure:
    """Horizontal bars: the share of components ready per set (hover: ready of applicable)."""
    fig = go.Figure(
        go.Bar(
            x=(shares["share_ready"] * 100).round(1),
            y=[html.escape(str(n)) for n in shares["set"]],
            orientation="h",
            marker_color=HEAT_COLOURS["ready"],
            customdata=np.stack([shares["ready"], shares["applicable"]], axis=1).tolist(),
            text=[f"{v:.0%}" if v == v else "–" for v in shares["share_ready"]],
            textposition="auto",
            hovertemplate="%{y}: %{customdata[0]} of %{customdata[1]} components ready<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100], title="components ready (%)")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=60 + 40 * len(shares), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def share_by_category_figure(shares: pd.DataFrame) -> go.Figure:
    """Category × set: the share ready, on a colour-blind-safe sequential scale (cividis)."""
    wide = shares.pivot(index="category", columns="set", values="share_ready")
    sets_order = list(dict.fromkeys(shares["set"]))
    wide = wide.reindex(columns=sets_order)
    ready = shares.pivot(index="category", columns="set", values="ready").reindex(columns=sets_order)
    applicable = shares.pivot(index="category", columns="set", values="applicable").reindex(
        columns=sets_order
    )
    custom = np.dstack([ready.to_numpy(), applicable.to_numpy()]).tolist()
    pct = (wide * 100).round(0)
    fig = go.Figure(
        go.Heatmap(
            z=pct.to_numpy().tolist(),
            x=[html.escape(str(n)) for n in sets_order],
            y=[html.escape(str(c)) for c in wide.index],
            zmin=0,
            zmax=100,
            colorscale="Cividis",
            text=[[f"{v:.0f} %" if v == v else "–" for v in row] for row in pct.to_numpy()],
            texttemplate="%{text}",
            customdata=custom,
            hovertemplate="%{y} · %{x}: %{customdata[0]} of %{customdata[1]} ready<extra></extra>",
            colorbar={"title": {"text": "% ready"}},
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=80 + 30 * len(wide), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def shares(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(share ready per set, per category × set) of an all-sets frame (filtered or not)."""
    return share_ready_by_set(frame), share_ready_by_category(frame)
