"""Sign-off views of the requirement sets (issue 4): the set heat-map, the all-sets heat-map and its
shares, the work queues of signees and owners, release readiness and compliance over time.

Every function is set-based (a handful of queries whatever the registry size) and follows the rules
of ``panopticum_data.scoring`` (SPEC §2 overall status, §3 set status): a missing status row is owner
``unknown`` with no verdict, a verdict older than its set's ``validity_days`` counts as ``unknown``,
an excluded set is ``n/a`` for the version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Subquery, func, or_, select, union

from .. import models as m
from .. import scoring
from ..errors import InvalidValue, NotFound
from . import as_of
from . import status_matrix as sm
from ._util import frame
from .entities import list_requirement_sets, list_requirements
from .requirements import derive_statuses, requirement_statuses, resolve_set, statuses_statement

__all__ = [
    "Heatmap",
    "Readiness",
    "StatusFilter",
    "all_sets_heatmap",
    "compliance_over_time",
    "missing_for_owner",
    "release_readiness",
    "set_heatmap",
    "share_ready_by_category",
    "share_ready_by_set",
    "waiting_for_signee",
]

Party = Literal["owner", "signee", "overall"]
_PARTY_VALUES: dict[str, tuple[str, ...]] = {
    "owner": scoring.OWNER_STATUSES,
    "signee": scoring.SIGNEE_STATUSES,
    "overall": scoring.OVERALL_STATUSES,
}
_SIGNED = ("ready", "n/a")
_CELL_COLUMNS = [
    "component_id",
    "component",
    "version_id",
    "version",
    "requirement_id",
    "requirement",
    "requirement_position",
    "owner_status",
    "signee_status",
    "signee_effective",
    "expired",
    "overall",
    "excluded",
    "owner_notes",
    "signee_notes",
    "notes",
    "owner_by",
    "owner_at",
    "signee_by",
    "signee_at",
    "who",
    "when",
    "evidence_url",
]


def _naive(values: pd.Series) -> pd.Series:
    """Datetimes (or ISO strings) as naive UTC ``datetime64[ns]``; unparsable values become NaT."""
    moments = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return moments.dt.tz_localize(None).astype("datetime64[ns]")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _age_days(moments: pd.Series, now: datetime) -> pd.Series:
    """Whole and fractional days from each moment to ``now`` (NaN where there is no moment)."""
    moment = pd.Timestamp(now)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    at = pd.to_datetime(pd.Series(moments, dtype=object), utc=True)
    return (moment - at).dt.total_seconds() / 86400.0


# ---------------------------------------------------------------------------------------------------
# Set heat-map


@dataclass(frozen=True)
class StatusFilter:
    """Keep the components whose ``requirement`` (title, case-insensitive, or id) has ``status`` for
    ``party``: the owner's claim, the signee's verdict (after expiry: an expired verdict is
    ``unknown``) or the overall status. A missing status row is ``unknown`` for every party."""

    requirement: str | int
    party: Party
    status: str


@dataclass(frozen=True)
class Heatmap:
    """One page of a set's heat-map.

    ``cells``: long frame, one row per (component on the page, requirement of the set), in page
    order then requirement order, with owner_status, signee_status (recorded), signee_effective,
    expired, overall (``n/a`` everywhere when the version excludes the set), owner/signee notes and
    ``notes`` (both joined), owner_by/at, signee_by/at, and ``who``/``when`` (the latest act).
    ``components``: the page's component names in order; ``requirements``: the set's titles in
    order; ``total``: the components matching before paging (``total - offset - len(components)``
    more follow)."""

    cells: pd.DataFrame
    components: list[str]
    requirements: list[str]
    total: int
    offset: int = 0
    set_status: dict[str, str] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return max(self.total - self.offset - len(self.components), 0)


def _current_components(conn: Connection) -> pd.DataFrame:
    """Components with a current version, ordered by name (case-insensitive)."""
    comps = frame(
        conn,
        select(
            m.Component.id.label("component_id"),
            m.Component.name.label("component"),
            m.Component.current_version_id.label("version_id"),
            m.Category.name.label("category"),
        )
        .outerjoin(m.Category, m.Category.id == m.Component.category_id)
        .where(m.Component.current_version_id.is_not(None)),
        columns=["component_id", "component", "version_id", "category"],
    )
    order = np.argsort([str(n).lower() for n in comps["component"]], kind="stable")
    comps = comps.iloc[order].reset_index(drop=True)
    comps["component_id"] = comps["component_id"].astype("int64")
    comps["version_id"] = comps["version_id"].astype("int64")
    return comps


def _excluded_versions(conn: Connection, set_id: int) -> set[int]:
    rows = conn.execute(
        select(m.SetExclusion.version_id).where(
            m.SetExclusion.set_id == set_id, m.SetExclusion.version_id.in_(sm.current_versions())
        )
    ).scalars()
    return {int(v) for v in rows}


def set_heatmap(
    conn: Connection,
    requirement_set: int | str,
    *,
    component_ids: Sequence[int] | None = None,
    status_filters: Sequence[StatusFilter] = (),
    offset: int = 0,
    limit: int = 200,
    now: datetime | None = None,
) -> Heatmap:
    """The heat-map of a set: current versions × the set's requirements, filtered and paged.

    ``component_ids`` restricts to those components (e.g. the dashboard's filtered ones);
    ``status_filters`` all apply (AND). Filtering runs on the encoded status matrix of every current
    version (``status_matrix``: one grouped query); only the page's cells are then read in detail
    (one more query). Raises NotFound for an unknown set or a filter's requirement not in the set,
    InvalidValue for a bad party or status."""
    now = _now(now)
    set_id, _ = resolve_set(conn, requirement_set)
    reqs = list_requirements(conn)
    reqs = reqs[reqs["set_id"] == set_id]
    lay = sm.layout(reqs, now)
    comps = _current_components(conn)
    if component_ids is not None:
        comps = comps[comps["component_id"].isin([int(c) for c in component_ids])].reset_index(drop=True)
    versions = pd.Index(comps["version_id"])
    excluded = versions.isin(list(_excluded_versions(conn, set_id)))
    titles: list[str] = []
    status = np.full(len(comps), None, dtype=object)
    keep = np.ones(len(comps), dtype=bool)
    if lay.set_ids:
        owner, signee, fresh = sm.decode_cells(sm.fetch_cells(conn), versions, lay)
        cols, k = lay.set_columns[0], lay.set_class[0]
        owner, signee = owner[:, cols], signee[:, cols]
        verdict = np.where(fresh[k][:, cols], signee, 0)
        codes = sm.overall_codes(owner, verdict)
        titles = [lay.titles[c] for c in cols]
        req_ids = [lay.requirement_ids[c] for c in cols]
        status = sm.set_status_of(codes)
        status[excluded] = "n/a"
        owner_names = np.array([*scoring.OWNER_STATUSES, "unknown"], dtype=object)
        signee_names = np.array([*scoring.SIGNEE_STATUSES, "unknown"], dtype=object)
        named = {
            "owner": owner_names[np.where(owner == sm.MISSING, 4, owner)],
            "signee": signee_names[np.where(verdict == sm.MISSING, 3, verdict)],
            "overall": np.where(excluded[:, None], "n/a", sm.OVERALL_NAMES[codes]),
        }
        for f in status_filters:
            col = _filter_column(f, titles, req_ids)
            keep &= named[f.party][:, col] == f.status
    else:
        for f in status_filters:
            _filter_column(f, titles, [])
    comps = comps.assign(set_status=status)[keep].reset_index(drop=True)
    total = len(comps)
    page = comps.iloc[max(offset, 0) : max(offset, 0) + max(limit, 0)]
    cells = _page_cells(conn, set_id, page, now)
    return Heatmap(
        cells=cells,
        components=[str(c) for c in page["component"]],
        requirements=titles,
        total=total,
        offset=max(offset, 0),
        set_status=dict(zip(page["component"].astype(str), page["set_status"], strict=True)),
    )


def _filter_column(f: StatusFilter, titles: list[str], req_ids: list[int]) -> int:
    if f.party not in _PARTY_VALUES:
        raise InvalidValue("party", f.party, "must be owner, signee or overall")
    if f.status not in _PARTY_VALUES[f.party]:
        raise InvalidValue("status", f.status, f"is not a status of the {f.party}")
    if isinstance(f.requirement, int | np.integer):
        if int(f.requirement) in req_ids:
            return req_ids.index(int(f.requirement))
    else:
        lowered = [t.lower() for t in titles]
        if f.requirement.lower() in lowered:
            return lowered.index(f.requirement.lower())
    raise NotFound("requirement", f.requirement)


def _page_cells(conn: Connection, set_id: int, page: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The detailed cells of the page's versions (one query), in page order then requirement order."""
    if not len(page):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _CELL_COLUMNS})
    df = requirement_statuses(
        conn, requirement_set=set_id, version_ids=[int(v) for v in page["version_id"]], now=now
    )
    rank = {int(v): i for i, v in enumerate(page["version_id"])}
    df = df.assign(_rank=df["version_id"].map(lambda v: rank[int(v)]))
    df = df.sort_values(["_rank", "requirement_position", "requirement_id"], kind="stable")
    df = df.drop(columns="_rank").reset_index(drop=True)
    df = _with_who_when(df)
    return df[_CELL_COLUMNS]


