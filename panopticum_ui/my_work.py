"""The "Waiting for me" page's data path: the logged-in person's two work queues
(``signoff.waiting_for_signee`` and ``signoff.missing_for_owner``), cached per database, data version
and username, filtered and shaped for display — tables whose rows link to the right grid, summary
numbers, and a chart of the queue by set and age."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from panopticum_data.db import read_connection
from panopticum_data.errors import NotFound
from panopticum_data.queries import signoff

from . import cached, widgets
from .style import OKABE_ITO, component_href, mark

Queue = Literal["sign", "claim"]
TABLE_ROWS = 1000  # the oldest rows shown; the filters narrow the rest
AGE_BUCKETS = ("> 30 d", "7–30 d", "< 7 d", "no date")
BUCKET_COLOURS = {
    "> 30 d": OKABE_ITO["vermillion"],
    "7–30 d": OKABE_ITO["orange"],
    "< 7 d": OKABE_ITO["sky_blue"],
    "no date": OKABE_ITO["light_grey"],
}
REASONS = ("missing", "not ready", "declined")


@dataclass(frozen=True)
class Queues:
    """``to_sign``: claims awaiting the person's verdict; ``mine``: what is missing, not ready or
    declined on the components they own (both oldest first, as the data layer returns them)."""

    to_sign: pd.DataFrame
    signed_sets: tuple[str, ...]
    mine: pd.DataFrame
    owned_components: tuple[str, ...]

    def set_names(self) -> list[str]:
        """Every set either queue mentions, the signed ones first (their order), then by name."""
        rest = set(self.mine["set_name"].dropna().astype(str)) - set(self.signed_sets)
        return [*self.signed_sets, *sorted(rest, key=str.lower)]


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)  # ttl: ages move on without writes
def queues(url: str, version: int, username: str) -> Queues:
    """Both queues of ``username``; empty ones for a person not in the registry."""
    with read_connection(cached.engine(url)) as conn:
        try:
            to_sign = signoff.waiting_for_signee(conn, username)
            mine = signoff.missing_for_owner(conn, username)
        except NotFound:
            empty = pd.DataFrame(columns=["set_name", "age_days"])
            return Queues(empty, (), empty, ())
    return Queues(
        to_sign=to_sign,
        signed_sets=tuple(to_sign.attrs.get("signed_sets", ())),
        mine=mine,
        owned_components=tuple(mine.attrs.get("owned_components", ())),
    )


def set_page_href(set_name: str, component: str, view: Queue) -> str:
    """Relative link to the set's page, its grid ``view`` filtered to the component."""
    return "requirement_set?" + urlencode({"name": set_name, "q": component, "view": view}, quote_via=quote)


def narrow(queue: pd.DataFrame, sets: Sequence[str], older_than: int) -> pd.DataFrame:
    """The rows of the chosen sets (all when none is chosen) older than ``older_than`` days (0: every
    row, those without a date too)."""
    keep = np.ones(len(queue), dtype=bool)
    if sets:
        keep &= queue["set_name"].isin(list(sets)).to_numpy()
    if older_than > 0:
        keep &= (queue["age_days"].astype("float64") > older_than).fillna(False).to_numpy(dtype=bool)
    return queue[keep].reset_index(drop=True)


def age_bucket(age: pd.Series) -> np.ndarray:
    days = age.astype("float64")
    return np.select([days.isna(), days < 7, days <= 30], ["no date", "< 7 d", "7–30 d"], "> 30 d").astype(
        object
    )


def whole_days(age: pd.Series) -> pd.Series:
    return np.floor(age.astype("float64")).astype("Int64")


