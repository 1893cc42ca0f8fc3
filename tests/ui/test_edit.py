"""The Edit page through app.py: edits saved through the grids land in the registry and in the audit
trail as one change set; every refusal (an invalid cell, a stale row, no permission, a reference in
use) names the row and writes nothing; a stale save keeps what was typed for after a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.errors import PermissionDenied
from panopticum_data.services import (
    SYSTEM,
    ConcurrentWrite,
    add_dependency,
    register_component,
    update_component,
    update_endpoint,
)
from panopticum_data.services.endpoints import StaleEndpoint
from panopticum_ui import edit as model
from panopticum_ui import grids
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/edit.py"
PAYMENT = "Payment Service"  # owned by the login "owner"
CHECKOUT = "Checkout Service"


def page(url: str, monkeypatch: pytest.MonkeyPatch, user: str, **query: str) -> AppTest:
    """The page after logging in, with ``grid`` chosen and ``q`` typed (AppTest's switch_page drops
    the query string, so the URL-bound widgets are set as a person would)."""
    at = log_in(open_app(url, monkeypatch), user)
    at.switch_page(PAGE).run()
    if "grid" in query:
        at.button_group(key="grid").set_value(query["grid"]).run()
    if "q" in query:
        at.text_input(key="q").input(query["q"]).run()
    assert_clean(at)
    return at


def read(url: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return fn(conn, *args, **kwargs)
    finally:
        engine.dispose()


def component(url: str, name: str) -> pd.Series:
    df = read(url, queries.list_components)
    return df[df["name"] == name].iloc[0]


def edit(
    at: AppTest,
    edited: dict[int, dict[str, Any]],
    added: list[Any] | None = None,
    deleted: list[int] | None = None,
) -> AppTest:
    editor = at.data_editor[0]
    at.session_state[editor.key] = {  # type: ignore[index]
        "edited_rows": edited,
        "added_rows": added or [],
        "deleted_rows": deleted or [],
    }
    at.button(key="save_grid").click().run()
    assert_clean(at)
    return at


def row_of(at: AppTest, column: str, value: str) -> int:
    return list(at.data_editor[0].value[column]).index(value)


def change_sets(url: str) -> int:
    return int(read(url, queries.data_version))


def test_edit_saves_one_change_set_that_the_history_shows(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", q="pay")
    i = row_of(at, "name", PAYMENT)
    before = change_sets(demo_url)
    at = edit(
        at, {i: {"description": "Takes the money.", "life_status": "legacy", "tags": ["payments", "pci"]}}
    )
    assert at.success, texts(at)
    assert "1 changed, 0 added, 0 deleted" in at.success[0].value
    row = component(demo_url, PAYMENT)
    assert (row["description"], row["life_status"]) == ("Takes the money.", "legacy")
    assert sorted(row["tags"]) == ["payments", "pci"]
    # the audit trail: one new change set holding every field of the save, by the admin
    assert change_sets(demo_url) == before + 1
    trail = read(demo_url, queries.list_audit, change_set_id=before + 1)
    assert set(trail["actor"]) == {"admin"}
    fields = {(e, f): n for e, f, n in trail[["entity", "field", "new_value"]].itertuples(index=False)}
    assert "Takes the money." in str(fields[("component", "description")])
    assert "legacy" in str(fields[("component", "life_status")])
    assert ("component_tag", "tags") in fields
    # the grid shows the saved values after the save (a fresh snapshot)
    grid = at.data_editor[0].value
    assert grid["description"].iloc[row_of(at, "name", PAYMENT)] == "Takes the money."


def test_invalid_cells_are_named_and_nothing_is_saved(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "admin", q="pay")
    i = row_of(at, "name", PAYMENT)
    before = change_sets(demo_url)
    at = edit(
        at,
        {i: {"life_status": "bogus", "description": "fine"}},
        added=[{"name": CHECKOUT, "life_status": "new"}],
    )
    message = at.error[0].value.replace("\\:", ":")
    assert "Nothing was saved" in message
    assert f"Row {i + 1} ({PAYMENT}), Life status: 'bogus' is not one of the choices" in message
    assert "already the name of a component" in message and f"new: {CHECKOUT}" in message
    assert change_sets(demo_url) == before
    assert component(demo_url, PAYMENT)["description"] != "fine"
    # the typed values are still in the editor
    assert at.session_state[at.data_editor[0].key]["edited_rows"]  # type: ignore[index]


def test_a_stale_row_is_refused_by_name_and_the_edits_survive_a_reload(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", q="pay")
    i = row_of(at, "name", PAYMENT)
    row = component(demo_url, PAYMENT)
    engine = make_engine(demo_url)  # someone else saves the row after the grid was read
    try:
        with session_scope(engine) as session:
            update_component(
                session,
                actor=SYSTEM,
                component_id=int(row["component_id"]),
                expected_row_version=int(row["row_version"]),
                changes={"vendor": None, "highly_loaded": not bool(row["highly_loaded"])},
            )
    finally:
        engine.dispose()
    changed = component(demo_url, PAYMENT)
    at = edit(at, {i: {"description": "typed by admin"}})
    message = at.error[0].value
    assert "someone else changed" in message and f"row {i + 1} ({PAYMENT})" in message
    assert component(demo_url, PAYMENT)["description"] == changed["description"]
    # reload: the other person's change, with what was typed on top; then the save goes through
    at.button(key="reload_grid").click().run()
    assert_clean(at)
    grid = at.data_editor[0].value
    j = row_of(at, "name", PAYMENT)
    assert grid["description"].iloc[j] == "typed by admin"
    assert bool(grid["highly_loaded"].iloc[j]) == bool(changed["highly_loaded"])
    at.button(key="save_grid").click().run()
    assert not at.error, [e.value for e in at.error]
    saved = component(demo_url, PAYMENT)
    assert saved["description"] == "typed by admin"
    assert bool(saved["highly_loaded"]) == bool(changed["highly_loaded"])


def test_owners_edit_only_their_components(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "owner", grid="versions")
    editable = set(at.data_editor[0].value["component"])
    shown_read_only = set(at.dataframe[-1].value["component"])
    owned = read(demo_url, queries.ui.owned_component_ids, "owner")
    names = read(demo_url, queries.list_components).set_index("component_id")["name"]
    assert editable == {names[c] for c in owned}
    assert CHECKOUT in editable
    assert shown_read_only and not (shown_read_only & editable)
    assert "components you own" in texts(at)
    i = row_of(at, "component", CHECKOUT)
    at = edit(at, {i: {"comments": "owner was here"}})
    assert not at.error, [e.value for e in at.error]
    versions = read(demo_url, queries.list_versions)
    assert "owner was here" in set(versions["comments"].dropna())


def test_the_services_refuse_a_plan_for_a_component_the_person_does_not_own(demo_url: str) -> None:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            others = [int(c) for c in queries.list_components(conn)["component_id"]]
            owned = queries.ui.owned_component_ids(conn, "owner")
            target = next(c for c in others if c not in (owned or set()))
            ctx = model.read_context(conn, username="admin", component_ids=[target])  # rights of an admin
            base = model.load(conn, "components", [target])
        before = change_sets(demo_url)
        plan = model.plan("components", base, base, {"edited_rows": {0: {"description": "not mine"}}}, ctx)
        assert plan.steps and not plan.errors
        with pytest.raises(PermissionDenied):
            model.execute(engine, "owner", plan, "components")
        assert change_sets(demo_url) == before
    finally:
        engine.dispose()


def test_deleting_a_component_in_use_is_refused_with_the_reason(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", q="pay")
    i = row_of(at, "name", PAYMENT)
    before = change_sets(demo_url)
    at = edit(at, {}, deleted=[i])
    message = at.error[0].value
    assert "Nothing was saved" in message and f"Row {i + 1} ({PAYMENT})" in message
    assert "still used by" in message
    assert change_sets(demo_url) == before
    assert PAYMENT in set(read(demo_url, queries.list_components)["name"])


def test_owners_dependencies_and_qa_grids_save(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "admin", q="pay", grid="qa")
    grid = at.data_editor[0].value
    i = next(
        k
        for k, (c, kind) in enumerate(zip(grid["component"], grid["kind"], strict=True))
        if c == PAYMENT and kind == "unit"
    )
    at = edit(at, {i: {"level": "high", "notes": "95% lines"}})
    assert not at.error, [e.value for e in at.error]
    vid = int(grid["version_id"].iloc[i])
    qa = read(demo_url, queries.list_qa_levels, [vid]).set_index("kind")
    assert (qa.loc["unit", "level"], qa.loc["unit", "notes"]) == ("high", "95% lines")

    at.button_group(key="grid").set_value("owners").run()
    i = row_of(at, "component", PAYMENT)
    at = edit(at, {i: {"architect": ["admin", "expert"], "responsible_qa": None}})
    assert not at.error, [e.value for e in at.error]
    owners = read(demo_url, queries.list_owners, version_ids=[vid])
    assert sorted(owners[owners["role"] == "architect"]["username"]) == ["admin", "expert"]
    assert owners[owners["role"] == "responsible_qa"].empty

    at.button_group(key="grid").set_value("dependencies").run()
    before = read(demo_url, queries.list_dependencies, current_only=True)
    mine = before[before["component"] == PAYMENT]
    at = edit(
        at, {}, added=[{"component": PAYMENT, "depends_on": CHECKOUT, "type": "weak_ro", "notes": "refunds"}]
    )
    assert not at.error, [e.value for e in at.error]
    after = read(demo_url, queries.list_dependencies, current_only=True)
    now = after[after["component"] == PAYMENT]
    assert len(now) == len(mine) + 1
    added = now[now["depends_on"] == CHECKOUT].iloc[0]
    assert (added["type"], added["notes"]) == ("weak_ro", "refunds")
    # a self-dependency is refused with the service's reason, on its row
    at = edit(at, {}, added=[{"component": PAYMENT, "depends_on": PAYMENT, "type": "weak_ro"}])
    assert "cannot depend on itself" in at.error[0].value


def test_a_dependency_added_elsewhere_to_a_version_the_grid_read_without_any_is_not_lost(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version with no dependency row when the grid was read is still guarded: its row_version is
    read with the grid, so a save over someone else's new dependency is refused as stale."""
    engine = make_engine(demo_url)
    try:
        with session_scope(engine) as session:
            cid = register_component(session, actor=SYSTEM, name="Quokka Ledger").id
        at = page(demo_url, monkeypatch, "admin", q="quokka", grid="dependencies")
        assert len(at.data_editor[0].value) == 0  # no dependency row for its version
        versions = read(demo_url, queries.list_versions)
        vid = int(versions[versions["is_current"] & (versions["component_id"] == cid)]["version_id"].iloc[0])
        with session_scope(engine) as session:  # someone else adds a dependency after the grid was read
            add_dependency(session, actor=SYSTEM, version_id=vid, component=CHECKOUT, type="weak_ro")
    finally:
        engine.dispose()
    before = change_sets(demo_url)
    at = edit(at, {}, added=[{"component": "Quokka Ledger", "depends_on": PAYMENT, "type": "strong_rw"}])
    message = at.error[0].value
    assert "someone else changed" in message and "row 1 (new\\: Quokka Ledger → Payment Service)" in message
    assert change_sets(demo_url) == before
    deps = read(demo_url, queries.list_dependencies, current_only=True)
    assert list(deps[deps["component"] == "Quokka Ledger"]["depends_on"]) == [CHECKOUT]


