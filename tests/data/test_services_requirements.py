"""Owner claims and signee verdicts (batch, set-based), set exclusions, and the admin services for
requirement sets — permission matrix, the claim-resets-verdict rule, audit, stale batches, bad input."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import RequirementSetItem, RequirementStatus, SetExclusion, utcnow
from panopticum_data.scoring import expire_verdicts
from panopticum_data.services import (
    BatchPermissionDenied,
    BatchStaleWrite,
    ClaimChange,
    VerdictChange,
    requirements,
)
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _status(engine: sa.Engine, vid: int, rid: int) -> RequirementStatus | None:
    with Session(engine) as s:
        row = s.scalar(
            sa.select(RequirementStatus).where(
                RequirementStatus.version_id == vid, RequirementStatus.requirement_id == rid
            )
        )
        if row is not None:
            s.expunge(row)
        return row


def _claim(engine: sa.Engine, world: World, role: str, *changes: ClaimChange) -> list[RequirementStatus]:
    with session_scope(engine) as s:
        return svc.set_owner_claims(s, actor=world[role], changes=list(changes))


def _verdict(engine: sa.Engine, world: World, role: str, *changes: VerdictChange) -> list[RequirementStatus]:
    with session_scope(engine) as s:
        return svc.set_signee_verdicts(s, actor=world[role], changes=list(changes))


# --- permission matrix -------------------------------------------------------------------------------------

CLAIM_MATRIX = [
    ("admin", True),
    ("editor", True),
    ("owner", True),
    ("other_owner", False),
    ("signer", False),
    ("other_signer", False),
    ("viewer", False),
]
VERDICT_MATRIX = [  # on "Encrypt data", in the Security set
    ("admin", True),
    ("signer", True),  # security-team signs Security
    ("other_signer", False),  # perf-team signs Performance only
    ("editor", False),
    ("owner", False),
    ("other_owner", False),
    ("viewer", False),
]


def test_claims_permission_matrix(engine: sa.Engine, world: World) -> None:
    for role, allowed in CLAIM_MATRIX:
        change = ClaimChange(world.billing_v1, world.encrypt, "not_ready", f"by {role}")
        if allowed:
            _claim(engine, world, role, change)
            row = _status(engine, world.billing_v1, world.encrypt)
            assert row is not None and row.owner_notes == f"by {role}"
            assert row.owner_by_id == world[role].person_id
        else:
            err = assert_refused(
                engine,
                lambda s, r=role, c=change: svc.set_owner_claims(s, actor=world[r], changes=[c]),
                PermissionDenied,
            )
            assert isinstance(err, BatchPermissionDenied)
            assert err.conflicts == [(world.billing_v1, world.encrypt)]
            assert role in str(err) and f"version {world.billing_v1} requirement {world.encrypt}" in str(err)


def test_verdicts_permission_matrix(engine: sa.Engine, world: World) -> None:
    for role, allowed in VERDICT_MATRIX:
        change = VerdictChange(world.billing_v1, world.encrypt, "not_ready", f"by {role}")
        if allowed:
            _verdict(engine, world, role, change)
            row = _status(engine, world.billing_v1, world.encrypt)
            assert row is not None and row.signee_notes == f"by {role}"
            assert row.signee_by_id == world[role].person_id
        else:
            err = assert_refused(
                engine,
                lambda s, r=role, c=change: svc.set_signee_verdicts(s, actor=world[r], changes=[c]),
                PermissionDenied,
            )
            assert isinstance(err, BatchPermissionDenied)
            assert err.conflicts == [(world.billing_v1, world.encrypt)]


def test_verdicts_for_a_named_set(engine: sa.Engine, world: World) -> None:
    # a requirement in two sets: signers of either may sign; with set_id, only for that set
    with session_scope(engine) as s:
        svc.set_requirement_sets(
            s, actor=svc.SYSTEM, requirement_id=world.encrypt, sets=["Security", "Performance"]
        )
    _verdict(engine, world, "other_signer", VerdictChange(world.billing_v1, world.encrypt, "ready"))
    _verdict(
        engine,
        world,
        "other_signer",
        VerdictChange(world.billing_v1, world.encrypt, "not_ready", set_id=world.performance_set),
    )
    assert_refused(
        engine,
        lambda s: svc.set_signee_verdicts(
            s,
            actor=world["other_signer"],
            changes=[VerdictChange(world.billing_v1, world.encrypt, "ready", set_id=world.security_set)],
        ),
        PermissionDenied,
    )
    for role in ("admin", "signer"):  # a requirement outside the named set is refused, even for admins
        assert_refused(
            engine,
            lambda s, r=role: svc.set_signee_verdicts(
                s,
                actor=world[r],
                changes=[
                    VerdictChange(world.billing_v1, world.load_test, "ready", set_id=world.security_set)
                ],
            ),
            InvalidValue,
            field="requirement_id",
            value=world.load_test,
        )


# --- the claim-resets-verdict rule and audit -----------------------------------------------------------------


def test_a_changed_claim_resets_the_verdict_and_records_the_reset(engine: sa.Engine, world: World) -> None:
    vid, rid = world.billing_v1, world.encrypt
    (created,) = _claim(engine, world, "owner", ClaimChange(vid, rid, "ready", "done"))
    evs = f.last_change_set_events(engine)
    assert {(e.entity, e.entity_id, e.action) for e in evs} == {("requirement_status", created.id, "create")}
    assert f.field_changes(evs) == {
        "version_id": (None, str(vid)),
        "requirement_id": (None, str(rid)),
        "owner_status": (None, "ready"),
        "owner_notes": (None, "done"),
    }
    _verdict(engine, world, "signer", VerdictChange(vid, rid, "ready", "approved", "https://evidence/1"))
    row = _status(engine, vid, rid)
    assert row is not None and (row.signee_status, row.evidence_url) == ("ready", "https://evidence/1")

    _claim(engine, world, "owner", ClaimChange(vid, rid, "ready", "notes only"))  # same status: verdict stays
    row = _status(engine, vid, rid)
    assert row is not None and row.signee_status == "ready"

    _claim(engine, world, "owner", ClaimChange(vid, rid, "n/a", "not applicable after all"))
    row = _status(engine, vid, rid)
    assert row is not None and (row.owner_status, row.signee_status, row.signee_by_id) == (
        "n/a",
        "unknown",
        None,
    )
    evs = f.last_change_set_events(engine)
    assert f.field_changes(evs) == {
        "owner_status": ("ready", "n/a"),
        "owner_notes": ("notes only", "not applicable after all"),
        "signee_status": ("ready", "unknown"),  # the reset, recorded
    }
    assert {e.actor_name for e in evs} == {"owner"} and len({e.change_set_id for e in evs}) == 1

    _verdict(
        engine, world, "signer", VerdictChange(vid, rid, "ready", "n/a approved")
    )  # approving an owner's n/a
    row = _status(engine, vid, rid)
    assert row is not None and (row.owner_status, row.signee_status) == ("n/a", "ready")


def _effective_verdict(engine: sa.Engine, vid: int, rid: int, validity_days: float) -> str:
    """The signee's verdict as the scores see it now: expired verdicts count as ``unknown``."""
    row = _status(engine, vid, rid)
    assert row is not None
    return str(
        expire_verdicts(
            pd.Series([row.signee_status]),
            signee_at=pd.Series([row.signee_at]),
            validity_days=pd.Series([validity_days]),
            now=utcnow(),
        ).iloc[0]
    )


