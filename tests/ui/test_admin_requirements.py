"""The admin grids for requirement sets and requirements, through app.py: saves (one transaction, one
change set), cells refused with row, column and reason, who gets the page, and stale rows."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.errors import PermissionDenied
from panopticum_data.queries.entities import list_groups
from panopticum_data.services import (
    SYSTEM,
    create_requirement,
    create_requirement_set,
    load_actor,
    set_requirement_position,
    set_requirement_sets,
    set_signer_groups,
    update_requirement,
    update_requirement_set,
)
from panopticum_ui import admin_requirements as admin
from panopticum_ui.style import md_text
from tests.ui.conftest import assert_clean, assert_refused, log_in, open_app, texts

PAGE = "views/admin_requirements.py"
SECURITY = "Security & Compliance"  # the demo's second set (row 2), signed by "Security experts"
TABLES = (
    "requirement_set",
    "signer_group",
    "requirement",
    "requirement_set_item",
    "change_set",
    "audit_event",
)


@pytest.fixture
def engine(demo_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(demo_url)
    yield eng
    eng.dispose()


def admin_page(url: str, monkeypatch: pytest.MonkeyPatch, user: str = "admin") -> AppTest:
    at = log_in(open_app(url, monkeypatch), user)
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def edit(at: AppTest, grid: int, *, edited: dict[int, dict[str, Any]] | None = None, added: Any = ()) -> str:
    """Seed the grid's editor (0: sets, 1: requirements) as a browser would; returns its key."""
    key = at.data_editor[grid].key
    assert key
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": list(added), "deleted_rows": []}
    return key


def save(at: AppTest, button: str) -> AppTest:
    at.button(key=button).click().run()
    assert_clean(at)
    return at


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: sorted((tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t}"))), key=repr)
            for t in TABLES
        }


def sets(engine: sa.Engine) -> pd.DataFrame:
    with read_connection(engine) as conn:
        return queries.list_requirement_sets(conn).set_index("name")


def requirements(engine: sa.Engine) -> pd.DataFrame:
    with read_connection(engine) as conn:
        return queries.list_requirements(conn)


