"""Alembic environment: the URL comes from ``-x url=…``, a passed connection, or the settings."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import exc as sa_exc

from panopticum_data.config import load_settings
from panopticum_data.db import make_engine
from panopticum_data.models import Base

config = context.config
target_metadata = Base.metadata

# SQLite cannot reflect expression indexes (lower(name)); Alembic then skips comparing them.
warnings.filterwarnings("ignore", message=".*expression-based index.*")
warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*expression-based index.*")


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or load_settings().database_url


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
