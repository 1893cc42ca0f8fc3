"""The component page's "As of" section through app.py: the profile as of now, right after a change
set, or at a typed moment (rebuilt from the audit trail), and the differences between two moments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.queries.detail import component_detail
from panopticum_data.queries.profile_as_of import change_times
from panopticum_data.services import SYSTEM
from panopticum_data.services.components import update_component
from panopticum_data.services.people import add_user
from tests.data import small_registry
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/component.py"
PAYMENT = "Payment Service"
FIRST, SECOND = "First as-of text.", "Second **as-of** text <script>alert(1)</script>"


def _edit_twice(url: str) -> dict[str, Any]:
    """Two description edits through the services; the original, the change sets and the id."""
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            comp = component_detail(conn, PAYMENT).component
        for text in (FIRST, SECOND):
            with session_scope(engine) as s:
                update_component(
                    s,
                    actor=SYSTEM,
                    component_id=int(comp["component_id"]),
                    expected_row_version=None,
                    changes={"description": text},
                )
        with read_connection(engine) as conn:
            times = change_times(conn, PAYMENT)
    finally:
        engine.dispose()
    return {"id": int(comp["component_id"]), "original": comp["description"], "times": times}


def _profile(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if list(d.value.columns) == ["section", "field", "value"])


def _diffs(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if list(d.value.columns) == ["section", "field", "before", "after"]]


def _value(profile: pd.DataFrame, section: str, field: str) -> Any:
    row = profile[(profile["section"] == section) & (profile["field"] == field)]
    assert len(row) == 1, (section, field)
    return row["value"].iloc[0]


def test_as_of_a_change_set_and_the_differences_since(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    edits = _edit_twice(demo_url)
    cid, times = edits["id"], edits["times"]
    first, second = times.iloc[1], times.iloc[0]  # newest first
    at = log_in(open_app(demo_url, monkeypatch, query={"name": PAYMENT}, page=PAGE), "viewer")
    moment = at.selectbox(key=f"as_of_{cid}")
    assert moment.value == "now" and moment.options[:2] == ["Now", "Pick a date and time…"]
    assert len(moment.options) == 2 + len(times)  # the change sets as quick choices
    assert _value(_profile(at), "Component", "description") == SECOND  # a cell: the text as typed
    assert _value(_profile(at), "Component", "current_version") == "2.10"
    assert at.selectbox(key=f"as_of_compare_{cid}").value == "none" and not _diffs(at)

    moment.set_value(int(first["change_set_id"])).run()
    assert_clean(at)
    assert _value(_profile(at), "Component", "description") == FIRST
    assert "version **2.10** was current" in texts(at)

    at.selectbox(key=f"as_of_compare_{cid}").set_value("now").run()
    assert_clean(at)
    (diff,) = _diffs(at)
    assert diff.values.tolist() == [["Component", "description", FIRST, SECOND]]

    at.selectbox(key=f"as_of_compare_{cid}").set_value(int(second["change_set_id"])).run()
    assert _diffs(at)[0].values.tolist() == [["Component", "description", FIRST, SECOND]]
    at.selectbox(key=f"as_of_compare_{cid}").set_value(int(first["change_set_id"])).run()
    assert not _diffs(at) and any("No differences between" in c.value for c in at.caption)


def test_a_typed_moment_before_the_edits(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    edits = _edit_twice(demo_url)
    cid, first = edits["id"], edits["times"].iloc[1]
    at = log_in(open_app(demo_url, monkeypatch, query={"name": PAYMENT}, page=PAGE), "viewer")
    at.selectbox(key=f"as_of_{cid}").set_value("pick").run()
    typed = at.datetime_input(key=f"as_of_{cid}_typed")
    typed.set_value((first["at"] - timedelta(minutes=1)).to_pydatetime().replace(tzinfo=None)).run()
    assert_clean(at)
    assert _value(_profile(at), "Component", "description") == edits["original"]
    at.selectbox(key=f"as_of_compare_{cid}").set_value("now").run()
    assert ["Component", "description", edits["original"], SECOND] in _diffs(at)[0].values.tolist()


def test_a_registry_without_a_trail(db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows written without audit events (an import) read as today's at every moment."""
    small_registry.build(engine)
    with session_scope(engine) as session:
        add_user(session, actor=SYSTEM, username="someone", password="long enough")
    at = log_in(open_app(db_url, monkeypatch, query={"name": "alpha"}, page=PAGE), "someone", "long enough")
    with read_connection(engine) as conn:
        cid = int(component_detail(conn, "alpha").component["component_id"])
    moment = at.selectbox(key=f"as_of_{cid}")
    assert moment.options == ["Now", "Pick a date and time…"]
    assert _value(_profile(at), "Component", "name") == "alpha"
