"""Two people save the same grid rows at the same time, each in their own session and thread: exactly
one save commits, the other is refused as stale (nothing of it written), and the winner's values
are what the registry holds — no update is lost. Run on PostgreSQL (row locks, READ COMMITTED) and
on SQLite (one writer at a time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.errors import StaleWrite
from panopticum_data.services import (
    Actor,
    add_user,
    create_endpoint,
    load_actor,
    open_change_set,
    register_component,
)
from panopticum_ui import edit as model
from panopticum_ui import grids

ROWS = 5


@pytest.fixture
def registry(engine: sa.Engine) -> Iterator[sa.Engine]:
    """Two editors and a few components."""
    admin = Actor(person_id=None, username="system", access_role="admin")
    with session_scope(engine) as session:
        for name in ("alice", "bob"):
            add_user(session, actor=admin, username=name, password=f"{name}-password-1", access_role="editor")
        for i in range(ROWS):
            register_component(session, actor=admin, name=f"Component {i}", description="as loaded")
    yield engine


def _plan(engine: sa.Engine, username: str, description: str) -> tuple[grids.Plan, pd.DataFrame]:
    """The person's components grid, read now, with every row's description changed."""
    with read_connection(engine) as conn:
        ids = [int(i) for i in queries.list_components(conn)["component_id"]]
        ctx = model.read_context(conn, username=username, component_ids=ids)
        base = model.load(conn, "components", ids)
    state = {"edited_rows": {i: {"description": description} for i in range(len(base))}}
    return model.plan("components", base, base, state, ctx), base


def _race(engine: sa.Engine) -> dict[str, BaseException | None]:
    return _run_race(engine, {who: _plan(engine, who, f"typed by {who}")[0] for who in ("alice", "bob")})


def _run_race(engine: sa.Engine, plans: dict[str, grids.Plan]) -> dict[str, BaseException | None]:
    """Each person's plan saved in their own thread and transaction, at the same time."""
    barrier = threading.Barrier(2)
    outcome: dict[str, BaseException | None] = {}
    # PostgreSQL: both transactions are open and have written their change set before either
    # touches the rows. SQLite queues writers (BEGIN IMMEDIATE): they meet before their transactions.
    inside = engine.dialect.name == "postgresql"

    def save(who: str) -> None:
        try:
            if not inside:
                barrier.wait(timeout=10)
            with session_scope(engine) as session:
                actor = load_actor(session, who)
                change_set = open_change_set(session, actor, summary=f"grid save by {who}")
                if inside:
                    barrier.wait(timeout=10)
                grids.run(session, actor, change_set, plans[who])
            outcome[who] = None
        except BaseException as error:
            outcome[who] = error

    threads = [threading.Thread(target=save, args=(who,)) for who in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcome


def test_two_concurrent_saves_of_the_same_rows_one_wins_nothing_is_lost(registry: sa.Engine) -> None:
    with read_connection(registry) as conn:
        sets_before = queries.data_version(conn)
    outcome = _race(registry)
    assert set(outcome) == {"alice", "bob"}
    winners = [who for who, error in outcome.items() if error is None]
    losers = {who: error for who, error in outcome.items() if error is not None}
    assert len(winners) == 1, outcome
    ((loser, error),) = losers.items()
    assert isinstance(error, StaleWrite), repr(error)
    with read_connection(registry) as conn:
        rows = queries.list_components(conn)
        trail = queries.list_audit(conn, entity="component")
        sets_after = queries.data_version(conn)
    # the winner's values, on every row; the loser wrote nothing (not even its change set)
    assert set(rows["description"]) == {f"typed by {winners[0]}"}
    assert sets_after > sets_before
    saved = trail[trail["change_set_id"] > sets_before]
    described = saved[saved["field"] == "description"]
    assert len(described) == ROWS and set(described["actor"]) == {winners[0]}
    assert saved["change_set_id"].nunique() == 1  # one save, one change set
    assert not (saved["actor"] == loser).any()


def test_the_loser_sees_the_pages_conflict_message_naming_the_rows(registry: sa.Engine) -> None:
    """The loser's grid, saved again after the winner committed: refused, each row named."""
    plan, base = _plan(registry, "bob", "typed by bob")
    winner, _ = _plan(registry, "alice", "typed by alice")
    model.execute(registry, "alice", winner, "components")
    with pytest.raises(grids.StaleRows) as refused:
        model.execute(registry, "bob", plan, "components")
    message = str(refused.value)
    assert "someone else changed" in message
    for pos, name in enumerate(base["name"], start=1):
        assert f"row {pos} ({name})" in message
    with read_connection(registry) as conn:
        assert set(queries.list_components(conn)["description"]) == {"typed by alice"}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # about PostgreSQL's row locks
def test_two_engines_race_on_postgresql_only_one_commits(db_url: str) -> None:
    """Separate engines (as two app processes would have) on the same rows."""
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        admin = Actor(person_id=None, username="system", access_role="admin")
        with session_scope(first) as session:
            for name in ("alice", "bob"):
                add_user(
                    session, actor=admin, username=name, password=f"{name}-password-1", access_role="editor"
                )
            register_component(session, actor=admin, name="Shared", description="as loaded")
        plan_a, _ = _plan(first, "alice", "typed by alice")
        plan_b, _ = _plan(second, "bob", "typed by bob")
        results: dict[str, BaseException | None] = {}
        barrier = threading.Barrier(2)

        def save(engine: sa.Engine, who: str, plan: grids.Plan) -> None:
            try:
                with session_scope(engine) as session:
                    actor = load_actor(session, who)
                    change_set = open_change_set(session, actor, summary="race")
                    barrier.wait(timeout=10)
                    grids.run(session, actor, change_set, plan)
                results[who] = None
            except BaseException as error:
                results[who] = error

        threads = [
            threading.Thread(target=save, args=(first, "alice", plan_a)),
            threading.Thread(target=save, args=(second, "bob", plan_b)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(e is None for e in results.values()) == [False, True], results
        winner = next(w for w, e in results.items() if e is None)
        assert all(isinstance(e, StaleWrite) for e in results.values() if e is not None)
        with read_connection(first) as conn:
            assert set(queries.list_components(conn)["description"]) == {f"typed by {winner}"}
    finally:
        first.dispose()
        second.dispose()


def _endpoint_plan(engine: sa.Engine, username: str, notes: str) -> grids.Plan:
    """The person's endpoints grid, read now, with every row's notes changed."""
    with read_connection(engine) as conn:
        ids = [int(i) for i in queries.list_components(conn)["component_id"]]
        ctx = model.read_context(conn, username=username, component_ids=ids)
        base = model.load(conn, "endpoints", ids)
    state = {"edited_rows": {i: {"notes": notes} for i in range(len(base))}}
    return model.plan("endpoints", base, base, state, ctx)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # about PostgreSQL's row locks
def test_two_concurrent_endpoint_saves_one_wins_nothing_is_lost(registry: sa.Engine) -> None:
    """Endpoints have no row_version: the services compare the values read, on the row locked first,
    so the second save waits for the first and then finds its values (READ COMMITTED)."""
    admin = Actor(person_id=None, username="system", access_role="admin")
    with session_scope(registry) as session:
        for i in range(ROWS):
            create_endpoint(
                session, actor=admin, component=f"Component {i}", pattern=f"https://c{i}.example.com/*"
            )
    with read_connection(registry) as conn:
        sets_before = queries.data_version(conn)
    outcome = _run_race(
        registry, {who: _endpoint_plan(registry, who, f"typed by {who}") for who in ("alice", "bob")}
    )
    winners = [who for who, error in outcome.items() if error is None]
    assert len(winners) == 1, outcome
    ((loser, error),) = ((w, e) for w, e in outcome.items() if e is not None)
    assert isinstance(error, StaleWrite), repr(error)
    with read_connection(registry) as conn:
        endpoints = queries.list_endpoints(conn)
        trail = queries.list_audit(conn, entity="endpoint")
    assert len(endpoints) == ROWS and set(endpoints["notes"]) == {f"typed by {winners[0]}"}
    saved = trail[trail["change_set_id"] > sets_before]
    assert len(saved) == ROWS and set(saved["actor"]) == {winners[0]}
    assert not (saved["actor"] == loser).any()
