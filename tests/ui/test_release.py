"""Release readiness through app.py: /release?product=<product version>, its verdict, components and
blocking tables against ``release_readiness`` read directly, a product made ready through the
services, the Excel workbook, a bad product in the URL, and the login gate."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import streamlit as st
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.queries.requirements import requirement_statuses
from panopticum_data.queries.signoff import Readiness, release_readiness
from panopticum_data.services import SYSTEM
from panopticum_data.services.requirements import (
    ClaimChange,
    VerdictChange,
    set_owner_claims,
    set_signee_verdicts,
)
from panopticum_ui import release, style
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/release.py"
PRODUCT = "Commerce On-Prem 9.2"  # the demo's smallest product version; not ready


def release_page(url: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    return log_in(open_app(url, monkeypatch, query=dict(query), page=PAGE), "viewer")


def read(url: str, product: str) -> Readiness:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return release_readiness(conn, product)
    finally:
        engine.dispose()


def links(frame: pd.DataFrame) -> list[tuple[str, str]]:
    out = []
    for href in frame["component"]:
        query = parse_qs(urlsplit(href).query)
        out.append((query["name"][0], query["version"][0]))
    return out


def tables(at: AppTest) -> dict[str, pd.DataFrame]:
    """The page's tables by kind: "components" (has set columns) and "blocking"."""
    found: dict[str, pd.DataFrame] = {}
    for df in at.dataframe:
        frame = df.value
        found["blocking" if "who_must_act" in frame.columns else "components"] = frame
    return found


def make_ready(url: str, product: str) -> None:
    """As the system: claim ready, then sign ready, every blocking requirement of the product."""
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            vids = sorted({int(v) for v in release_readiness(conn, product).blocking["version_id"]})
            df = requirement_statuses(conn, version_ids=vids)
        todo = df[~df["excluded"] & ~df["overall"].isin(["ready", "n/a"])]
        todo = todo.drop_duplicates(["version_id", "requirement_id"])
        claims = [
            ClaimChange(version_id=int(v), requirement_id=int(q), status="ready")
            for v, q, o in zip(todo["version_id"], todo["requirement_id"], todo["owner_status"], strict=True)
            if o not in ("ready", "n/a")
        ]
        verdicts = [
            VerdictChange(version_id=int(v), requirement_id=int(q), status="ready")
            for v, q in zip(todo["version_id"], todo["requirement_id"], strict=True)
        ]
        with session_scope(engine) as session:
            set_owner_claims(session, actor=SYSTEM, changes=claims)
            set_signee_verdicts(session, actor=SYSTEM, changes=verdicts)
    finally:
        engine.dispose()


