"""A component's profile as of a past moment, rebuilt backwards from today's rows and the audit trail
(issue 5), and the differences between two moments.

The technique is ``as_of``'s (requirement statuses), applied to everything the component page shows.
Today's state is read in the audit trail's own encoding (``services._core.to_text``: references and
people by name, lists as JSON arrays) as values keyed by ``(entity, row key, field)``; a row's
existence is the field ``""``. Then, for a moment ``t``:

* a field changed after ``t`` had, at ``t``, the ``old_value`` of its first event after ``t``;
* a row whose first row event after ``t`` is a ``create`` did not exist at ``t``; one whose first row
  event after ``t`` is a ``delete`` existed, with the values its delete events recorded (they carry
  every non-empty field as an old value);
* anything without an event after ``t`` had today's value — except, as in ``as_of``, a claim or a
  verdict recorded after ``t`` without any event after ``t`` (imported data): not made yet
  (``unknown``).

What is rebuilt (every event carrying the component's id): the component's fields (name,
description, life status, type, category, subcategory, vendor, privacy class, highly loaded), its
tags and **which version was current** (``current_version`` events, by version name); for that
version: its fields (version, comments, code size, public API, QA applicable), the owners of all
seven roles, the tech stack, the links, the document links, the QA levels and notes, the
dependencies (target, type, notes), the deployments (product version, location class, environment,
runtime, names, ports, data centres, new, notes), the requirement statuses (owner and signee status,
notes, evidence) and the excluded sets with their reasons.

What is not rebuilt: reference rows and people are shown by today's names where today's rows are
read (a category renamed since ``t`` shows its new name unless the component's own field changed),
requirement titles are today's; the scores and set statuses are not recomputed; a row's version is
its ``version_id``, or for rows deleted with only a version name recorded, the version of that name
(a version renamed between ``t`` and the deletion is not followed); data written without a trail
(imports) has today's values at every moment, but for the claims and verdicts dated after ``t``. A component is found by its name today; a deleted
component cannot be rebuilt.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, literal, select
from sqlalchemy.orm import aliased

from .. import models as m
from ..enums import LINK_KINDS, MULTI_OWNER_ROLES, QA_KINDS
from ..errors import NotFound
from ..services._core import to_text
from ..services.components import COMPONENT_FIELDS
from ..services.versions import VERSION_FIELDS
from ._util import frame
from .as_of import naive, utc

__all__ = [
    "DIFF_COLUMNS",
    "PROFILE_COLUMNS",
    "SECTIONS",
    "ProfileAsOf",
    "change_times",
    "component_as_of",
    "component_diff",
    "current_profile",
    "replay",
]

Key = tuple[str, str, str]  # (entity, row key, field); field "" is the row's existence
State = dict[Key, str | None]
PRESENT = "1"
SECTIONS = (
    "component",
    "version",
    "owners",
    "stack",
    "links",
    "documents",
    "qa",
    "dependencies",
    "deployments",
    "requirements",
    "exclusions",
)
PROFILE_COLUMNS = ["section", "field", "value"]
DIFF_COLUMNS = ["section", "field", "before", "after"]
# the fields the services audit: the rebuild covers exactly what the trail can hold
SINGLE_ROLES = ("maintainer", "responsible_qa")
STACK_TABLES: dict[str, tuple[Any, Any, Any]] = {
    "languages": (m.VersionLanguage, m.Language, m.VersionLanguage.language_id),
    "frameworks": (m.VersionFramework, m.Framework, m.VersionFramework.framework_id),
    "databases": (m.VersionDatabase, m.DatabaseVendor, m.VersionDatabase.database_vendor_id),
    "orms": (m.VersionOrm, m.Orm, m.VersionOrm.orm_id),
    "loggers": (m.VersionLogger, m.Logger, m.VersionLogger.logger_id),
    "runtimes": (m.VersionRuntime, m.Runtime, m.VersionRuntime.runtime_id),
}
DEPLOYMENT_FIELDS = (
    "product_version",
    "location_class",
    "environment",
    "runtime",
    "name",
    "service_name",
    "binary_name",
    "is_new",
    "notes",
)
STATUS_FIELDS = ("owner_status", "owner_notes", "signee_status", "signee_notes", "evidence_url")


@dataclass(frozen=True)
class ProfileAsOf:
    """A component's profile at ``at``: ``rows`` (section, field, value — text, lists joined by
    ", ", None for empty) in SECTIONS order; ``existed`` False (and no rows) before its creation;
    ``version`` the version current then (None: none was)."""

    component_id: int
    name: str
    at: datetime
    existed: bool
    version: str | None
    rows: pd.DataFrame

    def section(self, name: str) -> dict[str, str | None]:
        part = self.rows[self.rows["section"] == name]
        return dict(zip(part["field"], part["value"], strict=True))


# --- public reads -----------------------------------------------------------------------------------


def component_as_of(conn: Connection, name: str | int, at: datetime) -> ProfileAsOf:
    """The component's profile as it was at ``at`` (naive = UTC), rebuilt as the module describes.

    ``name``: today's name (case-insensitive) or id; NotFound otherwise. Reads today's rows (about
    fifteen small queries) and the component's audit events."""
    cid, today_name = _resolve(conn, name)
    state = replay(_today(conn, cid), _events(conn, cid), at)
    return _profile(conn, cid, today_name, utc(at), state)