def test_a_verdict_given_again_renews_it_and_a_notes_edit_keeps_its_time(
    engine: sa.Engine, world: World
) -> None:
    vid, rid = world.billing_v1, world.encrypt
    with session_scope(engine) as s:
        svc.update_requirement_set(
            s,
            actor=svc.SYSTEM,
            set_id=world.security_set,
            expected_row_version=None,
            changes={"validity_days": 30},
        )
    _claim(engine, world, "owner", ClaimChange(vid, rid, "ready"))
    _verdict(engine, world, "admin", VerdictChange(vid, rid, "ready", "ok", "https://evidence/1"))
    sixty_days_ago = utcnow() - timedelta(days=60)
    with session_scope(engine) as s:  # time passes: the verdict is older than the set's validity
        s.execute(
            sa.update(RequirementStatus)
            .where(RequirementStatus.version_id == vid, RequirementStatus.requirement_id == rid)
            .values(signee_at=sixty_days_ago)
        )
    assert _effective_verdict(engine, vid, rid, 30) == "unknown"
    expired = _status(engine, vid, rid)
    assert expired is not None

    # the signer gives the same verdict again: a new sign-off, by them, now
    _verdict(engine, world, "signer", VerdictChange(vid, rid, "ready", "ok", "https://evidence/1"))
    renewed = _status(engine, vid, rid)
    assert renewed is not None and renewed.signee_status == "ready"
    assert renewed.signee_by_id == world["signer"].person_id
    assert renewed.signee_at is not None and renewed.signee_at > expired.signee_at  # type: ignore[operator]
    assert renewed.row_version == expired.row_version + 1
    assert _effective_verdict(engine, vid, rid, 30) == "ready"
    evs = f.last_change_set_events(engine)
    assert [(e.entity, e.entity_id, e.field, e.actor_name) for e in evs] == [
        ("requirement_status", renewed.id, "signee_at", "signer")
    ]
    assert evs[0].old_value is not None and evs[0].new_value is not None
    assert evs[0].old_value < evs[0].new_value

    # a change of notes or evidence only (no status) keeps the sign-off: no silent extension
    with session_scope(engine) as s:
        s.execute(
            sa.update(RequirementStatus)
            .where(RequirementStatus.version_id == vid, RequirementStatus.requirement_id == rid)
            .values(signee_at=sixty_days_ago)
        )
    _verdict(engine, world, "admin", VerdictChange(vid, rid, None, "re-checked", "https://evidence/2"))
    edited = _status(engine, vid, rid)
    assert edited is not None
    assert (edited.signee_notes, edited.evidence_url) == ("re-checked", "https://evidence/2")
    assert (edited.signee_status, edited.signee_by_id) == ("ready", world["signer"].person_id)
    assert _effective_verdict(engine, vid, rid, 30) == "unknown"  # still expired
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "signee_notes": ("ok", "re-checked"),
        "evidence_url": ("https://evidence/1", "https://evidence/2"),
    }
    # notes on a requirement without a verdict yet create the row without a sign-off
    _verdict(engine, world, "signer", VerdictChange(vid, world.audit_logins, None, "looking"))
    fresh = _status(engine, vid, world.audit_logins)
    assert fresh is not None and (fresh.signee_status, fresh.signee_by_id, fresh.signee_at) == (
        "unknown",
        None,
        None,
    )
    assert fresh.signee_notes == "looking"


