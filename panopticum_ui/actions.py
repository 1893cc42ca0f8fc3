"""Writes from the web app: every one goes through a data-layer service, in one transaction, as the
logged-in person (the service checks the permission; the page only hides what cannot succeed).

    outcome = actions.perform(services.set_owner_claims, changes=changes)
    if outcome.ok: ...
    else: st.error(outcome.message)   # a typed error from the data layer, in one sentence

``perform`` never lets a data-layer error escape as a traceback; anything else (a bug) does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from panopticum_data.db import session_scope
from panopticum_data.errors import PanopticumError, PermissionDenied
from panopticum_data.models import ChangeSet
from panopticum_data.services import Actor, load_actor, open_change_set

from . import auth, cached


@dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None
    error: PanopticumError | None = None

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error)


def perform(service: Callable[..., Any], **kwargs: Any) -> Outcome:
    """Call ``service(session, actor=<the logged-in person>, **kwargs)`` in one transaction
    (committed on success, rolled back on any error); the service opens its own change set."""
    return perform_steps(lambda session, actor, _: service(session, actor=actor, **kwargs), summary=None)


def perform_steps(
    steps: Callable[[Session, Actor, ChangeSet | None], Any], *, summary: str | None
) -> Outcome:
    """Run ``steps(session, actor, change_set)`` in one transaction: several service calls that form
    one save pass ``change_set`` on (opened with ``summary``; None when ``summary`` is None). No
    login -> refused without touching the database."""
    user = auth.current_user()
    if user is None:
        return Outcome(False, error=PermissionDenied("anonymous", "change the registry (log in first)"))
    try:
        with session_scope(cached.current_engine()) as session:
            actor = load_actor(session, user.username)
            change_set = None if summary is None else open_change_set(session, actor, summary=summary)
            value = steps(session, actor, change_set)
    except PanopticumError as error:
        return Outcome(False, error=error)
    return Outcome(True, value=value)


def show(outcome: Outcome, success: str) -> None:
    """A toast on success, an error box naming what was refused otherwise."""
    if outcome.ok:
        st.toast(success, icon=":material/check_circle:")
    else:
        st.error(outcome.message, icon=":material/error:")
