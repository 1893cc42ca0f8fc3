"""Compliance over time: the weekly trend of the shares ready per set (cached per URL, data version and
number of weeks), and a set's heat-map as of a chosen date (cached per set and date). DataFrames in,
plotly figures out; the colours are the colour-blind-safe palette of ``style``."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from panopticum_data.db import read_connection
from panopticum_data.errors import NotFound
from panopticum_data.queries import as_of, list_requirements
from panopticum_data.queries.signoff import compliance_over_time

from . import cached
from .style import OKABE_ITO, STATUS_COLOURS, STATUS_MARKS

BIND = "query-params"
WEEKS = (13, 26, 52)
HEATMAP_ROWS = 200
LINE_COLOURS = tuple(
    OKABE_ITO[c]
    for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "yellow", "grey")
)
STATUS_ORDER = ("ready", "n/a", "waiting", "waiting_na", "not_ready", "unknown")


# --- cached reads ------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Replaying the audit trail…", max_entries=8, ttl=3600)
def trend(url: str, version: int, weeks: int) -> pd.DataFrame:
    """``compliance_over_time`` up to now (recomputed at the latest an hour later: the weeks move)."""
    with read_connection(cached.engine(url)) as conn:
        return compliance_over_time(conn, weeks=weeks)


@st.cache_data(show_spinner=False, max_entries=4)
def set_names(url: str, version: int) -> list[str]:
    """The sets that have requirements, in set order."""
    with read_connection(cached.engine(url)) as conn:
        reqs = list_requirements(conn)
    return [str(n) for n in reqs.drop_duplicates("set_id")["set_name"]]


@dataclass(frozen=True)
class AsOf:
    cells: pd.DataFrame  # set_statuses_as_of of the first components by name
    components: list[str]
    requirements: list[str]
    total: int  # components with a current version

    @property
    def remaining(self) -> int:
        return max(self.total - len(self.components), 0)


def end_of(day: date) -> datetime:
    """The moment a date stands for: its last microsecond (UTC), or now for today and later."""
    return min(datetime.combine(day, time.max, tzinfo=UTC), datetime.now(UTC))


@st.cache_data(show_spinner="Replaying the audit trail…", max_entries=16)
def heatmap_as_of(url: str, version: int, set_name: str, day: date) -> AsOf | None:
    """The set's statuses at the end of ``day`` for the first ``HEATMAP_ROWS`` components by name;
    None when the set does not exist (any more)."""
    with read_connection(cached.engine(url)) as conn:
        comps = as_of.current_components(conn)
        first = comps.iloc[:HEATMAP_ROWS]
        try:
            cells = as_of.set_statuses_as_of(
                conn, set_name, end_of(day), component_ids=[int(i) for i in first["component_id"]]
            )
        except NotFound:
            return None
    return AsOf(
        cells=cells,
        components=[str(c) for c in first["component"]],
        requirements=[str(r) for r in cells.drop_duplicates("requirement_id")["requirement"]],
        total=len(comps),
    )


# --- widgets ---------------------------------------------------------------------------------------


def weeks_widget() -> int:
    chosen = st.segmented_control("Weeks", WEEKS, default=26, key="weeks", bind=BIND, required=True)
    return int(chosen or 26)


def as_of_widgets(names: list[str]) -> tuple[str, date]:
    today = datetime.now(UTC).date()
    left, right = st.columns([3, 1])
    with left:
        chosen = st.selectbox("Requirement set", names, key="heatmap_set", bind=BIND)
    with right:
        day = st.date_input("As of", value=today, max_value=today, key="as_of", bind=BIND)
    return str(chosen or names[0]), day if isinstance(day, date) else today


# --- figures ---------------------------------------------------------------------------------------


def latest_week(data: pd.DataFrame) -> pd.DataFrame:
    """The last week's rows: set, ready, applicable, share (0–100)."""
    last = data[data["week"] == data["week"].max()]
    return pd.DataFrame(
        {
            "set": last["set"].astype(object).to_numpy(),
            "ready": last["ready"].to_numpy(),
            "applicable": last["applicable"].to_numpy(),
            "share": (100 * last["share_ready"]).round(1).to_numpy(),
        }
    )


