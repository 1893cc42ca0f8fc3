"""The component page's "As of" section (issue 5): the profile as it was at a chosen moment, rebuilt
from the audit trail (``queries.profile_as_of``), and the differences between two moments.

A moment is "now", a change set that touched the component (the profile right after it), or a date
and time typed in (UTC). Reads are cached per (database, data version, component, moments).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from panopticum_data.db import read_connection
from panopticum_data.errors import NotFound
from panopticum_data.queries import profile_as_of as pa

from . import cached
from .component import ComponentPage
from .style import md_text

NOW, PICK, NONE = "now", "pick", "none"
SECTION_LABELS = {
    "component": "Component",
    "version": "Version",
    "owners": "Owners",
    "stack": "Tech stack",
    "links": "Links",
    "documents": "Documents",
    "qa": "QA",
    "dependencies": "Dependencies",
    "deployments": "Deployments",
    "requirements": "Requirements",
    "exclusions": "Excluded sets",
}


@st.cache_data(show_spinner=False, max_entries=16)
def change_times(url: str, version: int, component_id: int) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return pa.change_times(conn, component_id)


@st.cache_data(show_spinner=False, max_entries=16)
def profile_at(url: str, version: int, component_id: int, at: datetime) -> pa.ProfileAsOf:
    with read_connection(cached.engine(url)) as conn:
        return pa.component_as_of(conn, component_id, at)


@st.cache_data(show_spinner=False, max_entries=16)
def diff(url: str, version: int, component_id: int, t1: datetime, t2: datetime) -> pd.DataFrame:
    with read_connection(cached.engine(url)) as conn:
        return pa.component_diff(conn, component_id, t1, t2)


def _moment_label(times: pd.DataFrame) -> dict[Any, str]:
    labels: dict[Any, str] = {NONE: "No comparison", NOW: "Now", PICK: "Pick a date and time…"}
    for cs_id, at, actor, summary in times[["change_set_id", "at", "actor", "summary"]].itertuples(
        index=False
    ):
        text = f"{at:%Y-%m-%d %H:%M:%S} UTC · change {int(cs_id)} · {actor}"  # (unique labels)
        labels[int(cs_id)] = f"{text} · {summary}" if isinstance(summary, str) and summary else text
    return labels


def _pick(label: str, key: str, times: pd.DataFrame, *, optional: bool, now: datetime) -> datetime | None:
    """A moment: now, right after a change set, or a typed date and time (taken as UTC)."""
    labels = _moment_label(times)
    options: list[Any] = [*([NONE] if optional else []), NOW, PICK, *[int(i) for i in times["change_set_id"]]]
    choice = st.selectbox(label, options, index=0, format_func=lambda v: labels.get(v, str(v)), key=key)
    if choice == NONE:
        return None
    if choice == NOW:
        return now
    if choice == PICK:
        typed = st.datetime_input(
            f"{label} (UTC)",
            value=now.replace(tzinfo=None, second=0, microsecond=0),
            step=60,
            format="YYYY-MM-DD",
            key=f"{key}_typed",
        )
        return typed.replace(tzinfo=UTC) if typed is not None else now
    at = times.loc[times["change_set_id"] == choice, "at"].iloc[0]
    return pd.Timestamp(at).to_pydatetime()


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["section"] = out["section"].map(lambda s: SECTION_LABELS.get(str(s), str(s)))
    return out


def section(data: ComponentPage) -> None:
    """The "As of" section: a moment picker, the profile then, and its differences with a second moment."""
    cid = int(data.component["component_id"])
    url, version = cached.key()
    # the next whole second: a whole second keeps the cache useful, and rounding down could fall
    # before a change made earlier in this very second (it would then look undone)
    now = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    st.subheader("As of a moment")
    times = change_times(url, version, cid)
    cols = st.columns(2)
    with cols[0]:
        at = _pick("As of", f"as_of_{cid}", times, optional=False, now=now)
    with cols[1]:
        other = _pick("Compare with", f"as_of_compare_{cid}", times, optional=True, now=now)
    assert at is not None
    try:
        profile = profile_at(url, version, cid, at)
        changes = diff(url, version, cid, min(at, other), max(at, other)) if other is not None else None
    except NotFound:
        st.warning("This component no longer exists; reload the page.", icon=":material/search_off:")
        return
    moment = f"{at:%Y-%m-%d %H:%M:%S} UTC"
    if other is not None:
        _differences(changes, min(at, other), max(at, other))
    if not profile.existed:
        st.info(f"The component did not exist yet at {moment}.", icon=":material/history:")
        return
    current = (
        f"version **{md_text(profile.version)}** was current" if profile.version else "no version was current"
    )
    st.caption(f"The profile at {moment}, rebuilt from the audit trail: {current}.")
    st.dataframe(
        _shown(profile.rows),
        hide_index=True,
        column_config={
            "section": st.column_config.TextColumn("Section"),
            "field": st.column_config.TextColumn("Field"),
            "value": st.column_config.TextColumn("Value", width="large"),
        },
    )


def _differences(changes: pd.DataFrame | None, t1: datetime, t2: datetime) -> None:
    span = f"between {t1:%Y-%m-%d %H:%M:%S} and {t2:%Y-%m-%d %H:%M:%S} UTC"
    if changes is None or changes.empty:
        st.caption(f"No differences {span}.")
        return
    st.caption(f"{len(changes)} differences {span}:")
    st.dataframe(
        _shown(changes),
        hide_index=True,
        column_config={
            "section": st.column_config.TextColumn("Section"),
            "field": st.column_config.TextColumn("Field"),
            "before": st.column_config.TextColumn("Before"),
            "after": st.column_config.TextColumn("After"),
        },
    )
