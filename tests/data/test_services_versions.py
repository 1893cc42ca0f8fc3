"""Versions and what they own: copy-on-new-version, update, current, delete, owners, stack, links,
documents, QA levels, dependencies — permissions, audit, stale writes, bad input."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InUse, InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import (
    Component,
    ComponentVersion,
    Dependency,
    Deployment,
    DocumentLink,
    Endpoint,
    QaLevel,
    RequirementStatus,
    SetExclusion,
)
from panopticum_data.services import DependencySpec
from panopticum_data.services.deployments import deployment_lists
from panopticum_data.services.version_parts import link_lists, owner_lists, stack_lists
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _version(engine: sa.Engine, vid: int) -> ComponentVersion:
    with Session(engine) as s:
        obj = s.get(ComponentVersion, vid)
        assert obj is not None
        s.expunge(obj)
        return obj


def _fill_profile(engine: sa.Engine, world: World) -> None:
    """Give billing 1.0 something of every kind a version owns (as its owner, and a signer)."""
    vid, owner = world.billing_v1, world["owner"]
    with session_scope(engine) as s:
        svc.update_version(
            s,
            actor=owner,
            version_id=vid,
            expected_row_version=None,
            changes={"comments": "first", "code_kloc": 12.5, "api_is_public": "partial"},
        )
        svc.set_owners(s, actor=owner, version_id=vid, role="responsible_qa", usernames=["editor"])
        svc.set_owners(s, actor=owner, version_id=vid, role="architect", usernames=["viewer", "admin"])
        for kind, names in [
            ("languages", ["Python", "go"]),
            ("frameworks", ["Django"]),
            ("databases", ["PostgreSQL"]),
            ("orms", ["SQLAlchemy"]),
            ("loggers", ["structlog"]),
            ("runtimes", ["CPython"]),
        ]:
            svc.set_stack(s, actor=owner, version_id=vid, kind=kind, names=names)
        svc.set_links(
            s,
            actor=owner,
            version_id=vid,
            kind="repository",
            urls=["https://git.example.com/b", "https://git.example.com/a"],
        )
        svc.set_links(s, actor=owner, version_id=vid, kind="docs", urls=["https://docs.example.com"])
        svc.add_document_link(
            s,
            actor=owner,
            version_id=vid,
            document_type="Design",
            title="HLD",
            url="https://docs.example.com/hld",
        )
        svc.set_qa_level(s, actor=owner, version_id=vid, kind="unit", level="high", notes="90% lines")
        svc.add_dependency(
            s, actor=owner, version_id=vid, component="ledger", type="strong_ro", notes="reads"
        )
        svc.add_deployment(
            s,
            actor=owner,
            version_id=vid,
            product_version="Suite 1",
            location_class="Cloud",
            environment="Kubernetes",
            runtime="CPython",
            service_name="billing-svc",
            ports=["https", 80],
            data_centers=["DC1"],
            is_new=True,
        )
        svc.set_owner_claims(s, actor=owner, changes=[svc.ClaimChange(vid, world.encrypt, "ready", "TLS")])
        svc.exclude_set(s, actor=owner, version_id=vid, requirement_set="Performance", reason="batch job")
    with session_scope(engine) as s:
        svc.set_signee_verdicts(
            s, actor=world["signer"], changes=[svc.VerdictChange(vid, world.encrypt, "ready", "ok")]
        )


def _profile(engine: sa.Engine, vid: int) -> dict[str, Any]:
    """Everything a version owns, without ids, for comparing a copy with its source."""
    with Session(engine) as s:
        v = s.get(ComponentVersion, vid)
        assert v is not None

        def rows(model: Any, *cols: str) -> list[tuple[Any, ...]]:
            found = s.scalars(sa.select(model).where(model.version_id == vid))
            return sorted(tuple(getattr(r, c) for c in cols) for r in found)

        deployments = [
            (
                d.product_version_id,
                d.location_class_id,
                d.environment_id,
                d.runtime_id,
                d.service_name,
                d.is_new,
            )
            for d in s.scalars(sa.select(Deployment).where(Deployment.version_id == vid))
        ]
        return {
            "fields": (
                v.comments,
                v.maintainer_id,
                v.responsible_qa_id,
                v.code_kloc,
                v.api_is_public,
                v.qa_applicable,
            ),
            "owners": owner_lists(s, vid),
            "stack": stack_lists(s, vid),
            "links": link_lists(s, vid),
            "documents": rows(DocumentLink, "document_type_id", "title", "url"),
            "qa": rows(QaLevel, "kind", "level", "notes", "signed_off_by_id", "signed_off_at"),
            "dependencies": rows(Dependency, "component_id", "type", "notes"),
            "deployments": deployments,
            "deployment_lists": sorted(map(str, deployment_lists(s, vid).values())),
            "statuses": rows(
                RequirementStatus,
                "requirement_id",
                "owner_status",
                "owner_notes",
                "signee_status",
                "signee_notes",
                "owner_by_id",
                "signee_by_id",
            ),
            "exclusions": rows(SetExclusion, "set_id", "reason"),
        }


# --- copy on new version -----------------------------------------------------------------------------------


def test_a_new_version_starts_as_a_copy_of_the_current_one(engine: sa.Engine, world: World) -> None:
    _fill_profile(engine, world)
    source = _profile(engine, world.billing_v1)
    assert all(source.values()), source  # the source has something of every kind
    with session_scope(engine) as s:
        new = svc.create_version(s, actor=world["owner"], component_id=world.billing, version="2.0")
        new_id = new.id
    assert _profile(engine, new_id) == source
    assert _profile(engine, world.billing_v1) == source  # the source is untouched
    with Session(engine) as s:
        comp = s.get(Component, world.billing)
        assert comp is not None and comp.current_version_id == world.billing_v1  # make_current=False

    evs = f.last_change_set_events(engine)
    assert len({e.change_set_id for e in evs}) == 1 and {e.actor_name for e in evs} == {"owner"}
    assert {e.component_id for e in evs} == {world.billing}
    by_entity = {(e.entity, e.field) for e in evs}
    for expected in [
        ("component_version", "version"),
        ("component_version", "copied_from"),
        ("component_version", "maintainer"),
        ("version_owner", "architect"),
        ("version_language", "languages"),
        ("version_link", "repository"),
        ("qa_level", "unit.level"),
        ("dependency", "component"),
        ("deployment", "product_version"),
        ("deployment_port", "ports"),
        ("data_center_deployment", "data_centers"),
        ("requirement_status", "owner_status"),
        ("set_exclusion", "requirement_set"),
        ("document_link", "url"),
    ]:
        assert expected in by_entity, expected
    copied = {(e.entity, e.field): e.new_value for e in evs}
    assert copied[("component_version", "copied_from")] == "1.0"
    assert copied[("component_version", "maintainer")] == "owner"
    assert copied[("dependency", "component")] == "ledger"
    assert copied[("deployment_port", "ports")] == '["http", "https"]'


def test_copy_from_an_older_version_and_make_it_current(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        v2 = svc.create_version(
            s, actor=world["editor"], component_id=world.billing, version="2.0", make_current=True
        )
        svc.set_qa_level(s, actor=world["editor"], version_id=v2.id, kind="e2e", level="low")
        v3 = svc.create_version(
            s,
            actor=world["editor"],
            component_id=world.billing,
            version="3.0",
            copy_from=world.billing_v1,
            make_current=True,
        )
        v3_id = v3.id
    with Session(engine) as s:
        comp = s.get(Component, world.billing)
        assert comp is not None and comp.current_version_id == v3_id
        assert s.scalar(sa.select(sa.func.count()).where(QaLevel.version_id == v3_id)) == 0
    current = f.events(engine, field="current_version", entity_id=world.billing)
    assert [(e.old_value, e.new_value) for e in current] == [(None, "1.0"), ("1.0", "2.0"), ("2.0", "3.0")]
    assert len({e.change_set_id for e in current}) == 3  # one change set per call


def test_create_version_refuses_bad_input_and_strangers(engine: sa.Engine, world: World) -> None:
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.create_version(s, actor=world["owner"], component_id=world.billing, version="1.0"),
            DuplicateName,
            "version",
            "1.0",
        ),
        (
            lambda s: svc.create_version(s, actor=world["owner"], component_id=world.billing, version=" "),
            InvalidValue,
            "version",
            "' '",
        ),
        (
            lambda s: svc.create_version(
                s, actor=world["owner"], component_id=world.billing, version="2", copy_from=world.ledger_v1
            ),
            InvalidValue,
            "copy_from",
            world.ledger_v1,
        ),
        (
            lambda s: svc.create_version(
                s, actor=world["owner"], component_id=world.billing, version="2", copy_from=4242
            ),
            NotFound,
            "copy_from",
            4242,
        ),
        (
            lambda s: svc.create_version(s, actor=world["owner"], component_id=777, version="2"),
            NotFound,
            "component_id",
            777,
        ),
        (
            lambda s: svc.create_version(
                s, actor=world["other_owner"], component_id=world.billing, version="2"
            ),
            PermissionDenied,
            None,
            None,
        ),
        (
            lambda s: svc.create_version(s, actor=world["signer"], component_id=world.billing, version="2"),
            PermissionDenied,
            None,
            None,
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)


# --- update, current, delete --------------------------------------------------------------------------------


def test_update_version_audits_and_refuses_stale_and_bad_input(engine: sa.Engine, world: World) -> None:
    seen = _version(engine, world.billing_v1).row_version
    with session_scope(engine) as s:
        svc.update_version(
            s,
            actor=world["owner"],
            version_id=world.billing_v1,
            expected_row_version=seen,
            changes={"version": "1.1", "code_kloc": "3.25", "qa_applicable": False},
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "version": ("1.0", "1.1"),
        "code_kloc": (None, "3.2"),  # one decimal, rounded half-even
        "qa_applicable": ("true", "false"),
    }
    assert _version(engine, world.billing_v1).row_version == seen + 1
    with session_scope(engine) as s:
        svc.create_version(s, actor=world["owner"], component_id=world.billing, version="2.0")

    def update(changes: dict[str, Any], expected: int | None = None, role: str = "owner") -> Any:
        return lambda s: svc.update_version(
            s, actor=world[role], version_id=world.billing_v1, expected_row_version=expected, changes=changes
        )

    assert_refused(
        engine, update({"comments": "x"}, expected=seen), StaleWrite, field="row_version", value=seen
    )
    assert_refused(engine, update({"version": "2.0"}), DuplicateName, field="version", value="2.0")
    assert_refused(
        engine, update({"api_is_public": "maybe"}), InvalidValue, field="api_is_public", value="maybe"
    )
    assert_refused(engine, update({"code_kloc": "lots"}), InvalidValue, field="code_kloc", value="lots")
    assert_refused(engine, update({"code_kloc": -1}), InvalidValue, field="code_kloc", value="-1")
    assert_refused(engine, update({"maintainer_id": 1}), InvalidValue, field="maintainer_id", value="1")
    assert_refused(engine, update({"comments": "x"}, role="other_owner"), PermissionDenied)
    assert_refused(
        engine,
        lambda s: svc.update_version(
            s, actor=world["admin"], version_id=555, expected_row_version=None, changes={}
        ),
        NotFound,
        field="version_id",
        value=555,
    )


def test_current_version_and_delete(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        v2 = svc.create_version(s, actor=world["owner"], component_id=world.billing, version="2.0").id
    err = assert_refused(
        engine,
        lambda s: svc.delete_version(s, actor=world["owner"], version_id=world.billing_v1),
        InUse,
        field="version",
        value="1.0",
    )
    assert "current version" in str(err)
    comp_rv = f.snapshot  # keep the name short below
    del comp_rv
    with Session(engine) as s:
        rv = s.get(Component, world.billing).row_version  # type: ignore[union-attr]
    assert_refused(
        engine,
        lambda s: svc.set_current_version(
            s, actor=world["owner"], version_id=v2, expected_row_version=rv - 1
        ),
        StaleWrite,
        field="row_version",
        value=rv - 1,
    )
    assert_refused(
        engine, lambda s: svc.set_current_version(s, actor=world["viewer"], version_id=v2), PermissionDenied
    )
    with session_scope(engine) as s:
        svc.set_current_version(s, actor=world["owner"], version_id=v2, expected_row_version=rv)
        svc.delete_version(s, actor=world["owner"], version_id=world.billing_v1)
    with Session(engine) as s:
        assert s.get(ComponentVersion, world.billing_v1) is None
        comp = s.get(Component, world.billing)
        assert comp is not None and comp.current_version_id == v2
    # the only version may go; the component is then without a current version
    with session_scope(engine) as s:
        svc.delete_version(s, actor=world["editor"], version_id=v2)
    with Session(engine) as s:
        comp = s.get(Component, world.billing)
        assert comp is not None and comp.current_version_id is None
    evs = f.last_change_set_events(engine)
    assert ("component", "current_version", "2.0", None) in {
        (e.entity, e.field, e.old_value, e.new_value) for e in evs
    }
    assert ("component_version", "delete", "version", "2.0") in {
        (e.entity, e.action, e.field, e.old_value) for e in evs
    }


# rows a version owns that the database drops with it: (entity, field) → old value, and the rows
DROPPED_LISTS = {
    ("version_owner", "architect"): '["admin", "viewer"]',
    ("version_language", "languages"): '["Go", "Python"]',
    ("version_framework", "frameworks"): '["Django"]',
    ("version_database", "databases"): '["PostgreSQL"]',
    ("version_orm", "orms"): '["SQLAlchemy"]',
    ("version_logger", "loggers"): '["structlog"]',
    ("version_runtime", "runtimes"): '["CPython"]',
    ("version_link", "repository"): '["https://git.example.com/b", "https://git.example.com/a"]',
    ("version_link", "docs"): '["https://docs.example.com"]',
    ("qa_level", "unit.level"): "high",
    ("qa_level", "unit.notes"): "90% lines",
    ("deployment_port", "ports"): '["http", "https"]',
    ("data_center_deployment", "data_centers"): '["DC1"]',
}
DROPPED_ROWS = ("document_link", "dependency", "deployment", "requirement_status", "set_exclusion")


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def test_delete_version_records_every_row_the_cascade_drops(engine: sa.Engine, world: World) -> None:
    _fill_profile(engine, world)
    with session_scope(engine) as s:
        svc.create_version(
            s, actor=world["owner"], component_id=world.billing, version="2.0", make_current=True
        )
    with session_scope(engine) as s:
        svc.delete_version(s, actor=world["owner"], version_id=world.billing_v1)
    evs = f.last_change_set_events(engine)
    assert {e.component_id for e in evs} == {world.billing}
    deleted = [e for e in evs if e.action == "delete"]
    assert all(e.new_value is None for e in deleted)
    lists = {(e.entity, e.field): e.old_value for e in deleted if e.entity_id == world.billing_v1}
    for key, old in DROPPED_LISTS.items():
        if key[0] not in ("deployment_port", "data_center_deployment"):  # those name the deployment
            assert lists.get(key) == old, key
    assert {
        (e.entity, e.field): e.old_value for e in deleted if e.entity.startswith(("deployment_", "data_"))
    } == {k: v for k, v in DROPPED_LISTS.items() if k[0] in ("deployment_port", "data_center_deployment")}
    rows = Counter(e.entity for e in deleted if e.field is None)
    assert rows == Counter({"component_version": 1, **dict.fromkeys(DROPPED_ROWS, 1)})
    fields = {(e.entity, e.field): e.old_value for e in deleted}
    assert fields[("component_version", "maintainer")] == "owner"
    assert fields[("component_version", "responsible_qa")] == "editor"
    assert fields[("dependency", "component")] == "ledger"
    assert fields[("requirement_status", "owner_status")] == "ready"
    assert fields[("requirement_status", "signee_status")] == "ready"
    assert fields[("deployment", "service_name")] == "billing-svc"
    assert fields[("set_exclusion", "requirement_set")] == "Performance"
    assert fields[("document_link", "title")] == "HLD"


def test_delete_component_records_every_row_the_cascade_drops_in_a_few_queries(
    engine: sa.Engine, world: World
) -> None:
    _fill_profile(engine, world)
    with session_scope(engine) as s:
        svc.set_tags(s, actor=world["editor"], component_id=world.billing, tags=["core", "legacy-api"])
        s.add(Endpoint(pattern="https://api.example.com/billing/*", component_id=world.billing))

    def delete_billing(commit: bool) -> int:
        session = Session(engine)
        try:
            with _statements(engine) as seen:
                svc.delete_component(session, actor=world["editor"], component_id=world.billing)
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
        return len(seen)

    with_one_version = delete_billing(commit=False)
    with session_scope(engine) as s:  # two copies more: three times the rows, the same number of queries
        for version in ("2.0", "3.0"):
            svc.create_version(s, actor=world["owner"], component_id=world.billing, version=version)
    assert delete_billing(commit=True) == with_one_version
    evs = f.last_change_set_events(engine)
    assert {e.component_id for e in evs} == {world.billing}
    deleted = [e for e in evs if e.action == "delete"]
    assert all(e.new_value is None for e in deleted)
    rows = Counter(e.entity for e in deleted if e.field is None)
    assert rows == Counter(
        {"component": 1, "component_version": 3, "endpoint": 1, **dict.fromkeys(DROPPED_ROWS, 3)}
    )
    lists = Counter((e.entity, e.field) for e in deleted if (e.entity, e.field) in DROPPED_LISTS)
    assert lists == Counter(dict.fromkeys(DROPPED_LISTS, 3))
    assert {(e.entity, e.field): e.old_value for e in deleted if (e.entity, e.field) in DROPPED_LISTS} == (
        DROPPED_LISTS
    )
    fields = {(e.entity, e.field, e.old_value) for e in deleted}
    assert ("component_tag", "tags", '["core", "legacy-api"]') in fields
    assert ("endpoint", "pattern", "https://api.example.com/billing/*") in fields
    assert ("component_version", "version", "3.0") in fields
    assert ("component_version", "maintainer", "owner") in fields


# --- owners, stack, links, documents, QA --------------------------------------------------------------------


def test_set_owners_lists_and_single_roles(engine: sa.Engine, world: World) -> None:
    vid = world.billing_v1
    with session_scope(engine) as s:
        assert svc.set_owners(
            s, actor=world["owner"], version_id=vid, role="expert", usernames=["Viewer", "signer", "viewer"]
        ) == ["signer", "viewer"]
    (ev,) = f.last_change_set_events(engine)
    assert (ev.entity, ev.entity_id, ev.field, ev.old_value, ev.new_value) == (
        "version_owner",
        vid,
        "expert",
        "[]",
        '["signer", "viewer"]',
    )
    with session_scope(engine) as s:  # the owner hands the component over
        svc.set_owners(s, actor=world["owner"], version_id=vid, role="maintainer", usernames=["editor"])
    (ev,) = f.last_change_set_events(engine)
    assert (ev.entity, ev.field, ev.old_value, ev.new_value) == (
        "component_version",
        "maintainer",
        "owner",
        "editor",
    )
    # ... and is no longer an owner of it
    assert_refused(
        engine,
        lambda s: svc.set_owners(s, actor=world["owner"], version_id=vid, role="expert", usernames=[]),
        PermissionDenied,
    )


def test_set_owners_refuses_bad_input(engine: sa.Engine, world: World) -> None:
    vid = world.billing_v1
    cases: list[tuple[str, list[str], type[Exception], str, Any]] = [
        ("maintainer", ["owner", "editor"], InvalidValue, "maintainer", "editor"),
        ("responsible_qa", ["owner", "editor"], InvalidValue, "responsible_qa", "owner"),
        ("expert", ["nobody"], NotFound, "username", "nobody"),
        ("boss", ["owner"], InvalidValue, "role", "boss"),
    ]
    for role, users, error, field, value in cases:
        assert_refused(
            engine,
            lambda s, r=role, u=users: svc.set_owners(
                s, actor=world["owner"], version_id=vid, role=r, usernames=u
            ),
            error,
            field=field,
            value=value,
        )
    assert_refused(
        engine,
        lambda s: svc.set_owners(s, actor=world["other_owner"], version_id=vid, role="expert", usernames=[]),
        PermissionDenied,
    )


def test_stack_links_and_documents(engine: sa.Engine, world: World) -> None:
    vid, owner = world.billing_v1, world["owner"]
    with session_scope(engine) as s:
        assert svc.set_stack(s, actor=owner, version_id=vid, kind="languages", names=["go", "PYTHON"]) == [
            "Go",
            "Python",
        ]
        assert svc.set_links(
            s, actor=owner, version_id=vid, kind="metrics", urls=["https://m/2", "https://m/1", "https://m/2"]
        ) == ["https://m/2", "https://m/1"]
        doc = svc.add_document_link(
            s, actor=owner, version_id=vid, document_type="design", title="HLD", url="https://d/hld"
        )
        doc_id = doc.id
    evs = f.events(engine, component_id=world.billing)
    assert ("version_language", "languages", '["Go", "Python"]') in {
        (e.entity, e.field, e.new_value) for e in evs
    }
    assert ("version_link", "metrics", '["https://m/2", "https://m/1"]') in {
        (e.entity, e.field, e.new_value) for e in evs
    }
    cases: list[tuple[Any, type[Exception], str, Any]] = [
        (
            lambda s: svc.set_stack(s, actor=owner, version_id=vid, kind="languages", names=["Cobol"]),
            NotFound,
            "language",
            "Cobol",
        ),
        (
            lambda s: svc.set_stack(s, actor=owner, version_id=vid, kind="editors", names=[]),
            InvalidValue,
            "kind",
            "editors",
        ),
        (
            lambda s: svc.set_links(
                s, actor=owner, version_id=vid, kind="metrics", urls=["javascript:alert(1)"]
            ),
            InvalidValue,
            "url",
            "javascript:alert(1)",
        ),
        (
            lambda s: svc.set_links(s, actor=owner, version_id=vid, kind="wiki", urls=[]),
            InvalidValue,
            "kind",
            "wiki",
        ),
        (
            lambda s: svc.add_document_link(
                s, actor=owner, version_id=vid, document_type="Design", title="again", url="https://d/hld"
            ),
            DuplicateName,
            "url",
            "https://d/hld",
        ),
        (
            lambda s: svc.add_document_link(
                s, actor=owner, version_id=vid, document_type="Memo", title="x", url="https://d/x"
            ),
            NotFound,
            "document_type",
            "Memo",
        ),
        (lambda s: svc.remove_document_link(s, actor=owner, link_id=999), NotFound, "link_id", 999),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)
    assert_refused(
        engine, lambda s: svc.remove_document_link(s, actor=world["viewer"], link_id=doc_id), PermissionDenied
    )
    with session_scope(engine) as s:
        svc.remove_document_link(s, actor=owner, link_id=doc_id)
    (ev, *rest) = f.last_change_set_events(engine)
    assert (ev.entity, ev.action, ev.entity_id) == ("document_link", "delete", doc_id)


def test_qa_level_records_who_signed_it_off(engine: sa.Engine, world: World) -> None:
    vid = world.billing_v1
    with session_scope(engine) as s:
        svc.set_qa_level(
            s, actor=world["owner"], version_id=vid, kind="security", level="med", notes="pentest"
        )
    with Session(engine) as s:
        qa = s.get(QaLevel, (vid, "security"))
        assert (
            qa is not None
            and qa.signed_off_by_id == world["owner"].person_id
            and qa.signed_off_at is not None
        )
    with session_scope(engine) as s:  # notes only: the sign-off stays
        svc.set_qa_level(
            s, actor=world["editor"], version_id=vid, kind="security", level="med", notes="pentest 2"
        )
    with Session(engine) as s:
        qa = s.get(QaLevel, (vid, "security"))
        assert qa is not None and qa.signed_off_by_id == world["owner"].person_id
    assert f.field_changes(f.last_change_set_events(engine)) == {"security.notes": ("pentest", "pentest 2")}
    for kind, level, field, value in [
        ("fuzz", "high", "kind", "fuzz"),
        ("unit", "perfect", "level", "perfect"),
    ]:
        assert_refused(
            engine,
            lambda s, k=kind, lv=level: svc.set_qa_level(
                s, actor=world["owner"], version_id=vid, kind=k, level=lv
            ),
            InvalidValue,
            field=field,
            value=value,
        )
    assert_refused(
        engine,
        lambda s: svc.set_qa_level(s, actor=world["signer"], version_id=vid, kind="unit", level="low"),
        PermissionDenied,
    )


# --- dependencies -------------------------------------------------------------------------------------------


def test_dependencies_add_set_remove_with_audit(engine: sa.Engine, world: World) -> None:
    vid = world.billing_v1
    with session_scope(engine) as s:
        dep = svc.add_dependency(
            s, actor=world["owner"], version_id=vid, component=world.ledger, type="weak_rw"
        )
        first = dep.id
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "version_id": (None, str(vid)),
        "component": (None, "ledger"),
        "type": (None, "weak_rw"),
    }
    with session_scope(engine) as s:
        svc.register_component(s, actor=world["editor"], name="auth")
        deps = svc.set_dependencies(
            s,
            actor=world["owner"],
            version_id=vid,
            dependencies=[
                DependencySpec("ledger", "weak_rw", "notes now"),
                DependencySpec("auth", "compile_time"),
            ],
        )
        assert [(d.type, d.notes) for d in deps] == [("weak_rw", "notes now"), ("compile_time", None)]
    with session_scope(engine) as s:
        svc.remove_dependency(s, actor=world["owner"], dependency_id=first)
    with Session(engine) as s:
        assert s.scalars(sa.select(Dependency.type).where(Dependency.version_id == vid)).all() == [
            "compile_time"
        ]


def test_dependencies_refuse_bad_input(engine: sa.Engine, world: World) -> None:
    vid, owner = world.billing_v1, world["owner"]
    with session_scope(engine) as s:
        svc.add_dependency(s, actor=owner, version_id=vid, component="ledger", type="strong_rw")
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.add_dependency(s, actor=owner, version_id=vid, component="Billing"),
            InvalidValue,
            "component",
            "Billing",
        ),  # on itself, by name
        (
            lambda s: svc.add_dependency(s, actor=owner, version_id=vid, component=world.billing),
            InvalidValue,
            "component",
            world.billing,
        ),  # on itself, by id
        (
            lambda s: svc.add_dependency(
                s, actor=owner, version_id=vid, component="LEDGER", type="strong_rw"
            ),
            DuplicateName,
            "component",
            "LEDGER",
        ),
        (
            lambda s: svc.add_dependency(s, actor=owner, version_id=vid, component="nothing"),
            NotFound,
            "component",
            "nothing",
        ),
        (
            lambda s: svc.add_dependency(s, actor=owner, version_id=vid, component=4040),
            NotFound,
            "component",
            4040,
        ),
        (
            lambda s: svc.add_dependency(
                s, actor=owner, version_id=vid, component="ledger", type="sometimes"
            ),
            InvalidValue,
            "type",
            "sometimes",
        ),
        (
            lambda s: svc.add_dependency(s, actor=owner, version_id=9999, component="ledger"),
            NotFound,
            "version_id",
            9999,
        ),
        (
            lambda s: svc.set_dependencies(
                s,
                actor=owner,
                version_id=vid,
                dependencies=[DependencySpec("ledger"), DependencySpec("Ledger")],
            ),
            DuplicateName,
            "component",
            "Ledger",
        ),
        (
            lambda s: svc.set_dependencies(
                s, actor=owner, version_id=vid, dependencies=[DependencySpec("billing")]
            ),
            InvalidValue,
            "component",
            "billing",
        ),
        (
            lambda s: svc.remove_dependency(s, actor=owner, dependency_id=31337),
            NotFound,
            "dependency_id",
            31337,
        ),
        (
            lambda s: svc.add_dependency(
                s, actor=world["other_owner"], version_id=vid, component="ledger", type="weak_ro"
            ),
            PermissionDenied,
            None,
            None,
        ),
    ]
    for call, error, field, value in cases:
        err = assert_refused(engine, call, error, field=field, value=value)
        if isinstance(err, InvalidValue) and err.field == "component":
            assert "cannot depend on itself" in str(err)


# --- row versions of list edits -------------------------------------------------------------------------------


def test_every_list_edit_moves_the_version_row_version_and_a_stale_one_is_refused(
    engine: sa.Engine, world: World
) -> None:
    vid, owner = world.billing_v1, world["owner"]

    def dependency_id(s: Session) -> int:
        found = s.scalar(sa.select(Dependency.id).where(Dependency.version_id == vid))
        assert found is not None
        return int(found)

    def document_id(s: Session) -> int:
        found = s.scalar(sa.select(DocumentLink.id).where(DocumentLink.version_id == vid))
        assert found is not None
        return int(found)

    saves: list[tuple[str, Any]] = [
        (
            "set_owners",
            lambda s, rv: svc.set_owners(
                s, actor=owner, version_id=vid, role="expert", usernames=["viewer"], expected_row_version=rv
            ),
        ),
        (
            "set_links",
            lambda s, rv: svc.set_links(
                s,
                actor=owner,
                version_id=vid,
                kind="docs",
                urls=["https://d.example.com"],
                expected_row_version=rv,
            ),
        ),
        (
            "set_stack",
            lambda s, rv: svc.set_stack(
                s, actor=owner, version_id=vid, kind="languages", names=["Go"], expected_row_version=rv
            ),
        ),
        (
            "set_qa_level",
            lambda s, rv: svc.set_qa_level(
                s, actor=owner, version_id=vid, kind="unit", level="low", expected_row_version=rv
            ),
        ),
        (
            "add_dependency",
            lambda s, rv: svc.add_dependency(
                s, actor=owner, version_id=vid, component="ledger", type="weak_ro", expected_row_version=rv
            ),
        ),
        (
            "set_dependencies",
            lambda s, rv: svc.set_dependencies(
                s,
                actor=owner,
                version_id=vid,
                dependencies=[DependencySpec("ledger", "weak_ro", "renoted")],
                expected_row_version=rv,
            ),
        ),
        (
            "remove_dependency",
            lambda s, rv: svc.remove_dependency(
                s, actor=owner, dependency_id=dependency_id(s), expected_row_version=rv
            ),
        ),
        (
            "exclude_set",
            lambda s, rv: svc.exclude_set(
                s, actor=owner, version_id=vid, requirement_set="Performance", expected_row_version=rv
            ),
        ),
        (
            "include_set",
            lambda s, rv: svc.include_set(
                s, actor=owner, version_id=vid, requirement_set="Performance", expected_row_version=rv
            ),
        ),
        (
            "add_document_link",
            lambda s, rv: svc.add_document_link(
                s,
                actor=owner,
                version_id=vid,
                document_type="Design",
                title="HLD",
                url="https://docs.example.com/hld",
                expected_row_version=rv,
            ),
        ),
        (
            "remove_document_link",
            lambda s, rv: svc.remove_document_link(
                s, actor=owner, link_id=document_id(s), expected_row_version=rv
            ),
        ),
    ]
    for (name, save), (next_name, next_save) in zip(saves, [*saves[1:], saves[0]], strict=True):
        seen = _version(engine, vid).row_version
        with session_scope(engine) as s:  # the first save, based on `seen`, goes through ...
            save(s, seen)
        assert _version(engine, vid).row_version == seen + 1, name
        err = assert_refused(  # ... the second one, based on the same read, is refused
            engine,
            lambda s, next_save=next_save, seen=seen: next_save(s, seen),
            StaleWrite,
            field="row_version",
            value=seen,
        )
        assert isinstance(err, StaleWrite), next_name
        assert (err.entity, err.entity_id, err.actual) == ("component_version", vid, seen + 1), next_name
        assert f"component_version {vid}" in str(err)
    with session_scope(engine) as s:  # not checked when no row_version is given (as before)
        svc.set_owners(s, actor=owner, version_id=vid, role="expert", usernames=[])


def test_a_list_edit_racing_another_save_is_refused_as_stale(engine: sa.Engine, world: World) -> None:
    """The check passed on an old read, but another save of the version landed before the write."""
    vid = world.billing_v1
    mine = Session(engine, expire_on_commit=False)
    try:
        seen = mine.get(ComponentVersion, vid)
        assert seen is not None
        mine.commit()  # the read is over; the object stays in this session, with its old row_version
        with session_scope(engine) as theirs:
            svc.set_links(
                theirs, actor=world["editor"], version_id=vid, kind="docs", urls=["https://d.example.com"]
            )
        with pytest.raises(StaleWrite) as info:
            svc.set_owners(
                mine,
                actor=world["owner"],
                version_id=vid,
                role="expert",
                usernames=["viewer"],
                expected_row_version=seen.row_version,
            )
        mine.rollback()
    finally:
        mine.close()
    assert "component_version" in str(info.value) and "reload" in str(info.value)
    with Session(engine) as s:
        assert owner_lists(s, vid)["expert"] == []