def test_a_batch_is_one_change_set_and_creates_missing_rows(engine: sa.Engine, world: World) -> None:
    changes = [
        ClaimChange(world.billing_v1, world.encrypt, "ready"),
        ClaimChange(world.billing_v1, world.audit_logins, "not_ready", "soon"),
        ClaimChange(world.ledger_v1, world.load_test, "n/a"),
    ]
    rows = _claim(engine, world, "editor", *changes)
    assert [(r.version_id, r.requirement_id, r.owner_status) for r in rows] == [
        (c.version_id, c.requirement_id, c.status) for c in changes
    ]
    evs = f.last_change_set_events(engine)
    assert len({e.change_set_id for e in evs}) == 1
    assert {e.component_id for e in evs} == {world.billing, world.ledger}
    assert sum(1 for e in evs if e.field is None) == 3  # one "create" per new row
    before = f.snapshot(engine)
    _claim(engine, world, "editor", *changes)  # a repeat changes nothing, not even an empty change set
    assert f.snapshot(engine) == before


# --- stale writes ---------------------------------------------------------------------------------------------


def test_a_stale_batch_lists_every_conflict_and_writes_nothing(engine: sa.Engine, world: World) -> None:
    v, enc, logins, load = world.billing_v1, world.encrypt, world.audit_logins, world.load_test
    rows = _claim(engine, world, "owner", ClaimChange(v, enc, "ready"), ClaimChange(v, logins, "ready"))
    seen = {r.requirement_id: r.row_version for r in rows}
    _verdict(engine, world, "signer", VerdictChange(v, enc, "ready"), VerdictChange(v, logins, "not_ready"))
    batch = [
        ClaimChange(v, enc, "not_ready", expected_row_version=seen[enc]),
        ClaimChange(v, logins, "not_ready", expected_row_version=seen[logins]),
        ClaimChange(v, load, "ready", expected_row_version=0),  # "I saw no row": fine
    ]
    err = assert_refused(
        engine,
        lambda s: svc.set_owner_claims(s, actor=world["owner"], changes=batch),
        StaleWrite,
        field="row_version",
    )
    assert isinstance(err, BatchStaleWrite)
    assert err.conflicts == [(v, enc), (v, logins)]
    assert f"version {v} requirement {enc}" in str(err) and f"version {v} requirement {logins}" in str(err)
    # verdicts check the same way; a row the caller did not see (expected 0) is a conflict too
    err = assert_refused(
        engine,
        lambda s: svc.set_signee_verdicts(
            s, actor=world["signer"], changes=[VerdictChange(v, enc, "not_ready", expected_row_version=0)]
        ),
        StaleWrite,
    )
    assert isinstance(err, BatchStaleWrite) and err.conflicts == [(v, enc)]
    # reloaded, the same change goes through
    current = {rid: getattr(_status(engine, v, rid), "row_version", None) for rid in (enc, logins)}
    _claim(
        engine,
        world,
        "owner",
        *[ClaimChange(v, rid, "not_ready", expected_row_version=current[rid]) for rid in (enc, logins)],
    )
    assert {getattr(_status(engine, v, rid), "owner_status", None) for rid in (enc, logins)} == {"not_ready"}


