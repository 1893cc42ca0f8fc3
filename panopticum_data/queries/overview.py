"""The components overview: one row per component with its current version's scores and set statuses.

Scores follow SPEC §3 exactly as ``panopticum_data.scoring`` defines them, but computed without
shipping the 260,000-cell status matrix of a 10,000-component registry to pandas:

* one query returns, per current version, bitmasks over the requirements (one bit per requirement,
  62 to a 64-bit word): which requirements have a status row, an owner claim, an owner "unknown",
  and — for each distinct sign-off validity of the sets — which are not ready, waiting, or signed;
* numpy then derives each set's status, the applicable requirements (sets not excluded), the
  filled and signed counts (popcount), completeness and rating.

``tests/data/test_queries_overview.py`` checks that this agrees with ``scoring.score_versions`` and
``scoring.set_statuses`` on the whole demo registry (every status combination, exclusions, expiry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, case, cast, exists, func, select

from .. import models as m
from .. import scoring
from . import status_matrix as sm
from ._util import collector_paused, frame, group_concat
from .entities import _person_name, list_requirements
from .status_matrix import MISSING, Layout, current_versions, decode_cells, fetch_cells

SEP = "\x1f"
PAIR = "\x1e"
PROFILE_LINKS = ("api_spec", "repository", "issue_tracker", "docs")


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


def _sum_of(terms: Iterable[Any]) -> Any:
    """``a + b + …`` of boolean SQL expressions, as integers."""
    total: Any = None
    for term in terms:
        number = cast(term, Integer)
        total = number if total is None else total + number
    return total


def _base(conn: Connection) -> pd.DataFrame:
    """Components with their current version and everything the profile score needs, one row each.

    The many-valued "must" fields come back as bitmasks (one correlated aggregate per table, not one
    EXISTS per field); QA points and filled levels as one number (points * 16 + filled)."""
    cv, maint, dialect = m.ComponentVersion, m.Person, conn.dialect.name
    # one simple CASE per QA row: points * 16 + (1 when the level was answered)
    qa = case(
        {lvl: pts * 16 + (lvl != "unknown") for lvl, pts in scoring.LEVEL_POINTS.items()},
        value=m.QaLevel.level,
        else_=0,
    )
    new_mark = case((m.Deployment.is_new.is_(True), "+"), else_="-")
    stmt = (
        select(
            m.Component.id.label("component_id"),
            m.Component.name,
            m.Component.description,
            cv.id.label("version_id"),
            cv.version,
            m.Category.name.label("category"),
            m.ComponentType.name.label("type"),
            m.Component.life_status,
            m.PrivacyClass.name.label("privacy_class"),
            m.Vendor.name.label("vendor"),
            m.Component.highly_loaded,
            _person_name(maint).label("maintainer"),
            maint.username.label("maintainer_username"),
            select(group_concat(m.Tag.name, dialect, SEP))
            .join(m.ComponentTag, m.ComponentTag.tag_id == m.Tag.id)
            .where(m.ComponentTag.component_id == m.Component.id)
            .scalar_subquery()
            .label("tags"),
            # one aggregate for both lists: "+product\x1elocation" per deployment (+ marks "new in")
            select(group_concat(new_mark + m.ProductVersion.name + PAIR + m.LocationClass.name, dialect, SEP))
            .select_from(m.Deployment)
            .join(m.ProductVersion, m.ProductVersion.id == m.Deployment.product_version_id)
            .join(m.LocationClass, m.LocationClass.id == m.Deployment.location_class_id)
            .where(m.Deployment.version_id == cv.id)
            .scalar_subquery()
            .label("deployed"),
            cv.maintainer_id.is_not(None).label("f_maintainer"),
            cv.responsible_qa_id.is_not(None).label("f_responsible_qa"),
            cv.api_is_public.not_in(("unknown", "?", "")).label("f_api_is_public"),
            exists().where(m.VersionLanguage.version_id == cv.id).label("f_languages"),
            select(func.count(func.distinct(m.VersionOwner.role)))  # the five many-people roles
            .where(m.VersionOwner.version_id == cv.id)
            .scalar_subquery()
            .label("role_count"),
            # one EXISTS per kind: a seek each, without count(DISTINCT)'s temporary table (49 -> 32 ms)
            _sum_of(
                exists().where(m.VersionLink.version_id == cv.id, m.VersionLink.kind == kind)
                for kind in PROFILE_LINKS
            ).label("link_count"),
            cv.qa_applicable,
            select(func.sum(qa)).where(m.QaLevel.version_id == cv.id).scalar_subquery().label("qa"),
        )
        .outerjoin(cv, cv.id == m.Component.current_version_id)
        .outerjoin(m.Category, m.Category.id == m.Component.category_id)
        .outerjoin(m.ComponentType, m.ComponentType.id == m.Component.type_id)
        .outerjoin(m.PrivacyClass, m.PrivacyClass.id == m.Component.privacy_class_id)
        .outerjoin(m.Vendor, m.Vendor.id == m.Component.vendor_id)
        .outerjoin(maint, maint.id == cv.maintainer_id)
    )
    df = frame(conn, stmt)  # sorted here: SQLite would sort rows carrying every subquery's result
    order = np.argsort([n.lower() for n in df["name"]], kind="stable")
    return df.iloc[order].reset_index(drop=True)


def _requirement_scores(
    strings: dict[int, str], versions: pd.Index, layout: Layout, excluded: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per version: applicable, filled, signed; per version × set: the set status)."""
    n = len(versions)
    owner, signee, fresh = decode_cells(strings, versions, layout)
    present = owner != MISSING
    is_excluded = np.zeros((n, len(layout.set_ids)), dtype=bool)
    if len(excluded):
        rows = versions.get_indexer(excluded["version_id"].astype("int64"))
        set_pos = {sid: i for i, sid in enumerate(layout.set_ids)}
        cols = np.array([set_pos.get(int(s), -1) for s in excluded["set_id"]], dtype=np.int64)
        keep = (rows >= 0) & (cols >= 0)
        is_excluded[rows[keep], cols[keep]] = True
    applicable = np.zeros(owner.shape, dtype=bool)
    signed_everywhere = np.ones(owner.shape, dtype=bool)
    statuses = {}
    for i, sid in enumerate(layout.set_ids):
        cols = layout.set_columns[i]
        codes = sm.set_overall_codes(owner, signee, fresh, layout, i)
        status = sm.set_status_of(codes)
        status[is_excluded[:, i]] = "n/a"
        if len(cols) == 0:
            status[~is_excluded[:, i]] = None
        statuses[sid] = status
        applies = ~is_excluded[:, i][:, None]
        applicable[:, cols] |= applies
        signed_everywhere[:, cols] &= ~applies | (codes >= 4)  # ready, or n/a approved
    counts = pd.DataFrame(
        {
            "applicable": applicable.sum(axis=1),
            "filled": (applicable & present & (owner != 0)).sum(axis=1),
            "signed": (applicable & signed_everywhere).sum(axis=1),
        },
        index=versions,
    )
    return counts, pd.DataFrame(statuses, index=versions)


