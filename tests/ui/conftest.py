"""Fixtures for the web app's tests: databases with the demo registry (copied from a template per
test, on SQLite and PostgreSQL), isolated settings, and AppTest helpers that go through app.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from panopticum_data import security
from panopticum_data.db import make_engine, session_scope
from panopticum_data.demo import load_demo
from tests import dbutil
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 30


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Fresh Streamlit caches, no settings from the machine, fast bcrypt."""
    monkeypatch.setenv("PANOPTICUM_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    for name in ("ANONYMOUS_READ", "TITLE", "LDAP_URL"):
        monkeypatch.delenv(f"PANOPTICUM_{name}", raising=False)
    monkeypatch.setenv("PANOPTICUM_COOKIE_KEY", "a-test-cookie-key-of-some-length-0123456789")
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)
    st.cache_data.clear()
    st.cache_resource.clear()  # disposes the engines (on_release)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _load_demo(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            load_demo(session)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_demo(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-demo")
    path = directory / "demo.db"
    shutil.copyfile(_sqlite_template, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(security, "BCRYPT_ROUNDS", 4)
        _load_demo(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_demo(worker_id: str) -> Iterator[str]:
    """A PostgreSQL database holding the demo registry, used as the template of each test's copy."""
    admin = dbutil.pg_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {dbutil.PG_ENV} (make test and CI set it)")
    url = dbutil.pg_worker_url(admin, f"{worker_id}_uidemo")
    dbutil.migrate(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(security, "BCRYPT_ROUNDS", 4)
        _load_demo(url)
    yield url
    dbutil.drop_database(admin, url)


def _pg_copy(template_url: str, name: str) -> str:
    template = make_url(template_url)
    admin = sa.create_engine(template_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    finally:
        admin.dispose()
    return template.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A database of its own holding the demo registry (logins admin, owner, expert, viewer). On
    PostgreSQL a copy named after this process (concurrent runs never share one), dropped after."""
    if request.param == "sqlite":
        target = tmp_path / "demo.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_demo"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("_pg_demo")
    url = _pg_copy(template, f"panopticum_test_{worker_id}_{os.getpid()}_ui")
    yield url
    st.cache_resource.clear()  # the app's engines hold connections to the copy
    admin = dbutil.pg_admin_url()
    assert admin is not None
    dbutil.drop_database(admin, url)


# --- AppTest helpers ------------------------------------------------------------------------------


def open_app(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    query: dict[str, str | list[str]] | None = None,
    page: str | None = None,
    anonymous_read: bool = False,
) -> AppTest:
    """Run app.py against ``url``; ``page`` (e.g. "views/component.py") and ``query`` model a
    pasted URL. Fails on any exception in the app."""
    monkeypatch.setenv("PANOPTICUM_DATABASE_URL", url)
    if anonymous_read:
        monkeypatch.setenv("PANOPTICUM_ANONYMOUS_READ", "true")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert_clean(at)
    return at


def log_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(username if password is None else password)
    at.button[0].click()
    at.run()
    assert_clean(at)
    return at


def assert_refused(at: AppTest, page: str, who: str) -> None:
    """The page is reachable by its URL (so a pasted link opens it after a login) but not for this
    visitor: a warning naming who may open it, and nothing of the page itself."""
    at.switch_page(page).run()
    assert_clean(at)
    assert [w.value for w in at.warning if f"This page is for {who}" in str(w.value)], texts(at)
    assert not at.dataframe and not at.get("arrow_data_editor") and not at.get("plotly_chart")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Everything written as Markdown-like text (markdown, captions, titles, alerts), one string."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def table_names(at: AppTest, index: int = 0) -> list[str]:
    """Component names in a table whose ``component`` column holds page links."""
    from urllib.parse import parse_qs, urlsplit

    frame = at.dataframe[index].value
    return [parse_qs(urlsplit(href).query)["name"][0] for href in frame["component"]]
