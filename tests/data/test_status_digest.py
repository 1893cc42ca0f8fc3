"""The requirement-status digest (kept by migration 0007's triggers) against the status rows themselves.

After every kind of write — the ORM, the batch services, a version copied, plain SQL updates and
deletes, cascades from a deleted requirement or version — each version's digest, parsed here
independently of ``status_matrix.decode_cells``, holds exactly one record per status row with its
requirement, both statuses and the signee's time to the microsecond. On PostgreSQL two transactions
writing rows of the same version at once both reach the digest (the rebuild locks, then reads)."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from panopticum_data import models as m
from panopticum_data import scoring
from panopticum_data.db import make_engine, session_scope
from panopticum_data.errors import StaleWrite
from panopticum_data.queries import status_matrix as sm
from panopticum_data.queries.entities import list_requirements
from panopticum_data.services import (
    Actor,
    ClaimChange,
    VerdictChange,
    create_version,
    delete_version,
    set_owner_claims,
    set_signee_verdicts,
)
from tests.data import small_registry
from tests.data.small_registry import NOW

ADMIN = Actor(person_id=None, username="system", access_role="admin")
STATUS_BY_LENGTH = {len(s): s for s in ("unknown", "not_ready", "ready", "n/a")}
EPOCH = datetime(1, 1, 1, tzinfo=UTC)
RECORD = 15
Record = tuple[int, str, str, int]  # requirement, owner status, signee status, µs since 0001-01-01 (0: none)


def _number(chars: str) -> int:
    value = 0
    for ch in chars:
        value = value * 90 + ord(ch) - 33
    return value


def digests(engine: sa.Engine) -> dict[int, list[Record]]:
    """Every version's digest, parsed record by record."""
    out: dict[int, list[Record]] = {}
    with engine.connect() as conn:
        for version_id, cells in conn.execute(
            sa.select(m.RequirementStatusDigest.version_id, m.RequirementStatusDigest.cells)
        ):
            assert len(cells) % RECORD == 0, cells
            records = [cells[i : i + RECORD] for i in range(0, len(cells), RECORD)]
            out[version_id] = sorted(
                (
                    _number(r[:4]),
                    STATUS_BY_LENGTH[ord(r[4]) - 64],
                    STATUS_BY_LENGTH[ord(r[5]) - 64],
                    _number(r[6:]),
                )
                for r in records
            )
    return {v: records for v, records in out.items() if records}  # (a version whose rows all went)


def _micro(moment: datetime | None) -> int:
    if moment is None:
        return 0
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(microseconds=1)


def status_rows(engine: sa.Engine) -> dict[int, list[Record]]:
    rs = m.RequirementStatus
    out: dict[int, list[Record]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rs.version_id, rs.requirement_id, rs.owner_status, rs.signee_status, rs.signee_at)
        )
        for version_id, rid, owner, signee, at in rows:
            out.setdefault(version_id, []).append((rid, owner, signee, _micro(at)))
    return {v: sorted(records) for v, records in out.items()}


def assert_digest_matches(engine: sa.Engine) -> None:
    assert digests(engine) == status_rows(engine)


@pytest.fixture
def ids(engine: sa.Engine) -> dict:
    return small_registry.build(engine)


def test_rows_written_by_the_orm_are_in_the_digest(engine: sa.Engine, ids: dict) -> None:
    expected = status_rows(engine)
    assert sum(len(r) for r in expected.values()) == 11  # alpha 5, beta 2, delta 4
    assert digests(engine) == expected
    _, alpha = ids["components"]["alpha"]
    stamps = {rid: at for rid, _, _, at in digests(engine)[alpha]}
    # r1 was signed a day before NOW: its time survives to the microsecond
    assert stamps[ids["reqs"][0]] == _micro(NOW - timedelta(days=1))
    assert stamps[ids["reqs"][4]] == 0  # no verdict time