def test_a_row_created_by_a_concurrent_save_is_a_stale_write_not_an_integrity_error(
    engine: sa.Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two saves read "no row yet" for the same pair; the second one's INSERT hits the unique
    (version_id, requirement_id) constraint: BatchStaleWrite naming the pair, nothing written."""
    v, enc, logins = world.billing_v1, world.encrypt, world.audit_logins
    _claim(engine, world, "owner", ClaimChange(v, logins, "not_ready"))  # an existing row, updated below
    _claim(engine, world, "editor", ClaimChange(v, enc, "ready", "theirs"))  # the other save, first
    real_load_rows = requirements._load_rows
    calls = 0

    def read_before_their_commit(session: Session, pairs: Any) -> Any:
        nonlocal calls
        calls += 1
        found = real_load_rows(session, pairs)
        return {p: r for p, r in found.items() if p != (v, enc)} if calls == 1 else found

    monkeypatch.setattr(requirements, "_load_rows", read_before_their_commit)
    batch = [
        ClaimChange(v, logins, "ready"),
        ClaimChange(v, enc, "not_ready", "mine", expected_row_version=0),  # "I saw no row"
        ClaimChange(v, world.load_test, "ready"),
    ]
    err = assert_refused(
        engine,
        lambda s: svc.set_owner_claims(s, actor=world["owner"], changes=batch),
        StaleWrite,
        field="row_version",
    )
    assert isinstance(err, BatchStaleWrite) and err.conflicts == [(v, enc)]
    assert f"version {v} requirement {enc}" in str(err)
    row = _status(engine, v, enc)
    assert row is not None and (row.owner_status, row.owner_notes) == ("ready", "theirs")
    calls = 0  # the same for verdicts (the session stays usable: the failed insert was rolled back)
    with Session(engine) as s:
        with pytest.raises(BatchStaleWrite) as info:
            svc.set_signee_verdicts(s, actor=world["signer"], changes=[VerdictChange(v, enc, "ready")])
        assert info.value.conflicts == [(v, enc)]
        assert s.scalar(sa.select(sa.func.count()).select_from(RequirementStatus)) == 2


# --- bad input --------------------------------------------------------------------------------------------------


def test_claims_and_verdicts_refuse_bad_input(engine: sa.Engine, world: World) -> None:
    v, rid = world.billing_v1, world.encrypt
    claim_cases: list[tuple[list[ClaimChange], type[Exception], str, Any]] = [
        ([ClaimChange(v, rid, "done")], InvalidValue, "owner_status", "done"),
        ([ClaimChange(v, rid, "ready"), ClaimChange(v, rid, "n/a")], InvalidValue, "requirement_id", rid),
        ([ClaimChange(999, rid, "ready")], NotFound, "version_id", 999),
        ([ClaimChange(v, 888, "ready")], NotFound, "requirement_id", 888),
        ([ClaimChange(v, rid, "ready", notes=42)], InvalidValue, "owner_notes", 42),  # type: ignore[arg-type]
    ]
    for changes, error, field, value in claim_cases:
        assert_refused(
            engine,
            lambda s, c=changes: svc.set_owner_claims(s, actor=world["owner"], changes=c),
            error,
            field=field,
            value=value,
        )
    verdict_cases: list[tuple[list[VerdictChange], type[Exception], str, Any]] = [
        ([VerdictChange(v, rid, "n/a")], InvalidValue, "signee_status", "n/a"),
        ([VerdictChange(v, rid, "approved")], InvalidValue, "signee_status", "approved"),
        (
            [VerdictChange(v, rid, "ready", evidence_url="javascript:x")],
            InvalidValue,
            "evidence_url",
            "javascript:x",
        ),
        ([VerdictChange(v, rid, "ready", set_id=77)], NotFound, "set_id", 77),
        ([VerdictChange(v, 888, "ready")], NotFound, "requirement_id", 888),
        ([VerdictChange(999, rid, "ready")], NotFound, "version_id", 999),
    ]
    for verdicts, error, field, value in verdict_cases:
        err = assert_refused(
            engine,
            lambda s, c=verdicts: svc.set_signee_verdicts(s, actor=world["signer"], changes=c),
            error,
            field=field,
            value=value,
        )
        if value == "n/a":
            assert "approve an owner's n/a with ready" in str(err)


def test_a_mixed_batch_is_all_or_nothing(engine: sa.Engine, world: World) -> None:
    # the owner may claim on billing but not on ledger: nothing of the batch is written
    err = assert_refused(
        engine,
        lambda s: svc.set_owner_claims(
            s,
            actor=world["owner"],
            changes=[
                ClaimChange(world.billing_v1, world.encrypt, "ready"),
                ClaimChange(world.ledger_v1, world.encrypt, "ready"),
                ClaimChange(world.ledger_v1, world.load_test, "ready"),
            ],
        ),
        PermissionDenied,
    )
    assert isinstance(err, BatchPermissionDenied)
    assert err.conflicts == [(world.ledger_v1, world.encrypt), (world.ledger_v1, world.load_test)]


# --- speed ---------------------------------------------------------------------------------------------------------


def test_one_hundred_claims_with_audit_are_fast(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        titles = [f"R{i:03}" for i in range(100)]
        for title in titles:
            svc.create_requirement(s, actor=svc.SYSTEM, title=title, sets=["Security"])
        rids = [r for (r,) in s.execute(sa.select(RequirementSetItem.requirement_id))][:100]
    timings = []
    for round_, status in enumerate(["ready", "not_ready", "ready"]):
        changes = [ClaimChange(world.billing_v1, rid, status, f"round {round_}") for rid in rids]
        with session_scope(engine) as s:
            start = time.perf_counter()
            svc.set_owner_claims(s, actor=world["owner"], changes=changes)
            timings.append(time.perf_counter() - start)
    assert len(f.last_change_set_events(engine)) == 200  # status and notes of 100 rows
    if engine.dialect.name == "sqlite":
        assert min(timings) <= 0.1, timings


# --- exclusions --------------------------------------------------------------------------------------------------


def test_exclude_and_include_a_set(engine: sa.Engine, world: World) -> None:
    v = world.billing_v1
    with session_scope(engine) as s:
        svc.exclude_set(
            s, actor=world["owner"], version_id=v, requirement_set="performance", reason="batch job"
        )
    with Session(engine) as s:
        row = s.get(SetExclusion, (v, world.performance_set))
        assert (
            row is not None and row.reason == "batch job" and row.excluded_by_id == world["owner"].person_id
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "requirement_set": (None, "Performance"),
        "reason": (None, "batch job"),
    }
    for role in ("other_owner", "signer", "viewer"):
        assert_refused(
            engine,
            lambda s, r=role: svc.include_set(
                s, actor=world[r], version_id=v, requirement_set=world.performance_set
            ),
            PermissionDenied,
        )
    assert_refused(
        engine,
        lambda s: svc.exclude_set(s, actor=world["owner"], version_id=v, requirement_set="Legal"),
        NotFound,
        field="requirement_set",
        value="Legal",
    )
    with session_scope(engine) as s:
        assert svc.include_set(s, actor=world["editor"], version_id=v, requirement_set=world.performance_set)
        assert not svc.include_set(
            s, actor=world["editor"], version_id=v, requirement_set=world.performance_set
        )
    with Session(engine) as s:
        assert s.get(SetExclusion, (v, world.performance_set)) is None


# --- requirement sets and requirements (admins) ----------------------------------------------------------------


def test_admin_services_for_sets_and_requirements(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        legal = svc.create_requirement_set(
            s,
            actor=world["admin"],
            name="Legal",
            doc_link="https://wiki/legal",
            validity_days=365,
            signer_groups=["perf-team"],
        )
        legal_id, seen = legal.id, legal.row_version
        svc.create_requirement(s, actor=world["admin"], title="Licences", sets=["Legal", "Security"])
    with Session(engine) as s:
        positions = dict(
            s.execute(
                sa.select(RequirementSetItem.set_id, RequirementSetItem.position).where(
                    RequirementSetItem.requirement_id
                    == sa.select(sa.func.max(RequirementSetItem.requirement_id)).scalar_subquery()
                )
            ).all()
        )
    assert positions == {legal_id: 1, world.security_set: 3}  # appended after Encrypt data and Audit logins
    with session_scope(engine) as s:
        svc.update_requirement_set(
            s,
            actor=world["admin"],
            set_id=legal_id,
            expected_row_version=seen,
            changes={"ui_slot": 2, "description": "Laws"},
        )
        assert svc.set_signer_groups(s, actor=world["admin"], set_id=legal_id, groups=["security-team"]) == [
            "security-team"
        ]
    (ev,) = f.last_change_set_events(engine)
    assert (ev.entity, ev.field, ev.old_value, ev.new_value) == (
        "signer_group",
        "groups",
        '["perf-team"]',
        '["security-team"]',
    )
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.create_requirement_set(s, actor=world["editor"], name="X"),
            PermissionDenied,
            None,
            None,
        ),
        (
            lambda s: svc.create_requirement_set(s, actor=world["admin"], name="security"),
            DuplicateName,
            "name",
            "security",
        ),
        (
            lambda s: svc.create_requirement_set(s, actor=world["admin"], name="X", signer_groups=["nobody"]),
            NotFound,
            "group",
            "nobody",
        ),
        (
            lambda s: svc.create_requirement_set(s, actor=world["admin"], name="X", validity_days=0),
            InvalidValue,
            "validity_days",
            "0",
        ),
        (
            lambda s: svc.update_requirement_set(
                s, actor=world["admin"], set_id=legal_id, expected_row_version=seen, changes={"name": "Law"}
            ),
            StaleWrite,
            "row_version",
            seen,
        ),
        (
            lambda s: svc.update_requirement_set(
                s, actor=world["admin"], set_id=404, expected_row_version=None, changes={}
            ),
            NotFound,
            "set_id",
            404,
        ),
        (
            lambda s: svc.create_requirement(s, actor=world["admin"], title="encrypt DATA"),
            DuplicateName,
            "title",
            "encrypt DATA",
        ),
        (
            lambda s: svc.create_requirement(s, actor=world["admin"], title="Y", sets=["Nope"]),
            NotFound,
            "requirement_set",
            "Nope",
        ),
        (lambda s: svc.create_requirement(s, actor=world["signer"], title="Y"), PermissionDenied, None, None),
        (
            lambda s: svc.set_signer_groups(s, actor=world["editor"], set_id=legal_id, groups=[]),
            PermissionDenied,
            None,
            None,
        ),
        (
            lambda s: svc.update_requirement(
                s,
                actor=world["admin"],
                requirement_id=world.encrypt,
                expected_row_version=None,
                changes={"title": "Audit logins"},
            ),
            DuplicateName,
            "title",
            "Audit logins",
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)


# --- order within a set, row versions of a set's and a requirement's parts -------------------------------------


def _order(engine: sa.Engine, set_id: int) -> list[tuple[str, int]]:
    """(title, stored position) of the set's requirements, in their order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.title, i.position FROM requirement_set_item i JOIN requirement r "
                "ON r.id = i.requirement_id WHERE i.set_id = :set_id ORDER BY i.position, r.id"
            ),
            {"set_id": set_id},
        ).all()
    return [(str(t), int(p)) for t, p in rows]


