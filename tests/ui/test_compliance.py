"""The compliance page through app.py: /compliance[?weeks=13|26|52&heatmap_set=<set>&as_of=<date>] — the
trend (one line per set ending at today's share), the latest week's table, and the heat-map as of a
date that replays a scripted change."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data import models as m
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.queries import as_of
from panopticum_data.queries.requirements import requirement_statuses
from panopticum_data.services import SYSTEM, _core, requirements
from panopticum_data.services.requirements import ClaimChange, VerdictChange
from panopticum_ui import compliance
from tests.ui.conftest import log_in, open_app, texts

PAGE = "views/compliance.py"
SET = "Security & Compliance"


def page(url: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    return log_in(open_app(url, monkeypatch, query=dict(query), page=PAGE), "viewer")


def figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def todays_shares(url: str) -> dict[str, float]:
    """Per set: ready (or n/a) pairs over applicable pairs of the current versions, now."""
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            df = requirement_statuses(conn, now=datetime.now(UTC))
    finally:
        engine.dispose()
    applicable = df[~df["excluded"]]
    ready = applicable["overall"].isin(["ready", "n/a"]).groupby(applicable["set_name"]).sum()
    return {str(s): round(100 * ready[s] / n, 1) for s, n in applicable.groupby("set_name").size().items()}


def test_one_line_per_set_ending_at_todays_share(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch)
    trend = figures(at)[0]["data"]
    expected = todays_shares(demo_url)
    assert sorted(t["name"] for t in trend) == sorted(html.escape(s) for s in expected)
    for trace in trend:
        assert trace["type"] == "scatter" and len(trace["y"]) == 26  # the default
        assert trace["y"][-1] == expected[html.unescape(trace["name"])]
        ready, applicable = trace["customdata"][-1]  # the hover's counts
        assert round(100 * ready / applicable, 1) == trace["y"][-1]
    colours = {t["line"]["color"] for t in trend}
    assert len(colours) == len(trend) and colours <= set(compliance.LINE_COLOURS)
    table = at.dataframe[0].value
    assert dict(zip(table["set"], table["share"], strict=True)) == expected


def test_weeks_come_from_the_url(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, weeks="13")
    assert at.button_group[0].value == 13
    assert {len(t["y"]) for t in figures(at)[0]["data"]} == {13}
    at.button_group[0].set_value(52).run()
    assert {len(t["y"]) for t in figures(at)[0]["data"]} == {52}


def test_bad_url_values_fall_back_to_the_defaults(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, weeks="7", heatmap_set="<no such set>", as_of="yesterday-ish")
    assert at.button_group[0].value == 26
    assert at.selectbox[0].value == at.selectbox[0].options[0]
    assert at.date_input[0].value == datetime.now(UTC).date()
    assert len(figures(at)) == 2


def scripted_change(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The first component's first requirement of SET: claimed not_ready ten days ago, then today
    claimed ready and signed ready. Returns (component, requirement)."""
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            comp = as_of.current_components(conn).iloc[0]
            reqs = conn.execute(
                sa.select(m.Requirement.id, m.Requirement.title)
                .join(m.RequirementSetItem, m.RequirementSetItem.requirement_id == m.Requirement.id)
                .join(m.RequirementSet, m.RequirementSet.id == m.RequirementSetItem.set_id)
                .where(m.RequirementSet.name == SET)
                .order_by(m.RequirementSetItem.position, m.Requirement.id)
            ).first()
        assert reqs is not None
        vid, rid = int(comp["version_id"]), int(reqs[0])
        past = datetime.now(UTC) - timedelta(days=10)
        with monkeypatch.context() as mp:
            mp.setattr(requirements, "utcnow", lambda: past)
            mp.setattr(_core, "utcnow", lambda: past)
            with session_scope(engine) as s:
                requirements.set_owner_claims(s, actor=SYSTEM, changes=[ClaimChange(vid, rid, "not_ready")])
        with session_scope(engine) as s:
            requirements.set_owner_claims(s, actor=SYSTEM, changes=[ClaimChange(vid, rid, "ready")])
            requirements.set_signee_verdicts(s, actor=SYSTEM, changes=[VerdictChange(vid, rid, "ready")])
    finally:
        engine.dispose()
    return str(comp["component"]), str(reqs[1])