def new_change_sets(engine: sa.Engine, after: int) -> dict[int, set[str]]:
    """Change sets newer than ``after`` -> the entities their events touch."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.id, e.entity FROM change_set c LEFT JOIN audit_event e ON e.change_set_id = c.id "
                "WHERE c.id > :after"
            ),
            {"after": after},
        ).all()
    out: dict[int, set[str]] = {}
    for ident, entity in rows:
        out.setdefault(int(ident), set()).add(entity)
    return out


def last_change_set(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM change_set")).scalar_one())


def test_admin_saves_sets_and_requirements_each_in_one_change_set(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    assert at.title[0].value == "Requirement sets"
    assert list(at.data_editor[0].value["name"]) == list(sets(engine).index)
    before = last_change_set(engine)
    edit(
        at,
        0,
        edited={1: {"validity_days": 30, "description": "Read the **policy** first."}},
        added=[
            {
                "name": "Privacy",
                "doc_link": "https://wiki.example/privacy",
                "signer_groups": ["QA team"],  # a group that signs no set yet
                "validity_days": 90,
            }
        ],
    )
    save(at, "save_sets")
    assert md_text("Saved the requirement sets: 1 changed, 1 added.") in texts(at)
    after = sets(engine)
    assert after.loc[SECURITY, "validity_days"] == 30
    assert after.loc[SECURITY, "description"] == "Read the **policy** first."
    assert after.loc[SECURITY, "signer_groups"] == ["Security experts"]
    assert after.loc["Privacy", "doc_link"] == "https://wiki.example/privacy"
    assert after.loc["Privacy", "signer_groups"] == ["QA team"]
    assert after.loc["Privacy", "validity_days"] == 90
    assert after.loc["Privacy", "position"] == after["position"].max()  # appended at the end
    changes = new_change_sets(engine, before)
    assert len(changes) == 1 and next(iter(changes.values())) >= {"requirement_set", "signer_group"}
    assert list(at.data_editor[0].value["name"])[-1] == "Privacy", "the grid shows the saved state"

    # the preview renders the chosen set's description; then its requirements grid
    at.selectbox(key="admin_set_picker").select(SECURITY).run()
    assert "Read the **policy** first." in texts(at)
    assert set(at.data_editor[1].value["title"]) == set(
        requirements(engine).query("set_name == @SECURITY")["title"]
    )
    before = last_change_set(engine)
    edit(
        at,
        1,
        edited={0: {"description": "Patched within a week.", "sets": [SECURITY, "Operational requirements"]}},
        added=[{"title": "Secrets in a vault", "description": "No secret in the repository."}],
    )
    save(at, "save_requirements")
    assert not at.error, [e.value for e in at.error]
    reqs = requirements(engine)
    new = reqs[reqs["title"] == "Secrets in a vault"]
    assert list(new["set_name"]) == [SECURITY], "a new row joins the chosen set"
    assert (
        new["requirement_position"].iloc[0]
        == reqs.query("set_name == @SECURITY")["requirement_position"].max()
    )
    first = at.data_editor[1].value["title"].iloc[0]
    assert set(reqs[reqs["title"] == first]["set_name"]) == {SECURITY, "Operational requirements"}
    assert set(reqs[reqs["title"] == first]["description"]) == {"Patched within a week."}
    changes = new_change_sets(engine, before)
    assert len(changes) == 1
    assert next(iter(changes.values())) == {"requirement", "requirement_set_item"}


def test_invalid_cells_are_named_and_nothing_is_written(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    before = snapshot(engine)
    key = edit(
        at,
        0,
        edited={
            0: {"description": "fine on its own"},
            1: {"doc_link": "javascript:alert(1)", "validity_days": -5},
            2: {"ui_slot": 1.5, "name": "security & compliance"},
        },
        added=[{"name": "", "doc_link": "ftp://files.example/x"}],
    )
    save(at, "save_sets")
    errors = "\n".join(str(e.value) for e in at.error)
    for row, name, column in [
        (2, SECURITY, "Documentation"),
        (2, SECURITY, "Validity (days)"),
        (3, "Operational requirements", "Place on component page"),
        (3, "Operational requirements", "Name"),
        (5, "new: no name", "Name"),
        (5, "new: no name", "Documentation"),
    ]:
        assert md_text(f"Row {row} ({name}), {column}:") in errors, (row, column)
    assert md_text("'security & compliance' is already in row 2") in errors
    assert "Architecture requirements" not in errors, "the valid row is not blamed"
    assert md_text("Nothing was saved") in errors
    assert snapshot(engine) == before
    assert at.data_editor[0].key == key, "the edits stay in the grid"
    assert at.session_state[key]["edited_rows"][1]["validity_days"] == -5

    # a cell only the data layer can judge (no such group): the transaction is rolled back
    edit(at, 0, edited={0: {"validity_days": 10}, 1: {"signer_groups": ["Security experts", "Nobody"]}})
    save(at, "save_sets")
    assert md_text(f"Row 2 ({SECURITY}), Signer groups:") in "\n".join(str(e.value) for e in at.error)
    assert snapshot(engine) == before

    # the requirements grid: a place is a whole number from 1, sets must exist
    edit(at, 1, edited={0: {"position": 0}, 1: {"sets": ["No such set"]}}, added=[{"title": "Domain model"}])
    save(at, "save_requirements")
    errors = "\n".join(str(e.value) for e in at.error)
    assert md_text("Row 1 (Conformance), Position in set:") in errors
    assert md_text("Row 2 (Domain model), Sets:") in errors
    assert md_text("Row 7 (new: Domain model), Title:") in errors
    assert snapshot(engine) == before


@pytest.mark.parametrize("user", ["owner", "viewer"])
def test_non_admins_get_no_page_and_the_services_refuse_them(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, user: str
) -> None:
    at = log_in(open_app(demo_url, monkeypatch), user)
    assert_refused(at, PAGE, "admins")
    before = snapshot(engine)
    set_id = int(sets(engine).loc[SECURITY, "set_id"])
    requirement_id = int(requirements(engine)["requirement_id"].iloc[0])
    calls = [
        (create_requirement_set, {"name": "Mine"}),
        (
            update_requirement_set,
            {"set_id": set_id, "expected_row_version": None, "changes": {"validity_days": 1}},
        ),
        (set_signer_groups, {"set_id": set_id, "groups": []}),
        (create_requirement, {"title": "Mine", "sets": [SECURITY]}),
        (
            update_requirement,
            {"requirement_id": requirement_id, "expected_row_version": None, "changes": {"title": "x"}},
        ),
        (set_requirement_sets, {"requirement_id": requirement_id, "sets": [SECURITY]}),
    ]
    for service, kwargs in calls:
        with pytest.raises(PermissionDenied), session_scope(engine) as session:
            service(session, actor=load_actor(session, user), **kwargs)
    assert snapshot(engine) == before


def test_a_stale_save_is_refused_naming_the_rows_and_keeps_the_edits(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    set_id = int(sets(engine).loc[SECURITY, "set_id"])
    with session_scope(engine) as session:  # someone else saves the row after the page loaded
        update_requirement_set(
            session, actor=SYSTEM, set_id=set_id, expected_row_version=None, changes={"description": "theirs"}
        )
    before = snapshot(engine)
    key = edit(at, 0, edited={0: {"position": 7}, 1: {"validity_days": 5}})
    save(at, "save_sets")
    errors = "\n".join(str(e.value) for e in at.error)
    assert md_text(f"row 2 ({SECURITY})") in errors and "Architecture" not in errors
    assert "nothing was saved" in errors
    assert snapshot(engine) == before, "not even the fresh row 1 was saved"
    assert at.data_editor[0].key == key
    assert at.session_state[key]["edited_rows"] == {0: {"position": 7}, 1: {"validity_days": 5}}
    assert "The registry changed since this grid was loaded." in texts(at)

    at.button(key="reload_sets").click().run()  # the way out: read afresh, then edit again
    assert at.data_editor[0].key != key
    assert list(at.data_editor[0].value["description"])[1] == "theirs"

    # a requirement's sets changed by someone else move its row version on: stale
    at.selectbox(key="admin_set_picker").select(SECURITY).run()
    first = requirements(engine).query("set_name == @SECURITY").iloc[0]
    with session_scope(engine) as session:
        set_requirement_sets(
            session,
            actor=SYSTEM,
            requirement_id=int(first["requirement_id"]),
            sets=[SECURITY, "Architecture requirements"],
        )
    before = snapshot(engine)
    edit(at, 1, edited={0: {"description": "mine"}})
    save(at, "save_requirements")
    assert md_text(f"row 1 ({first['title']})") in "\n".join(str(e.value) for e in at.error)
    assert snapshot(engine) == before


def one_set() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "set_id": [1],
            "name": ["A"],
            "position": [1],
            "description": [None],
            "doc_link": [None],
            "signer_groups": [["G"]],
            "ui_slot": [1],
            "validity_days": [None],
            "requirements": [0],
            "row_version": [3],
        }
    )


def test_plans_refuse_deletions_and_skip_blank_new_rows() -> None:
    frame = one_set()
    plan = admin.plan_sets(frame, {"edited_rows": {}, "added_rows": [{}], "deleted_rows": [0]})
    assert [str(e) for e in plan.errors] == ["Rows: 1 cannot be deleted: sets are not deleted here"]
    assert not plan.steps, "the blank new row is ignored"
    plan = admin.plan_sets(frame, {"edited_rows": {"0": {"signer_groups": ["g"], "validity_days": 7.0}}})
    assert not plan.errors
    assert [(s.service.__name__, dict(s.kwargs)) for s in plan.steps] == [
        ("update_requirement_set", {"set_id": 1, "expected_row_version": 3, "changes": {"validity_days": 7}})
    ], "the same groups in another case are no change"


def test_a_set_is_stale_when_its_row_changed_not_when_its_requirement_count_did() -> None:
    original, compare = one_set(), (*admin.SET_LABELS, "row_version")
    current = original.assign(requirements=[5])
    assert admin.stale_rows(original, current, key="set_id", ids=[1], compare=compare) == []
    current = current.assign(row_version=[4])
    assert admin.stale_rows(original, current, key="set_id", ids=[1], compare=compare) == ["row 1 (A)"]
    assert admin.stale_rows(original, current, key="set_id", ids=[], compare=compare) == []
    assert admin.stale_rows(original, current.iloc[:0], key="set_id", ids=[1], compare=compare) == [
        "row 1 (A)"
    ]


def security_order(engine: sa.Engine) -> list[tuple[str, int]]:
    """(title, stored position) of the Security set's requirements, in their order."""
    reqs = requirements(engine).query("set_name == @SECURITY")
    return list(zip(reqs["title"], (int(p) for p in reqs["requirement_position"]), strict=True))


