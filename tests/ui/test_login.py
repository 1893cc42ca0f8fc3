"""Login through app.py: the gate, local accounts from the database, throttling, logout, anonymous
reading, and the navigation that survives the login (a pasted /component link)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data.auth import FREE_FAILURES, GENERIC_FAILURE
from panopticum_data.db import make_engine, session_scope
from panopticum_data.services import SYSTEM
from panopticum_data.services.people import add_user, deactivate_person
from panopticum_ui import cached, navigation
from panopticum_ui.auth import CurrentUser
from tests.ui.conftest import assert_clean, log_in, open_app, texts

COMPONENT = "views/component.py"


def login_form_shown(at: AppTest) -> bool:
    return [t.label for t in at.sidebar.text_input] == ["Username", "Password"]


def signed_in_as(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown if "Signed in as" in m.value)


def test_anonymous_visitor_sees_only_the_login(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(demo_url, monkeypatch)
    assert login_form_shown(at)
    assert [i.value for i in at.info] == ["Log in with the form in the sidebar to see the registry."]
    assert not at.dataframe and not at.metric and not at.multiselect
    assert "Payment Service" not in texts(at)


def test_pasted_component_link_opens_after_login(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(demo_url, monkeypatch, query={"name": "Payment Service"}, page=COMPONENT)
    assert login_form_shown(at) and not at.metric  # gated
    log_in(at, "owner")
    assert at.title[0].value == "Payment Service"


@pytest.mark.parametrize(("user", "opens"), [("admin", True), ("viewer", False)])
def test_pasted_admin_link_opens_after_an_admin_logs_in(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, user: str, opens: bool
) -> None:
    at = open_app(demo_url, monkeypatch, query={"table": "vendor"}, page="views/reference.py")
    assert login_form_shown(at) and not at.get("arrow_data_editor")  # gated, no "page not found"
    log_in(at, user)
    assert at.title[0].value == "Reference data"
    refused = [w.value for w in at.warning if "This page is for admins" in str(w.value)]
    assert bool(refused) != opens
    assert bool(at.dataframe) == opens


def test_login_shows_the_registry_and_logout_closes_it(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = log_in(open_app(demo_url, monkeypatch), "owner")
    assert not login_form_shown(at)
    assert "Owen Parker" in signed_in_as(at) and "viewer" in signed_in_as(at)
    assert at.title[0].value == "Components" and at.dataframe

    at.button(key="panopticum_logout").click().run()
    assert_clean(at)
    at.run()
    assert login_form_shown(at)
    assert not at.dataframe and not signed_in_as(at)


@pytest.mark.parametrize("username", ["owner", "nobody-by-this-name"])
def test_a_failed_login_never_says_whether_the_user_exists(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    at = log_in(open_app(demo_url, monkeypatch), username, "wrong password")
    assert [e.value for e in at.sidebar.error] == [GENERIC_FAILURE]
    assert login_form_shown(at) and not at.dataframe


def test_tries_after_five_failures_are_slowed_down(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(demo_url, monkeypatch)
    for _ in range(FREE_FAILURES):
        log_in(at, "owner", "wrong password")
        assert [e.value for e in at.sidebar.error] == [GENERIC_FAILURE]
    log_in(at, "owner", "owner")  # the right password, but inside the wait
    assert "Too many failed attempts" in at.sidebar.error[0].value
    assert login_form_shown(at) and not at.dataframe
    other = log_in(open_app(demo_url, monkeypatch), "admin")  # other usernames are not affected
    assert "Local Admin" in signed_in_as(other) or "admin" in signed_in_as(other)


def test_people_added_like_the_cli_can_log_in_and_those_without_a_password_cannot(
    db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as session:
        add_user(session, actor=SYSTEM, username="Jdoe", password="correct horse", first_name="Jane")
        add_user(session, actor=SYSTEM, username="ldapuser", first_name="Directory")  # no password
    at = log_in(open_app(db_url, monkeypatch), "jdoe", "correct horse")
    assert "Jane" in signed_in_as(at)
    at = log_in(open_app(db_url, monkeypatch), "ldapuser", "anything")
    assert [e.value for e in at.sidebar.error] == [GENERIC_FAILURE]


def test_the_credentials_handed_to_the_library_hold_no_password(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANOPTICUM_DATABASE_URL", demo_url)
    users = cached.login_credentials(demo_url, 0)["usernames"]
    assert set(users) == {"admin", "owner", "expert", "viewer"}
    assert all("password" not in entry for entry in users.values())
    assert users["admin"]["roles"] == ["admin"]


def test_a_deactivated_person_is_logged_out(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = log_in(open_app(demo_url, monkeypatch), "owner")
    assert signed_in_as(at)
    engine = make_engine(demo_url)
    try:
        with session_scope(engine) as session:
            deactivate_person(session, actor=SYSTEM, person="owner")
    finally:
        engine.dispose()
    at.run()
    assert_clean(at)
    assert login_form_shown(at) and not at.dataframe


def test_anonymous_reading_when_allowed(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(demo_url, monkeypatch, anonymous_read=True)
    assert at.title[0].value == "Components" and at.dataframe
    assert login_form_shown(at)  # logging in stays possible (writing needs it)
    at = open_app(
        demo_url, monkeypatch, anonymous_read=True, query={"name": "Payment Service"}, page=COMPONENT
    )
    assert at.title[0].value == "Payment Service"
    assert not [b for b in at.button if b.key == "edit_component"]


def test_admins_are_warned_when_no_cookie_key_is_set(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANOPTICUM_COOKIE_KEY")
    at = log_in(open_app(demo_url, monkeypatch), "admin")
    assert any("cookie_key" in w.value for w in at.sidebar.warning)
    viewer = log_in(open_app(demo_url, monkeypatch), "viewer")
    assert not viewer.sidebar.warning


def test_navigation_is_role_aware() -> None:
    viewer = CurrentUser(username="v", name="V", role="viewer")
    admin = CurrentUser(username="a", name="A", role="admin")
    spec = navigation.PageSpec("views/x.py", "X", ":material/settings:", "x", who="admin")
    assert not navigation.allowed(spec, None) and not navigation.allowed(spec, viewer)
    assert navigation.allowed(spec, admin)
    assert all(navigation.allowed(s, None) for s in navigation.PAGES if s.who == "reader")
