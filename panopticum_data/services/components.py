"""Register, update and delete components, and set their tags.

Audit: entity ``component`` with logical field names; references (type, category, subcategory,
vendor, privacy_class) are recorded by name. Tags are one event (entity ``component_tag``,
field ``tags``, old → new name lists). Every event carries the component id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ..enums import LIFE_STATUSES
from ..errors import InUse, InvalidValue, NotFound
from ..models import (
    Category,
    ChangeSet,
    Component,
    ComponentTag,
    ComponentType,
    ComponentVersion,
    Dependency,
    Endpoint,
    PrivacyClass,
    Subcategory,
    Tag,
    Vendor,
)
from ._core import (
    Actor,
    Audit,
    begin_change,
    ensure_unique_name,
    require_component_write,
    require_editor,
)
from ._util import (
    FieldChange,
    RefField,
    apply_changes,
    check_keys,
    check_version,
    clean_bool,
    clean_choice,
    clean_name,
    clean_text,
    describe_rows,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    names_by_ids,
    record_list,
    record_row,
    row_of,
    table_of,
    touch,
    unique_names,
)
from .versions import record_parts

VERSION_LENGTH = 64
_BOOKKEEPING = ("id", "row_version", "created_at", "updated_at", "current_version_id")

COMPONENT_REFS: Mapping[str, RefField] = {
    "type": RefField("type_id", ComponentType),
    "category": RefField("category_id", Category),
    "subcategory": RefField("subcategory_id", Subcategory),
    "vendor": RefField("vendor_id", Vendor),
    "privacy_class": RefField("privacy_class_id", PrivacyClass),
}
_CLEANERS: Mapping[str, Any] = {
    "name": lambda v: clean_name(v, "name"),
    "description": lambda v: clean_text(v, "description"),
    "life_status": lambda v: clean_choice(v, LIFE_STATUSES, "life_status"),
    "highly_loaded": lambda v: clean_bool(v, "highly_loaded"),
}
COMPONENT_FIELDS = (
    "name",
    "description",
    "life_status",
    "type",
    "category",
    "subcategory",
    "vendor",
    "privacy_class",
    "highly_loaded",
)


def register_component(
    session: Session,
    *,
    actor: Actor,
    name: str,
    description: str | None = None,
    life_status: str = "unknown",
    type: str | None = None,
    category: str | None = None,
    subcategory: str | None = None,
    vendor: str | None = None,
    privacy_class: str | None = None,
    highly_loaded: bool = False,
    tags: Sequence[str] = (),
    version: str = "1.0",
    change_set: ChangeSet | None = None,
) -> Component:
    """Create a component with its first version (made current) and tags. Editors and admins only.

    References are names (case-insensitive); a subcategory without a category brings its own
    category. Unknown tags are created. Raises PermissionDenied, DuplicateName (name), NotFound
    (a reference), InvalidValue (a field); nothing is written then.
    """
    require_editor(actor, "register components")
    values = {
        "name": name,
        "description": description,
        "life_status": life_status,
        "highly_loaded": highly_loaded,
        "type": type,
        "category": category,
        "subcategory": subcategory,
        "vendor": vendor,
        "privacy_class": privacy_class,
    }
    blank = Component(life_status="unknown", highly_loaded=False)
    changes = diff_fields(session, blank, values, refs=COMPONENT_REFS, cleaners=_CLEANERS)
    clean = {c.field: c for c in changes}
    ensure_unique_name(session, Component, clean["name"].value, "name")
    changes = _with_consistent_category(session, blank, changes)
    version_name = clean_name(version, "version", max_length=VERSION_LENGTH)
    tag_names = unique_names(tags, "tag")
    tag_ids = _tag_ids(session, actor, tag_names)
    tag_names = _canonical(session, tag_names, tag_ids)

    audit = begin_change(
        session, actor, change_set=change_set, summary=f"register component {clean['name'].value}"
    )
    component = Component(life_status="unknown", highly_loaded=False)
    for change in changes:
        setattr(component, change.column, change.value)
    session.add(component)
    flush_rows(session)
    cid = component.id
    record_row(
        audit,
        action="create",
        entity="component",
        entity_id=cid,
        values={c.field: c.new for c in changes} | {"life_status": component.life_status},
        component_id=cid,
    )
    first = ComponentVersion(component_id=cid, version=version_name)
    session.add(first)
    flush_rows(session)
    record_row(
        audit,
        action="create",
        entity="component_version",
        entity_id=first.id,
        values={"version": version_name},
        component_id=cid,
    )
    component.current_version_id = first.id
    audit.event(
        entity="component",
        entity_id=cid,
        action="update",
        field="current_version",
        new=version_name,
        component_id=cid,
    )
    _write_tags(session, audit, actor, cid, [], tag_names, tag_ids)
    finish(audit)
    return component


def update_component(
    session: Session,
    *,
    actor: Actor,
    component_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> Component:
    """Change fields of a component (keys: COMPONENT_FIELDS; references by name, None clears).

    Editors, admins and the component's owners. A subcategory must belong to the category.
    Raises NotFound (component_id, a reference), PermissionDenied, StaleWrite (row_version moved on
    since ``expected_row_version`` was read), InvalidValue, DuplicateName (name); nothing is written then.
    """
    component = get_row(session, Component, component_id, "component_id")
    require_component_write(session, actor, component.id, f"change component {component.name!r}")
    check_version("component", component, expected_row_version)
    check_keys(changes, COMPONENT_FIELDS, "component")
    diffs = diff_fields(session, component, changes, refs=COMPONENT_REFS, cleaners=_CLEANERS)
    for change in diffs:
        if change.field == "name":
            ensure_unique_name(session, Component, change.value, "name", exclude_id=component.id)
    diffs = _with_consistent_category(session, component, diffs)
    if not diffs:
        return component
    audit = begin_change(session, actor, change_set=change_set, summary=f"update component {component.name}")
    apply_changes(audit, component, diffs, entity="component", component_id=component.id)
    finish(audit)
    return component


def delete_component(
    session: Session,
    *,
    actor: Actor,
    component_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Delete a component with all its versions (and what they own). Editors and admins only.

    Everything the database drops with it is recorded as "delete" events with the old values: the
    versions and what they own (``versions.record_parts``), the tags and the endpoints.

    Raises NotFound, PermissionDenied, StaleWrite, and InUse (field ``component``) while versions of
    other components depend on it; nothing is written then.
    """
    component = get_row(session, Component, component_id, "component_id")
    require_editor(actor, f"delete component {component.name!r}")
    check_version("component", component, expected_row_version)
    users = session.execute(
        select(Component.name, ComponentVersion.version, Dependency.type)
        .select_from(Dependency)
        .join(ComponentVersion, ComponentVersion.id == Dependency.version_id)
        .join(Component, Component.id == ComponentVersion.component_id)
        .where(Dependency.component_id == component.id)
        .order_by(Component.name, ComponentVersion.version)
    ).all()
    if users:
        listed = ", ".join(f"{n} {v} ({t})" for n, v, t in users[:10]) + (", …" if len(users) > 10 else "")
        raise InUse("component", component.name, f"{len(users)} dependencies: {listed}")

    cid = component.id
    audit = begin_change(session, actor, change_set=change_set, summary=f"delete component {component.name}")
    values = describe_rows(session, table_of(Component), [row_of(component)], skip=_BOOKKEEPING)[0]
    record_row(audit, action="delete", entity="component", entity_id=cid, values=values, component_id=cid)
    version_table = table_of(ComponentVersion)
    versions = [
        dict(r._mapping)
        for r in session.execute(
            select(version_table).where(version_table.c.component_id == cid).order_by(version_table.c.id)
        )
    ]
    record_parts(session, audit, cid, [v["id"] for v in versions], action="delete")
    described = describe_rows(session, version_table, versions, skip=(*_BOOKKEEPING, "component_id"))
    for version, version_values in zip(versions, described, strict=True):
        record_row(
            audit,
            action="delete",
            entity="component_version",
            entity_id=version["id"],
            values=version_values,
            component_id=cid,
        )
    tags = session.scalars(
        select(Tag.name)
        .join(ComponentTag, ComponentTag.tag_id == Tag.id)
        .where(ComponentTag.component_id == cid)
    ).all()
    if tags:
        audit.event(
            entity="component_tag",
            entity_id=cid,
            action="delete",
            field="tags",
            old=sorted(tags, key=str.lower),
            component_id=cid,
        )
    endpoint_table = table_of(Endpoint)
    endpoints = [
        dict(r._mapping)
        for r in session.execute(
            select(endpoint_table).where(endpoint_table.c.component_id == cid).order_by(endpoint_table.c.id)
        )
    ]
    for endpoint, endpoint_values in zip(
        endpoints, describe_rows(session, endpoint_table, endpoints, skip=("id", "component_id")), strict=True
    ):
        record_row(
            audit,
            action="delete",
            entity="endpoint",
            entity_id=endpoint["id"],
            values=endpoint_values,
            component_id=cid,
        )
    # break the component <-> current version cycle first (PostgreSQL refuses to SET NULL a row
    # that the same statement deletes), then let the database cascade to versions and their parts
    component.current_version_id = None
    flush_rows(session)
    session.delete(component)
    finish(audit)
    session.expire_all()