def test_admin_moves_requirements_within_the_set_in_one_change_set(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    at.selectbox(key="admin_set_picker").select(SECURITY).run()
    grid = at.data_editor[1].value
    titles = list(grid["title"])
    assert len(titles) >= 4
    assert list(grid["position"]) == list(range(1, len(titles) + 1)), "places, 1..n"
    assert [t for t, _ in security_order(engine)] == titles
    before = last_change_set(engine)
    # the third goes first; the first, with a new description, goes last
    edit(at, 1, edited={2: {"position": 1}, 0: {"position": len(titles), "description": "Last now."}})
    save(at, "save_requirements")
    assert not at.error, [e.value for e in at.error]
    assert md_text(f"Saved the requirements of {SECURITY}: 2 changed, 0 added.") in texts(at)
    expected = [titles[2], titles[1], *titles[3:], titles[0]]
    assert security_order(engine) == [(t, i) for i, t in enumerate(expected, start=1)], "renumbered 1..n"
    assert set(requirements(engine).query("title == @titles[0]")["description"]) == {"Last now."}
    changes = new_change_sets(engine, before)
    assert len(changes) == 1 and next(iter(changes.values())) == {"requirement", "requirement_order"}
    assert list(at.data_editor[1].value["title"]) == expected, "the grid shows the saved order"
    assert list(at.data_editor[1].value["position"]) == list(range(1, len(titles) + 1))


def test_a_move_is_refused_when_the_set_was_reordered_meanwhile_other_edits_are_not(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    at.selectbox(key="admin_set_picker").select(SECURITY).run()
    set_id = int(sets(engine).loc[SECURITY, "set_id"])
    last = requirements(engine).query("set_name == @SECURITY").iloc[-1]

    def someone_moves_the_last_first() -> None:
        reqs = requirements(engine).query("set_name == @SECURITY")
        with session_scope(engine) as session:
            set_requirement_position(
                session,
                actor=SYSTEM,
                set_id=set_id,
                requirement_id=int(reqs["requirement_id"].iloc[-1]),
                position=1,
            )

    someone_moves_the_last_first()  # the first row's place changes, not the row itself
    edit(at, 1, edited={0: {"description": "Still mine."}})
    save(at, "save_requirements")
    assert not at.error, [e.value for e in at.error]
    assert security_order(engine)[0][0] == last["title"]

    someone_moves_the_last_first()
    before = snapshot(engine)
    key = edit(at, 1, edited={1: {"position": 3}})
    save(at, "save_requirements")
    errors = "\n".join(str(e.value) for e in at.error)
    assert md_text(f"the order of {SECURITY}") in errors and "nothing was saved" in errors
    assert snapshot(engine) == before
    assert at.session_state[key]["edited_rows"] == {1: {"position": 3}}, "the edit stays"


def test_signer_group_choices_are_every_group(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(demo_url, monkeypatch)
    columns = json.loads(at.data_editor[0].proto.columns)
    options = [o["value"] for o in columns["signer_groups"]["type_config"]["options"]]
    with read_connection(engine) as conn:
        groups = list_groups(conn)
    assert options == list(groups["name"])
    signing = {g for names in sets(engine)["signer_groups"] for g in names}
    assert {"QA team", "Administrators"} <= set(options) - signing, "groups that sign no set yet"


def apply(order: list[int], calls: list[tuple[int, int]]) -> list[int]:
    """What set_requirement_position does, on a list."""
    out = list(order)
    for ident, place in calls:
        out.remove(ident)
        out.insert(place - 1, ident)
    return out


@pytest.mark.parametrize(
    ("places", "final"),
    [
        ({1: 4}, [2, 3, 4, 1]),  # down
        ({4: 1}, [4, 1, 2, 3]),  # up
        ({1: 2, 2: 1}, [2, 1, 3, 4]),  # a swap
        ({3: 2, 1: 3}, [2, 3, 1, 4]),  # a naive "each to its place, in order of place" gets this wrong
        ({2: 99}, [1, 3, 4, 2]),  # past the end: at the end
        ({3: 1, 4: 1}, [3, 4, 1, 2]),  # one place twice: in their order
        ({2: 2}, [1, 2, 3, 4]),  # already there
    ],
)
def test_moves_reach_the_places_moving_only_the_edited_rows(places: dict[int, int], final: list[int]) -> None:
    calls = admin.moves([1, 2, 3, 4], places)
    assert apply([1, 2, 3, 4], calls) == final
    assert {i for i, _ in calls} <= set(places) and len(calls) == len({i for i, _ in calls})


def test_moves_put_each_edited_row_at_its_distinct_place_on_random_orders() -> None:
    rng = random.Random(7)
    for _ in range(500):
        order = rng.sample(range(100), rng.randint(1, 9))
        moved = rng.sample(order, rng.randint(0, len(order)))
        places = dict(zip(moved, rng.sample(range(1, len(order) + 1), len(moved)), strict=True))
        calls = admin.moves(order, places)
        final = apply(order, calls)
        assert all(final.index(i) + 1 == place for i, place in places.items()), (order, places)
        assert [i for i in final if i not in places] == [i for i in order if i not in places]
        assert {i for i, _ in calls} <= set(places) and len(calls) == len({i for i, _ in calls})


def test_the_first_call_of_a_row_carries_its_row_version() -> None:
    frame = pd.DataFrame(
        {
            "requirement_id": pd.array([10, 11, 12, 13], dtype="Int64"),
            "title": ["A", "B", "C", "D"],
            "description": [None, None, None, None],
            "position": pd.array([1, 2, 3, 4], dtype="Int64"),
            "sets": [["S"], ["S"], ["S", "T"], ["S"]],
            "row_version": pd.array([4, 5, 6, 7], dtype="Int64"),
        }
    )
    state = {
        "edited_rows": {"0": {"description": "x", "position": 3}, "1": {"position": 1}, "2": {"sets": ["T"]}}
    }
    plan = admin.plan_requirements(frame, state, set_id=1, set_name="S", set_names=["S", "T"], titles={})
    assert not plan.errors and plan.moves
    assert [
        (s.service.__name__, s.kwargs.get("requirement_id"), s.kwargs.get("expected_row_version"))
        for s in plan.steps
    ] == [
        ("update_requirement", 10, 4),
        ("set_requirement_sets", 12, 6),
        ("set_requirement_position", 11, 5),  # C leaves S: B first, D, then A
        ("set_requirement_position", 10, None),  # A's update checked it already
    ]
    assert [s.kwargs["position"] for s in plan.steps[2:]] == [1, 3]
    state = {"edited_rows": {"2": {"sets": ["T"], "position": 1}, "0": {"position": "first"}}}
    plan = admin.plan_requirements(frame, state, set_id=1, set_name="S", set_names=["S", "T"], titles={})
    assert [str(e) for e in plan.errors] == [
        "Row 1 (A), Position in set: must be a whole number, 1 or more (a place past the last: at the end)",
        "Row 3 (C), Position in set: cannot be changed for a requirement taken out of this set",
    ]

    sets_state = {"edited_rows": {"0": {"signer_groups": ["H"]}}}
    (step,) = admin.plan_sets(one_set(), sets_state).steps
    assert (step.service.__name__, step.kwargs["expected_row_version"]) == ("set_signer_groups", 3)
    sets_state = {"edited_rows": {"0": {"signer_groups": ["H"], "validity_days": 5}}}
    assert [s.kwargs["expected_row_version"] for s in admin.plan_sets(one_set(), sets_state).steps] == [
        3,
        None,
    ]
