"""The components overview: one row per component with its current version's scores and set statuses.

Scores follow SPEC §3 (see ``panopticum_data.scoring``). For speed at 10,000 components the
status matrix is aggregated in SQL (one grouped query over the current versions' statuses) instead
of shipping 260,000 rows to pandas; versions that exclude a set are scored through
``scoring.score_versions`` on their rows. ``tests/data/test_queries_overview.py`` checks that both
paths agree with ``score_versions`` on the whole registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, literal, or_, select

from .. import models as m
from .. import scoring
from ._util import frame
from .entities import _person_name, list_requirements
from .scoring_inputs import score_inputs

PROFILE_LINK_KINDS = {
    "api_spec": "api_spec",
    "repository": "repository",
    "issue_tracker": "issue_tracker",
    "docs": "docs",
}
MULTI_ROLE_FIELDS = {
    "product_manager": "product_managers",
    "program_manager": "program_managers",
    "escalation": "escalation_list",
    "expert": "experts",
    "architect": "architects",
}


@dataclass(frozen=True, kw_only=True)
class OverviewFilters:
    """Filters of the components overview; empty means "no restriction". Text matches name,
    description and tags, case-insensitively."""

    text: str = ""
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    life_statuses: tuple[str, ...] = ()
    privacy_classes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    rating_bands: tuple[str, ...] = ()
    new_in_product: bool = False


def _base(conn: Connection) -> pd.DataFrame:
    maint = m.Person
    stmt = (
        select(
            m.Component.id.label("component_id"),
            m.Component.name,
            m.Component.description,
            m.ComponentVersion.id.label("version_id"),
            m.ComponentVersion.version,
            m.Category.name.label("category"),
            m.ComponentType.name.label("type"),
            m.Component.life_status,
            m.PrivacyClass.name.label("privacy_class"),
            m.Vendor.name.label("vendor"),
            m.Component.highly_loaded,
            _person_name(maint).label("maintainer"),
            maint.username.label("maintainer_username"),
            (m.ComponentVersion.responsible_qa_id.is_not(None)).label("has_qa"),
            m.ComponentVersion.api_is_public,
            m.ComponentVersion.qa_applicable,
        )
        .outerjoin(m.ComponentVersion, m.ComponentVersion.id == m.Component.current_version_id)
        .outerjoin(m.Category, m.Category.id == m.Component.category_id)
        .outerjoin(m.ComponentType, m.ComponentType.id == m.Component.type_id)
        .outerjoin(m.PrivacyClass, m.PrivacyClass.id == m.Component.privacy_class_id)
        .outerjoin(m.Vendor, m.Vendor.id == m.Component.vendor_id)
        .outerjoin(maint, maint.id == m.ComponentVersion.maintainer_id)
        .order_by(func.lower(m.Component.name))
    )
    return frame(conn, stmt)


def _current_versions() -> Any:
    return select(m.Component.current_version_id).where(m.Component.current_version_id.is_not(None))


def _profile_counts(conn: Connection, versions: pd.Index) -> pd.DataFrame:
    """Counts of the many-valued "must" fields per current version (0 = not filled)."""
    cur = _current_versions()
    out = pd.DataFrame(
        0, index=versions, columns=[*MULTI_ROLE_FIELDS.values(), "languages", *PROFILE_LINK_KINDS]
    )
    roles = frame(
        conn,
        select(m.VersionOwner.version_id, m.VersionOwner.role, func.count().label("n"))
        .where(m.VersionOwner.version_id.in_(cur))
        .group_by(m.VersionOwner.version_id, m.VersionOwner.role),
    )
    links = frame(
        conn,
        select(m.VersionLink.version_id, m.VersionLink.kind.label("role"), func.count().label("n"))
        .where(m.VersionLink.version_id.in_(cur), m.VersionLink.kind.in_(list(PROFILE_LINK_KINDS)))
        .group_by(m.VersionLink.version_id, m.VersionLink.kind),
    )
    langs = frame(
        conn,
        select(m.VersionLanguage.version_id, literal("languages").label("role"), func.count().label("n"))
        .where(m.VersionLanguage.version_id.in_(cur))
        .group_by(m.VersionLanguage.version_id),
    )
    long = pd.concat([roles, links, langs], ignore_index=True)
    if len(long):
        long["role"] = long["role"].map(lambda r: MULTI_ROLE_FIELDS.get(r, r))
        wide = long.pivot_table(index="version_id", columns="role", values="n", aggfunc="sum", fill_value=0)
        wide = wide.reindex(index=versions, fill_value=0)
        for col in wide.columns:
            out[col] = wide[col].astype("int64")
    return out


def _qa_totals(conn: Connection) -> pd.DataFrame:
    points = case(*[(m.QaLevel.level == level, pts) for level, pts in scoring.LEVEL_POINTS.items()], else_=0)
    stmt = (
        select(
            m.QaLevel.version_id,
            func.sum(points).label("qa_points"),
            func.sum(case((m.QaLevel.level != "unknown", 1), else_=0)).label("qa_filled"),
        )
        .where(m.QaLevel.version_id.in_(_current_versions()))
        .group_by(m.QaLevel.version_id)
    )
    return frame(conn, stmt).set_index("version_id")


def _set_cutoffs(reqs: pd.DataFrame, now: datetime) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """Per set and per requirement (strictest of its sets): verdicts older than the cutoff expire."""
    valid = reqs.dropna(subset=["validity_days"])
    by_set = {
        int(sid): now - timedelta(days=float(days))
        for sid, days in valid.groupby("set_id")["validity_days"].first().items()
    }
    by_req = {
        int(rid): now - timedelta(days=float(days))
        for rid, days in valid.groupby("requirement_id")["validity_days"].min().items()
    }
    return by_set, by_req


def _status_aggregates(
    conn: Connection, reqs: pd.DataFrame, excluded_versions: Sequence[int], now: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grouped counts per (version, set) and per version, for current versions without exclusions."""
    rs, item = m.RequirementStatus, m.RequirementSetItem
    by_set, by_req = _set_cutoffs(reqs, now)
    primary = reqs.sort_values(["set_position", "set_id", "requirement_position"]).drop_duplicates(
        "requirement_id"
    )
    primary_set = (
        case(
            {int(r): int(s) for r, s in zip(primary["requirement_id"], primary["set_id"], strict=True)},
            value=item.requirement_id,
        )
        if len(primary)
        else literal(-1)
    )

    def signee(cutoffs: dict[int, datetime], key: Any) -> Any:
        if not cutoffs:
            return rs.signee_status
        cutoff = case({k: v for k, v in cutoffs.items()}, value=key, else_=None)
        return case(
            (
                and_(
                    rs.signee_status != "unknown",
                    cutoff.is_not(None),
                    or_(rs.signee_at.is_(None), rs.signee_at < cutoff),
                ),
                "unknown",
            ),
            else_=rs.signee_status,
        )

    claimed = rs.owner_status.in_(("ready", "n/a"))
    sig_set = signee(by_set, item.set_id)
    sig_req = signee(by_req, item.requirement_id)
    is_primary = item.set_id == primary_set
    one = literal(1)
    stmt = (
        select(
            rs.version_id,
            item.set_id,
            func.count().label("rows"),
            func.sum(
                case(
                    (and_(claimed, sig_set == "not_ready"), one),
                    (rs.owner_status == "not_ready", one),
                    else_=0,
                )
            ).label("not_ready"),
            func.sum(case((and_(~claimed, rs.owner_status == "unknown"), one), else_=0)).label("unknown"),
            func.sum(case((and_(claimed, sig_set == "unknown"), one), else_=0)).label("waiting"),
            func.sum(case((and_(is_primary, rs.owner_status != "unknown"), one), else_=0)).label("filled"),
            func.sum(case((and_(is_primary, claimed, sig_req == "ready"), one), else_=0)).label("signed"),
        )
        .join(item, item.requirement_id == rs.requirement_id)
        .where(rs.version_id.in_(_current_versions()))
        .group_by(rs.version_id, item.set_id)
    )
    if excluded_versions:
        stmt = stmt.where(rs.version_id.not_in(list(excluded_versions)))
    per_set = frame(conn, stmt)
    per_version = per_set.groupby("version_id")[["filled", "signed"]].sum()
    return per_set, per_version


