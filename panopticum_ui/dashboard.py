"""The components dashboard's data path: one function, :func:`dashboard_data`, does all the server
work of a rerun (cached overview -> filters -> tiles, chart frame and one page of rows), so it
can be timed on its own. Only the page's rows (at most 100) go to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from panopticum_data.db import read_connection
from panopticum_data.enums import LIFE_STATUS_LABELS
from panopticum_data.queries import OverviewFilters, apply_filters
from panopticum_data.scoring import band

from . import cached
from .style import LINK_KINDS, band_colour, component_href, mark, mark_colour, safe_url

TABLE_LINKS = ("repository", "docs", "api_spec", "issue_tracker")
SIGNED = ("ready", "n/a")


@dataclass(frozen=True)
class DashboardData:
    rows: pd.DataFrame  # the page's rows, ready for ``table``
    total: int  # components after filtering
    registry_size: int  # components in the registry
    page: int
    pages: int
    page_size: int
    average_rating: float | None
    fully_signed_share: float | None  # of the filtered components with at least one set
    by_category: pd.DataFrame  # category, band, components
    set_columns: tuple[str, ...]


def dashboard_data(filters: OverviewFilters, *, page: int = 1, page_size: int = 25) -> DashboardData:
    """Filter the (cached) overview, summarise it and cut out one page (clamped to the last page)."""
    url, version = cached.key()
    frame = cached.overview(url, version)
    filtered = _filter(url, frame, filters)
    return build_dashboard(
        filtered,
        registry_size=len(frame),
        page=page,
        page_size=page_size,
        links=lambda ids: cached.links(url, version, ids),
    )


def _filter(url: str, frame: pd.DataFrame, filters: OverviewFilters) -> pd.DataFrame:
    if filters == OverviewFilters():
        return frame
    # the owner filter is the only one that asks the database (one query)
    with read_connection(cached.engine(url)) as conn:
        out = apply_filters(conn, frame, filters)
    out.attrs = frame.attrs
    return out


def build_dashboard(
    filtered: pd.DataFrame,
    *,
    registry_size: int,
    page: int,
    page_size: int,
    links: Any,
) -> DashboardData:
    set_columns = tuple(filtered.attrs.get("set_columns", []))
    total = len(filtered)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    chunk = filtered.iloc[(page - 1) * page_size : page * page_size]
    ratings = pd.to_numeric(filtered["rating"], errors="coerce")
    return DashboardData(
        rows=_rows(chunk, set_columns, links(tuple(int(i) for i in chunk["component_id"]))),
        total=total,
        registry_size=registry_size,
        page=page,
        pages=pages,
        page_size=page_size,
        average_rating=None if ratings.notna().sum() == 0 else float(ratings.mean()),
        fully_signed_share=_fully_signed(filtered, set_columns),
        by_category=_by_category(filtered),
        set_columns=set_columns,
    )


def _fully_signed(frame: pd.DataFrame, set_columns: tuple[str, ...]) -> float | None:
    if not set_columns or frame.empty:
        return None
    statuses = frame[list(set_columns)]
    signed = statuses.isin(SIGNED).all(axis=1) & ~statuses.eq("n/a").all(axis=1)
    return float(signed.mean())


def _by_category(frame: pd.DataFrame) -> pd.DataFrame:
    bands = frame["rating_band"].fillna("no rating")
    category = frame["category"].fillna("(none)")
    counts = (
        pd.DataFrame({"category": category, "band": bands}).value_counts().rename("components").reset_index()
    )
    return counts.sort_values(["category", "band"], ignore_index=True)


def _rows(chunk: pd.DataFrame, set_columns: tuple[str, ...], links: pd.DataFrame) -> pd.DataFrame:
    """The page's rows, most telling columns first (the grid scrolls sideways on small screens)."""
    out = pd.DataFrame(
        {
            "component": [component_href(n) for n in chunk["name"]],
            "rating": chunk["rating"],
            "completeness": chunk["completeness"],
            "qa": chunk["qa_score"],
        }
    ).reset_index(drop=True)
    for i, name in enumerate(set_columns):
        out[f"set{i}"] = chunk[name].map(mark).to_numpy()
    out["maintainer"] = chunk["maintainer"].to_numpy()
    wide = (
        links.assign(url=links["url"].map(safe_url)).pivot(index="component_id", columns="kind", values="url")
        if len(links)
        else pd.DataFrame()
    )
    ids = chunk["component_id"].to_numpy()
    for kind in TABLE_LINKS:
        values = wide[kind].reindex(ids).to_numpy() if kind in wide else np.full(len(ids), None)
        out[f"link_{kind}"] = [v if isinstance(v, str) else None for v in values]
    out["version"] = chunk["version"].to_numpy()
    out["category"] = chunk["category"].to_numpy()
    out["type"] = chunk["type"].to_numpy()
    out["life"] = chunk["life_status"].map(lambda s: LIFE_STATUS_LABELS.get(s, s)).to_numpy()
    return out


def _band_tint(score: object) -> str:
    """A light background in the rating's band colour (the number and bar stay readable)."""
    if score is None or score is pd.NA or (isinstance(score, float) and score != score):
        return ""
    return f"background-color: {band_colour(band(float(score)))}33"  # 20 % opacity


def _short(name: str) -> str:
    """A set's column label: its name, or its first word when the name is long."""
    return name if len(name) <= 14 else name.split()[0]


def table(data: DashboardData) -> dict[str, Any]:
    """Keyword arguments for ``st.dataframe``: a styled frame and its column configuration."""
    cc = st.column_config
    config: dict[str, Any] = {
        "component": cc.LinkColumn(
            "Component",
            display_text=r"name=([^&]*)",
            pinned=True,
            width="medium",
            help="Open the component's page",
        ),
        "rating": cc.ProgressColumn(
            "Rating", min_value=0, max_value=100, format="%d", color="#0072B2", width="small"
        ),
        "completeness": cc.ProgressColumn(
            "Complete", min_value=0, max_value=100, format="%d", color="#CC79A7", width="small"
        ),
        "qa": cc.ProgressColumn(
            "QA", min_value=0, max_value=100, format="%d", color="#009E73", width="small"
        ),
        "version": cc.TextColumn("Version", width="small"),
        "category": cc.TextColumn("Category"),
        "type": cc.TextColumn("Type"),
        "life": cc.TextColumn("Life status", width="small"),
        "maintainer": cc.TextColumn("Maintainer"),
    }
    for i, name in enumerate(data.set_columns):
        config[f"set{i}"] = cc.TextColumn(_short(name), help=f"Set status: {name}")
    for kind in TABLE_LINKS:
        label, icon = LINK_KINDS[kind]
        config[f"link_{kind}"] = cc.LinkColumn(label, display_text=icon, width="small", help=label)
    marks = [f"set{i}" for i in range(len(data.set_columns))]
    styled: Styler | pd.DataFrame = data.rows
    if len(data.rows):
        styled = data.rows.style.map(mark_colour, subset=marks).map(_band_tint, subset=["rating"])
    height = 35 * (len(data.rows) + 1) + 3  # every row of the page, no inner scrolling
    return {"data": styled, "column_config": config, "hide_index": True, "height": height}
