"""Cached reads. The engine is a resource; frames are cached by the newest change-set id (the data
version), so a write from another process (CLI, API, another app server) is seen on the next rerun.

Only DataFrames, plain values and frozen dataclasses of them are cached: never a session, an ORM
object or the current user. Every function takes the database URL and the data version as its
first arguments so that both are part of the cache key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Connection, Engine

from panopticum_data import queries
from panopticum_data.config import Settings, load_settings
from panopticum_data.db import make_engine, read_connection
from panopticum_data.errors import NotFound
from panopticum_data.queries import ui as ui_queries
from panopticum_data.queries.detail import ComponentDetail, component_detail
from panopticum_data.registry import Registry

# Statuses also change with time alone (a verdict expires after its set's validity): reads that
# derive them are recomputed at least this often (seconds), even when nothing was written.
TIME_TTL = 3600


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_resource(on_release=lambda engine: engine.dispose())
def engine(url: str) -> Engine:
    return make_engine(url, busy_timeout_ms=settings().sqlite_busy_timeout_ms)


def current_engine() -> Engine:
    return engine(settings().database_url)


def data_version() -> int:
    """The registry's data version: one cheap query per rerun."""
    with current_engine().connect() as conn:
        return queries.data_version(conn)


def key() -> tuple[str, int]:
    """``(database_url, data_version)``: the first two arguments of every cached read."""
    return settings().database_url, data_version()


@st.cache_data(show_spinner=False, max_entries=4, ttl=TIME_TTL)
def overview(url: str, version: int) -> pd.DataFrame:
    return Registry(engine(url)).overview()


@dataclass(frozen=True)
class FilterOptions:
    """The values each dashboard filter offers, taken from the registry."""

    categories: tuple[str, ...]
    types: tuple[str, ...]
    life_statuses: tuple[str, ...]
    privacy_classes: tuple[str, ...]
    products: tuple[str, ...]
    locations: tuple[str, ...]
    tags: tuple[str, ...]
    owners: tuple[str, ...]
    owner_names: dict[str, str]


def _distinct(values: pd.Series) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values.dropna() if str(v)}, key=str.lower))


@st.cache_data(show_spinner=False, max_entries=4)
def filter_options(url: str, version: int) -> FilterOptions:
    frame = overview(url, version)
    with read_connection(engine(url)) as conn:
        owners = ui_queries.owner_choices(conn)
    return FilterOptions(
        categories=_distinct(frame["category"]),
        types=_distinct(frame["type"]),
        life_statuses=_distinct(frame["life_status"]),
        privacy_classes=_distinct(frame["privacy_class"]),
        products=_distinct(frame["products"].explode()),
        locations=_distinct(frame["locations"].explode()),
        tags=_distinct(frame["tags"].explode()),
        owners=tuple(owners["username"]),
        owner_names=dict(zip(owners["username"], owners["name"], strict=True)),
    )


@st.cache_data(show_spinner=False, max_entries=4)
def component_count(url: str, version: int) -> int:
    with read_connection(engine(url)) as conn:
        return ui_queries.component_count(conn)


@st.cache_data(show_spinner=False, max_entries=4)
def component_names(url: str, version: int) -> list[str]:
    if not component_count(url, version):
        return []
    return list(overview(url, version)["name"])


@st.cache_data(show_spinner=False, max_entries=64)
def links(url: str, version: int, component_ids: tuple[int, ...]) -> pd.DataFrame:
    with read_connection(engine(url)) as conn:
        return ui_queries.current_links(conn, component_ids)


@st.cache_data(show_spinner=False, max_entries=4)
def login_credentials(url: str, version: int) -> dict[str, Any]:
    """The ``credentials`` mapping streamlit-authenticator expects, built from the people who have a
    local password. It holds no password at all: the check is ours (``panopticum_ui.auth``)."""
    with read_connection(engine(url)) as conn:
        accounts = ui_queries.login_accounts(conn)
    users: dict[str, Any] = {}
    for row in accounts.itertuples(index=False):
        users[str(row.username).lower()] = account_entry(
            username=str(row.username),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            access_role=str(row.access_role),
        )
    return {"usernames": users}


def account_entry(
    *, username: str, first_name: Any, last_name: Any, email: Any, access_role: str
) -> dict[str, Any]:
    def text(value: Any) -> str:
        return "" if value is None or value != value else str(value)

    first, last = text(first_name), text(last_name)
    return {
        "username": username,
        "first_name": first or (username if not last else ""),
        "last_name": last,
        "email": text(email),
        "roles": [access_role],
        "source": "local",
    }


@st.cache_data(show_spinner=False, max_entries=32)
def detail(url: str, version: int, name: str, component_version: str | None) -> ComponentDetail | None:
    """Everything about a component (case-insensitive name) at a version; None when either is unknown."""
    with read_connection(engine(url)) as conn:
        try:
            return component_detail(conn, name, version=component_version)
        except NotFound:
            return None


@st.cache_data(show_spinner=False, max_entries=64)
def photos(url: str, version: int, usernames: tuple[str, ...]) -> dict[str, bytes]:
    with read_connection(engine(url)) as conn:
        return ui_queries.person_photos(conn, usernames)


def may_edit_component(username: str | None, component_id: int) -> bool:
    """Not cached: permissions are read fresh on every rerun."""
    if not username:
        return False
    with read_connection(current_engine()) as conn:
        return ui_queries.may_edit_component(conn, username=username, component_id=component_id)


# --- the Edit page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditChoices:
    """What the Edit page's grids offer and check names against (the same for every person)."""

    options: dict[str, tuple[str, ...]]  # reference table -> names, sorted ignoring case
    people: dict[str, str]  # username -> display name (active people)
    component_ids: dict[str, int]  # lower-cased component name -> id
    component_names: tuple[str, ...]  # every component's name, in the registry's order
    current_versions: dict[int, int]  # component id -> current version id


def read_edit_choices(conn: Connection, tables: tuple[str, ...]) -> EditChoices:
    """Not cached (tests, benchmarks): components, active people and the names of ``tables``."""
    components = queries.list_components(conn)
    people = queries.list_people(conn)
    people = people[people["active"].astype(bool)]
    current = components[components["current_version_id"].notna()]
    return EditChoices(
        options={
            t: tuple(sorted(queries.list_reference(conn, t)["name"].astype(str), key=str.lower))
            for t in tables
        },
        people=dict(zip(people["username"].astype(str), people["name"].astype(str), strict=True)),
        component_ids={
            str(n).lower(): int(i)
            for n, i in zip(components["name"], components["component_id"], strict=True)
        },
        component_names=tuple(str(n) for n in components["name"]),
        current_versions={
            int(c): int(v)
            for c, v in zip(current["component_id"], current["current_version_id"], strict=True)
        },
    )


@st.cache_data(show_spinner=False, max_entries=4)
def edit_choices(url: str, version: int, tables: tuple[str, ...]) -> EditChoices:
    with read_connection(engine(url)) as conn:
        return read_edit_choices(conn, tables)


@st.cache_data(show_spinner=False, max_entries=16)
def edit_rows(
    url: str,
    version: int,
    grid: str,
    component_ids: tuple[int, ...],
    _load: Callable[[Connection, str, Sequence[int]], pd.DataFrame],
) -> pd.DataFrame:
    """The rows of an Edit grid for these components, as ``_load`` (``panopticum_ui.edit.load``; not
    part of the key: ``grid`` is) reads them."""
    with read_connection(engine(url)) as conn:
        return _load(conn, grid, component_ids)
