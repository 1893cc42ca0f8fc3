"""``queries.entities.list_groups``: every person group by name, with its members counted, and the
requirement's row version in ``list_requirements``."""

from __future__ import annotations

import sqlalchemy as sa

from panopticum_data import services as svc
from panopticum_data.db import read_connection, session_scope
from panopticum_data.queries.entities import list_groups, list_requirements
from tests import factories as f


def test_list_groups_counts_members_and_sorts_by_name_ignoring_case(engine: sa.Engine) -> None:
    with read_connection(engine) as conn:
        empty = list_groups(conn)
    assert list(empty.columns) == ["group_id", "name", "description", "members"] and empty.empty
    f.world_for(engine)  # security-team (signer), perf-team (other_signer)
    with session_scope(engine) as s:
        both = svc.create_group(
            s,
            actor=svc.SYSTEM,
            name="Auditors",
            description="Read **everything**",
            members=["signer", "viewer"],
        ).id
        nobody = svc.create_group(s, actor=svc.SYSTEM, name="zeta", members=[]).id
    with read_connection(engine) as conn:
        groups = list_groups(conn)
    assert list(groups["name"]) == ["Auditors", "perf-team", "security-team", "zeta"]
    rows = groups.set_index("name")
    assert int(rows.loc["Auditors", "group_id"]) == both
    assert rows.loc["Auditors", "description"] == "Read **everything**"
    assert [int(rows.loc[n, "members"]) for n in rows.index] == [2, 1, 1, 0]
    assert int(rows.loc["zeta", "group_id"]) == nobody and rows.loc["zeta", "description"] is None


def test_list_requirements_carries_the_requirements_row_version(engine: sa.Engine) -> None:
    world = f.world_for(engine)
    with session_scope(engine) as s:
        svc.update_requirement(
            s,
            actor=svc.SYSTEM,
            requirement_id=world.encrypt,
            expected_row_version=1,
            changes={"description": "At rest and in transit"},
        )
        svc.set_requirement_sets(
            s, actor=svc.SYSTEM, requirement_id=world.encrypt, sets=["Security", "Performance"]
        )
    with read_connection(engine) as conn:
        reqs = list_requirements(conn)
    versions = reqs.groupby("title")["requirement_row_version"].agg(lambda v: sorted(set(int(x) for x in v)))
    assert versions.to_dict() == {"Audit logins": [1], "Encrypt data": [3], "Load test": [1]}
    assert len(reqs[reqs["title"] == "Encrypt data"]) == 2, "one row per set, the same version in each"
