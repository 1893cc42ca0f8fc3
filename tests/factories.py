"""Small builders for service tests, written through the services themselves (as SYSTEM, an admin).

``build_world(engine)`` gives the cast of the permission matrix — admin, editor, the owner of
``billing``, the owner of ``ledger``, a signer of the Security set, a signer of the Performance set,
a viewer — plus reference rows, the two components and the two requirement sets.
``snapshot(engine)`` and ``assert_refused`` check that a refused call left the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import PanopticumError
from panopticum_data.models import AuditEvent, Base, ChangeSet
from panopticum_data.services import SYSTEM, Actor, load_actor

ROLES = ("admin", "editor", "owner", "other_owner", "signer", "other_signer", "viewer")

REFERENCE_ROWS: list[tuple[str, str, dict[str, Any]]] = [
    ("category", "Payments", {"position": 1}),
    ("category", "Platform", {"position": 2}),
    ("subcategory", "Billing", {"category": "Payments"}),
    ("subcategory", "Storage", {"category": "Platform"}),
    ("component_type", "Service", {}),
    ("component_type", "Library", {}),
    ("vendor", "Acme", {}),
    ("privacy_class", "Personal data", {}),
    ("language", "Python", {}),
    ("language", "Go", {}),
    ("framework", "Django", {"language": "Python"}),
    ("database_vendor", "PostgreSQL", {}),
    ("orm", "SQLAlchemy", {"language": "Python"}),
    ("logger", "structlog", {}),
    ("runtime", "CPython", {"language": "Python"}),
    ("location_class", "Cloud", {}),
    ("location_class", "On-prem", {}),
    ("environment", "Kubernetes", {}),
    ("tcp_port", "https", {"port": 443}),
    ("tcp_port", "http", {"port": 80}),
    ("data_center", "DC1", {}),
    ("document_type", "Design", {}),
    ("tag", "core", {}),
    ("tag", "legacy-api", {}),
    ("product_family", "Suite", {}),
    ("product_version", "Suite 1", {"family": "Suite"}),
    ("product_version", "Suite 2", {"family": "Suite"}),
    ("department", "R&D", {}),
]


@dataclass(frozen=True)
class World:
    actors: dict[str, Actor]
    billing: int  # component owned by "owner"
    billing_v1: int
    ledger: int  # component owned by "other_owner"
    ledger_v1: int
    security_set: int  # signed by "signer" (group security-team)
    performance_set: int  # signed by "other_signer" (group perf-team)
    encrypt: int  # requirement in Security
    audit_logins: int  # requirement in Security
    load_test: int  # requirement in Performance

    def __getitem__(self, role: str) -> Actor:
        return self.actors[role]


def make_reference(session: Session) -> None:
    for table, name, fields in REFERENCE_ROWS:
        svc.create_reference(session, actor=SYSTEM, table=table, name=name, **fields)


def make_people(session: Session) -> None:
    roles = {"admin": "admin", "editor": "editor"}
    for username in ROLES:
        svc.add_user(
            session,
            actor=SYSTEM,
            username=username,
            access_role=roles.get(username, "viewer"),
            first_name=username.title(),
            email=f"{username}@example.com",
        )
    svc.create_group(session, actor=SYSTEM, name="security-team", members=["signer"])
    svc.create_group(session, actor=SYSTEM, name="perf-team", members=["other_signer"])


def build_world(engine: sa.Engine) -> World:
    with session_scope(engine) as s:
        make_reference(s)
        make_people(s)
        billing = svc.register_component(
            s, actor=SYSTEM, name="billing", category="Payments", type="Service", tags=["core"]
        )
        ledger = svc.register_component(s, actor=SYSTEM, name="ledger", category="Payments", type="Service")
        assert billing.current_version_id and ledger.current_version_id
        svc.set_owners(
            s, actor=SYSTEM, version_id=billing.current_version_id, role="maintainer", usernames=["owner"]
        )
        svc.set_owners(
            s, actor=SYSTEM, version_id=ledger.current_version_id, role="architect", usernames=["other_owner"]
        )
        sec = svc.create_requirement_set(s, actor=SYSTEM, name="Security", signer_groups=["security-team"])
        perf = svc.create_requirement_set(s, actor=SYSTEM, name="Performance", signer_groups=["perf-team"])
        encrypt = svc.create_requirement(s, actor=SYSTEM, title="Encrypt data", sets=["Security"])
        logins = svc.create_requirement(s, actor=SYSTEM, title="Audit logins", sets=["Security"])
        load = svc.create_requirement(s, actor=SYSTEM, title="Load test", sets=["Performance"])
        ids = (billing.id, billing.current_version_id, ledger.id, ledger.current_version_id)
        set_ids = (sec.id, perf.id, encrypt.id, logins.id, load.id)
    with session_scope(engine) as s:
        actors = {role: load_actor(s, role) for role in ROLES}
    return World(actors, *ids, *set_ids)


_WORLDS: dict[str, tuple[World, dict[str, list[dict[str, Any]]]]] = {}


def world_for(engine: sa.Engine) -> World:
    """``build_world`` once per backend and test session; later calls restore its rows (fast)."""
    key = engine.dialect.name
    if key not in _WORLDS:
        world = build_world(engine)
        _WORLDS[key] = (world, _dump(engine))
        return world
    world, rows = _WORLDS[key]
    _restore(engine, rows)
    return world


def _dump(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))]
            for t in Base.metadata.sorted_tables
        }


def _restore(engine: sa.Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the dumped rows into the empty database (the component <-> current version cycle last)."""
    current = {r["id"]: r["current_version_id"] for r in rows["component"]}
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            data = rows[table.name]
            if table.name == "requirement_status_digest":
                continue  # written by requirement_status's triggers
            if table.name == "component":
                data = [{**r, "current_version_id": None} for r in data]
            if data:
                conn.execute(table.insert(), data)
        component = Base.metadata.tables["component"]
        for cid, vid in current.items():
            conn.execute(component.update().where(component.c.id == cid).values(current_version_id=vid))
        if conn.dialect.name == "postgresql":
            calls = [
                f"setval(pg_get_serial_sequence('{t.name}', 'id'), {max(r['id'] for r in rows[t.name])})"
                for t in Base.metadata.sorted_tables
                if "id" in t.c and rows[t.name]
            ]
            conn.exec_driver_sql("SELECT " + ", ".join(calls))


