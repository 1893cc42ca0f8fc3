"""Local login: hashed passwords, a generic failure message, throttling after five failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from panopticum_data import auth, security
from panopticum_data.db import session_scope
from panopticum_data.models import LoginThrottle, Person

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def alice(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        s.add(Person(username="Alice", password_hash=security.hash_password("s3cret"), access_role="editor"))
        s.add(Person(username="gone", password_hash=security.hash_password("pw"), active=False))


def login(engine: sa.Engine, username: str, password: str, now: datetime = T0) -> auth.LoginResult:
    with session_scope(engine) as s:
        return auth.authenticate(s, username, password, now=now)


def test_right_password_logs_in_case_insensitively(engine: sa.Engine, alice: None) -> None:
    result = login(engine, "alice", "s3cret")
    assert result.ok and result.actor is not None
    assert result.actor.username == "Alice" and result.actor.access_role == "editor"


def test_password_is_stored_hashed(engine: sa.Engine, alice: None) -> None:
    with engine.connect() as conn:
        stored = conn.execute(sa.select(Person.password_hash).where(Person.username == "Alice")).scalar_one()
    assert stored.startswith("$2b$") and "s3cret" not in stored


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong"), ("nobody", "s3cret"), ("gone", "pw"), ("", "")]
)
def test_failures_say_the_same_thing(engine: sa.Engine, alice: None, username: str, password: str) -> None:
    result = login(engine, username, password)
    assert not result.ok
    assert result.message == auth.GENERIC_FAILURE


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_slowed_after_five_failures_whether_or_not_the_user_exists(
    engine: sa.Engine, alice: None, username: str
) -> None:
    for i in range(auth.FREE_FAILURES):
        assert login(engine, username, "wrong", T0 + timedelta(seconds=i)).message == auth.GENERIC_FAILURE
    last = T0 + timedelta(seconds=auth.FREE_FAILURES - 1)
    blocked = login(engine, username, "s3cret", last + timedelta(seconds=1))
    assert not blocked.ok and "Too many failed attempts" in blocked.message
    assert blocked.retry_after_s > 0
    later = last + timedelta(seconds=auth.MAX_DELAY_S + 1)
    result = login(engine, username, "s3cret", later)
    assert result.ok is (username == "alice")
    if result.ok:  # a success clears the count
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(LoginThrottle)).scalar_one() == 0


def test_four_failures_do_not_slow_down(engine: sa.Engine, alice: None) -> None:
    for i in range(auth.FREE_FAILURES - 1):
        login(engine, "alice", "wrong", T0 + timedelta(seconds=i))
    assert login(engine, "alice", "s3cret", T0 + timedelta(seconds=5)).ok
