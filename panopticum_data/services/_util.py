"""Helpers shared by the write services: validation of input values, set-based lookups, diffs.

Every function here either reads or validates; none writes. Services call them before they open a
change set, so a refused call leaves nothing behind.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import Table, func, select, union
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import DuplicateName, InvalidValue, NotFound, PermissionDenied, StaleWrite
from ..models import Base, Component, ComponentVersion, Person, VersionOwner, utcnow
from ..models.base import NAME_LENGTH
from ._core import Actor, Audit, check_row_version, flush_audit, owns_component

M = TypeVar("M", bound=Base)
URL_LENGTH = 2048
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})


class DuplicateEntry(DuplicateName):
    """A duplicate that is not a name (a dependency edge, a link): the message says what repeats."""

    def __init__(self, field: str, value: Any, what: str) -> None:
        super().__init__(field, value)
        self.args = (f"{field}: {value!r} {what}",)


# --- input values ----------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """None, NaN (pandas' NULL) and whitespace-only strings are blank."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_name(value: Any, field: str, *, max_length: int = NAME_LENGTH) -> str:
    """A required single-line name: stripped, not empty, at most ``max_length`` characters."""
    if is_blank(value) or not isinstance(value, str):
        raise InvalidValue(field, value, "is not a valid name: give a non-empty text")
    name = value.strip()
    if len(name) > max_length:
        raise InvalidValue(field, value, f"is longer than {max_length} characters")
    if "\n" in name or "\r" in name:
        raise InvalidValue(field, value, "must be a single line")
    return name


def clean_text(value: Any, field: str, *, max_length: int | None = None) -> str | None:
    """Optional free text: blank becomes None; anything but a string is refused."""
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidValue(field, value, "is not a text")
    if max_length is not None and len(value.strip()) > max_length:
        raise InvalidValue(field, value, f"is longer than {max_length} characters")
    return value.strip() if max_length is not None else value


def clean_url(value: Any, field: str) -> str | None:
    """An optional link: blank becomes None; script/data/file schemes and over-long values are refused."""
    text = clean_text(value, field, max_length=URL_LENGTH)
    if text is None:
        return None
    if any(ch.isspace() for ch in text):
        raise InvalidValue(field, value, "is not a link: it contains spaces")
    scheme = _SCHEME.match(text)
    if scheme and scheme.group(1).lower() in _UNSAFE_SCHEMES:
        raise InvalidValue(
            field, value, f"uses the {scheme.group(1)!r} scheme, which is not allowed in links"
        )
    return text


def clean_choice(value: Any, choices: Sequence[str], field: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidValue(field, value, f"is not one of {', '.join(choices)}")
    return value


def clean_bool(value: Any, field: str) -> bool:
    if isinstance(value, str) or value is None or value not in (True, False):
        raise InvalidValue(field, value, "is not true or false")
    return bool(value)


def clean_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or value is None:
        raise InvalidValue(field, value, "is not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidValue(field, value, "is not a whole number") from None
    if number != value and not (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        raise InvalidValue(field, value, "is not a whole number")
    if minimum is not None and number < minimum:
        raise InvalidValue(field, value, f"is less than {minimum}")
    if maximum is not None and number > maximum:
        raise InvalidValue(field, value, f"is greater than {maximum}")
    return number


def clean_optional_int(value: Any, field: str, *, minimum: int | None = None) -> int | None:
    return None if is_blank(value) else clean_int(value, field, minimum=minimum)


def clean_kloc(value: Any, field: str = "code_kloc") -> Decimal | None:
    """Code size in thousands of lines: blank, or a number ≥ 0 rounded to one decimal."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise InvalidValue(field, value, "is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValue(field, value, "is not a number") from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e9"):
        raise InvalidValue(field, value, "is not a size between 0 and 999999999")
    return number.quantize(Decimal("0.1"))


def check_keys(changes: Mapping[str, Any], allowed: Iterable[str], entity: str) -> None:
    allowed = tuple(allowed)
    for key in changes:
        if key not in allowed:
            raise InvalidValue(
                key, changes[key], f"is not a field of {entity} (fields: {', '.join(allowed)})"
            )


def unique_names(values: Iterable[Any], field: str) -> list[str]:
    """Names in the given order, stripped, blanks refused, repeats (ignoring case) dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        name = clean_name(str(value) if int_like(value) is not None else value, field)
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


# --- lookups ------------------------------------------------------------------------------------


def ids_by_names(
    session: Session, model: type[Base], names: Sequence[str], field: str, *, column: str = "name"
) -> list[int]:
    """Ids of the named rows (case-insensitive), in the order given, in one query; unknown → NotFound."""
    if not names:
        return []
    col = getattr(model, column)
    rows = session.execute(
        select(func.lower(col), model.id).where(func.lower(col).in_([n.lower() for n in names]))  # type: ignore[attr-defined]
    ).all()
    found = {str(key): int(ident) for key, ident in rows}
    ids: list[int] = []
    for name in names:
        if name.lower() not in found:
            raise NotFound(field, name)
        ids.append(found[name.lower()])
    return ids


def names_by_ids(
    session: Session, model: type[Base], ids: Iterable[int | None], *, column: str = "name"
) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    col = getattr(model, column)
    rows = session.execute(select(model.id, col).where(model.id.in_(wanted))).all()  # type: ignore[attr-defined]
    return {int(i): str(n) for i, n in rows}


def name_of(session: Session, model: type[Base], ident: int | None, *, column: str = "name") -> str | None:
    return None if ident is None else names_by_ids(session, model, [ident], column=column).get(ident)


def person_ids(session: Session, usernames: Sequence[str], field: str = "username") -> list[int]:
    return ids_by_names(session, Person, usernames, field, column="username")


def component_id_by_ref(session: Session, ref: int | str, field: str = "component") -> int:
    """A component given by id or by name (case-insensitive)."""
    if isinstance(ref, bool):
        raise NotFound(field, ref)
    if int_like(ref) is not None:
        return get_row(session, Component, ref, field).id
    ident = ids_by_names(session, Component, [clean_name(ref, field)], field)
    return ident[0]


def owned_components(session: Session, actor: Actor, component_ids: Iterable[int]) -> set[int]:
    """Of the given components, those the actor owns (an owner role on the component's current
    version, as ``owns_component``): one query."""
    wanted = set(component_ids)
    if actor.person_id is None or not wanted:
        return set()
    pid = actor.person_id
    direct = (
        select(Component.id)
        .join(ComponentVersion, ComponentVersion.id == Component.current_version_id)
        .where(
            Component.id.in_(wanted),
            (ComponentVersion.maintainer_id == pid) | (ComponentVersion.responsible_qa_id == pid),
        )
    )
    listed = (
        select(Component.id)
        .join(VersionOwner, VersionOwner.version_id == Component.current_version_id)
        .where(Component.id.in_(wanted), VersionOwner.person_id == pid)
    )
    return {int(c) for c in session.scalars(union(direct, listed))}


def load_version_for_write(session: Session, actor: Actor, version_id: int, action: str) -> ComponentVersion:
    """The version, after checking that the actor may change its component (editors, admins, owners)."""
    version = get_row(session, ComponentVersion, version_id, "version_id")
    if not (actor.is_editor or owns_component(session, actor, version.component_id)):
        raise PermissionDenied(actor.username, action, field="version_id", value=version_id)
    return version


# --- diffs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefField:
    """A logical field whose value is a reference given by name, stored in ``column`` as an id."""

    column: str
    model: type[Base]
    lookup: str = "name"


@dataclass(frozen=True)
class FieldChange:
    """One changed field: ``column`` gets ``value``; the audit shows ``field`` going ``old`` → ``new``."""

    field: str
    column: str
    value: Any
    old: Any
    new: Any


def diff_fields(
    session: Session,
    obj: Any,
    values: Mapping[str, Any],
    *,
    refs: Mapping[str, RefField],
    cleaners: Mapping[str, Callable[[Any], Any]],
) -> list[FieldChange]:
    """Validate ``values`` (logical field → new value) and return the fields that actually change.

    Plain fields go through their cleaner; references are resolved by name (None clears them) and
    audited by name. Raises InvalidValue / NotFound naming the field; writes nothing.
    """
    out: list[FieldChange] = []
    for field, raw in values.items():
        if field in refs:
            ref = refs[field]
            new_id = (
                None
                if is_blank(raw)
                else ids_by_names(session, ref.model, [clean_name(raw, field)], field, column=ref.lookup)[0]
            )
            old_id = getattr(obj, ref.column)
            if new_id != old_id:
                names = names_by_ids(session, ref.model, [old_id, new_id], column=ref.lookup)
                out.append(
                    FieldChange(
                        field,
                        ref.column,
                        new_id,
                        names.get(old_id) if old_id else None,
                        names.get(new_id) if new_id else None,
                    )
                )
        else:
            new = cleaners[field](raw)
            old = getattr(obj, field)
            if not same_value(old, new):
                out.append(FieldChange(field, field, new, old, new))
    return out


def same_value(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(str(old)) == Decimal(str(new))
    return bool(old == new) and type(old) is type(new)


def apply_changes(
    audit: Audit, obj: Any, changes: Sequence[FieldChange], *, entity: str, component_id: int | None
) -> None:
    """Assign each change to ``obj`` and record one "update" event per field."""
    for change in changes:
        setattr(obj, change.column, change.value)
        audit.event(
            entity=entity,
            entity_id=obj.id,
            action="update",
            field=change.field,
            old=change.old,
            new=change.new,
            component_id=component_id,
        )


def record_row(
    audit: Audit,
    *,
    action: str,
    entity: str,
    entity_id: int,
    values: Mapping[str, Any],
    component_id: int | None,
) -> None:
    """Record a created or deleted row: one event for the row, one per field that is not None."""
    audit.event(entity=entity, entity_id=entity_id, action=action, component_id=component_id)
    for field, value in values.items():
        if value is None:
            continue
        audit.event(
            entity=entity,
            entity_id=entity_id,
            action=action,
            field=field,
            old=value if action == "delete" else None,
            new=None if action == "delete" else value,
            component_id=component_id,
        )


def record_list(
    audit: Audit,
    *,
    entity: str,
    entity_id: int,
    field: str,
    old: Sequence[Any],
    new: Sequence[Any],
    component_id: int | None,
) -> None:
    """Record a collection replaced as a whole (owners, tags, a link kind): one event, old → new lists."""
    audit.event(
        entity=entity,
        entity_id=entity_id,
        action="update",
        field=field,
        old=list(old),
        new=list(new),
        component_id=component_id,
    )


_LABEL_COLUMNS = ("name", "username", "title", "version")


def label_column(table: Table) -> str | None:
    """The column that names a row of ``table`` for people (name, username, title or version)."""
    return next((name for name in _LABEL_COLUMNS if name in table.c), None)


def describe_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, skip: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Rows as audit values: a foreign key ``x_id`` becomes ``x`` holding the referenced row's label.

    One query per referenced table, whatever the number of rows.
    """
    fk_cols: dict[str, tuple[Table, str]] = {}
    for col in table.c:
        if col.name in skip or not col.foreign_keys:
            continue
        ref = next(iter(col.foreign_keys)).column.table
        label = label_column(ref) if isinstance(ref, Table) else None
        if isinstance(ref, Table) and label is not None:
            fk_cols[col.name] = (ref, label)
    labels: dict[str, dict[int, str]] = {}
    for col_name, (ref, label) in fk_cols.items():
        ids = {r[col_name] for r in rows if r[col_name] is not None}
        found = session.execute(select(ref.c.id, ref.c[label]).where(ref.c.id.in_(ids))).all() if ids else []
        labels[col_name] = {int(i): str(text) for i, text in found}
    out: list[dict[str, Any]] = []
    for row in rows:
        values: dict[str, Any] = {}
        for col in table.c:
            if col.name in skip:
                continue
            value = row[col.name]
            if col.name in fk_cols:
                values[col.name.removesuffix("_id")] = (
                    None if value is None else labels[col.name].get(value, value)
                )
            else:
                values[col.name] = value
        out.append(values)
    return out


def row_of(obj: Any) -> dict[str, Any]:
    """The column values of an ORM object, keyed by column name."""
    return {col.name: getattr(obj, col.key) for col in obj.__table__.columns}


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# --- ids, row versions and flushing ------------------------------------------------------------------


def int_like(value: Any) -> int | None:
    """``value`` as an int when it is an integer (Python or numpy, not bool), else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def get_row(session: Session, model: type[M], ident: Any, field: str) -> M:
    """The row with primary key ``ident`` (an int, numpy ints included); NotFound names ``field``."""
    key = int_like(ident)
    row = session.get(model, key) if key is not None else None
    if row is None:
        raise NotFound(field, ident)
    return row


def clean_row_version(value: Any) -> int | None:
    """An expected row version as the caller read it: None or NaN (a missing row in a frame) → None."""
    if is_blank(value):
        return None
    number = int_like(value)
    if number is None:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise InvalidValue("row_version", value, "is not a row version (a whole number)")
    return number


class ConcurrentWrite(StaleWrite):
    """A row changed between this save's check and its write (another process saved in between)."""

    def __init__(self, entity: str) -> None:
        super().__init__(entity, None, None, None)
        self.args = (
            f"{entity}: a row was changed by someone else while this save ran; reload and apply your change again",
        )


def flush_rows(session: Session) -> None:
    """``session.flush()``, with the ORM's optimistic-lock failure turned into a typed StaleWrite."""
    try:
        session.flush()
    except StaleDataError as exc:
        found = re.search(r"table '([^']+)'", str(exc))
        raise ConcurrentWrite(found.group(1) if found else "row") from exc


def touch(session: Session, obj: Any) -> None:
    """Record that a part of ``obj`` (a version's owners, links, …; a component's tags) changed: its
    ``updated_at`` is set and the flush, done at once, moves its ``row_version`` on.

    A later save based on the earlier row_version is then refused (``check_version``), and a save
    racing this one on another connection waits for the row and fails as ConcurrentWrite. Called
    before the parts are written, so the row is locked first.
    """
    obj.updated_at = utcnow()
    flush_rows(session)


def finish(audit: Audit) -> None:
    """Write the pending changes and the audit events (``audit.flush``), stale rows as StaleWrite."""
    flush_rows(audit.session)
    flush_audit(audit)


def check_version(entity: str, obj: Any, expected: Any) -> None:
    """``_core.check_row_version`` after normalising ``expected`` (numpy ints, NaN for "not read")."""
    check_row_version(entity, obj, clean_row_version(expected))


def preload(session: Session, model: type[Base], ids: Iterable[int]) -> None:
    """Load the rows of ``model`` with these primary keys into the session in one query (chunks of
    1,000 ids), so that the services' ``session.get`` finds them without a query each. The session
    holds its objects weakly: the rows are kept in ``session.info["preloaded"]`` until it closes.
    Reads only."""
    wanted = sorted({int(i) for i in ids})
    key = table_of(model).primary_key.columns.values()[0]
    kept: list[Any] = session.info.setdefault("preloaded", [])
    for start in range(0, len(wanted), 1000):
        kept.extend(session.scalars(select(model).where(key.in_(wanted[start : start + 1000]))).all())


def preload_rows(session: Session, ids_by_table: Mapping[str, Iterable[int]]) -> None:
    """``preload`` for each table named (e.g. ``{"component": [...], "component_version": [...]}``):
    one query per table (per 1,000 ids). Unknown table names raise NotFound (field ``table``)."""
    models = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}
    for table, ids in ids_by_table.items():
        if table not in models:
            raise NotFound("table", table)
        preload(session, models[table], ids)