def _set_status_from_counts(not_ready: pd.Series, unknown: pd.Series, waiting: pd.Series) -> pd.Series:
    out = np.where(
        not_ready > 0,
        "not_ready",
        np.where(unknown > 0, "unknown", np.where(waiting > 0, "waiting", "ready")),
    )
    return pd.Series(out, index=not_ready.index, dtype="object")


def components_overview(
    conn: Connection, filters: OverviewFilters | None = None, *, now: datetime | None = None
) -> pd.DataFrame:
    """One row per component: current version, category, type, life status, maintainer, tags,
    rating, completeness, QA score (NA when QA does not apply), and one status column per
    requirement set (named by the set), plus the products and locations it is deployed in."""
    now = now or datetime.now(UTC)
    base = _base(conn)
    reqs = list_requirements(conn)
    sets = reqs.drop_duplicates("set_id")[["set_id", "set_name", "set_position"]]
    excluded = frame(
        conn,
        select(m.SetExclusion.version_id, m.SetExclusion.set_id).where(
            m.SetExclusion.version_id.in_(_current_versions())
        ),
    )
    versions = pd.Index(base["version_id"].dropna().astype("int64"), name="version_id")
    excluded_versions = sorted(set(excluded["version_id"].astype(int)))

    # profile "must" fields: 13 items
    counts = _profile_counts(conn, versions)
    b = base.dropna(subset=["version_id"]).set_index(base["version_id"].dropna().astype("int64"))
    filled_fields = (
        b["maintainer_username"].notna().astype("int64")
        + b["has_qa"].astype(bool).astype("int64")
        + (counts > 0).sum(axis=1)
        + (~b["api_is_public"].isin(["unknown", "?", ""]) & b["api_is_public"].notna()).astype("int64")
    )
    qa_applicable = b["qa_applicable"].fillna(True).astype(bool)
    qa = _qa_totals(conn).reindex(versions).fillna(0).astype("int64")

    # requirement statuses
    distinct_reqs = reqs["requirement_id"].nunique()
    per_set, per_version = _status_aggregates(conn, reqs, excluded_versions, now)
    per_version = per_version.reindex(versions).fillna(0).astype("int64")
    filled = filled_fields + per_version["filled"] + np.where(qa_applicable, qa["qa_filled"], 0)
    expected = len(scoring.MUST_FIELDS) + distinct_reqs + np.where(qa_applicable, len(scoring.QA_KINDS), 0)
    completeness = (100 * filled // expected).astype("int64")
    qa_points = np.where(qa_applicable, qa["qa_points"], 0)
    denominator = distinct_reqs + np.where(qa_applicable, scoring.QA_MAX_POINTS, 0)
    rating = pd.Series(
        np.where(
            denominator > 0, 100 * (per_version["signed"] + qa_points) // np.maximum(denominator, 1), -1
        ),
        index=versions,
    )
    scores = pd.DataFrame(
        {
            "rating": pd.array(rating.where(rating >= 0), dtype="Int64"),
            "completeness": completeness,
            "qa_score": pd.array(
                np.where(qa_applicable, 100 * qa["qa_points"] // scoring.QA_MAX_POINTS, -1), dtype="Int64"
            ),
        },
        index=versions,
    )
    scores.loc[~qa_applicable.to_numpy(), "qa_score"] = pd.NA

    # set statuses: missing rows count as unknown
    set_sizes = reqs.groupby("set_id").size()
    grid = pd.MultiIndex.from_product(
        [versions, sets["set_id"].astype("int64")], names=["version_id", "set_id"]
    )
    agg = per_set.set_index(["version_id", "set_id"]).reindex(grid).fillna(0).astype("int64")
    missing_rows = set_sizes.reindex(agg.index.get_level_values("set_id")).to_numpy() - agg["rows"].to_numpy()
    status = _set_status_from_counts(agg["not_ready"], agg["unknown"] + missing_rows, agg["waiting"])
    status_wide = status.unstack("set_id") if len(status) else pd.DataFrame(index=versions)

    # versions with exclusions: the row-level path
    if excluded_versions:
        inputs = score_inputs(conn, version_ids=excluded_versions, reqs=reqs)
        exact = scoring.score_versions(
            profile=inputs.profile,
            qa_levels=inputs.qa_levels,
            pairs=inputs.pairs,
            statuses=inputs.statuses,
            now=now,
        )
        rows = scores.index.get_indexer(exact.index)
        for column in ("rating", "completeness", "qa_score"):
            values = scores[column].astype("Int64").array.copy()
            values[rows] = pd.array(exact[column].to_numpy(dtype=object), dtype="Int64")
            scores[column] = values
        exact_sets = scoring.set_statuses(inputs.pairs, inputs.statuses, inputs.excluded, now=now)
        fix = exact_sets.set_index(["version_id", "set_id"])["set_status"].unstack("set_id")
        status_wide.loc[fix.index, fix.columns] = fix

    set_names = dict(zip(sets["set_id"].astype("int64"), sets["set_name"], strict=True))
    status_wide = status_wide.rename(columns=set_names)
    out = (
        base.drop(columns=["has_qa", "api_is_public"])
        .join(scores, on="version_id")
        .join(status_wide, on="version_id")
    )
    for name in set_names.values():
        if name not in out:
            out[name] = None
    out = out.join(_tags(conn), on="component_id").join(_deployed(conn), on="component_id")
    for col in ("tags", "products", "locations"):
        out[col] = out[col].map(lambda v: v if isinstance(v, list) else [])
    out["new_in_products"] = out["new_in_products"].map(lambda v: v if isinstance(v, list) else [])
    out["rating_band"] = scoring.bands(out["rating"])
    out.attrs["set_columns"] = list(set_names.values())
    return apply_filters(conn, out, filters) if filters else out.reset_index(drop=True)


def _tags(conn: Connection) -> pd.DataFrame:
    df = frame(
        conn, select(m.ComponentTag.component_id, m.Tag.name).join(m.Tag, m.Tag.id == m.ComponentTag.tag_id)
    )
    return df.groupby("component_id")["name"].agg(lambda s: sorted(s)).rename("tags").to_frame()


def _deployed(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(
            m.Component.id.label("component_id"),
            m.ProductVersion.name.label("product"),
            m.LocationClass.name.label("location"),
            m.Deployment.is_new,
        )
        .join(m.Deployment, m.Deployment.version_id == m.Component.current_version_id)
        .join(m.ProductVersion, m.ProductVersion.id == m.Deployment.product_version_id)
        .join(m.LocationClass, m.LocationClass.id == m.Deployment.location_class_id)
    )
    df = frame(conn, stmt)
    g = df.groupby("component_id")
    return pd.DataFrame(
        {
            "products": g["product"].agg(lambda s: sorted(set(s))),
            "locations": g["location"].agg(lambda s: sorted(set(s))),
            "new_in_products": df[df["is_new"].astype(bool)]
            .groupby("component_id")["product"]
            .agg(lambda s: sorted(set(s))),
        }
    )


def _owned_by(conn: Connection, usernames: Sequence[str]) -> set[int]:
    lowered = [u.lower() for u in usernames]
    cv, p = m.ComponentVersion, m.Person
    direct = (
        select(m.Component.id)
        .join(cv, cv.id == m.Component.current_version_id)
        .join(p, (p.id == cv.maintainer_id) | (p.id == cv.responsible_qa_id))
        .where(func.lower(p.username).in_(lowered))
    )
    listed = (
        select(m.Component.id)
        .join(m.VersionOwner, m.VersionOwner.version_id == m.Component.current_version_id)
        .join(p, p.id == m.VersionOwner.person_id)
        .where(func.lower(p.username).in_(lowered))
    )
    return {int(r[0]) for r in conn.execute(direct.union(listed))}


def apply_filters(conn: Connection, df: pd.DataFrame, f: OverviewFilters) -> pd.DataFrame:
    """Filter an overview frame; list filters match any of their values."""
    mask = pd.Series(True, index=df.index)
    if f.text.strip():
        needle = f.text.strip().lower()
        hay = (
            df["name"].fillna("").str.lower()
            + "\n"
            + df["description"].fillna("").str.lower()
            + "\n"
            + df["tags"].map(lambda t: " ".join(t).lower())
        )
        mask &= hay.str.contains(needle, regex=False)
    for column, values in (
        ("category", f.categories),
        ("type", f.types),
        ("life_status", f.life_statuses),
        ("privacy_class", f.privacy_classes),
    ):
        if values:
            mask &= df[column].isin(values)
    for column, values in (("products", f.products), ("locations", f.locations), ("tags", f.tags)):
        if values:
            wanted = set(values)
            mask &= df[column].map(lambda have, w=wanted: bool(w.intersection(have)))
    if f.new_in_product:
        if f.products:
            wanted = set(f.products)
            mask &= df["new_in_products"].map(lambda have: bool(wanted.intersection(have)))
        else:
            mask &= df["new_in_products"].map(bool)
    if f.rating_bands:
        mask &= df["rating_band"].isin(f.rating_bands)
    if f.owners:
        mask &= df["component_id"].isin(_owned_by(conn, f.owners))
    return df[mask].reset_index(drop=True)
