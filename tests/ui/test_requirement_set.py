"""The requirement-set page through app.py: the heat-map against the data layer, the filters in the
URL, who is offered which grid, and saving verdicts and claims through the grids (the rules: a
signee cannot choose n/a, a changed claim resets the verdict, a stale save is refused and nothing
typed is lost)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from panopticum_data import models as m
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.queries.requirements import requirement_statuses
from panopticum_data.queries.signoff import set_heatmap
from panopticum_data.services import SYSTEM, ClaimChange, set_owner_claims
from panopticum_ui import signoff as so
from tests.ui.conftest import assert_clean, log_in, open_app, texts

PAGE = "views/requirement_set.py"
SEC = "Security & Compliance"  # signed by "Security experts" (expert is a member)
OPS = "Operational requirements"  # signed by "Operations experts" (expert is not)
PAYMENT = "Payment Service"  # owned by the login "owner"


def set_page(url: str, monkeypatch: pytest.MonkeyPatch, user: str, **query: str) -> AppTest:
    return log_in(open_app(url, monkeypatch, query=dict(query), page=PAGE), user)


def statuses(url: str, set_name: str, **kwargs: Any) -> pd.DataFrame:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return requirement_statuses(conn, requirement_set=set_name, **kwargs)
    finally:
        engine.dispose()


def heat(at: AppTest) -> dict[str, Any]:
    charts = at.get("plotly_chart")
    assert len(charts) == 1, "one heat-map"
    spec: dict[str, Any] = json.loads(charts[0].proto.spec)
    return spec


def views(at: AppTest) -> list[str]:
    return list(next(w for w in at.get("button_group") if w.label == "View").options)


def grid_rows(url: str, set_name: str, component: str) -> pd.DataFrame:
    df = statuses(url, set_name)
    return df[(df["component"] == component) & ~df["excluded"]]


def change_sets(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(m.ChangeSet)).scalar_one())
    finally:
        engine.dispose()


def test_heatmap_matches_the_data_layer(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = set_page(demo_url, monkeypatch, "viewer", name="security & compliance")  # any case
    assert at.title[0].value == SEC
    assert at.query_params["name"] == SEC
    spec = heat(at)
    trace = spec["data"][0]
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            hm = set_heatmap(conn, SEC)
    finally:
        engine.dispose()
    assert trace["y"] == hm.components and len(hm.components) == hm.total == 50
    assert len(trace["x"]) == len(hm.requirements) == 6
    codes = {s: i for i, s in enumerate(so.HEAT_STATUSES)}
    for cell in hm.cells.itertuples():
        i, j = hm.components.index(cell.component), hm.requirements.index(cell.requirement)
        assert trace["z"][i][j] == codes[cell.overall], (cell.component, cell.requirement)
        hover = trace["customdata"][i][j]
        assert hover[0] == cell.requirement and hover[3] == so.STATUS_LABELS[cell.overall]
    # a legend of the six statuses, and every axis name links to the component page
    assert trace["colorbar"]["ticktext"] == [so.STATUS_LABELS[s] for s in so.HEAT_STATUSES]
    assert all('href="component?name=' in t for t in spec["layout"]["yaxis"]["ticktext"])
    assert "Components 1–50 of 50" in texts(at)


def test_status_filter_and_dashboard_filters_come_from_the_url(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = statuses(demo_url, SEC)
    requirement = str(df["requirement"].iloc[0])
    ready = set(df[(df["requirement"] == requirement) & (df["overall"] == "ready")]["component"])
    assert 0 < len(ready) < 50
    at = set_page(demo_url, monkeypatch, "viewer", name=SEC, req=requirement, party="overall", status="ready")
    assert set(heat(at)["data"][0]["y"]) == ready
    # the owner's claim instead of the overall status
    claimed = set(df[(df["requirement"] == requirement) & (df["owner_status"] == "not_ready")]["component"])
    at = set_page(
        demo_url, monkeypatch, "viewer", name=SEC, req=requirement, party="owner", status="not ready"
    )
    shown = set(heat(at)["data"][0]["y"]) if claimed else set()
    assert shown == claimed
    # the dashboard's free-text filter narrows the components
    at = set_page(demo_url, monkeypatch, "viewer", name=SEC, q="payment")
    assert PAYMENT in heat(at)["data"][0]["y"] and "Edge Proxy" not in heat(at)["data"][0]["y"]


def test_unknown_set_and_table_view(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = set_page(demo_url, monkeypatch, "viewer", name="No such set")
    assert "No requirement set **No such set**" in texts(at)
    assert not at.get("plotly_chart")
    at = set_page(demo_url, monkeypatch, "viewer", name=SEC, view="table")
    table = at.dataframe[0].value
    assert len(table) == 50 and table["component"].str.contains("name=").all()
    payment = table[table["component"].str.endswith("name=Payment%20Service")].iloc[0]
    row = grid_rows(demo_url, SEC, PAYMENT).iloc[0]
    assert payment["r0"] == so.mark(row["overall"])


@pytest.mark.parametrize(
    ("user", "set_name", "offered"),
    [
        ("viewer", SEC, ["heat-map", "table"]),
        ("expert", SEC, ["heat-map", "table", "sign", "claim"]),  # signs SEC, owns components
        ("expert", OPS, ["heat-map", "table", "claim"]),  # does not sign OPS
        ("owner", SEC, ["heat-map", "table", "claim"]),
        ("admin", OPS, ["heat-map", "table", "sign", "claim"]),
    ],
)
def test_who_is_offered_which_grid(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, user: str, set_name: str, offered: list[str]
) -> None:
    at = set_page(demo_url, monkeypatch, user, name=set_name)
    assert views(at) == offered
    # asking for a grid one may not use in the URL falls back to the heat-map
    at = set_page(demo_url, monkeypatch, user, name=set_name, view="sign")
    assert bool(at.get("arrow_data_editor") or [d for d in at.dataframe]) == ("sign" in offered)


def _sign_page(url: str, monkeypatch: pytest.MonkeyPatch, component: str) -> AppTest:
    at = set_page(url, monkeypatch, "expert", name=SEC, view="sign", q=component)
    at.toggle(key="grid_open_sign").set_value(False).run()  # every row, not only those awaiting a verdict
    assert_clean(at)
    return at


def _edit(at: AppTest, mode: str, edits: dict[int, dict[str, Any]]) -> AppTest:
    generation = at.session_state[f"signoff_grid_{mode}"].generation  # the grid as drawn
    at.session_state[so.editor_key(mode, generation)] = {  # type: ignore[arg-type]
        "edited_rows": edits,
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key=f"signoff_grid_{mode}_save").click().run()
    assert_clean(at)
    return at


def test_signee_saves_verdicts_through_the_grid(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sign_page(demo_url, monkeypatch, PAYMENT)
    grid = at.dataframe[0].value
    expected = grid_rows(demo_url, SEC, PAYMENT)
    assert grid["component"].iloc[0] == PAYMENT, "the components in name order: Payment Service first"
    assert list(grid[grid["component"] == PAYMENT]["requirement"]) == list(expected["requirement"])
    before = change_sets(demo_url)
    shown = grid[grid["component"] == PAYMENT]
    first = "not_ready" if shown["verdict"].iloc[0] != "not_ready" else "ready"
    second = "ready" if shown["verdict"].iloc[1] != "ready" else "not_ready"
    at = _edit(
        at,
        "sign",
        {0: {"verdict": first, "signee_notes": "Missing the scan report"}, 1: {"verdict": second}},
    )
    assert not at.error, [e.value for e in at.error]
    after = grid_rows(demo_url, SEC, PAYMENT)
    row0, row1 = after.iloc[0], after.iloc[1]
    assert (row0["signee_status"], row0["signee_by"], row0["signee_notes"]) == (
        first,
        "expert",
        "Missing the scan report",
    )
    assert (row1["signee_status"], row1["signee_by"]) == (second, "expert")
    assert change_sets(demo_url) == before + 1, "one save = one change set"
    # the grid shows what was saved
    assert at.dataframe[0].value["verdict"].iloc[0] == first


def test_signee_cannot_choose_na_and_bad_links_are_refused(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _sign_page(demo_url, monkeypatch, PAYMENT)
    before = grid_rows(demo_url, SEC, PAYMENT)
    at = _edit(at, "sign", {0: {"verdict": "n/a"}, 2: {"evidence_url": "javascript:alert(1)"}})
    body = texts(at)
    assert "Nothing saved" in body
    assert "row 1" in body and "verdict" in body and "row 3" in body and "evidence" in body
    pd.testing.assert_frame_equal(grid_rows(demo_url, SEC, PAYMENT), before)


def test_stale_save_is_refused_and_typed_values_survive_a_reload(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _sign_page(demo_url, monkeypatch, PAYMENT)
    row = grid_rows(demo_url, SEC, PAYMENT).iloc[0]
    # someone else changes the first row's claim after the grid was loaded
    engine = make_engine(demo_url)
    try:
        with session_scope(engine) as session:
            set_owner_claims(
                session,
                actor=SYSTEM,
                changes=[
                    ClaimChange(
                        int(row["version_id"]),
                        int(row["requirement_id"]),
                        "not_ready" if row["owner_status"] != "not_ready" else "ready",
                        notes="changed meanwhile",
                    )
                ],
            )
    finally:
        engine.dispose()
    changed = grid_rows(demo_url, SEC, PAYMENT)
    at = _edit(at, "sign", {0: {"verdict": "ready", "signee_notes": "typed by the expert"}})
    message = at.error[0].value
    assert "someone else changed 1 of these rows" in message
    assert f"{PAYMENT} / {row['requirement']}" in message
    pd.testing.assert_frame_equal(grid_rows(demo_url, SEC, PAYMENT), changed)  # nothing written
    # reload: fresh rows, with what the expert typed applied on top
    at.button(key="signoff_grid_sign_reload").click().run()
    assert_clean(at)
    grid = at.dataframe[0].value
    assert grid["owner_notes"].iloc[0] == "changed meanwhile"
    assert (grid["verdict"].iloc[0], grid["signee_notes"].iloc[0]) == ("ready", "typed by the expert")
    # saving now succeeds (the typed values are a change against the fresh rows)
    at.button(key="signoff_grid_sign_save").click().run()
    assert not at.error, [e.value for e in at.error]
    saved = grid_rows(demo_url, SEC, PAYMENT).iloc[0]
    assert (saved["signee_status"], saved["signee_notes"]) == ("ready", "typed by the expert")


def test_owner_claims_reset_the_verdict_and_only_own_components_are_offered(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = set_page(demo_url, monkeypatch, "owner", name=SEC, view="claim")
    at.toggle(key="grid_open_claim").set_value(False).run()
    grid = at.dataframe[0].value
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            from panopticum_data.queries import ui as ui_queries

            rights = ui_queries.sign_off_rights(
                conn, username="owner", set_id=int(statuses(demo_url, SEC)["set_id"].iloc[0])
            )
            owned = set(
                conn.execute(
                    sa.select(m.Component.name).where(m.Component.id.in_(rights.claim_components or ()))
                ).scalars()
            )
    finally:
        engine.dispose()
    assert set(grid["component"]) <= owned and PAYMENT in set(grid["component"])
    signed = statuses(demo_url, SEC)
    signed = signed[
        signed["component"].isin(owned) & signed["signee_status"].ne("unknown") & ~signed["excluded"]
    ].iloc[0]
    position = grid.index[
        (grid["component"] == signed["component"]) & (grid["requirement"] == signed["requirement"])
    ][0]
    new_claim = "not_ready" if signed["owner_status"] != "not_ready" else "ready"
    at = _edit(at, "claim", {int(position): {"claim": new_claim, "owner_notes": "re-checked"}})
    assert not at.error, [e.value for e in at.error]
    after = grid_rows(demo_url, SEC, str(signed["component"]))
    after = after[after["requirement"] == signed["requirement"]].iloc[0]
    assert (after["owner_status"], after["owner_notes"], after["owner_by"]) == (
        new_claim,
        "re-checked",
        "owner",
    )
    assert after["signee_status"] == "unknown", "a changed claim sends the verdict back to unknown"


def test_rights_are_read_again_on_save(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An expert removed from the signer group after loading the grid cannot save verdicts: the
    page reads the rights again on the save's rerun, drops the grid and says nothing was saved
    (the service would refuse too: tests/data/test_services_requirements.py)."""
    at = _sign_page(demo_url, monkeypatch, PAYMENT)
    before = grid_rows(demo_url, SEC, PAYMENT)
    engine = make_engine(demo_url)
    try:
        with engine.begin() as conn:
            expert = conn.execute(sa.select(m.Person.id).where(m.Person.username == "expert")).scalar_one()
            conn.execute(sa.delete(m.GroupMember).where(m.GroupMember.person_id == expert))
    finally:
        engine.dispose()
    verdict = "not_ready" if before["signee_status"].iloc[0] != "not_ready" else "ready"
    at = _edit(at, "sign", {0: {"verdict": verdict}})
    assert "You may no longer use the sign grid of this set: nothing was saved." in texts(at)
    assert "sign" not in views(at) and at.get("plotly_chart")
    pd.testing.assert_frame_equal(grid_rows(demo_url, SEC, PAYMENT), before)


def test_typed_values_never_land_on_other_rows(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Edits are by position in the editor: when the grid's rows change under them (another page,
    other filters, someone else's change to what matches), they are dropped with a message, never
    applied to the new rows."""
    at = _sign_page(demo_url, monkeypatch, PAYMENT)
    before = statuses(demo_url, SEC)
    generation = at.session_state["signoff_grid_sign"].generation
    at.session_state[so.editor_key("sign", generation)] = {  # type: ignore[arg-type]
        "edited_rows": {0: {"signee_notes": "typed for the first row"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.toggle(key="grid_open_sign").set_value(True).run()  # other rows: only those awaiting a verdict
    assert_clean(at)
    assert "Your edits were not saved: the grid's rows changed" in texts(at)
    assert at.session_state["signoff_grid_sign"].generation == generation + 1
    at.button(key="signoff_grid_sign_save").click().run()
    assert "typed for the first row" not in set(statuses(demo_url, SEC)["signee_notes"].dropna())
    pd.testing.assert_frame_equal(statuses(demo_url, SEC), before)