def test_the_services_claims_verdicts_and_version_copy_keep_the_digest(engine: sa.Engine, ids: dict) -> None:
    (_, alpha), (_, gamma) = ids["components"]["alpha"], ids["components"]["gamma"]
    r1, r2, r3 = ids["reqs"][:3]
    with session_scope(engine) as session:  # a changed claim resets the verdict; new rows for gamma
        set_owner_claims(
            session,
            actor=ADMIN,
            changes=[
                ClaimChange(version_id=alpha, requirement_id=r1, status="not_ready"),
                ClaimChange(version_id=gamma, requirement_id=r2, status="ready"),
                ClaimChange(version_id=gamma, requirement_id=r3, status="n/a"),
            ],
        )
    assert_digest_matches(engine)
    assert (r1, "not_ready", "unknown") in {rec[:3] for rec in digests(engine)[alpha]}
    with session_scope(engine) as session:
        set_signee_verdicts(
            session,
            actor=ADMIN,
            changes=[
                VerdictChange(version_id=gamma, requirement_id=r2, status="ready", set_id=ids["sets"][0])
            ],
        )
    assert_digest_matches(engine)
    signed = {rec[0]: rec for rec in digests(engine)[gamma]}[r2]
    assert signed[2] == "ready" and signed[3] > _micro(NOW - timedelta(days=3650))
    with session_scope(engine) as session:  # the copy takes the statuses along
        copy = create_version(session, actor=ADMIN, component_id=ids["components"]["alpha"][0], version="2.0")
        copy_id = copy.id
    assert_digest_matches(engine)
    assert [rec[:3] for rec in digests(engine)[copy_id]] == [rec[:3] for rec in digests(engine)[alpha]]
    with session_scope(engine) as session:
        delete_version(session, actor=ADMIN, version_id=copy_id)
    assert copy_id not in digests(engine)
    assert_digest_matches(engine)


def test_plain_sql_updates_deletes_and_cascades_keep_the_digest(engine: sa.Engine, ids: dict) -> None:
    rs = m.RequirementStatus
    (_, alpha), (_, beta), (_, delta) = (ids["components"][n] for n in ("alpha", "beta", "delta"))
    r1, r2, r3, r4, r5 = ids["reqs"]
    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    steps = [
        sa.update(rs)
        .where(rs.version_id == alpha, rs.requirement_id == r5)
        .values(signee_status="ready", signee_at=moment),
        sa.update(rs).where(rs.version_id == alpha, rs.requirement_id == r1).values(signee_at=None),
        sa.update(rs).where(rs.version_id == beta).values(owner_status="ready"),  # two rows in one statement
        sa.update(rs).where(rs.version_id == delta, rs.requirement_id == r2).values(requirement_id=r4),
        sa.update(rs).where(rs.version_id == delta, rs.requirement_id == r5).values(version_id=beta),
        sa.delete(rs).where(rs.version_id == alpha, rs.requirement_id == r2),
        sa.delete(m.Requirement).where(m.Requirement.id == r3),  # cascades to alpha, beta and delta
        sa.delete(rs).where(rs.version_id == beta),  # beta's last rows: its digest empties
    ]
    for step in steps:
        with engine.begin() as conn:
            conn.execute(step)
        assert_digest_matches(engine)
    parsed = digests(engine)
    assert beta not in parsed
    assert (r5, "ready", "ready", _micro(moment)) in parsed[alpha]
    assert all(rec[0] != r3 for records in parsed.values() for rec in records)
    with engine.begin() as conn:  # a whole component: its version and the version's digest go
        conn.execute(
            sa.update(m.Component)
            .values(current_version_id=None)
            .where(m.Component.id == ids["components"]["alpha"][0])
        )
        conn.execute(sa.delete(m.ComponentVersion).where(m.ComponentVersion.id == alpha))
    assert alpha not in digests(engine)
    assert_digest_matches(engine)


def test_verdicts_expire_to_the_microsecond(engine: sa.Engine, ids: dict) -> None:
    """B's verdicts are valid 30 days: one signed exactly 30 days before now is fresh, one signed a
    microsecond earlier has expired (as ``signee_at >= now - validity`` in scoring)."""
    rs = m.RequirementStatus
    (_, alpha) = ids["components"]["alpha"]
    r3, r4 = ids["reqs"][2:4]
    cutoff = NOW - timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            sa.update(rs).where(rs.version_id == alpha, rs.requirement_id == r3).values(signee_at=cutoff)
        )
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha, rs.requirement_id == r4)
            .values(signee_at=cutoff - timedelta(microseconds=1))
        )
    with engine.connect() as conn:
        lay = sm.layout(list_requirements(conn), NOW)
        versions = pd.Index([alpha])
        owner, signee, fresh = sm.decode_cells(sm.fetch_cells(conn), versions, lay)
    b = lay.set_names.index("B")
    columns = {rid: i for i, rid in enumerate(lay.requirement_ids)}
    validity_class = fresh[lay.set_class[b]]
    assert bool(validity_class[0, columns[r3]]) is True
    assert bool(validity_class[0, columns[r4]]) is False
    assert np.all(fresh[lay.set_class[lay.set_names.index("A")]])  # A never expires


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # about PostgreSQL's row locks
def test_concurrent_writes_to_one_version_both_reach_the_digest(engine: sa.Engine, ids: dict) -> None:
    """Two transactions update different rows of one version; the second's trigger waits for the
    first's lock on the digest row, then rebuilds from what the first committed."""
    (_, alpha) = ids["components"]["alpha"]
    r1, r2 = ids["reqs"][:2]
    rs = m.RequirementStatus
    first = engine.connect()
    first.begin()
    first.execute(
        sa.update(rs).where(rs.version_id == alpha, rs.requirement_id == r1).values(owner_status="not_ready")
    )
    second = _in_thread(
        engine,
        lambda conn: conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha, rs.requirement_id == r2)
            .values(signee_status="not_ready")
        ),
    )
    _wait_for_a_lock_wait(engine, second)  # for the first's lock on the digest row
    first.commit()
    first.close()
    assert second.join() == []
    records = {rec[0]: rec for rec in digests(engine)[alpha]}
    assert records[r1][1] == "not_ready" and records[r2][2] == "not_ready"
    assert_digest_matches(engine)


