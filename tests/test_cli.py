"""The ``panopticum`` command through Typer's CliRunner, against a temporary SQLite file."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from panopticum_data import security
from panopticum_data.cli import app


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings leak in from the environment or a secrets file; bcrypt stays fast."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PANOPTICUM_DATABASE_URL", raising=False)
    monkeypatch.setenv("PANOPTICUM_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(url: str | None, *args: str) -> Result:
    prefix = ["--database-url", url] if url else []
    return CliRunner().invoke(app, [*prefix, *args])


def assert_clean_failure(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert isinstance(result.exception, SystemExit)


def count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_migrate_demo_and_demo_if_empty(url: str) -> None:
    result = run(url, "migrate")
    assert result.exit_code == 0, result.output
    assert "revision" in result.stdout
    assert run(url, "migrate").exit_code == 0  # idempotent

    result = run(url, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "Loaded the demo registry" in result.stdout and "50 components" in result.stdout
    assert count(url, "SELECT count(*) FROM component") == 50

    result = run(url, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "no demo data loaded" in result.stdout
    assert count(url, "SELECT count(*) FROM component") == 50

    assert_clean_failure(run(url, "demo"), 1)
    assert count(url, "SELECT count(*) FROM component") == 50


def test_user_add_hashes_the_password_and_refuses_duplicates(url: str) -> None:
    assert run(url, "migrate").exit_code == 0
    result = run(url, "user", "add", "alice", "--role", "editor", "--password", "correct horse")
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        role, hashed = conn.execute(
            sa.text("SELECT access_role, password_hash FROM person WHERE username = 'alice'")
        ).one()
        source = conn.execute(sa.text("SELECT source FROM change_set")).scalar_one()
    engine.dispose()
    assert role == "editor" and source == "cli"
    assert bcrypt.checkpw(b"correct horse", hashed.encode())

    duplicate = run(url, "user", "add", "ALICE", "--role", "viewer", "--password", "another secret")
    assert_clean_failure(duplicate, 2)
    assert "already exists" in duplicate.stderr
    assert count(url, "SELECT count(*) FROM person") == 1

    assert_clean_failure(run(url, "user", "add", "bob", "--password", "short"), 1)
    assert run(url, "user", "add", "bob", "--role", "boss", "--password", "long enough").exit_code == 2

    listed = run(url, "user", "list")
    assert listed.exit_code == 0 and "alice" in listed.stdout and "1 person." in listed.stdout


def test_demo_scale(url: str) -> None:
    assert run(url, "migrate").exit_code == 0
    result = run(url, "demo", "--scale", "100", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "100 components" in result.stdout and "2600 requirement statuses" in result.stdout
    assert count(url, "SELECT count(*) FROM requirement_status") == 2600
    assert run(url, "demo", "--scale", "100", "--if-empty").exit_code == 0
    assert_clean_failure(run(url, "demo", "--scale", "100"), 1)


def test_errors_are_one_line_without_traceback(url: str, tmp_path: Path) -> None:
    unmigrated = run(url, "demo")
    assert_clean_failure(unmigrated, 1)
    assert "panopticum migrate" in unmigrated.stderr
    assert_clean_failure(run(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}", "migrate"), 1)
    assert run(url, "demo", "--seed", "4").exit_code == 2  # --seed needs --scale
    assert run(url, "demo", "--scale", "0").exit_code == 2


def test_database_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("PANOPTICUM_DATABASE_URL", url)
    assert run(None, "migrate").exit_code == 0
    assert (tmp_path / "cli.db").exists()
    assert not (tmp_path / "panopticum.db").exists()


def test_default_database_is_panopticum_db_in_the_working_folder(tmp_path: Path) -> None:
    assert run(None, "migrate").exit_code == 0
    assert (tmp_path / "panopticum.db").exists()