def _with_who_when(df: pd.DataFrame) -> pd.DataFrame:
    owner_at = pd.to_datetime(df["owner_at"], utc=True)
    signee_at = pd.to_datetime(df["signee_at"], utc=True)
    signee_later = (signee_at.notna() & (owner_at.isna() | (signee_at >= owner_at))).to_numpy()
    out = df.copy()
    out["owner_at"], out["signee_at"] = owner_at, signee_at
    out["who"] = np.where(signee_later, df["signee_by"], df["owner_by"])
    out["when"] = signee_at.where(signee_later, owner_at)
    out["notes"] = [
        "\n".join(n for n in (o, s) if isinstance(n, str) and n)
        for o, s in zip(df["owner_notes"], df["signee_notes"], strict=True)
    ]
    return out


# ---------------------------------------------------------------------------------------------------
# All-sets heat-map and shares


def all_sets_heatmap(conn: Connection, *, now: datetime | None = None) -> pd.DataFrame:
    """Components (current versions, by name) × sets: one row per component with ``component_id``,
    ``version_id``, ``category`` and one column per set (in set order, named by the set; listed in
    ``attrs["set_columns"]``) holding its set status — ``n/a`` where excluded, None for a set without
    requirements. Built from the encoded status matrix: three queries whatever the registry size."""
    now = _now(now)
    comps = _current_components(conn)
    sets = list_requirement_sets(conn)
    reqs = list_requirements(conn)
    lay = sm.layout(reqs, now)
    versions = pd.Index(comps["version_id"])
    excluded = frame(
        conn,
        select(m.SetExclusion.version_id, m.SetExclusion.set_id).where(
            m.SetExclusion.version_id.in_(sm.current_versions())
        ),
        columns=["version_id", "set_id"],
    )
    out = comps.set_index("component", drop=False).rename_axis(None)
    if lay.set_ids:
        owner, signee, fresh = sm.decode_cells(sm.fetch_cells(conn), versions, lay)
    statuses: dict[int, np.ndarray] = {}
    for i, sid in enumerate(lay.set_ids):
        statuses[sid] = sm.set_status_of(sm.set_overall_codes(owner, signee, fresh, lay, i))
    for sid, name in zip(sets["set_id"], sets["name"], strict=True):
        col = statuses.get(int(sid), np.full(len(comps), None, dtype=object)).copy()
        hit = versions.isin(excluded.loc[excluded["set_id"] == sid, "version_id"].astype("int64"))
        col[hit] = "n/a"
        out[str(name)] = pd.Series(col, index=out.index, dtype=object)
    out.attrs["set_columns"] = [str(n) for n in sets["name"]]
    return out