def _row_version(engine: sa.Engine, table: str, ident: int) -> int:
    """The row version of a ``requirement`` or a ``requirement_set``."""
    assert table in ("requirement", "requirement_set")
    with engine.connect() as conn:
        query = sa.text(f"SELECT row_version FROM {table} WHERE id = :id")
        return int(conn.execute(query, {"id": ident}).scalar_one())


def _move(engine: sa.Engine, world: World, requirement_id: int, position: Any, **kwargs: Any) -> list[int]:
    with session_scope(engine) as s:
        return svc.set_requirement_position(
            s,
            actor=world["admin"],
            set_id=world.security_set,
            requirement_id=requirement_id,
            position=position,
            **kwargs,
        )


def test_moving_a_requirement_renumbers_its_set_and_is_audited(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        rotate = svc.create_requirement(s, actor=svc.SYSTEM, title="Rotate keys", sets=["Security"]).id
        svc.create_requirement(s, actor=svc.SYSTEM, title="Patch", sets=["Security", "Performance"])
        svc.set_requirement_sets(s, actor=svc.SYSTEM, requirement_id=world.audit_logins, sets=["Performance"])
    assert _order(engine, world.security_set) == [("Encrypt data", 1), ("Rotate keys", 3), ("Patch", 4)]
    performance = _order(engine, world.performance_set)
    seen = _row_version(engine, "requirement", rotate)

    assert _move(engine, world, rotate, 1, expected_row_version=seen) == [rotate, world.encrypt, rotate + 1]
    assert _order(engine, world.security_set) == [("Rotate keys", 1), ("Encrypt data", 2), ("Patch", 3)]
    assert _order(engine, world.performance_set) == performance, "the other set keeps its order"
    assert _row_version(engine, "requirement", rotate) == seen + 1
    assert _row_version(engine, "requirement", world.encrypt) == 1, "the others only shift"
    (event,) = f.last_change_set_events(engine)
    assert (event.entity, event.entity_id, event.action, event.field) == (
        "requirement_order",
        world.security_set,
        "update",
        "requirements",
    )
    assert (event.old_value, event.new_value) == (
        '["Encrypt data", "Rotate keys", "Patch"]',
        '["Rotate keys", "Encrypt data", "Patch"]',
    )
    assert event.actor_name == "admin"

    _move(engine, world, rotate, 3)  # down to the end: the others move up
    assert _order(engine, world.security_set) == [("Encrypt data", 1), ("Patch", 2), ("Rotate keys", 3)]
    count = f.change_set_count(engine)
    assert _move(engine, world, rotate, 3) == [world.encrypt, rotate + 1, rotate]
    assert f.change_set_count(engine) == count, "already there: nothing is written"

    # a stale read, then every refusal writes nothing
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.set_requirement_position(
                s,
                actor=world["admin"],
                set_id=world.security_set,
                requirement_id=rotate,
                position=1,
                expected_row_version=seen,
            ),
            StaleWrite,
            "row_version",
            seen,
        ),
        *[
            (
                lambda s, r=role: svc.set_requirement_position(
                    s, actor=world[r], set_id=world.security_set, requirement_id=rotate, position=1
                ),
                PermissionDenied,
                None,
                None,
            )
            for role in ("editor", "owner", "signer", "viewer")
        ],
        (
            lambda s: svc.set_requirement_position(
                s, actor=world["admin"], set_id=404, requirement_id=rotate, position=1
            ),
            NotFound,
            "set_id",
            404,
        ),
        (
            lambda s: svc.set_requirement_position(
                s, actor=world["admin"], set_id=world.security_set, requirement_id=404, position=1
            ),
            NotFound,
            "requirement_id",
            404,
        ),
        (  # a requirement of another set
            lambda s: svc.set_requirement_position(
                s, actor=world["admin"], set_id=world.security_set, requirement_id=world.load_test, position=1
            ),
            NotFound,
            "requirement_id",
            world.load_test,
        ),
    ]
    for bad in (0, -1, 4, 1.5, "first", None, True):
        cases.append(
            (
                lambda s, p=bad: svc.set_requirement_position(
                    s, actor=world["admin"], set_id=world.security_set, requirement_id=rotate, position=p
                ),
                InvalidValue,
                "position",
                None,
            )
        )
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)
    assert "has 3 requirements" in str(
        assert_refused(
            engine,
            lambda s: svc.set_requirement_position(
                s, actor=world["admin"], set_id=world.security_set, requirement_id=rotate, position=4
            ),
            InvalidValue,
        )
    )