def test_shows_the_components_and_what_blocks(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = release_page(demo_url, monkeypatch, product=PRODUCT)
    r = read(demo_url, PRODUCT)
    assert not r.ready and len(r.blocking)
    assert at.selectbox(key="product").value == PRODUCT
    blocked = r.blocking["version_id"].nunique()
    verdict = at.error[0].value
    assert f"Not ready — {len(r.blocking):,} blocking requirements on {blocked} components" in verdict
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Components"] == str(len(r.components))
    assert metrics["Blocking requirements"] == f"{len(r.blocking):,}"
    owner = int(r.blocking["who_must_act"].eq("owner").sum())
    assert metrics["Owners must act"] == str(owner)
    assert metrics["Signees must act"] == str(len(r.blocking) - owner)

    shown = tables(at)
    comps = shown["components"]
    assert links(comps) == list(zip(r.components["component"], r.components["version"], strict=True))
    assert list(comps["version"]) == list(r.components["version"])
    sets = r.components.attrs["set_columns"]
    assert len(sets) == 4
    for i, name in enumerate(sets):
        assert list(comps[f"set{i}"]) == [style.mark(s) for s in r.components[name]], name

    blocking = shown["blocking"]
    assert links(blocking) == list(zip(r.blocking["component"], r.blocking["version"], strict=True))
    assert list(blocking["set"]) == list(r.blocking["set"])
    assert list(blocking["requirement"]) == list(r.blocking["requirement"])
    assert list(blocking["overall"]) == [style.mark(s) for s in r.blocking["overall"]]
    assert list(blocking["who_must_act"]) == list(r.blocking["who_must_act"])
    assert {"owner", "Security experts"} <= set(blocking["who_must_act"])
    assert at.get("plotly_chart"), "the chart of blocking requirements per set"
    assert [b.label for b in at.get("download_button")] == ["Download Excel"]


def test_a_product_with_nothing_blocking_is_ready(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_ready(demo_url, PRODUCT)
    r = read(demo_url, PRODUCT)
    assert r.ready and r.blocking.empty and len(r.components)
    at = release_page(demo_url, monkeypatch, product=PRODUCT)
    assert not at.error
    assert at.success[0].value.startswith("### Ready")
    assert {m.label: m.value for m in at.metric}["Blocking requirements"] == "0"
    shown = tables(at)
    assert "blocking" not in shown
    assert len(shown["components"]) == len(r.components)
    marks = shown["components"].filter(like="set").stack()
    assert set(marks) <= {style.mark("ready"), style.mark("n/a")} and style.mark("ready") in set(marks)
    assert "Nothing blocks" in texts(at)
    # another product is still not ready
    other = release_page(demo_url, monkeypatch, product="Commerce Cloud 2026.2")
    assert other.error and "Not ready" in other.error[0].value


def _sheet_rows(data: bytes, title: str) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(data))[title]
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_excel_holds_the_tables(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = release_page(demo_url, monkeypatch, product=PRODUCT)
    r = read(demo_url, PRODUCT)
    data = release.workbook(r)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Summary", "Components", "Blocking"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1])
        assert all((ws.column_dimensions[c.column_letter].width or 0) >= 8 for c in ws[1])
    summary = {row[0]: row[1] for row in _sheet_rows(data, "Summary")[1:]}
    assert summary["Product version"] == PRODUCT and summary["Ready"] == "no"
    assert summary["Components"] == len(r.components)
    assert summary["Blocking requirements"] == len(r.blocking)
    assert summary["Generated at (UTC)"] is not None

    shown = tables(at)
    comps = _sheet_rows(data, "Components")
    sets = r.components.attrs["set_columns"]
    assert comps[0] == ["Component", "Version", *sets]
    assert [(row[0], row[1]) for row in comps[1:]] == links(shown["components"])
    status_of = {label: status for status, (_, label, _) in style.STATUS_MARKS.items()}
    for i in range(len(sets)):  # the same status, as a word instead of a mark
        words = [row[2 + i] for row in comps[1:]]
        assert [style.mark(status_of.get(w)) for w in words] == list(shown["components"][f"set{i}"])

    blocking = _sheet_rows(data, "Blocking")
    assert blocking[0] == ["Component", "Version", "Set", "Requirement", "Overall", "Who must act"]
    page = shown["blocking"]
    assert [(row[0], row[1]) for row in blocking[1:]] == links(page)
    assert [row[2:4] for row in blocking[1:]] == [
        list(p) for p in zip(page["set"], page["requirement"], strict=True)
    ]
    assert [row[5] for row in blocking[1:]] == list(page["who_must_act"])
    assert {row[4] for row in blocking[1:]} <= {"not ready", "unknown", "waiting", "waiting (n/a)"}


def test_an_unknown_product_in_the_url_gives_a_warning(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "No *Such* [Product](javascript:x)"
    at = release_page(demo_url, monkeypatch, product=name)
    assert_clean(at)
    assert f"No product version **{style.md_text(name)}**" in at.warning[0].value
    assert at.selectbox(key="product").value is None
    assert not at.dataframe and not at.metric


def test_choose_a_product_and_any_case_in_the_url(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = release_page(demo_url, monkeypatch)
    assert not at.dataframe and "Choose a product version" in texts(at)
    assert PRODUCT in at.selectbox(key="product").options
    at.selectbox(key="product").select(PRODUCT).run()
    assert_clean(at)
    assert len(tables(at)["components"]) == len(read(demo_url, PRODUCT).components)
    lower = release_page(demo_url, monkeypatch, product=PRODUCT.lower())
    assert lower.selectbox(key="product").value == PRODUCT and not lower.warning


def test_anonymous_visitors_see_it_only_when_allowed(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = open_app(demo_url, monkeypatch, query={"product": PRODUCT}, page=PAGE)
    assert not closed.dataframe and not closed.metric
    assert "Log in" in texts(closed)
    st.cache_resource.clear()  # the settings are read again
    # readable: app.py first draws the dashboard, whose product filter takes ?product=; the release
    # page carries that one product over
    opened = open_app(demo_url, monkeypatch, query={"product": PRODUCT}, page=PAGE, anonymous_read=True)
    assert opened.title[0].value == "Release readiness"
    assert len(tables(opened)["components"]) == len(read(demo_url, PRODUCT).components)
