"""The Reference data page through app.py: add + rename + delete in one change set, deleting a row
in use refused with the service's reason, duplicate names refused per cell, merge (references move,
audited), who gets the page, and stale rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.errors import PermissionDenied, StaleWrite
from panopticum_data.services import (
    SYSTEM,
    create_reference,
    delete_reference,
    load_actor,
    merge_reference,
    open_change_set,
    rename_reference,
    update_reference,
)
from panopticum_ui import reference as ref
from panopticum_ui.style import md_text
from tests.ui.conftest import assert_clean, assert_refused, log_in, open_app, texts

PAGE = "views/reference.py"


@pytest.fixture
def engine(demo_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(demo_url)
    yield eng
    eng.dispose()


def reference_page(url: str, monkeypatch: pytest.MonkeyPatch, table: str) -> AppTest:
    at = log_in(open_app(url, monkeypatch), "admin")
    at.query_params["table"] = table
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.title[0].value == "Reference data"
    return at


def edit(
    at: AppTest,
    *,
    edited: dict[int, dict[str, Any]] | None = None,
    added: Any = (),
    deleted: Any = (),
) -> str:
    """Seed the grid's editor as a browser would; returns its key."""
    key = at.data_editor[0].key
    assert key
    at.session_state[key] = {
        "edited_rows": edited or {},
        "added_rows": list(added),
        "deleted_rows": list(deleted),
    }
    return key


def save(at: AppTest) -> AppTest:
    at.button(key="save_reference").click().run()
    assert_clean(at)
    return at


def rows(engine: sa.Engine, table: str) -> pd.DataFrame:
    with read_connection(engine) as conn:
        return queries.list_reference(conn, table)


def snapshot(engine: sa.Engine, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: sorted((tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t}"))), key=repr)
            for t in (*tables, "change_set", "audit_event")
        }


def last_change_set(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM change_set")).scalar_one())


def events_after(engine: sa.Engine, after: int) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT change_set_id, entity, entity_id, action, field, old_value, new_value "
                    "FROM audit_event WHERE change_set_id > :after"
                ),
                {"after": after},
            ).all(),
            columns=["change_set_id", "entity", "entity_id", "action", "field", "old_value", "new_value"],
        )


def position(at: AppTest, name: str) -> int:
    return list(at.data_editor[0].value["name"]).index(name)


def errors(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.error)


