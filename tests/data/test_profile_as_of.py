"""The component profile "as of" a moment (issue 5): a scripted sequence of edits through the
services, each at a controlled time; the profile rebuilt from the audit trail for a moment between
two steps equals the profile read right after the earlier step, and the difference between two
moments lists exactly the fields changed in between."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import read_connection, session_scope
from panopticum_data.errors import NotFound
from panopticum_data.models import Dependency, Deployment, DocumentLink
from panopticum_data.queries.detail import component_detail
from panopticum_data.queries.profile_as_of import (
    DIFF_COLUMNS,
    ProfileAsOf,
    change_times,
    component_as_of,
    component_diff,
    current_profile,
    diff_rows,
)
from panopticum_data.services import SYSTEM, ClaimChange, VerdictChange
from tests import factories as f
from tests.data import small_registry
from tests.factories import World

BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
Step = Callable[[Session, World, dict[str, int]], None]


def _fields(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.update_component(
        s,
        actor=SYSTEM,
        component_id=w.billing,
        expected_row_version=None,
        changes={"description": "Bills people", "life_status": "mature", "vendor": "Acme"},
    )


def _tags_and_owners(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.set_tags(s, actor=SYSTEM, component_id=w.billing, tags=["core", "legacy-api"])
    svc.set_owners(s, actor=SYSTEM, version_id=w.billing_v1, role="architect", usernames=["editor", "viewer"])
    svc.set_owners(s, actor=SYSTEM, version_id=w.billing_v1, role="maintainer", usernames=["editor"])


def _stack_links_docs(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.set_stack(s, actor=SYSTEM, version_id=w.billing_v1, kind="languages", names=["Python", "Go"])
    svc.set_links(
        s, actor=SYSTEM, version_id=w.billing_v1, kind="repository", urls=["https://git/b", "https://git/a"]
    )
    doc = svc.add_document_link(
        s, actor=SYSTEM, version_id=w.billing_v1, document_type="Design", title="Design", url="https://d/1"
    )
    ids["doc"] = doc.id


def _qa_and_version(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.set_qa_level(s, actor=SYSTEM, version_id=w.billing_v1, kind="unit", level="high", notes="pytest")
    svc.update_version(
        s,
        actor=SYSTEM,
        version_id=w.billing_v1,
        expected_row_version=None,
        changes={"comments": "first", "code_kloc": 12.5, "api_is_public": "partial"},
    )


def _dependency_and_deployment(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.add_dependency(s, actor=SYSTEM, version_id=w.billing_v1, component="ledger", notes="reads")
    dep = svc.add_deployment(
        s,
        actor=SYSTEM,
        version_id=w.billing_v1,
        product_version="Suite 1",
        location_class="Cloud",
        environment="Kubernetes",
        ports=["https"],
        data_centers=["DC1"],
    )
    ids["deployment"] = dep.id


def _requirements(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.set_owner_claims(
        s,
        actor=SYSTEM,
        changes=[
            ClaimChange(w.billing_v1, w.encrypt, "ready", notes="TLS everywhere"),
            ClaimChange(w.billing_v1, w.audit_logins, "not_ready"),
        ],
    )
    svc.set_signee_verdicts(
        s, actor=SYSTEM, changes=[VerdictChange(w.billing_v1, w.encrypt, "ready", set_id=w.security_set)]
    )
    svc.exclude_set(
        s, actor=SYSTEM, version_id=w.billing_v1, requirement_set="Performance", reason="batch only"
    )


def _new_version(s: Session, w: World, ids: dict[str, int]) -> None:
    v2 = svc.create_version(s, actor=SYSTEM, component_id=w.billing, version="2.0", make_current=True)
    ids["v2"] = v2.id
    svc.update_version(
        s, actor=SYSTEM, version_id=v2.id, expected_row_version=None, changes={"comments": "second"}
    )


def _edit_copies(s: Session, w: World, ids: dict[str, int]) -> None:
    v2 = ids["v2"]
    dep = s.scalar(select(Deployment.id).where(Deployment.version_id == v2))
    assert dep is not None
    svc.update_deployment(
        s,
        actor=SYSTEM,
        deployment_id=dep,
        expected_row_version=None,
        changes={"ports": ["https", "http"], "notes": "moved", "is_new": True},
    )
    edge = s.scalar(select(Dependency.id).where(Dependency.version_id == v2))
    assert edge is not None
    svc.remove_dependency(s, actor=SYSTEM, dependency_id=edge)
    svc.set_owners(s, actor=SYSTEM, version_id=v2, role="architect", usernames=["admin"])
    svc.set_stack(s, actor=SYSTEM, version_id=v2, kind="languages", names=["Go"])
    svc.set_owner_claims(s, actor=SYSTEM, changes=[ClaimChange(v2, w.audit_logins, "ready", notes="done")])
    svc.exclude_set(s, actor=SYSTEM, version_id=v2, requirement_set="Performance", reason="still batch")


def _delete_old_version(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.delete_version(s, actor=SYSTEM, version_id=w.billing_v1)


def _remove_parts(s: Session, w: World, ids: dict[str, int]) -> None:
    v2 = ids["v2"]
    doc = s.scalar(select(DocumentLink.id).where(DocumentLink.version_id == v2))
    assert doc is not None
    svc.remove_document_link(s, actor=SYSTEM, link_id=doc)
    dep = s.scalar(select(Deployment.id).where(Deployment.version_id == v2))
    assert dep is not None
    svc.remove_deployment(s, actor=SYSTEM, deployment_id=dep)
    svc.include_set(s, actor=SYSTEM, version_id=v2, requirement_set="Performance")
    svc.set_qa_level(s, actor=SYSTEM, version_id=v2, kind="unit", level="low", notes=None)


def _rename(s: Session, w: World, ids: dict[str, int]) -> None:
    svc.update_component(
        s,
        actor=SYSTEM,
        component_id=w.billing,
        expected_row_version=None,
        changes={"name": "billing-2", "description": None, "category": "Platform"},
    )
    svc.set_tags(s, actor=SYSTEM, component_id=w.billing, tags=[])


STEPS: list[Step] = [
    _fields,
    _tags_and_owners,
    _stack_links_docs,
    _qa_and_version,
    _dependency_and_deployment,
    _requirements,
    _new_version,
    _edit_copies,
    _delete_old_version,
    _remove_parts,
    _rename,
]


def step_time(k: int) -> datetime:
    return BASE + timedelta(hours=k)


def between(k: int) -> datetime:
    """A moment after step k-1 and before step k (k = len(STEPS): after the last)."""
    return step_time(k) - timedelta(minutes=30)


class Script:
    """The world's billing component, edited step by step; ``snapshots[k]`` is its profile read
    right after step k-1 (``snapshots[0]``: before the script)."""

    def __init__(self, engine: sa.Engine, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine, self.world = engine, world
        clock = {"now": BASE}
        monkeypatch.setattr("panopticum_data.services._core.utcnow", lambda: clock["now"])
        ids: dict[str, int] = {}
        self.snapshots = [self.profile()]
        for k, step in enumerate(STEPS):
            clock["now"] = step_time(k)
            with session_scope(engine) as s:
                step(s, world, ids)
            self.snapshots.append(self.profile())
        self.ids = ids

    def profile(self) -> ProfileAsOf:
        with read_connection(self.engine) as conn:
            return current_profile(conn, self.world.billing)

    def as_of(self, at: datetime) -> ProfileAsOf:
        with read_connection(self.engine) as conn:
            return component_as_of(conn, self.world.billing, at)

    def diff(self, t1: datetime, t2: datetime) -> Any:
        with read_connection(self.engine) as conn:
            return component_diff(conn, self.world.billing, t1, t2)


@pytest.fixture
def script(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Script:
    return Script(engine, f.world_for(engine), monkeypatch)


def _as_set(profile: ProfileAsOf) -> set[tuple[str, str, Any]]:
    return set(profile.rows.itertuples(index=False, name=None))


def test_every_moment_between_steps_is_rebuilt_as_it_was(script: Script) -> None:
    assert len({len(s.rows) for s in script.snapshots}) > 3, "the script changes the profile's shape"
    for k, expected in enumerate(script.snapshots):
        rebuilt = script.as_of(between(k))
        assert rebuilt.existed and expected.existed
        assert rebuilt.version == expected.version, k
        assert rebuilt.name == expected.name, k
        assert rebuilt.rows.values.tolist() == expected.rows.values.tolist(), (
            k,
            _as_set(rebuilt) ^ _as_set(expected),
        )
        if k < len(STEPS):  # a change set's own moment shows it done
            assert (
                script.as_of(step_time(k)).rows.values.tolist()
                == script.snapshots[k + 1].rows.values.tolist()
            )


def test_the_script_leaves_marks_in_every_section(script: Script) -> None:
    """The snapshots compared above really hold what the steps wrote (the reader is not blind)."""
    before_delete = script.snapshots[STEPS.index(_delete_old_version)]
    v1 = script.snapshots[STEPS.index(_new_version)]  # after the requirements step: 1.0 current
    assert v1.version == "1.0" and before_delete.version == "2.0"
    assert {s for s, _, v in _as_set(v1) if v} >= {
        "component",
        "version",
        "owners",
        "stack",
        "links",
        "documents",
        "qa",
        "dependencies",
        "deployments",
        "requirements",
        "exclusions",
    }
    first = v1.section("component") | v1.section("owners") | v1.section("links") | v1.section("exclusions")
    assert first["tags"] == "core, legacy-api" and first["architect"] == "editor, viewer"
    assert first["repository"] == "https://git/b, https://git/a"  # the links' order is kept
    assert first["Performance"] == "batch only"
    reqs = v1.section("requirements")
    assert reqs["Encrypt data · owner"] == "ready" and reqs["Encrypt data · signee"] == "ready"
    assert reqs["Audit logins · owner"] == "not_ready"
    assert "Performance" not in script.snapshots[-1].section("exclusions")
    assert script.snapshots[-1].name == "billing-2" and script.snapshots[0].name == "billing"


def test_snapshots_agree_with_the_component_page_data(script: Script) -> None:
    """Today's profile (what past rebuilds are checked against) says what component_detail says."""
    with read_connection(script.engine) as conn:
        detail = component_detail(conn, script.world.billing)
    last = script.snapshots[-1]
    comp = last.section("component")
    assert comp["name"] == detail.component["name"] and comp["category"] == detail.component["category"]
    assert comp["current_version"] == detail.version["version"] == last.version
    assert last.section("version")["comments"] == detail.version["comments"]
    owners = last.section("owners")
    for role, part in detail.owners.groupby("role"):
        assert owners[str(role)] == ", ".join(sorted(part["username"], key=str.lower))
    assert last.section("stack")["languages"] == ", ".join(
        detail.stack.loc[detail.stack["kind"] == "language", "name"]
    )
    assert len(last.section("dependencies")) == len(detail.dependencies)
    assert len(last.section("deployments")) == len(detail.deployments)
    qa = dict(zip(detail.qa["kind"], detail.qa["level"], strict=True))
    assert {k.removesuffix(" level"): v for k, v in last.section("qa").items() if k.endswith("level")} == qa


