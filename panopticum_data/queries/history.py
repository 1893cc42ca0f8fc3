"""The audit trail for the History page: events and change sets filtered by person, entity, field,
change set, component, time and text, newest first, a page at a time with the number of matches.

Every function runs a fixed number of set-based queries (no query per row). Counting stops at
``COUNT_CAP`` matches (``Page.exact`` is then False: "more than ...") so that a broad filter over
millions of events costs no more than a narrow one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select

from .. import models as m
from ._util import frame

EVENTS_PAGE = 100
CHANGE_SETS_PAGE = 25
COUNT_CAP = 10_000
EXPORT_CAP = 100_000

E, CS = m.AuditEvent, m.ChangeSet


@dataclass(frozen=True)
class HistoryFilters:
    """What to keep; None keeps everything. ``person`` is a username (any case); ``component`` a
    component's name (any case); ``since`` inclusive, ``until`` exclusive; ``text`` a part of the old
    or the new value (any case)."""

    person: str | None = None
    entity: str | None = None
    field: str | None = None
    change_set_id: int | None = None
    component: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    @property
    def on_events(self) -> bool:
        """Whether a filter concerns single events (not whole change sets)."""
        return bool(self.entity or self.field or self.component or self.text)


@dataclass(frozen=True)
class Page:
    """One page of rows; ``total`` matches in all (at least ``total`` when not ``exact``)."""

    rows: pd.DataFrame
    total: int
    exact: bool
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class _Resolved:
    """The filters as column conditions: on the events, on the change sets; None: nothing matches."""

    events: list[Any]
    change_sets: list[Any]
    event_only: list[Any]


def _resolve(conn: Connection, f: HistoryFilters) -> _Resolved | None:
    ev: list[Any] = []
    cs: list[Any] = []
    only: list[Any] = []
    if f.person:
        pid = conn.execute(
            select(m.Person.id).where(func.lower(m.Person.username) == f.person.strip().lower()).limit(1)
        ).scalar()
        if pid is not None:
            ev.append(E.actor_id == pid)
            cs.append(CS.actor_id == pid)
        else:  # "system", or a name no longer in the directory
            ev += [E.actor_id.is_(None), func.lower(E.actor_name) == f.person.strip().lower()]
            cs += [CS.actor_id.is_(None), func.lower(CS.actor_name) == f.person.strip().lower()]
    if f.component:
        cid = conn.execute(
            select(m.Component.id).where(func.lower(m.Component.name) == f.component.strip().lower()).limit(1)
        ).scalar()
        if cid is None:
            return None
        only.append(E.component_id == cid)
    if f.change_set_id is not None:
        ev.append(E.change_set_id == int(f.change_set_id))
        cs.append(CS.id == int(f.change_set_id))
    if f.since is not None:
        ev.append(E.at >= f.since)
        cs.append(CS.at >= f.since)
    if f.until is not None:
        ev.append(E.at < f.until)
        cs.append(CS.at < f.until)
    if f.entity:
        only.append(E.entity == f.entity)
    if f.field:
        only.append(E.field == f.field)
    if f.text and f.text.strip():
        pattern = "%" + _escape_like(f.text.strip().lower()) + "%"
        only.append(
            or_(
                func.lower(E.old_value).like(pattern, escape="\\"),
                func.lower(E.new_value).like(pattern, escape="\\"),
            )
        )
    return _Resolved(events=ev + only, change_sets=cs, event_only=only)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _capped_count(conn: Connection, stmt: Any, cap: int) -> tuple[int, bool]:
    n = int(conn.execute(select(func.count()).select_from(stmt.limit(cap + 1).subquery())).scalar_one())
    return (cap, False) if n > cap else (n, True)


def _event_columns() -> list[Any]:
    return [
        E.id.label("event_id"),
        E.change_set_id,
        E.at,
        E.actor_name.label("actor"),
        E.entity,
        E.entity_id,
        E.component_id,
        m.Component.name.label("component"),
        E.action,
        E.field,
        E.old_value,
        E.new_value,
        CS.source,
    ]


def _events_select(where: list[Any]) -> Any:
    return (
        select(*_event_columns())
        .join(CS, CS.id == E.change_set_id)
        .outerjoin(m.Component, m.Component.id == E.component_id)
        .where(*where)
        .order_by(E.at.desc(), E.id.desc())
    )


def _empty_events() -> pd.DataFrame:
    return frame_like([c.key for c in _event_columns()])


def frame_like(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def history_events(
    conn: Connection, filters: HistoryFilters, *, page: int = 1, page_size: int = EVENTS_PAGE
) -> Page:
    """One page of the matching events, newest first, with the component's name and the change
    set's source; ``total`` counts the matches (up to ``COUNT_CAP``)."""
    page = max(1, int(page))
    resolved = _resolve(conn, filters)
    if resolved is None:
        return Page(_empty_events(), 0, True, 1, page_size)
    total, exact = _capped_count(conn, select(E.id).where(*resolved.events), COUNT_CAP)
    page = min(page, max(1, -(-total // page_size)))
    stmt = _events_select(resolved.events).limit(page_size).offset((page - 1) * page_size)
    rows = frame(conn, stmt)
    if rows.empty:
        rows = _empty_events()
    return Page(rows, total, exact, page, page_size)


def export_events(conn: Connection, filters: HistoryFilters, *, limit: int = EXPORT_CAP) -> pd.DataFrame:
    """The newest ``limit`` matching events (for a download), with the columns of ``history_events``."""
    resolved = _resolve(conn, filters)
    if resolved is None:
        return _empty_events()
    rows = frame(conn, _events_select(resolved.events).limit(limit))
    return _empty_events() if rows.empty else rows


def change_sets(
    conn: Connection, filters: HistoryFilters, *, page: int = 1, page_size: int = CHANGE_SETS_PAGE
) -> Page:
    """One page of the change sets holding a matching event, newest first: id, at, actor, source,
    summary, ``events`` (all of its events) and ``matching`` (those the filters keep)."""
    page = max(1, int(page))
    columns = ["change_set_id", "at", "actor", "source", "summary", "events", "matching"]
    resolved = _resolve(conn, filters)
    if resolved is None:
        return Page(frame_like(columns), 0, True, 1, page_size)
    where = list(resolved.change_sets)
    if resolved.event_only:
        where.append(CS.id.in_(select(E.change_set_id).where(*resolved.events)))
    total, exact = _capped_count(conn, select(CS.id).where(*where), COUNT_CAP)
    page = min(page, max(1, -(-total // page_size)))
    sets = frame(
        conn,
        select(
            CS.id.label("change_set_id"),
            CS.at,
            CS.actor_name.label("actor"),
            CS.source,
            CS.summary,
        )
        .where(*where)
        .order_by(CS.at.desc(), CS.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size),
    )
    if sets.empty:
        return Page(frame_like(columns), total, exact, page, page_size)
    ids = [int(i) for i in sets["change_set_id"]]
    only = resolved.event_only
    matching: Any = func.sum(case((and_(*only), 1), else_=0)) if only else func.count()
    counts = frame(
        conn,
        select(E.change_set_id, func.count().label("events"), matching.label("matching"))
        .where(E.change_set_id.in_(ids))
        .group_by(E.change_set_id),
    )
    rows = sets.merge(counts, on="change_set_id", how="left")
    for c in ("events", "matching"):
        rows[c] = pd.to_numeric(rows[c]).fillna(0).astype("int64")
    return Page(rows[columns], total, exact, page, page_size)


def entity_fields(conn: Connection) -> pd.DataFrame:
    """Every (entity, field) pair the trail holds (field None for whole-row events), sorted."""
    rows = frame(conn, select(E.entity, E.field).distinct().order_by(E.entity, E.field))
    return rows if not rows.empty else frame_like(["entity", "field"])