# --- checking that nothing changed ----------------------------------------------------------------------


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Every row of every table: the rows themselves on SQLite, a digest of each table's rows on
    PostgreSQL (one query for the whole database)."""
    tables = Base.metadata.sorted_tables
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            parts = ", ".join(
                f"(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t.name}\" x)"
                for t in tables
            )
            digests = conn.exec_driver_sql(f"SELECT {parts}").one()
            return dict(zip([t.name for t in tables], digests, strict=True))
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in tables
        }


def assert_refused(
    engine: sa.Engine,
    call: Callable[[Session], Any],
    error: type[Exception],
    *,
    field: str | None = None,
    value: Any = None,
) -> PanopticumError:
    """Run ``call`` in a session, expect ``error``; then COMMIT that session anyway and check that the
    database is exactly as before — the service must refuse before changing anything. The message
    must name ``field`` and ``value`` when they are given."""
    before = snapshot(engine)
    session = Session(bind=engine)
    try:
        with pytest.raises(error) as info:
            call(session)
        session.commit()
    finally:
        session.close()
    assert snapshot(engine) == before
    err = info.value
    assert isinstance(err, PanopticumError)
    if field is not None:
        assert err.field == field, f"error names field {err.field!r}, expected {field!r}: {err}"
        assert field in str(err), str(err)
    if value is not None:
        assert str(value) in str(err), f"{value!r} not in message {err}"
    return err


def events(engine: sa.Engine, **where: Any) -> list[AuditEvent]:
    """Audit events matching ``where`` (column=value), oldest first."""
    with Session(engine) as s:
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(s.scalars(query))


def change_set_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(ChangeSet)) or 0)


def last_change_set_events(engine: sa.Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        last = s.scalar(sa.select(sa.func.max(ChangeSet.id)))
        return list(
            s.scalars(sa.select(AuditEvent).where(AuditEvent.change_set_id == last).order_by(AuditEvent.id))
        )


def field_changes(evs: list[AuditEvent]) -> dict[str, tuple[str | None, str | None]]:
    """{field: (old, new)} of the events that name a field."""
    return {e.field: (e.old_value, e.new_value) for e in evs if e.field is not None}
