"""Release readiness of a product version (issue 4): the cached read, the two tables, a chart of what
blocks, and the Excel workbook — all built from one cached :class:`Readiness`, so a rerun costs one
cache lookup and the download never asks the database again.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from panopticum_data.db import read_connection
from panopticum_data.errors import NotFound
from panopticum_data.queries.entities import list_reference
from panopticum_data.queries.signoff import Readiness, release_readiness

from . import cached, widgets
from .style import OKABE_ITO, STATUS_MARKS, component_href, mark, md_text

QUERY_KEY = "product"  # widget key = query parameter
OWNER = "owner"
NO_SIGNER = "(no signer group)"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FIXED = ("version_id", "component", "version")


@st.cache_data(show_spinner=False, max_entries=4)
def product_versions(url: str, version: int) -> tuple[str, ...]:
    """Every product version's name, by family then position."""
    with read_connection(cached.engine(url)) as conn:
        frame = list_reference(conn, "product_version")
    frame = frame.sort_values(["family_id", "position", "name"], kind="stable")
    return tuple(str(n) for n in frame["name"])


@st.cache_data(show_spinner=False, max_entries=16, ttl=cached.TIME_TTL)
def readiness(url: str, version: int, product: str) -> Readiness | None:
    """The readiness of a product version (name, case-insensitive); None when there is no such one."""
    with read_connection(cached.engine(url)) as conn:
        try:
            return release_readiness(conn, product)
        except NotFound:
            return None


def match_requested(names: Sequence[str]) -> str | None:
    """Before the product widget is drawn: take the URL's ``?product=`` in any case into the widget's
    state, unless a product was already chosen in this session (the widget then keeps the URL in
    step). Without one, a dashboard filter (same key) on exactly one product version carries over.
    Returns the requested name when no product version has it."""
    raw = st.query_params.get(QUERY_KEY)
    state = st.session_state.get(QUERY_KEY)
    if not raw:
        if isinstance(state, list | tuple) and len(state) == 1 and state[0] in names:
            st.session_state[QUERY_KEY] = state[0]  # the dashboard's product filter, one product
        return None
    canonical = {n.lower(): n for n in names}
    if raw.lower() not in canonical:
        return raw
    if not isinstance(state, str):  # not chosen in this session yet
        st.session_state[QUERY_KEY] = canonical[raw.lower()]
    return None


def set_columns(r: Readiness) -> list[str]:
    named = r.components.attrs.get("set_columns")
    return list(named) if named else [c for c in r.components.columns if c not in _FIXED]


# --- summary ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    components: int
    blocking: int
    blocked_components: int  # component versions with at least one blocking requirement
    owner_actions: int  # blocking requirements waiting for their owner
    signee_actions: int  # blocking requirements waiting for a verdict