def test_add_rename_and_delete_in_one_save_is_one_change_set(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = reference_page(demo_url, monkeypatch, "subcategory")
    grid = at.data_editor[0].value
    assert list(grid.columns) == ["id", "name", "description", "category", "used_by"]
    data = rows(engine, "subcategory").set_index("name")
    assert dict(zip(grid["name"], grid["used_by"], strict=True)) == data["used_by"].to_dict()
    with session_scope(engine) as session:  # an unused row to delete
        create_reference(session, actor=SYSTEM, table="subcategory", name="Spare", category="Commerce")
    at.run()  # no edits pending: the grid reads the registry afresh
    grid = at.data_editor[0].value
    renamed = grid["name"][grid["used_by"] > 0].iloc[0]
    before = last_change_set(engine)
    edit(
        at,
        edited={position(at, renamed): {"name": "Renamed sub", "description": "Now described"}},
        added=[{"name": "Brand new", "category": "Commerce", "description": "Fresh"}],
        deleted=[position(at, "Spare")],
    )
    save(at)
    assert not at.error, errors(at)
    assert "1 added, 1 changed, 1 deleted" in texts(at)
    after = rows(engine, "subcategory").set_index("name")
    assert "Spare" not in after.index and renamed not in after.index
    assert after.loc["Renamed sub", "description"] == "Now described"
    assert after.loc["Renamed sub", "used_by"] == data.loc[renamed, "used_by"], "its references stay"
    commerce = int(rows(engine, "category").set_index("name").loc["Commerce", "id"])
    assert after.loc["Brand new", "category_id"] == commerce
    events = events_after(engine, before)
    assert events["change_set_id"].nunique() == 1, "one change set for the whole save"
    assert last_change_set(engine) == before + 1
    assert set(events["action"]) == {"create", "update", "delete"}
    assert set(events["entity"]) == {"subcategory"}
    update = events[events["action"] == "update"].set_index("field")
    assert update.loc["name", "old_value"] == renamed and update.loc["name", "new_value"] == "Renamed sub"
    assert set(events[events["action"] == "create"]["new_value"]) >= {"Brand new", "Commerce", "Fresh"}
    assert "Spare" in set(events[events["action"] == "delete"]["old_value"])
    assert "Renamed sub" in list(at.data_editor[0].value["name"]), "the grid shows the saved state"


def test_deleting_a_used_row_is_refused_with_the_reason_and_nothing_is_written(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = reference_page(demo_url, monkeypatch, "category")
    grid = at.data_editor[0].value
    used = grid[grid["used_by"] > 0]["name"].iloc[:2].tolist()
    before = snapshot(engine, "category", "subcategory", "component")
    key = edit(
        at,
        edited={position(at, used[0]): {"description": "changed too"}},
        added=[{"name": "Would be new"}],
        deleted=[position(at, n) for n in used],
    )
    save(at)
    message = errors(at)
    assert md_text("Nothing was saved") in message
    for name in used:
        row = position(at, name) + 1
        assert md_text(f"Row {row} ({name}), Delete: category: '{name}' is still used by") in message
    assert md_text("component.category_id (") in message, "the service's reason: which table, how many"
    assert "merge it into another row instead" in message
    assert snapshot(engine, "category", "subcategory", "component") == before
    assert at.data_editor[0].key == key, "the edits stay in the grid"
    assert at.session_state[key]["deleted_rows"] == [position(at, n) for n in used]


def test_duplicate_and_bad_cells_are_refused_per_cell(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = reference_page(demo_url, monkeypatch, "tcp_port")
    names = list(at.data_editor[0].value["name"])
    before = snapshot(engine, "tcp_port")
    edit(
        at,
        edited={0: {"name": names[1].upper()}, 2: {"port": 70000}, 3: {"name": "  "}},
        added=[{"name": names[4].lower(), "port": 1234}, {"name": "No port"}],
    )
    save(at)
    message = errors(at)
    assert md_text(f"Row 1 ({names[0]}), Name: '{names[1].upper()}' is already in") not in message
    assert md_text(f"Row 2 ({names[1]}), Name: '{names[1]}' is already in row 1") in message
    assert md_text(f"Row 3 ({names[2]}), Port: 70000 is not a port") in message
    assert md_text(f"Row 4 ({names[3]}), Name: is empty") in message
    new = len(names) + 1
    assert md_text(f"Row {new} (new: {names[4].lower()}), Name: '{names[4].lower()}' is already") in message
    assert md_text(f"Row {new + 1} (new: No port), Port: is empty") in message
    assert snapshot(engine, "tcp_port") == before

    # a name taken by another row only in another case: refused per cell on a table of its own
    at.selectbox(key="reference_table").select("vendor").run()
    assert at.query_params["table"] == "vendor"
    vendors = list(at.data_editor[0].value["name"])
    before = snapshot(engine, "vendor")
    edit(at, added=[{"name": vendors[0].swapcase()}])
    save(at)
    assert md_text(f"Row {len(vendors) + 1} (new: {vendors[0].swapcase()}), Name:") in errors(at)
    assert snapshot(engine, "vendor") == before


def test_merge_moves_the_references_and_is_audited(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    components = queries.list_components
    with read_connection(engine) as conn:
        comps = components(conn)
    categories = rows(engine, "category").set_index("name")
    source, target = "Commerce", "Customer engagement"
    assert categories.loc[source, "used_by"] > 0 and target in categories.index
    moving = comps[comps["category"] == source]
    assert len(moving) > 0
    at = reference_page(demo_url, monkeypatch, "category")
    at.selectbox(key="merge_source_category").select(source).run()
    at.selectbox(key="merge_target_category").select(target).run()
    before = last_change_set(engine)
    at.button(key="merge_open").click().run()
    assert_clean(at)
    shown = texts(at)
    assert f"Merge **{md_text(source)}** into **{md_text(target)}**" in shown
    usage = next(d.value for d in at.dataframe if "Table" in d.value.columns).set_index("Table")
    assert usage.loc["component", "Rows"] == len(moving)
    assert last_change_set(engine) == before, "nothing happens before the confirmation"

    at.button(key="merge_confirm").click().run()
    assert_clean(at)
    with read_connection(engine) as conn:
        after = components(conn).set_index("component_id")
    assert set(after.loc[list(moving["component_id"]), "category"]) == {target}
    assert source not in set(rows(engine, "category")["name"])
    events = events_after(engine, before)
    assert events["change_set_id"].nunique() == 1
    moved = events[(events["entity"] == "component") & (events["field"] == "category")]
    assert set(moved["entity_id"]) == set(moving["component_id"])
    assert set(zip(moved["old_value"], moved["new_value"], strict=True)) == {(source, target)}
    assert {("category", "merge"), ("category", "delete")} <= set(
        zip(events["entity"], events["action"], strict=True)
    )
    message = "\n".join(str(s.value) for s in at.success)
    assert (
        md_text(f"Merged {source} into {target} (change set {before + 1}, {len(events)} audit events)")
        in message
    )
    assert md_text(f"{len(moving)} component rows") in message
    assert source not in list(at.data_editor[0].value["name"]), "the grid reloaded"
    assert not [b for b in at.button if b.key == "merge_confirm"], "the dialog closed"


def test_a_refused_merge_says_why(demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    subs = rows(engine, "subcategory")
    first = subs.iloc[0]
    other = subs[subs["category_id"] != first["category_id"]].iloc[0]
    at = reference_page(demo_url, monkeypatch, "subcategory")
    at.selectbox(key="merge_source_subcategory").select(first["name"]).run()
    at.selectbox(key="merge_target_subcategory").select(other["name"]).run()
    before = snapshot(engine, "subcategory", "component")
    at.button(key="merge_open").click().run()
    at.button(key="merge_confirm").click().run()
    assert_clean(at)
    assert "only subcategories of the same category can be merged" in errors(at)
    assert snapshot(engine, "subcategory", "component") == before


@pytest.mark.parametrize("user", ["owner", "viewer"])
def test_non_admins_get_no_page_and_the_services_refuse_them(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, user: str
) -> None:
    at = log_in(open_app(demo_url, monkeypatch), user)
    assert_refused(at, PAGE, "admins")
    before = snapshot(engine, "category", "component")
    names = list(rows(engine, "category")["name"])
    calls: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (create_reference, {"table": "category", "name": "Mine"}),
        (update_reference, {"table": "category", "name": names[0], "changes": {"description": "x"}}),
        (rename_reference, {"table": "category", "name": names[0], "new_name": "Mine"}),
        (delete_reference, {"table": "category", "name": names[0]}),
        (merge_reference, {"table": "category", "source": names[0], "target": names[1]}),
    ]
    for service, kwargs in calls:
        with pytest.raises(PermissionDenied), session_scope(engine) as session:
            service(session, actor=load_actor(session, user), **kwargs)
    assert snapshot(engine, "category", "component") == before


def test_a_stale_save_is_refused_naming_the_rows_and_keeps_the_edits(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = reference_page(demo_url, monkeypatch, "product_version")
    grid = at.data_editor[0].value
    assert {"family", "shortname", "position"} <= set(grid.columns)
    theirs, mine = str(grid["name"].iloc[1]), str(grid["name"].iloc[0])
    with session_scope(engine) as session:  # someone else changes row 2 after the page loaded
        update_reference(
            session, actor=SYSTEM, table="product_version", name=theirs, changes={"shortname": "x"}
        )
    before = snapshot(engine, "product_version")
    key = edit(at, edited={0: {"position": 9}, 1: {"position": 7}})
    save(at)
    message = errors(at)
    assert md_text(f"row 2 ({theirs})") in message and md_text(f"row 1 ({mine})") not in message
    assert "Nothing was written" in message
    assert snapshot(engine, "product_version") == before, "not even the fresh row 1 was saved"
    assert at.data_editor[0].key == key
    assert at.session_state[key]["edited_rows"] == {0: {"position": 9}, 1: {"position": 7}}
    assert "The registry changed since this grid was loaded." in texts(at)

    at.button(key="reference_reload").click().run()  # reload and keep my edits
    assert_clean(at)
    assert at.data_editor[0].key != key
    shown = at.data_editor[0].value
    assert shown["shortname"].iloc[1] == "x", "their change is shown"
    assert list(shown["position"].iloc[:2]) == [9, 7], "my typed values are back on top"
    save(at)
    assert not at.error, errors(at)
    after = rows(engine, "product_version").set_index("name")
    assert (after.loc[mine, "position"], after.loc[theirs, "position"]) == (9, 7)
    assert after.loc[theirs, "shortname"] == "x", "no update lost"


def test_the_table_is_bound_to_the_url(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = reference_page(demo_url, monkeypatch, "planet")
    assert "No reference table planet." in texts(at)
    assert at.selectbox(key="reference_table").value == ref.TABLES[0]
    assert at.query_params["table"] == ref.TABLES[0]
    at.query_params["table"] = "data_center"
    at.run()
    assert at.selectbox(key="reference_table").value == "data_center"
    assert {"info", "grafana_url", "metrics_url"} <= set(at.data_editor[0].value.columns)


def test_plan_skips_blank_rows_and_edits_of_deleted_rows() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.array([1, 2], dtype="Int64"),
            "name": ["A", "B"],
            "used_by": pd.array([0, 3], dtype="Int64"),
        }
    )
    state = {"edited_rows": {"0": {"name": "Z"}, "1": {"name": "b"}}, "added_rows": [{}], "deleted_rows": [0]}
    p = ref.plan("vendor", frame, frame, state, {})
    assert not p.errors
    assert [(s.service.__name__, dict(s.kwargs)) for s in p.steps] == [
        ("delete_reference", {"table": "vendor", "name": "A"}),
        ("update_reference", {"table": "vendor", "name": "B", "changes": {"name": "b"}}),
    ]
    assert p.counts() == "0 added, 1 changed, 1 deleted" and set(p.touched) == {1, 2}


def test_an_edit_below_a_deleted_row_is_saved_with_the_deletion(
    demo_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as session:  # an unused row to delete, shown above others
        create_reference(session, actor=SYSTEM, table="subcategory", name="Aaa spare", category="Commerce")
    at = reference_page(demo_url, monkeypatch, "subcategory")
    names = list(at.data_editor[0].value["name"])
    gone = names.index("Aaa spare")
    assert gone + 1 < len(names), "a row below the deleted one"
    below = names[gone + 1]
    before = last_change_set(engine)
    edit(at, edited={gone + 1: {"description": "edited below a deletion"}}, deleted=[gone])
    save(at)
    assert not at.error, errors(at)
    assert "0 added, 1 changed, 1 deleted" in texts(at)
    after = rows(engine, "subcategory").set_index("name")
    assert "Aaa spare" not in after.index
    assert after.loc[below, "description"] == "edited below a deletion", "the edit was not lost"
    events = events_after(engine, before)
    assert events["change_set_id"].nunique() == 1
    assert set(events["action"]) == {"update", "delete"}


def test_plan_keeps_an_edit_below_a_deleted_row() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "name": ["A", "B", "C"],
            "used_by": pd.array([0, 0, 0], dtype="Int64"),
        }
    )
    state = {"edited_rows": {2: {"name": "c2"}}, "added_rows": [], "deleted_rows": [0]}
    p = ref.plan("vendor", frame, frame, state, {})
    assert not p.errors
    assert [(s.service.__name__, dict(s.kwargs)) for s in p.steps] == [
        ("delete_reference", {"table": "vendor", "name": "A"}),
        ("update_reference", {"table": "vendor", "name": "C", "changes": {"name": "c2"}}),
    ]


def test_every_reference_table_can_be_read_locked(engine: sa.Engine) -> None:
    """The save's stale check reads the table with its rows locked (FOR UPDATE OF the table, next to
    the grouped usage counts): the same rows as the plain read, on both backends."""
    with session_scope(engine) as session:
        conn = session.connection()
        for table in ref.TABLES:
            locked = ref.read_rows(conn, table, for_update=True).frame
            pd.testing.assert_frame_equal(locked, ref.read_rows(conn, table).frame)


@pytest.mark.parametrize("demo_url", ["postgres"], indirect=True)  # about PostgreSQL's row locks
def test_two_concurrent_saves_of_a_reference_row_one_wins_nothing_is_lost(engine: sa.Engine) -> None:
    """Both saves read the table before either writes (READ COMMITTED): the stale check locks the rows
    first, so the second waits for the first, then finds its value and is refused."""
    table = "subcategory"
    with read_connection(engine) as conn:
        base = ref.read_rows(conn, table).frame
    name = str(base["name"].iloc[0])
    plans = {
        who: ref.plan(table, base, base, {"edited_rows": {0: {"description": f"typed by {who}"}}}, {})
        for who in ("first", "second")
    }
    assert all(p.steps and not p.errors for p in plans.values())
    barrier = threading.Barrier(2)
    outcome: dict[str, BaseException | None] = {}

    def save(who: str) -> None:
        try:
            with session_scope(engine) as session:
                actor = load_actor(session, "admin")
                change_set = open_change_set(session, actor, summary=f"reference save {who}")
                barrier.wait(timeout=10)
                ref._run(session, actor, change_set, plans[who], table)
            outcome[who] = None
        except BaseException as error:
            outcome[who] = error

    threads = [threading.Thread(target=save, args=(who,)) for who in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [who for who, error in outcome.items() if error is None]
    assert len(winners) == 1, outcome
    assert all(isinstance(e, StaleWrite) for e in outcome.values() if e is not None), outcome
    after = rows(engine, table).set_index("name")
    assert after.loc[name, "description"] == f"typed by {winners[0]}"
