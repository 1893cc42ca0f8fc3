"""The all-sets page through app.py: components × sets by set status, and the shares ready per set
and per category, against the data layer; the dashboard's filters narrow all three."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from panopticum_data.db import make_engine, read_connection
from panopticum_data.queries.signoff import all_sets_heatmap, share_ready_by_category, share_ready_by_set
from panopticum_ui import signoff as so
from tests.ui.conftest import log_in, open_app, texts

PAGE = "views/requirements.py"


def expected(url: str) -> Any:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return all_sets_heatmap(conn)
    finally:
        engine.dispose()


def test_all_sets_heatmap_and_shares_match_the_data_layer(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = log_in(open_app(demo_url, monkeypatch, page=PAGE), "viewer")
    heat = expected(demo_url)
    by_set, by_category = share_ready_by_set(heat), share_ready_by_category(heat)
    bars, categories, matrix = (json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart"))
    # share ready per set: one bar per set, the share in percent, ready / applicable in the hover
    assert list(bars["y"]) == [html.escape(s) for s in by_set["set"]]  # plotly reads some HTML
    assert [c[0] for c in bars["customdata"]] == list(by_set["ready"])
    assert [c[1] for c in bars["customdata"]] == list(by_set["applicable"])
    # per category × set
    assert categories["x"] == [html.escape(s) for s in by_set["set"]]
    assert sorted(categories["y"]) == sorted(html.escape(c) for c in by_category["category"].unique())
    # the matrix: every component, every set, coloured by its set status
    assert matrix["y"] == list(heat["component"]) and matrix["x"] == heat.attrs["set_columns"]
    codes = {s: i for i, s in enumerate(so.HEAT_STATUSES)}
    for i, row in enumerate(heat[heat.attrs["set_columns"]].itertuples(index=False)):
        assert matrix["z"][i] == [codes[v] if isinstance(v, str) else None for v in row]
    assert "Components 1–50 of 50" in texts(at)


def test_filters_narrow_the_page(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    heat = expected(demo_url)
    category = str(heat["category"].dropna().iloc[0])
    at = log_in(open_app(demo_url, monkeypatch, page=PAGE, query={"category": category}), "viewer")
    matrix = json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]
    assert matrix["y"] == list(heat[heat["category"] == category]["component"])
    at = log_in(
        open_app(demo_url, monkeypatch, page=PAGE, query={"q": "no component has this name"}), "viewer"
    )
    assert "No component matches these filters." in texts(at) and not at.get("plotly_chart")
