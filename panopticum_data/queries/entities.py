"""One read per entity: set-based selects returning DataFrames with readable columns (names, not ids)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, bindparam, func, literal, select
from sqlalchemy.orm import aliased

from .. import models as m
from ._util import frame, group_concat, split_list


def _person_name(p: Any) -> Any:
    """A person's display name: "First Last", else the username."""
    full = func.trim(func.coalesce(p.first_name, "") + literal(" ") + func.coalesce(p.last_name, ""))
    return func.coalesce(func.nullif(full, ""), p.username)


def list_components(conn: Connection, *, component_id: int | None = None) -> pd.DataFrame:
    """Every component (or one) with its reference names, current version and tags."""
    params = None if component_id is None else {"component_id": int(component_id)}
    df = frame(conn, _components_statement(conn.dialect.name, component_id is not None), params=params)
    df["tags"] = split_list(df["tags"])
    return df


@cache
def _components_statement(dialect: str, one: bool) -> Any:
    cv = aliased(m.ComponentVersion)
    tags = select(group_concat(m.Tag.name, dialect)).join(m.ComponentTag, m.ComponentTag.tag_id == m.Tag.id)
    stmt = (
        select(
            m.Component.id.label("component_id"),
            m.Component.name,
            m.Component.description,
            m.Component.life_status,
            m.ComponentType.name.label("type"),
            m.Category.name.label("category"),
            m.Subcategory.name.label("subcategory"),
            m.Vendor.name.label("vendor"),
            m.PrivacyClass.name.label("privacy_class"),
            m.Component.highly_loaded,
            m.Component.current_version_id,
            cv.version.label("current_version"),
            tags.where(m.ComponentTag.component_id == m.Component.id).scalar_subquery().label("tags"),
            m.Component.row_version,
            m.Component.created_at,
            m.Component.updated_at,
        )
        .outerjoin(m.ComponentType, m.ComponentType.id == m.Component.type_id)
        .outerjoin(m.Category, m.Category.id == m.Component.category_id)
        .outerjoin(m.Subcategory, m.Subcategory.id == m.Component.subcategory_id)
        .outerjoin(m.Vendor, m.Vendor.id == m.Component.vendor_id)
        .outerjoin(m.PrivacyClass, m.PrivacyClass.id == m.Component.privacy_class_id)
        .outerjoin(cv, cv.id == m.Component.current_version_id)
        .order_by(func.lower(m.Component.name))
    )
    return stmt.where(m.Component.id == bindparam("component_id")) if one else stmt


def list_versions(conn: Connection, *, component_id: int | None = None) -> pd.DataFrame:
    """Every component version with its component, owners (maintainer, QA) and whether it is current."""
    params = None if component_id is None else {"component_id": int(component_id)}
    df = frame(conn, _versions_statement(component_id is not None), params=params)
    df["is_current"] = df["is_current"].fillna(False).astype(bool)
    df["code_kloc"] = pd.to_numeric(df["code_kloc"], errors="coerce").astype("float64")
    return df


@cache
def _versions_statement(one_component: bool) -> Any:
    maint, qa = aliased(m.Person), aliased(m.Person)
    stmt = (
        select(
            m.ComponentVersion.id.label("version_id"),
            m.ComponentVersion.component_id,
            m.Component.name.label("component"),
            m.ComponentVersion.version,
            (m.Component.current_version_id == m.ComponentVersion.id).label("is_current"),
            m.ComponentVersion.comments,
            _person_name(maint).label("maintainer"),
            _person_name(qa).label("responsible_qa"),
            m.ComponentVersion.code_kloc,
            m.ComponentVersion.api_is_public,
            m.ComponentVersion.qa_applicable,
            m.ComponentVersion.row_version,
            m.ComponentVersion.created_at,
            m.ComponentVersion.updated_at,
        )
        .join(m.Component, m.Component.id == m.ComponentVersion.component_id)
        .outerjoin(maint, maint.id == m.ComponentVersion.maintainer_id)
        .outerjoin(qa, qa.id == m.ComponentVersion.responsible_qa_id)
        .order_by(func.lower(m.Component.name), m.ComponentVersion.id)
    )
    if one_component:
        stmt = stmt.where(m.ComponentVersion.component_id == bindparam("component_id"))
    return stmt