def _shares(values: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(ready count, applicable count) per column: n/a and no status (None) are not applicable."""
    applicable = values.notna() & values.ne("n/a")
    return values.eq("ready").sum(), applicable.sum()


def share_ready_by_set(heatmap: pd.DataFrame) -> pd.DataFrame:
    """From ``all_sets_heatmap``: per set, ``[set, ready, applicable, share_ready]`` — the share of
    components whose set status is ``ready`` among those where the set applies (n/a excluded; NaN
    when it applies nowhere)."""
    columns = list(heatmap.attrs.get("set_columns", []))
    ready, applicable = _shares(heatmap[columns])
    out = pd.DataFrame({"set": columns, "ready": ready.to_numpy(), "applicable": applicable.to_numpy()})
    out["share_ready"] = out["ready"] / out["applicable"].where(out["applicable"] > 0)
    return out


def share_ready_by_category(heatmap: pd.DataFrame) -> pd.DataFrame:
    """From ``all_sets_heatmap``: per (category, set), ``[category, set, ready, applicable,
    share_ready]`` (components without a category under "(none)")."""
    columns = list(heatmap.attrs.get("set_columns", []))
    long = heatmap.assign(category=heatmap["category"].fillna("(none)")).melt(
        id_vars=["category"], value_vars=columns, var_name="set", value_name="status"
    )
    long["is_ready"] = long["status"].eq("ready")
    long["applies"] = long["status"].notna() & long["status"].ne("n/a")
    out = (
        long.groupby(["category", "set"], sort=False)[["is_ready", "applies"]]
        .sum()
        .rename(columns={"is_ready": "ready", "applies": "applicable"})
        .reset_index()
    )
    out["set"] = pd.Categorical(out["set"], categories=columns, ordered=True)
    out = out.sort_values(["category", "set"], kind="stable").reset_index(drop=True)
    out["set"] = out["set"].astype(object)
    out["ready"] = out["ready"].astype("int64")
    out["applicable"] = out["applicable"].astype("int64")
    out["share_ready"] = out["ready"] / out["applicable"].where(out["applicable"] > 0)
    return out


# ---------------------------------------------------------------------------------------------------
# Work queues

_QUEUE_COLUMNS = [
    "component",
    "version",
    "version_id",
    "set_name",
    "requirement",
    "requirement_id",
    "owner_status",
    "owner_by",
    "owner_at",
    "owner_notes",
    "signee_status",
    "signee_by",
    "signee_at",
    "expired",
    "overall",
]


_VERDICTS = ("not_ready", "ready")
_OWNER_EXTRA = ["reason", "signee_notes"]


def _person_id(conn: Connection, username: str) -> int:
    pid = conn.execute(select(m.Person.id).where(func.lower(m.Person.username) == username.lower())).scalar()
    if pid is None:
        raise NotFound("username", username)
    return int(pid)


def waiting_for_signee(conn: Connection, username: str, *, now: datetime | None = None) -> pd.DataFrame:
    """ "Waiting for me" of a signee: on every set a group of theirs signs, the claims (owner
    ``ready``/``n/a``) of current versions awaiting a verdict — none yet, or an expired one — where
    the set applies. One row per (version, set, requirement), oldest claim first, ``age_days`` since
    the claim (``owner_at``; NaN when unknown, listed last). Columns as ``_QUEUE_COLUMNS`` plus
    ``age_days``; ``attrs["signed_sets"]``: the names of the sets the person signs (set order).
    NotFound for an unknown username.

    Three queries; only the candidate rows (a claim, no fresh verdict) are read."""
    now = _now(now)
    pid = _person_id(conn, username)
    rset = m.RequirementSet
    signed = conn.execute(
        select(rset.id, rset.validity_days, rset.name, rset.position)
        .distinct()
        .join(m.SignerGroup, m.SignerGroup.set_id == rset.id)
        .join(m.GroupMember, m.GroupMember.group_id == m.SignerGroup.group_id)
        .where(m.GroupMember.person_id == pid)
        .order_by(rset.position, rset.id)
    ).all()
    if not signed:
        df = pd.DataFrame(columns=[*_QUEUE_COLUMNS, "excluded"])
    else:
        s = _statuses_subquery()
        # a verdict may have expired: the cutoff a day early (the exact rule runs on the frame)
        maybe_expired = [
            (s.c.set_id == sid) & (s.c.signee_at.is_(None) | (s.c.signee_at < now - timedelta(days=days - 1)))
            for sid, days, _, _ in signed
            if days is not None
        ]
        awaiting = s.c.signee_status.is_(None) | s.c.signee_status.not_in(_VERDICTS)
        df = _status_rows(
            conn,
            s,
            s.c.set_id.in_([int(row[0]) for row in signed])
            & s.c.owner_status.in_(_SIGNED)
            & ~s.c.excluded
            & or_(awaiting, *maybe_expired),
            now,
        )
    df = df[df["overall"].isin(["waiting", "waiting_na"]) & ~df["excluded"].astype(bool)]
    out = _queue(df, df["owner_at"], now)
    out.attrs["signed_sets"] = [str(row[2]) for row in signed]
    return out


def _statuses_subquery() -> Subquery:
    """``requirement_statuses``' statement over the current versions, unordered, as a subquery to
    filter in SQL."""
    return statuses_statement(False, False).order_by(None).subquery()


def _status_rows(conn: Connection, s: Subquery, where: ColumnElement[bool], now: datetime) -> pd.DataFrame:
    """The rows of ``requirement_statuses`` (current versions) that ``where`` keeps, with the same
    columns and derived statuses (expiry, overall), in set then requirement order (the queue's sort
    settles the rest; sorting here is cheaper than in SQL)."""
    df = frame(conn, select(s).where(where))
    df = df.sort_values(["set_position", "set_id", "requirement_position"], kind="stable", ignore_index=True)
    for column in ("owner_at", "signee_at"):  # a time column even when none of these rows has one
        if len(df) and df[column].isna().all():
            df[column] = df[column].astype(
                "datetime64[us, UTC]" if conn.dialect.name == "postgresql" else "datetime64[us]"
            )
    return derive_statuses(df, now)


def _queue(df: pd.DataFrame, since: pd.Series, now: datetime, extra: Sequence[str] = ()) -> pd.DataFrame:
    out = df.reindex(columns=[*_QUEUE_COLUMNS, *extra]).copy()
    out["age_days"] = _age_days(since, now).to_numpy() if len(df) else pd.Series([], dtype="float64")
    out = out.sort_values(
        ["age_days", "component", "set_name", "requirement"],
        ascending=[False, True, True, True],
        na_position="last",
        kind="stable",
    )
    return out.reset_index(drop=True)


def missing_for_owner(conn: Connection, username: str, *, now: datetime | None = None) -> pd.DataFrame:
    """What an owner must act on: on the current versions of the components they own (any of the
    seven roles), every requirement of an applicable set whose overall status is ``unknown`` (claim
    missing — no row, or ``unknown``) or ``not_ready`` (the owner's own ``not_ready``, or a
    ``declined`` verdict on their claim). ``reason`` is "missing", "not ready" or "declined";
    ``signee_notes`` the signee's notes (why they declined);
    ``age_days`` counts from the verdict for a decline, from the claim otherwise (NaN for a claim
    never made, listed last); oldest first. ``attrs["owned_components"]``: the names of the
    components whose current version the person owns (by name). NotFound for an unknown username.

    Three queries; only the candidate rows (no claim, a claim not ready, a verdict not ready) are read."""
    now = _now(now)
    pid = _person_id(conn, username)
    owned = sorted(
        (
            str(n)
            for n in conn.execute(
                select(m.Component.name).where(m.Component.current_version_id.in_(_owned_versions(pid)))
            ).scalars()
        ),
        key=str.lower,
    )
    out = _missing(conn, pid, now)
    out.attrs["owned_components"] = owned
    return out


def _missing(conn: Connection, pid: int, now: datetime) -> pd.DataFrame:
    s = _statuses_subquery()
    candidate = (
        s.c.owner_status.is_(None) | s.c.owner_status.not_in(_SIGNED) | (s.c.signee_status == "not_ready")
    )
    df = _status_rows(
        conn,
        s,
        s.c.version_id.in_(_owned_versions(pid)) & ~s.c.excluded & candidate,
        now,
    )
    if not len(df):
        return _queue(pd.DataFrame(columns=_QUEUE_COLUMNS), pd.Series([], dtype=object), now, _OWNER_EXTRA)
    df = df[df["overall"].isin(["unknown", "not_ready"]) & ~df["excluded"].astype(bool)].copy()
    declined = df["owner_status"].isin(_SIGNED) & df["signee_effective"].eq("not_ready")
    df["reason"] = np.where(
        declined, "declined", np.where(df["owner_status"].eq("not_ready"), "not ready", "missing")
    )
    since = pd.to_datetime(df["signee_at"], utc=True).where(
        declined, pd.to_datetime(df["owner_at"], utc=True)
    )
    since = since.where(df["reason"].ne("missing") | df["status_id"].notna())
    return _queue(df, since, now, _OWNER_EXTRA)


def _owned_versions(person_id: int) -> Any:
    """The ids of the versions where the person holds any of the seven owner roles (a select)."""
    cv, vo = m.ComponentVersion, m.VersionOwner
    return union(
        select(cv.id).where(cv.maintainer_id == person_id),
        select(cv.id).where(cv.responsible_qa_id == person_id),
        select(vo.version_id).where(vo.person_id == person_id),
    )


# ---------------------------------------------------------------------------------------------------
# Release readiness


@dataclass(frozen=True)
class Readiness:
    """``components``: one row per component version deployed in the product version (by name) with
    one column per set (its set status; ``n/a`` excluded; None for a set without requirements).
    ``blocking``: ``[component, version, set, requirement, overall, who_must_act]`` for every
    applicable requirement not ``ready``/``n/a`` — ``who_must_act`` is "owner" (missing, not ready
    or declined) or the set's signer groups, comma-joined (waiting for a verdict). ``ready``: nothing
    blocks."""

    product_version: str
    components: pd.DataFrame
    blocking: pd.DataFrame
    ready: bool


def _resolve_product_version(conn: Connection, product_version: int | str) -> tuple[int, str]:
    pv = m.ProductVersion
    cond = (
        pv.id == int(product_version)
        if isinstance(product_version, int | np.integer)
        else func.lower(pv.name) == product_version.lower()
    )
    row = conn.execute(select(pv.id, pv.name).where(cond)).first()
    if row is None:
        raise NotFound("product_version", product_version)
    return int(row[0]), str(row[1])


def _set_status_long(df: pd.DataFrame) -> pd.DataFrame:
    """``requirement_statuses`` rows → ``[version_id, set_name, set_status]`` (SPEC §3)."""
    rank_of = {"ready": 0, "n/a": 0, "waiting": 1, "waiting_na": 1, "unknown": 2, "not_ready": 3}
    names = np.array(["ready", "waiting", "unknown", "not_ready"], dtype=object)
    rank = df["overall"].map(rank_of).astype("int64")
    g = df.assign(_rank=rank).groupby(["version_id", "set_name"], sort=False)
    out = g.agg(_rank=("_rank", "max"), excluded=("excluded", "max")).reset_index()
    out["set_status"] = np.where(out["excluded"].astype(bool), "n/a", names[out["_rank"].to_numpy()])
    return out[["version_id", "set_name", "set_status"]]


def release_readiness(
    conn: Connection, product_version: int | str, *, now: datetime | None = None
) -> Readiness:
    """Readiness of a product version (id or name, case-insensitive): see :class:`Readiness`.

    Uses the deployed component versions (not necessarily the current ones). Four queries."""
    now = _now(now)
    pv_id, pv_name = _resolve_product_version(conn, product_version)
    vids = sorted(
        int(v)
        for v in conn.execute(
            select(m.Deployment.version_id).distinct().where(m.Deployment.product_version_id == pv_id)
        ).scalars()
    )
    sets = list_requirement_sets(conn)
    set_names = [str(n) for n in sets["name"]]
    groups = {str(n): ", ".join(g) for n, g in zip(sets["name"], sets["signer_groups"], strict=True)}
    df = requirement_statuses(conn, version_ids=vids, now=now) if vids else pd.DataFrame()
    versions = frame(
        conn,
        select(
            m.ComponentVersion.id.label("version_id"),
            m.Component.name.label("component"),
            m.ComponentVersion.version,
        )
        .join(m.Component, m.Component.id == m.ComponentVersion.component_id)
        .where(m.ComponentVersion.id.in_(vids)),
        columns=["version_id", "component", "version"],
    )
    order = np.argsort(
        [f"{str(c).lower()}\x00{v}" for c, v in zip(versions["component"], versions["version"], strict=True)],
        kind="stable",
    )
    comps = versions.iloc[order].reset_index(drop=True)
    excl = frame(
        conn,
        select(m.SetExclusion.version_id, m.RequirementSet.name.label("set_name"))
        .join(m.RequirementSet, m.RequirementSet.id == m.SetExclusion.set_id)
        .where(m.SetExclusion.version_id.in_(vids)),
        columns=["version_id", "set_name"],
    )
    wide = pd.DataFrame(index=comps["version_id"].astype("int64"), columns=set_names, dtype=object)
    if len(df):
        status = _set_status_long(df)
        for vid, sname, st in zip(
            status["version_id"], status["set_name"], status["set_status"], strict=True
        ):
            wide.at[int(vid), str(sname)] = st
    for vid, sname in zip(excl["version_id"], excl["set_name"], strict=True):
        wide.at[int(vid), str(sname)] = "n/a"
    wide = wide.astype(object).where(wide.notna(), None)
    components = pd.concat([comps.reset_index(drop=True), wide.reset_index(drop=True)], axis=1)
    components.attrs["set_columns"] = set_names
    blocking_cols = ["component", "version", "version_id", "set", "requirement", "overall", "who_must_act"]
    if len(df):
        b = df[~df["excluded"].astype(bool) & ~df["overall"].isin(_SIGNED)].copy()
        b["set"] = b["set_name"]
        waiting = b["overall"].isin(["waiting", "waiting_na"])
        b["who_must_act"] = np.where(waiting, b["set_name"].map(groups).fillna(""), "owner")
        b = b.sort_values(
            ["component", "version", "set_position", "set_id", "requirement_position"],
            key=_lower_key,
            kind="stable",
        )
        blocking = b[blocking_cols].reset_index(drop=True)
    else:
        blocking = pd.DataFrame({c: pd.Series([], dtype=object) for c in blocking_cols})
    return Readiness(
        product_version=pv_name, components=components, blocking=blocking, ready=not len(blocking)
    )


def _lower_key(s: pd.Series) -> pd.Series:
    return s.str.lower() if s.dtype == object or pd.api.types.is_string_dtype(s) else s


# ---------------------------------------------------------------------------------------------------
# Compliance over time

MAX_WEEKS = 200
"""The longest trend ``compliance_over_time`` draws (each week is a character per status row)."""


def compliance_over_time(conn: Connection, *, weeks: int = 26, now: datetime | None = None) -> pd.DataFrame:
    """``[week, set, ready, applicable, share_ready]``: for each of ``weeks`` week ends (``now``,
    ``now`` − 7 days, …; oldest first; ``week`` is a naive UTC timestamp) and each set that applies
    to at least one current version, the share of applicable (current version, requirement) pairs
    whose overall status then was ``ready`` or ``n/a``.

    Each status row is rebuilt at each week end from its current value and the audit trail, by the
    rules of ``queries.as_of`` (a field changed after the week end had the old value of its first
    change after it; a claim or verdict the trail does not explain and recorded after the week end
    was not yet made; a verdict's time at the week end decides its expiry).

    Simplifications (documented, deliberate): the components' current versions, the sets'
    requirements, their validity and the exclusions are today's, at every week (they are not
    replayed); a deleted status row is not resurrected (rows are deleted with their version only).

    A handful of queries whatever the registry size: rows the trail leaves untouched over the window
    are read as a few characters each (the weeks they are ready in) and counted with numpy; only the
    rows changed in the window are read with their events and replayed (backwards, vectorised per
    week). ``as_of.set_statuses_as_of`` replays one moment the straightforward way;
    the tests check both agree. InvalidValue when ``weeks`` is above ``MAX_WEEKS``."""
    if weeks > MAX_WEEKS:
        raise InvalidValue("weeks", weeks, f"must be at most {MAX_WEEKS}")
    now_ts = pd.Timestamp(as_of.utc(_now(now))).tz_localize(None).as_unit("ns")
    cols = ["week", "set", "ready", "applicable", "share_ready"]
    week_ends = [now_ts - timedelta(days=7 * k) for k in reversed(range(max(weeks, 0)))]
    reqs = list_requirements(conn)
    if not len(reqs) or not week_ends:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    versions = conn.execute(select(func.count()).select_from(sm.current_versions().subquery())).scalar_one()
    excluded = frame(
        conn,
        select(m.SetExclusion.version_id, m.SetExclusion.set_id).where(
            m.SetExclusion.version_id.in_(sm.current_versions())
        ),
        columns=["version_id", "set_id"],
    ).astype("int64")
    sets = reqs.drop_duplicates("set_id").sort_values(["set_position", "set_id"], kind="stable")
    set_ids = [int(s) for s in sets["set_id"]]
    size = reqs.groupby("set_id")["requirement_id"].nunique().reindex(set_ids).to_numpy()
    excluding = excluded.groupby("set_id")["version_id"].nunique().reindex(set_ids, fill_value=0).to_numpy()
    applicable = ((int(versions) - excluding) * size).astype("int64")
    ready = as_of.weekly_ready(conn, week_ends, reqs, set_ids, excluded)
    keep = applicable > 0
    names = sets["set_name"].astype(object).to_numpy()[keep]
    out = pd.concat(
        [
            pd.DataFrame({"week": t, "set": names, "ready": ready[k][keep], "applicable": applicable[keep]})
            for k, t in enumerate(week_ends)
        ],
        ignore_index=True,
    )
    out["share_ready"] = out["ready"] / out["applicable"].where(out["applicable"] > 0)
    return out[cols]