def test_reapply_keeps_typed_cells_deleted_and_added_rows() -> None:
    base = pd.DataFrame({"id": [1, 2, 3], "a": ["x", "y", "z"], "b": [1, 2, 3]})
    typed = grids.final_frame(
        base, {"edited_rows": {0: {"a": "X"}}, "deleted_rows": [1], "added_rows": [{"a": "new"}]}
    )
    fresh = pd.DataFrame({"id": [1, 2, 3, 4], "a": ["x", "y", "zz", "w"], "b": [10, 2, 3, 4]})
    out = grids.reapply(base, typed, fresh, key="id", columns=["a", "b"])
    assert list(out["a"]) == ["X", "zz", "w", "new"]
    assert list(out["b"][:3]) == [10, 3, 4]
    edits = grids.diff(fresh, out, {}, key="id", columns=["a", "b"], label=lambda r: str(r.get("a")))
    assert [(r.id, dict(r.values)) for r in edits.changed] == [(1, {"a": "X"})]
    assert [r.id for r in edits.deleted] == [2]
    assert [r.values["a"] for r in edits.added] == ["new"]


# --- endpoints ----------------------------------------------------------------------------------------

PAY_API = "https://api.acme-shop.example/v2/payments*"
CHECKOUT_API = "https://api.acme-shop.example/v2/checkout*"


