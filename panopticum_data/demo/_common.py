"""What the demo loader and the scale generator share: the fixed clock, the requirement catalogue
read from the original's ``minimal.json``, id allocation, bulk inserts and PostgreSQL sequences."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from ..errors import PanopticumError
from ..models import (
    Base,
    Component,
    ComponentVersion,
    Dependency,
    Deployment,
    GroupMember,
    Person,
    PersonGroup,
    Requirement,
    RequirementSet,
    RequirementSetItem,
    RequirementStatus,
    SignerGroup,
)

BASE_DATE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
"""The demo's "today": every timestamp the generators write is derived from it."""

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as a generator advances."""


class RegistryNotEmpty(PanopticumError):
    """Demo data goes only into a registry without components."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the registry already holds {count} component(s); demo data is loaded only into an empty "
            "database (use a new database file or URL)",
            field="component",
            value=count,
        )
        self.count = count


def table_of(model: Any) -> Table:
    """The Core table of a mapped class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def days_before(days: float, *, hour: int = 0) -> datetime:
    """``BASE_DATE`` minus ``days`` (plus ``hour`` hours): a deterministic past timestamp."""
    return BASE_DATE - timedelta(days=days) + timedelta(hours=hour)


# --- the original's requirement sets (minimal.json) -----------------------------------------------


@dataclass(frozen=True)
class SetSpec:
    name: str
    description: str | None
    doc_link: str
    position: int
    ui_slot: int
    validity_days: int | None
    signer_groups: tuple[str, ...]
    requirements: tuple[str, ...]  # titles, in order


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str


SIGNER_GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("Architecture experts", "Architects who sign off the architecture requirements."),
    GroupSpec("Security experts", "The security team: signs off security and compliance requirements."),
    GroupSpec("Operations experts", "Site reliability engineers who accept components into production."),
    GroupSpec("Maintenance experts", "Owners of the observability standards (metrics, logs, tracing)."),
)

# What the original fixture does not hold, per set (by name): our additions on top of the conversion.
_SET_EXTRAS: dict[str, dict[str, Any]] = {
    "Architecture requirements": {
        "description": "The component fits the target architecture: a clear domain, documented "
        "interactions and the agreed **API** and **database** guidelines.",
        "doc_link": "https://wiki.acme-shop.example/architecture/guidelines",
        "ui_slot": 1,
        "validity_days": None,
        "signer_groups": ("Architecture experts",),
    },
    "Security & Compliance": {
        "description": "Security hardening and regulatory compliance (**GDPR**, **FIPS**). "
        "Sign-offs expire after a year and must be renewed.",
        "doc_link": "https://wiki.acme-shop.example/security/policy",
        "ui_slot": 2,
        "validity_days": 365,
        "signer_groups": ("Security experts",),
    },
    "Operational requirements": {
        "doc_link": "https://wiki.acme-shop.example/sre/production-readiness",
        "ui_slot": 5,
        "validity_days": None,
        "signer_groups": ("Operations experts",),
    },
    "Maintenance requirements": {
        "description": "The component can be observed and troubleshot in production: metrics, "
        "logs and request tracing follow the company standards.",
        "doc_link": "https://wiki.acme-shop.example/sre/observability",
        "ui_slot": 6,
        "validity_days": None,
        "signer_groups": ("Maintenance experts", "Operations experts"),
    },
}

SHARED_REQUIREMENT = ("Logs sanitization", "Maintenance requirements")
"""One requirement that we also place in a second set, so that the case exists in the data."""


def _fixture() -> list[dict[str, Any]]:
    raw = resources.files("panopticum_data.demo").joinpath("minimal.json").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = json.loads(raw)
    return data


def requirement_catalog() -> tuple[list[tuple[str, str | None]], list[SetSpec]]:
    """The 26 requirements ``(title, description)`` and the 4 sets, converted from ``minimal.json``.

    Sets keep the fixture's names, requirement membership and order; ``SHARED_REQUIREMENT`` is
    appended to a second set; positions follow the fixture's primary keys.
    """
    rows = _fixture()
    reqs = {r["pk"]: r["fields"] for r in rows if r["model"] == "panopticum.requirement"}
    requirements = [
        (str(f["title"]).strip(), (str(f["description"]).strip() or None)) for _pk, f in sorted(reqs.items())
    ]
    sets: list[SetSpec] = []
    fixture_sets = sorted(
        (r for r in rows if r["model"] == "panopticum.requirementset"), key=lambda r: int(r["pk"])
    )
    for position, row in enumerate(fixture_sets, start=1):
        f = row["fields"]
        name = str(f["name"]).strip()
        extra = _SET_EXTRAS.get(name, {})
        titles = [str(reqs[pk]["title"]).strip() for pk in f["requirements"]]
        if name == SHARED_REQUIREMENT[1]:
            titles.append(SHARED_REQUIREMENT[0])
        description = (str(f.get("description") or "").strip() or None) or extra.get("description")
        sets.append(
            SetSpec(
                name=name,
                description=description,
                doc_link=str(extra.get("doc_link", "")),
                position=position,
                ui_slot=int(extra.get("ui_slot", position)),
                validity_days=extra.get("validity_days"),
                signer_groups=tuple(extra.get("signer_groups", ())),
                requirements=tuple(titles),
            )
        )
    return requirements, sets


# --- writing ----------------------------------------------------------------------------------------


def component_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(Component)) or 0)


def ensure_empty(conn: Connection) -> None:
    """Raise ``RegistryNotEmpty`` when the registry already holds components."""
    count = component_count(conn)
    if count:
        raise RegistryNotEmpty(count)


class IdAllocator:
    """Hands out primary keys after the largest one in use, so rows can be linked before insert."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._next: dict[str, int] = {}

    def take(self, table: Table, count: int) -> list[int]:
        name = table.name
        if name not in self._next:
            top = self._conn.scalar(select(func.max(table.c.id)))
            self._next[name] = int(top or 0) + 1
        start = self._next[name]
        self._next[name] = start + count
        return list(range(start, start + count))

    def one(self, table: Table) -> int:
        return self.take(table, 1)[0]


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    chunk: int = 5000,
    on_chunk: Callable[[int], None] | None = None,
    normalise: bool = True,
) -> None:
    """INSERT ``rows`` with executemany in chunks. With ``normalise``, rows may omit columns: a
    missing column gets its scalar default, else NULL (every row must then carry the same keys)."""
    if not rows:
        return
    data: Sequence[Mapping[str, Any]] = _normalise(table, rows) if normalise else rows
    stmt = insert(table)
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        conn.execute(stmt, list(part))
        if on_chunk is not None:
            on_chunk(len(part))


