"""Login in the sidebar: streamlit-authenticator's form and re-login cookie, our password check.

* The people who may log in are the active people with a local password in the database (made by
  ``panopticum user add`` or the demo); the credentials mapping handed to the library is built
  from them (cached by data version) and holds no password at all.
* The password check is :func:`check_password`: ``panopticum_data.auth.authenticate`` in its own
  transaction, which hashes with bcrypt, slows down a username after five failures and never
  tells whether a username exists. It replaces the library's ``check_credentials``.
* :func:`directory_login` is where the LDAP / Active Directory bind will go (SPEC §6).
* The re-login cookie is signed with ``settings.cookie_key``; without one, a random key per process
  is used (logins then end when the app restarts) and admins see a warning.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.orm import Session

from panopticum_data.auth import GENERIC_FAILURE, LoginResult, authenticate
from panopticum_data.config import Settings
from panopticum_data.db import session_scope

from . import cached
from .style import md_text

COOKIE_NAME = "panopticum_auth"
COOKIE_DAYS = 1.0
MIN_COOKIE_KEY = 32
LOGIN_FORM_KEY = "login"
LOGOUT_KEY = "panopticum_logout"  # never "logout": the library owns st.session_state["logout"]
_MESSAGE = "_panopticum_login_message"
_SET_COOKIE = "_panopticum_set_cookie"
FIELDS = {"Form name": "Log in", "Username": "Username", "Password": "Password", "Login": "Log in"}


@dataclass(frozen=True)
class CurrentUser:
    """Who is logged in, as shown in the UI. Permissions are always re-checked in the data layer."""

    username: str
    name: str
    role: str  # admin, editor or viewer

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_editor(self) -> bool:
        return self.role in ("admin", "editor")


# --- the password check -------------------------------------------------------------------------


def directory_login(session: Session, settings: Settings, username: str, password: str) -> LoginResult | None:
    """The place for the LDAP / Active Directory login (SPEC §6); not built yet, so always None.

    To come: if ``username`` is a directory user, find their DN under ``settings.ldap_base_dn``
    with the service account (``ldap_bind_dn`` / ``ldap_bind_password``), escaping ``username`` in
    the filter, then simple-bind as that DN with ``password``. Count failures in the same throttle
    as ``panopticum_data.auth.authenticate`` (and answer with its generic message), and return a
    ``LoginResult`` with the person's actor on success. Directory users must also be in the
    credentials mapping (``cached.login_credentials``). Return None to let the local password decide.
    """
    return None


def check_password(username: str, password: str) -> LoginResult:
    """One login try in its own transaction (the throttle's bookkeeping is committed either way)."""
    settings = cached.settings()
    with session_scope(cached.current_engine()) as session:
        if settings.ldap_url:
            result = directory_login(session, settings, username, password)
            if result is not None:
                return result
        return authenticate(session, username, password)


def _install_check(authenticator: stauth.Authenticate) -> None:
    """Replace the library's password check (internal API of streamlit-authenticator 0.4.2)."""
    model = authenticator.authentication_controller.authentication_model

    def check_credentials(username: str, password: str) -> bool:
        result = check_password(username, password)
        st.session_state[_MESSAGE] = result.message
        if result.ok and username not in model.credentials["usernames"]:
            # a password set outside a change set: the cached mapping has not seen it yet
            fresh = _accounts(refresh=True)["usernames"].get(username)
            model.credentials["usernames"][username] = fresh or {
                "username": username,
                "first_name": username,
                "last_name": "",
                "roles": [result.actor.access_role if result.actor else "viewer"],
            }
        return result.ok

    model.check_credentials = check_credentials


# --- the widget ---------------------------------------------------------------------------------


@st.cache_resource
def _process_cookie_key() -> str:
    return secrets.token_urlsafe(32)


def _accounts(*, refresh: bool = False) -> dict[str, Any]:
    if refresh:
        cached.login_credentials.clear()
    url, version = cached.key()
    return cached.login_credentials(url, version)


def _user(credentials: dict[str, Any]) -> CurrentUser | None:
    if not st.session_state.get("authentication_status"):
        return None
    username = str(st.session_state.get("username") or "")
    entry = credentials["usernames"].get(username) or _accounts(refresh=True)["usernames"].get(username)
    if entry is None:
        return None
    name = f"{entry.get('first_name', '')} {entry.get('last_name', '')}".strip() or username
    roles = entry.get("roles") or ["viewer"]
    return CurrentUser(username=str(entry.get("username", username)), name=name, role=str(roles[0]))


_USER = "_panopticum_user"


def login_sidebar() -> CurrentUser | None:
    """Render the login form, or who is logged in and a logout button, in the sidebar.

    Returns the logged-in user, or None for an anonymous visitor. Call it once per run, before
    ``st.navigation``'s page runs.
    """
    settings = cached.settings()
    key = settings.cookie_key or _process_cookie_key()
    credentials = _accounts()
    with st.sidebar:
        authenticator = stauth.Authenticate(
            credentials, COOKIE_NAME, key, COOKIE_DAYS, auto_hash=False, login_sleep_time=0
        )
        _install_check(authenticator)
        user = _user(credentials)
        if st.session_state.get("authentication_status") and user is None:
            authenticator.logout(location="unrendered")  # the account was deactivated meanwhile
        if user is not None:
            if st.session_state.pop(_SET_COOKIE, False):
                authenticator.cookie_controller.set_cookie()
            _signed_in(authenticator, user, settings)
            user = _user(credentials)  # None after a click on "Log out"
        if user is None:
            _login_form(authenticator)  # reruns after a login through the form
            user = _user(credentials)
            if user is not None:  # logged in again from the cookie
                _signed_in(authenticator, user, settings)
    st.session_state[_USER] = user
    return user


def _signed_in(authenticator: stauth.Authenticate, user: CurrentUser, settings: Settings) -> None:
    st.markdown(f"Signed in as **{md_text(user.name)}** · {md_text(user.role)}")
    authenticator.logout("Log out", "main", key=LOGOUT_KEY)
    if user.is_admin and len(settings.cookie_key or "") < MIN_COOKIE_KEY:
        problem = (
            "No `cookie_key` is set, so logins end when the app restarts."
            if not settings.cookie_key
            else f"The `cookie_key` is shorter than {MIN_COOKIE_KEY} characters: easy to guess."
        )
        st.warning(
            f"{problem} Set a long random `cookie_key` in `.streamlit/secrets.toml` or "
            "`PANOPTICUM_COOKIE_KEY`.",
            icon=":material/key:",
        )


def _login_form(authenticator: stauth.Authenticate) -> None:
    was_in = bool(st.session_state.get("authentication_status"))
    try:
        authenticator.login(location="main", key=LOGIN_FORM_KEY, fields=FIELDS, clear_on_submit=False)
    except stauth.LoginError as exc:  # e.g. a re-login cookie for an account that is gone
        st.session_state["logout"] = True  # ignore the cookie from now on
        st.error(str(exc))
        return
    status = st.session_state.get("authentication_status")
    if status and not was_in and _MESSAGE in st.session_state:
        # logged in through the form just now: draw the page again without the form, and store
        # the re-login cookie in that run (a rerun would drop a cookie set in this one)
        st.session_state[_SET_COOKIE] = True
        del st.session_state[_MESSAGE]
        st.rerun()
    elif status is False:
        st.error(st.session_state.get(_MESSAGE) or GENERIC_FAILURE)


def may_read(user: CurrentUser | None) -> bool:
    """Reading needs a login unless the administrator allows anonymous reading."""
    return user is not None or cached.settings().anonymous_read


def current_user() -> CurrentUser | None:
    """The logged-in user of this run, as ``login_sidebar`` found it (None: anonymous)."""
    user = st.session_state.get(_USER)
    return user if isinstance(user, CurrentUser) else None
