"""Statuses "as of" a moment and compliance over time (queries/as_of.py, signoff.compliance_over_time)
on the small registry plus a scripted sequence of claims and verdicts made through the services at
known times (their clock patched).

The script (days before NOW; SYSTEM acts, so every act is allowed):

    50  gamma r1 claimed ready, gamma r5 claimed n/a            (rows created)
    45  gamma r3 verdict ready on an unknown claim              (row created)
    44  gamma r3 claimed ready                                   (the verdict is reset)
    43  gamma r1 and r5 signed ready
    38  gamma r3 signed ready          (in A for ever; in B, 30 days: stale from NOW-8)
    20  beta r1 claimed ready          (was not_ready)
    14  beta r1 signed ready           (exactly a week end of the 8-week trend)
    12  gamma r1 claimed not_ready     (its verdict is reset)
     5  gamma r3 verdict renewed       (an event on signee_at only)
     3  beta r1 declined (not_ready)

Rows of the small registry carry no trail: a verdict recorded after a moment was not yet made then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data import queries, security
from panopticum_data.db import session_scope
from panopticum_data.errors import InvalidValue, NotFound
from panopticum_data.queries import as_of, signoff
from panopticum_data.services import SYSTEM, _core, requirements
from panopticum_data.services.requirements import ClaimChange, VerdictChange
from tests.data import small_registry
from tests.data.small_registry import NOW

SIGNED = ("ready", "n/a")


@pytest.fixture
def reg(engine: sa.Engine) -> dict:
    return small_registry.build(engine)


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> Iterator[None]:
    """The services' clock stopped at ``moment`` (change sets, events, owner_at / signee_at)."""
    with monkeypatch.context() as mp:
        mp.setattr(requirements, "utcnow", lambda: moment)
        mp.setattr(_core, "utcnow", lambda: moment)
        yield


def claim(
    engine: sa.Engine, mp: pytest.MonkeyPatch, days: float, changes: list[tuple[int, int, str]]
) -> None:
    with clock(mp, NOW - timedelta(days=days)), session_scope(engine) as s:
        requirements.set_owner_claims(
            s, actor=SYSTEM, changes=[ClaimChange(v, r, st) for v, r, st in changes]
        )


def verdict(
    engine: sa.Engine, mp: pytest.MonkeyPatch, days: float, changes: list[tuple[int, int, str]]
) -> None:
    with clock(mp, NOW - timedelta(days=days)), session_scope(engine) as s:
        requirements.set_signee_verdicts(
            s, actor=SYSTEM, changes=[VerdictChange(v, r, st) for v, r, st in changes]
        )


