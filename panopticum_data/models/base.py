"""Declarative base, naming convention and shared column helpers for every model."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, Index, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_LENGTH = 128


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Optimistic concurrency: ``row_version`` grows by one on every UPDATE; a stale write fails."""

    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:
        return {"version_id_col": cls.row_version}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


def unique_ci(column: InstrumentedAttribute[str]) -> Index:
    """A unique index on lower(column): unique case-insensitively on SQLite and PostgreSQL."""
    table = column.class_.__tablename__
    return Index(f"uq_{table}_{column.key}_ci", func.lower(column), unique=True)


def enum(name: str, values: tuple[str, ...]) -> Enum:
    """A portable enumeration: a VARCHAR with a named CHECK constraint (no native PostgreSQL type)."""
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)