def _cells(engine: sa.Engine, version_id: int) -> str | None:
    d = m.RequirementStatusDigest
    with engine.connect() as conn:
        return conn.execute(sa.select(d.cells).where(d.version_id == version_id)).scalar_one_or_none()


def test_times_from_year_1_to_9999_and_none_are_kept_exactly(engine: sa.Engine, ids: dict) -> None:
    """The digest counts microseconds from 0001-01-01 (0006 counted from 1970 in fewer digits: it
    failed on earlier times and wrapped later ones); a verdict without a time is 0."""
    rs = m.RequirementStatus
    (_, alpha) = ids["components"]["alpha"]
    moments = [
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(1850, 6, 1, 12, 0, 0, 250000, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    with engine.begin() as conn:
        for rid, moment in zip(ids["reqs"], moments, strict=True):
            conn.execute(
                sa.insert(rs).values(
                    version_id=ids["components"]["gamma"][1], requirement_id=rid, signee_at=moment
                )
            )
        conn.execute(sa.update(rs).where(rs.version_id == alpha).values(signee_at=None))
    assert_digest_matches(engine)
    gamma_times = sorted(rec[3] for rec in digests(engine)[ids["components"]["gamma"][1]])
    assert gamma_times == sorted(_micro(t) for t in moments)
    assert gamma_times[0] == 1  # one microsecond after the start of the year 1
    assert {rec[3] for rec in digests(engine)[alpha]} == {0}


def test_expiry_agrees_with_scoring_before_1970_after_2106_and_without_a_time(
    engine: sa.Engine, ids: dict
) -> None:
    """Under a validity of 100 years (a cutoff in the 1920s), the decoder's fresh verdicts are
    scoring's: 1850 has expired, 1969 and 2200 have not, a verdict without a time has."""
    rs = m.RequirementStatus
    (_, alpha) = ids["components"]["alpha"]
    moments = [
        datetime(1850, 6, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
        None,
        datetime(1926, 1, 1, tzinfo=UTC),
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.update(m.RequirementSet).where(m.RequirementSet.name == "B").values(validity_days=36500)
        )
        conn.execute(sa.delete(rs).where(rs.version_id == alpha))
        conn.execute(
            sa.insert(rs),
            [
                {
                    "version_id": alpha,
                    "requirement_id": rid,
                    "owner_status": "ready",
                    "signee_status": "ready",
                    "signee_at": moment,
                }
                for rid, moment in zip(ids["reqs"], moments, strict=True)
            ],
        )
    with engine.connect() as conn:
        lay = sm.layout(list_requirements(conn), NOW)
        _, _, fresh = sm.decode_cells(sm.fetch_cells(conn), pd.Index([alpha]), lay)
    b_class = lay.set_class[lay.set_names.index("B")]
    columns = {rid: i for i, rid in enumerate(lay.requirement_ids)}
    decoded = [bool(fresh[b_class][0, columns[rid]]) for rid in ids["reqs"]]
    kept = scoring.expire_verdicts(
        pd.Series(["ready"] * 5),
        signee_at=pd.Series(moments, dtype="datetime64[ns, UTC]"),
        validity_days=pd.Series([36500.0] * 5),
        now=NOW,
    )
    assert decoded == list(kept == "ready")
    assert decoded == [False, True, True, False, NOW - timedelta(days=36500) <= moments[4]]


def test_requirement_ids_beyond_the_digest_are_refused(engine: sa.Engine, ids: dict) -> None:
    """Four base-90 digits hold ids up to 65,609,999; a larger id is an error, never an alias."""
    rs = m.RequirementStatus
    (_, gamma) = ids["components"]["gamma"]
    with engine.begin() as conn:
        for rid in (90**4 - 1, 90**4):
            conn.execute(sa.insert(m.Requirement).values(id=rid, title=f"big {rid}", description="x"))
        conn.execute(sa.insert(rs).values(version_id=gamma, requirement_id=90**4 - 1, owner_status="ready"))
    assert [rec[:2] for rec in digests(engine)[gamma]] == [(90**4 - 1, "ready")]
    before = status_rows(engine)
    with pytest.raises(sa.exc.IntegrityError, match="beyond the status digest"), engine.begin() as conn:
        conn.execute(sa.insert(rs).values(version_id=gamma, requirement_id=90**4))
    with pytest.raises(sa.exc.IntegrityError, match="beyond the status digest"), engine.begin() as conn:
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == gamma, rs.requirement_id == 90**4 - 1)
            .values(requirement_id=90**4)
        )
    assert status_rows(engine) == before
    assert_digest_matches(engine)


def _upsert(engine: sa.Engine) -> Any:
    return (sqlite_insert if engine.dialect.name == "sqlite" else pg_insert)(m.RequirementStatus)


def test_an_upsert_that_inserts_and_updates_one_version_records_each_row_once(
    engine: sa.Engine, ids: dict
) -> None:
    (_, alpha) = ids["components"]["alpha"]
    present = {rec[0] for rec in status_rows(engine)[alpha]}
    new = next(r for r in ids["reqs"] if r not in present) if len(present) < 5 else None
    existing = sorted(present)[0]
    rows = [{"version_id": alpha, "requirement_id": existing, "owner_status": "not_ready"}]
    if new is not None:
        rows.append({"version_id": alpha, "requirement_id": new, "owner_status": "ready"})
    stmt = _upsert(engine).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["version_id", "requirement_id"], set_={"owner_status": stmt.excluded.owner_status}
    )
    gamma = ids["components"]["gamma"][1]
    with engine.begin() as conn:
        conn.execute(stmt)
        # and a second version's first rows, one of them updated by the same statement
        conn.execute(
            _upsert(engine)
            .values(
                [
                    {"version_id": gamma, "requirement_id": ids["reqs"][0], "owner_status": "ready"},
                    {"version_id": gamma, "requirement_id": ids["reqs"][1], "owner_status": "ready"},
                ]
            )
            .on_conflict_do_nothing()
        )
    assert_digest_matches(engine)
    assert (existing, "not_ready") in {rec[:2] for rec in digests(engine)[alpha]}
    assert len(digests(engine)[gamma]) == 2


