"""Local password login with throttling. The answer never tells whether a username exists.

After ``FREE_FAILURES`` failed tries for a username (existing or not), each further try must wait
``2 ** (failures - FREE_FAILURES + 1)`` seconds (2, 4, 8, … at most ``MAX_DELAY_S``) after the previous failure;
a try inside that wait is refused without checking the password. A success resets the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import LoginThrottle, Person, utcnow
from .security import hash_password, verify_password
from .services._core import Actor, load_actor

FREE_FAILURES = 5
MAX_DELAY_S = 300
GENERIC_FAILURE = "Username or password is incorrect."


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that both answers take as long."""
    return hash_password("timing-equaliser")


@dataclass(frozen=True)
class LoginResult:
    actor: Actor | None
    message: str = ""
    retry_after_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.actor is not None


def _delay(failures: int) -> float:
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(MAX_DELAY_S, 2 ** (failures - FREE_FAILURES + 1)))


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=utcnow().tzinfo)


def authenticate(
    session: Session, username: str, password: str, *, now: datetime | None = None
) -> LoginResult:
    """Check a local login; records failures in the caller's transaction (commit it either way)."""
    now = now or utcnow()
    key = (username or "").strip().lower()[:128]
    throttle = session.get(LoginThrottle, key)
    if throttle is not None and throttle.last_failed_at is not None:
        last = _aware(throttle.last_failed_at) or now
        wait_until = last + timedelta(seconds=_delay(throttle.failures))
        if now < wait_until:
            remaining = (wait_until - now).total_seconds()
            return LoginResult(
                None,
                f"Too many failed attempts. Try again in {int(remaining) + 1} s.",
                retry_after_s=remaining,
            )
    person = session.scalar(select(Person).where(func.lower(Person.username) == key)) if key else None
    stored = person.password_hash if person is not None and person.active else None
    ok = verify_password(password or "", stored or _dummy_hash()) and stored is not None
    if ok and person is not None:
        if throttle is not None:
            session.delete(throttle)
        session.flush()
        return LoginResult(load_actor(session, person.username))
    if throttle is None:
        throttle = LoginThrottle(username=key, failures=0)
        session.add(throttle)
    throttle.failures += 1
    throttle.last_failed_at = now
    session.flush()
    return LoginResult(None, GENERIC_FAILURE, retry_after_s=_delay(throttle.failures))