def test_a_diff_lists_exactly_the_fields_changed_in_between(script: Script) -> None:
    first = STEPS.index(_fields)
    diff = script.diff(between(first), between(first + 1))
    assert list(diff.columns) == DIFF_COLUMNS
    assert diff.values.tolist() == [
        ["component", "description", None, "Bills people"],
        ["component", "life_status", "unknown", "mature"],
        ["component", "vendor", None, "Acme"],
    ]
    rename = STEPS.index(_rename)
    diff = script.diff(between(rename), between(rename + 1))
    assert sorted(map(tuple, diff.values.tolist())) == [
        ("component", "category", "Payments", "Platform"),
        ("component", "description", "Bills people", None),
        ("component", "name", "billing", "billing-2"),
        ("component", "tags", "core, legacy-api", None),
    ]
    # over several steps: exactly the differences of the two snapshots, in either direction
    for i, j in ((0, len(STEPS)), (STEPS.index(_new_version), STEPS.index(_remove_parts) + 1), (5, 2)):
        expected = diff_rows(script.snapshots[i].rows, script.snapshots[j].rows)
        assert script.diff(between(i), between(j)).values.tolist() == expected.values.tolist()
        assert not expected.empty
    assert script.diff(between(3), between(3)).empty


def test_before_the_component_existed_and_unknown_names(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = f.world_for(engine)
    monkeypatch.setattr("panopticum_data.services._core.utcnow", lambda: BASE)
    with session_scope(engine) as s:
        svc.register_component(s, actor=SYSTEM, name="late", description="new")
    with read_connection(engine) as conn:
        gone = component_as_of(conn, "LATE", BASE - timedelta(seconds=1))
        assert not gone.existed and gone.rows.empty and gone.version is None
        here = component_as_of(conn, "late", BASE)
        assert here.existed and here.version == "1.0" and here.section("component")["description"] == "new"
        diff = component_diff(conn, "late", BASE - timedelta(days=1), BASE)
        assert ("component", "description", None, "new") in map(tuple, diff.values.tolist())
        assert not component_as_of(conn, world.billing, BASE).rows.empty
        with pytest.raises(NotFound):
            component_as_of(conn, "no such component", BASE)


def test_change_times_are_the_change_sets_of_the_component(script: Script) -> None:
    with read_connection(script.engine) as conn:
        times = change_times(conn, "billing-2")
    scripted = sorted({t for t in times["at"] if t >= BASE}, reverse=True)  # (a step makes several)
    assert len(times) > len(scripted)  # the world's own change sets too
    assert scripted == sorted((step_time(k) for k in range(len(STEPS))), reverse=True)
    assert times["at"].is_monotonic_decreasing and set(times["actor"]) == {"system"}


def test_claims_and_verdicts_imported_without_a_trail(engine: sa.Engine) -> None:
    """As in ``as_of``: a verdict recorded after the moment, with no event explaining it, was not
    made yet; one recorded before stands; the rest of an untrailed profile is today's."""
    small_registry.build(engine)
    now = small_registry.NOW
    with read_connection(engine) as conn:
        today = component_as_of(conn, "alpha", now).section("requirements")
        before = component_as_of(conn, "alpha", now - timedelta(days=2)).section("requirements")
        diff = component_diff(conn, "alpha", now - timedelta(days=2), now)
    assert today["r1 · signee"] == "ready" and before["r1 · signee"] == "unknown"  # signed a day ago
    assert before["r3 · signee"] == "ready"  # signed 45 days ago
    assert before["r1 · owner"] == today["r1 · owner"] == "ready"  # no recorded time: kept
    assert set(diff["section"]) == {"requirements"}
    assert ("requirements", "r1 · signee", "unknown", "ready") in map(tuple, diff.values.tolist())
