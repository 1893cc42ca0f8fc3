"""Rebuild SQLite's case-insensitive name indexes with Unicode-aware lower()

The application now registers a Unicode-aware ``lower`` on every SQLite connection (SQLite's own
folds ASCII only). Indexes on ``lower(name)`` built before that must be rebuilt with it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("REINDEX")


def downgrade() -> None:
    pass
