"""Deployments: add, update (with a stale check that covers ports), remove — audit and bad input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import Deployment
from panopticum_data.services.deployments import deployment_lists
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _deployment(engine: sa.Engine, dep_id: int) -> tuple[Deployment, dict[str, list[str]]]:
    with Session(engine) as s:
        dep = s.get(Deployment, dep_id)
        assert dep is not None
        lists = deployment_lists(s, dep.version_id)[dep_id]
        s.expunge(dep)
        return dep, lists


def test_add_update_remove_deployment(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        dep = svc.add_deployment(
            s,
            actor=world["owner"],
            version_id=world.billing_v1,
            product_version="suite 1",
            location_class="Cloud",
            environment="Kubernetes",
            ports=["HTTPS", 80, "80"],  # by name, by number, as text; repeats dropped
            data_centers=["DC1"],
            service_name="billing",
            is_new=True,
        )
        dep_id = dep.id
    row, lists = _deployment(engine, dep_id)
    assert lists == {"ports": ["http", "https"], "data_centers": ["DC1"]}
    created = f.field_changes(f.last_change_set_events(engine))
    assert created["product_version"] == (None, "Suite 1")
    assert created["ports"] == ("[]", '["http", "https"]')
    assert created["is_new"] == (None, "true")

    with session_scope(engine) as s:  # a change of ports alone moves the row version on
        svc.update_deployment(
            s,
            actor=world["owner"],
            deployment_id=dep_id,
            expected_row_version=row.row_version,
            changes={"ports": [443]},
        )
    after, lists = _deployment(engine, dep_id)
    assert lists["ports"] == ["https"] and after.row_version == row.row_version + 1
    assert f.field_changes(f.last_change_set_events(engine)) == {"ports": ('["http", "https"]', '["https"]')}

    with session_scope(engine) as s:
        svc.update_deployment(
            s,
            actor=world["editor"],
            deployment_id=dep_id,
            expected_row_version=after.row_version,
            changes={
                "product_version": "Suite 2",
                "location_class": "On-prem",
                "notes": "moved",
                "environment": None,
            },
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "product_version": ("Suite 1", "Suite 2"),
        "location_class": ("Cloud", "On-prem"),
        "environment": ("Kubernetes", None),
        "notes": (None, "moved"),
    }
    assert_refused(
        engine,
        lambda s: svc.update_deployment(
            s,
            actor=world["owner"],
            deployment_id=dep_id,
            expected_row_version=after.row_version,
            changes={"notes": "late"},
        ),
        StaleWrite,
        field="row_version",
        value=after.row_version,
    )
    with session_scope(engine) as s:
        svc.remove_deployment(s, actor=world["owner"], deployment_id=dep_id)
    with Session(engine) as s:
        assert s.get(Deployment, dep_id) is None
    evs = f.last_change_set_events(engine)
    assert ("deployment", "delete", "ports", '["https"]') in {
        (e.entity, e.action, e.field, e.old_value) for e in evs
    }


def test_deployments_refuse_bad_input(engine: sa.Engine, world: World) -> None:
    vid = world.billing_v1

    def add(**kw: Any) -> Any:
        args = {"product_version": "Suite 1", "location_class": "Cloud"} | kw
        return lambda s: svc.add_deployment(s, actor=world["owner"], version_id=vid, **args)

    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (add(product_version="Suite 9"), NotFound, "product_version", "Suite 9"),
        (add(product_version=None), InvalidValue, "product_version", "None"),
        (add(location_class="Moon"), NotFound, "location_class", "Moon"),
        (add(runtime="JVM"), NotFound, "runtime", "JVM"),
        (add(ports=["gopher"]), NotFound, "port", "gopher"),
        (add(ports=[8080]), NotFound, "port", "8080"),
        (add(ports=[70000]), InvalidValue, "port", "70000"),
        (add(data_centers=["Mars"]), NotFound, "data_center", "Mars"),
        (add(is_new="perhaps"), InvalidValue, "is_new", "perhaps"),
        (
            lambda s: svc.add_deployment(
                s,
                actor=world["other_owner"],
                version_id=vid,
                product_version="Suite 1",
                location_class="Cloud",
            ),
            PermissionDenied,
            None,
            None,
        ),
        (
            lambda s: svc.update_deployment(
                s, actor=world["owner"], deployment_id=404, expected_row_version=None, changes={}
            ),
            NotFound,
            "deployment_id",
            404,
        ),
        (
            lambda s: svc.remove_deployment(s, actor=world["owner"], deployment_id=404),
            NotFound,
            "deployment_id",
            404,
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)
    with session_scope(engine) as s:
        dep_id = svc.add_deployment(
            s, actor=world["owner"], version_id=vid, product_version="Suite 1", location_class="Cloud"
        ).id
    for changes, error, field, value in [
        ({"location_class": None}, InvalidValue, "location_class", "None"),
        ({"ports": ["ftp"]}, NotFound, "port", "ftp"),
        ({"colour": "blue"}, InvalidValue, "colour", "blue"),
    ]:
        assert_refused(
            engine,
            lambda s, ch=changes: svc.update_deployment(
                s, actor=world["owner"], deployment_id=dep_id, expected_row_version=None, changes=ch
            ),
            error,
            field=field,
            value=value,
        )
    assert_refused(
        engine,
        lambda s: svc.remove_deployment(s, actor=world["viewer"], deployment_id=dep_id),
        PermissionDenied,
    )
