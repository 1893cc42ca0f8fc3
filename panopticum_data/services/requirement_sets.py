"""Requirement sets and requirements (admins), and set exclusions of a version (owners, editors, admins).

Audit: entities ``requirement_set`` and ``requirement`` (own ids, logical fields); signer groups are a
list event (entity ``signer_group``, entity_id = the set id, field ``groups``); a requirement's sets a
list event (entity ``requirement_set_item``, entity_id = the requirement id, field ``sets``); the
order of a set's requirements a list event (entity ``requirement_order``, entity_id = the set id,
field ``requirements``: the titles in their order before and after); an exclusion is entity
``set_exclusion`` with entity_id = the version id and fields ``requirement_set`` (the set's name) and
``reason``.

Order within a set: ``requirement_set_item.position`` is only an ordering key (ties: by requirement
id, as ``queries.list_requirements`` reads them). A requirement is placed by its 1-based *place* in
that order; placing one (``set_requirement_position``, or ``create_requirement`` with ``position``)
renumbers the set's items 1..n in their new order, so positions are contiguous afterwards.
Appending (``create_requirement`` without position, ``set_requirement_sets``) takes the largest
position + 1 and renumbers nothing; removing leaves a gap. Neither changes the order of the others.

Row versions: a set's signer groups belong to the set, a requirement's sets and its place in them
to the requirement: changing them moves that row's ``row_version`` on, and the services that change
them accept the row version the caller read (``expected_row_version``; StaleWrite when it moved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ..errors import InvalidValue, NotFound
from ..models import (
    ChangeSet,
    PersonGroup,
    Requirement,
    RequirementSet,
    RequirementSetItem,
    SetExclusion,
    SignerGroup,
    utcnow,
)
from ._core import Actor, Audit, begin_change, ensure_unique_name, require_admin
from ._util import (
    RefField,
    apply_changes,
    check_keys,
    check_version,
    clean_int,
    clean_name,
    clean_optional_int,
    clean_text,
    clean_url,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    ids_by_names,
    int_like,
    load_version_for_write,
    names_by_ids,
    record_list,
    record_row,
    touch,
    unique_names,
)

SET_FIELDS = ("name", "description", "doc_link", "position", "ui_slot", "validity_days")
REQUIREMENT_FIELDS = ("title", "description")
_SET_CLEANERS: Mapping[str, Any] = {
    "name": lambda v: clean_name(v, "name"),
    "description": lambda v: clean_text(v, "description"),
    "doc_link": lambda v: clean_url(v, "doc_link"),
    "position": lambda v: clean_int(v, "position"),
    "ui_slot": lambda v: clean_int(v, "ui_slot", minimum=0),
    "validity_days": lambda v: clean_optional_int(v, "validity_days", minimum=1),
}
_REQ_CLEANERS: Mapping[str, Any] = {
    "title": lambda v: clean_name(v, "title"),
    "description": lambda v: clean_text(v, "description"),
}
_NO_REFS: Mapping[str, RefField] = {}


def set_id_by_ref(session: Session, ref: int | str, field: str = "requirement_set") -> int:
    """A requirement set given by id or by name (case-insensitive)."""
    if int_like(ref) is not None:
        return get_row(session, RequirementSet, ref, field).id
    return ids_by_names(session, RequirementSet, [clean_name(ref, field)], field)[0]


# --- exclusions ------------------------------------------------------------------------------------------


def exclude_set(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    requirement_set: int | str,
    reason: str | None = None,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> SetExclusion:
    """Mark a requirement set (id or name) as not applicable to the version, with a reason.

    Excluding an excluded set updates the reason. Editors, admins, owners. A change moves the
    version's row_version on; ``expected_row_version`` (optional) is the version's as the caller read
    it. Raises NotFound (version_id, requirement_set), PermissionDenied, InvalidValue (reason),
    StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "exclude requirement sets of this version")
    check_version("component_version", version, expected_row_version)
    set_id = set_id_by_ref(session, requirement_set)
    clean_reason = clean_text(reason, "reason")
    row = session.get(SetExclusion, (version.id, set_id))
    if row is not None and row.reason == clean_reason:
        return row
    set_name = names_by_ids(session, RequirementSet, [set_id])[set_id]
    audit = begin_change(session, actor, change_set=change_set, summary=f"exclude set {set_name}")
    touch(session, version)
    cid = version.component_id
    if row is None:
        row = SetExclusion(
            version_id=version.id,
            set_id=set_id,
            reason=clean_reason,
            excluded_by_id=actor.person_id,
            excluded_at=utcnow(),
        )
        session.add(row)
        record_row(
            audit,
            action="create",
            entity="set_exclusion",
            entity_id=version.id,
            values={"requirement_set": set_name, "reason": clean_reason},
            component_id=cid,
        )
    else:
        audit.event(
            entity="set_exclusion",
            entity_id=version.id,
            action="update",
            field="requirement_set",
            old=set_name,
            new=set_name,
            component_id=cid,
        )
        audit.event(
            entity="set_exclusion",
            entity_id=version.id,
            action="update",
            field="reason",
            old=row.reason,
            new=clean_reason,
            component_id=cid,
        )
        row.reason = clean_reason
        row.excluded_by_id = actor.person_id
        row.excluded_at = utcnow()
    finish(audit)
    return row


