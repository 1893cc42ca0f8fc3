"""Sign-off views (queries/signoff.py) against hand-computed values of the small registry, and on the demo.

The small registry (tests/data/small_registry.py, at NOW): sets A (r1, r2, r3), B (r3, r4; verdicts
valid 30 days), C (r5), D (empty). Overall statuses by hand:

    alpha  r1 ready  r2 n/a  r3 ready in A, waiting in B (45-day verdict expired)  r4 ready  r5 waiting
    beta   r1 not_ready  r2 unknown (no row)  r3 waiting_na  r4 unknown (no row)  r5 unknown (no row)
    gamma  everything unknown (no rows)
    delta  r1 ready  r2 not_ready (declined)  r3 ready (A; B excluded)  r4 no row  r5 ready

Set statuses: alpha A ready, B waiting, C waiting, D n/a; beta not_ready, unknown, unknown, -;
gamma unknown ×3, -; delta not_ready, n/a, ready, -.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data import queries, security
from panopticum_data.db import session_scope
from panopticum_data.errors import InvalidValue, NotFound
from panopticum_data.queries import signoff
from panopticum_data.queries.requirements import requirement_matrix, requirement_statuses
from panopticum_data.queries.signoff import StatusFilter
from tests.data import small_registry
from tests.data.small_registry import NOW


@pytest.fixture
def reg(engine: sa.Engine) -> dict:
    return small_registry.build(engine)


def _status_id(engine: sa.Engine, reg: dict, component: str, req: int) -> int:
    vid = reg["components"][component][1]
    rs = m.RequirementStatus
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(rs.id).where(rs.version_id == vid, rs.requirement_id == reg["reqs"][req])
            ).scalar_one()
        )


def _update_status(engine: sa.Engine, reg: dict, component: str, req: int, **values: object) -> None:
    sid = _status_id(engine, reg, component, req)
    with engine.begin() as conn:
        conn.execute(sa.update(m.RequirementStatus).where(m.RequirementStatus.id == sid).values(**values))


def _signers(engine: sa.Engine, reg: dict, username: str, set_indexes: list[int]) -> None:
    """A signer group with ``username`` signing the given sets."""
    with session_scope(engine) as s:
        group = m.PersonGroup(name="Signers")
        s.add(group)
        s.flush()
        pid = s.scalar(sa.select(m.Person.id).where(m.Person.username == username))
        s.add(m.GroupMember(group_id=group.id, person_id=pid))
        for i in set_indexes:
            s.add(m.SignerGroup(set_id=reg["sets"][i], group_id=group.id))


# --- set heat-map ----------------------------------------------------------------------------------


def test_set_heatmap_cells_and_statuses(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        hm = signoff.set_heatmap(conn, "A", now=NOW)
    assert hm.components == ["alpha", "beta", "delta", "gamma"]  # by name
    assert hm.requirements == ["r1", "r2", "r3"]
    assert hm.total == 4 and hm.remaining == 0
    assert hm.set_status == {"alpha": "ready", "beta": "not_ready", "delta": "not_ready", "gamma": "unknown"}
    cells = hm.cells.set_index(["component", "requirement"])
    assert len(cells) == 4 * 3
    overall = cells["overall"].to_dict()
    assert [overall[("alpha", r)] for r in ("r1", "r2", "r3")] == ["ready", "n/a", "ready"]
    assert [overall[("beta", r)] for r in ("r1", "r2", "r3")] == ["not_ready", "unknown", "waiting_na"]
    assert [overall[("delta", r)] for r in ("r1", "r2", "r3")] == ["ready", "not_ready", "ready"]
    assert {overall[("gamma", r)] for r in ("r1", "r2", "r3")} == {"unknown"}
    delta_r2 = cells.loc[("delta", "r2")]
    assert (delta_r2["owner_status"], delta_r2["signee_status"]) == ("ready", "not_ready")
    # who/when: the latest act — the verdict, a day before NOW (no one recorded as its author)
    assert delta_r2["when"] == pd.Timestamp(NOW - timedelta(days=1))
    # the cells follow the page order, then the requirement order
    assert list(hm.cells["component"])[:3] == ["alpha"] * 3
    assert list(hm.cells["requirement"])[:3] == ["r1", "r2", "r3"]


def test_set_heatmap_expiry_and_exclusion(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        hm = signoff.set_heatmap(conn, "B", now=NOW)
        # r3's verdicts are 45 days old, B's validity 30: expired for alpha and delta
        expired = signoff.set_heatmap(
            conn, "B", status_filters=(StatusFilter("r3", "signee", "unknown"),), now=NOW
        )
        # delta excludes B: every cell n/a (overall), whatever was recorded
        na = signoff.set_heatmap(conn, "B", status_filters=(StatusFilter("r3", "overall", "n/a"),), now=NOW)
    cells = hm.cells.set_index(["component", "requirement"])
    alpha_r3 = cells.loc[("alpha", "r3")]
    assert (alpha_r3["signee_status"], alpha_r3["signee_effective"]) == ("ready", "unknown")
    assert bool(alpha_r3["expired"]) and alpha_r3["overall"] == "waiting"
    assert hm.set_status == {"alpha": "waiting", "beta": "unknown", "delta": "n/a", "gamma": "unknown"}
    assert expired.components == ["alpha", "beta", "delta", "gamma"]
    assert na.components == ["delta"]
    assert set(na.cells["overall"]) == {"n/a"}


def test_set_heatmap_filters_and_paging(engine: sa.Engine, reg: dict) -> None:
    alpha_id, delta_id = reg["components"]["alpha"][0], reg["components"]["delta"][0]
    with engine.connect() as conn:

        def names(**kw: object) -> list[str]:
            return signoff.set_heatmap(conn, "A", now=NOW, **kw).components  # type: ignore[arg-type]

        # owner claimed r1 ready: alpha and delta
        assert names(status_filters=(StatusFilter("r1", "owner", "ready"),)) == ["alpha", "delta"]
        # signee declined r2: delta only; by requirement id and case-insensitive title alike
        assert names(status_filters=(StatusFilter("R2", "signee", "not_ready"),)) == ["delta"]
        assert names(status_filters=(StatusFilter(reg["reqs"][1], "signee", "not_ready"),)) == ["delta"]
        # no row counts as unknown: gamma (and beta's missing r2)
        assert names(status_filters=(StatusFilter("r2", "overall", "unknown"),)) == ["beta", "gamma"]
        # filters combine (AND)
        both = (StatusFilter("r1", "owner", "ready"), StatusFilter("r2", "overall", "n/a"))
        assert names(status_filters=both) == ["alpha"]
        # the dashboard's filtered components
        assert names(component_ids=[delta_id, alpha_id]) == ["alpha", "delta"]
        page1 = signoff.set_heatmap(conn, "A", limit=2, now=NOW)
        page2 = signoff.set_heatmap(conn, "A", offset=2, limit=2, now=NOW)
        assert (page1.components, page1.total, page1.remaining) == (["alpha", "beta"], 4, 2)
        assert (page2.components, page2.total, page2.remaining) == (["delta", "gamma"], 4, 0)
        assert set(page1.cells["component"]) == {"alpha", "beta"} and len(page1.cells) == 6
        empty = signoff.set_heatmap(conn, "A", offset=10, now=NOW)
        assert empty.components == [] and empty.total == 4 and len(empty.cells) == 0
        with pytest.raises(NotFound):
            signoff.set_heatmap(conn, "A", status_filters=(StatusFilter("r4", "owner", "ready"),), now=NOW)
        with pytest.raises(InvalidValue):
            signoff.set_heatmap(conn, "A", status_filters=(StatusFilter("r1", "signee", "n/a"),), now=NOW)
        with pytest.raises(NotFound):
            signoff.set_heatmap(conn, "no such set", now=NOW)
        d = signoff.set_heatmap(conn, "D", now=NOW)  # a set without requirements
        assert d.requirements == [] and d.total == 4 and len(d.cells) == 0


# --- all-sets heat-map -----------------------------------------------------------------------------


def test_all_sets_heatmap_and_shares(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        hm = signoff.all_sets_heatmap(conn, now=NOW)
    assert hm.attrs["set_columns"] == ["A", "B", "C", "D"]
    got = {name: tuple(hm.loc[name, ["A", "B", "C", "D"]]) for name in hm.index}
    assert got == {
        "alpha": ("ready", "waiting", "waiting", "n/a"),
        "beta": ("not_ready", "unknown", "unknown", None),
        "gamma": ("unknown", "unknown", "unknown", None),
        "delta": ("not_ready", "n/a", "ready", None),
    }
    by_set = signoff.share_ready_by_set(hm).set_index("set")
    # A: alpha ready of 4; B: none ready of 3 (delta n/a); C: delta ready of 4; D: applies nowhere
    assert by_set.loc["A", ["ready", "applicable"]].tolist() == [1, 4]
    assert by_set.loc["A", "share_ready"] == 0.25
    assert by_set.loc["B", ["ready", "applicable"]].tolist() == [0, 3]
    assert by_set.loc["C", "share_ready"] == 0.25
    assert by_set.loc["D", "applicable"] == 0 and np.isnan(by_set.loc["D", "share_ready"])
    by_cat = signoff.share_ready_by_category(hm)
    assert set(by_cat["category"]) == {"Core"}  # every component is in Core: same as by set
    assert by_cat["set"].tolist() == ["A", "B", "C", "D"]
    assert by_cat["ready"].tolist() == [1, 0, 1, 0]
    assert by_cat["applicable"].tolist() == [4, 3, 4, 0]


# --- work queues -----------------------------------------------------------------------------------


def test_waiting_for_signee(engine: sa.Engine, reg: dict) -> None:
    _signers(engine, reg, "p2", [0, 1])  # p2 signs A and B
    _update_status(engine, reg, "alpha", 2, owner_at=NOW - timedelta(days=50))
    _update_status(engine, reg, "beta", 2, owner_at=NOW - timedelta(days=10))
    with engine.connect() as conn:
        queue = signoff.waiting_for_signee(conn, "P2", now=NOW)
        nobody = signoff.waiting_for_signee(conn, "p0", now=NOW)
        with pytest.raises(NotFound):
            signoff.waiting_for_signee(conn, "nobody", now=NOW)
    # A: beta r3 (n/a awaiting approval); B: alpha r3 (verdict expired), beta r3; nothing of delta
    # (A: no claim awaiting; B excluded) or gamma (no claims). Oldest claim first.
    rows = list(zip(queue["component"], queue["set_name"], queue["requirement"], strict=True))
    assert rows == [("alpha", "B", "r3"), ("beta", "A", "r3"), ("beta", "B", "r3")]
    assert queue["age_days"].tolist() == [50.0, 10.0, 10.0]
    assert queue["overall"].tolist() == ["waiting", "waiting_na", "waiting_na"]
    assert bool(queue["expired"].iloc[0])
    assert len(nobody) == 0 and "age_days" in nobody.columns


def test_missing_for_owner(engine: sa.Engine, reg: dict) -> None:
    with engine.connect() as conn:
        p1 = signoff.missing_for_owner(conn, "p1", now=NOW)  # QA of alpha, maintainer of delta
        p0 = signoff.missing_for_owner(conn, "p0", now=NOW)  # maintainer of alpha, expert of delta
        p2 = signoff.missing_for_owner(conn, "p2", now=NOW)  # the other roles of alpha
    # alpha: nothing unknown or not ready (only waiting); delta: r2 declined a day ago (B excluded)
    for queue in (p1, p0):
        assert list(zip(queue["component"], queue["set_name"], queue["requirement"], strict=True)) == [
            ("delta", "A", "r2")
        ]
        assert queue["reason"].tolist() == ["declined"] and queue["age_days"].tolist() == [1.0]
    assert len(p2) == 0


def test_missing_for_owner_lists_missing_claims(engine: sa.Engine, reg: dict) -> None:
    with session_scope(engine) as s:  # p2 becomes the maintainer of beta
        ver = s.get(m.ComponentVersion, reg["components"]["beta"][1])
        assert ver is not None
        ver.maintainer_id = s.scalar(sa.select(m.Person.id).where(m.Person.username == "p2"))
    _update_status(engine, reg, "beta", 0, owner_at=NOW - timedelta(days=5))
    with engine.connect() as conn:
        queue = signoff.missing_for_owner(conn, "p2", now=NOW)
    # beta: r1 not ready (5 days), then the missing rows r2 (A), r4 (B), r5 (C) with no age
    assert list(zip(queue["requirement"], queue["reason"], strict=True)) == [
        ("r1", "not ready"),
        ("r2", "missing"),
        ("r4", "missing"),
        ("r5", "missing"),
    ]
    assert queue["age_days"].iloc[0] == 5.0 and queue["age_days"].iloc[1:].isna().all()


# --- release readiness -----------------------------------------------------------------------------


def test_release_readiness(engine: sa.Engine, reg: dict) -> None:
    _signers(engine, reg, "p2", [1, 2])  # the group signs B and C
    with engine.connect() as conn:
        r = signoff.release_readiness(conn, "cloud 1", now=NOW)
        with pytest.raises(NotFound):
            signoff.release_readiness(conn, "Cloud 2", now=NOW)
    # only alpha 1.0 is deployed: A ready, B waiting (r3 expired), C waiting (r5), D excluded
    assert r.product_version == "Cloud 1" and not r.ready
    assert r.components[["component", "version", "A", "B", "C", "D"]].values.tolist() == [
        ["alpha", "1.0", "ready", "waiting", "waiting", "n/a"]
    ]
    assert r.blocking[["component", "set", "requirement", "overall", "who_must_act"]].values.tolist() == [
        ["alpha", "B", "r3", "waiting", "Signers"],
        ["alpha", "C", "r5", "waiting", "Signers"],
    ]


def test_release_readiness_blocks_on_not_ready_and_clears(engine: sa.Engine, reg: dict) -> None:
    with session_scope(engine) as s:  # delta 1.0 deployed in Cloud 1 too
        pv = s.scalar(sa.select(m.ProductVersion.id))
        loc = s.scalar(sa.select(m.LocationClass.id))
        s.add(
            m.Deployment(
                version_id=reg["components"]["delta"][1], product_version_id=pv, location_class_id=loc
            )
        )
    with engine.connect() as conn:
        r = signoff.release_readiness(conn, "Cloud 1", now=NOW)
    # delta: A not_ready through r2 (declined: the owner must act), B n/a, C ready
    delta = r.components.set_index("component").loc["delta"]
    assert (delta["A"], delta["B"], delta["C"], delta["D"]) == ("not_ready", "n/a", "ready", None)
    blocking = r.blocking[["component", "requirement", "overall", "who_must_act"]].values.tolist()
    assert ["delta", "r2", "not_ready", "owner"] in blocking and not r.ready
    # fix everything: delta r2 signed ready, alpha r3 re-signed, alpha r5 signed → all ready / n/a
    fresh = NOW - timedelta(days=1)
    _update_status(engine, reg, "delta", 1, signee_status="ready", signee_at=fresh)
    _update_status(engine, reg, "alpha", 2, signee_at=fresh)
    _update_status(engine, reg, "alpha", 4, signee_status="ready", signee_at=fresh)
    with engine.connect() as conn:
        r = signoff.release_readiness(conn, "Cloud 1", now=NOW)
    assert r.ready and len(r.blocking) == 0
    assert r.components[["A", "B", "C", "D"]].values.tolist() == [
        ["ready", "ready", "ready", "n/a"],
        ["ready", "n/a", "ready", None],
    ]


# --- compliance over time --------------------------------------------------------------------------


def test_compliance_over_time(engine: sa.Engine, reg: dict) -> None:
    # The trail says: beta's r1 was ready and signed until 10 days ago, when its owner withdrew the
    # claim (not_ready) and the verdict was reset.
    beta_r1 = _status_id(engine, reg, "beta", 0)
    at = NOW - timedelta(days=10)
    with session_scope(engine) as s:
        cs = m.ChangeSet(actor_name="p1", at=at, source="ui")
        s.add(cs)
        s.flush()
        for field, old, new in (
            ("owner_status", "ready", "not_ready"),
            ("signee_status", "ready", "unknown"),
        ):
            s.add(
                m.AuditEvent(
                    change_set_id=cs.id,
                    entity="requirement_status",
                    entity_id=beta_r1,
                    action="update",
                    field=field,
                    old_value=old,
                    new_value=new,
                    actor_name="p1",
                    at=at,
                )
            )
    with engine.connect() as conn:
        df = signoff.compliance_over_time(conn, weeks=3, now=NOW)
    weeks = sorted(set(df["week"]))
    assert [pd.Timestamp(w) for w in weeks] == [
        pd.Timestamp(NOW - timedelta(days=d)).tz_localize(None) for d in (14, 7, 0)
    ]
    got = {(pd.Timestamp(w), s): (r, a) for w, s, r, a in df[["week", "set", "ready", "applicable"]].values}
    t14, t7, t0 = (pd.Timestamp(w) for w in weeks)
    # NOW: A: alpha r1 r2 r3 + delta r1 r3 = 5 of 12; B: alpha r4 of 6 (delta excludes B, alpha r3
    # expired); C: delta r5 of 4. D has no requirements: no row.
    assert got[(t0, "A")] == (5, 12) and got[(t0, "B")] == (1, 6) and got[(t0, "C")] == (1, 4)
    assert {s for _, s in got} == {"A", "B", "C"}
    # NOW-7: verdicts given 1–3 days ago, with no trail, were not yet made: A keeps alpha r3 and
    # delta r3 (45 days old, no expiry in A) = 2; B: alpha r3 38 days old → expired, r4 not yet → 0;
    # C: delta r5 not yet signed → 0.
    assert got[(t7, "A")] == (2, 12) and got[(t7, "B")] == (0, 6) and got[(t7, "C")] == (0, 4)
    # NOW-14: the trail restores beta r1 as ready/ready (no verdict time, A never expires) → 3
    assert got[(t14, "A")] == (3, 12)
    share = df.set_index(["week", "set"])["share_ready"]
    assert share[(t0, "A")] == 5 / 12


def test_compliance_over_time_empty_registry(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        df = signoff.compliance_over_time(conn, weeks=4, now=NOW)
    assert list(df.columns) == ["week", "set", "ready", "applicable", "share_ready"] and len(df) == 0


# --- the demo --------------------------------------------------------------------------------------


@pytest.fixture
def demo(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    from panopticum_data.demo import load_demo

    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)
    with session_scope(engine) as session:
        load_demo(session)
    return engine


def test_every_function_runs_on_the_demo(demo: sa.Engine) -> None:
    with demo.connect() as conn:
        sets = queries.list_requirement_sets(conn)
        overview = queries.components_overview(conn, now=NOW).set_index("name")
        all_sets = signoff.all_sets_heatmap(conn, now=NOW)
        # the all-sets heat-map agrees with the dashboard's set statuses
        for name in sets["name"]:
            assert all_sets[name].tolist() == overview.loc[all_sets.index, name].tolist()
        assert len(signoff.share_ready_by_set(all_sets)) == len(sets)
        assert len(signoff.share_ready_by_category(all_sets)) > 0
        first = str(sets["name"].iloc[0])
        hm = signoff.set_heatmap(conn, first, limit=5, now=NOW)
        assert len(hm.components) == 5 and hm.total == len(all_sets) and hm.remaining == hm.total - 5
        matrix = requirement_matrix(conn, first, now=NOW)
        for comp in hm.components:  # the detailed cells agree with the matrix
            cells = hm.cells[hm.cells["component"] == comp]
            assert cells["overall"].tolist() == matrix.loc[comp, hm.requirements].tolist()
        filtered = signoff.set_heatmap(
            conn, first, status_filters=(StatusFilter(hm.requirements[0], "overall", "ready"),), now=NOW
        )
        assert filtered.total == int((matrix[hm.requirements[0]] == "ready").sum())
        signers = conn.execute(
            sa.select(m.Person.username)
            .join(m.GroupMember, m.GroupMember.person_id == m.Person.id)
            .distinct()
        ).scalars()
        queues = [signoff.waiting_for_signee(conn, u, now=NOW) for u in signers]
        assert sum(len(q) for q in queues) > 0
        for q in queues:  # oldest first
            ages = q["age_days"].dropna()
            assert ages.is_monotonic_decreasing
        owners = queries.list_owners(conn)
        owned = [signoff.missing_for_owner(conn, u, now=NOW) for u in sorted(set(owners["username"]))[:10]]
        assert all("reason" in q.columns for q in owned)
        products = conn.execute(sa.select(m.ProductVersion.name)).scalars().all()
        for pv in products:
            r = signoff.release_readiness(conn, pv, now=NOW)
            assert r.ready == (len(r.blocking) == 0)
            assert set(r.blocking["who_must_act"]) <= {"owner"} | {
                ", ".join(g) for g in sets["signer_groups"]
            }
        trend = signoff.compliance_over_time(conn, weeks=8, now=NOW)
        assert trend["week"].nunique() == 8
        assert trend["share_ready"].between(0, 1).all()


def test_work_queues_equal_the_plain_computation_on_the_demo(demo: sa.Engine) -> None:
    """The queues filter in SQL for speed; they must equal the straightforward reading of
    ``requirement_statuses`` (every current version, every set) for every person of the demo."""
    with demo.connect() as conn:
        every = requirement_statuses(conn, now=NOW)
        owners = queries.list_owners(conn)
        current = set(every["version_id"].astype(int))
        signs = pd.DataFrame(
            conn.execute(
                sa.select(m.Person.username, m.SignerGroup.set_id)
                .join(m.GroupMember, m.GroupMember.person_id == m.Person.id)
                .join(m.SignerGroup, m.SignerGroup.group_id == m.GroupMember.group_id)
            ).all(),
            columns=["username", "set_id"],
        )
        people = conn.execute(sa.select(m.Person.username)).scalars().all()
        checked_signees = checked_owners = 0
        for username in people:
            queue = signoff.waiting_for_signee(conn, username, now=NOW)
            mine = set(signs.loc[signs["username"] == username, "set_id"].astype(int))
            want = every[
                every["set_id"].isin(mine)
                & every["overall"].isin(["waiting", "waiting_na"])
                & ~every["excluded"]
            ]
            key = ["version_id", "set_name", "requirement_id"]
            assert sorted(map(tuple, queue[key].to_numpy().tolist())) == sorted(
                map(tuple, want[key].to_numpy().tolist())
            ), username
            checked_signees += bool(len(queue))

            missing = signoff.missing_for_owner(conn, username, now=NOW)
            versions = set(owners.loc[owners["username"] == username, "version_id"].astype(int)) & current
            want = every[
                every["version_id"].isin(versions)
                & every["overall"].isin(["unknown", "not_ready"])
                & ~every["excluded"]
            ]
            assert sorted(map(tuple, missing[key].to_numpy().tolist())) == sorted(
                map(tuple, want[key].to_numpy().tolist())
            ), username
            declined = want["owner_status"].isin(["ready", "n/a"]) & want["signee_effective"].eq("not_ready")
            assert int((missing["reason"] == "declined").sum()) == int(declined.sum()), username
            checked_owners += bool(len(missing))
    assert checked_signees >= 2 and checked_owners >= 10, "the demo exercises both queues"
