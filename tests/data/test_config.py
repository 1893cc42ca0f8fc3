from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from panopticum_data.config import DEFAULT_DATABASE_URL, SettingsError, load_settings
from panopticum_data.db import make_engine


def test_default_is_sqlite_file_in_working_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={}, secrets_file=tmp_path / "absent.toml")
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///panopticum.db"
    assert settings.anonymous_read is False


def test_secrets_file_then_environment_wins(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[panopticum]\ndatabase_url = "sqlite:///from-secrets.db"\nanonymous_read = true\n')
    from_file = load_settings(environ={}, secrets_file=secrets)
    assert from_file.database_url == "sqlite:///from-secrets.db"
    assert from_file.anonymous_read is True
    env = {"PANOPTICUM_DATABASE_URL": "postgresql+psycopg2://u@h/db", "PANOPTICUM_ANONYMOUS_READ": "no"}
    from_env = load_settings(environ=env, secrets_file=secrets)
    assert from_env.database_url == "postgresql+psycopg2://u@h/db"
    assert from_env.anonymous_read is False


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="anonymous_read"):
        load_settings(environ={"PANOPTICUM_ANONYMOUS_READ": "perhaps"}, secrets_file=tmp_path / "x.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(SettingsError, match="bad.toml"):
        load_settings(environ={}, secrets_file=bad)


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=4321)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_enforces_foreign_keys(sqlite_engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), sqlite_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO subcategory (name, category_id) VALUES ('x', 999)"))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgresql_connections_run_without_jit(db_url: str) -> None:
    """JIT compilation takes longer than the reads it would speed up (see make_engine). The setting
    survives a rolled-back transaction, and keeps the options the caller gave (URL or connect_args)."""
    connect_args = {"application_name": "panopticum-jit-test"}
    url = f"{db_url}{'&' if '?' in db_url else '?'}options=-c%20statement_timeout%3D4321"
    engine = make_engine(url, connect_args=connect_args, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
            conn.rollback()
        with engine.connect() as conn:  # the same pooled connection, after the rollback
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "4321ms"
            assert conn.exec_driver_sql("SHOW application_name").scalar() == "panopticum-jit-test"
        assert connect_args == {"application_name": "panopticum-jit-test"}  # not changed
    finally:
        engine.dispose()