def list_dependencies(conn: Connection, *, current_only: bool = False) -> pd.DataFrame:
    """Dependency edges: which component (at which version) depends on which component, typed."""
    src, dst = aliased(m.Component), aliased(m.Component)
    stmt = (
        select(
            m.Dependency.id.label("dependency_id"),
            m.Dependency.version_id,
            src.id.label("component_id"),
            src.name.label("component"),
            m.ComponentVersion.version,
            (src.current_version_id == m.Dependency.version_id).label("is_current"),
            dst.id.label("depends_on_id"),
            dst.name.label("depends_on"),
            m.Dependency.type,
            m.Dependency.notes,
        )
        .join(m.ComponentVersion, m.ComponentVersion.id == m.Dependency.version_id)
        .join(src, src.id == m.ComponentVersion.component_id)
        .join(dst, dst.id == m.Dependency.component_id)
        .order_by(func.lower(src.name), func.lower(dst.name), m.Dependency.type)
    )
    if current_only:
        stmt = stmt.where(src.current_version_id == m.Dependency.version_id)
    df = frame(conn, stmt)
    df["is_current"] = df["is_current"].fillna(False).astype(bool)
    return df


def list_deployments(conn: Connection, *, version_id: int | None = None) -> pd.DataFrame:
    """Where each component version is deployed: product, location, environment, runtime, ports."""
    params = None if version_id is None else {"version_id": int(version_id)}
    df = frame(conn, _deployments_statement(conn.dialect.name, version_id is not None), params=params)
    df["ports"] = df["ports"].map(
        lambda v: sorted(int(p) for p in v.split(", ")) if isinstance(v, str) and v else []
    )
    return df


@cache
def _deployments_statement(dialect: str, one_version: bool) -> Any:
    ports = (
        select(group_concat(func.cast(m.TcpPort.port, m.TcpPort.name.type), dialect))
        .join(m.DeploymentPort, m.DeploymentPort.port_id == m.TcpPort.id)
        .where(m.DeploymentPort.deployment_id == m.Deployment.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            m.Deployment.id.label("deployment_id"),
            m.Deployment.version_id,
            m.Component.id.label("component_id"),
            m.Component.name.label("component"),
            m.ComponentVersion.version,
            m.ProductFamily.name.label("product_family"),
            m.ProductVersion.name.label("product_version"),
            m.LocationClass.name.label("location_class"),
            m.Environment.name.label("environment"),
            m.Runtime.name.label("runtime"),
            m.Deployment.name,
            m.Deployment.service_name,
            m.Deployment.binary_name,
            ports.label("ports"),
            m.Deployment.is_new,
            m.Deployment.notes,
            m.Deployment.row_version,
        )
        .join(m.ComponentVersion, m.ComponentVersion.id == m.Deployment.version_id)
        .join(m.Component, m.Component.id == m.ComponentVersion.component_id)
        .join(m.ProductVersion, m.ProductVersion.id == m.Deployment.product_version_id)
        .join(m.ProductFamily, m.ProductFamily.id == m.ProductVersion.family_id)
        .join(m.LocationClass, m.LocationClass.id == m.Deployment.location_class_id)
        .outerjoin(m.Environment, m.Environment.id == m.Deployment.environment_id)
        .outerjoin(m.Runtime, m.Runtime.id == m.Deployment.runtime_id)
        .order_by(func.lower(m.Component.name), m.ProductVersion.position, m.Deployment.id)
    )
    if one_version:
        stmt = stmt.where(m.Deployment.version_id == bindparam("version_id"))
    return stmt


