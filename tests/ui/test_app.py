"""The app renders through app.py on an empty registry and on a filled one (Streamlit AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.data import small_registry

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def run_app(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PANOPTICUM_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def test_empty_registry_says_how_to_fill_it(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(db_url, monkeypatch)
    assert any("registry is empty" in i.value for i in at.info)


def test_lists_components_with_scores(
    db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_registry.build(engine)
    at = run_app(db_url, monkeypatch)
    table = at.dataframe[0].value
    assert sorted(table["name"]) == ["alpha", "beta", "delta", "gamma"]
    assert {"rating", "completeness", "qa_score", "A", "B", "C"} <= set(table.columns)
