"""Endpoints: create, update (a move between components, a stale check by the values read), delete —
who may, what the audit trail records, and that every refusal leaves the database as it was."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import queries
from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import Endpoint
from panopticum_data.services import SYSTEM
from tests import factories as f
from tests.factories import ROLES, World, assert_refused

ORDERS = "https://api.example.com/v2/orders*"
MAY_WRITE_BILLING = {"admin", "editor", "owner"}


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _endpoint(engine: sa.Engine, endpoint_id: int) -> Endpoint | None:
    with Session(engine) as s:
        row = s.get(Endpoint, endpoint_id)
        if row is not None:
            s.expunge(row)
        return row


def _make(engine: sa.Engine, world: World, pattern: str = ORDERS, **kw: Any) -> int:
    with session_scope(engine) as s:
        return svc.create_endpoint(s, actor=SYSTEM, component=world.billing, pattern=pattern, **kw).id


def test_create_update_delete_with_their_audit_events(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        endpoint_id = svc.create_endpoint(
            s, actor=world["owner"], component="BILLING", pattern=f"  {ORDERS} ", notes="orders API"
        ).id
    row = _endpoint(engine, endpoint_id)
    assert row is not None and (row.pattern, row.component_id, row.notes) == (
        ORDERS,
        world.billing,
        "orders API",
    )
    created = f.last_change_set_events(engine)
    assert {(e.entity, e.entity_id, e.action, e.component_id) for e in created} == {
        ("endpoint", endpoint_id, "create", world.billing)
    }
    assert f.field_changes(created) == {
        "pattern": (None, ORDERS),
        "component": (None, "billing"),
        "notes": (None, "orders API"),
    }
    assert {e.actor_name for e in created} == {"owner"}

    with session_scope(engine) as s:
        svc.update_endpoint(
            s,
            actor=world["owner"],
            endpoint_id=endpoint_id,
            expected={"pattern": ORDERS, "component": "billing", "notes": "orders API"},
            changes={"pattern": "https://api.example.com/v3/orders*", "notes": None, "component": "billing"},
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "pattern": (ORDERS, "https://api.example.com/v3/orders*"),
        "notes": ("orders API", None),
    }
    before = f.change_set_count(engine)
    with session_scope(engine) as s:  # nothing changes: no change set
        svc.update_endpoint(s, actor=world["owner"], endpoint_id=endpoint_id, changes={"notes": "  "})
    assert f.change_set_count(engine) == before

    with session_scope(engine) as s:
        svc.delete_endpoint(
            s, actor=world["owner"], endpoint_id=endpoint_id, expected={"component": world.billing}
        )
    assert _endpoint(engine, endpoint_id) is None
    deleted = f.last_change_set_events(engine)
    assert {(e.action, e.component_id) for e in deleted} == {("delete", world.billing)}
    assert f.field_changes(deleted)["pattern"] == ("https://api.example.com/v3/orders*", None)
    # the read the UI uses no longer lists it
    with engine.connect() as conn:
        assert "https://api.example.com/v3/orders*" not in set(queries.list_endpoints(conn)["pattern"])


def test_a_move_needs_the_right_on_both_components_and_shows_in_both_histories(
    engine: sa.Engine, world: World
) -> None:
    endpoint_id = _make(engine, world)
    error = assert_refused(  # the owner of billing does not own ledger
        engine,
        lambda s: svc.update_endpoint(
            s, actor=world["owner"], endpoint_id=endpoint_id, changes={"component": "ledger"}
        ),
        PermissionDenied,
    )
    assert (error.field, error.value) == ("component_id", world.ledger)
    assert_refused(  # nor may the owner of ledger take it from billing
        engine,
        lambda s: svc.update_endpoint(
            s, actor=world["other_owner"], endpoint_id=endpoint_id, changes={"component": world.ledger}
        ),
        PermissionDenied,
    )
    with session_scope(engine) as s:
        svc.update_endpoint(
            s, actor=world["editor"], endpoint_id=endpoint_id, changes={"component": world.ledger}
        )
    row = _endpoint(engine, endpoint_id)
    assert row is not None and row.component_id == world.ledger
    moves = [(e.field, e.old_value, e.new_value, e.component_id) for e in f.last_change_set_events(engine)]
    assert sorted(moves, key=lambda m: m[3]) == sorted(
        [("component", "billing", "ledger", world.billing), ("component", "billing", "ledger", world.ledger)],
        key=lambda m: m[3],
    )


@pytest.mark.parametrize("role", ROLES)
def test_who_may_write_the_endpoints_of_a_component(engine: sa.Engine, world: World, role: str) -> None:
    endpoint_id = _make(engine, world)
    actor = world[role]
    calls = {
        "create": lambda s: svc.create_endpoint(
            s, actor=actor, component=world.billing, pattern="https://billing.example.com/*"
        ),
        "update": lambda s: svc.update_endpoint(
            s, actor=actor, endpoint_id=endpoint_id, changes={"notes": "n"}
        ),
        "delete": lambda s: svc.delete_endpoint(s, actor=actor, endpoint_id=endpoint_id),
    }
    for name, call in calls.items():
        if role in MAY_WRITE_BILLING:
            before = f.change_set_count(engine)
            with session_scope(engine) as s:
                call(s)
            assert f.change_set_count(engine) == before + 1, name
            assert {e.actor_name for e in f.last_change_set_events(engine)} == {role}
        else:
            error = assert_refused(engine, call, PermissionDenied)
            assert role in str(error), str(error)


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(engine: sa.Engine, world: World) -> None:
    endpoint_id = _make(engine, world)
    _make(engine, world, "https://ledger.example.com/*")

    def create(**kw: Any) -> Any:
        args: dict[str, Any] = {"component": world.billing, "pattern": "https://new.example.com/*"} | kw
        return lambda s: svc.create_endpoint(s, actor=world["owner"], **args)

    def update(changes: dict[str, Any], expected: dict[str, Any] | None = None) -> Any:
        return lambda s: svc.update_endpoint(
            s, actor=world["owner"], endpoint_id=endpoint_id, changes=changes, expected=expected
        )

    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (create(component="nowhere"), NotFound, "component", "nowhere"),
        (create(component=404), NotFound, "component", 404),
        (create(pattern="  "), InvalidValue, "pattern", None),
        (create(pattern=None), InvalidValue, "pattern", None),
        (create(pattern="https://a.example.com/ b"), InvalidValue, "pattern", "a.example.com"),
        (create(pattern="javascript:alert(1)"), InvalidValue, "pattern", "javascript"),
        (create(pattern="https://x.example.com/" + "a" * 2048), InvalidValue, "pattern", None),
        (create(pattern=ORDERS.upper()), DuplicateName, "pattern", "billing"),
        (create(notes=42), InvalidValue, "notes", 42),
        (update({"pattern": "HTTPS://LEDGER.example.com/*"}), DuplicateName, "pattern", "LEDGER"),
        (update({"pattern": ""}), InvalidValue, "pattern", None),
        (update({"component": "nowhere"}), NotFound, "component", "nowhere"),
        (update({"colour": "blue"}), InvalidValue, "colour", "blue"),
        (update({"notes": "x"}, {"colour": "blue"}), InvalidValue, "colour", "blue"),
        (
            lambda s: svc.update_endpoint(s, actor=world["owner"], endpoint_id=404, changes={}),
            NotFound,
            "endpoint_id",
            404,
        ),
        (
            lambda s: svc.delete_endpoint(s, actor=world["owner"], endpoint_id=404),
            NotFound,
            "endpoint_id",
            404,
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)


def test_a_write_based_on_an_outdated_read_is_stale(engine: sa.Engine, world: World) -> None:
    endpoint_id = _make(engine, world, notes="as read")
    read = {"pattern": ORDERS, "component": "billing", "notes": "as read"}
    with session_scope(engine) as s:  # someone else saves first
        svc.update_endpoint(s, actor=world["editor"], endpoint_id=endpoint_id, changes={"notes": "theirs"})
    for call in (
        lambda s: svc.update_endpoint(
            s, actor=world["owner"], endpoint_id=endpoint_id, changes={"notes": "mine"}, expected=read
        ),
        lambda s: svc.delete_endpoint(s, actor=world["owner"], endpoint_id=endpoint_id, expected=read),
    ):
        error = assert_refused(engine, call, StaleWrite, field="notes", value="as read")
        assert "theirs" in str(error) and "reload" in str(error)
    # the values as they are now pass (blank notes read as none)
    with session_scope(engine) as s:
        svc.update_endpoint(
            s,
            actor=world["owner"],
            endpoint_id=endpoint_id,
            changes={"notes": "mine"},
            expected={**read, "notes": "theirs", "component": world.billing},
        )
    row = _endpoint(engine, endpoint_id)
    assert row is not None and row.notes == "mine"


def test_calls_sharing_a_change_set_are_one_save(engine: sa.Engine, world: World) -> None:
    before = f.change_set_count(engine)
    with session_scope(engine) as s:
        change_set = svc.open_change_set(s, world["editor"], summary="endpoints")
        one = svc.create_endpoint(
            s,
            actor=world["editor"],
            component="billing",
            pattern="https://a.example.com/*",
            change_set=change_set,
        )
        svc.create_endpoint(
            s,
            actor=world["editor"],
            component="ledger",
            pattern="https://b.example.com/*",
            change_set=change_set,
        )
        svc.delete_endpoint(s, actor=world["editor"], endpoint_id=one.id, change_set=change_set)
    assert f.change_set_count(engine) == before + 1
    actions = [(e.action, e.component_id) for e in f.last_change_set_events(engine) if e.field is None]
    assert actions == [("create", world.billing), ("create", world.ledger), ("delete", world.billing)]


def test_preload_rows_loads_each_table_in_one_query(engine: sa.Engine, world: World) -> None:
    """What a grid save does before its calls: the services then find the rows without a query."""
    ids = [_make(engine, world, f"https://{n}.example.com/*") for n in range(3)]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with Session(engine) as s:
        s.connection()  # connect (and its pragmas) before counting
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            svc.preload_rows(s, {"endpoint": ids, "component": [world.billing, world.ledger]})
            assert len(statements) == 2
            assert all(s.get(Endpoint, i) is not None for i in ids)
            assert len(statements) == 2  # found in the session
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        with pytest.raises(NotFound, match="table"):
            svc.preload_rows(s, {"no_such_table": [1]})