@pytest.fixture
def scripted(engine: sa.Engine, reg: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    gamma, beta = reg["components"]["gamma"][1], reg["components"]["beta"][1]
    r1, r3, r5 = reg["reqs"][0], reg["reqs"][2], reg["reqs"][4]
    claim(engine, monkeypatch, 50, [(gamma, r1, "ready"), (gamma, r5, "n/a")])
    verdict(engine, monkeypatch, 45, [(gamma, r3, "ready")])
    claim(engine, monkeypatch, 44, [(gamma, r3, "ready")])
    verdict(engine, monkeypatch, 43, [(gamma, r1, "ready"), (gamma, r5, "ready")])
    verdict(engine, monkeypatch, 38, [(gamma, r3, "ready")])
    claim(engine, monkeypatch, 20, [(beta, r1, "ready")])
    verdict(engine, monkeypatch, 14, [(beta, r1, "ready")])
    claim(engine, monkeypatch, 12, [(gamma, r1, "not_ready")])
    verdict(engine, monkeypatch, 5, [(gamma, r3, "ready")])
    verdict(engine, monkeypatch, 3, [(beta, r1, "not_ready")])
    return reg


def as_of_cell(engine: sa.Engine, set_name: str, days: float, component: str, requirement: str) -> dict:
    with engine.connect() as conn:
        df = as_of.set_statuses_as_of(conn, set_name, NOW - timedelta(days=days))
    row = df[(df["component"] == component) & (df["requirement"] == requirement)]
    assert len(row) == 1
    return row.iloc[0].to_dict()


def per_week_replay(conn: sa.Connection, weeks: int, now: datetime) -> dict[tuple[pd.Timestamp, str], Any]:
    """The straightforward reference: every set's statuses replayed to every week end, counted."""
    sets = queries.list_requirement_sets(conn)
    out = {}
    for k in range(weeks):
        t = now - timedelta(days=7 * k)
        for name in sets["name"]:
            df = as_of.set_statuses_as_of(conn, str(name), t)
            applicable = ~df["excluded"]
            if applicable.sum():
                week = pd.Timestamp(t).tz_convert("UTC").tz_localize(None)
                ready = int((df["overall"].isin(SIGNED) & applicable).sum())
                out[(week, str(name))] = (ready, int(applicable.sum()))
    return out


def fast(conn: sa.Connection, weeks: int, now: datetime) -> dict[tuple[pd.Timestamp, str], Any]:
    df = signoff.compliance_over_time(conn, weeks=weeks, now=now)
    return {(pd.Timestamp(w), s): (r, a) for w, s, r, a in df[["week", "set", "ready", "applicable"]].values}


# --- statuses as of a moment ------------------------------------------------------------------------


def test_as_of_replays_claims_and_verdicts(engine: sa.Engine, scripted: dict) -> None:
    # gamma r1: no row before day 50, claimed then, signed at 43, claim withdrawn at 12 (verdict reset)
    before = as_of_cell(engine, "A", 60, "gamma", "r1")
    assert (before["owner_status"], before["signee_status"], before["overall"]) == (
        "unknown",
        "unknown",
        "unknown",
    )
    assert as_of_cell(engine, "A", 47, "gamma", "r1")["overall"] == "waiting"
    signed = as_of_cell(engine, "A", 30, "gamma", "r1")
    assert (signed["owner_status"], signed["signee_status"], signed["overall"]) == ("ready", "ready", "ready")
    now = as_of_cell(engine, "A", 0, "gamma", "r1")
    assert (now["owner_status"], now["signee_status"], now["overall"]) == (
        "not_ready",
        "unknown",
        "not_ready",
    )
    # an owner's n/a approved with ready is n/a
    assert as_of_cell(engine, "C", 47, "gamma", "r5")["overall"] == "waiting_na"
    assert as_of_cell(engine, "C", 30, "gamma", "r5")["overall"] == "n/a"
    # a verdict on an unknown claim, then the claim: the verdict was reset, then given again
    assert as_of_cell(engine, "A", 44.5, "gamma", "r3")["signee_status"] == "ready"
    assert as_of_cell(engine, "A", 44.5, "gamma", "r3")["overall"] == "unknown"
    assert as_of_cell(engine, "A", 40, "gamma", "r3")["overall"] == "waiting"


def test_as_of_expiry_is_relative_to_the_moment(engine: sa.Engine, scripted: dict) -> None:
    # gamma r3's verdict of day 38 in B (30 days): fresh at day 10, stale at day 6, renewed at day 5
    fresh = as_of_cell(engine, "B", 10, "gamma", "r3")
    assert (fresh["signee_effective"], fresh["overall"]) == ("ready", "ready")
    stale = as_of_cell(engine, "B", 6, "gamma", "r3")
    assert (stale["signee_status"], stale["signee_effective"], stale["overall"]) == (
        "ready",
        "unknown",
        "waiting",
    )
    assert as_of_cell(engine, "B", 0, "gamma", "r3")["overall"] == "ready"
    # the same requirement in A never expires
    assert as_of_cell(engine, "A", 6, "gamma", "r3")["overall"] == "ready"
    # alpha r3's verdict (45 days, no trail) was stale in B at NOW and fresh 20 days before
    assert as_of_cell(engine, "B", 0, "alpha", "r3")["overall"] == "waiting"
    assert as_of_cell(engine, "B", 20, "alpha", "r3")["overall"] == "ready"


def test_as_of_rows_without_a_trail(engine: sa.Engine, scripted: dict) -> None:
    # alpha r1 was signed a day ago without a trail: not yet signed two days ago
    assert as_of_cell(engine, "A", 0, "alpha", "r1")["overall"] == "ready"
    two_days = as_of_cell(engine, "A", 2, "alpha", "r1")
    assert (two_days["owner_status"], two_days["signee_status"], two_days["overall"]) == (
        "ready",
        "unknown",
        "waiting",
    )


def test_as_of_beta_r1_timeline(engine: sa.Engine, scripted: dict) -> None:
    overall = {d: as_of_cell(engine, "A", d, "beta", "r1")["overall"] for d in (25, 15, 14, 10, 2)}
    # claimed ready at 20, signed at 14 (a moment exactly at the act sees it), declined at 3
    assert overall == {25: "not_ready", 15: "waiting", 14: "ready", 10: "ready", 2: "not_ready"}


def test_as_of_frame_shape_filters_and_exclusions(engine: sa.Engine, scripted: dict) -> None:
    with engine.connect() as conn:
        df = as_of.set_statuses_as_of(conn, "b", NOW - timedelta(days=10))
        alpha, delta = scripted["components"]["alpha"][0], scripted["components"]["delta"][0]
        some = as_of.set_statuses_as_of(conn, scripted["sets"][1], NOW, component_ids=[delta, alpha])
    assert list(df.columns) == as_of.AS_OF_COLUMNS
    assert list(df["component"]) == ["alpha", "alpha", "beta", "beta", "delta", "delta", "gamma", "gamma"]
    assert list(df["requirement"]) == ["r3", "r4"] * 4
    # delta excludes B: n/a whatever it recorded
    delta_rows = df[df["component"] == "delta"]
    assert delta_rows["excluded"].all() and (delta_rows["overall"] == "n/a").all()
    assert delta_rows["owner_status"].tolist() == ["ready", "unknown"]
    assert list(some["component"]) == ["alpha", "alpha", "delta", "delta"]


def test_as_of_unknown_set(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn, pytest.raises(NotFound):
        as_of.set_statuses_as_of(conn, "no such set", NOW)


def test_as_of_a_set_without_requirements(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        df = as_of.set_statuses_as_of(conn, "D", NOW)
    assert list(df.columns) == as_of.AS_OF_COLUMNS and len(df) == 0


# --- compliance over time ---------------------------------------------------------------------------


def test_trend_agrees_with_a_per_week_replay(engine: sa.Engine, scripted: dict) -> None:
    with engine.connect() as conn:
        got, expected = fast(conn, 8, NOW), per_week_replay(conn, 8, NOW)
    assert got == expected
    assert len({w for w, _ in got}) == 8 and {s for _, s in got} == {"A", "B", "C"}


def test_trend_agrees_between_week_ends(engine: sa.Engine, scripted: dict) -> None:
    """Week ends that fall between the acts, on a clock that is not on the hour."""
    now = NOW - timedelta(days=1, hours=5, minutes=7, seconds=3)
    with engine.connect() as conn:
        assert fast(conn, 9, now) == per_week_replay(conn, 9, now)


def test_trend_by_hand(engine: sa.Engine, scripted: dict) -> None:
    with engine.connect() as conn:
        got = fast(conn, 8, NOW)
    week = {d: pd.Timestamp(NOW - timedelta(days=d)).tz_localize(None) for d in (0, 7, 14, 21)}
    # C (r5 only): delta signed 3 days ago without a trail, gamma's n/a approved at 43
    assert got[(week[0], "C")] == (2, 4) and got[(week[7], "C")] == (1, 4)
    # A at 14: alpha r3, delta r3 (45 days, no trail), gamma r3 (38), beta r1 (signed at 14 exactly),
    # gamma r1 (43; withdrawn at 12) = 5 of 12; at 21: beta r1 not yet = 4
    assert got[(week[14], "A")] == (5, 12) and got[(week[21], "A")] == (4, 12)
    # B: gamma r3 stale at 7 (38 days), renewed at 5; alpha r4 and r3 signed without a trail
    assert got[(week[7], "B")] == (0, 6) and got[(week[0], "B")] == (2, 6)


def test_trend_with_many_components_and_no_trail(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = small_registry.build(engine, extra_components=30, undated=True)
    extra = [reg["components"][f"extra{i}"][1] for i in range(0, 30, 3)]
    claim(engine, monkeypatch, 9, [(v, reg["reqs"][0], "not_ready") for v in extra])
    with engine.connect() as conn:
        assert fast(conn, 4, NOW) == per_week_replay(conn, 4, NOW)


def test_trend_bounds(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        assert len(signoff.compliance_over_time(conn, weeks=0, now=NOW)) == 0
        with pytest.raises(InvalidValue):
            signoff.compliance_over_time(conn, weeks=signoff.MAX_WEEKS + 1, now=NOW)
        assert signoff.compliance_over_time(conn, weeks=1, now=NOW)["week"].nunique() == 1


@pytest.fixture
def demo(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    from panopticum_data.demo import load_demo

    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)
    with session_scope(engine) as session:
        load_demo(session)
    return engine


def test_trend_agrees_on_the_demo(demo: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with demo.connect() as conn:
        rs = m.RequirementStatus
        pairs = conn.execute(
            sa.select(rs.version_id, rs.requirement_id)
            .join(m.Component, m.Component.current_version_id == rs.version_id)
            .order_by(rs.id)
            .limit(12)
        ).all()
    claim(demo, monkeypatch, 10, [(v, r, "n/a") for v, r in pairs[:6]])
    verdict(demo, monkeypatch, 4, [(v, r, "ready") for v, r in pairs[3:]])
    now = datetime.now(NOW.tzinfo)
    with demo.connect() as conn:
        assert fast(conn, 4, now) == per_week_replay(conn, 4, now)
