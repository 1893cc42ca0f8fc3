"""The components overview against hand-computed values, against the row-level scorer, and by query count."""

from __future__ import annotations

import gc
import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from panopticum_data import connect, queries, scoring
from panopticum_data.queries._util import collector_paused
from panopticum_data.queries.overview import OverviewFilters
from tests.data import small_registry
from tests.data.small_registry import NOW


@pytest.fixture
def reg_ids(engine: sa.Engine) -> dict:
    return small_registry.build(engine)


def overview(engine: sa.Engine, filters: OverviewFilters | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        return queries.components_overview(conn, filters, now=NOW).set_index("name")


def test_scores_match_hand_computation(engine: sa.Engine, reg_ids: dict) -> None:
    df = overview(engine)
    alpha = df.loc["alpha"]
    # alpha: 13/13 fields + 8/9 QA levels + 5/5 owner claims = 26/27 → 96
    assert alpha["completeness"] == 96
    # signed: r1, r2 (n/a approved), r4; r3 expired in B (45 > 30 days); r5 waiting → 3 signed
    # QA points 18 → (3 + 18) / (5 + 27) = 65
    assert alpha["rating"] == 65
    assert alpha["qa_score"] == 100 * 18 // 27 == 66
    # A: r3 has no expiry there; B: r3's verdict expired → waiting again; C: r5 waiting
    assert (alpha["A"], alpha["B"], alpha["C"]) == ("ready", "waiting", "waiting")
    beta = df.loc["beta"]  # QA not applicable: 2 owner claims filled of 13 + 5 → 11 %
    assert pd.isna(beta["qa_score"])
    assert beta["completeness"] == 100 * 2 // 18
    assert beta["rating"] == 0
    # B: r3 waiting_na, but r4 has no row at all → unknown wins over waiting
    assert (beta["A"], beta["B"], beta["C"]) == ("not_ready", "unknown", "unknown")
    gamma = df.loc["gamma"]  # nothing at all: no field, no status — the original gave this 100
    assert gamma["rating"] == 0 and gamma["completeness"] == 0
    assert (gamma["A"], gamma["B"], gamma["C"]) == ("unknown", "unknown", "unknown")
    delta = df.loc["delta"]  # B excluded: requirements r1, r2, r3 (A) and r5 (C) apply
    assert delta["B"] == "n/a"
    assert delta["A"] == "not_ready" and delta["C"] == "ready"
    # filled: maintainer, experts + 1 QA level + 4 claims = 7 of 13 + 9 + 4 = 26 → 26
    assert delta["completeness"] == 100 * 7 // 26
    # signed r1, r3 (45 days old, but B — the set that expires it — is excluded), r5; QA 3 points
    # → (3 + 3) / (4 + 27) = 19
    assert delta["rating"] == 100 * 6 // 31
    # D has no requirements: no status, but n/a where excluded
    assert df.loc["alpha", "D"] == "n/a" and df.loc["beta", "D"] is None
    assert df.loc["alpha", "rating_band"] == "medium" and df.loc["gamma", "rating_band"] == "poor"


def test_aggregated_path_agrees_with_row_level_scorer(engine: sa.Engine, reg_ids: dict) -> None:
    df = overview(engine).reset_index()
    with engine.connect() as conn:
        inputs = queries.score_inputs(conn, version_ids=df["version_id"].astype(int).tolist())
    exact = scoring.score_versions(
        profile=inputs.profile,
        qa_levels=inputs.qa_levels,
        pairs=inputs.pairs,
        statuses=inputs.statuses,
        now=NOW,
    )
    got = df.set_index("version_id")
    for column in ("rating", "completeness", "qa_score"):
        pd.testing.assert_series_equal(
            got[column].astype("Int64"), exact[column].astype("Int64").reindex(got.index), check_names=False
        )
    sets = scoring.set_statuses(inputs.pairs, inputs.statuses, inputs.excluded, now=NOW)
    names = dict(zip(sorted(reg_ids["sets"]), ["A", "B", "C", "D"], strict=True))
    want = {
        (v, names[sid]): st
        for v, sid, st in zip(sets["version_id"], sets["set_id"], sets["set_status"], strict=True)
    }
    have = {
        (v, name): got.loc[v, name]
        for v in got.index
        for name in names.values()
        if got.loc[v, name] is not None
    }
    assert have == want  # both directions: no status the scorer lacks, none it has missing


def test_overview_is_set_based(engine: sa.Engine) -> None:
    small_registry.build(engine, extra_components=30)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        overview(engine)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # 34 components: a query per row would show up as dozens; the overview needs a fixed handful
    assert 0 < len(statements) <= 20, statements


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (OverviewFilters(text="ALPHA"), {"alpha"}),
        (OverviewFilters(text="payments"), {"alpha"}),  # a tag
        (OverviewFilters(text="the beta service"), {"beta"}),  # the description
        (OverviewFilters(tags=("payments",)), {"alpha"}),
        (OverviewFilters(products=("Cloud 1",)), {"alpha"}),
        (OverviewFilters(locations=("Cloud DC",)), {"alpha"}),
        (OverviewFilters(new_in_product=True), {"alpha"}),
        (OverviewFilters(categories=("Core",)), {"alpha", "beta", "gamma", "delta"}),
        (OverviewFilters(categories=("Other",)), set()),
        (OverviewFilters(rating_bands=("poor",)), {"beta", "gamma", "delta"}),
        (OverviewFilters(owners=("P1",)), {"alpha", "delta"}),  # responsible QA of alpha, maintainer of delta
        (OverviewFilters(owners=("p2",)), {"alpha"}),
    ],
)
def test_filters(engine: sa.Engine, reg_ids: dict, filters: OverviewFilters, expected: set[str]) -> None:
    assert set(overview(engine, filters).index) == expected