def _text(values: pd.Series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def sign_table(queue: pd.DataFrame) -> pd.DataFrame:
    """The signee's rows for ``st.dataframe``: age, component and set links, the claim awaiting a
    verdict, who claimed it, its notes, and why it waits."""
    q = queue.head(TABLE_ROWS)
    comps, sets = _text(q["component"]), _text(q["set_name"])
    return pd.DataFrame(
        {
            "age": whole_days(q["age_days"]),
            "component": [component_href(c) for c in comps],
            "set": sets,
            "requirement": _text(q["requirement"]),
            "claim": [mark(s) for s in q["owner_status"]],
            "claimed_by": _text(q["owner_by"]),
            "notes": _text(q["owner_notes"]),
            "reason": np.where(q["expired"].fillna(False).astype(bool), "verdict expired", "no verdict yet"),
            "open": [set_page_href(s, c, "sign") for s, c in zip(sets, comps, strict=True)],
        }
    )


def claim_table(queue: pd.DataFrame) -> pd.DataFrame:
    """The owner's rows: age, component and set links, their claim and the verdict, the notes that
    matter (the signee's for a decline, their own otherwise) and the reason."""
    q = queue.head(TABLE_ROWS)
    comps, sets = _text(q["component"]), _text(q["set_name"])
    declined = q["reason"].eq("declined").to_numpy()
    verdicts = [mark(s) for s in q["signee_status"]]
    return pd.DataFrame(
        {
            "age": whole_days(q["age_days"]),
            "component": [component_href(c) for c in comps],
            "set": sets,
            "requirement": _text(q["requirement"]),
            "claim": [
                mark(s) if r != "missing" else "" for s, r in zip(q["owner_status"], q["reason"], strict=True)
            ],
            "verdict": [v if d else "" for v, d in zip(verdicts, declined, strict=True)],
            "notes": np.where(declined, _text(q["signee_notes"]), _text(q["owner_notes"])),
            "reason": _text(q["reason"]),
            "open": [set_page_href(s, c, "claim") for s, c in zip(sets, comps, strict=True)],
        }
    )


def columns(queue: Queue) -> dict[str, Any]:
    cc = st.column_config
    config: dict[str, Any] = {
        "age": cc.NumberColumn(
            "Age", format="%d d", help="Days since the claim (a decline: since the verdict)"
        ),
        "component": cc.LinkColumn("Component", display_text=r"name=([^&]*)", pinned=True),
        "set": cc.TextColumn("Set"),
        "requirement": cc.TextColumn("Requirement", width="medium"),
        "claim": cc.TextColumn("Owner claim"),
        "notes": cc.TextColumn("Notes", width="large"),
        "reason": cc.TextColumn("Why it is here"),
    }
    if queue == "sign":
        config["claimed_by"] = cc.TextColumn("Claimed by")
        config["open"] = cc.LinkColumn("Open", display_text="Sign ↗", help="The set's sign-off grid")
    else:
        config["verdict"] = cc.TextColumn("Verdict")
        config["open"] = cc.LinkColumn("Open", display_text="Claim ↗", help="The set's claim grid")
    return config


@dataclass(frozen=True)
class Summary:
    items: int
    oldest_days: int | None
    over_30: int
    sets: int
    by_reason: dict[str, int]


def summary(queue: pd.DataFrame) -> Summary:
    ages = queue["age_days"].astype("float64").dropna()
    reasons = queue["reason"].value_counts() if "reason" in queue else pd.Series(dtype="int64")
    return Summary(
        items=len(queue),
        oldest_days=int(ages.max()) if len(ages) else None,
        over_30=int((ages > 30).sum()),
        sets=int(queue["set_name"].nunique()),
        by_reason={r: int(reasons.get(r, 0)) for r in REASONS},
    )


def by_set_and_age(queue: pd.DataFrame, set_order: Sequence[str]) -> pd.DataFrame:
    """``[set, bucket, items]`` for every set of the queue (in ``set_order``) and age bucket."""
    counts = (
        pd.DataFrame({"set": queue["set_name"].astype(str), "bucket": age_bucket(queue["age_days"])})
        .value_counts()
        .rename("items")
        .reset_index()
    )
    order = {name: i for i, name in enumerate(set_order)}
    counts["_set"] = counts["set"].map(lambda s: order.get(s, len(order)))
    counts["_bucket"] = counts["bucket"].map(AGE_BUCKETS.index)
    return (
        counts.sort_values(["_set", "set", "_bucket"])
        .drop(columns=["_set", "_bucket"])
        .reset_index(drop=True)
    )


def queue_chart(counts: pd.DataFrame) -> go.Figure:
    """Stacked horizontal bars: items per set, split by age bucket (oldest first)."""
    sets = list(dict.fromkeys(counts["set"]))
    fig = go.Figure()
    for bucket in AGE_BUCKETS:
        part = counts[counts["bucket"] == bucket].set_index("set")["items"].reindex(sets, fill_value=0)
        if not part.any():
            continue
        fig.add_bar(
            y=[html.escape(s) for s in sets],  # plotly reads a little HTML
            x=[int(v) for v in part],
            name=bucket,
            orientation="h",
            marker_color=BUCKET_COLOURS[bucket],
            hovertemplate="%{y}: %{x} items<extra>" + bucket + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=max(180, 40 * len(sets) + 90),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        xaxis_title="items",
        yaxis={"autorange": "reversed"},
    )
    return fig


def show(queue: pd.DataFrame, kind: Queue, set_order: Sequence[str], *, filtered: bool) -> None:
    """Summary tiles, the chart by set and age, and the table (the oldest rows)."""
    if not len(queue):
        st.success(
            "Nothing here" + (" matches the filters." if filtered else "."), icon=":material/done_all:"
        )
        return
    s = summary(queue)
    tiles = st.columns(4)
    oldest = "–" if s.oldest_days is None else f"{s.oldest_days} d"
    if kind == "sign":
        tiles[0].metric("Awaiting your verdict", f"{s.items:,}", border=True)
        tiles[1].metric("Oldest claim", oldest, border=True)
        tiles[2].metric("Older than 30 days", f"{s.over_30:,}", border=True)
        tiles[3].metric("Sets", s.sets, border=True)
    else:
        tiles[0].metric("Missing claims", f"{s.by_reason['missing']:,}", border=True)
        tiles[1].metric("Not ready", f"{s.by_reason['not ready']:,}", border=True)
        tiles[2].metric("Declined", f"{s.by_reason['declined']:,}", border=True)
        tiles[3].metric("Oldest", oldest, help="Claims never made have no age", border=True)
    st.plotly_chart(queue_chart(by_set_and_age(queue, set_order)), key=f"chart_{kind}")
    table = sign_table(queue) if kind == "sign" else claim_table(queue)
    widgets.table(table, columns(kind), marks=("claim", "verdict"))
    if len(queue) > len(table):
        st.caption(f"The {len(table):,} oldest of {len(queue):,} items: narrow them with the filters above.")