def list_people(conn: Connection) -> pd.DataFrame:
    """The people directory with department, organisation, job role and manager by name."""
    mgr = aliased(m.Person)
    stmt = (
        select(
            m.Person.id.label("person_id"),
            m.Person.username,
            _person_name(m.Person).label("name"),
            m.Person.first_name,
            m.Person.last_name,
            m.Person.email,
            m.Person.title,
            m.Department.name.label("department"),
            m.Organisation.name.label("organisation"),
            m.JobRole.name.label("job_role"),
            mgr.username.label("manager_username"),
            _person_name(mgr).label("manager"),
            m.Person.office_phone,
            m.Person.mobile_phone,
            m.Person.employee_number,
            m.Person.access_role,
            m.Person.active,
            m.Person.hidden,
            (m.Person.photo.is_not(None)).label("has_photo"),
        )
        .outerjoin(m.Department, m.Department.id == m.Person.department_id)
        .outerjoin(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .outerjoin(m.JobRole, m.JobRole.id == m.Person.job_role_id)
        .outerjoin(mgr, mgr.id == m.Person.manager_id)
        .order_by(func.lower(m.Person.username))
    )
    df = frame(conn, stmt)
    df["manager"] = df["manager"].where(df["manager_username"].notna(), None)
    return df


def list_owners(conn: Connection, *, version_ids: list[int] | None = None) -> pd.DataFrame:
    """Long frame of owners: one row per (version, role, person), all seven roles."""
    params = None if version_ids is None else {"version_ids": [int(v) for v in version_ids]}
    return frame(conn, _owners_statement(version_ids is not None), params=params)


@cache
def _owners_statement(some_versions: bool) -> Any:
    single = []
    for role, column in (
        ("maintainer", m.ComponentVersion.maintainer_id),
        ("responsible_qa", m.ComponentVersion.responsible_qa_id),
    ):
        single.append(
            select(
                m.ComponentVersion.id.label("version_id"),
                literal(role).label("role"),
                column.label("person_id"),
            ).where(column.is_not(None))
        )
    multi = select(m.VersionOwner.version_id, m.VersionOwner.role, m.VersionOwner.person_id)
    union = single[0].union_all(single[1], multi).subquery()
    stmt = select(
        union.c.version_id,
        union.c.role,
        m.Person.username,
        _person_name(m.Person).label("name"),
        m.Person.email,
    ).join(m.Person, m.Person.id == union.c.person_id)
    if some_versions:
        stmt = stmt.where(union.c.version_id.in_(bindparam("version_ids", expanding=True)))
    return stmt.order_by(union.c.version_id, union.c.role, m.Person.username)


def list_requirement_sets(conn: Connection) -> pd.DataFrame:
    groups = (
        select(
            m.SignerGroup.set_id, group_concat(m.PersonGroup.name, conn.dialect.name).label("signer_groups")
        )
        .join(m.PersonGroup, m.PersonGroup.id == m.SignerGroup.group_id)
        .group_by(m.SignerGroup.set_id)
        .subquery()
    )
    counts = (
        select(m.RequirementSetItem.set_id, func.count().label("requirements"))
        .group_by(m.RequirementSetItem.set_id)
        .subquery()
    )
    stmt = (
        select(
            m.RequirementSet.id.label("set_id"),
            m.RequirementSet.name,
            m.RequirementSet.description,
            m.RequirementSet.doc_link,
            m.RequirementSet.position,
            m.RequirementSet.ui_slot,
            m.RequirementSet.validity_days,
            func.coalesce(counts.c.requirements, 0).label("requirements"),
            groups.c.signer_groups,
            m.RequirementSet.row_version,
        )
        .outerjoin(groups, groups.c.set_id == m.RequirementSet.id)
        .outerjoin(counts, counts.c.set_id == m.RequirementSet.id)
        .order_by(m.RequirementSet.position, m.RequirementSet.id)
    )
    df = frame(conn, stmt)
    df["signer_groups"] = split_list(df["signer_groups"])
    return df


def list_requirements(conn: Connection) -> pd.DataFrame:
    """One row per (set, requirement) membership, in set order then requirement order; the
    requirement's ``requirement_row_version`` (its title, description, sets and places)."""
    stmt = (
        select(
            m.RequirementSet.id.label("set_id"),
            m.RequirementSet.name.label("set_name"),
            m.RequirementSet.position.label("set_position"),
            m.RequirementSet.validity_days,
            m.Requirement.id.label("requirement_id"),
            m.Requirement.title,
            m.Requirement.description,
            m.RequirementSetItem.position.label("requirement_position"),
            m.Requirement.row_version.label("requirement_row_version"),
        )
        .join(m.RequirementSetItem, m.RequirementSetItem.set_id == m.RequirementSet.id)
        .join(m.Requirement, m.Requirement.id == m.RequirementSetItem.requirement_id)
        .order_by(
            m.RequirementSet.position, m.RequirementSet.id, m.RequirementSetItem.position, m.Requirement.id
        )
    )
    return frame(conn, stmt)


def list_reference(conn: Connection, table: str, *, for_update: bool = False) -> pd.DataFrame:
    """A reference table's rows with a `used_by` count of the rows that point at each one.

    ``for_update``: lock the table's rows until the transaction ends (SELECT ... FOR UPDATE OF the
    table; SQLite has no row locks and ignores it), for a save that compares them with an earlier read."""
    model = m.REFERENCE_MODELS[table]
    tbl = model.__table__
    cols = [c for c in tbl.columns]
    usage = []
    for fk_table in m.Base.metadata.sorted_tables:
        for fk in fk_table.foreign_keys:
            if fk.column.table is tbl:
                usage.append(
                    select(fk.parent.label("ref_id"), func.count().label("n"))
                    .group_by(fk.parent)
                    .where(fk.parent.is_not(None))
                )
    stmt: Any = select(*cols).order_by(func.lower(tbl.c.name))
    if usage:
        used = usage[0].union_all(*usage[1:]).subquery() if len(usage) > 1 else usage[0].subquery()
        total = select(used.c.ref_id, func.sum(used.c.n).label("used_by")).group_by(used.c.ref_id).subquery()
        stmt = (
            select(*cols, func.coalesce(total.c.used_by, 0).label("used_by"))
            .outerjoin(total, total.c.ref_id == tbl.c.id)
            .order_by(func.lower(tbl.c.name))
        )
    if for_update:
        stmt = stmt.with_for_update(of=tbl)
    df = frame(conn, stmt)
    if "used_by" not in df:
        df["used_by"] = 0
    df["used_by"] = df["used_by"].astype("int64")
    return df


def list_endpoints(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(
            m.Endpoint.id.label("endpoint_id"),
            m.Endpoint.pattern,
            m.Component.name.label("component"),
            m.Endpoint.notes,
        )
        .join(m.Component, m.Component.id == m.Endpoint.component_id)
        .order_by(m.Endpoint.pattern)
    )
    return frame(conn, stmt)


def list_radar(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(
            m.RadarEntry.id.label("entry_id"),
            m.RadarEntry.label,
            m.RadarQuadrant.name.label("quadrant"),
            m.RadarRing.name.label("ring"),
            m.RadarRing.color,
            m.RadarEntry.moved,
            m.RadarEntry.link,
            m.RadarEntry.active,
            m.RadarEntry.description,
        )
        .join(m.RadarQuadrant, m.RadarQuadrant.id == m.RadarEntry.quadrant_id)
        .join(m.RadarRing, m.RadarRing.id == m.RadarEntry.ring_id)
        .order_by(m.RadarQuadrant.position, m.RadarRing.position, m.RadarEntry.label)
    )
    return frame(conn, stmt)


def list_audit(
    conn: Connection,
    *,
    component_id: int | None = None,
    actor: str | None = None,
    entity: str | None = None,
    change_set_id: int | None = None,
    limit: int | None = 10_000,
) -> pd.DataFrame:
    """The audit trail, newest first, with the component's name where the event concerns one."""
    stmt = (
        select(
            m.AuditEvent.id.label("event_id"),
            m.AuditEvent.change_set_id,
            m.AuditEvent.at,
            m.AuditEvent.actor_name.label("actor"),
            m.AuditEvent.entity,
            m.AuditEvent.entity_id,
            m.AuditEvent.component_id,
            m.Component.name.label("component"),
            m.AuditEvent.action,
            m.AuditEvent.field,
            m.AuditEvent.old_value,
            m.AuditEvent.new_value,
            m.ChangeSet.source,
        )
        .join(m.ChangeSet, m.ChangeSet.id == m.AuditEvent.change_set_id)
        .outerjoin(m.Component, m.Component.id == m.AuditEvent.component_id)
        .order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc())
    )
    conditions = []
    if component_id is not None:
        conditions.append(m.AuditEvent.component_id == component_id)
    if actor:
        conditions.append(func.lower(m.AuditEvent.actor_name) == actor.lower())
    if entity:
        conditions.append(m.AuditEvent.entity == entity)
    if change_set_id is not None:
        conditions.append(m.AuditEvent.change_set_id == change_set_id)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    if limit is not None:
        stmt = stmt.limit(limit)
    return frame(conn, stmt)