def endpoints(url: str) -> dict[str, tuple[str, Any]]:
    """pattern -> (component, notes) of every endpoint."""
    df = read(url, queries.list_endpoints)
    return {p: (c, n) for p, c, n in df[["pattern", "component", "notes"]].itertuples(index=False)}


def test_the_endpoints_grid_adds_changes_and_deletes_in_one_change_set(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    assert set(at.data_editor[0].value["pattern"]) == set(endpoints(demo_url))
    before = change_sets(demo_url)
    new = "https://pay.acme-shop.example/refunds/*"
    at = edit(
        at,
        {row_of(at, "pattern", PAY_API): {"pattern": PAY_API.replace("v2", "v3"), "notes": "moved to v3"}},
        added=[{"component": PAYMENT, "pattern": new, "notes": "refunds"}],
        deleted=[row_of(at, "pattern", CHECKOUT_API)],
    )
    assert at.success and "1 changed, 1 added, 1 deleted" in at.success[0].value, texts(at)
    now = endpoints(demo_url)
    assert now[PAY_API.replace("v2", "v3")] == (PAYMENT, "moved to v3")
    assert now[new] == (PAYMENT, "refunds")
    assert PAY_API not in now and CHECKOUT_API not in now
    assert change_sets(demo_url) == before + 1
    trail = read(demo_url, queries.list_audit, change_set_id=before + 1)
    assert set(trail["entity"]) == {"endpoint"} and set(trail["actor"]) == {"admin"}
    assert {"create", "update", "delete"} <= set(trail["action"])
    # the grid shows the registry as saved
    assert new in set(at.data_editor[0].value["pattern"])


def test_the_endpoints_grid_names_each_invalid_cell_and_saves_nothing(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    i = row_of(at, "pattern", PAY_API)
    before, known = change_sets(demo_url), endpoints(demo_url)
    at = edit(
        at,
        {i: {"pattern": "https://pay.example.com/a b"}},
        added=[
            {"component": PAYMENT, "pattern": "https://x.example.com/*"},
            {"component": CHECKOUT, "pattern": "HTTPS://X.example.com/*"},
            {"component": None, "pattern": "https://y.example.com/*"},
        ],
    )
    message = at.error[0].value.replace("\\:", ":").replace("\\*", "*")
    assert "Nothing was saved" in message
    assert f"Row {i + 1} ({PAYMENT}: {PAY_API}), URL pattern: must not contain spaces" in message
    assert "'HTTPS://X.example.com/*' is already in row" in message
    assert "Row 18 (new: https://y.example.com/*), Component: is empty" in message
    assert (change_sets(demo_url), endpoints(demo_url)) == (before, known)
    # a pattern another component already serves: the service's refusal, on its row
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    at = edit(at, {}, added=[{"component": PAYMENT, "pattern": "https://API.acme-shop.example/*"}])
    message = at.error[0].value.replace("\\:", ":").replace("\\*", "*")
    assert "Nothing was saved" in message and "is already an endpoint of 'API Gateway'" in message
    assert (change_sets(demo_url), endpoints(demo_url)) == (before, known)


def test_owners_change_the_endpoints_of_their_components_only(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "owner", grid="endpoints")
    owned = read(demo_url, queries.ui.owned_component_ids, "owner")
    names = read(demo_url, queries.list_components).set_index("component_id")["name"]
    mine = {names[c] for c in owned}
    editable = set(at.data_editor[0].value["component"])
    assert editable and editable <= mine and {PAYMENT, CHECKOUT} <= editable
    assert "API Gateway" in set(at.dataframe[-1].value["component"])
    before = change_sets(demo_url)
    at = edit(at, {}, added=[{"component": "API Gateway", "pattern": "https://gw.example.com/*"}])
    assert "you may not change 'API Gateway'" in at.error[0].value
    assert change_sets(demo_url) == before
    at = edit(at, {}, added=[{"component": PAYMENT, "pattern": "https://pay.example.com/*"}])
    assert not at.error, [e.value for e in at.error]
    assert endpoints(demo_url)["https://pay.example.com/*"][0] == PAYMENT
    # a move between two of their components
    at = edit(at, {row_of(at, "pattern", "https://pay.example.com/*"): {"component": CHECKOUT}})
    assert not at.error, [e.value for e in at.error]
    assert endpoints(demo_url)["https://pay.example.com/*"][0] == CHECKOUT


def test_a_stale_endpoint_is_refused_and_the_typed_pattern_survives_a_reload(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    i = row_of(at, "pattern", PAY_API)
    endpoint_id = int(at.data_editor[0].value["endpoint_id"].iloc[i])
    engine = make_engine(demo_url)  # someone else saves the row after the grid was read
    try:
        with session_scope(engine) as session:
            update_endpoint(session, actor=SYSTEM, endpoint_id=endpoint_id, changes={"notes": "theirs"})
    finally:
        engine.dispose()
    typed = PAY_API.replace("v2", "v3")
    at = edit(at, {i: {"pattern": typed}})
    message = at.error[0].value.replace("\\*", "*").replace("\\:", ":")
    assert "someone else changed" in message and f"row {i + 1} ({PAYMENT}: {PAY_API})" in message
    assert PAY_API in endpoints(demo_url)
    at.button(key="reload_grid").click().run()
    assert_clean(at)
    j = row_of(at, "pattern", typed)
    assert at.data_editor[0].value["notes"].iloc[j] == "theirs"
    at.button(key="save_grid").click().run()
    assert not at.error, [e.value for e in at.error]
    assert endpoints(demo_url)[typed] == (PAYMENT, "theirs")


def test_a_save_with_several_stale_endpoints_names_each_of_them(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    grid = at.data_editor[0].value
    rows = sorted([row_of(at, "pattern", PAY_API), row_of(at, "pattern", CHECKOUT_API)])
    engine = make_engine(demo_url)  # someone else saves both rows after the grid was read
    try:
        with session_scope(engine) as session:
            for i in rows:
                endpoint_id = int(grid["endpoint_id"].iloc[i])
                update_endpoint(session, actor=SYSTEM, endpoint_id=endpoint_id, changes={"notes": "theirs"})
    finally:
        engine.dispose()
    before, known = change_sets(demo_url), endpoints(demo_url)
    at = edit(at, {i: {"notes": "mine"} for i in rows})
    message = at.error[0].value.replace("\\*", "*").replace("\\:", ":")
    assert "someone else changed" in message
    for i in rows:
        assert f"row {i + 1} ({grid['component'].iloc[i]}: {grid['pattern'].iloc[i]})" in message
    assert (change_sets(demo_url), endpoints(demo_url)) == (before, known)


def test_run_stops_at_a_concurrent_write_but_names_every_stale_row() -> None:
    called: list[int] = []

    def stale(session: Any, *, n: int, **_: Any) -> None:
        called.append(n)
        raise StaleEndpoint(n, "notes", "read", "now")

    def concurrent(session: Any, *, n: int, **_: Any) -> None:
        called.append(n)
        raise ConcurrentWrite("endpoint")

    steps = [grids.Step(n, f"r{n}", stale, {"n": n}) for n in (1, 2)]
    plan = grids.Plan(
        (*steps, grids.Step(3, "r3", concurrent, {"n": 3}), grids.Step(4, "r4", stale, {"n": 4}))
    )
    with pytest.raises(grids.StaleRows) as refused:
        grids.run(None, SYSTEM, None, plan)  # type: ignore[arg-type]
    assert refused.value.rows == ("row 1 (r1)", "row 2 (r2)", "row 3 (r3)")
    assert called == [1, 2, 3], "nothing is called after a failed flush"


def test_a_component_registered_elsewhere_is_offered_on_the_next_rerun(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's choices are cached per data version: another process's save is seen at once."""
    at = page(demo_url, monkeypatch, "admin", grid="endpoints")
    engine = make_engine(demo_url)
    try:
        with session_scope(engine) as session:
            register_component(session, actor=SYSTEM, name="Refund Service")
    finally:
        engine.dispose()
    at.run()
    at = edit(at, {}, added=[{"component": "Refund Service", "pattern": "https://refunds.example.com/*"}])
    assert not at.error, [e.value for e in at.error]
    assert endpoints(demo_url)["https://refunds.example.com/*"][0] == "Refund Service"


def test_owned_component_ids_follow_the_services_rule(demo_url: str) -> None:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            owned = queries.ui.owned_component_ids(conn, "owner")
            assert queries.ui.owned_component_ids(conn, "admin") is None
            assert queries.ui.owned_component_ids(conn, "nobody") == frozenset()
            assert queries.ui.owned_component_ids(conn, None) == frozenset()
            every = [int(c) for c in queries.list_components(conn)["component_id"]]
        assert owned
        for cid in every:
            assert (cid in owned) == read(
                demo_url, queries.ui.may_edit_component, username="owner", component_id=cid
            )
    finally:
        engine.dispose()


def test_list_qa_levels_reads_the_recorded_levels(demo_url: str) -> None:
    versions = read(demo_url, queries.list_versions)
    vid = int(versions[versions["is_current"] & (versions["component"] == PAYMENT)]["version_id"].iloc[0])
    levels = read(demo_url, queries.list_qa_levels, [vid, vid])
    assert list(levels.columns) == ["version_id", "kind", "level", "notes"]
    assert len(levels) and set(levels["version_id"]) == {vid}
    assert not levels.duplicated(["version_id", "kind"]).any()
    assert read(demo_url, queries.list_qa_levels, []).empty


def test_grids_diff_keeps_an_edit_below_a_deleted_row() -> None:
    base = pd.DataFrame({"id": [1, 2], "a": ["x", "y"]})
    state = {"edited_rows": {1: {"a": "Y"}}, "deleted_rows": [0], "added_rows": []}
    edits = grids.diff(base, base, state, key="id", columns=["a"], label=lambda r: str(r.get("a")))
    assert [(r.id, dict(r.values)) for r in edits.changed] == [(2, {"a": "Y"})]


def test_a_plan_keeps_an_edit_below_a_deleted_row(demo_url: str) -> None:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            ids = [int(c) for c in queries.list_components(conn)["component_id"]][:3]
            ctx = model.read_context(conn, username="admin", component_ids=ids)
            base = model.load(conn, "endpoints", ids)
    finally:
        engine.dispose()
    assert len(base) >= 2
    state = {"edited_rows": {1: {"notes": "kept"}}, "deleted_rows": [0], "added_rows": []}
    plan = model.plan("endpoints", base, base, state, ctx)
    assert (plan.changed, plan.deleted) == (1, 1)
    calls = [(s.service.__name__, s.kwargs["endpoint_id"]) for s in plan.steps]
    ids_ = [int(i) for i in base["endpoint_id"][:2]]
    assert calls == [("delete_endpoint", ids_[0]), ("update_endpoint", ids_[1])]
