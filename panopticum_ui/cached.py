"""Cached reads. The engine is a resource; frames are cached by the newest change-set id, so a write
from another process (CLI, API, another app server) is seen on the next rerun."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from panopticum_data import queries
from panopticum_data.config import Settings, load_settings
from panopticum_data.db import make_engine


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_resource
def engine(url: str) -> Engine:
    return make_engine(url, busy_timeout_ms=settings().sqlite_busy_timeout_ms)


def current_engine() -> Engine:
    return engine(settings().database_url)


def data_version() -> int:
    with current_engine().connect() as conn:
        return queries.data_version(conn)


@st.cache_data(show_spinner=False, max_entries=8)
def overview(url: str, version: int) -> pd.DataFrame:
    with engine(url).connect() as conn, conn.begin():
        return queries.components_overview(conn)