def set_tags(
    session: Session,
    *,
    actor: Actor,
    component_id: int,
    tags: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Replace the component's tags with ``tags`` (names); return the tag names now set.

    Editors, admins and owners. Unknown tags are created when the actor is an editor or admin,
    otherwise NotFound (field ``tag``) is raised and nothing is written. A change moves the
    component's row_version on; ``expected_row_version`` (optional) is the component's as the caller
    read it: StaleWrite when it moved on since, and nothing is written.
    """
    component = get_row(session, Component, component_id, "component_id")
    require_component_write(session, actor, component.id, f"tag component {component.name!r}")
    check_version("component", component, expected_row_version)
    names = unique_names(tags, "tag")
    ids = _tag_ids(session, actor, names)
    names = _canonical(session, names, ids)
    old = sorted(
        session.scalars(
            select(Tag.name)
            .join(ComponentTag, ComponentTag.tag_id == Tag.id)
            .where(ComponentTag.component_id == component.id)
        )
    )
    if sorted(n.lower() for n in old) == sorted(n.lower() for n in names):
        return old
    audit = begin_change(session, actor, change_set=change_set, summary=f"tag component {component.name}")
    touch(session, component)
    _write_tags(session, audit, actor, component.id, old, names, ids)
    finish(audit)
    return sorted(
        session.scalars(
            select(Tag.name)
            .join(ComponentTag, ComponentTag.tag_id == Tag.id)
            .where(ComponentTag.component_id == component.id)
        )
    )


# --- internals -------------------------------------------------------------------------------------


def _tag_ids(session: Session, actor: Actor, names: Sequence[str]) -> list[int | None]:
    """Ids of the tags by name; None for tags to be created (allowed for editors), else NotFound."""
    if not names:
        return []
    rows = session.execute(
        select(func.lower(Tag.name), Tag.id).where(func.lower(Tag.name).in_([n.lower() for n in names]))
    )
    known = {str(n): int(i) for n, i in rows}
    ids: list[int | None] = []
    for name in names:
        ident = known.get(name.lower())
        if ident is None and not actor.is_editor:
            raise NotFound("tag", name)
        ids.append(ident)
    return ids


def _canonical(session: Session, names: Sequence[str], ids: Sequence[int | None]) -> list[str]:
    """The stored spelling of existing tags; new tags keep the spelling given."""
    stored = names_by_ids(session, Tag, [i for i in ids if i is not None])
    return [stored[i] if i is not None else n for n, i in zip(names, ids, strict=True)]


def _write_tags(
    session: Session,
    audit: Audit,
    actor: Actor,
    component_id: int,
    old: Sequence[str],
    names: Sequence[str],
    ids: Sequence[int | None],
) -> None:
    final: list[int] = []
    for name, ident in zip(names, ids, strict=True):
        if ident is None:
            tag = Tag(name=name)
            session.add(tag)
            flush_rows(session)
            record_row(
                audit,
                action="create",
                entity="tag",
                entity_id=tag.id,
                values={"name": name},
                component_id=None,
            )
            ident = tag.id
        final.append(ident)
    session.execute(delete(ComponentTag).where(ComponentTag.component_id == component_id))
    if final:
        session.execute(insert(ComponentTag), [{"component_id": component_id, "tag_id": t} for t in final])
    record_list(
        audit,
        entity="component_tag",
        entity_id=component_id,
        field="tags",
        old=sorted(old, key=str.lower),
        new=sorted(names, key=str.lower),
        component_id=component_id,
    )


def _with_consistent_category(
    session: Session, obj: Component, diffs: list[FieldChange]
) -> list[FieldChange]:
    """Check that the subcategory belongs to the category after the change; fill a missing category.

    Raises InvalidValue naming ``subcategory`` when it belongs to another category.
    """
    by_field = {c.field: c for c in diffs}
    category_id = by_field["category"].value if "category" in by_field else obj.category_id
    sub_id = by_field["subcategory"].value if "subcategory" in by_field else obj.subcategory_id
    if sub_id is None:
        return diffs
    sub = session.get(Subcategory, sub_id)
    assert sub is not None
    if category_id is None and "category" not in by_field:
        cat_name = names_by_ids(session, Category, [sub.category_id]).get(sub.category_id)
        return [*diffs, FieldChange("category", "category_id", sub.category_id, None, cat_name)]
    if category_id != sub.category_id:
        names = names_by_ids(session, Category, [sub.category_id, category_id])
        raise InvalidValue(
            "subcategory",
            sub.name,
            f"belongs to category {names.get(sub.category_id)!r}, not to "
            f"{names.get(category_id) if category_id else None!r}; change or clear the subcategory too",
        )
    return diffs