@collector_paused()
def components_overview(
    conn: Connection,
    filters: OverviewFilters | None = None,
    *,
    now: datetime | None = None,
) -> pd.DataFrame:
    """One row per component: current version, category, type, life status, maintainer, tags,
    products, locations, rating, completeness, QA score (NA when QA does not apply), its colour band,
    and one status column per requirement set (named by the set; listed in ``attrs["set_columns"]``)."""
    now = now or datetime.now(UTC)
    layout = sm.layout(list_requirements(conn), now)
    base, strings = _base(conn), fetch_cells(conn)
    excluded = frame(
        conn,
        select(m.SetExclusion.version_id, m.SetExclusion.set_id).where(
            m.SetExclusion.version_id.in_(current_versions())
        ),
    )
    has_version = base["version_id"].notna().to_numpy()
    b = base[has_version]
    versions = pd.Index(b["version_id"].astype("int64"), name="version_id")
    counts, set_status = _requirement_scores(strings, versions, layout, excluded)

    flags = b[[c for c in b.columns if c.startswith("f_")]].fillna(False).astype(bool).sum(axis=1).to_numpy()
    for column in ("role_count", "link_count"):
        flags = flags + b[column].fillna(0).astype("int64").to_numpy()
    qa = b["qa"].fillna(0).astype("int64").to_numpy()
    qa_points, qa_filled = qa // 16, qa % 16
    qa_applicable = b["qa_applicable"].fillna(True).astype(bool).to_numpy()
    filled = flags + np.where(qa_applicable, qa_filled, 0) + counts["filled"].to_numpy()
    expected = (
        len(scoring.MUST_FIELDS) + np.where(qa_applicable, len(scoring.QA_KINDS), 0) + counts["applicable"]
    )
    denominator = counts["applicable"].to_numpy() + np.where(qa_applicable, scoring.QA_MAX_POINTS, 0)
    numerator = counts["signed"].to_numpy() + np.where(qa_applicable, qa_points, 0)
    n = len(base)

    def full(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
        """Int64 over every component (NA for those without a current version, or where ``missing``)."""
        data, mask = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        data[has_version], mask[has_version] = values, missing
        return pd.arrays.IntegerArray(data, mask)

    out = base.drop(
        columns=[c for c in base.columns if c.startswith("f_")]
        + ["role_count", "link_count", "qa", "deployed"]
    )
    out["rating"] = full(100 * numerator // np.maximum(denominator, 1), denominator == 0)
    out["completeness"] = full(100 * filled // expected.to_numpy(), np.zeros(len(b), dtype=bool))
    out["qa_score"] = full(100 * qa_points // scoring.QA_MAX_POINTS, ~qa_applicable)
    all_sets = conn.execute(
        select(m.RequirementSet.id, m.RequirementSet.name).order_by(
            m.RequirementSet.position, m.RequirementSet.id
        )
    ).all()
    for sid, name in all_sets:
        col = np.full(len(out), None, dtype=object)
        if sid in set_status.columns:
            col[has_version] = set_status[sid].to_numpy()
        else:  # a set without requirements: no status, except "n/a" where a version excludes it
            hit = excluded.loc[excluded["set_id"] == sid, "version_id"].astype("int64")
            col[out["version_id"].isin(hit).fillna(False).to_numpy(dtype=bool)] = "n/a"
        out[name] = pd.Series(col, index=out.index, dtype=object)  # None, not NaN, where no status
    products: list[list[str]] = []
    new_in: list[list[str]] = []
    locations: list[list[str]] = []
    for joined in base["deployed"].tolist():
        pairs = [d.split(PAIR) for d in joined.split(SEP)] if joined else []
        products.append(sorted({p[1:] for p, _ in pairs}))
        new_in.append(sorted({p[1:] for p, _ in pairs if p[0] == "+"}))
        locations.append(sorted({loc for _, loc in pairs}))
    out["products"], out["new_in_products"], out["locations"] = products, new_in, locations
    for column in ("tags",):
        # distinct, sorted names; inlined (a function call per row costs more than the work)
        out[column] = [
            (sorted(set(v.split(SEP))) if SEP in v else [v]) if v else [] for v in out[column].tolist()
        ]
    out["rating_band"] = scoring.bands(out["rating"])
    out["version_id"] = out["version_id"].astype("Int64")
    out.attrs["set_columns"] = [name for _, name in all_sets]
    return apply_filters(conn, out, filters) if filters else out


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
            + pd.Series([" ".join(t).lower() for t in df["tags"]], index=df.index)
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
            mask &= pd.Series([bool(wanted.intersection(have)) for have in df[column]], index=df.index)
    if f.new_in_product:
        wanted_new = set(f.products)
        mask &= pd.Series(
            [
                bool(wanted_new.intersection(have)) if wanted_new else bool(have)
                for have in df["new_in_products"]
            ],
            index=df.index,
        )
    if f.rating_bands:
        mask &= df["rating_band"].isin(f.rating_bands)
    if f.owners:
        mask &= df["component_id"].isin(_owned_by(conn, f.owners))
    out = df[mask.to_numpy()].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out
