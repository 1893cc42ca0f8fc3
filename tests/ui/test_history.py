"""The History page through app.py on the demo registry: filters from the URL, choosing a change set
shows its events, a value search without another filter is refused with a message; the downloads'
CSV and Excel bytes read back to the events shown."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from panopticum_data.db import make_engine, read_connection
from panopticum_data.queries import history as hq
from panopticum_ui import history as hist
from tests.ui.conftest import log_in, open_app, texts

PAGE = "views/history.py"


def page(url: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    at = log_in(open_app(url, monkeypatch, query=dict(query)), "viewer")
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def read(url: str, filters: hq.HistoryFilters, **kw: object) -> hq.Page:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return hq.history_events(conn, filters, **kw)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def tables(at: AppTest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The change-set table and the events table of the Events tab (the last one)."""
    sets = [d.value for d in at.dataframe if "summary" in d.value.columns]
    events = [d.value for d in at.dataframe if "new_value" in d.value.columns]
    assert len(sets) == 1
    return sets[0], events[-1]


def test_everything_newest_first(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch)
    expected = read(demo_url, hq.HistoryFilters())
    sets, events = tables(at)
    assert at.tabs[1].label == f"Events ({expected.total:,} events)"
    assert list(events["change_set"]) == [int(i) for i in expected.rows["change_set_id"]]
    assert list(sets["change_set"]) == sorted(sets["change_set"], reverse=True)


def test_filters_come_from_the_url(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, person="expert", entity="requirement_status", **{"from": "2026-01-01"})
    assert at.selectbox(key="person").value == "expert"
    assert at.selectbox(key="entity").value == "requirement_status"
    assert at.date_input(key="from").value == date(2026, 1, 1)
    sets, events = tables(at)
    assert len(events) > 0 and set(events["actor"]) == {"expert"}
    assert set(events["entity"]) == {"requirement_status"}
    assert all(t.year == 2026 for t in events["at"])
    assert set(sets["change_set"]) == set(events["change_set"])
    # a widget changes the filter
    at.selectbox(key="person").set_value(None).run()
    assert len(set(tables(at)[1]["actor"])) > 1


def test_choosing_a_change_set_shows_its_events(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch)
    sets, _ = tables(at)
    chosen = int(sets["change_set"].iloc[1])
    key = next(d.key for d in at.dataframe if d.key and d.key.startswith("sets_table_"))
    at.session_state[key] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["open"] == str(chosen)
    shown = [d.value for d in at.dataframe if "new_value" in d.value.columns][0]
    expected = read(demo_url, hq.HistoryFilters(change_set_id=chosen), page_size=1000)
    assert set(shown["change_set"]) == {chosen} and len(shown) == expected.total
    assert f"Change set {chosen}" in texts(at)


def test_a_pasted_open_link_shows_the_change_set(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, open="1")
    shown = [d.value for d in at.dataframe if "new_value" in d.value.columns][0]
    assert set(shown["change_set"]) == {1}


def test_value_search_alone_is_refused_with_a_message(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, text="SEC-1432")
    assert "needs another filter" in texts(at)
    narrowed = page(demo_url, monkeypatch, text="SEC-1432", entity="requirement_status")
    events = tables(narrowed)[1]
    assert len(events) >= 1
    assert all(
        "SEC-1432" in f"{o} {n}" for o, n in zip(events["old_value"], events["new_value"], strict=True)
    )


def test_nothing_matches(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, change_set="999999")
    assert "No change set matches the filters." in texts(at)
    assert "No event matches the filters." in texts(at)


def test_downloads_read_back(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            rows = hq.export_events(conn, hq.HistoryFilters())
    finally:
        engine.dispose()
    assert len(rows) > 0
    from_csv = pd.read_csv(io.BytesIO(hist.csv_bytes(rows)))
    assert list(from_csv.columns) == list(hist.EXPORT_COLUMNS.values())
    assert list(from_csv["Event"]) == [int(i) for i in rows["event_id"]]
    assert list(from_csv["New value"].fillna("")) == [v or "" for v in rows["new_value"]]
    book = openpyxl.load_workbook(io.BytesIO(hist.excel_bytes(rows)))
    sheet = book["Events"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == list(hist.EXPORT_COLUMNS.values())
    assert all(c.font.bold for c in sheet[1])
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in body] == [int(i) for i in rows["event_id"]]
    assert [r[11] or "" for r in body] == [v or "" for v in rows["new_value"]]
    assert body[0][2] == hist.export_frame(rows)["When (UTC)"].iloc[0]
    assert body[0][2].tzinfo is None