def test_a_new_requirement_at_a_place_shifts_the_others(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        first = svc.create_requirement(s, actor=world["admin"], title="First", sets=["Security"], position=1)
        first_id = first.id
    assert _order(engine, world.security_set) == [("First", 1), ("Encrypt data", 2), ("Audit logins", 3)]
    assert f.field_changes(f.last_change_set_events(engine))["requirements"] == (
        '["Encrypt data", "Audit logins", "First"]',
        '["First", "Encrypt data", "Audit logins"]',
    )
    with session_scope(engine) as s:
        svc.create_requirement(s, actor=world["admin"], title="Last", sets=["Security"], position=99)
    assert [t for t, _ in _order(engine, world.security_set)][-1] == "Last", "past the end: at the end"
    assert "requirements" not in f.field_changes(f.last_change_set_events(engine)), "no order changed"
    assert_refused(
        engine,
        lambda s: svc.create_requirement(
            s, actor=world["admin"], title="Zero", sets=["Security"], position=0
        ),
        InvalidValue,
        field="position",
    )
    assert _row_version(engine, "requirement", first_id) == 1


def test_signer_groups_and_sets_check_and_move_the_parents_row_version(
    engine: sa.Engine, world: World
) -> None:
    set_seen = _row_version(engine, "requirement_set", world.security_set)
    req_seen = _row_version(engine, "requirement", world.encrypt)
    with session_scope(engine) as s:  # no change: nothing moves, whatever was read
        svc.set_signer_groups(
            s,
            actor=world["admin"],
            set_id=world.security_set,
            groups=["security-team"],
            expected_row_version=1,
        )
        svc.set_requirement_sets(
            s, actor=world["admin"], requirement_id=world.encrypt, sets=["security"], expected_row_version=1
        )
    assert _row_version(engine, "requirement_set", world.security_set) == set_seen
    assert _row_version(engine, "requirement", world.encrypt) == req_seen
    with session_scope(engine) as s:
        svc.set_signer_groups(
            s,
            actor=world["admin"],
            set_id=world.security_set,
            groups=["security-team", "perf-team"],
            expected_row_version=set_seen,
        )
        svc.set_requirement_sets(
            s,
            actor=world["admin"],
            requirement_id=world.encrypt,
            sets=["Security", "Performance"],
            expected_row_version=req_seen,
        )
    assert _row_version(engine, "requirement_set", world.security_set) == set_seen + 1
    assert _row_version(engine, "requirement", world.encrypt) == req_seen + 1
    assert_refused(
        engine,
        lambda s: svc.set_signer_groups(
            s, actor=world["admin"], set_id=world.security_set, groups=[], expected_row_version=set_seen
        ),
        StaleWrite,
        field="row_version",
        value=set_seen,
    )
    assert_refused(
        engine,
        lambda s: svc.set_requirement_sets(
            s,
            actor=world["admin"],
            requirement_id=world.encrypt,
            sets=["Security"],
            expected_row_version=req_seen,
        ),
        StaleWrite,
        field="row_version",
        value=req_seen,
    )
    with session_scope(engine) as s:  # the versions read now are accepted
        svc.set_signer_groups(
            s, actor=world["admin"], set_id=world.security_set, groups=[], expected_row_version=set_seen + 1
        )
    assert _row_version(engine, "requirement_set", world.security_set) == set_seen + 2
