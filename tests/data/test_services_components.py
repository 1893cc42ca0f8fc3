"""Components: register, update, delete, tags — permissions, audit, stale writes, bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InUse, InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import Component, ComponentVersion, Tag
from panopticum_data.services.version_parts import owner_lists
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _component(engine: sa.Engine, cid: int) -> Component:
    with Session(engine) as s:
        obj = s.get(Component, cid)
        assert obj is not None
        s.expunge(obj)
        return obj


# --- register ---------------------------------------------------------------------------------------------


def test_register_creates_component_first_version_and_tags_in_one_change_set(
    engine: sa.Engine, world: World
) -> None:
    with session_scope(engine) as s:
        comp = svc.register_component(
            s,
            actor=world["editor"],
            name="payments-api",
            description="**Pays**",
            life_status="new",
            type="service",  # references resolve ignoring case
            subcategory="Billing",  # brings its category
            vendor="Acme",
            privacy_class="Personal data",
            highly_loaded=True,
            tags=["core", "brand-new"],
            version="2.0",
        )
        cid = comp.id
    with Session(engine) as s:
        stored = s.get(Component, cid)
        assert stored is not None
        version = s.get(ComponentVersion, stored.current_version_id)
        assert version is not None and version.version == "2.0"
        assert stored.life_status == "new" and stored.highly_loaded is True
        tags = s.scalars(sa.select(Tag.name).order_by(Tag.name)).all()
        assert "brand-new" in tags  # created by the editor
    evs = f.events(engine, component_id=cid)
    assert len({e.change_set_id for e in evs}) == 1
    assert {e.actor_name for e in evs} == {"editor"}
    changes = f.field_changes([e for e in evs if e.entity == "component"])
    assert changes["name"] == (None, "payments-api")
    assert changes["type"] == (None, "Service")
    assert changes["category"] == (None, "Payments")
    assert changes["subcategory"] == (None, "Billing")
    assert changes["current_version"] == (None, "2.0")
    tag_event = next(e for e in evs if e.entity == "component_tag")
    assert tag_event.new_value == '["brand-new", "core"]'
    assert any(e.entity == "tag" for e in f.events(engine, field="name", new_value="brand-new"))


def test_register_needs_an_editor(engine: sa.Engine, world: World) -> None:
    for role in ("owner", "signer", "viewer"):
        err = assert_refused(
            engine,
            lambda s, role=role: svc.register_component(s, actor=world[role], name="x"),
            PermissionDenied,
        )
        assert f"{role} may not register components" in str(err)


REGISTER_BAD_INPUT = [
    ({"name": "BILLING"}, DuplicateName, "name", "BILLING"),
    ({"name": "x", "category": "Nope"}, NotFound, "category", "Nope"),
    ({"name": "x", "type": "Daemon"}, NotFound, "type", "Daemon"),
    ({"name": "x", "vendor": "Initech"}, NotFound, "vendor", "Initech"),
    ({"name": "x", "life_status": "zombie"}, InvalidValue, "life_status", "zombie"),
    ({"name": "  "}, InvalidValue, "name", "'  '"),
    ({"name": "x", "category": "Platform", "subcategory": "Billing"}, InvalidValue, "subcategory", "Billing"),
    ({"name": "x", "version": ""}, InvalidValue, "version", "''"),
    ({"name": "x", "highly_loaded": "yes"}, InvalidValue, "highly_loaded", "yes"),
]


def test_register_refuses_bad_input(engine: sa.Engine, world: World) -> None:
    for kwargs, error, field, value in REGISTER_BAD_INPUT:
        assert_refused(
            engine,
            lambda s, kw=kwargs: svc.register_component(s, actor=world["editor"], **kw),
            error,
            field=field,
            value=value,
        )


# --- update -----------------------------------------------------------------------------------------------

UPDATE_MATRIX = [
    ("admin", True),
    ("editor", True),
    ("owner", True),  # owns billing
    ("other_owner", False),  # owns ledger only
    ("signer", False),
    ("other_signer", False),
    ("viewer", False),
]


def test_update_permission_matrix(engine: sa.Engine, world: World) -> None:
    for role, allowed in UPDATE_MATRIX:

        def call(s: Session, role: str = role) -> None:
            svc.update_component(
                s,
                actor=world[role],
                component_id=world.billing,
                expected_row_version=None,
                changes={"description": f"by {role}"},
            )

        if allowed:
            with session_scope(engine) as s:
                call(s)
            assert _component(engine, world.billing).description == f"by {role}"
        else:
            err = assert_refused(engine, call, PermissionDenied)
            assert f"{role} may not change component 'billing'" in str(err)


def test_an_owner_removed_from_the_current_version_loses_write_rights(
    engine: sa.Engine, world: World
) -> None:
    """Only the current version's owners own the component: the roles copied into older versions
    (or left on them) grant nothing."""
    # other_owner is the architect of ledger 1.0; v99 (a copy) is made current without her
    with session_scope(engine) as s:
        v99 = svc.create_version(
            s, actor=world["editor"], component_id=world.ledger, version="99", make_current=True
        ).id
        svc.set_owners(s, actor=world["editor"], version_id=v99, role="architect", usernames=[])
    with Session(engine) as s:
        assert owner_lists(s, world.ledger_v1)["architect"] == ["other_owner"]  # still on the old one
    architect = world["other_owner"]
    assert_refused(
        engine,
        lambda s: svc.update_component(
            s,
            actor=architect,
            component_id=world.ledger,
            expected_row_version=None,
            changes={"description": "still mine"},
        ),
        PermissionDenied,
    )
    for vid in (v99, world.ledger_v1):  # she cannot re-add herself, on the current or the old version
        assert_refused(
            engine,
            lambda s, vid=vid: svc.set_owners(
                s, actor=architect, version_id=vid, role="architect", usernames=["other_owner"]
            ),
            PermissionDenied,
        )
    assert_refused(
        engine,
        lambda s: svc.set_tags(s, actor=architect, component_id=world.ledger, tags=["core"]),
        PermissionDenied,
    )
    err = assert_refused(  # the set-based check of the batch services agrees
        engine,
        lambda s: svc.set_owner_claims(
            s, actor=architect, changes=[svc.ClaimChange(world.ledger_v1, world.encrypt, "ready")]
        ),
        PermissionDenied,
    )
    assert isinstance(err, svc.BatchPermissionDenied)
    # a component without a current version has no owners at all
    with session_scope(engine) as s:
        svc.delete_version(s, actor=world["editor"], version_id=world.ledger_v1)
        svc.delete_version(s, actor=world["editor"], version_id=v99)
        comp = s.get(Component, world.billing)
        assert comp is not None
        comp.current_version_id = None  # billing 1.0 stays, but is not current
    assert_refused(
        engine,
        lambda s: svc.update_component(
            s, actor=world["owner"], component_id=world.billing, expected_row_version=None, changes={}
        ),
        PermissionDenied,
    )
    # the current version's owners keep their rights
    with session_scope(engine) as s:
        svc.set_current_version(s, actor=world["editor"], version_id=world.billing_v1)
    with session_scope(engine) as s:
        svc.update_component(
            s,
            actor=world["owner"],
            component_id=world.billing,
            expected_row_version=None,
            changes={"description": "mine"},
        )


def test_update_records_old_and_new_values_by_name_and_moves_row_version(
    engine: sa.Engine, world: World
) -> None:
    before = _component(engine, world.billing)
    with session_scope(engine) as s:
        svc.update_component(
            s,
            actor=world["owner"],
            component_id=world.billing,
            expected_row_version=before.row_version,
            changes={
                "name": "billing-core",
                "category": "Platform",
                "subcategory": "Storage",
                "vendor": "Acme",
                "description": "New text",
                "highly_loaded": False,
            },
        )
    after = _component(engine, world.billing)
    assert after.row_version == before.row_version + 1
    evs = f.last_change_set_events(engine)
    assert {e.actor_name for e in evs} == {"owner"}
    assert {e.component_id for e in evs} == {world.billing}
    assert {e.entity for e in evs} == {"component"}
    assert f.field_changes(evs) == {
        "name": ("billing", "billing-core"),
        "category": ("Payments", "Platform"),
        "subcategory": (None, "Storage"),
        "vendor": (None, "Acme"),
        "description": (None, "New text"),
    }  # highly_loaded did not change: no event


def test_update_without_a_change_writes_nothing(engine: sa.Engine, world: World) -> None:
    before = f.snapshot(engine)
    with session_scope(engine) as s:
        svc.update_component(
            s,
            actor=world["editor"],
            component_id=world.billing,
            expected_row_version=None,
            changes={"name": "billing"},
        )
    assert f.snapshot(engine) == before


def test_update_refuses_a_stale_write(engine: sa.Engine, world: World) -> None:
    seen = _component(engine, world.billing).row_version
    with session_scope(engine) as s:  # someone else saves first
        svc.update_component(
            s,
            actor=world["editor"],
            component_id=world.billing,
            expected_row_version=seen,
            changes={"description": "theirs"},
        )
    err = assert_refused(
        engine,
        lambda s: svc.update_component(
            s,
            actor=world["owner"],
            component_id=world.billing,
            expected_row_version=seen,
            changes={"description": "mine"},
        ),
        StaleWrite,
        field="row_version",
        value=seen,
    )
    assert "component" in str(err) and str(world.billing) in str(err)
    assert isinstance(err, StaleWrite) and err.actual == seen + 1


UPDATE_BAD_INPUT = [
    ({"name": "Ledger"}, DuplicateName, "name", "Ledger"),
    ({"category": "Nope"}, NotFound, "category", "Nope"),
    ({"privacy_class": "Secret"}, NotFound, "privacy_class", "Secret"),
    ({"life_status": "dead"}, InvalidValue, "life_status", "dead"),
    ({"colour": "red"}, InvalidValue, "colour", "red"),
    ({"subcategory": "Storage"}, InvalidValue, "subcategory", "Storage"),  # billing is in Payments
    ({"name": None}, InvalidValue, "name", "None"),
]


def test_update_refuses_bad_input(engine: sa.Engine, world: World) -> None:
    for changes, error, field, value in UPDATE_BAD_INPUT:
        assert_refused(
            engine,
            lambda s, ch=changes: svc.update_component(
                s, actor=world["owner"], component_id=world.billing, expected_row_version=None, changes=ch
            ),
            error,
            field=field,
            value=value,
        )
    assert_refused(
        engine,
        lambda s: svc.update_component(
            s, actor=world["admin"], component_id=999, expected_row_version=None, changes={"description": "x"}
        ),
        NotFound,
        field="component_id",
        value=999,
    )


def test_change_sets_group_several_calls(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        cs = svc.open_change_set(s, world["editor"], summary="grid save")
        for cid in (world.billing, world.ledger):
            svc.update_component(
                s,
                actor=world["editor"],
                component_id=cid,
                expected_row_version=None,
                changes={"life_status": "legacy"},
                change_set=cs,
            )
    evs = f.last_change_set_events(engine)
    assert {e.component_id for e in evs} == {world.billing, world.ledger}


# --- delete -----------------------------------------------------------------------------------------------


def test_delete_component_removes_versions_and_records_it(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.create_version(s, actor=world["editor"], component_id=world.ledger, version="2.0")
    with session_scope(engine) as s:
        svc.delete_component(s, actor=world["editor"], component_id=world.ledger)
    with Session(engine) as s:
        assert s.get(Component, world.ledger) is None
        assert s.scalar(sa.select(sa.func.count()).where(ComponentVersion.component_id == world.ledger)) == 0
    evs = f.last_change_set_events(engine)
    assert ("component", "delete", "name", "ledger") in {
        (e.entity, e.action, e.field, e.old_value) for e in evs
    }
    assert sum(1 for e in evs if e.entity == "component_version" and e.field is None) == 2


def test_delete_component_needs_an_editor(engine: sa.Engine, world: World) -> None:
    for role in ("owner", "viewer"):
        assert_refused(
            engine,
            lambda s, r=role: svc.delete_component(s, actor=world[r], component_id=world.billing),
            PermissionDenied,
        )


def test_delete_component_in_use_is_refused(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.add_dependency(
            s, actor=world["editor"], version_id=world.billing_v1, component="ledger", type="weak_ro"
        )
    err = assert_refused(
        engine,
        lambda s: svc.delete_component(s, actor=world["admin"], component_id=world.ledger),
        InUse,
        field="component",
        value="ledger",
    )
    assert "billing 1.0 (weak_ro)" in str(err)


def test_delete_component_stale(engine: sa.Engine, world: World) -> None:
    assert_refused(
        engine,
        lambda s: svc.delete_component(
            s, actor=world["admin"], component_id=world.ledger, expected_row_version=1
        ),
        StaleWrite,
        field="row_version",
        value=1,
    )


# --- tags ---------------------------------------------------------------------------------------------------


def test_owner_sets_existing_tags_and_the_change_is_one_list_event(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        assert svc.set_tags(
            s, actor=world["owner"], component_id=world.billing, tags=["Legacy-API", "core"]
        ) == [
            "core",
            "legacy-api",
        ]
    (ev,) = f.last_change_set_events(engine)
    assert (ev.entity, ev.entity_id, ev.field) == ("component_tag", world.billing, "tags")
    assert (ev.old_value, ev.new_value) == ('["core"]', '["core", "legacy-api"]')


def test_unknown_tag_is_created_by_an_editor_only(engine: sa.Engine, world: World) -> None:
    assert_refused(
        engine,
        lambda s: svc.set_tags(s, actor=world["owner"], component_id=world.billing, tags=["shiny"]),
        NotFound,
        field="tag",
        value="shiny",
    )
    with session_scope(engine) as s:
        svc.set_tags(s, actor=world["editor"], component_id=world.billing, tags=["shiny"])
    with Session(engine) as s:
        assert s.scalar(sa.select(Tag.id).where(Tag.name == "shiny")) is not None


def test_tags_of_another_component_are_refused(engine: sa.Engine, world: World) -> None:
    err = assert_refused(
        engine,
        lambda s: svc.set_tags(s, actor=world["other_owner"], component_id=world.billing, tags=[]),
        PermissionDenied,
    )
    assert "other_owner may not tag component 'billing'" in str(err)


def test_tags_move_the_component_row_version_and_a_stale_tag_save_is_refused(
    engine: sa.Engine, world: World
) -> None:
    seen = _component(engine, world.billing).row_version
    with session_scope(engine) as s:
        svc.set_tags(
            s,
            actor=world["owner"],
            component_id=world.billing,
            tags=["legacy-api"],
            expected_row_version=seen,
        )
    assert _component(engine, world.billing).row_version == seen + 1
    for call in (
        lambda s: svc.set_tags(
            s, actor=world["editor"], component_id=world.billing, tags=["core"], expected_row_version=seen
        ),
        lambda s: svc.update_component(
            s,
            actor=world["editor"],
            component_id=world.billing,
            expected_row_version=seen,
            changes={"description": "based on the old read"},
        ),
    ):
        err = assert_refused(engine, call, StaleWrite, field="row_version", value=seen)
        assert isinstance(err, StaleWrite)
        assert (err.entity, err.entity_id, err.actual) == ("component", world.billing, seen + 1)


def test_a_save_racing_another_one_is_refused_as_stale(engine: sa.Engine, world: World) -> None:
    """The check passed on an old read, but another save landed before the write: still a StaleWrite."""
    mine = Session(engine, expire_on_commit=False)
    try:
        seen = mine.get(Component, world.billing)
        assert seen is not None
        mine.commit()  # the read is over; the object stays in this session, with its old row_version
        with session_scope(engine) as theirs:
            svc.update_component(
                theirs,
                actor=world["editor"],
                component_id=world.billing,
                expected_row_version=None,
                changes={"description": "theirs"},
            )
        with pytest.raises(StaleWrite) as info:
            svc.update_component(
                mine,
                actor=world["owner"],
                component_id=world.billing,
                expected_row_version=seen.row_version,
                changes={"description": "mine"},
            )
        mine.rollback()
    finally:
        mine.close()
    assert "component" in str(info.value) and "reload" in str(info.value)
    assert _component(engine, world.billing).description == "theirs"


def test_ids_and_row_versions_straight_from_a_data_frame(engine: sa.Engine, world: World) -> None:
    import numpy as np

    with session_scope(engine) as s:
        svc.update_component(
            s,
            actor=world["owner"],
            component_id=np.int64(world.billing),  # type: ignore[arg-type]
            expected_row_version=np.float64("nan"),  # type: ignore[arg-type]
            changes={"description": "from a grid"},
        )
        svc.add_dependency(
            s,
            actor=world["owner"],
            version_id=np.int64(world.billing_v1),  # type: ignore[arg-type]
            component=np.int64(world.ledger),
        )  # type: ignore[arg-type]
        svc.set_owner_claims(
            s,
            actor=world["owner"],
            changes=[
                svc.ClaimChange(
                    np.int64(world.billing_v1),
                    np.int64(world.encrypt),
                    "ready",  # type: ignore[arg-type]
                    expected_row_version=np.float64("nan"),
                )
            ],
        )  # type: ignore[arg-type]
    assert _component(engine, world.billing).description == "from a grid"
    assert_refused(
        engine,
        lambda s: svc.update_component(
            s,
            actor=world["owner"],
            component_id="billing",  # type: ignore[arg-type]
            expected_row_version=None,
            changes={},
        ),
        NotFound,
        field="component_id",
        value="billing",
    )
