"""Reference data ("wheels") and the tech radar of ``catalog``, written get-or-create by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..models import (
    Category,
    ComponentType,
    DatabaseVendor,
    DataCenter,
    Department,
    DocumentType,
    Environment,
    Framework,
    JobRole,
    Language,
    LocationClass,
    Logger,
    Organisation,
    Orm,
    PrivacyClass,
    ProductFamily,
    ProductVersion,
    RadarEntry,
    RadarQuadrant,
    RadarRing,
    Runtime,
    Subcategory,
    Tag,
    TcpPort,
    Vendor,
)
from . import catalog as cat
from ._common import IdAllocator, ensure_named, table_of

RefIds = dict[str, dict[str, int]]
"""Reference ids by kind, then by name (locations, ports, data centres and products by short name)."""


def _named(
    conn: Connection, ids: IdAllocator, model: Any, rows: Sequence[Mapping[str, Any]], key: str = "name"
) -> dict[str, int]:
    return ensure_named(conn, ids, table_of(model), rows, key=key)


def write_reference(conn: Connection, ids: IdAllocator) -> RefIds:
    """Every reference table of the demo landscape; existing names are reused."""
    r: RefIds = {}
    r["category"] = _named(
        conn,
        ids,
        Category,
        [{"name": n, "description": d, "position": i} for i, (n, d) in enumerate(cat.CATEGORIES, 1)],
    )
    r["subcategory"] = _named(
        conn, ids, Subcategory, [{"name": n, "category_id": r["category"][c]} for n, c in cat.SUBCATEGORIES]
    )
    r["type"] = _named(
        conn, ids, ComponentType, [{"name": n, "position": i} for i, n in enumerate(cat.COMPONENT_TYPES, 1)]
    )
    r["privacy"] = _named(
        conn, ids, PrivacyClass, [{"name": n, "position": i} for i, n in enumerate(cat.PRIVACY_CLASSES, 1)]
    )
    r["vendor"] = _named(conn, ids, Vendor, [{"name": n} for n in cat.VENDORS])
    r["language"] = _named(conn, ids, Language, [{"name": n} for n in cat.LANGUAGES])
    lang = r["language"]
    r["framework"] = _named(
        conn, ids, Framework, [{"name": n, "language_id": lang[x]} for n, x in cat.FRAMEWORKS]
    )
    r["database"] = _named(conn, ids, DatabaseVendor, [{"name": n} for n in cat.DATABASE_VENDORS])
    r["orm"] = _named(conn, ids, Orm, [{"name": n, "language_id": lang[x]} for n, x in cat.ORMS])
    r["logger"] = _named(conn, ids, Logger, [{"name": n} for n in cat.LOGGERS])
    r["runtime"] = _named(conn, ids, Runtime, [{"name": n, "language_id": lang[x]} for n, x in cat.RUNTIMES])
    locations = _named(
        conn,
        ids,
        LocationClass,
        [
            {"name": n, "shortname": s, "description": d, "position": i}
            for i, (n, s, d) in enumerate(cat.LOCATION_CLASSES, 1)
        ],
    )
    r["location"] = {s: locations[n] for n, s, _d in cat.LOCATION_CLASSES}
    r["environment"] = _named(conn, ids, Environment, [{"name": n} for n in cat.ENVIRONMENTS])
    ports = _named(conn, ids, TcpPort, [{"name": f"{n} ({p})", "port": p} for n, p in cat.TCP_PORTS])
    r["port"] = {str(p): ports[f"{n} ({p})"] for n, p in cat.TCP_PORTS}
    dcs = _named(
        conn,
        ids,
        DataCenter,
        [
            {
                "name": n,
                "info": f"Cloud region {n}.",
                "grafana_url": f"https://grafana.acme-shop.example/d/dc-{s}",
                "metrics_url": f"https://prometheus-{s}.acme-shop.example/",
            }
            for n, s in cat.DATA_CENTRES
        ],
    )
    r["dc"] = {s: dcs[n] for n, s in cat.DATA_CENTRES}
    r["doc_type"] = _named(conn, ids, DocumentType, [{"name": n} for n in cat.DOCUMENT_TYPES])
    r["tag"] = _named(conn, ids, Tag, [{"name": n} for n in cat.TAGS])
    r["family"] = _named(conn, ids, ProductFamily, [{"name": f} for f, _v in cat.PRODUCTS])
    products = _named(
        conn,
        ids,
        ProductVersion,
        [
            {"name": n, "shortname": s, "family_id": r["family"][f], "position": i}
            for f, versions in cat.PRODUCTS
            for i, (n, s) in enumerate(versions, 1)
        ],
    )
    r["product"] = {s: products[n] for _f, versions in cat.PRODUCTS for n, s in versions}
    r["organisation"] = _named(conn, ids, Organisation, [{"name": n} for n in cat.ORGANISATIONS])
    r["department"] = _named(conn, ids, Department, [{"name": n} for n in cat.DEPARTMENTS])
    r["job_role"] = _named(conn, ids, JobRole, [{"name": n} for n in cat.JOB_ROLES])
    return r


def write_radar(conn: Connection, ids: IdAllocator, *, created: datetime, moved: datetime) -> None:
    """The original's quadrants and rings (with colours) and our entries; ``moved`` stamps the
    entries that moved in or out."""
    quadrants = _named(
        conn,
        ids,
        RadarQuadrant,
        [{"name": n, "position": p, "description": d} for n, p, d in cat.RADAR_QUADRANTS],
    )
    rings = _named(
        conn,
        ids,
        RadarRing,
        [{"name": n, "position": p, "description": d, "color": c} for n, p, d, c in cat.RADAR_RINGS],
    )
    _named(
        conn,
        ids,
        RadarEntry,
        [
            {
                "label": label,
                "quadrant_id": quadrants[q],
                "ring_id": rings[r],
                "moved": move,
                "description": desc,
                "link": link,
                "active": active,
                "created_at": created,
                "updated_at": moved if move else created,
            }
            for label, q, r, move, desc, link, active in cat.RADAR_ENTRIES
        ],
        key="label",
    )