def test_sqlite_insert_or_replace_leaves_no_stale_record(sqlite_engine: sa.Engine) -> None:
    """A REPLACE deletes the row it conflicts with without its delete triggers unless
    recursive_triggers is on (our engine turns it on); without it the insert trigger sees the digest
    out of step with the rows and rebuilds."""
    engine = sqlite_engine
    ids = small_registry.build(engine)
    rs = m.RequirementStatus
    (_, alpha), (_, beta) = ids["components"]["alpha"], ids["components"]["beta"]
    r1 = ids["reqs"][0]
    with engine.begin() as conn:  # the engine's connection: same (version, requirement), new values
        conn.execute(
            sa.insert(rs)
            .prefix_with("OR REPLACE")
            .values(version_id=alpha, requirement_id=r1, owner_status="not_ready", signee_status="unknown")
        )
        row_id = conn.execute(
            sa.select(rs.id).where(rs.version_id == alpha, rs.requirement_id == r1)
        ).scalar_one()
        # the same row id, moved to another version: the replaced row leaves alpha's digest
        conn.execute(
            sa.insert(rs)
            .prefix_with("OR REPLACE")
            .values(id=row_id, version_id=beta, requirement_id=ids["reqs"][4], owner_status="n/a")
        )
    assert_digest_matches(engine)
    raw = sqlite3.connect(engine.url.database)  # a connection without recursive_triggers
    try:
        assert raw.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        raw.execute(
            "INSERT OR REPLACE INTO requirement_status (version_id, requirement_id, owner_status,"
            " signee_status, row_version, created_at, updated_at)"
            " VALUES (?, ?, 'ready', 'ready', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (beta, ids["reqs"][4]),
        )
        raw.commit()
    finally:
        raw.close()
    assert_digest_matches(engine)
    assert (ids["reqs"][4], "ready", "ready") in {rec[:3] for rec in digests(engine)[beta]}