def cell(at: AppTest, component: str, requirement: str) -> tuple[str, list[str]]:
    """(mark, [owner, signee, overall, note, requirement, component]) of a heat-map cell."""
    heat = figures(at)[1]["data"][0]
    assert heat["type"] == "heatmap"
    for i, row in enumerate(heat["customdata"]):
        for j, data in enumerate(row):
            if html.unescape(data[5]) == component and html.unescape(data[4]) == requirement:
                return heat["text"][i][j], data
    raise AssertionError(f"no cell for {component} · {requirement}")


def test_heatmap_as_of_a_date_before_a_change(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    component, requirement = scripted_change(demo_url, monkeypatch)
    today = page(demo_url, monkeypatch, heatmap_set=SET)
    mark, data = cell(today, component, requirement)
    assert mark == "✔" and data[:3] == ["ready", "ready", "ready"]
    before = (datetime.now(UTC) - timedelta(days=5)).date()
    at = page(demo_url, monkeypatch, heatmap_set=SET, as_of=before.isoformat())
    assert at.date_input[0].value == before and at.selectbox[0].value == SET
    mark, data = cell(at, component, requirement)
    assert mark == "✘" and data[0] == "not ready" and data[2] == "not ready"
    # the date widget moves the heat-map back to today
    at.date_input[0].set_value(datetime.now(UTC).date()).run()
    assert cell(at, component, requirement)[0] == "✔"


def test_heatmap_shows_at_most_its_rows(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compliance, "HEATMAP_ROWS", 10)
    at = page(demo_url, monkeypatch)
    heat = figures(at)[1]["data"][0]
    assert len(heat["z"]) == 10
    assert "40 more components" in texts(at)  # the demo has 50
    legend = heat["colorbar"]["ticktext"]
    assert legend == [
        "✔ ready",
        "– n/a",
        "◔ waiting",
        "◔ waiting (n/a)",
        "✘ not ready",
        "? unknown",
    ]


def test_heatmap_figure_marks_colours_and_hover() -> None:
    cells = pd.DataFrame(
        {
            "component": ["<b>svc</b>"] * 3,
            "requirement": ["r1", "r2", "r3"],
            "owner_status": ["ready", "n/a", "ready"],
            "signee_status": ["ready", "unknown", "ready"],
            "signee_effective": ["ready", "unknown", "unknown"],
            "overall": ["ready", "waiting_na", "waiting"],
            "excluded": [False, False, False],
        }
    )
    fig = compliance.heatmap_figure(
        compliance.AsOf(cells=cells, components=["<b>svc</b>"], requirements=["r1", "r2", "r3"], total=1)
    )
    heat = fig.data[0]
    order = compliance.STATUS_ORDER
    assert list(heat.z[0]) == [order.index("ready"), order.index("waiting_na"), order.index("waiting")]
    assert list(heat.text[0]) == ["✔", "◔", "◔"]
    assert [c[1] for c in heat.customdata[0]] == ["ready", "unknown", "ready (expired)"]
    assert heat.customdata[0][0][5] == "&lt;b&gt;svc&lt;/b&gt;"  # plotly reads a little HTML
    assert fig.layout.yaxis.ticktext == ("&lt;b&gt;svc&lt;/b&gt;",)
    # a band of the colour scale per status, one colour each (STATUS_COLOURS); code i falls in band i
    n = len(order)
    assert [tuple(c) for c in heat.colorscale] == [
        (stop / n, compliance.STATUS_COLOURS[s]) for i, s in enumerate(order) for stop in (i, i + 1)
    ]
    assert (heat.zmin, heat.zmax) == (-0.5, n - 0.5)


def test_an_empty_registry_says_so(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from panopticum_data.services.people import add_user

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            add_user(session, actor=SYSTEM, username="someone", password="long enough")
    finally:
        engine.dispose()
    at = log_in(open_app(db_url, monkeypatch, page=PAGE), "someone", "long enough")
    assert "No requirement set has requirements yet" in texts(at)
    assert not at.get("plotly_chart")
