"""Reference data ("wheels": categories, types, vendors, languages, ports, products, tags, …).

One generic set of services over ``models.REFERENCE_MODELS``, driven by the schema's metadata: a
parent reference is given by name under the foreign key's name without ``_id`` (a subcategory's
``category``, a framework's ``language``, a product version's ``family``); who uses a row is found
through the foreign keys that point at its table. Editors may create tags; everything else here is
for admins.

Audit: entity = the table, entity_id = the row, logical fields (parents by name). A merge records,
for every row that pointed at the source, an update of that row's field (source name → target
name; for association rows entity_id is the owning row), then the source's deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from ..errors import InUse, InvalidValue, NotFound
from ..models import REFERENCE_MODELS, Base, ChangeSet, ComponentVersion, Deployment, utcnow
from ._core import Actor, Audit, begin_change, ensure_unique_name, require_admin, require_editor
from ._util import (
    RefField,
    apply_changes,
    clean_int,
    clean_name,
    clean_text,
    clean_url,
    describe_rows,
    diff_fields,
    finish,
    flush_rows,
    ids_by_names,
    is_blank,
    names_by_ids,
    record_row,
    row_of,
    table_of,
)

_SKIP = ("id", "name")


@dataclass(frozen=True)
class _Shape:
    """What a reference table accepts: plain fields with cleaners, parent references, required fields."""

    cleaners: Mapping[str, Any]
    refs: Mapping[str, RefField]
    required: tuple[str, ...]


def _model(table: str) -> type[Base]:
    model = REFERENCE_MODELS.get(table) if isinstance(table, str) else None
    if model is None:
        raise NotFound("table", table)
    return model


def _shape(model: type[Base]) -> _Shape:
    table = table_of(model)
    cleaners: dict[str, Any] = {}
    refs: dict[str, RefField] = {}
    required: list[str] = []
    for col in table.c:
        if col.name in _SKIP:
            continue
        if col.foreign_keys:
            parent = next(iter(col.foreign_keys)).column.table.name
            field = col.name.removesuffix("_id")
            refs[field] = RefField(col.name, REFERENCE_MODELS[parent])
        else:
            field = col.name
            cleaners[field] = _cleaner(col)
        if not col.nullable and col.default is None and col.server_default is None:
            required.append(field)
    return _Shape(cleaners, refs, tuple(required))


def _cleaner(col: Column[Any]) -> Any:
    name = col.name
    if isinstance(col.type, Integer):
        if name == "port":
            return lambda v: clean_int(v, name, minimum=1, maximum=65535)
        if col.nullable:
            return lambda v: None if is_blank(v) else clean_int(v, name)
        return lambda v: clean_int(v, name)
    if name.endswith("_url"):
        return lambda v: clean_url(v, name)
    if isinstance(col.type, String) and not isinstance(col.type, Text) and col.type.length:
        length = col.type.length
        return lambda v: clean_text(v, name, max_length=length)
    return lambda v: clean_text(v, name)


def _validate(shape: _Shape, table: str, fields: Mapping[str, Any], *, creating: bool) -> None:
    allowed = (*shape.cleaners, *shape.refs)
    for key, value in fields.items():
        if key not in allowed:
            raise InvalidValue(key, value, f"is not a field of {table} (fields: name, {', '.join(allowed)})")
    for key in shape.required:
        if (creating and key not in fields) or (key in fields and is_blank(fields[key])):
            raise InvalidValue(key, fields.get(key), f"is required for {table}")


def _get(session: Session, model: type[Base], table: str, name: Any, field: str = "name") -> Any:
    ident = ids_by_names(session, model, [clean_name(name, field)], table)[0]
    return session.get(model, ident)


def _require(actor: Actor, table: str, action: str) -> None:
    if table == "tag" and action == "create":
        require_editor(actor, "create tags")
    else:
        require_admin(actor, f"{action} {table} rows")


# --- services ---------------------------------------------------------------------------------------------


def create_reference(
    session: Session,
    *,
    actor: Actor,
    table: str,
    name: str,
    change_set: ChangeSet | None = None,
    **fields: Any,
) -> Any:
    """Create a row of a reference table (a key of REFERENCE_MODELS); parents by name. Returns the row.

    Raises PermissionDenied, NotFound (table, a parent), DuplicateName (name), InvalidValue (a field
    unknown to the table, missing or malformed); nothing is written then.
    """
    model = _model(table)
    _require(actor, table, "create")
    shape = _shape(model)
    _validate(shape, table, fields, creating=True)
    clean = clean_name(name, "name")
    ensure_unique_name(session, model, clean, "name")
    blank = model()
    diffs = diff_fields(session, blank, fields, refs=shape.refs, cleaners=shape.cleaners)
    audit = begin_change(session, actor, change_set=change_set, summary=f"create {table} {clean}")
    row: Any = model(name=clean)
    for change in diffs:
        setattr(row, change.column, change.value)
    session.add(row)
    flush_rows(session)
    values = describe_rows(session, table_of(model), [row_of(row)], skip=("id",))[0]
    record_row(audit, action="create", entity=table, entity_id=row.id, values=values, component_id=None)
    finish(audit)
    return row


def update_reference(
    session: Session,
    *,
    actor: Actor,
    table: str,
    name: str,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> Any:
    """Change fields (``name`` renames) of the reference row called ``name``. Admins only.

    Raises PermissionDenied, NotFound (table, the row, a parent), DuplicateName, InvalidValue;
    nothing is written then.
    """
    model = _model(table)
    _require(actor, table, "change")
    shape = _shape(model)
    row = _get(session, model, table, name)
    _validate(shape, table, {k: v for k, v in changes.items() if k != "name"}, creating=False)
    cleaners = {**shape.cleaners, "name": lambda v: clean_name(v, "name")}
    diffs = diff_fields(session, row, changes, refs=shape.refs, cleaners=cleaners)
    for change in diffs:
        if change.field == "name":
            ensure_unique_name(session, model, change.value, "name", exclude_id=row.id)
    if diffs:
        audit = begin_change(session, actor, change_set=change_set, summary=f"update {table} {row.name}")
        apply_changes(audit, row, diffs, entity=table, component_id=None)
        finish(audit)
    return row


def rename_reference(
    session: Session,
    *,
    actor: Actor,
    table: str,
    name: str,
    new_name: str,
    change_set: ChangeSet | None = None,
) -> Any:
    """Rename a reference row. Admins only. Raises as ``update_reference``."""
    return update_reference(
        session, actor=actor, table=table, name=name, changes={"name": new_name}, change_set=change_set
    )


def reference_usage(session: Session, *, table: str, name: str) -> dict[str, int]:
    """How many rows of each referencing ``table.column`` point at the named row (zero counts left out)."""
    model = _model(table)
    row = _get(session, model, table, name)
    out: dict[str, int] = {}
    for ref_table, col in _referencing(table_of(model)):
        count = session.scalar(select(func.count()).select_from(ref_table).where(col == row.id)) or 0
        if count:
            out[f"{ref_table.name}.{col.name}"] = int(count)
    return out


def delete_reference(
    session: Session, *, actor: Actor, table: str, name: str, change_set: ChangeSet | None = None
) -> None:
    """Delete a reference row nothing uses. Admins only.

    Raises PermissionDenied, NotFound (table, the row), InUse (naming the table, the row and how many
    rows of which tables use it — merge it instead); nothing is written then.
    """
    model = _model(table)
    _require(actor, table, "delete")
    row = _get(session, model, table, name)
    usage = reference_usage(session, table=table, name=row.name)
    if usage:
        total = sum(usage.values())
        listed = ", ".join(f"{where} ({n})" for where, n in usage.items())
        raise InUse(table, row.name, f"{total} row{'s' if total != 1 else ''}: {listed}")
    audit = begin_change(session, actor, change_set=change_set, summary=f"delete {table} {row.name}")
    values = describe_rows(session, table_of(model), [row_of(row)], skip=("id",))[0]
    record_row(audit, action="delete", entity=table, entity_id=row.id, values=values, component_id=None)
    session.delete(row)
    finish(audit)


def merge_reference(
    session: Session,
    *,
    actor: Actor,
    table: str,
    source: str,
    target: str,
    change_set: ChangeSet | None = None,
) -> Any:
    """Move every reference to ``source`` onto ``target``, then delete ``source``. Admins only.

    Rows that would then duplicate a row already pointing at the target (same key in a composite
    primary key or unique constraint, e.g. a component tagged with both) are dropped. Returns the
    target. Raises PermissionDenied, NotFound (table, source, target), InvalidValue (target is the
    source; a subcategory of another category than the source's); nothing is written then.
    """
    model = _model(table)
    _require(actor, table, "merge")
    src = _get(session, model, table, source, "source")
    dst = _get(session, model, table, target, "target")
    if src.id == dst.id:
        raise InvalidValue("target", target, f"is the same {table} row as the source")
    if table == "subcategory" and src.category_id != dst.category_id:
        # components keep their category: they would end up with a subcategory of another one
        categories = names_by_ids(session, _model("category"), [src.category_id, dst.category_id])
        raise InvalidValue(
            "target",
            target,
            f"is a subcategory of {categories.get(dst.category_id)!r}, but {src.name!r} is one of "
            f"{categories.get(src.category_id)!r}: only subcategories of the same category can be merged",
        )
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"merge {table} {src.name} into {dst.name}"
    )
    for ref_table, col in _referencing(table_of(model)):
        _repoint(session, audit, ref_table, col, src, dst)
    audit.event(
        entity=table, entity_id=src.id, action="merge", field="merged_into", old=src.name, new=dst.name
    )
    values = describe_rows(session, table_of(model), [row_of(src)], skip=("id",))[0]
    record_row(audit, action="delete", entity=table, entity_id=src.id, values=values, component_id=None)
    session.delete(src)
    finish(audit)
    session.expire_all()
    return dst


# --- internals --------------------------------------------------------------------------------------------


def _referencing(target: Table) -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) whose foreign key points at ``target``, from the metadata."""
    out: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target and isinstance(fk.parent, Column):
                out.append((table, fk.parent))
    return out


def _unique_groups(table: Table, col: Column[Any]) -> list[list[Column[Any]]]:
    """The other columns of each primary key / unique constraint that includes ``col``."""
    groups: list[list[Column[Any]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint) and col.name in constraint.columns:
            groups.append([c for c in constraint.columns if c.name != col.name])
    return groups


def _repoint(session: Session, audit: Audit, table: Table, col: Column[Any], src: Any, dst: Any) -> None:
    field = col.name.removesuffix("_id")
    for others in _unique_groups(table, col):
        twin = table.alias("twin")
        same = and_(twin.c[col.name] == dst.id, *(twin.c[o.name] == o for o in others))
        clash = and_(col == src.id, exists().where(same))
        dropped = [dict(r._mapping) for r in session.execute(select(table).where(clash))]
        if dropped:
            _record_rows(session, audit, table, col, dropped, field, src.name, None, action="delete")
            session.execute(delete(table).where(clash))
    moved = [dict(r._mapping) for r in session.execute(select(table).where(col == src.id))]
    if moved:
        _record_rows(session, audit, table, col, moved, field, src.name, dst.name, action="update")
        values: dict[str, Any] = {col.name: dst.id}
        if "row_version" in table.c:  # the row changed: a grid holding the old version must reload
            values["row_version"] = table.c.row_version + 1
        if "updated_at" in table.c:
            values["updated_at"] = utcnow()
        session.execute(update(table).where(col == src.id).values(values))


def _record_rows(
    session: Session,
    audit: Audit,
    table: Table,
    col: Column[Any],
    rows: list[dict[str, Any]],
    field: str,
    old: str,
    new: str | None,
    *,
    action: str,
) -> None:
    components = _components_of_rows(session, table, rows)
    key = "id" if "id" in table.c else next(c.name for c in table.primary_key.columns if c.name != col.name)
    for row, cid in zip(rows, components, strict=True):
        audit.event(
            entity=table.name,
            entity_id=row[key],
            action=action,
            field=field,
            old=old,
            new=new,
            component_id=cid,
        )


def _components_of_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int | None]:
    """The component each row belongs to, when it belongs to one (two queries at most)."""
    if table.name == "component":
        return [r["id"] for r in rows]
    if "component_id" in table.c:
        return [r["component_id"] for r in rows]
    if "deployment_id" in table.c:
        ids = {r["deployment_id"] for r in rows}
        version_of = dict(
            session.execute(select(Deployment.id, Deployment.version_id).where(Deployment.id.in_(ids))).all()
        )
        rows = [{"version_id": version_of.get(r["deployment_id"])} for r in rows]
    if "version_id" in rows[0]:
        vids = {r["version_id"] for r in rows if r["version_id"] is not None}
        comp = dict(
            session.execute(
                select(ComponentVersion.id, ComponentVersion.component_id).where(
                    ComponentVersion.id.in_(vids)
                )
            ).all()
        )
        return [comp.get(r["version_id"]) for r in rows]
    return [None for _ in rows]