def trend_figure(data: pd.DataFrame) -> go.Figure:
    """One line per set: x the week end, y the share ready in %, hover with the counts."""
    fig = go.Figure()
    for i, (name, part) in enumerate(data.groupby("set", sort=False)):
        fig.add_scatter(
            x=[w.isoformat() for w in part["week"]],
            y=(100 * part["share_ready"]).round(1).tolist(),  # plain lists: readable in the figure's JSON
            mode="lines+markers",
            name=html.escape(str(name)),  # plotly reads a little HTML
            line={"color": LINE_COLOURS[i % len(LINE_COLOURS)], "width": 2},
            customdata=np.column_stack([part["ready"], part["applicable"]]).tolist(),
            hovertemplate="%{x|%Y-%m-%d}: %{y:.1f} % ready<br>%{customdata[0]} of %{customdata[1]} pairs"
            + f"<extra>{html.escape(str(name))}</extra>",
        )
    fig.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        yaxis={"title": "ready (%)", "range": [0, 100], "ticksuffix": " %"},
        xaxis={"title": "week ending"},
        hovermode="closest",
    )
    return fig


def heatmap_figure(data: AsOf) -> go.Figure:
    """Components × requirements, one discrete colour per overall status, its mark in the cell."""
    cells = data.cells
    codes = cells["overall"].map({s: i for i, s in enumerate(STATUS_ORDER)}).fillna(len(STATUS_ORDER) - 1)
    shape = (len(data.components), len(data.requirements))
    z = codes.to_numpy(dtype=float).reshape(shape)
    marks = cells["overall"].map(lambda s: STATUS_MARKS.get(s, ("?", s, ""))[0]).to_numpy().reshape(shape)
    hover = np.column_stack(
        [
            cells["owner_status"].map(_label),
            [
                _label(e) if e == r else f"{_label(r)} (expired)"
                for r, e in zip(cells["signee_status"], cells["signee_effective"], strict=True)
            ],
            cells["overall"].map(_label),
            np.where(cells["excluded"], " (set excluded)", ""),
            cells["requirement"].map(lambda r: html.escape(str(r))),
            cells["component"].map(lambda c: html.escape(str(c))),
        ]
    ).reshape((*shape, 6))
    n = len(STATUS_ORDER)
    scale = []
    for i, status in enumerate(STATUS_ORDER):  # a band of the 0–1 scale per status
        colour = STATUS_COLOURS[status]
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    fig = go.Figure(
        go.Heatmap(
            z=z.tolist(),
            x=list(range(shape[1])),
            y=list(range(shape[0])),
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=scale,
            text=marks.tolist(),
            texttemplate="%{text}",
            customdata=hover.tolist(),
            xgap=1,
            ygap=1,
            hovertemplate="%{customdata[5]} · %{customdata[4]}<br>owner: %{customdata[0]}<br>signee: %{customdata[1]}"
            "<br>overall: %{customdata[2]}%{customdata[3]}<extra></extra>",
            colorbar={
                "tickvals": list(range(n)),
                "ticktext": [f"{STATUS_MARKS[s][0]} {STATUS_MARKS[s][1]}" for s in STATUS_ORDER],
                "title": {"text": "overall"},
                "lenmode": "pixels",  # a legend at the top, whatever the number of rows
                "len": 190,
                "y": 1,
                "yanchor": "top",
                "thickness": 14,
            },
        )
    )
    fig.update_layout(
        height=max(260, 22 * shape[0] + 140),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={
            "autorange": "reversed",
            "tickvals": list(range(shape[0])),
            "ticktext": [html.escape(c) for c in data.components],
        },
        xaxis={
            "side": "top",
            "tickvals": list(range(shape[1])),
            "ticktext": [html.escape(r) for r in data.requirements],
        },
    )
    return fig


def _label(status: object) -> str:
    return STATUS_MARKS[status][1] if isinstance(status, str) and status in STATUS_MARKS else str(status)
