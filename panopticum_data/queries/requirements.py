"""Requirement statuses of component versions and the matrix of a requirement set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, func, select, true
from sqlalchemy.orm import aliased

from .. import models as m
from .. import scoring
from ..errors import NotFound
from . import status_matrix as sm
from ._util import frame
from .entities import list_requirements


def resolve_set(conn: Connection, requirement_set: int | str) -> tuple[int, str]:
    """A set's (id, name) from its id or its name (case-insensitive); NotFound otherwise."""
    col = (
        m.RequirementSet.id
        if isinstance(requirement_set, int | np.integer)
        else func.lower(m.RequirementSet.name)
    )
    key = int(requirement_set) if isinstance(requirement_set, int | np.integer) else requirement_set.lower()
    row = conn.execute(select(m.RequirementSet.id, m.RequirementSet.name).where(col == key)).first()
    if row is None:
        raise NotFound("requirement_set", requirement_set)
    return int(row[0]), str(row[1])


def requirement_statuses(
    conn: Connection,
    *,
    requirement_set: int | str | None = None,
    version_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Long frame: one row per (current version — or the given versions —, set, requirement) with
    owner claim, signee verdict (expired verdicts count as unknown), overall status, notes, who and when.
    Missing status rows appear as owner "unknown" / signee "unknown". Excluded sets show "n/a"."""
    now = now or datetime.now(UTC)
    params: dict[str, Any] = {}
    if version_ids is not None:
        params["version_ids"] = [int(v) for v in version_ids]
    if requirement_set is not None:
        params["set_id"], _ = resolve_set(conn, requirement_set)
    stmt = statuses_statement(version_ids is not None, requirement_set is not None)
    return derive_statuses(frame(conn, stmt, params=params), now)


def derive_statuses(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Complete rows read with the ``requirement_statuses`` statement (in place, and returned): a
    missing row is owner/signee ``unknown``; ``signee_effective`` after expiry, ``expired``,
    ``overall`` (``n/a`` where the set is excluded)."""
    df["owner_status"] = df["owner_status"].fillna("unknown")
    df["signee_status"] = df["signee_status"].fillna("unknown")
    df["excluded"] = df["excluded"].fillna(False).astype(bool)
    signee_at = pd.to_datetime(df["signee_at"], utc=True).dt.tz_localize(None)
    df["signee_effective"] = scoring.expire_verdicts(
        df["signee_status"], signee_at=signee_at, validity_days=df["validity_days"].astype("float64"), now=now
    )
    df["expired"] = df["signee_effective"].ne(df["signee_status"])
    df["overall"] = scoring.overall_status(df["owner_status"], df["signee_effective"])
    df.loc[df["excluded"], "overall"] = "n/a"
    return df


@cache
def statuses_statement(by_versions: bool, by_set: bool) -> Any:
    """Built once per shape (building a select this size costs more than running it for one version)."""
    item, rset, req = m.RequirementSetItem, m.RequirementSet, m.Requirement
    owner_p, signee_p = aliased(m.Person), aliased(m.Person)
    if not by_versions:
        versions = select(
            m.Component.current_version_id.label("version_id"),
            m.Component.id.label("component_id"),
            m.Component.name.label("component"),
            m.ComponentVersion.version,
        ).join(m.ComponentVersion, m.ComponentVersion.id == m.Component.current_version_id)
    else:
        versions = (
            select(
                m.ComponentVersion.id.label("version_id"),
                m.Component.id.label("component_id"),
                m.Component.name.label("component"),
                m.ComponentVersion.version,
            )
            .join(m.Component, m.Component.id == m.ComponentVersion.component_id)
            .where(m.ComponentVersion.id.in_(bindparam("version_ids", expanding=True)))
        )
    v = versions.subquery()
    reqs = (
        select(
            item.set_id,
            rset.name.label("set_name"),
            rset.position.label("set_position"),
            rset.validity_days,
            item.requirement_id,
            req.title.label("requirement"),
            item.position.label("requirement_position"),
        )
        .join(rset, rset.id == item.set_id)
        .join(req, req.id == item.requirement_id)
    )
    if by_set:
        reqs = reqs.where(item.set_id == bindparam("set_id"))
    r = reqs.subquery()
    rs = m.RequirementStatus
    stmt = (
        select(
            v.c.component_id,
            v.c.component,
            v.c.version_id,
            v.c.version,
            r.c.set_id,
            r.c.set_name,
            r.c.set_position,
            r.c.validity_days,
            r.c.requirement_id,
            r.c.requirement,
            r.c.requirement_position,
            rs.id.label("status_id"),
            rs.owner_status,
            rs.owner_notes,
            owner_p.username.label("owner_by"),
            rs.owner_at,
            rs.signee_status,
            rs.signee_notes,
            signee_p.username.label("signee_by"),
            rs.signee_at,
            rs.evidence_url,
            rs.row_version,
            m.SetExclusion.reason.label("excluded_reason"),
            m.SetExclusion.version_id.is_not(None).label("excluded"),
        )
        .select_from(v)
        .join(r, true())
        .outerjoin(rs, (rs.version_id == v.c.version_id) & (rs.requirement_id == r.c.requirement_id))
        .outerjoin(owner_p, owner_p.id == rs.owner_by_id)
        .outerjoin(signee_p, signee_p.id == rs.signee_by_id)
        .outerjoin(
            m.SetExclusion,
            (m.SetExclusion.version_id == v.c.version_id) & (m.SetExclusion.set_id == r.c.set_id),
        )
        .order_by(func.lower(v.c.component), r.c.set_position, r.c.set_id, r.c.requirement_position)
    )
    return stmt


def requirement_matrix(
    conn: Connection, requirement_set: int | str, *, now: datetime | None = None
) -> pd.DataFrame:
    """Components (rows: current versions, by name) × the set's requirements (columns, in order):
    the overall status of each cell, after a ``set_status`` column. A version that excludes the set
    shows "n/a" everywhere. Built from the encoded status matrix (a few queries, no row per cell)."""
    now = now or datetime.now(UTC)
    set_id, _ = resolve_set(conn, requirement_set)
    reqs = list_requirements(conn)
    lay = sm.layout(reqs[reqs["set_id"] == set_id], now)
    comps = frame(
        conn,
        select(m.Component.name, m.Component.current_version_id.label("version_id")).where(
            m.Component.current_version_id.is_not(None)
        ),
    )
    order = np.argsort([n.lower() for n in comps["name"]], kind="stable")
    comps = comps.iloc[order].reset_index(drop=True)
    versions = pd.Index(comps["version_id"].astype("int64"))
    if not lay.set_ids:
        return pd.DataFrame(
            {"set_status": pd.Series([None] * len(comps), dtype=object)}, index=comps["name"].rename(None)
        )
    owner, signee, fresh = sm.decode_cells(sm.fetch_cells(conn), versions, lay)
    cols = lay.set_columns[0]
    codes = sm.set_overall_codes(owner, signee, fresh, lay, 0)
    cells = sm.OVERALL_NAMES[codes]
    status = sm.set_status_of(codes)
    excluded = conn.execute(
        select(m.SetExclusion.version_id).where(
            m.SetExclusion.set_id == set_id, m.SetExclusion.version_id.in_(sm.current_versions())
        )
    ).scalars()
    hit = versions.isin([int(v) for v in excluded])
    cells[hit] = "n/a"
    status[hit] = "n/a"
    titles = [lay.titles[c] for c in cols]
    out = pd.DataFrame(cells, columns=titles, index=comps["name"].rename(None))
    out.insert(0, "set_status", status)
    return out