def summary(r: Readiness) -> Summary:
    b = r.blocking
    owner = int(b["who_must_act"].eq(OWNER).sum()) if len(b) else 0
    return Summary(
        components=len(r.components),
        blocking=len(b),
        blocked_components=int(b["version_id"].nunique()) if len(b) else 0,
        owner_actions=owner,
        signee_actions=len(b) - owner,
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def verdict_text(r: Readiness) -> str:
    s = summary(r)
    if r.ready:
        return "Ready — nothing blocks this release."
    return (
        f"Not ready — {_plural(s.blocking, 'blocking requirement')} "
        f"on {_plural(s.blocked_components, 'component')}"
    )


def show_verdict(r: Readiness) -> None:
    s = summary(r)
    name = md_text(r.product_version)
    if r.ready:
        st.success(f"### Ready\n**{name}**: nothing blocks this release.", icon=":material/rocket_launch:")
        if not s.components:
            st.caption("No component version is deployed in this product version yet.")
    else:
        st.error(f"### {verdict_text(r)}\n**{name}**", icon=":material/block:")
    tiles = st.columns(4)
    tiles[0].metric("Components", f"{s.components:,}", help="Component versions deployed in it", border=True)
    tiles[1].metric("Blocking requirements", f"{s.blocking:,}", border=True)
    tiles[2].metric(
        "Owners must act", f"{s.owner_actions:,}", help="Claim missing, not ready, or declined", border=True
    )
    tiles[3].metric(
        "Signees must act", f"{s.signee_actions:,}", help="Claimed, waiting for a verdict", border=True
    )


# --- tables -----------------------------------------------------------------------------------------


def _who(value: object) -> str:
    return value if isinstance(value, str) and value else NO_SIGNER


def components_rows(r: Readiness) -> pd.DataFrame:
    """One row per deployed component version: link, version, one status mark per set (``set0``…)."""
    c = r.components
    out = pd.DataFrame(
        {
            "component": [
                component_href(str(n), str(v)) for n, v in zip(c["component"], c["version"], strict=True)
            ],
            "version": c["version"].astype(str).to_numpy(),
        }
    )
    for i, name in enumerate(set_columns(r)):
        out[f"set{i}"] = c[name].map(mark).to_numpy()
    return out


def blocking_rows(r: Readiness) -> pd.DataFrame:
    b = r.blocking
    return pd.DataFrame(
        {
            "component": [
                component_href(str(n), str(v)) for n, v in zip(b["component"], b["version"], strict=True)
            ],
            "version": b["version"].astype(str).to_numpy(),
            "set": b["set"].astype(str).to_numpy(),
            "requirement": b["requirement"].astype(str).to_numpy(),
            "overall": b["overall"].map(mark).to_numpy(),
            "who_must_act": b["who_must_act"].map(_who).to_numpy(),
        }
    )


def styled(frame: pd.DataFrame) -> Any:
    """Colour the status marks (the ``set0``… columns and ``overall``)."""
    return widgets.styled(frame, [c for c in frame.columns if re.fullmatch(r"set\d+|overall", str(c))])


def _link_column() -> Any:
    return st.column_config.LinkColumn(
        "Component",
        display_text=r"name=([^&]*)",
        pinned=True,
        width="medium",
        help="Open the component's page",
    )


def components_config(r: Readiness) -> dict[str, Any]:
    cc = st.column_config
    config: dict[str, Any] = {"component": _link_column(), "version": cc.TextColumn("Version", width="small")}
    for i, name in enumerate(set_columns(r)):
        config[f"set{i}"] = cc.TextColumn(name, help=f"Set status: {name}")
    return config


def blocking_config() -> dict[str, Any]:
    cc = st.column_config
    return {
        "component": _link_column(),
        "version": cc.TextColumn("Version", width="small"),
        "set": cc.TextColumn("Set"),
        "requirement": cc.TextColumn("Requirement", width="large"),
        "overall": cc.TextColumn("Overall"),
        "who_must_act": cc.TextColumn("Who must act", help="The owner, or the set's signer groups"),
    }


# --- chart ------------------------------------------------------------------------------------------


def blocking_chart(r: Readiness) -> go.Figure:
    """Horizontal bars: blocking requirements per set, split by who must act (owner / signees)."""
    b = r.blocking
    order = [s for s in set_columns(r) if s in set(b["set"])]
    is_owner = b["who_must_act"].eq(OWNER)
    fig = go.Figure()
    for label, part, colour in (
        ("owner must act", b[is_owner], OKABE_ITO["vermillion"]),
        ("signees must act", b[~is_owner], OKABE_ITO["blue"]),
    ):
        counts = part["set"].value_counts().reindex(order, fill_value=0)
        fig.add_bar(
            y=[html.escape(s) for s in order],  # plotly reads a little HTML
            x=[int(n) for n in counts.to_numpy()],
            name=label,
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}: %{x}<extra>" + label + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=max(200, 40 * len(order) + 90),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        xaxis_title="blocking requirements",
        yaxis={"autorange": "reversed"},
    )
    return fig


# --- Excel ------------------------------------------------------------------------------------------


def _label(status: object) -> str:
    """A status as a word for the workbook ("not ready", "waiting (n/a)"); empty when missing."""
    if not isinstance(status, str) or not status:
        return ""
    return STATUS_MARKS.get(status, ("", status, ""))[1]


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> Worksheet:
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, start=1):
        longest = max([len(str(name)), *(len(str(row[i - 1])) for row in rows if row[i - 1] is not None)])
        ws.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, 8), 60)
    return ws


def workbook(r: Readiness, *, generated_at: datetime | None = None) -> bytes:
    """The readiness as an .xlsx: sheets "Summary", "Components" (one column per set) and "Blocking".
    Reads nothing: everything comes from ``r``."""
    s = summary(r)
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(
        wb,
        "Summary",
        ["Item", "Value"],
        [
            ["Product version", r.product_version],
            ["Ready", "yes" if r.ready else "no"],
            ["Components", s.components],
            ["Blocking requirements", s.blocking],
            ["Components with blocking requirements", s.blocked_components],
            ["Owners must act", s.owner_actions],
            ["Signees must act", s.signee_actions],
            ["Generated at (UTC)", moment],
        ],
    )["B9"].number_format = "yyyy-mm-dd hh:mm:ss"
    sets = set_columns(r)
    c = r.components
    _sheet(
        wb,
        "Components",
        ["Component", "Version", *sets],
        [
            [str(row["component"]), str(row["version"]), *(_label(row[n]) for n in sets)]
            for _, row in c.iterrows()
        ],
    )
    b = r.blocking
    _sheet(
        wb,
        "Blocking",
        ["Component", "Version", "Set", "Requirement", "Overall", "Who must act"],
        [
            [
                str(row.component),
                str(row.version),
                str(row.set),
                str(row.requirement),
                _label(row.overall),
                _who(row.who_must_act),
            ]
            for row in b.itertuples(index=False)
        ],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_name(r: Readiness) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", r.product_version).strip("-") or "product"
    return f"release-readiness-{slug}.xlsx"
