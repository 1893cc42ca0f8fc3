from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from panopticum_data.db import make_engine
from tests import dbutil

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbutil.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _pg_url(worker_id: str) -> Iterator[str]:
    admin = dbutil.pg_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {dbutil.PG_ENV} (make test and CI set it)")
    # From here on the server was asked for: any failure to reach it is an error, not a skip.
    url = dbutil.pg_worker_url(admin, worker_id)
    dbutil.migrate(url)
    yield url
    dbutil.drop_database(admin, url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield dbutil.fresh_sqlite_url(request.getfixturevalue("_sqlite_template"), tmp_path)
    else:
        url = request.getfixturevalue("_pg_url")
        engine = sa.create_engine(url)
        try:
            dbutil.truncate_all(engine)
        finally:
            engine.dispose()
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    """For tests about SQLite itself (pragmas, file defaults)."""
    eng = make_engine(dbutil.fresh_sqlite_url(_sqlite_template, tmp_path))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def worker_id() -> str:
    """pytest-xdist overrides this; without xdist there is one worker."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