def data_version(conn: Connection) -> int:
    """The newest change-set id: a cache key that changes with every write, from any process."""
    return int(conn.execute(select(func.coalesce(func.max(m.ChangeSet.id), 0))).scalar_one())


def list_groups(conn: Connection) -> pd.DataFrame:
    """Person groups by name (ignoring case): group_id, name, description, members (a count)."""
    members = (
        select(m.GroupMember.group_id, func.count().label("members"))
        .group_by(m.GroupMember.group_id)
        .subquery()
    )
    stmt = (
        select(
            m.PersonGroup.id.label("group_id"),
            m.PersonGroup.name,
            m.PersonGroup.description,
            func.coalesce(members.c.members, 0).label("members"),
        )
        .outerjoin(members, members.c.group_id == m.PersonGroup.id)
        .order_by(func.lower(m.PersonGroup.name), m.PersonGroup.id)
    )
    return frame(conn, stmt, columns=["group_id", "name", "description", "members"])


def list_qa_levels(conn: Connection, version_ids: Sequence[int]) -> pd.DataFrame:
    """``version_id, kind, level, notes`` of the QA levels recorded for these versions (kinds never
    recorded are absent: they read as ``unknown``). One query."""
    ids = sorted({int(v) for v in version_ids})
    columns = ["version_id", "kind", "level", "notes"]
    if not ids:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    qa = m.QaLevel
    stmt = (
        select(qa.version_id, qa.kind, qa.level, qa.notes)
        .where(qa.version_id.in_(ids))
        .order_by(qa.version_id, qa.kind)
    )
    return frame(conn, stmt, columns)
