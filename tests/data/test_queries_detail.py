"""Entity reads, the requirement matrix and the component detail on the small registry."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from panopticum_data import queries
from panopticum_data.errors import NotFound
from panopticum_data.queries.detail import component_detail
from panopticum_data.queries.requirements import requirement_matrix, requirement_statuses
from tests.data import small_registry
from tests.data.small_registry import NOW


@pytest.fixture
def conn(engine: sa.Engine):
    small_registry.build(engine)
    with engine.connect() as c:
        yield c


def test_matrix_of_a_set(conn: sa.Connection) -> None:
    matrix = requirement_matrix(conn, "b", now=NOW)  # by name, any case
    assert list(matrix.columns) == ["set_status", "r3", "r4"]
    assert list(matrix.index) == ["alpha", "beta", "delta", "gamma"]
    assert matrix.loc["alpha"].tolist() == ["waiting", "waiting", "ready"]  # r3's verdict expired
    assert matrix.loc["beta"].tolist() == ["unknown", "waiting_na", "unknown"]
    assert matrix.loc["delta"].tolist() == ["n/a", "n/a", "n/a"]  # the set is excluded
    assert matrix.loc["gamma"].tolist() == ["unknown", "unknown", "unknown"]


def test_unknown_set_is_named(conn: sa.Connection) -> None:
    with pytest.raises(NotFound, match="requirement_set.*'nope'"):
        requirement_matrix(conn, "nope")


def test_statuses_carry_expiry_and_parties(conn: sa.Connection) -> None:
    long = requirement_statuses(conn, requirement_set="B", now=NOW)
    alpha_r3 = long[(long["component"] == "alpha") & (long["requirement"] == "r3")].iloc[0]
    assert alpha_r3["signee_status"] == "ready" and alpha_r3["signee_effective"] == "unknown"
    assert bool(alpha_r3["expired"]) and alpha_r3["overall"] == "waiting"
    # the same verdict in set A (no validity) has not expired
    in_a = requirement_statuses(conn, requirement_set="A", now=NOW)
    assert in_a[(in_a["component"] == "alpha") & (in_a["requirement"] == "r3")].iloc[0]["overall"] == "ready"


def test_component_detail(conn: sa.Connection) -> None:
    detail = component_detail(conn, "ALPHA", now=NOW)
    assert detail.component["name"] == "alpha" and detail.component["tags"] == ["payments"]
    assert detail.version["version"] == "1.0"
    assert detail.scores["rating"] == 65 and detail.scores["completeness"] == 96
    assert detail.scores["unsigned"] == ["A: r3", "C: r5"]  # r3 is named by its first set
    assert set(detail.owners["role"]) == {
        "maintainer",
        "responsible_qa",
        "product_manager",
        "program_manager",
        "escalation",
        "expert",
        "architect",
    }
    assert list(detail.qa["kind"])[:2] == ["manual", "unit"] and len(detail.qa) == 9
    assert len(detail.deployments) == 1 and bool(detail.deployments.iloc[0]["is_new"])
    statuses = dict(zip(detail.set_statuses["set_name"], detail.set_statuses["set_status"], strict=True))
    assert statuses == {"A": "ready", "B": "waiting", "C": "waiting", "D": "n/a"}
    with pytest.raises(NotFound, match="version"):
        component_detail(conn, "alpha", version="9.9")
    with pytest.raises(NotFound, match="component"):
        component_detail(conn, "omega")


def test_entity_frames_have_readable_columns(conn: sa.Connection) -> None:
    comps = queries.list_components(conn)
    assert {"name", "category", "type", "current_version", "tags"} <= set(comps.columns)
    assert comps.set_index("name").loc["alpha", "category"] == "Core"
    versions = queries.list_versions(conn)
    assert versions["is_current"].all() and set(versions["component"]) == {"alpha", "beta", "gamma", "delta"}
    assert versions.set_index("component").loc["alpha", "maintainer"] == "P0 Person"
    people = queries.list_people(conn)
    assert list(people["username"]) == ["p0", "p1", "p2"]
    ref = queries.list_reference(conn, "category")
    assert ref.set_index("name").loc["Core", "used_by"] == 4
    sets = queries.list_requirement_sets(conn)
    assert sets.set_index("name")["requirements"].to_dict() == {"A": 3, "B": 2, "C": 1, "D": 0}


def test_matrix_agrees_with_the_long_statuses_on_the_demo(engine: sa.Engine) -> None:
    from panopticum_data.db import session_scope
    from panopticum_data.demo import load_demo

    with session_scope(engine) as session:
        load_demo(session)
    with engine.connect() as c:
        for set_name in queries.list_requirement_sets(c)["name"]:
            matrix = requirement_matrix(c, set_name, now=NOW)
            long = requirement_statuses(c, requirement_set=set_name, now=NOW)
            expected = long.pivot(index="component", columns="requirement", values="overall")
            got = matrix.drop(columns="set_status")
            assert sorted(got.index) == sorted(expected.index)
            assert (
                (got.sort_index()[list(got.columns)] == expected.sort_index()[list(got.columns)]).all().all()
            ), set_name
            overview = queries.components_overview(c, now=NOW).set_index("name")[set_name]
            assert matrix["set_status"].to_dict() == overview.reindex(matrix.index).to_dict(), set_name
        overview = queries.components_overview(c, now=NOW).set_index("name")
        for name in overview.index:
            detail = component_detail(c, name, now=NOW)
            for column in ("rating", "completeness", "qa_score"):
                want = overview.loc[name, column]
                assert (pd.isna(want) and pd.isna(detail.scores[column])) or detail.scores[column] == want, (
                    name
                )
            sets = dict(zip(detail.set_statuses["set_name"], detail.set_statuses["set_status"], strict=True))
            assert sets == {k: overview.loc[name, k] for k in sets}, name
