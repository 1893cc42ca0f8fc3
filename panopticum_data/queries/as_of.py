"""Requirement statuses at a past moment, rebuilt from today's rows and the audit trail (issue 4): a
set's statuses "as of" a date, and the weekly counts of ready pairs behind
``signoff.compliance_over_time``.

How a status row is replayed to a moment ``t`` (entity ``requirement_status``; fields
``owner_status``, ``signee_status``, ``signee_at``; a ``create`` event without a field):

* a field changed after ``t`` had, at ``t``, the ``old_value`` of its first change after ``t``; a row
  created after ``t`` did not exist (owner ``unknown``, no verdict);
* a claim or verdict the trail does not explain (no event after ``t``) keeps its current value,
  unless its recorded time (``owner_at`` / ``signee_at``) is after ``t``: it is then taken as not yet
  made (owner ``unknown`` / verdict ``unknown``) — data imported without a trail;
* a verdict's time at ``t`` (for expiry) is the ``old_value`` of the first ``signee_at`` change after
  ``t``; else, when its status changed after ``t``, the time of its latest verdict event up to ``t``
  (none: expired under a finite validity); else the row's current ``signee_at``.

Simplifications (documented, deliberate): the components' current versions, the sets' requirements,
their validity and the exclusions are today's at every moment (they are not replayed); a deleted
status row is not resurrected (rows are deleted with their version only).

Two implementations of these rules: :func:`state_at` replays rows to one moment (straightforward,
used by :func:`set_statuses_as_of`), and :func:`weekly_ready` counts ready pairs at many week ends at
once — rows the trail leaves untouched in the window are counted in SQL (one grouped query), only
the others are replayed, backwards week by week. ``tests/data/test_queries_compliance.py`` checks
that the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, String, and_, case, func, or_, select, type_coerce
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.elements import UnaryExpression

from .. import models as m
from .. import scoring
from ._util import frame, group_concat
from .entities import list_requirements
from .requirements import resolve_set
from .status_matrix import current_versions

__all__ = ["current_components", "set_statuses_as_of", "state_at", "weekly_ready"]

REPLAYED = ("owner_status", "signee_status", "signee_at")
CREATE = "<create>"
SIGNED = ("ready", "n/a")
AS_OF_COLUMNS = [
    "component_id",
    "component",
    "version_id",
    "requirement_id",
    "requirement",
    "requirement_position",
    "owner_status",
    "signee_status",
    "signee_effective",
    "overall",
    "excluded",
]
_ROW_COLUMNS = [
    "id",
    "version_id",
    "requirement_id",
    "owner_status",
    "owner_at",
    "signee_status",
    "signee_at",
]
_NAT = np.datetime64("NaT", "ns")
_CHUNK = 5000


def naive(values: pd.Series) -> pd.Series:
    """Datetimes (or ISO strings) as naive UTC ``datetime64[ns]``; unparsable values become NaT."""
    moments = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return moments.dt.tz_localize(None).astype("datetime64[ns]")


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _trail_events() -> ColumnElement[bool]:
    """The audit events that change a status row's replayed state."""
    ev = m.AuditEvent
    return and_(
        ev.entity == "requirement_status",
        or_(ev.field.in_(REPLAYED), and_(ev.action == "create", ev.field.is_(None))),
    )


def _raw(column: Any) -> Any:
    """The column as the driver gives it (SQLite: times as ISO text, parsed at once by pandas)."""
    return type_coerce(column, String()).label(column.key)