def include_set(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    requirement_set: int | str,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> bool:
    """Make an excluded set apply to the version again; False when it was not excluded.

    A change moves the version's row_version on (``expected_row_version`` as in ``exclude_set``).
    Raises NotFound, PermissionDenied, StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "include requirement sets of this version")
    check_version("component_version", version, expected_row_version)
    set_id = set_id_by_ref(session, requirement_set)
    row = session.get(SetExclusion, (version.id, set_id))
    if row is None:
        return False
    set_name = names_by_ids(session, RequirementSet, [set_id])[set_id]
    audit = begin_change(session, actor, change_set=change_set, summary=f"include set {set_name}")
    touch(session, version)
    record_row(
        audit,
        action="delete",
        entity="set_exclusion",
        entity_id=version.id,
        values={"requirement_set": set_name, "reason": row.reason},
        component_id=version.component_id,
    )
    session.delete(row)
    finish(audit)
    return True


# --- sets and requirements (admins) ------------------------------------------------------------------


def create_requirement_set(
    session: Session,
    *,
    actor: Actor,
    name: str,
    description: str | None = None,
    doc_link: str | None = None,
    position: int = 0,
    ui_slot: int = 1,
    validity_days: int | None = None,
    signer_groups: Sequence[str] = (),
    change_set: ChangeSet | None = None,
) -> RequirementSet:
    """Create a requirement set signed by the named groups. Admins only.

    Raises PermissionDenied, InvalidValue, DuplicateName (name), NotFound (group); nothing is written then.
    """
    require_admin(actor, "create requirement sets")
    values = {
        "name": name,
        "description": description,
        "doc_link": doc_link,
        "position": position,
        "ui_slot": ui_slot,
        "validity_days": validity_days,
    }
    clean = {field: _SET_CLEANERS[field](value) for field, value in values.items()}
    ensure_unique_name(session, RequirementSet, clean["name"], "name")
    groups = unique_names(signer_groups, "group")
    group_ids = ids_by_names(session, PersonGroup, groups, "group")
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"create requirement set {clean['name']}"
    )
    row = RequirementSet(**clean)
    session.add(row)
    flush_rows(session)
    record_row(
        audit, action="create", entity="requirement_set", entity_id=row.id, values=clean, component_id=None
    )
    _write_signers(session, row.id, group_ids)
    if group_ids:
        new = sorted(names_by_ids(session, PersonGroup, group_ids).values(), key=str.lower)
        record_list(
            audit, entity="signer_group", entity_id=row.id, field="groups", old=[], new=new, component_id=None
        )
    finish(audit)
    return row


def update_requirement_set(
    session: Session,
    *,
    actor: Actor,
    set_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> RequirementSet:
    """Change fields of a requirement set (keys: SET_FIELDS). Admins only.

    Raises NotFound (set_id), PermissionDenied, StaleWrite, InvalidValue, DuplicateName; nothing is
    written then.
    """
    require_admin(actor, "change requirement sets")
    row = get_row(session, RequirementSet, set_id, "set_id")
    check_version("requirement_set", row, expected_row_version)
    check_keys(changes, SET_FIELDS, "requirement_set")
    diffs = diff_fields(session, row, changes, refs=_NO_REFS, cleaners=_SET_CLEANERS)
    for change in diffs:
        if change.field == "name":
            ensure_unique_name(session, RequirementSet, change.value, "name", exclude_id=row.id)
    if diffs:
        audit = begin_change(
            session, actor, change_set=change_set, summary=f"update requirement set {row.name}"
        )
        apply_changes(audit, row, diffs, entity="requirement_set", component_id=None)
        finish(audit)
    return row


def set_signer_groups(
    session: Session,
    *,
    actor: Actor,
    set_id: int,
    groups: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Replace the groups that sign the set; return their names. Admins only.

    A change moves the set's row_version on; ``expected_row_version`` (optional) is the set's as the
    caller read it. Raises NotFound (set_id, group), PermissionDenied, StaleWrite; nothing is written
    then.
    """
    require_admin(actor, "choose signer groups")
    row = get_row(session, RequirementSet, set_id, "set_id")
    check_version("requirement_set", row, expected_row_version)
    ids = ids_by_names(session, PersonGroup, unique_names(groups, "group"), "group")
    old = sorted(
        session.scalars(
            select(PersonGroup.name)
            .join(SignerGroup, SignerGroup.group_id == PersonGroup.id)
            .where(SignerGroup.set_id == row.id)
        ),
        key=str.lower,
    )
    new = sorted(names_by_ids(session, PersonGroup, ids).values(), key=str.lower)
    if old == new:
        return old
    audit = begin_change(session, actor, change_set=change_set, summary=f"signer groups of {row.name}")
    _bump(session, row)
    session.execute(delete(SignerGroup).where(SignerGroup.set_id == row.id))
    _write_signers(session, row.id, ids)
    record_list(
        audit, entity="signer_group", entity_id=row.id, field="groups", old=old, new=new, component_id=None
    )
    finish(audit)
    return new


def create_requirement(
    session: Session,
    *,
    actor: Actor,
    title: str,
    description: str | None = None,
    sets: Sequence[str] = (),
    position: int | None = None,
    change_set: ChangeSet | None = None,
) -> Requirement:
    """Create a requirement in the named sets. Admins only.

    ``position``: its 1-based place in each set's order (the set is then renumbered, see the module;
    past the last place: at the end); default: after the last, nothing renumbered.
    Raises PermissionDenied, InvalidValue (title, description, position: a whole number, 1 or more),
    DuplicateName (title), NotFound (requirement_set); nothing is written then.
    """
    require_admin(actor, "create requirements")
    clean_title = clean_name(title, "title")
    clean_description = clean_text(description, "description")
    ensure_unique_name(session, Requirement, clean_title, "title", column="title")
    set_ids = ids_by_names(session, RequirementSet, unique_names(sets, "requirement_set"), "requirement_set")
    place = None if position is None else clean_int(position, "position", minimum=1)
    audit = begin_change(session, actor, change_set=change_set, summary=f"create requirement {clean_title}")
    row = Requirement(title=clean_title, description=clean_description)
    session.add(row)
    flush_rows(session)
    record_row(
        audit,
        action="create",
        entity="requirement",
        entity_id=row.id,
        values={"title": clean_title, "description": clean_description},
        component_id=None,
    )
    _add_to_sets(session, row.id, set_ids, None)
    if set_ids:
        new = sorted(names_by_ids(session, RequirementSet, set_ids).values(), key=str.lower)
        record_list(
            audit,
            entity="requirement_set_item",
            entity_id=row.id,
            field="sets",
            old=[],
            new=new,
            component_id=None,
        )
    if place is not None:
        for set_id in set_ids:
            order = _set_order(session, set_id)
            _place(session, audit, set_id, order, row.id, min(place, len(order)))
    finish(audit)
    return row


def update_requirement(
    session: Session,
    *,
    actor: Actor,
    requirement_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> Requirement:
    """Change a requirement's title or description. Admins only.

    Raises NotFound, PermissionDenied, StaleWrite, InvalidValue, DuplicateName (title); nothing is written then.
    """
    require_admin(actor, "change requirements")
    row = get_row(session, Requirement, requirement_id, "requirement_id")
    check_version("requirement", row, expected_row_version)
    check_keys(changes, REQUIREMENT_FIELDS, "requirement")
    diffs = diff_fields(session, row, changes, refs=_NO_REFS, cleaners=_REQ_CLEANERS)
    for change in diffs:
        if change.field == "title":
            ensure_unique_name(session, Requirement, change.value, "title", column="title", exclude_id=row.id)
    if diffs:
        audit = begin_change(session, actor, change_set=change_set, summary=f"update requirement {row.title}")
        apply_changes(audit, row, diffs, entity="requirement", component_id=None)
        finish(audit)
    return row


def set_requirement_sets(
    session: Session,
    *,
    actor: Actor,
    requirement_id: int,
    sets: Sequence[str],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[str]:
    """Make the requirement belong to exactly the named sets (added at the end of new ones). Admins only.

    A change moves the requirement's row_version on; ``expected_row_version`` (optional) is the
    requirement's as the caller read it. Raises NotFound (requirement_id, requirement_set),
    PermissionDenied, StaleWrite; nothing is written then.
    """
    require_admin(actor, "change requirement sets")
    row = get_row(session, Requirement, requirement_id, "requirement_id")
    check_version("requirement", row, expected_row_version)
    wanted = ids_by_names(session, RequirementSet, unique_names(sets, "requirement_set"), "requirement_set")
    current = set(
        session.scalars(select(RequirementSetItem.set_id).where(RequirementSetItem.requirement_id == row.id))
    )
    if current == set(wanted):
        return sorted(names_by_ids(session, RequirementSet, current).values(), key=str.lower)
    old = sorted(names_by_ids(session, RequirementSet, current).values(), key=str.lower)
    new = sorted(names_by_ids(session, RequirementSet, wanted).values(), key=str.lower)
    audit = begin_change(session, actor, change_set=change_set, summary=f"sets of requirement {row.title}")
    _bump(session, row)
    gone = current - set(wanted)
    if gone:
        session.execute(
            delete(RequirementSetItem).where(
                RequirementSetItem.requirement_id == row.id, RequirementSetItem.set_id.in_(gone)
            )
        )
    _add_to_sets(session, row.id, [s for s in wanted if s not in current], None)
    record_list(
        audit,
        entity="requirement_set_item",
        entity_id=row.id,
        field="sets",
        old=old,
        new=new,
        component_id=None,
    )
    finish(audit)
    return new


def set_requirement_position(
    session: Session,
    *,
    actor: Actor,
    set_id: int,
    requirement_id: int,
    position: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[int]:
    """Move a requirement to the 1-based place ``position`` in the set's order; return the set's
    requirement ids in their new order. Admins only.

    The others keep their relative order and the set is renumbered 1..n (see the module). A move
    moves the requirement's row_version on; ``expected_row_version`` (optional) is the requirement's
    as the caller read it. Already at that place: nothing is written. The set's row is locked while
    its order is read and written (PostgreSQL), so moves in one set apply one after the other.
    Raises NotFound (set_id, requirement_id, also for a requirement not in the set),
    PermissionDenied, InvalidValue (position: a whole number from 1 to the set's size), StaleWrite;
    nothing is written then.
    """
    require_admin(actor, "reorder requirements")
    target = session.scalar(
        select(RequirementSet).where(RequirementSet.id == int_like(set_id)).with_for_update()
    )
    if target is None:
        raise NotFound("set_id", set_id)
    row = get_row(session, Requirement, requirement_id, "requirement_id")
    check_version("requirement", row, expected_row_version)
    order = _set_order(session, target.id)
    if row.id not in [i for i, _, _ in order]:
        raise NotFound("requirement_id", requirement_id)
    place = clean_int(position, "position", minimum=1)
    if place > len(order):
        raise InvalidValue(
            "position", position, f"is past the end: {target.name} has {len(order)} requirements"
        )
    if [i for i, _, _ in order].index(row.id) + 1 != place:
        audit = begin_change(
            session, actor, change_set=change_set, summary=f"move {row.title} in {target.name}"
        )
        _bump(session, row)
        order = _place(session, audit, target.id, order, row.id, place)
        finish(audit)
    return [i for i, _, _ in order]


def _set_order(session: Session, set_id: int) -> list[tuple[int, str, int]]:
    """(requirement id, title, stored position) of the set's items, in their order."""
    rows = session.execute(
        select(RequirementSetItem.requirement_id, Requirement.title, RequirementSetItem.position)
        .join(Requirement, Requirement.id == RequirementSetItem.requirement_id)
        .where(RequirementSetItem.set_id == set_id)
        .order_by(RequirementSetItem.position, RequirementSetItem.requirement_id)
    ).all()
    return [(int(i), str(t), int(p)) for i, t, p in rows]


def _place(
    session: Session,
    audit: Audit,
    set_id: int,
    order: Sequence[tuple[int, str, int]],
    requirement_id: int,
    place: int,
) -> list[tuple[int, str, int]]:
    """Put the requirement at ``place`` (1-based, within the order) and renumber the set 1..n: only
    the items whose position changes are written; the order event only when the order changes."""
    moving = next(item for item in order if item[0] == requirement_id)
    rest = [item for item in order if item[0] != requirement_id]
    rest.insert(place - 1, moving)
    new = [(i, title, pos) for pos, (i, title, _) in enumerate(rest, start=1)]
    changed = [
        {"set_id": set_id, "requirement_id": i, "position": pos}
        for (i, _, pos), (_, _, was) in zip(new, rest, strict=True)
        if pos != was
    ]
    if changed:
        session.execute(update(RequirementSetItem), changed)
    if [i for i, _, _ in new] != [i for i, _, _ in order]:
        record_list(
            audit,
            entity="requirement_order",
            entity_id=set_id,
            field="requirements",
            old=[t for _, t, _ in order],
            new=[t for _, t, _ in new],
            component_id=None,
        )
    return new


def _bump(session: Session, row: RequirementSet | Requirement) -> None:
    """``touch`` for rows without ``updated_at``: an UPDATE rewriting the row's label as it is moves
    its row_version on at once (and locks the row), before its parts are written."""
    flag_modified(row, "name" if isinstance(row, RequirementSet) else "title")
    flush_rows(session)


def _write_signers(session: Session, set_id: int, group_ids: Sequence[int]) -> None:
    if group_ids:
        session.execute(insert(SignerGroup), [{"set_id": set_id, "group_id": g} for g in group_ids])


def _add_to_sets(session: Session, requirement_id: int, set_ids: Sequence[int], position: int | None) -> None:
    if not set_ids:
        return
    last = dict(
        session.execute(
            select(RequirementSetItem.set_id, func.max(RequirementSetItem.position))
            .where(RequirementSetItem.set_id.in_(set_ids))
            .group_by(RequirementSetItem.set_id)
        ).all()
    )
    session.execute(
        insert(RequirementSetItem),
        [
            {
                "set_id": s,
                "requirement_id": requirement_id,
                "position": position if position is not None else (last.get(s) or 0) + 1,
            }
            for s in set_ids
        ],
    )