def test_facade_returns_frames(db_url: str, reg_ids: dict) -> None:
    reg = connect(db_url)
    try:
        assert set(reg.components()["name"]) == {"alpha", "beta", "gamma", "delta"}
        assert len(reg.versions()) == 4
        assert reg.overview(text="gamma")["name"].tolist() == ["gamma"]
        statuses = reg.requirement_statuses("B")
        assert set(statuses["requirement"]) == {"r3", "r4"}
        assert isinstance(reg.people(), pd.DataFrame) and len(reg.people()) == 3
        assert isinstance(reg.audit(), pd.DataFrame)
        first = reg.components().set_index("name").loc["alpha", "component_id"]  # a numpy integer
        assert reg.component(first).component["name"] == "alpha"
        set_id = reg.requirement_sets().set_index("name").loc["B", "set_id"]
        assert list(reg.requirement_matrix(set_id).columns) == ["set_status", "r3", "r4"]
        for name in ("dependencies", "deployments"):
            assert isinstance(getattr(reg, name)(), pd.DataFrame)
    finally:
        reg.close()


def test_undated_verdict_expires_under_a_validity(engine: sa.Engine) -> None:
    ids = small_registry.build(engine, undated=True)
    df = overview(engine)
    assert df.loc["epsilon", "B"] == "waiting"  # r3 fresh and ready, r4 undated → expired → waiting
    assert df.loc["epsilon", "A"] == "unknown"  # r1, r2 have no rows
    with engine.connect() as conn:
        inputs = queries.score_inputs(conn, version_ids=[ids["components"]["epsilon"][1]])
    exact = scoring.score_versions(
        profile=inputs.profile,
        qa_levels=inputs.qa_levels,
        pairs=inputs.pairs,
        statuses=inputs.statuses,
        now=NOW,
    )
    assert df.loc["epsilon", "rating"] == exact["rating"].iloc[0] == 100 * 1 // 32  # only r3 signed


def test_overview_agrees_with_row_level_scorer_on_the_demo(engine: sa.Engine) -> None:
    """The demo has every status combination, exclusions, expiry and QA not applicable."""
    from panopticum_data.db import session_scope
    from panopticum_data.demo import load_demo

    with session_scope(engine) as session:
        load_demo(session)
    with engine.connect() as conn:
        df = queries.components_overview(conn, now=NOW).set_index("version_id")
        inputs = queries.score_inputs(conn, version_ids=df.index.astype(int).tolist())
    exact = scoring.score_versions(
        profile=inputs.profile,
        qa_levels=inputs.qa_levels,
        pairs=inputs.pairs,
        statuses=inputs.statuses,
        now=NOW,
    ).reindex(df.index)
    for column in ("rating", "completeness", "qa_score"):
        pd.testing.assert_series_equal(
            df[column].astype("Int64"), exact[column].astype("Int64"), check_names=False
        )
    sets = scoring.set_statuses(inputs.pairs, inputs.statuses, inputs.excluded, now=NOW)
    with engine.connect() as conn:
        names = queries.list_requirement_sets(conn).set_index("set_id")["name"]
    got = {
        (v, names[s]): df.loc[v, names[s]] for v, s in zip(sets["version_id"], sets["set_id"], strict=True)
    }
    want = {
        (v, names[s]): st
        for v, s, st in zip(sets["version_id"], sets["set_id"], sets["set_status"], strict=True)
    }
    assert got == want
    assert df["rating"].notna().all() and (df["completeness"] > 0).any()


def test_empty_registry_gives_empty_frames(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        df = queries.components_overview(conn, now=NOW)
        assert df.empty and {"name", "rating", "completeness", "qa_score"} <= set(df.columns)
        assert queries.components_overview(conn, OverviewFilters(text="x"), now=NOW).empty
        assert queries.list_components(conn).empty


def test_the_garbage_collector_is_held_while_the_overview_is_built_and_restored_after(
    engine: sa.Engine, reg_ids: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panopticum_data.queries import overview as module

    seen: list[bool] = []
    real_base = module._base

    def spying_base(conn: sa.Connection) -> pd.DataFrame:
        seen.append(gc.isenabled())
        return real_base(conn)

    monkeypatch.setattr(module, "_base", spying_base)
    assert gc.isenabled()
    overview(engine)
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        overview(engine)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_only_when_the_last_of_overlapping_holders_leaves() -> None:
    first_in, second_done, states = threading.Event(), threading.Event(), []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_done.wait(timeout=10)
            states.append(("first, after second left", gc.isenabled()))

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(timeout=10)
    with collector_paused():
        states.append(("second, inside", gc.isenabled()))
    second_done.set()
    thread.join(timeout=10)
    assert states == [("second, inside", False), ("first, after second left", False)]
    assert gc.isenabled()
