"""The components dashboard through app.py: each filter against rows worked out independently from
the overview frame, the URL round trip, paging on the server, tiles and chart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection
from panopticum_data.enums import LIFE_STATUS_LABELS
from panopticum_data.queries import ui as ui_queries
from tests.ui.conftest import assert_clean, log_in, open_app, table_names

ALL = {"size": "100"}  # the demo's 50 components on one page


@pytest.fixture
def overview(demo_url: str) -> pd.DataFrame:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            frame = queries.components_overview(conn)
            frame.attrs["owners"] = {
                u: set(ids) for u, ids in _owned(conn, ["owner", "eroberts", "expert"]).items()
            }
    finally:
        engine.dispose()
    return frame


def _owned(conn: Any, usernames: list[str]) -> dict[str, list[int]]:
    owners = queries.list_owners(conn)
    current = set(queries.list_components(conn)["current_version_id"].dropna().astype(int))
    owners = owners[owners["version_id"].isin(current)]
    versions = queries.list_components(conn).set_index("current_version_id")["component_id"]
    return {
        u: sorted({int(versions[v]) for v in owners.loc[owners["username"] == u, "version_id"]})
        for u in usernames
    }


def dashboard(url: str, monkeypatch: pytest.MonkeyPatch, query: dict[str, Any] | None = None) -> AppTest:
    at = log_in(open_app(url, monkeypatch, query={**ALL, **(query or {})}), "viewer")
    assert at.title[0].value == "Components"
    return at


def names(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["name"], key=str.lower)


def shown(at: AppTest) -> list[str]:
    if not at.dataframe:
        return []
    return table_names(at)


def common(frame: pd.DataFrame, column: str) -> str:
    """The most frequent value of a list column (or a plain one)."""
    values = frame[column].explode().dropna()
    return str(values.value_counts().index[0])


def test_renders_the_demo_registry(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    at = dashboard(demo_url, monkeypatch)
    assert shown(at) == names(overview)
    table = at.dataframe[0].value
    assert {"rating", "completeness", "qa", "maintainer", "link_repository"} <= set(table.columns)
    assert {m.label: m.value for m in at.metric}["Components"] == "50"
    assert at.get("plotly_chart"), "the chart of the filtered set"


def test_an_empty_registry_says_how_to_fill_it(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from panopticum_data.db import session_scope
    from panopticum_data.services import SYSTEM
    from panopticum_data.services.people import add_user

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            add_user(session, actor=SYSTEM, username="someone", password="long enough")
    finally:
        engine.dispose()
    at = log_in(open_app(db_url, monkeypatch), "someone", "long enough")
    assert any("registry is empty" in i.value for i in at.info)
    assert not at.dataframe


FILTERS: list[tuple[str, str, Callable[[pd.DataFrame], Any], Callable[[pd.DataFrame, Any], pd.Series]]] = [
    # (widget key, description, choose a value from the overview, expected mask)
    ("category", "category", lambda f: common(f, "category"), lambda f, v: f["category"] == v),
    ("type", "type", lambda f: common(f, "type"), lambda f, v: f["type"] == v),
    ("life", "life status", lambda f: "legacy", lambda f, v: f["life_status"] == v),
    ("privacy", "privacy class", lambda f: common(f, "privacy_class"), lambda f, v: f["privacy_class"] == v),
    ("product", "product", lambda f: common(f, "products"), lambda f, v: f["products"].map(lambda p: v in p)),
    (
        "location",
        "location",
        lambda f: f["locations"].explode().dropna().value_counts().index[-1],
        lambda f, v: f["locations"].map(lambda p: v in p),
    ),
    ("tag", "tag", lambda f: common(f, "tags"), lambda f, v: f["tags"].map(lambda t: v in t)),
    ("band", "rating band", lambda f: "medium", lambda f, v: f["rating_band"] == v),
    (
        "owner",
        "owner",
        lambda f: "owner",
        lambda f, v: f["component_id"].isin(f.attrs["owners"][v]),
    ),
]


def test_each_filter_changes_the_rows_as_expected(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    at = dashboard(demo_url, monkeypatch)
    everything = shown(at)
    for key, what, choose, expected in FILTERS:
        value = choose(overview)
        at.multiselect(key=key).set_value([value]).run()
        assert_clean(at)
        want = names(overview[expected(overview, value)])
        assert 0 < len(want) < len(everything), f"{what} {value!r} should narrow the demo down"
        assert shown(at) == want, f"filter {what} = {value!r}"
        at.multiselect(key=key).set_value([]).run()
        assert shown(at) == everything, f"clearing {what}"


def test_free_text_searches_name_description_and_tags(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    at = dashboard(demo_url, monkeypatch)
    for text in ("PAYMENT", "tokens", common(overview, "tags")):
        needle = text.lower()
        hay = (
            overview["name"].str.lower()
            + "\n"
            + overview["description"].fillna("").str.lower()
            + "\n"
            + overview["tags"].map(lambda t: " ".join(t).lower())
        )
        at.text_input(key="q").input(text).run()
        assert shown(at) == names(overview[hay.str.contains(needle, regex=False)]), text
    tag_only = common(overview, "tags")
    assert not overview["name"].str.lower().str.contains(tag_only).all()


def test_new_in_product_and_combined_filters(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    at = dashboard(demo_url, monkeypatch)
    at.toggle(key="new").set_value(True).run()
    is_new = overview["new_in_products"].map(bool)
    assert shown(at) == names(overview[is_new])
    category = common(overview[is_new], "category")
    at.multiselect(key="category").set_value([category]).run()
    assert shown(at) == names(overview[is_new & (overview["category"] == category)])


def test_the_query_string_round_trips_the_filters(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    category = common(overview, "category")
    life = LIFE_STATUS_LABELS["mature"]  # the URL carries what the widget shows
    pasted = {"q": "service", "category": category, "life": life, "band": ["poor", "medium"], "size": "50"}
    at = dashboard(demo_url, monkeypatch, pasted)
    expected = overview[
        overview["name"].str.lower().str.contains("service")
        | overview["description"].fillna("").str.lower().str.contains("service")
        | overview["tags"].map(lambda t: "service" in " ".join(t).lower())
    ]
    expected = expected[
        (expected["category"] == category)
        & (expected["life_status"] == "mature")
        & expected["rating_band"].isin(["poor", "medium"])
    ]
    assert shown(at) == names(expected)
    assert at.text_input(key="q").value == "service"
    assert at.multiselect(key="category").value == [category]
    assert at.multiselect(key="life").value == ["mature"]
    url = bound_query(at)
    assert url == {**pasted, "band": ["poor", "medium"]}

    # the widgets write the same query back: open it in a fresh session, get the same view
    at.multiselect(key="tag").set_value([common(expected, "tags")]).run()
    url = bound_query(at)
    again = dashboard(demo_url, monkeypatch, url)
    assert shown(again) == shown(at)
    assert bound_query(again) == url


def bound_query(at: AppTest) -> dict[str, Any]:
    """The query string the browser shows: every widget bound to the URL, at a non-default value."""
    out: dict[str, Any] = {}
    for w in at.multiselect:
        if w.proto.query_param_key and w.values:
            values = list(w.values)
            out[w.proto.query_param_key] = values[0] if len(values) == 1 else values
    for w in at.text_input:
        if w.proto.query_param_key and w.value:
            out[w.proto.query_param_key] = w.value
    for w in at.toggle:
        if w.proto.query_param_key and w.value:
            out[w.proto.query_param_key] = "true"
    for w in at.button_group:
        if w.proto.query_param_key and w.formatted_values != ["25"]:
            out[w.proto.query_param_key] = w.formatted_values[0]
    for w in at.get("pagination"):
        if w.proto.query_param_key and w.value != 1:
            out[w.proto.query_param_key] = str(w.value)
    return out


def test_paging_happens_on_the_server(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    at = dashboard(demo_url, monkeypatch, {"size": "25"})
    first = shown(at)
    assert len(at.dataframe[0].value) == 25
    at.get("pagination")[0].set_value(2).run()
    second = shown(at)
    assert len(second) == 25 and first + second == names(overview)
    assert bound_query(at)["page"] == "2"
    at.multiselect(key="band").set_value(["poor"]).run()  # a new filter starts at page 1
    assert at.get("pagination")[0].value == 1
    assert shown(at) == names(overview[overview["rating_band"] == "poor"])[:25]
    pasted = dashboard(demo_url, monkeypatch, {"size": "25", "page": "2"})
    assert shown(pasted) == second


def test_tiles_summarise_the_filtered_set(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, overview: pd.DataFrame
) -> None:
    category = common(overview, "category")
    at = dashboard(demo_url, monkeypatch, {"category": category})
    part = overview[overview["category"] == category]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Components"] == str(len(part))
    assert tiles["Average rating"] == f"{pd.to_numeric(part['rating']).mean():.0f}"
    sets = part[list(part.attrs["set_columns"])]
    signed = (sets.isin(["ready", "n/a"]).all(axis=1) & ~sets.eq("n/a").all(axis=1)).mean()
    assert tiles["Fully signed"] == f"{signed:.0%}"


def test_a_viewer_sees_no_edit_controls_on_the_dashboard(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = dashboard(demo_url, monkeypatch)
    assert [b.key for b in at.button] == ["panopticum_logout"]
    assert not at.data_editor


def test_the_data_layer_hands_over_links_only_for_the_page(demo_url: str) -> None:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            links = ui_queries.current_links(conn, [1, 2])
    finally:
        engine.dispose()
    assert set(links["component_id"]) <= {1, 2}
    assert not links.duplicated(["component_id", "kind"]).any()
