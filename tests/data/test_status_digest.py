"""The requirement-status digest (kept by migration 0007's triggers) against the status rows themselves.

After every kind of write — the ORM, the batch services, a version copied, plain SQL updates and
deletes, cascades from a deleted requirement or version — each version's digest, parsed here
independently of ``status_matrix.decode_cells``, holds exactly one record per status row with its
requirement, both statuses and the signee's time to the microsecond. On PostgreSQL two transactions
writing rows of the same version at once both reach the digest (the rebuild locks, then reads)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data.db import make_engine, session_scope
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
    with engine.begin() as conn:  # a change the digest does not carry leaves it alone
        before = conn.execute(
            sa.select(m.RequirementStatusDigest.cells).where(m.RequirementStatusDigest.version_id == alpha)
        ).scalar_one()
        conn.execute(
            sa.update(rs)
            .where(rs.version_id == alpha)
            .values(owner_notes="noted", row_version=rs.row_version + 1)
        )
        after = conn.execute(
            sa.select(m.RequirementStatusDigest.cells).where(m.RequirementStatusDigest.version_id == alpha)
        ).scalar_one()
    assert after == before
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
def test_concurrent_writes_to_one_version_both_reach_the_digest(db_url: str) -> None:
    """Two transactions update different rows of one version; the second's trigger waits for the
    first's lock on the digest row, then rebuilds from what the first committed."""
    engine = make_engine(db_url)
    try:
        ids = small_registry.build(engine)
        (_, alpha) = ids["components"]["alpha"]
        r1, r2 = ids["reqs"][:2]
        rs = m.RequirementStatus
        first = engine.connect()
        first.begin()
        first.execute(
            sa.update(rs)
            .where(rs.version_id == alpha, rs.requirement_id == r1)
            .values(owner_status="not_ready")
        )
        failure: list[BaseException] = []

        def second() -> None:
            try:
                with engine.begin() as conn:
                    conn.execute(
                        sa.update(rs)
                        .where(rs.version_id == alpha, rs.requirement_id == r2)
                        .values(signee_status="not_ready")
                    )
            except BaseException as error:  # reported below
                failure.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        with engine.connect() as watcher:  # the second transaction is waiting for the first's lock
            while time.monotonic() < deadline:
                waiting = watcher.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.02)
        assert waiting, "the second transaction never waited for the digest row"
        first.commit()
        first.close()
        thread.join(timeout=10)
        assert not failure, failure
        records = {rec[0]: rec for rec in digests(engine)[alpha]}
        assert records[r1][1] == "not_ready" and records[r2][2] == "not_ready"
        assert_digest_matches(engine)
    finally:
        engine.dispose()
