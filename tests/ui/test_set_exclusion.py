"""Excluding a requirement set for a component version from the component page, with a reason:
the set then shows as n/a everywhere and leaves the scores; it can be made to apply again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data.db import make_engine, read_connection
from panopticum_data.queries.detail import component_detail
from panopticum_data.queries.entities import list_requirements
from panopticum_ui.style import md_text
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/component.py"
PAYMENT = "Payment Service"  # owned by "owner"
OPS = "Operational requirements"


def exclusions(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.RequirementSet.name, m.SetExclusion.reason)
                .join(m.SetExclusion, m.SetExclusion.set_id == m.RequirementSet.id)
                .join(m.Component, m.Component.current_version_id == m.SetExclusion.version_id)
                .where(m.Component.name == PAYMENT)
            ).all()
        return sorted((str(n), r) for n, r in rows)
    finally:
        engine.dispose()


def scores(url: str) -> dict:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return dict(component_detail(conn, PAYMENT).scores)
    finally:
        engine.dispose()


def only_in_ops(url: str) -> int:
    """Requirements of the Operational set that no other set holds."""
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            reqs = list_requirements(conn)
    finally:
        engine.dispose()
    in_ops = reqs["set_name"] == OPS
    return len(set(reqs[in_ops]["requirement_id"]) - set(reqs[~in_ops]["requirement_id"]))


def set_index(at, name: str) -> int:  # type: ignore[no-untyped-def]
    cards = [md.value for md in at.markdown if md.value.startswith("**[")]
    return next(i for i, v in enumerate(cards) if f"[{name}]" in v)


def test_owner_excludes_a_set_with_a_reason_and_includes_it_again(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = exclusions(demo_url)
    assert OPS not in dict(before)
    full = scores(demo_url)
    assert [u for u in full["unsigned"] if u.startswith(OPS)]
    ops_requirements = only_in_ops(demo_url)
    at = log_in(open_app(demo_url, monkeypatch, query={"name": PAYMENT}, page=PAGE), "owner")
    i = set_index(at, OPS)
    # a reason is required: nothing written without one
    at.button(key=f"FormSubmitter:exclude_set_{i}-Exclude the set").click().run()
    assert "reason" in " ".join(e.value for e in at.error)
    assert exclusions(demo_url) == before
    at.text_area(key=f"exclude_reason_{i}").input("Batch job: never deployed to production")
    at.button(key=f"FormSubmitter:exclude_set_{i}-Exclude the set").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert (OPS, "Batch job: never deployed to production") in exclusions(demo_url)
    assert f"Not applicable: {md_text('Batch job: never deployed to production')}" in texts(at)
    # the set leaves the scores: its requirements are neither applicable nor listed as unsigned
    excluded = scores(demo_url)
    assert excluded["applicable_requirements"] == full["applicable_requirements"] - ops_requirements
    assert not [u for u in excluded["unsigned"] if u.startswith(OPS)]
    at.button(key=f"include_set_{i}").click().run()
    assert_clean(at)
    assert exclusions(demo_url) == before
    assert scores(demo_url) == full


def test_viewer_gets_no_exclusion_controls(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = log_in(open_app(demo_url, monkeypatch, query={"name": PAYMENT}, page=PAGE), "viewer")
    assert not [b for b in at.button if str(b.key).startswith(("include_set_", "FormSubmitter:exclude_set_"))]
