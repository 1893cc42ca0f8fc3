"""The notebook facade: ``reg = panopticum_data.connect(url)`` then DataFrames of everything."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from . import queries
from .config import load_settings
from .db import make_engine, session_scope
from .queries.detail import ComponentDetail, component_detail
from .queries.overview import OverviewFilters
from .queries.requirements import requirement_matrix, requirement_statuses

T = TypeVar("T")


class Registry:
    """Read access as DataFrames (each call one short read transaction) and a write session scope."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn, *args, **kwargs)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work for the services: committed on success, rolled back on error."""
        with session_scope(self.engine) as session:
            yield session

    def components(self) -> pd.DataFrame:
        return self._read(queries.list_components)

    def versions(self, component_id: int | None = None) -> pd.DataFrame:
        return self._read(queries.list_versions, component_id=component_id)

    def dependencies(self, *, current_only: bool = False) -> pd.DataFrame:
        return self._read(queries.list_dependencies, current_only=current_only)

    def deployments(self) -> pd.DataFrame:
        return self._read(queries.list_deployments)

    def people(self) -> pd.DataFrame:
        return self._read(queries.list_people)

    def owners(self) -> pd.DataFrame:
        return self._read(queries.list_owners)

    def requirement_sets(self) -> pd.DataFrame:
        return self._read(queries.list_requirement_sets)

    def requirements(self) -> pd.DataFrame:
        return self._read(queries.list_requirements)

    def requirement_statuses(
        self, requirement_set: int | str | None = None, *, now: datetime | None = None
    ) -> pd.DataFrame:
        return self._read(requirement_statuses, requirement_set=requirement_set, now=now)

    def requirement_matrix(self, requirement_set: int | str, *, now: datetime | None = None) -> pd.DataFrame:
        return self._read(requirement_matrix, requirement_set, now=now)

    def overview(self, filters: OverviewFilters | None = None, **kwargs: Any) -> pd.DataFrame:
        """``reg.overview(category=("Payments",), text="api")`` or ``reg.overview(OverviewFilters(...))``."""
        if kwargs:
            names = {"category": "categories", "type": "types", "tag": "tags", "owner": "owners"}
            fixed: dict[str, Any] = {
                names.get(k, k): (v,) if isinstance(v, str) and k in names else v for k, v in kwargs.items()
            }
            filters = OverviewFilters(**fixed)
        return self._read(queries.components_overview, filters)

    def component(self, name_or_id: int | str, *, version: str | None = None) -> ComponentDetail:
        return self._read(component_detail, name_or_id, version=version)

    def reference(self, table: str) -> pd.DataFrame:
        return self._read(queries.list_reference, table)

    def endpoints(self) -> pd.DataFrame:
        return self._read(queries.list_endpoints)

    def radar(self) -> pd.DataFrame:
        return self._read(queries.list_radar)

    def audit(self, **filters: Any) -> pd.DataFrame:
        return self._read(queries.list_audit, **filters)

    def data_version(self) -> int:
        return self._read(queries.data_version)

    def close(self) -> None:
        self.engine.dispose()


def connect(url: str | None = None) -> Registry:
    """Open the registry at ``url`` (default: the settings' database URL)."""
    settings = load_settings()
    return Registry(
        make_engine(url or settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    )