def test_a_version_without_a_digest_row_gets_one(engine: sa.Engine, ids: dict) -> None:
    """A row moved into a version that had none, and a version whose digest row went missing."""
    rs = m.RequirementStatus
    (_, alpha), (_, gamma) = ids["components"]["alpha"], ids["components"]["gamma"]
    with engine.begin() as conn:
        conn.execute(
            sa.delete(m.RequirementStatusDigest).where(m.RequirementStatusDigest.version_id == alpha)
        )
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha, rs.requirement_id == ids["reqs"][0])
            .values(version_id=gamma)
        )
    assert _cells(engine, gamma) and _cells(engine, alpha)
    assert_digest_matches(engine)


def test_a_change_outside_the_record_does_not_rebuild(engine: sa.Engine, ids: dict) -> None:
    """Notes and row versions are not in the digest: writing them leaves even a (deliberately)
    wrong digest alone; a status change rebuilds it."""
    rs, d = m.RequirementStatus, m.RequirementStatusDigest
    (_, alpha) = ids["components"]["alpha"]
    with engine.begin() as conn:
        conn.execute(sa.update(d).where(d.version_id == alpha).values(cells=""))
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha)
            .values(owner_notes="noted", evidence_url="https://example.org", row_version=rs.row_version + 1)
        )
    assert _cells(engine, alpha) == ""
    with engine.begin() as conn:
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha, rs.requirement_id == ids["reqs"][0])
            .values(owner_status="n/a")
        )
    assert_digest_matches(engine)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgresql_truncate_and_infinite_times(engine: sa.Engine, ids: dict) -> None:
    (_, alpha) = ids["components"]["alpha"]
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE requirement_status")
    assert digests(engine) == {} and status_rows(engine) == {}
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO requirement_status (version_id, requirement_id, owner_status, signee_status,"
            " signee_at, row_version, created_at, updated_at) SELECT %(alpha)s, r, 'ready', 'ready', at, 1,"
            " now(), now() FROM unnest(%(reqs)s, %(times)s::timestamptz[]) AS t(r, at)",
            {
                "alpha": alpha,
                "reqs": ids["reqs"][:3],
                "times": ["infinity", "-infinity", "0044-03-15 BC"],
            },
        )
    times = {rec[0]: rec[3] for rec in digests(engine)[alpha]}
    assert times == {ids["reqs"][0]: 90**9 - 1, ids["reqs"][1]: 1, ids["reqs"][2]: 1}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_first_rows_of_a_version_both_reach_the_digest(engine: sa.Engine, ids: dict) -> None:
    """Two transactions add the first rows of a version without a digest row: the second waits for
    the first's new digest row, then rebuilds from what the first committed."""
    (_, gamma) = ids["components"]["gamma"]
    rs = m.RequirementStatus
    first = engine.connect()
    first.begin()
    first.execute(sa.insert(rs).values(version_id=gamma, requirement_id=ids["reqs"][0], owner_status="ready"))
    failure = _in_thread(
        engine,
        lambda conn: conn.execute(
            sa.insert(rs).values(version_id=gamma, requirement_id=ids["reqs"][1], owner_status="n/a")
        ),
    )
    _wait_for_a_lock_wait(engine, failure)
    first.commit()
    first.close()
    assert failure.join() == []
    assert [rec[:2] for rec in digests(engine)[gamma]] == [
        (ids["reqs"][0], "ready"),
        (ids["reqs"][1], "n/a"),
    ]
    assert_digest_matches(engine)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_service_and_a_plain_update_of_one_version_do_not_deadlock(engine: sa.Engine, ids: dict) -> None:
    """A plain writer holds one of a version's status rows and then updates another (its trigger
    locks the version's digest); a service changing the first row meanwhile waits for the row
    before it takes the digest, so both finish (0006's services took the digest first: a deadlock)."""
    (_, alpha) = ids["components"]["alpha"]
    r1, r2 = ids["reqs"][:2]
    rs = m.RequirementStatus
    plain = engine.connect()
    plain.begin()
    plain.execute(sa.select(rs.id).where(rs.version_id == alpha, rs.requirement_id == r1).with_for_update())

    def service(_conn: sa.Connection) -> None:
        with session_scope(engine) as session:
            set_owner_claims(
                session,
                actor=ADMIN,
                changes=[ClaimChange(version_id=alpha, requirement_id=r1, status="n/a")],
            )

    failure = _in_thread(engine, service)
    _wait_for_a_lock_wait(engine, failure)
    plain.execute(
        sa.update(rs).where(rs.version_id == alpha, rs.requirement_id == r2).values(owner_status="not_ready")
    )
    plain.commit()
    plain.close()
    assert failure.join() == []
    records = {rec[0]: rec for rec in digests(engine)[alpha]}
    assert records[r1][1] == "n/a" and records[r2][1] == "not_ready"
    assert_digest_matches(engine)