def load_rows(conn: Connection, where: ColumnElement[bool]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The status rows matching ``where`` and every replayed event of theirs.

    Rows: ``id, version_id, requirement_id, owner_status, owner_at, signee_status, signee_at`` (times
    naive UTC). Events: ``entity_id, field (CREATE for a row's creation), old_value, at``, sorted by
    (at, id). The events are looked up by the rows' ids, a chunk at a time (an index lookup each,
    whatever the planner's statistics say)."""
    rs, ev = m.RequirementStatus, m.AuditEvent
    columns = [rs.id, rs.version_id, rs.requirement_id, *(_raw(getattr(rs, c)) for c in _ROW_COLUMNS[3:])]
    st = frame(conn, select(*columns).where(where), columns=_ROW_COLUMNS)
    st = st.astype({"id": "int64", "version_id": "int64", "requirement_id": "int64"})
    ids = st["id"].tolist()
    names = ["entity_id", "field", "old_value", "at", "id"]
    chunks = [
        frame(
            conn,
            select(ev.entity_id, _raw(ev.field), ev.old_value, _raw(ev.at), ev.id).where(
                _trail_events(), ev.entity_id.in_(ids[i : i + _CHUNK])
            ),
            columns=names,
        )
        for i in range(0, len(ids), _CHUNK)
    ]
    events = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame({c: [] for c in names})
    st["owner_status"] = st["owner_status"].astype(object)
    st["signee_status"] = st["signee_status"].astype(object)
    st["owner_at"], st["signee_at"] = naive(st["owner_at"]), naive(st["signee_at"])
    events = events.astype({"entity_id": "int64", "id": "int64"})
    events["field"] = events["field"].fillna(CREATE).astype(object)
    events["at"] = naive(events["at"])
    events = events.sort_values(["at", "id"], kind="stable")
    return st, events.drop(columns="id").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------
# One moment


def _first_after(
    ev: pd.DataFrame, field_name: str, t: pd.Timestamp, index: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Per status row: (has an event of ``field_name`` after ``t``, old value of the first one)."""
    e = ev[(ev["field"] == field_name) & (ev["at"] > t)].drop_duplicates("entity_id", keep="first")
    pos = index.get_indexer(e["entity_id"])
    keep = pos >= 0
    has = np.zeros(len(index), dtype=bool)
    old = np.full(len(index), None, dtype=object)
    has[pos[keep]] = True
    old[pos[keep]] = e["old_value"].to_numpy(dtype=object)[keep]
    return has, old


def state_at(st: pd.DataFrame, ev: pd.DataFrame, t: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """(owner status, signee status, verdict time) of every row of ``st`` at ``t`` (naive UTC), from
    ``load_rows``' rows and events (see the module's rules)."""
    index = pd.Index(st["id"])
    owner = st["owner_status"].to_numpy(dtype=object).copy()
    signee = st["signee_status"].to_numpy(dtype=object).copy()
    has_o, old_o = _first_after(ev, "owner_status", t, index)
    has_s, old_s = _first_after(ev, "signee_status", t, index)
    has_sa, old_sa = _first_after(ev, "signee_at", t, index)
    created_after, _ = _first_after(ev, CREATE, t, index)
    owner_later = (st["owner_at"] > t).fillna(False).to_numpy(dtype=bool)
    signee_later = (st["signee_at"] > t).fillna(False).to_numpy(dtype=bool)
    owner[has_o] = old_o[has_o]
    owner[~has_o & owner_later] = "unknown"
    signee[has_s] = old_s[has_s]
    signee[~has_s & ~has_sa & signee_later] = "unknown"
    # the verdict's time at t
    before = ev[ev["field"].isin(["signee_status", "signee_at"]) & (ev["at"] <= t)].drop_duplicates(
        "entity_id", keep="last"
    )
    last_before = np.full(len(index), _NAT, dtype="datetime64[ns]")
    pos = index.get_indexer(before["entity_id"])
    last_before[pos[pos >= 0]] = before["at"].to_numpy(dtype="datetime64[ns]")[pos >= 0]
    times = st["signee_at"].to_numpy(dtype="datetime64[ns]").copy()
    from_status = has_s & ~has_sa
    times[from_status] = last_before[from_status]
    if has_sa.any():
        times[has_sa] = naive(pd.Series(old_sa[has_sa], dtype=object)).to_numpy(dtype="datetime64[ns]")
    owner[created_after] = None
    signee[created_after] = None
    times[created_after] = _NAT
    owner = np.where(pd.isna(owner), "unknown", owner)
    signee = np.where(pd.isna(signee), "unknown", signee)
    return owner, signee, pd.Series(times, dtype="datetime64[ns]")


def current_components(conn: Connection, component_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """``component_id, component, version_id`` of the components with a current version, by name."""
    c = m.Component
    stmt = select(c.id, c.name, c.current_version_id).where(c.current_version_id.is_not(None))
    if component_ids is not None:
        stmt = stmt.where(c.id.in_([int(i) for i in component_ids]))
    comps = frame(conn, stmt, columns=["component_id", "component", "version_id"])
    order = np.argsort([str(n).lower() for n in comps["component"]], kind="stable")
    comps = comps.iloc[order].reset_index(drop=True)
    return comps.astype({"component_id": "int64", "version_id": "int64"})


def set_statuses_as_of(
    conn: Connection, requirement_set: int | str, at: datetime, *, component_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """The statuses of a set (id or name, case-insensitive) as they were at ``at`` (naive = UTC).

    One row per (component with a current version — only ``component_ids`` when given —, requirement
    of the set), by component name (case-insensitive) then requirement order: ``component_id,
    component, version_id, requirement_id, requirement, requirement_position, owner_status,
    signee_status`` (as recorded then), ``signee_effective`` (a verdict older than the set's validity
    at ``at`` counts as ``unknown``), ``overall`` (``n/a`` where the version excludes the set) and
    ``excluded``. Rows are replayed as the module describes (today's versions, requirements, validity
    and exclusions). A handful of queries (the events: one per 5,000 status rows); NotFound for an
    unknown set."""
    set_id, _ = resolve_set(conn, requirement_set)
    t = pd.Timestamp(utc(at)).tz_localize(None).as_unit("ns")
    reqs = list_requirements(conn)
    reqs = reqs[reqs["set_id"] == set_id]
    comps = current_components(conn, component_ids)
    grid = comps.merge(
        reqs[["requirement_id", "title", "requirement_position", "validity_days"]], how="cross"
    ).rename(columns={"title": "requirement"})
    rs, ex = m.RequirementStatus, m.SetExclusion
    vids = [int(v) for v in comps["version_id"]]
    versions = current_versions() if component_ids is None else vids
    req_ids = [int(r) for r in reqs["requirement_id"]]
    st, ev = load_rows(conn, and_(rs.version_id.in_(versions), rs.requirement_id.in_(req_ids)))
    owner, signee, signee_at = state_at(st, ev, t)
    replayed = pd.DataFrame(
        {
            "version_id": st["version_id"],
            "requirement_id": st["requirement_id"],
            "owner_status": owner,
            "signee_status": signee,
            "signee_time": signee_at,
        }
    )
    df = grid.merge(replayed, on=["version_id", "requirement_id"], how="left")
    excluded = conn.execute(
        select(ex.version_id).where(ex.set_id == set_id, ex.version_id.in_(versions))
    ).scalars()
    df["excluded"] = df["version_id"].isin([int(v) for v in excluded])
    df["owner_status"] = df["owner_status"].fillna("unknown").astype(object)
    df["signee_status"] = df["signee_status"].fillna("unknown").astype(object)
    df["signee_effective"] = scoring.expire_verdicts(
        df["signee_status"],
        signee_at=df["signee_time"].astype("datetime64[ns]"),
        validity_days=df["validity_days"].astype("float64"),
        now=t.to_pydatetime(),
    ).astype(object)
    df["overall"] = scoring.overall_status(df["owner_status"], df["signee_effective"]).astype(object)
    df.loc[df["excluded"], "overall"] = "n/a"
    return df[AS_OF_COLUMNS]


# ---------------------------------------------------------------------------------------------------
# Many week ends


def weekly_ready(
    conn: Connection,
    week_ends: Sequence[pd.Timestamp],
    reqs: pd.DataFrame,
    set_ids: Sequence[int],
    excluded: pd.DataFrame,
) -> np.ndarray:
    """Per week end (naive UTC, ascending) × set of ``set_ids``: the applicable pairs (current
    version not excluding the set — ``excluded``: ``version_id, set_id`` —, requirement of the set
    in ``reqs``, a ``list_requirements`` frame) whose overall status then was ``ready`` or ``n/a``.

    Rows without a trail event after the first week end are read in one encoded query and counted
    with numpy: for them a pair is ready from the week its claim and verdict were both made until
    its verdict expires. The other rows (those the trail changed in the window) are loaded with
    their events and replayed backwards."""
    first = utc(week_ends[0].to_pydatetime())
    rs, ev = m.RequirementStatus, m.AuditEvent
    trailed = select(ev.entity_id).where(_trail_events(), ev.at > first, ev.entity_id.is_not(None))
    current = rs.version_id.in_(current_versions())
    st, events = load_rows(conn, and_(current, rs.id.in_(trailed)))
    counts = _untrailed_ready(conn, week_ends, reqs, set_ids, excluded, st)
    if len(st):
        pairs = _pairs(st, reqs, set_ids, excluded)
        counts += _trailed_ready(st, events, week_ends, pairs, len(set_ids))
    return counts


def _untrailed_ready(
    conn: Connection,
    week_ends: Sequence[pd.Timestamp],
    reqs: pd.DataFrame,
    set_ids: Sequence[int],
    excluded: pd.DataFrame,
    trailed: pd.DataFrame,
) -> np.ndarray:
    """Ready pairs per week × set among the signed rows (owner ready or n/a, verdict ready) of the
    current versions, leaving out the ``trailed`` ones (``version_id, requirement_id``).

    Such a row is ready from the first week end by which its claim and its verdict had been made
    (``owner_at`` / ``signee_at`` at or before it, or no time) until its verdict expires (``signee_at``
    ≥ week end − validity; never without a validity). One query, grouped by version like
    ``status_matrix``: each row crosses the driver as a few characters — its requirement id, the two
    weeks it was made by and, per validity, the number of weeks its verdict is fresh."""
    w, ends = len(week_ends), [utc(t.to_pydatetime()) for t in week_ends]
    limited = reqs.dropna(subset=["validity_days"])
    validities = {
        int(days): sorted({int(r) for r in part["requirement_id"]})
        for days, part in limited.groupby("validity_days", sort=True)
    }
    strings = _signed_cells(conn, ends, validities)
    per_row = _KEY_WIDTH + 2 + len(validities)
    texts = list(strings.values())
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    steps = np.zeros((len(set_ids), w + 1), dtype=np.int64)
    if not lengths.sum():
        return steps[:, :w].T.copy()
    raw = (
        np.frombuffer("".join(texts).encode("latin-1"), dtype=np.uint8).reshape(-1, per_row).astype(np.int64)
    )
    version = np.repeat(np.fromiter(strings, dtype=np.int64, count=len(strings)), lengths // per_row)
    requirement = np.zeros(len(raw), dtype=np.int64)
    for j in range(_KEY_WIDTH):
        requirement = requirement * _KEY_BASE + raw[:, j] - _KEY_FIRST
    start = np.maximum(raw[:, _KEY_WIDTH], raw[:, _KEY_WIDTH + 1]) - _BUCKET_FIRST
    fresh = {days: raw[:, _KEY_WIDTH + 2 + i] - _BUCKET_FIRST for i, days in enumerate(validities)}
    untrailed = ~np.isin(
        _pair_keys(version, requirement), _pair_keys(trailed["version_id"], trailed["requirement_id"])
    )
    for column, set_id in enumerate(set_ids):
        members = reqs[reqs["set_id"] == set_id]
        days = members["validity_days"].iloc[0]
        out = excluded.loc[excluded["set_id"] == set_id, "version_id"]
        keep = (
            untrailed
            & np.isin(requirement, members["requirement_id"].astype("int64"))
            & ~np.isin(version, out)
        )
        end = np.full(len(raw), w, dtype=np.int64) if pd.isna(days) else fresh[int(days)]
        keep &= start < end
        steps[column] = np.bincount(start[keep], minlength=w + 1) - np.bincount(end[keep], minlength=w + 1)
    return np.cumsum(steps, axis=1)[:, :w].T.copy()


_KEY_WIDTH, _KEY_BASE, _KEY_FIRST, _BUCKET_FIRST = 4, 90, 33, 48


def _pair_keys(version: Any, requirement: Any) -> np.ndarray:
    return (np.asarray(version, dtype=np.int64) << 32) + np.asarray(requirement, dtype=np.int64)


def _signed_cells(conn: Connection, ends: list[datetime], validities: dict[int, list[int]]) -> dict[int, str]:
    """Per current version, its signed rows as characters: four for the requirement id (base 90),
    one each for the week by which the claim and the verdict were made, one per validity for the
    weeks the verdict stays fresh (``48 +`` a week count; ``validities``: days -> the requirements of
    the sets with that validity)."""
    rs, sqlite = m.RequirementStatus, conn.dialect.name == "sqlite"

    def bare(column: Any) -> Any:  # SQLite: no NUMERIC affinity, so text compares with text (faster)
        return (
            UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
            if sqlite
            else column
        )

    def count_below(x: Any, limits: list[datetime], strict: bool, lo: int, hi: int) -> Any:
        """How many ``limits`` (ascending) are below ``x`` (``<`` when strict, else ``<=``): bisection."""
        if lo == hi:
            return lo + _BUCKET_FIRST
        mid = (lo + hi) // 2
        left = x <= limits[mid] if strict else x < limits[mid]
        return case(
            (left, count_below(x, limits, strict, lo, mid)), else_=count_below(x, limits, strict, mid + 1, hi)
        )

    def bucket(column: Any, limits: list[datetime], strict: bool) -> Any:
        x, w = bare(column), len(limits)
        return case(
            (column.is_(None), _BUCKET_FIRST),  # (the common cases first: one or two comparisons)
            (x <= limits[0] if strict else x < limits[0], _BUCKET_FIRST),
            (x > limits[-1] if strict else x >= limits[-1], _BUCKET_FIRST + w),
            else_=count_below(x, limits, strict, 0, w),
        )

    codes: list[Any] = [
        (rs.requirement_id // _KEY_BASE**j) % _KEY_BASE + _KEY_FIRST for j in reversed(range(_KEY_WIDTH))
    ]
    codes += [bucket(rs.owner_at, ends, True), bucket(rs.signee_at, ends, True)]
    for days, requirement_ids in validities.items():  # only where a set with that validity needs it
        fresh = bucket(rs.signee_at, [t - timedelta(days=days) for t in ends], False)
        codes.append(case((rs.requirement_id.in_(requirement_ids), fresh), else_=_BUCKET_FIRST))
    cell: Any = func.char(*codes) if sqlite else func.concat(*[func.chr(code) for code in codes])
    stmt = (
        select(rs.version_id, group_concat(cell, conn.dialect.name, "").label("cells"))
        .where(
            rs.version_id.in_(current_versions()), rs.owner_status.in_(SIGNED), rs.signee_status == "ready"
        )
        .group_by(rs.version_id)
    )
    return {int(v): c for v, c in conn.execute(stmt).all()}


def _pairs(
    st: pd.DataFrame, reqs: pd.DataFrame, set_ids: Sequence[int], excluded: pd.DataFrame
) -> pd.DataFrame:
    """The applicable (row, set) pairs of the status rows: ``row`` (position in ``st``), ``set``
    (position in ``set_ids``), ``validity_days``."""
    pairs = (
        st[["version_id", "requirement_id"]]
        .assign(row=np.arange(len(st)))
        .merge(reqs[["set_id", "requirement_id", "validity_days"]], on="requirement_id")
    )
    if len(excluded):
        ex = excluded[["version_id", "set_id"]].astype("int64").drop_duplicates().assign(_ex=True)
        pairs = pairs.merge(ex, on=["version_id", "set_id"], how="left")
        pairs = pairs[pairs["_ex"].isna()]
    pairs["set"] = pd.Index([int(s) for s in set_ids]).get_indexer(pairs["set_id"].astype("int64"))
    pairs = pairs[pairs["set"] >= 0]
    return pairs[["row", "set", "validity_days"]].reset_index(drop=True)


class _Trail:
    """One field's events (sorted by time): times, row positions and old values."""

    def __init__(self, ev: pd.DataFrame, index: pd.Index, fields: tuple[str, ...], values: Any) -> None:
        sub = ev[ev["field"].isin(fields)]
        self.at = sub["at"].to_numpy(dtype="datetime64[ns]")
        self.pos = index.get_indexer(sub["entity_id"])
        self.old = values(sub["old_value"]) if values is not None else np.zeros(len(sub), dtype=bool)
        self.hi = len(sub)

    def undo_after(self, t: np.datetime64, has: np.ndarray, value: np.ndarray) -> None:
        """Going backwards to ``t``: for each row with events after ``t`` not yet undone, mark it and
        take the old value of its first event after ``t``."""
        lo = int(np.searchsorted(self.at, t, side="right"))
        if lo < self.hi:
            rows, first = np.unique(self.pos[lo : self.hi], return_index=True)
            has[rows] = True
            value[rows] = self.old[lo : self.hi][first]
        self.hi = lo


def _last_verdict_times(
    ev: pd.DataFrame, index: pd.Index, week_ends: Sequence[pd.Timestamp]
) -> list[np.ndarray]:
    """Per week end, per row: the time of its latest verdict event (status or time) up to then."""
    trail = _Trail(ev, index, ("signee_status", "signee_at"), None)
    latest = np.full(len(index), _NAT, dtype="datetime64[ns]")
    out, lo = [], 0
    for t in week_ends:
        hi = int(np.searchsorted(trail.at, t.to_datetime64(), side="right"))
        if hi > lo:
            rows, last = np.unique(trail.pos[lo:hi][::-1], return_index=True)
            latest[rows] = trail.at[lo:hi][::-1][last]
        out.append(latest.copy())
        lo = hi
    return out


def _trailed_ready(
    st: pd.DataFrame, ev: pd.DataFrame, week_ends: Sequence[pd.Timestamp], pairs: pd.DataFrame, n_sets: int
) -> np.ndarray:
    """Ready pairs per week × set among the rows of ``st``, replayed backwards from today: at each
    week end, the events after it are undone (the rules of :func:`state_at`, as booleans)."""
    index, n, w = pd.Index(st["id"]), len(st), len(week_ends)
    owner = _Trail(ev, index, ("owner_status",), lambda old: old.isin(SIGNED).to_numpy())
    signee = _Trail(ev, index, ("signee_status",), lambda old: old.eq("ready").to_numpy())
    signee_at = _Trail(ev, index, ("signee_at",), lambda old: naive(old).to_numpy(dtype="datetime64[ns]"))
    created = _Trail(ev, index, (CREATE,), None)
    has_o, has_s, has_sa, has_c = (np.zeros(n, dtype=bool) for _ in range(4))
    old_o, old_s = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    old_sa = np.full(n, _NAT, dtype="datetime64[ns]")
    claimed = st["owner_status"].isin(SIGNED).to_numpy()
    signed = st["signee_status"].eq("ready").to_numpy()
    owner_at = st["owner_at"].to_numpy(dtype="datetime64[ns]")
    current_at = st["signee_at"].to_numpy(dtype="datetime64[ns]")
    last_verdict = _last_verdict_times(ev, index, week_ends)
    row, column = pairs["row"].to_numpy(), pairs["set"].to_numpy()
    validity = pairs["validity_days"].astype("float64").to_numpy()
    out = np.zeros((w, n_sets), dtype=np.int64)
    for k in reversed(range(w)):
        t = week_ends[k].to_datetime64()
        owner.undo_after(t, has_o, old_o)
        signee.undo_after(t, has_s, old_s)
        signee_at.undo_after(t, has_sa, old_sa)
        created.undo_after(t, has_c, np.zeros(n, dtype=bool))
        owner_ok = ~has_c & np.where(has_o, old_o, claimed & ~(owner_at > t))
        signee_ok = ~has_c & np.where(has_s, old_s, signed & (has_sa | ~(current_at > t)))
        times = np.where(has_sa, old_sa, np.where(has_s, last_verdict[k], current_at))
        age = (t - times[row]) / np.timedelta64(1, "D")
        fresh = np.isnan(validity) | (age <= validity)
        ready = owner_ok[row] & signee_ok[row] & fresh
        out[k] = np.bincount(column, weights=ready, minlength=n_sets).astype(np.int64)
    return out