def current_profile(conn: Connection, name: str | int) -> ProfileAsOf:
    """Today's profile (no replay): what ``component_as_of`` gives for any moment after the last
    change — the tests compare past rebuilds with it."""
    cid, today_name = _resolve(conn, name)
    return _profile(conn, cid, today_name, datetime.now(UTC), _today(conn, cid))


def component_diff(conn: Connection, name: str | int, t1: datetime, t2: datetime) -> pd.DataFrame:
    """The fields whose value differs between ``t1`` and ``t2``: ``section, field, before`` (at
    ``t1``), ``after`` (at ``t2``), in SECTIONS order; None where the field or row did not exist."""
    cid, today_name = _resolve(conn, name)
    today, events = _today(conn, cid), _events(conn, cid)
    first = _profile(conn, cid, today_name, utc(t1), replay(today, events, t1))
    second = _profile(conn, cid, today_name, utc(t2), replay(today, events, t2))
    return diff_rows(first.rows, second.rows)


def diff_rows(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Two profiles' rows joined on (section, field), keeping those whose values differ."""
    old = {(s, f): v for s, f, v in before[PROFILE_COLUMNS].itertuples(index=False)}
    new = {(s, f): v for s, f, v in after[PROFILE_COLUMNS].itertuples(index=False)}
    keys = list(old) + [k for k in new if k not in old]
    order = {s: i for i, s in enumerate(SECTIONS)}
    keys.sort(key=lambda k: (order.get(k[0], len(order)), str(k[1]).lower()))
    rows = [(s, f, old.get((s, f)), new.get((s, f))) for s, f in keys if old.get((s, f)) != new.get((s, f))]
    return pd.DataFrame(rows, columns=DIFF_COLUMNS, dtype=object)


def change_times(conn: Connection, name: str | int) -> pd.DataFrame:
    """The change sets that touched the component, newest first: ``change_set_id, at`` (aware UTC),
    ``actor, summary`` — the quick choices of the page's moment pickers."""
    cid, _ = _resolve(conn, name)
    ev, cs = m.AuditEvent, m.ChangeSet
    ids = select(ev.change_set_id).where(ev.component_id == cid).distinct().scalar_subquery()
    out = frame(
        conn,
        select(cs.id, cs.at, cs.actor_name, cs.summary)
        .where(cs.id.in_(ids))
        .order_by(cs.at.desc(), cs.id.desc()),
        columns=["change_set_id", "at", "actor", "summary"],
    )
    out["at"] = pd.to_datetime(out["at"], utc=True, format="ISO8601")
    return out


# --- replay -------------------------------------------------------------------------------------------


def replay(today: State, events: pd.DataFrame, at: datetime) -> State:
    """Today's values moved back to ``at``: each key's value is the old value of its first event
    after ``at`` (row events: absent before a create, present before a delete), else today's."""
    t = pd.Timestamp(utc(at)).tz_localize(None).as_unit("ns")
    later = events[events["at"] > t].drop_duplicates(["entity", "key", "field"], keep="first")
    state = dict(today)
    for entity, key, field_, action, old in later[
        ["entity", "key", "field", "action", "old_value"]
    ].itertuples(index=False):
        if field_ == "":
            state[(entity, key, "")] = PRESENT if action == "delete" else None
        else:
            state[(entity, key, field_)] = old
    _untrailed_claims(today, state, set(zip(later["entity"], later["key"], later["field"], strict=True)), t)
    return state


def _untrailed_claims(today: State, state: State, touched: set[Key], t: pd.Timestamp) -> None:
    """``as_of``'s rule for data imported without a trail: a claim or verdict with no event after
    ``t`` whose recorded time (``owner_at`` / ``signee_at``) is after ``t`` was not made yet."""
    for who in ("owner", "signee"):
        keys = [
            k
            for (e, k, f), v in today.items()
            if e == "requirement_status"
            and f == f"{who}_at"
            and v is not None
            and (e, k, f"{who}_status") not in touched
            and (e, k, f"{who}_at") not in touched
        ]
        if not keys:
            continue
        moments = naive(
            pd.Series([today[("requirement_status", k, f"{who}_at")] for k in keys], dtype=object)
        )
        for key, moment in zip(keys, moments, strict=True):
            if pd.notna(moment) and moment > t:
                state[("requirement_status", key, f"{who}_status")] = "unknown"


def _events(conn: Connection, cid: int) -> pd.DataFrame:
    """The component's events, oldest first: ``entity, key, field ("" for a row), action, old_value,
    at`` (naive UTC). Set exclusions are keyed ``<version id>:<set name>`` (their events carry the
    version's id and, in the same change set, the set's name)."""
    ev = m.AuditEvent
    cols = ["id", "change_set_id", "entity", "entity_id", "action", "field", "old_value", "new_value", "at"]
    df = frame(
        conn,
        select(
            ev.id,
            ev.change_set_id,
            ev.entity,
            ev.entity_id,
            ev.action,
            ev.field,
            ev.old_value,
            ev.new_value,
            ev.at,
        )
        .where(ev.component_id == cid)
        .order_by(ev.at, ev.id),
        columns=cols,
    )
    df["field"] = df["field"].fillna("").astype(object)
    df["key"] = df["entity_id"].astype("int64").astype(str).astype(object)
    exclusions = df.index[df["entity"] == "set_exclusion"]
    if len(exclusions):
        df.loc[exclusions, "key"] = _exclusion_keys(df.loc[exclusions])
    df["at"] = naive(df["at"])
    return df[["entity", "key", "field", "action", "old_value", "at"]].reset_index(drop=True)


def _exclusion_keys(ev: pd.DataFrame) -> list[str]:
    """``<version id>:<set name>`` per set-exclusion event: the set named by the ``requirement_set``
    event that follows a row event, or that precedes a ``reason`` event, in the same change set."""
    keys: list[str] = []
    pending: list[int] = []
    current: dict[tuple[Any, Any], str] = {}
    for i, (cs, vid, field_, old, new) in enumerate(
        ev[["change_set_id", "entity_id", "field", "old_value", "new_value"]].itertuples(index=False)
    ):
        keys.append("")
        group = (cs, vid)
        if field_ == "requirement_set":
            current[group] = str(new if new is not None else old)
            for j in pending:
                keys[j] = f"{vid}:{current[group]}"
            pending = []
        if field_ == "":
            pending.append(i)
        else:
            keys[i] = f"{vid}:{current.get(group, '')}"
    return keys


# --- today's state --------------------------------------------------------------------------------------


def _resolve(conn: Connection, name: str | int) -> tuple[int, str]:
    c = m.Component
    if isinstance(name, int | np.integer):
        row = conn.execute(select(c.id, c.name).where(c.id == int(name))).first()
    else:
        row = conn.execute(
            select(c.id, c.name).where(func.lower(c.name) == str(name).strip().lower())
        ).first()
    if row is None:
        raise NotFound("component", name)
    return int(row[0]), str(row[1])


def _today(conn: Connection, cid: int) -> State:
    """Everything the profile shows, as it is now, in the audit trail's encoding."""
    state: State = {}
    _component_today(conn, cid, state)
    vids = _versions_today(conn, cid, state)
    _lists_today(conn, vids, state)
    _rows_today(conn, vids, state)
    return state


def _put_row(state: State, entity: str, key: Any, values: dict[str, Any]) -> None:
    state[(entity, str(key), "")] = PRESENT
    for field_, value in values.items():
        state[(entity, str(key), field_)] = to_text(value)


def _component_today(conn: Connection, cid: int, state: State) -> None:
    c, cv = m.Component, aliased(m.ComponentVersion)
    refs: dict[str, Any] = {
        "type": m.ComponentType,
        "category": m.Category,
        "subcategory": m.Subcategory,
        "vendor": m.Vendor,
        "privacy_class": m.PrivacyClass,
    }
    aliases: dict[str, Any] = {k: aliased(model) for k, model in refs.items()}
    stmt = select(
        c.name,
        c.description,
        c.life_status,
        *(a.name.label(k) for k, a in aliases.items()),
        c.highly_loaded,
        cv.version.label("current_version"),
    ).outerjoin(cv, cv.id == c.current_version_id)
    for k, a in aliases.items():
        stmt = stmt.outerjoin(a, a.id == getattr(c, f"{k}_id"))
    row = conn.execute(stmt.where(c.id == cid)).mappings().one()
    _put_row(state, "component", cid, dict(row))
    tags = conn.scalars(
        select(m.Tag.name)
        .join(m.ComponentTag, m.ComponentTag.tag_id == m.Tag.id)
        .where(m.ComponentTag.component_id == cid)
    ).all()
    state[("component_tag", str(cid), "tags")] = to_text(sorted(tags, key=str.lower))


def _versions_today(conn: Connection, cid: int, state: State) -> list[int]:
    v, maint, qa = m.ComponentVersion, aliased(m.Person), aliased(m.Person)
    rows = conn.execute(
        select(
            v.id,
            v.version,
            v.comments,
            v.code_kloc,
            v.api_is_public,
            v.qa_applicable,
            maint.username.label("maintainer"),
            qa.username.label("responsible_qa"),
        )
        .outerjoin(maint, maint.id == v.maintainer_id)
        .outerjoin(qa, qa.id == v.responsible_qa_id)
        .where(v.component_id == cid)
    ).mappings()
    vids = []
    for row in rows:
        values = dict(row)
        vid = int(values.pop("id"))
        vids.append(vid)
        _put_row(state, "component_version", vid, values)
    return vids


def _lists_today(conn: Connection, vids: list[int], state: State) -> None:
    lists: dict[Key, list[str]] = defaultdict(list)
    for vid in vids:
        for role in MULTI_OWNER_ROLES:
            lists[("version_owner", str(vid), role)] = []
        for kind, (assoc, _, _) in STACK_TABLES.items():
            lists[(str(assoc.__tablename__), str(vid), kind)] = []
        for kind in LINK_KINDS:
            lists[("version_link", str(vid), kind)] = []
    vo = m.VersionOwner
    for vid, role, username in conn.execute(
        select(vo.version_id, vo.role, m.Person.username)
        .join(m.Person, m.Person.id == vo.person_id)
        .where(vo.version_id.in_(vids))
    ):
        lists[("version_owner", str(vid), str(role))].append(str(username))
    parts = [
        select(
            literal(str(assoc.__tablename__)).label("entity"),
            literal(kind).label("kind"),
            assoc.version_id,
            model.name,
        )
        .join(model, model.id == fk)
        .where(assoc.version_id.in_(vids))
        for kind, (assoc, model, fk) in STACK_TABLES.items()
    ]
    for entity, kind, vid, item in conn.execute(parts[0].union_all(*parts[1:])):
        lists[(str(entity), str(vid), str(kind))].append(str(item))
    for names in lists.values():
        names.sort(key=str.lower)
    vl = m.VersionLink
    for vid, kind, url in conn.execute(
        select(vl.version_id, vl.kind, vl.url)
        .where(vl.version_id.in_(vids))
        .order_by(vl.version_id, vl.kind, vl.position, vl.id)
    ):
        lists[("version_link", str(vid), str(kind))].append(str(url))
    for key, names in lists.items():
        state[key] = to_text(names)
    q = m.QaLevel
    for vid, kind, level, notes in conn.execute(
        select(q.version_id, q.kind, q.level, q.notes).where(q.version_id.in_(vids))
    ):
        state[("qa_level", str(vid), f"{kind}.level")] = to_text(level)
        state[("qa_level", str(vid), f"{kind}.notes")] = to_text(notes)


def _rows_today(conn: Connection, vids: list[int], state: State) -> None:
    dl, dt = m.DocumentLink, m.DocumentType
    for row in conn.execute(
        select(dl.id, dl.version_id, dt.name.label("document_type"), dl.title, dl.url)
        .join(dt, dt.id == dl.document_type_id)
        .where(dl.version_id.in_(vids))
    ).mappings():
        values = dict(row)
        _put_row(state, "document_link", values.pop("id"), values)
    dep, target = m.Dependency, aliased(m.Component)
    for row in conn.execute(
        select(dep.id, dep.version_id, target.name.label("component"), dep.type, dep.notes)
        .join(target, target.id == dep.component_id)
        .where(dep.version_id.in_(vids))
    ).mappings():
        values = dict(row)
        _put_row(state, "dependency", values.pop("id"), values)
    _deployments_today(conn, vids, state)
    rs = m.RequirementStatus
    for row in conn.execute(
        select(
            rs.id,
            rs.version_id,
            rs.requirement_id,
            rs.owner_at,
            rs.signee_at,
            *(getattr(rs, f) for f in STATUS_FIELDS),
        ).where(rs.version_id.in_(vids))
    ).mappings():
        values = dict(row)
        _put_row(state, "requirement_status", values.pop("id"), values)
    se, rset = m.SetExclusion, m.RequirementSet
    for vid, set_name, reason in conn.execute(
        select(se.version_id, rset.name, se.reason)
        .join(rset, rset.id == se.set_id)
        .where(se.version_id.in_(vids))
    ):
        _put_row(state, "set_exclusion", f"{vid}:{set_name}", {"requirement_set": set_name, "reason": reason})


def _deployments_today(conn: Connection, vids: list[int], state: State) -> None:
    d = m.Deployment
    refs: dict[str, tuple[Any, Any]] = {
        "product_version": (m.ProductVersion, d.product_version_id),
        "location_class": (m.LocationClass, d.location_class_id),
        "environment": (m.Environment, d.environment_id),
        "runtime": (m.Runtime, d.runtime_id),
    }
    aliases: dict[str, tuple[Any, Any]] = {k: (aliased(model), fk) for k, (model, fk) in refs.items()}
    stmt = select(
        d.id,
        d.version_id,
        *(a.name.label(k) for k, (a, _) in aliases.items()),
        d.name,
        d.service_name,
        d.binary_name,
        d.is_new,
        d.notes,
    ).select_from(d)
    for a, fk in aliases.values():
        stmt = stmt.outerjoin(a, a.id == fk)
    ids: list[int] = []
    for row in conn.execute(stmt.where(d.version_id.in_(vids))).mappings():
        values = dict(row)
        ids.append(int(values["id"]))
        _put_row(state, "deployment", values.pop("id"), values)
    lists: dict[Key, list[str]] = {}
    for dep_id in ids:
        lists[("deployment_port", str(dep_id), "ports")] = []
        lists[("data_center_deployment", str(dep_id), "data_centers")] = []
    dp, dcd = m.DeploymentPort, m.DataCenterDeployment
    for dep_id, port in conn.execute(
        select(dp.deployment_id, m.TcpPort.name)
        .join(m.TcpPort, m.TcpPort.id == dp.port_id)
        .where(dp.deployment_id.in_(ids))
    ):
        lists[("deployment_port", str(dep_id), "ports")].append(str(port))
    for dep_id, dc in conn.execute(
        select(dcd.deployment_id, m.DataCenter.name)
        .join(m.DataCenter, m.DataCenter.id == dcd.data_center_id)
        .where(dcd.deployment_id.in_(ids))
    ):
        lists[("data_center_deployment", str(dep_id), "data_centers")].append(str(dc))
    for key, names in lists.items():
        state[key] = to_text(sorted(names, key=str.lower))


# --- the profile from a state -----------------------------------------------------------------------------


def _items(text: str | None) -> list[str]:
    """A list value of the trail (a JSON array; None or "[]" when empty)."""
    if text is None:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _joined(text: str | None, *, keep_order: bool = False) -> str | None:
    items = _items(text)
    if not keep_order:
        items = sorted(items, key=str.lower)
    return ", ".join(items) if items else None


def _rows_of(state: State, entity: str) -> dict[str, dict[str, str | None]]:
    """The rows of ``entity`` present in ``state``: row key -> field -> value."""
    present = {k for (e, k, f), v in state.items() if e == entity and f == "" and v is not None}
    out: dict[str, dict[str, str | None]] = {k: {} for k in present}
    for (e, k, f), v in state.items():
        if e == entity and f and k in present:
            out[k][f] = v
    return out


def _profile(conn: Connection, cid: int, today_name: str, at: datetime, state: State) -> ProfileAsOf:
    key = str(cid)
    if state.get(("component", key, "")) is None:
        return ProfileAsOf(
            cid, today_name, at, False, None, pd.DataFrame(columns=PROFILE_COLUMNS, dtype=object)
        )
    rows: list[tuple[str, str, str | None]] = []
    comp = {f: state.get(("component", key, f)) for f in COMPONENT_FIELDS}
    rows += [("component", f, v) for f, v in comp.items()]
    rows.append(("component", "tags", _joined(state.get(("component_tag", key, "tags")))))
    current = state.get(("component", key, "current_version"))
    rows.append(("component", "current_version", current))
    versions = _rows_of(state, "component_version")
    by_name = {str(v.get("version")): k for k, v in versions.items()}
    vid = by_name.get(str(current)) if current is not None else None
    if vid is not None:
        rows += _version_rows(conn, state, vid, versions[vid], by_name)
    return ProfileAsOf(
        cid,
        str(comp["name"] or today_name),
        at,
        True,
        current,
        pd.DataFrame(rows, columns=PROFILE_COLUMNS, dtype=object),
    )


def _version_rows(
    conn: Connection, state: State, vid: str, version: dict[str, str | None], by_name: dict[str, str]
) -> list[tuple[str, str, str | None]]:
    rows: list[tuple[str, str, str | None]] = [("version", f, version.get(f)) for f in VERSION_FIELDS]
    rows += [("owners", r, version.get(r)) for r in SINGLE_ROLES]
    rows += [("owners", r, _joined(state.get(("version_owner", vid, r)))) for r in MULTI_OWNER_ROLES]
    for kind, (assoc, _, _) in STACK_TABLES.items():
        rows.append(("stack", kind, _joined(state.get((str(assoc.__tablename__), vid, kind)))))
    rows += [("links", k, _joined(state.get(("version_link", vid, k)), keep_order=True)) for k in LINK_KINDS]
    for kind in QA_KINDS:
        rows.append(("qa", f"{kind} level", state.get(("qa_level", vid, f"{kind}.level")) or "unknown"))
        notes = state.get(("qa_level", vid, f"{kind}.notes"))
        if notes is not None:
            rows.append(("qa", f"{kind} notes", notes))

    def mine(entity: str) -> list[dict[str, str | None]]:
        found = []
        for _, values in sorted(_rows_of(state, entity).items(), key=lambda kv: _sort_key(kv[0])):
            owner = values.get("version_id") or by_name.get(str(values.get("version")))
            if owner == vid:
                found.append(values)
        return found

    for doc in mine("document_link"):
        rows.append(("documents", f"{doc.get('document_type')}: {doc.get('url')}", doc.get("title") or ""))
    for dep in mine("dependency"):
        rows.append(("dependencies", f"{dep.get('component')} ({dep.get('type')})", dep.get("notes") or ""))
    rows += _deployment_rows(state, vid, by_name)
    rows += _requirement_rows(conn, mine("requirement_status"))
    for key, exc in sorted(_rows_of(state, "set_exclusion").items()):
        if key.split(":", 1)[0] == vid:
            rows.append(
                (
                    "exclusions",
                    str(exc.get("requirement_set") or key.split(":", 1)[1]),
                    exc.get("reason") or "",
                )
            )
    return rows


def _sort_key(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


def _deployment_rows(state: State, vid: str, by_name: dict[str, str]) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    labels: dict[str, int] = defaultdict(int)
    found = []
    for key, dep in sorted(_rows_of(state, "deployment").items(), key=lambda kv: _sort_key(kv[0])):
        if (dep.get("version_id") or by_name.get(str(dep.get("version")))) != vid:
            continue
        ports = state.get(("deployment_port", key, "ports"))
        dcs = state.get(("data_center_deployment", key, "data_centers"))
        dep = dep | {
            "ports": ports if ports is not None else dep.get("ports"),
            "data_centers": dcs if dcs is not None else dep.get("data_centers"),
        }
        label = " / ".join(str(dep[f]) for f in ("product_version", "location_class", "name") if dep.get(f))
        labels[label] += 1
        found.append((label, key, dep))
    for label, key, dep in found:
        parts = [
            f"{f.replace('_', ' ')}: {dep[f]}"
            for f in ("environment", "runtime", "service_name", "binary_name")
            if dep.get(f)
        ]
        parts += [
            f"{f.replace('_', ' ')}: {j}" for f in ("ports", "data_centers") if (j := _joined(dep.get(f)))
        ]
        if dep.get("is_new") == "true":
            parts.append("new in product")
        if dep.get("notes"):
            parts.append(f"notes: {dep['notes']}")
        out.append(("deployments", label if labels[label] == 1 else f"{label} #{key}", "; ".join(parts)))
    return out


def _requirement_rows(
    conn: Connection, statuses: list[dict[str, str | None]]
) -> list[tuple[str, str, str | None]]:
    if not statuses:
        return []
    titles = {str(i): str(t) for i, t in conn.execute(select(m.Requirement.id, m.Requirement.title))}
    out: list[tuple[str, str, str | None]] = []
    for st in statuses:
        title = titles.get(str(st.get("requirement_id"))) or str(
            st.get("requirement") or st.get("requirement_id")
        )
        out.append(("requirements", f"{title} · owner", st.get("owner_status") or "unknown"))
        out.append(("requirements", f"{title} · signee", st.get("signee_status") or "unknown"))
        for field_, label in (
            ("owner_notes", "owner notes"),
            ("signee_notes", "signee notes"),
            ("evidence_url", "evidence"),
        ):
            if st.get(field_) is not None:
                out.append(("requirements", f"{title} · {label}", st[field_]))
    return out