class _Thread:
    def __init__(self, engine: sa.Engine, work: Any) -> None:
        self.failures: list[BaseException] = []

        def run() -> None:
            try:
                with engine.begin() as conn:
                    work(conn)
            except BaseException as error:  # reported by join
                self.failures.append(error)

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> list[BaseException]:
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the second transaction never finished"
        return self.failures


def _in_thread(engine: sa.Engine, work: Any) -> _Thread:
    return _Thread(engine, work)


def _wait_for_a_lock_wait(engine: sa.Engine, other: _Thread) -> None:
    deadline = time.monotonic() + 10
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            assert not other.failures, other.failures
            assert other.thread.is_alive(), "the second transaction finished without waiting"
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            ).scalar_one()
            watcher.rollback()  # (a transaction keeps its first snapshot of pg_stat_activity)
            if waiting:
                return
            time.sleep(0.02)
        activity = watcher.execute(
            sa.text(
                "SELECT wait_event_type, wait_event, state, query FROM pg_stat_activity WHERE datname = current_database()"
            )
        ).all()
    raise AssertionError(f"the second transaction never waited for a lock: {activity}")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_service_batches_lock_rows_in_one_order_across_chunks(engine: sa.Engine, ids: dict) -> None:
    """A batch of 401 rows locks them in chunks of 400. Ordered by id, the chunks took a row of a
    smaller (version, requirement) but a larger id last, while a small batch took it first: a
    deadlock. Ordered by (version, requirement) across chunks, the small batch waits, then saves or
    is refused as stale (a typed error), never a deadlock."""
    (_, alpha), (_, beta) = ids["components"]["alpha"], ids["components"]["beta"]
    with session_scope(engine) as session:
        reqs = [m.Requirement(title=f"bulk {i}", description="x") for i in range(401)]
        session.add_all(reqs)
        session.flush()
        rids = [r.id for r in reqs]
        # beta's rows first (smaller ids), then alpha's (a larger id, in the smaller version)
        session.add_all([m.RequirementStatus(version_id=beta, requirement_id=r) for r in rids[:400]])
        session.flush()
        session.add(m.RequirementStatus(version_id=alpha, requirement_id=rids[400]))
    small = [ClaimChange(version_id=alpha, requirement_id=rids[400], status="ready")] + [
        ClaimChange(version_id=beta, requirement_id=rids[0], status="ready")
    ]
    threads: list[_Thread] = []
    locks = []
    big_engine = make_engine(engine.url.render_as_string(hide_password=False))

    @sa.event.listens_for(big_engine, "before_cursor_execute")
    def _second_chunk(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM requirement_status" in statement and "FOR UPDATE" in statement:
            locks.append(statement)
            if len(locks) == 2:  # before the big batch's second chunk: the small batch runs
                threads.append(_in_thread(engine, lambda _conn: _claims(engine, small)))
                _wait_for_a_lock_wait(engine, threads[0])

    try:
        _claims(
            big_engine,
            [ClaimChange(version_id=beta, requirement_id=r, status="n/a") for r in rids[:400]]
            + [ClaimChange(version_id=alpha, requirement_id=rids[400], status="n/a")],
        )
    finally:
        big_engine.dispose()
    assert len(threads) == 1
    failures = threads[0].join()  # the small batch waited: it saves, or finds its rows changed
    assert all(isinstance(f, StaleWrite) for f in failures), failures
    records = {(v, rec[0]): rec[1] for v, recs in digests(engine).items() for rec in recs}
    assert records[(alpha, rids[400])] == ("n/a" if failures else "ready")
    assert_digest_matches(engine)


def _claims(engine: sa.Engine, changes: list[ClaimChange]) -> None:
    with session_scope(engine) as session:
        set_owner_claims(session, actor=ADMIN, changes=changes)
