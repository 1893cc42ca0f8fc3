"""Test databases: a migrated SQLite template copied per test, and a migrated PostgreSQL database
truncated per test. PostgreSQL runs when PANOPTICUM_TEST_DATABASE_URL is set; a test then FAILS
(never skips) when the server cannot be reached."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from panopticum_data.db import make_engine
from panopticum_data.models import Base

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "PANOPTICUM_TEST_DATABASE_URL"


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.cmd_opts = None
    return cfg


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to head through Alembic (as `panopticum migrate` does)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    if not path.exists():
        migrate(f"sqlite:///{path}")
    return path


def fresh_sqlite_url(template: Path, directory: Path) -> str:
    target = directory / "test.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pg_worker_url(admin_url: str, worker: str) -> str:
    """Create (once) a database of our own next to the one named by the variable."""
    url = make_url(admin_url)
    name = f"panopticum_test_{worker}_{os.getpid()}"  # concurrent runs never share (or drop) a database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


_SEQUENCES: dict[str, list[str]] = {}


def truncate_all(engine: sa.Engine) -> None:
    """Empty every table and restart every id sequence. DELETE (children first) is much faster than
    TRUNCATE for the handful of rows a test writes."""
    url = str(engine.url)
    with engine.begin() as conn:
        if url not in _SEQUENCES:
            _SEQUENCES[url] = list(
                conn.exec_driver_sql(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
                ).scalars()
            )
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        statements += [f"ALTER SEQUENCE {seq} RESTART WITH 1" for seq in _SEQUENCES[url]]
        conn.exec_driver_sql(";\n".join(statements))
