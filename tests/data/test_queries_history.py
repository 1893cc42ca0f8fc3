"""The History page's reader (queries/history.py) over a hand-made trail on the small registry:

    cs1  p0      2026-01-10  ui     component alpha: description, life_status
    cs2  p1      2026-02-01  api    deployment (beta): notes "moved to k8s"; component_version (beta): comments
    cs3  system  2026-03-05  excel  150 × requirement_status (gamma): owner_status unknown -> ready
    cs4  p0      2026-03-20  ui     component beta: description "Beta 100% done"

Both backends; the downloads' bytes read back (CSV, Excel)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data.db import read_connection
from panopticum_data.queries import history as hq
from panopticum_data.queries.history import HistoryFilters as F
from tests.data import small_registry


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


@pytest.fixture
def trail(engine: sa.Engine) -> dict[str, Any]:
    reg = small_registry.build(engine)
    comp = {name: cid for name, (cid, _vid) in reg["components"].items()}
    with engine.begin() as conn:
        people = dict(conn.execute(sa.select(m.Person.username, m.Person.id)).all())

        def change_set(
            cs_id: int, who: str, when: datetime, source: str, events: list[dict[str, Any]]
        ) -> None:
            pid = people.get(who)
            conn.execute(
                sa.insert(m.ChangeSet),
                [
                    {
                        "id": cs_id,
                        "actor_id": pid,
                        "actor_name": who,
                        "at": when,
                        "source": source,
                        "summary": f"cs{cs_id}",
                    }
                ],
            )
            rows = [
                {
                    "old_value": None,
                    "component_id": None,
                    **e,
                    "change_set_id": cs_id,
                    "actor_id": pid,
                    "actor_name": who,
                    "at": when,
                    "action": "update",
                }
                for e in events
            ]
            conn.execute(sa.insert(m.AuditEvent), rows)

        change_set(
            1,
            "p0",
            at(1, 10),
            "ui",
            [
                {
                    "entity": "component",
                    "entity_id": comp["alpha"],
                    "component_id": comp["alpha"],
                    "field": "description",
                    "old_value": "a",
                    "new_value": "Alpha service",
                },
                {
                    "entity": "component",
                    "entity_id": comp["alpha"],
                    "component_id": comp["alpha"],
                    "field": "life_status",
                    "old_value": "new",
                    "new_value": "production",
                },
            ],
        )
        change_set(
            2,
            "p1",
            at(2, 1),
            "api",
            [
                {
                    "entity": "deployment",
                    "entity_id": 7,
                    "component_id": comp["beta"],
                    "field": "notes",
                    "new_value": "moved to k8s",
                },
                {
                    "entity": "component_version",
                    "entity_id": 8,
                    "component_id": comp["beta"],
                    "field": "comments",
                    "new_value": "ok",
                },
            ],
        )
        change_set(
            3,
            "system",
            at(3, 5),
            "excel",
            [
                {
                    "entity": "requirement_status",
                    "entity_id": 1000 + i,
                    "component_id": comp["gamma"],
                    "field": "owner_status",
                    "old_value": "unknown",
                    "new_value": "ready",
                }
                for i in range(150)
            ],
        )
        change_set(
            4,
            "p0",
            at(3, 20),
            "ui",
            [
                {
                    "entity": "component",
                    "entity_id": comp["beta"],
                    "component_id": comp["beta"],
                    "field": "description",
                    "new_value": "Beta 100% done",
                },
            ],
        )
    return comp


def events(engine: sa.Engine, filters: F, **kw: Any) -> hq.Page:
    with read_connection(engine) as conn:
        return hq.history_events(conn, filters, **kw)


def sets(engine: sa.Engine, filters: F, **kw: Any) -> hq.Page:
    with read_connection(engine) as conn:
        return hq.change_sets(conn, filters, **kw)


def cs_ids(page: hq.Page) -> list[int]:
    return [int(i) for i in page.rows["change_set_id"]]


def test_unfiltered_pages_newest_first_with_the_total(engine: sa.Engine, trail: dict) -> None:
    first = events(engine, F())
    assert (first.total, first.exact, first.pages, len(first.rows)) == (155, True, 2, 100)
    assert cs_ids(first)[0] == 4 and set(cs_ids(first)[1:]) == {3}
    second = events(engine, F(), page=2)
    assert len(second.rows) == 55 and cs_ids(second)[-2:] == [1, 1]
    assert events(engine, F(), page=99).page == 2  # clamped to the last page
    ids = list(first.rows["event_id"]) + list(second.rows["event_id"])
    assert len(set(ids)) == 155


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (F(person="p0"), [4, 1, 1]),
        (F(person="P1"), [2, 2]),
        (F(person="SYSTEM", field="owner_status"), [3] * 150),
        (F(person="nobody"), []),
        (F(entity="component", field="description"), [4, 1]),
        (F(entity="deployment"), [2]),
        (F(field="comments"), [2]),
        (F(component="BETA"), [4, 2, 2]),
        (F(component="no such component"), []),
        (F(since=at(2, 1), until=at(3, 5)), [2, 2]),
        (F(change_set_id=1), [1, 1]),
        (F(text="100%"), [4]),  # % is a character here, not a wildcard
        (F(text="K8S"), [2]),
        (F(person="p0", entity="component", text="alpha"), [1]),
    ],
)
def test_each_filter_keeps_its_events(
    engine: sa.Engine, trail: dict, filters: F, expected: list[int]
) -> None:
    page = events(engine, filters, page_size=200)
    assert cs_ids(page) == expected
    assert page.total == len(expected) and page.exact


def test_events_carry_component_names_and_the_change_sets_source(engine: sa.Engine, trail: dict) -> None:
    rows = events(engine, F(change_set_id=2)).rows
    assert set(rows["component"]) == {"beta"} and set(rows["source"]) == {"api"}
    assert set(rows["actor"]) == {"p1"}


def test_change_sets_with_their_counts(engine: sa.Engine, trail: dict) -> None:
    page = sets(engine, F())
    assert cs_ids(page) == [4, 3, 2, 1] and page.total == 4
    assert list(page.rows["events"]) == [1, 150, 2, 2] == list(page.rows["matching"])
    assert list(page.rows["source"]) == ["ui", "excel", "api", "ui"]
    narrowed = sets(engine, F(entity="component", field="description"))
    assert cs_ids(narrowed) == [4, 1]
    assert list(narrowed.rows["events"]) == [1, 2] and list(narrowed.rows["matching"]) == [1, 1]
    assert cs_ids(sets(engine, F(person="p0", since=at(3, 1)))) == [4]
    assert cs_ids(sets(engine, F(component="gamma"))) == [3]
    assert sets(engine, F(component="nope")).total == 0


def test_change_sets_page(engine: sa.Engine, trail: dict) -> None:
    second = sets(engine, F(), page=2, page_size=3)
    assert cs_ids(second) == [1] and second.pages == 2


def test_counting_stops_at_the_cap(engine: sa.Engine, trail: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hq, "COUNT_CAP", 100)
    page = events(engine, F())
    assert (page.total, page.exact, page.pages) == (100, False, 1)
    assert events(engine, F(entity="component")).exact


def test_export_and_the_choices(engine: sa.Engine, trail: dict) -> None:
    with read_connection(engine) as conn:
        assert len(hq.export_events(conn, F())) == 155
        newest = hq.export_events(conn, F(person="p0"), limit=2)
        pairs = hq.entity_fields(conn)
    assert list(newest["change_set_id"]) == [4, 1]
    assert list(zip(pairs["entity"], pairs["field"], strict=True)) == [
        ("component", "description"),
        ("component", "life_status"),
        ("component_version", "comments"),
        ("deployment", "notes"),
        ("requirement_status", "owner_status"),
    ]
    assert isinstance(newest, pd.DataFrame)