def _normalise(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    fill: dict[str, Any] = {}
    for key in keys:
        column = table.c[key]
        default = column.default
        scalar = getattr(default, "is_scalar", False)
        fill[key] = default.arg if default is not None and scalar else None  # type: ignore[attr-defined]
    return [{**fill, **row} for row in rows]


def ensure_named(
    conn: Connection,
    ids: IdAllocator,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: str = "name",
) -> dict[str, int]:
    """Get-or-create rows by a case-insensitive name: existing rows are kept as they are; the
    missing ones are inserted. Returns ``{name as given: id}``."""
    wanted = list(rows)
    existing = {
        str(name).lower(): int(row_id)
        for row_id, name in conn.execute(select(table.c.id, table.c[key])).all()
    }
    result: dict[str, int] = {}
    new_rows: list[dict[str, Any]] = []
    for row in wanted:
        name = str(row[key])
        found = existing.get(name.lower())
        if found is None:
            found = ids.one(table)
            existing[name.lower()] = found
            new_rows.append({**row, "id": found})
        result[name] = found
    insert_rows(conn, table, new_rows)
    return result


def link_missing(conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert association rows whose primary key is not there yet."""
    pk = [c.name for c in table.primary_key.columns]
    have = {tuple(r) for r in conn.execute(select(*(table.c[c] for c in pk))).all()}
    new = [dict(r) for r in rows if tuple(r[c] for c in pk) not in have]
    insert_rows(conn, table, new)


def fix_sequences(conn: Connection) -> None:
    """On PostgreSQL, move each ``id`` sequence past the ids written explicitly (no-op elsewhere)."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c or [c.name for c in table.primary_key.columns] != ["id"]:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )


@dataclass(frozen=True)
class CatalogIds:
    requirements: dict[str, int]  # title -> id
    sets: dict[str, int]  # name -> id
    groups: dict[str, int]  # name -> id
    set_requirements: dict[str, tuple[int, ...]]  # set name -> requirement ids, in order


def write_requirement_catalog(
    conn: Connection, ids: IdAllocator, *, group_members: Mapping[str, Sequence[int]]
) -> CatalogIds:
    """The four sets and 26 requirements (get-or-create by name), their signer groups and members."""
    requirements, sets = requirement_catalog()
    groups = ensure_named(
        conn,
        ids,
        table_of(PersonGroup),
        ({"name": g.name, "description": g.description} for g in SIGNER_GROUPS),
    )
    link_missing(
        conn,
        table_of(GroupMember),
        (
            {"group_id": groups[name], "person_id": pid}
            for name, members in group_members.items()
            for pid in dict.fromkeys(members)
        ),
    )
    req_ids = ensure_named(
        conn,
        ids,
        table_of(Requirement),
        ({"title": t, "description": d, "row_version": 1} for t, d in requirements),
        key="title",
    )
    set_ids = ensure_named(
        conn,
        ids,
        table_of(RequirementSet),
        (
            {
                "name": s.name,
                "description": s.description,
                "doc_link": s.doc_link or None,
                "position": s.position,
                "ui_slot": s.ui_slot,
                "validity_days": s.validity_days,
                "row_version": 1,
            }
            for s in sets
        ),
    )
    link_missing(
        conn,
        table_of(RequirementSetItem),
        (
            {"set_id": set_ids[s.name], "requirement_id": req_ids[t], "position": i}
            for s in sets
            for i, t in enumerate(s.requirements, start=1)
        ),
    )
    link_missing(
        conn,
        table_of(SignerGroup),
        ({"set_id": set_ids[s.name], "group_id": groups[g]} for s in sets for g in s.signer_groups),
    )
    return CatalogIds(
        requirements=req_ids,
        sets=set_ids,
        groups=groups,
        set_requirements={s.name: tuple(req_ids[t] for t in s.requirements) for s in sets},
    )


def registry_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the main entities (for the CLI's summary)."""
    tables = {
        "components": table_of(Component),
        "versions": table_of(ComponentVersion),
        "dependencies": table_of(Dependency),
        "deployments": table_of(Deployment),
        "people": table_of(Person),
        "requirement statuses": table_of(RequirementStatus),
    }
    return {
        label: int(conn.scalar(select(func.count()).select_from(table)) or 0)
        for label, table in tables.items()
    }
