"""Reference data: create (parents by name), rename, delete (refused while in use), merge — permissions,
audit and bad input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InUse, InvalidValue, NotFound, PermissionDenied
from panopticum_data.models import (
    REFERENCE_MODELS,
    Base,
    Component,
    ComponentTag,
    Framework,
    Language,
    ProductVersion,
    Subcategory,
    Tag,
    VersionLanguage,
)
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _id(engine: sa.Engine, model: Any, name: str) -> int | None:
    with Session(engine) as s:
        return s.scalar(sa.select(model.id).where(model.name == name))


def test_create_with_parents_by_name_and_audit(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        sub = svc.create_reference(
            s,
            actor=world["admin"],
            table="subcategory",
            name="Invoices",
            category="payments",
            description="Bills",
        )
        fw = svc.create_reference(s, actor=world["admin"], table="framework", name="Flask", language="PYTHON")
        pv = svc.create_reference(
            s,
            actor=world["admin"],
            table="product_version",
            name="Suite 3",
            family="Suite",
            shortname="S3",
            position=3,
        )
        ids = (sub.id, fw.id, pv.id)
    with Session(engine) as s:
        sub, fw, pv = s.get(Subcategory, ids[0]), s.get(Framework, ids[1]), s.get(ProductVersion, ids[2])
        assert sub is not None and sub.category_id == _id(engine, REFERENCE_MODELS["category"], "Payments")
        assert fw is not None and fw.language_id == _id(engine, Language, "Python")
        assert pv is not None and (pv.shortname, pv.position) == ("S3", 3)
    evs = f.events(engine, entity="product_version", entity_id=ids[2])
    assert f.field_changes(evs) == {
        "name": (None, "Suite 3"),
        "shortname": (None, "S3"),
        "family": (None, "Suite"),
        "position": (None, "3"),
    }
    assert {e.actor_name for e in evs} == {"admin"}


def test_create_refuses_bad_input(engine: sa.Engine, world: World) -> None:
    admin = world["admin"]
    cases: list[tuple[dict[str, Any], type[Exception], str, Any]] = [
        ({"table": "planet", "name": "Mars"}, NotFound, "table", "planet"),
        ({"table": "category", "name": "payments"}, DuplicateName, "name", "payments"),
        ({"table": "subcategory", "name": "Cards", "category": "Retail"}, NotFound, "category", "Retail"),
        ({"table": "subcategory", "name": "Cards"}, InvalidValue, "category", "None"),
        ({"table": "tcp_port", "name": "gopher"}, InvalidValue, "port", "None"),
        ({"table": "tcp_port", "name": "gopher", "port": 99999}, InvalidValue, "port", "99999"),
        ({"table": "vendor", "name": "Initech", "colour": "red"}, InvalidValue, "colour", "red"),
        ({"table": "vendor", "name": ""}, InvalidValue, "name", "''"),
        (
            {"table": "data_center", "name": "DC9", "grafana_url": "javascript:x"},
            InvalidValue,
            "grafana_url",
            "javascript:x",
        ),
    ]
    for kwargs, error, field, value in cases:
        assert_refused(
            engine,
            lambda s, kw=kwargs: svc.create_reference(s, actor=admin, **kw),
            error,
            field=field,
            value=value,
        )


def test_editors_may_create_tags_only(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.create_reference(s, actor=world["editor"], table="tag", name="fintech")
    assert _id(engine, Tag, "fintech") is not None
    for role, table in [("editor", "category"), ("viewer", "tag"), ("owner", "tag"), ("signer", "vendor")]:
        err = assert_refused(
            engine,
            lambda s, r=role, t=table: svc.create_reference(s, actor=world[r], table=t, name="new"),
            PermissionDenied,
        )
        assert role in str(err)
    for call in (
        lambda s: svc.rename_reference(s, actor=world["editor"], table="tag", name="core", new_name="kernel"),
        lambda s: svc.delete_reference(s, actor=world["editor"], table="tag", name="fintech"),
        lambda s: svc.merge_reference(s, actor=world["editor"], table="tag", source="fintech", target="core"),
    ):
        assert_refused(engine, call, PermissionDenied)


def test_rename_and_update(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.rename_reference(s, actor=world["admin"], table="language", name="go", new_name="Golang")
        svc.update_reference(
            s,
            actor=world["admin"],
            table="framework",
            name="Django",
            changes={"notes": "batteries", "language": "Golang"},
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "notes": (None, "batteries"),
        "language": ("Python", "Golang"),
    }
    for call, error, field, value in [
        (
            lambda s: svc.rename_reference(
                s, actor=world["admin"], table="language", name="Golang", new_name="python"
            ),
            DuplicateName,
            "name",
            "python",
        ),
        (
            lambda s: svc.rename_reference(
                s, actor=world["admin"], table="language", name="Rust", new_name="Rusty"
            ),
            NotFound,
            "language",
            "Rust",
        ),
        (
            lambda s: svc.update_reference(
                s, actor=world["admin"], table="framework", name="Django", changes={"language": "Perl"}
            ),
            NotFound,
            "language",
            "Perl",
        ),
    ]:
        assert_refused(engine, call, error, field=field, value=value)


def test_delete_is_refused_while_in_use(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.update_person(
            s,
            actor=world["admin"],
            person_id=world["viewer"].person_id or 0,
            expected_row_version=None,
            changes={"department": "R&D"},
        )
    cases = [
        ("category", "Payments", ["3 rows", "subcategory.category_id (1)", "component.category_id (2)"]),
        ("tag", "core", ["1 row: component_tag.tag_id (1)"]),
        (
            "language",
            "Python",
            ["3 rows", "framework.language_id (1)", "orm.language_id (1)", "runtime.language_id (1)"],
        ),
        ("department", "R&D", ["1 row: person.department_id (1)"]),
        ("product_family", "Suite", ["2 rows: product_version.family_id (2)"]),
    ]
    for table, name, used_by in cases:
        err = assert_refused(
            engine,
            lambda s, t=table, n=name: svc.delete_reference(s, actor=world["admin"], table=t, name=n),
            InUse,
            field=table,
            value=name,
        )
        assert all(part in str(err) for part in used_by), str(err)
    with session_scope(engine) as s:
        svc.delete_reference(s, actor=world["admin"], table="vendor", name="acme")
    assert _id(engine, REFERENCE_MODELS["vendor"], "Acme") is None
    assert f.field_changes(f.last_change_set_events(engine)) == {"name": ("Acme", None)}


def test_every_foreign_key_to_a_reference_table_is_seen(engine: sa.Engine, world: World) -> None:
    """The usage finder walks the metadata: each referencing column of each reference table is checked."""
    from panopticum_data.services._util import table_of
    from panopticum_data.services.reference import _referencing

    for table, model in REFERENCE_MODELS.items():
        found = {(t.name, c.name) for t, c in _referencing(table_of(model))}
        expected = {
            (t.name, fk.parent.name)
            for t in Base.metadata.sorted_tables
            for fk in t.foreign_keys
            if fk.column.table.name == table
        }
        assert found == expected, table
    assert ("person", "department_id") in {
        (t.name, c.name) for t, c in _referencing(table_of(REFERENCE_MODELS["department"]))
    }


def test_merge_moves_every_reference_and_drops_duplicates(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.set_tags(s, actor=world["editor"], component_id=world.billing, tags=["core", "legacy-api"])
        svc.set_tags(s, actor=world["editor"], component_id=world.ledger, tags=["legacy-api"])
        svc.set_stack(
            s, actor=world["editor"], version_id=world.billing_v1, kind="languages", names=["Go", "Python"]
        )
        svc.set_stack(s, actor=world["editor"], version_id=world.ledger_v1, kind="languages", names=["Go"])
        svc.create_reference(s, actor=world["admin"], table="framework", name="Gin", language="Go")
    core, legacy = _id(engine, Tag, "core"), _id(engine, Tag, "legacy-api")
    with session_scope(engine) as s:
        svc.merge_reference(s, actor=world["admin"], table="tag", source="legacy-api", target="CORE")
        svc.merge_reference(s, actor=world["admin"], table="language", source="go", target="Python")
    with Session(engine) as s:
        tags = s.execute(
            sa.select(ComponentTag.component_id, ComponentTag.tag_id).order_by(ComponentTag.component_id)
        )
        assert [tuple(r) for r in tags] == [(world.billing, core), (world.ledger, core)]
        assert s.get(Tag, legacy) is None
        python = _id(engine, Language, "Python")
        langs = s.execute(
            sa.select(VersionLanguage.version_id, VersionLanguage.language_id).order_by(
                VersionLanguage.version_id
            )
        )
        assert [tuple(r) for r in langs] == [(world.billing_v1, python), (world.ledger_v1, python)]
        assert s.scalar(sa.select(Framework.language_id).where(Framework.name == "Gin")) == python
        assert _id(engine, Language, "Go") is None
    tag_events = f.events(engine, entity="component_tag")
    dropped = [e for e in tag_events if e.action == "delete"]
    moved = [e for e in tag_events if e.action == "update" and e.field == "tag"]
    assert [(e.entity_id, e.old_value, e.component_id) for e in dropped] == [
        (world.billing, "legacy-api", world.billing)
    ]
    assert [(e.entity_id, e.old_value, e.new_value) for e in moved] == [(world.ledger, "legacy-api", "core")]
    lang_events = {
        (e.entity, e.entity_id, e.action, e.component_id)
        for e in f.events(engine, field="language")
        if e.old_value == "Go"
    }
    assert ("version_language", world.ledger_v1, "update", world.ledger) in lang_events
    assert ("version_language", world.billing_v1, "delete", world.billing) in lang_events
    assert any(e.field == "merged_into" and e.new_value == "core" for e in f.events(engine, entity="tag"))


def test_merge_categories_moves_components_and_bumps_their_row_version(
    engine: sa.Engine, world: World
) -> None:
    with Session(engine) as s:
        before = s.get(Component, world.billing).row_version  # type: ignore[union-attr]
    with session_scope(engine) as s:
        svc.create_reference(s, actor=world["admin"], table="category", name="Money")
        svc.merge_reference(s, actor=world["admin"], table="category", source="Payments", target="Money")
    with Session(engine) as s:
        comp = s.get(Component, world.billing)
        assert comp is not None and comp.row_version == before + 1
        assert comp.category_id == _id(engine, REFERENCE_MODELS["category"], "Money")
    evs = f.events(engine, component_id=world.billing, field="category")
    assert (evs[-1].entity, evs[-1].old_value, evs[-1].new_value) == ("component", "Payments", "Money")
    for call, error, field, value in [
        (
            lambda s: svc.merge_reference(
                s, actor=world["admin"], table="category", source="Money", target="money"
            ),
            InvalidValue,
            "target",
            "money",
        ),
        (
            lambda s: svc.merge_reference(
                s, actor=world["admin"], table="category", source="Nope", target="Money"
            ),
            NotFound,
            "category",
            "Nope",
        ),
        (
            lambda s: svc.merge_reference(
                s, actor=world["admin"], table="category", source="Money", target="Nope"
            ),
            NotFound,
            "category",
            "Nope",
        ),
    ]:
        assert_refused(engine, call, error, field=field, value=value)


def test_merge_refuses_subcategories_of_different_categories(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.update_component(
            s,
            actor=world["editor"],
            component_id=world.billing,
            expected_row_version=None,
            changes={"subcategory": "Billing"},  # billing: Payments / Billing
        )
        svc.create_reference(
            s, actor=world["admin"], table="subcategory", name="Invoicing", category="Payments"
        )
    err = assert_refused(  # Storage is in Platform: billing would be Payments / Storage
        engine,
        lambda s: svc.merge_reference(
            s, actor=world["admin"], table="subcategory", source="Billing", target="Storage"
        ),
        InvalidValue,
        field="target",
        value="Storage",
    )
    assert "'Platform'" in str(err) and "'Payments'" in str(err)
    with session_scope(engine) as s:  # within one category a merge goes through
        svc.merge_reference(
            s, actor=world["admin"], table="subcategory", source="Billing", target="Invoicing"
        )
    with Session(engine) as s:
        comp = s.get(Component, world.billing)
    assert comp is not None
    assert comp.subcategory_id == _id(engine, REFERENCE_MODELS["subcategory"], "Invoicing")
    assert comp.category_id == _id(engine, REFERENCE_MODELS["category"], "Payments")
