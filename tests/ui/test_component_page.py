"""The component page through app.py: /component?name=<name>[&version=<version>], its sections, who
sees the Edit affordance, and user text that must come out as text."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.queries.detail import component_detail
from panopticum_data.services import SYSTEM
from panopticum_data.services.components import update_component
from panopticum_data.services.people import add_user
from panopticum_data.services.requirements import ClaimChange, set_owner_claims
from panopticum_ui import style
from tests.data import small_registry
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/component.py"
PAYMENT = "Payment Service"  # owned by the demo login "owner"; two versions
EDGE = "Edge Proxy"  # not owned by "owner"


def component_page(url: str, monkeypatch: pytest.MonkeyPatch, user: str, **query: str) -> AppTest:
    at = open_app(url, monkeypatch, query=dict(query), page=PAGE)
    return log_in(at, user)


def detail(url: str, name: str, version: str | None = None) -> Any:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return component_detail(conn, name, version=version)
    finally:
        engine.dispose()


def edit_buttons(at: AppTest) -> list[Any]:
    return [b for b in at.button if b.key == "edit_component" or "edit" in b.label.lower()]


def test_shows_every_section_of_a_component(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = component_page(demo_url, monkeypatch, "viewer", name=PAYMENT)
    d = detail(demo_url, PAYMENT)
    assert at.title[0].value == PAYMENT
    body = texts(at)
    assert "**Type** Web Service" in body and "Acme Shop" in body
    for name in d.owners["name"]:  # owners by role, with photo or initials
        assert style.md_text(name) in body
    assert len(at.image) >= len(d.owners), "owner photos or initials"
    assert "**Languages**" in body  # tech stack
    assert "Repository" in body  # links
    assert [t.label for t in at.tabs][0] == "Profile"
    tables = [df.value for df in at.dataframe]
    qa = next(t for t in tables if "level" in t.columns)
    assert len(qa) == 9 and qa["level"].str.contains("★").any()
    deps = next(t for t in tables if list(t.columns) == ["component", "type", "notes"])
    assert sorted(parse_qs(urlsplit(h).query)["name"][0] for h in deps["component"]) == sorted(
        d.dependencies["component"]
    )
    cards = [t for t in tables if "signee" in t.columns]
    assert len(cards) == d.requirements["set_id"].nunique()
    assert sum(len(c) for c in cards) == len(d.requirements)
    assert any("ready" in v for v in cards[0]["overall"])
    history = next(t for t in tables if "old" in t.columns)
    assert len(history) == len(d.history)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rating"] == str(d.scores["rating"])
    assert metrics["Completeness"] == str(d.scores["completeness"])
    missing = [e for e in at.expander if e.label.startswith("Missing for completeness")]
    assert missing and f"({len(d.scores['missing'])})" in missing[0].label


def test_version_from_the_url_and_the_version_selector(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = detail(demo_url, PAYMENT, "2.9")
    at = component_page(demo_url, monkeypatch, "viewer", name=PAYMENT, version="2.9")
    picker = at.selectbox(key=f"version_of_{old.component['component_id']}")
    assert picker.value == "2.9" and picker.options == ["2.9", "2.10 (current)"]
    assert "Refunds through the monolith." in texts(at)
    picker.set_value("2.10").run()
    assert_clean(at)
    assert "version" not in at.query_params  # the current version keeps the URL short
    assert "Own refunds" in texts(at)


def test_names_are_case_insensitive_and_unknown_ones_offer_a_picker(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = component_page(demo_url, monkeypatch, "viewer", name="payment service")
    assert at.title[0].value == PAYMENT
    at = component_page(demo_url, monkeypatch, "viewer", name="No such thing")
    assert any("No component" in w.value for w in at.warning)
    picker = at.selectbox(key="component_picker")
    assert PAYMENT in picker.options
    picker.set_value(EDGE).run()
    assert_clean(at)
    assert at.title[0].value == EDGE


def test_without_a_name_the_page_offers_a_picker(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = component_page(demo_url, monkeypatch, "viewer")
    assert at.title[0].value == "Component" and not at.warning
    assert len(at.selectbox(key="component_picker").options) == 50


def test_renders_on_an_empty_registry(
    db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as session:
        add_user(session, actor=SYSTEM, username="someone", password="long enough")
    at = log_in(open_app(db_url, monkeypatch, query={"name": "x"}, page=PAGE), "someone", "long enough")
    assert at.title[0].value == "Component"
    assert at.selectbox(key="component_picker").options == []


def test_a_small_registry_with_an_excluded_set(
    db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_registry.build(engine)
    with session_scope(engine) as session:
        add_user(session, actor=SYSTEM, username="someone", password="long enough")
    at = log_in(open_app(db_url, monkeypatch, query={"name": "delta"}, page=PAGE), "someone", "long enough")
    assert at.title[0].value == "delta"
    assert any("Not applicable: not a service" in c.value for c in at.caption)
    at = log_in(open_app(db_url, monkeypatch, query={"name": "beta"}, page=PAGE), "someone", "long enough")
    assert any("QA does not apply" in c.value for c in at.caption)
    assert {m.label: m.value for m in at.metric}["QA"] == "n/a"


@pytest.mark.parametrize(
    ("user", "component", "may_edit"),
    [
        ("viewer", PAYMENT, False),
        ("owner", PAYMENT, True),  # a viewer by role, but an owner of this component
        ("owner", EDGE, False),
        ("admin", EDGE, True),
    ],
)
def test_only_people_who_may_edit_see_the_edit_affordance(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, user: str, component: str, may_edit: bool
) -> None:
    at = component_page(demo_url, monkeypatch, user, name=component)
    assert at.title[0].value == component
    assert bool(edit_buttons(at)) is may_edit
    if not may_edit:
        assert [b.key for b in at.button] == ["panopticum_logout"]


XSS_DESCRIPTION = "<script>alert('x')</script> Fine **Markdown** and <img src=x onerror=alert(1)>"
XSS_NOTE = "<img src=x onerror=alert(2)> see [this](javascript:alert(3))"


def test_html_in_user_text_comes_out_as_text(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    d = detail(demo_url, PAYMENT)
    first = d.requirements.iloc[0]
    engine = make_engine(demo_url)
    try:
        with session_scope(engine) as session:
            update_component(
                session,
                actor=SYSTEM,
                component_id=int(d.component["component_id"]),
                expected_row_version=None,
                changes={"description": XSS_DESCRIPTION},
            )
            set_owner_claims(
                session,
                actor=SYSTEM,
                changes=[
                    ClaimChange(
                        version_id=int(first["version_id"]),
                        requirement_id=int(first["requirement_id"]),
                        status="ready",
                        notes=XSS_NOTE,
                    )
                ],
            )
    finally:
        engine.dispose()
    at = component_page(demo_url, monkeypatch, "viewer", name=PAYMENT)
    body = texts(at)
    assert "&lt;script>alert('x')&lt;/script>" in body and "&lt;img src=x onerror=alert(1)>" in body
    assert "<script" not in body and "<img" not in body
    assert "Fine **Markdown**" in body  # Markdown still works
    assert not at.get("html")
    for element in at.markdown:
        if element.proto.allow_html:  # only the authenticator's own CSS snippet may use it
            assert element.value.strip().startswith("<style>") and "onerror" not in element.value
    notes = [v for df in at.dataframe if "notes" in df.value.columns for v in df.value["notes"]]
    assert any(XSS_NOTE in n for n in notes)  # a grid cell: drawn as text on a canvas
    history = next(df.value for df in at.dataframe if "old" in df.value.columns)
    assert XSS_DESCRIPTION in set(history["new"])


def test_a_big_registry_gets_a_search_instead_of_every_name(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panopticum_ui import widgets

    monkeypatch.setattr(widgets, "PICKER_LIMIT", 10)
    at = component_page(demo_url, monkeypatch, "viewer")
    assert not at.selectbox
    at.text_input(key="component_search").input("service").run()
    assert_clean(at)
    links = [(link.label, link.proto.query_string) for link in at.page_link]
    assert ("Payment Service", "name=Payment+Service") in links
    assert all("service" in label.lower() for label, _ in links)


def test_a_component_without_versions_in_a_registry_without_requirement_sets(
    db_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panopticum_data import models as m

    with session_scope(engine) as session:
        add_user(session, actor=SYSTEM, username="someone", password="long enough")
        session.add(m.Component(name="bare", description=None))
    at = log_in(open_app(db_url, monkeypatch, query={"name": "bare"}, page=PAGE), "someone", "long enough")
    assert at.title[0].value == "bare"
    assert any("No versions yet" in c.value for c in at.caption)
    dashboard = log_in(open_app(db_url, monkeypatch), "someone", "long enough")
    assert [n for n in dashboard.dataframe[0].value["component"]] == ["component?name=bare"]
    assert {m.label: m.value for m in dashboard.metric}["Fully signed"] == "–"


def test_the_edit_button_opens_the_edit_page_on_this_component(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = component_page(demo_url, monkeypatch, "owner", name=PAYMENT)
    at.button(key="edit_component").click().run()
    assert_clean(at)
    assert at.title[0].value == "Edit the registry"
    # the components grid (the default, so not in the URL), narrowed to this component
    assert at.query_params["q"] == PAYMENT and at.text_input(key="q").value == PAYMENT
