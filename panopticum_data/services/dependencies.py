"""Dependencies of a version on components: one edge per (version, component, type).

Audit: entity ``dependency`` (its own id), fields ``component`` (by name), ``type``, ``notes``.

Every change moves the version's ``row_version`` on; ``expected_row_version`` (optional, the
version's row_version the caller read) refuses a save based on an older read with StaleWrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import DEPENDENCY_TYPES
from ..errors import InvalidValue, NotFound
from ..models import ChangeSet, Component, ComponentVersion, Dependency
from ._core import Actor, Audit, begin_change
from ._util import (
    DuplicateEntry,
    check_version,
    clean_choice,
    clean_text,
    component_id_by_ref,
    finish,
    flush_rows,
    load_version_for_write,
    names_by_ids,
    record_row,
    touch,
)


@dataclass(frozen=True)
class DependencySpec:
    """One wanted edge: the component (name or id) depended on, the type and notes."""

    component: int | str
    type: str = "strong_rw"
    notes: str | None = None


@dataclass(frozen=True)
class _Edge:
    component_id: int
    type: str
    notes: str | None
    given: int | str


def _validate(session: Session, version: ComponentVersion, spec: DependencySpec) -> _Edge:
    target = component_id_by_ref(session, spec.component, "component")
    if target == version.component_id:
        raise InvalidValue(
            "component", spec.component, "is the version's own component: a component cannot depend on itself"
        )
    kind = clean_choice(spec.type, DEPENDENCY_TYPES, "type")
    return _Edge(target, kind, clean_text(spec.notes, "notes"), spec.component)


def add_dependency(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    component: int | str,
    type: str = "strong_rw",
    notes: str | None = None,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> Dependency:
    """Record that the version depends on ``component`` (name or id) with ``type`` (DEPENDENCY_TYPES).

    Raises NotFound (version_id, component), PermissionDenied, InvalidValue (component: the version's
    own component; type), DuplicateName (component: the same edge exists), StaleWrite; nothing is
    written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the dependencies of this version")
    check_version("component_version", version, expected_row_version)
    edge = _validate(session, version, DependencySpec(component, type, notes))
    exists = session.scalar(
        select(Dependency.id).where(
            Dependency.version_id == version.id,
            Dependency.component_id == edge.component_id,
            Dependency.type == edge.type,
        )
    )
    if exists is not None:
        raise DuplicateEntry("component", component, f"is already a {edge.type} dependency of this version")
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"add dependency to version {version.id}"
    )
    touch(session, version)
    dep = _insert(session, audit, version, edge)
    finish(audit)
    return dep


def remove_dependency(
    session: Session,
    *,
    actor: Actor,
    dependency_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Remove one dependency edge (``expected_row_version``: its version's). Raises NotFound
    (dependency_id), PermissionDenied, StaleWrite; nothing is written then."""
    dep = session.get(Dependency, dependency_id)
    if dep is None:
        raise NotFound("dependency_id", dependency_id)
    version = load_version_for_write(
        session, actor, dep.version_id, "change the dependencies of this version"
    )
    check_version("component_version", version, expected_row_version)
    audit = begin_change(
        session, actor, change_set=change_set, summary=f"remove dependency of version {version.id}"
    )
    touch(session, version)
    _delete(session, audit, version, dep)
    finish(audit)


def set_dependencies(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    dependencies: Sequence[DependencySpec],
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> list[Dependency]:
    """Make the version's dependencies exactly ``dependencies``: add the new edges, remove the missing
    ones, update changed notes. Returns the edges now recorded.

    Raises NotFound, PermissionDenied, InvalidValue (a self-dependency, a type), DuplicateName (the
    same component and type twice in ``dependencies``), StaleWrite; nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the dependencies of this version")
    check_version("component_version", version, expected_row_version)
    wanted: dict[tuple[int, str], _Edge] = {}
    for spec in dependencies:
        edge = _validate(session, version, spec)
        if (edge.component_id, edge.type) in wanted:
            raise DuplicateEntry("component", spec.component, f"is listed twice as a {edge.type} dependency")
        wanted[(edge.component_id, edge.type)] = edge
    current = {
        (d.component_id, d.type): d
        for d in session.scalars(select(Dependency).where(Dependency.version_id == version.id))
    }
    removed = [d for key, d in current.items() if key not in wanted]
    added = [e for key, e in wanted.items() if key not in current]
    renoted = [
        (current[key], e) for key, e in wanted.items() if key in current and current[key].notes != e.notes
    ]
    if removed or added or renoted:
        audit = begin_change(
            session, actor, change_set=change_set, summary=f"set dependencies of version {version.id}"
        )
        touch(session, version)
        for dep in removed:
            _delete(session, audit, version, dep)
        flush_rows(session)
        for edge in added:
            _insert(session, audit, version, edge)
        for dep, edge in renoted:
            audit.event(
                entity="dependency",
                entity_id=dep.id,
                action="update",
                field="notes",
                old=dep.notes,
                new=edge.notes,
                component_id=version.component_id,
            )
            dep.notes = edge.notes
        finish(audit)
    return list(
        session.scalars(select(Dependency).where(Dependency.version_id == version.id).order_by(Dependency.id))
    )


def _insert(session: Session, audit: Audit, version: ComponentVersion, edge: _Edge) -> Dependency:
    dep = Dependency(version_id=version.id, component_id=edge.component_id, type=edge.type, notes=edge.notes)
    session.add(dep)
    flush_rows(session)
    name = names_by_ids(session, Component, [edge.component_id])[edge.component_id]
    record_row(
        audit,
        action="create",
        entity="dependency",
        entity_id=dep.id,
        values={"version_id": version.id, "component": name, "type": edge.type, "notes": edge.notes},
        component_id=version.component_id,
    )
    return dep


def _delete(session: Session, audit: Audit, version: ComponentVersion, dep: Dependency) -> None:
    name = names_by_ids(session, Component, [dep.component_id]).get(dep.component_id)
    record_row(
        audit,
        action="delete",
        entity="dependency",
        entity_id=dep.id,
        values={"version_id": version.id, "component": name, "type": dep.type, "notes": dep.notes},
        component_id=version.component_id,
    )
    session.delete(dep)
