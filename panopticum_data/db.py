"""Engine and session scope. SQLite runs in WAL mode with a busy timeout and enforced foreign keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

WRITE_OPTION = "panopticum_write"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, busy_timeout_ms: int = 5000, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, set the pragmas on every new connection; PostgreSQL runs
    without JIT compilation.

    Write scopes on SQLite start with ``BEGIN IMMEDIATE`` so that two writers queue on the busy
    timeout instead of failing on a lock upgrade; reads start a plain deferred transaction.
    """
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, **kwargs.get("connect_args", {})}
        engine = create_engine(url, **kwargs)
        in_memory = url in {"sqlite://", "sqlite:///:memory:"}

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            # SQLite's own lower() folds ASCII only; names are unique and looked up ignoring case
            # for every alphabet ("Ärzte" = "ärzte"), as on PostgreSQL with a UTF-8 locale.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
            cur = dbapi_connection.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            # a REPLACE fires the delete triggers of the row it replaces (the status digest's, 0007)
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if url.startswith("postgresql"):

        @event.listens_for(engine, "connect")
        def _no_jit(dbapi_connection: Any, _record: Any) -> None:
            # PostgreSQL's JIT compiles a plan whose estimated cost passes jit_above_cost, in 0.3–0.5 s:
            # longer than any read here takes (the overview at 10,000 components: 0.8 s with, 0.35 s
            # without). Set for the session, outside a transaction (a rolled-back SET would be undone).
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            cursor.execute("SET jit = off")
            cursor.close()
            dbapi_connection.autocommit = autocommit

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Services only flush."""
    session = Session(bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a set of reads that should see one consistent snapshot."""
    with engine.connect() as conn, conn.begin():
        yield conn
