"""``generate_scale``: a synthetic registry of N components for benchmarks and load tests.

Everything is drawn from one ``numpy`` generator seeded with ``seed`` and written with Core
``executemany`` inserts in chunks, with ids computed up front; the same N and seed give the same
rows, ids included (into an empty database).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, and_, func, select, update

from ..db import WRITE_OPTION
from ..enums import LINK_KINDS, QA_KINDS
from ..errors import InvalidValue
from ..models import (
    AuditEvent,
    ChangeSet,
    Component,
    ComponentTag,
    ComponentVersion,
    DataCenterDeployment,
    Department,
    Dependency,
    Deployment,
    DeploymentPort,
    DocumentLink,
    Endpoint,
    Person,
    QaLevel,
    RequirementStatus,
    SetExclusion,
    Tag,
    VersionDatabase,
    VersionFramework,
    VersionLanguage,
    VersionLink,
    VersionLogger,
    VersionOrm,
    VersionOwner,
    VersionRuntime,
)
from . import catalog as cat
from ._common import (
    BASE_DATE,
    IdAllocator,
    Progress,
    days_before,
    ensure_empty,
    ensure_named,
    fix_sequences,
    insert_rows,
    registry_counts,
    requirement_catalog,
    table_of,
    write_requirement_catalog,
)
from .refdata import RefIds, write_radar, write_reference

CHUNK = 10_000
CREATED_AT = days_before(540)  # when the synthetic registry "began"

DOMAINS = (
    "accounts", "ads", "analytics", "billing", "booking", "cart", "catalog", "checkout", "content",
    "crm", "delivery", "discovery", "documents", "fleet", "fraud", "identity", "inventory", "invoices",
    "ledger", "loyalty", "marketing", "media", "messaging", "orders", "partners", "payments", "pricing",
    "profiles", "promotions", "ratings", "recommendations", "refunds", "reporting", "returns", "reviews",
    "risk", "search", "shipping", "subscriptions", "support", "tax", "tenants", "wallet", "warehouse",
)  # fmt: skip
NOUNS = (
    "api", "service", "gateway", "worker", "scheduler", "sync", "importer", "exporter", "engine",
    "adapter", "connector", "store", "cache", "ui", "portal", "console", "sdk", "client", "agent",
    "indexer", "notifier", "processor", "router", "tracker", "validator", "aggregator", "bff", "db",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Adam", "Aiko", "Alex", "Amara", "Ana", "Arjun", "Ben", "Bruno", "Carla", "Chen", "Chloe",
    "Daniel", "David", "Elena", "Emma", "Eva", "Farah", "Felix", "Frida", "Grace", "Hana", "Hugo",
    "Ibrahim", "Ines", "Ivan", "Jana", "Joao", "Jonas", "Julia", "Karl", "Kenji", "Laura", "Leo",
    "Lina", "Lucas", "Lucia", "Maya", "Mei", "Mila", "Nadia", "Naomi", "Nina", "Noah", "Olga",
    "Omar", "Oscar", "Paul", "Priya", "Rafael", "Riya", "Sara", "Sofia", "Sven", "Tariq", "Tom",
    "Vera", "Victor", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Becker", "Berg", "Brennan", "Chen", "Costa", "Diaz", "Dubois", "Fischer", "Garcia",
    "Grant", "Hassan", "Hoffmann", "Ivanova", "Jensen", "Johnson", "Khan", "Kim", "Kowalski",
    "Larsen", "Lee", "Lindqvist", "Lopez", "Marsh", "Martin", "Meyer", "Moreau", "Mueller", "Nakamura",
    "Natarajan", "Nguyen", "Novak", "Okafor", "ONeill", "Ortiz", "Park", "Patel", "Petrov", "Roberts",
    "Romano", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Weber", "Wright",
    "Yilmaz",
)  # fmt: skip
AREAS = (
    "Platform", "Commerce", "Payments", "Data", "Identity", "Search", "Mobile", "Web", "Operations",
    "Security", "Quality", "Product", "Logistics", "Marketing",
)  # fmt: skip

TYPE_WEIGHTS = {
    "Web Service": 52,
    "Library": 12,
    "OS Process": 6,
    "OS Service": 5,
    "UI": 5,
    "Frontend App": 5,
    "DB Service": 5,
    "MQ Service": 2,
    "Framework": 2,
    "Config files": 3,
    "OS Driver": 1,
    "?": 2,
}
HUB_TYPES = ("DB Service", "Library", "MQ Service", "Framework", "OS Service", "Web Service")
LIFE_WEIGHTS = {"mature": 58, "new": 16, "legacy": 14, "eol": 5, "eos": 2, "unknown": 5}
LIFE_MATURITY = {"mature": 0.75, "new": 0.25, "legacy": 0.45, "eol": 0.35, "eos": 0.3, "unknown": 0.15}
RUNTIME_DEPENDENCY_WEIGHTS = {
    "strong_rw": 34,
    "strong_ro": 20,
    "strong_wo": 8,
    "weak_rw": 12,
    "weak_ro": 14,
    "weak_wo": 8,
    "compile_time": 4,
}
LINK_RATES = {
    "repository": 0.92,
    "issue_tracker": 0.85,
    "build_job": 0.6,
    "docs": 0.6,
    "api_spec": 0.45,
    "metrics": 0.45,
    "logs": 0.45,
    "public_docs": 0.04,
    "public_repository": 0.05,
}
OWNER = np.array(["unknown", "not_ready", "ready", "n/a"], dtype=object)
SIGNEE = np.array(["unknown", "not_ready", "ready"], dtype=object)
QA_LEVEL = np.array(["unknown", "none", "low", "med", "high", "n/a"], dtype=object)


@dataclass(frozen=True)
class ScaleResult:
    change_set_id: int
    counts: dict[str, int]
    seconds: float


def generate_scale(
    engine: Engine,
    *,
    components: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> ScaleResult:
    """Generate a registry of ``components`` components in one transaction of its own.

    Proportions: ≈1.5 versions per component (one current), ≈3 typed dependencies per current
    version (towards earlier components only, so the graph is acyclic), ≈1 deployment per version,
    max(20, N/10) people with a manager tree, the four requirement sets with their 26 requirements,
    one requirement status per (current version, requirement) and QA levels. ``progress(stage,
    done, total)`` is called as stages advance. Raises ``RegistryNotEmpty`` when components exist
    and ``InvalidValue`` for a non-positive count. On SQLite the load runs with
    ``synchronous=OFF`` (restored afterwards).
    """
    if components < 1:
        raise InvalidValue("components", components, "must be a positive number")
    started = time.perf_counter()
    with engine.execution_options(**{WRITE_OPTION: True}).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _pragmas(conn, synchronous="OFF", cache_size="-262144")
        try:
            with conn.begin():
                ensure_empty(conn)
                gen = _Generator(conn, components, seed, progress or _no_progress)
                gen.run()
                fix_sequences(conn)
                _analyze(conn)
                counts = registry_counts(conn)
        finally:
            if sqlite:
                _pragmas(conn, synchronous="NORMAL", cache_size="-2000")
    return ScaleResult(change_set_id=gen.change_set_id, counts=counts, seconds=time.perf_counter() - started)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _pragmas(conn: Connection, **values: str) -> None:
    """Set pragmas on this SQLite connection only, outside any transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    for name, value in values.items():
        raw.execute(f"PRAGMA {name}={value}")


def _analyze(conn: Connection, *tables: Table) -> None:
    """Refresh PostgreSQL's planner statistics (all tables, or the given ones)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t.name}"' for t in tables))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


class _Generator:
    def __init__(self, conn: Connection, n: int, seed: int, progress: Progress) -> None:
        self.conn = conn
        self.n = n
        self.seed = seed
        self.rng = np.random.default_rng([seed, n])
        self.progress = progress
        self.ids = IdAllocator(conn)
        self.change_set_id = 0
        self.ref: RefIds = {}

    def run(self) -> None:
        self._stage("reference data", self._reference)
        self._stage("people", self._people)
        self._stage("components", self._components)
        self._stage("versions", self._versions)
        self._stage("owners, stack and links", self._version_details)
        self._stage("dependencies", self._dependencies)
        self._stage("deployments", self._deployments)
        self._statuses()
        self._stage("QA levels", self._qa)
        self._stage("audit", self._audit)

    def _stage(self, name: str, fn: Callable[[], None]) -> None:
        self.progress(name, 0, 1)
        fn()
        self.progress(name, 1, 1)

    def _insert(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        insert_rows(self.conn, table_of(model), rows, chunk=CHUNK, normalise=False)

    def _pick(self, weights: dict[str, int], size: int) -> np.ndarray:
        p = np.array(list(weights.values()), dtype=float)
        return np.array(list(weights), dtype=object)[self.rng.choice(len(p), size=size, p=p / p.sum())]

    # --- reference data, people, groups ----------------------------------------------------------

    def _reference(self) -> None:
        self.ref = write_reference(self.conn, self.ids)
        write_radar(self.conn, self.ids, created=CREATED_AT, moved=days_before(60))
        count = max(len(AREAS), self._people_count() // 8)
        departments = [
            AREAS[i % len(AREAS)] + (f" {i // len(AREAS) + 1}" if i >= len(AREAS) else "")
            for i in range(count)
        ]
        self.ref["department"].update(
            ensure_named(self.conn, self.ids, table_of(Department), [{"name": d} for d in departments])
        )
        self.departments = departments
        extra_tags = [f"domain:{d}" for d in DOMAINS]
        self.ref["tag"].update(
            ensure_named(self.conn, self.ids, table_of(Tag), [{"name": t} for t in extra_tags])
        )

    def _people_count(self) -> int:
        return max(20, self.n // 10)

    def _people(self) -> None:
        rng, count = self.rng, self._people_count()
        ids = self.ids.take(table_of(Person), count)
        taken = {str(u).lower() for (u,) in self.conn.execute(select(table_of(Person).c.username))}
        first = rng.integers(len(FIRST_NAMES), size=count)
        last = rng.integers(len(LAST_NAMES), size=count)
        n_directors = max(3, count // 40)
        n_managers = max(5, count // 8)
        roles = list(cat.JOB_ROLES)
        rows, usernames = [], []
        dept_of: list[str] = []
        for i in range(count):
            f, la = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
            base = _ascii(f"{f}.{la}").lower()
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}{k}"
            taken.add(name)
            usernames.append(name)
            if i == 0:
                manager, role, title, dept = (
                    None,
                    "Executive",
                    "Chief Technology Officer",
                    self.departments[0],
                )
            elif i <= n_directors:
                manager, role = ids[0], "Executive"
                dept = self.departments[(i - 1) % len(self.departments)]
                title = f"Director, {dept}"
            elif i <= n_directors + n_managers:
                boss = int(rng.integers(1, n_directors + 1))
                manager, role, dept = ids[boss], "Engineering manager", dept_of[boss]
                title = f"Engineering Manager, {dept}"
            else:
                boss = int(rng.integers(n_directors + 1, n_directors + n_managers + 1))
                manager, dept = ids[boss], dept_of[boss]
                role = roles[int(rng.choice([3, 3, 3, 3, 2, 4, 5, 6, 7, 7, 8, 9]))]
                title = f"{role}, {dept}"
            dept_of.append(dept)
            rows.append(
                {
                    "id": ids[i],
                    "username": name,
                    "first_name": f,
                    "last_name": la,
                    "email": f"{name}@example.com",
                    "title": title,
                    "office_phone": f"+1 555 01{i % 100:02d} {i:05d}",
                    "mobile_phone": None if i % 4 == 3 else f"+1 555 02{i % 100:02d} {i:05d}",
                    "photo": None,
                    "info": None,
                    "department_id": self.ref["department"][dept],
                    "organisation_id": self.ref["organisation"][cat.ORGANISATIONS[0 if i % 9 else 1]],
                    "job_role_id": self.ref["job_role"][role],
                    "manager_id": manager,
                    "employee_number": f"S{100000 + i}",
                    "directory_guid": None,
                    "directory_dn": None,
                    "access_role": "admin" if i == 0 else ("editor" if i <= n_directors else "viewer"),
                    "active": i % 50 != 49,
                    "hidden": False,
                    "password_hash": None,
                    "row_version": 1,
                    "created_at": CREATED_AT,
                    "updated_at": CREATED_AT,
                }
            )
        self._insert(Person, rows)
        self.person_ids = np.array(ids)
        role_of = [r["job_role_id"] for r in rows]
        qa_id = self.ref["job_role"]["QA engineer"]
        self.qa_people = np.array([ids[i] for i, r in enumerate(role_of) if r == qa_id] or ids[:3])
        self.dept_members: dict[str, list[int]] = {}
        for i, d in enumerate(dept_of):
            self.dept_members.setdefault(d, []).append(ids[i])
        members: dict[str, list[int]] = {}
        per_group = max(2, count // 25)
        for g in ("Architecture experts", "Security experts", "Operations experts", "Maintenance experts"):
            members[g] = [int(x) for x in rng.choice(self.person_ids, size=per_group, replace=False)]
        self.catalog = write_requirement_catalog(self.conn, self.ids, group_members=members)
        self.group_members = members

    # --- components and versions -----------------------------------------------------------------

    def _components(self) -> None:
        rng, n = self.rng, self.n
        ids = self.ids.take(table_of(Component), n)
        combos = [(d, w) for d in DOMAINS for w in NOUNS]
        order = rng.permutation(len(combos))
        types = self._pick(TYPE_WEIGHTS, n)
        hubs = max(5, n * 3 // 100)
        types[:hubs] = [HUB_TYPES[i % len(HUB_TYPES)] for i in range(hubs)]
        life = self._pick(LIFE_WEIGHTS, n)
        maturity = np.clip(
            np.array([LIFE_MATURITY[x] for x in life]) + rng.normal(0, 0.15, size=n), 0.02, 0.98
        )
        own_vendor = rng.random(n) < 0.85
        vendors = [v for v in cat.VENDORS if v != cat.OUR_VENDOR]
        vendor_pick = rng.integers(len(vendors), size=n)
        hot = rng.random(n) < 0.1
        categories = [c for c, _d in cat.CATEGORIES]
        subcats: dict[str, list[str]] = {}
        for s, c in cat.SUBCATEGORIES:
            subcats.setdefault(c, []).append(s)
        sub_pick = rng.random(n)
        privacy = list(cat.PRIVACY_CLASSES)
        privacy_pick = rng.integers(2, len(privacy), size=n)
        tag_names = list(self.ref["tag"])
        tag_counts = rng.integers(0, 4, size=n)
        rows, tags, endpoints, names = [], [], [], []
        for i in range(n):
            domain, noun = combos[order[i % len(combos)]]
            round_ = i // len(combos)
            name = f"{domain}-{noun}" if round_ == 0 else f"{domain}-{noun}-{round_ + 1}"
            names.append(name)
            ctype = str(types[i])
            category = categories[DOMAINS.index(domain) % len(categories)]
            if ctype in ("Library", "Framework"):
                category = "Shared libraries"
            elif ctype in ("DB Service", "MQ Service"):
                category = "Data & storage" if ctype == "DB Service" else "Messaging"
            elif ctype in ("UI", "Frontend App"):
                category = "Front ends"
            options = subcats.get(category)
            sub = options[int(sub_pick[i] * 10) % len(options)] if options and sub_pick[i] < 0.5 else None
            pclass = (
                "Framework or library" if ctype in ("Library", "Framework") else privacy[int(privacy_pick[i])]
            )
            vendor = cat.OUR_VENDOR if own_vendor[i] else vendors[int(vendor_pick[i])]
            rows.append(
                {
                    "id": ids[i],
                    "name": name,
                    "description": f"**{name}**: the {noun} of the *{domain}* domain ({ctype}).",
                    "life_status": str(life[i]),
                    "type_id": self.ref["type"][ctype],
                    "category_id": self.ref["category"][category],
                    "subcategory_id": self.ref["subcategory"][sub] if sub else None,
                    "vendor_id": self.ref["vendor"][vendor],
                    "privacy_class_id": self.ref["privacy"][pclass],
                    "highly_loaded": bool(hot[i]),
                    "current_version_id": None,
                    "row_version": 1,
                    "created_at": CREATED_AT,
                    "updated_at": CREATED_AT,
                }
            )
            chosen = {f"domain:{domain}"} | {
                tag_names[int(t)] for t in rng.choice(len(cat.TAGS), size=int(tag_counts[i]), replace=False)
            }
            tags += [{"component_id": ids[i], "tag_id": self.ref["tag"][t]} for t in sorted(chosen)]
            if ctype == "Web Service" and i % 5 == 0:
                endpoints.append(
                    {
                        "id": self.ids.one(table_of(Endpoint)),
                        "pattern": f"https://api.example.com/{domain}/{name}/*",
                        "component_id": ids[i],
                        "notes": None,
                    }
                )
        self._insert(Component, rows)
        self._insert(ComponentTag, tags)
        self._insert(Endpoint, endpoints)
        self.comp_ids = np.array(ids)
        self.comp_names = names
        self.types = types
        self.maturity = maturity
        self.hubs = hubs
        self.languages = self._choose_languages()

    def _choose_languages(self) -> list[str]:
        langs = ["Python", "Go", "Java", "Kotlin", "TypeScript", "C#", "C"]
        weights = np.array([30, 22, 16, 12, 14, 4, 2], dtype=float)
        pick = self.rng.choice(len(langs), size=self.n, p=weights / weights.sum())
        return [langs[int(k)] for k in pick]

    def _versions(self) -> None:
        rng, n = self.rng, self.n
        counts = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
        total = int(counts.sum())
        ids = self.ids.take(table_of(ComponentVersion), total)
        majors = rng.integers(1, 15, size=n)
        minors = rng.integers(0, 12, size=n)
        twisted = rng.random(n) < 0.2  # current is a maintenance release below a newer pre-release
        kloc = np.round(rng.lognormal(2.3, 1.0, size=n), 1)
        api = self._pick({"no": 45, "yes": 20, "partial": 15, "unknown": 12, "n/a": 8}, n)
        qa_ok = rng.random(total) < 0.9
        qa_person = self.qa_people[rng.integers(len(self.qa_people), size=total)]
        has_qa = rng.random(total) < 0.8
        maint_pick = rng.integers(0, 1 << 30, size=n)
        rows, owner_of, comp_of_version, current = [], [], [], []
        k = 0
        for i in range(n):
            count = int(counts[i])
            versions = [f"{majors[i]}.{minors[i] + j}" for j in range(count)]
            if count > 1 and twisted[i]:
                versions = [*versions[:-2], f"{majors[i] + 1}.0-rc1", versions[-2]]
            dept = self.departments[i % len(self.departments)]
            team = self.dept_members.get(dept) or [int(self.person_ids[0])]
            maintainer = team[int(maint_pick[i]) % len(team)]
            for j, version in enumerate(versions):
                vid = ids[k]
                vendor_db = str(self.types[i]) in ("DB Service", "MQ Service")
                rows.append(
                    {
                        "id": vid,
                        "component_id": int(self.comp_ids[i]),
                        "version": version,
                        "comments": None if j else "Initial release.",
                        "maintainer_id": maintainer,
                        "responsible_qa_id": int(qa_person[k]) if has_qa[k] else None,
                        "code_kloc": Decimal(str(kloc[i])),
                        "api_is_public": str(api[i]),
                        "qa_applicable": bool(qa_ok[k]) and not vendor_db,
                        "row_version": 1,
                        "created_at": CREATED_AT,
                        "updated_at": CREATED_AT,
                    }
                )
                owner_of.append(maintainer)
                comp_of_version.append(i)
                current.append(j == count - 1)
                k += 1
        self._insert(ComponentVersion, rows)
        comp, ver = table_of(Component), table_of(ComponentVersion)
        _analyze(self.conn, comp, ver)  # PostgreSQL plans the update below badly without statistics
        newest = (
            select(func.max(ver.c.id)).where(ver.c.component_id == comp.c.id).scalar_subquery()
        )  # the last version written is the current one
        self.conn.execute(
            update(comp)
            .where(and_(comp.c.id >= int(self.comp_ids[0]), comp.c.id <= int(self.comp_ids[-1])))
            .values(current_version_id=newest, updated_at=CREATED_AT)  # else onupdate stamps "now"
        )
        self.version_ids = np.array(ids)
        self.version_comp = np.array(comp_of_version)
        self.version_current = np.array(current)
        self.version_maintainer = np.array(owner_of)
        self.version_qa = np.array([bool(r["qa_applicable"]) for r in rows])

    def _version_details(self) -> None:
        rng = self.rng
        total = len(self.version_ids)
        people = self.person_ids
        owners: list[dict[str, Any]] = []
        roll = rng.random((total, 5))
        pick = rng.integers(len(people), size=(total, 6))
        for k in range(total):
            vid = int(self.version_ids[k])
            chosen: set[tuple[str, int]] = set()
            for col, (role, rate) in enumerate(
                (("product_manager", 0.7), ("program_manager", 0.3), ("escalation", 0.6), ("architect", 0.5))
            ):
                if roll[k, col] < rate:
                    chosen.add((role, int(people[pick[k, col]])))
            experts = 0 if roll[k, 4] < 0.3 else (1 if roll[k, 4] < 0.7 else 2)
            for e in range(experts):
                chosen.add(("expert", int(people[pick[k, 4 + e]])))
            owners += [{"version_id": vid, "role": r, "person_id": p} for r, p in sorted(chosen)]
        self._insert(VersionOwner, owners)
        self._stack()
        self._links()

    def _stack(self) -> None:
        rng = self.rng
        ref = self.ref
        by_lang: dict[str, dict[str, list[str]]] = {}
        for kind, pairs in (("framework", cat.FRAMEWORKS), ("orm", cat.ORMS), ("runtime", cat.RUNTIMES)):
            for name, lang in pairs:
                by_lang.setdefault(lang, {}).setdefault(kind, []).append(name)
        total = len(self.version_ids)
        roll = rng.random((total, 6))
        pick = rng.integers(0, 1 << 20, size=(total, 6))
        second = ("Python", "TypeScript", "Go")
        rows: dict[Any, list[dict[str, Any]]] = {
            m: []
            for m in (
                VersionLanguage,
                VersionFramework,
                VersionDatabase,
                VersionOrm,
                VersionLogger,
                VersionRuntime,
            )
        }
        dbs, loggers = list(cat.DATABASE_VENDORS), list(cat.LOGGERS)
        for k in range(total):
            vid = int(self.version_ids[k])
            lang = self.languages[int(self.version_comp[k])]
            rows[VersionLanguage].append({"version_id": vid, "language_id": ref["language"][lang]})
            if roll[k, 0] < 0.25:
                other = second[int(pick[k, 0]) % len(second)]
                if other != lang:
                    rows[VersionLanguage].append({"version_id": vid, "language_id": ref["language"][other]})
            options = by_lang.get(lang, {})
            for col, (kind, model, column, rate) in enumerate(
                (
                    ("framework", VersionFramework, "framework_id", 0.6),
                    ("orm", VersionOrm, "orm_id", 0.3),
                    ("runtime", VersionRuntime, "runtime_id", 0.9),
                ),
                start=1,
            ):
                names = options.get(kind)
                if names and roll[k, col] < rate:
                    rows[model].append(
                        {"version_id": vid, column: ref[kind][names[int(pick[k, col]) % len(names)]]}
                    )
            if roll[k, 4] < 0.4:
                db = dbs[int(pick[k, 4]) % len(dbs)]
                rows[VersionDatabase].append({"version_id": vid, "database_vendor_id": ref["database"][db]})
            if roll[k, 5] < 0.7:
                lg = loggers[int(pick[k, 5]) % len(loggers)]
                rows[VersionLogger].append({"version_id": vid, "logger_id": ref["logger"][lg]})
        for model, data in rows.items():
            self._insert(model, data)

    def _links(self) -> None:
        rng = self.rng
        total = len(self.version_ids)
        kinds = [k for k in LINK_KINDS if k in LINK_RATES]
        roll = rng.random((total, len(kinds)))
        rates = np.array([LINK_RATES[k] for k in kinds])
        present = roll < rates
        count = int(present.sum())
        ids = iter(self.ids.take(table_of(VersionLink), count))
        rows = []
        for k, col in zip(*np.nonzero(present), strict=True):
            name = self.comp_names[int(self.version_comp[k])]
            kind = kinds[int(col)]
            rows.append(
                {
                    "id": next(ids),
                    "version_id": int(self.version_ids[k]),
                    "kind": kind,
                    "url": f"https://{kind.replace('_', '-')}.example.com/{name}",
                    "position": 0,
                }
            )
        self._insert(VersionLink, rows)
        docs = []
        types = list(cat.DOCUMENT_TYPES)
        current = np.nonzero(self.version_current)[0]
        with_doc = current[rng.random(len(current)) < 0.1]
        doc_ids = self.ids.take(table_of(DocumentLink), len(with_doc))
        for n, k in enumerate(with_doc):
            name = self.comp_names[int(self.version_comp[k])]
            dtype = types[n % len(types)]
            docs.append(
                {
                    "id": doc_ids[n],
                    "version_id": int(self.version_ids[k]),
                    "document_type_id": self.ref["doc_type"][dtype],
                    "title": f"{name}: {dtype.lower()}",
                    "url": f"https://wiki.example.com/{name}/{dtype.lower().replace(' ', '-')}",
                }
            )
        self._insert(DocumentLink, docs)

    # --- dependencies and deployments ------------------------------------------------------------

    def _dependencies(self) -> None:
        rng, n = self.rng, self.n
        types = list(RUNTIME_DEPENDENCY_WEIGHTS)
        weights = np.array(list(RUNTIME_DEPENDENCY_WEIGHTS.values()), dtype=float)
        compile_only = {"Library", "Framework"}
        current_by_comp = {int(self.version_comp[k]): int(k) for k in np.nonzero(self.version_current)[0]}
        wanted = np.minimum(rng.poisson(3.0, size=n), 8)
        tries = 24
        to_hub = rng.random((n, tries)) < 0.35
        hub_pick = rng.integers(0, 1 << 30, size=(n, tries))
        distance = rng.exponential(40.0, size=(n, tries)).astype(np.int64)
        type_pick = rng.choice(len(types), size=(n, 8), p=weights / weights.sum())
        keep_old = rng.integers(0, 3, size=len(self.version_ids))
        rows: list[dict[str, Any]] = []
        edges_of: dict[int, list[tuple[int, str]]] = {}
        for i in range(1, n):
            k = min(int(wanted[i]), i)
            targets: list[int] = []
            for t in range(tries):
                if len(targets) >= k:
                    break
                j = int(hub_pick[i, t]) % min(self.hubs, i) if to_hub[i, t] else i - 1 - int(distance[i, t])
                if 0 <= j < i and j not in targets:
                    targets.append(j)
            edges = [
                (j, "compile_time" if str(self.types[j]) in compile_only else types[int(type_pick[i, e])])
                for e, j in enumerate(targets)
            ]
            edges_of[i] = edges
            vid = int(self.version_ids[current_by_comp[i]])
            rows += [{"version_id": vid, "component_id": int(self.comp_ids[j]), "type": t} for j, t in edges]
        for old in np.nonzero(~self.version_current)[0]:  # older versions kept some of the current edges
            edges = edges_of.get(int(self.version_comp[old]), [])[: int(keep_old[old])]
            rows += [
                {"version_id": int(self.version_ids[old]), "component_id": int(self.comp_ids[j]), "type": t}
                for j, t in edges
            ]
        ids = self.ids.take(table_of(Dependency), len(rows))
        for row, dep_id in zip(rows, ids, strict=True):
            row["id"] = dep_id
            row["notes"] = None
        self._insert(Dependency, rows)

    def _deployments(self) -> None:
        rng = self.rng
        total = len(self.version_ids)
        deployable = np.array(
            [str(self.types[int(c)]) not in ("Library", "Framework") for c in self.version_comp]
        )
        counts = np.where(deployable, rng.choice([0, 1, 2], size=total, p=[0.15, 0.55, 0.30]), 0)
        envs = ["Kubernetes", "Linux VM", "Windows VM"]
        env_pick = rng.choice(3, size=total, p=[0.75, 0.2, 0.05])
        per_dc = rng.random(total) < 0.7
        new = rng.random(total) < 0.06
        port_values = [p for _n, p in cat.TCP_PORTS]
        rows, ports, dcs = [], [], []
        regions = [s for _n, s in cat.DATA_CENTRES]
        runtimes = {lang: [n for n, x in cat.RUNTIMES if x == lang] for lang in cat.LANGUAGES}
        ids = iter(self.ids.take(table_of(Deployment), int(counts.sum())))
        port_roll = rng.integers(0, 1 << 20, size=(total, 3))
        for k in np.nonzero(counts)[0]:
            comp = int(self.version_comp[k])
            ctype = str(self.types[comp])
            products = cat.NEW_PRODUCTS if self.version_current[k] else cat.OLD_PRODUCTS
            start = int(port_roll[k, 2]) % 2
            runtime_names = runtimes.get(self.languages[comp]) or []
            for m in range(int(counts[k])):
                product = products[(start + m) % 2]
                onprem = product in cat.ONPREM
                if ctype == "Frontend App" and not onprem:
                    location, env = "endpoint", "Browser"
                else:
                    location = "onprem" if onprem else ("per-dc" if per_dc[k] else "global")
                    env = envs[int(env_pick[k])]
                dep_id = next(ids)
                name = self.comp_names[comp]
                rows.append(
                    {
                        "id": dep_id,
                        "version_id": int(self.version_ids[k]),
                        "product_version_id": self.ref["product"][product],
                        "location_class_id": self.ref["location"][location],
                        "environment_id": self.ref["environment"][env],
                        "runtime_id": self.ref["runtime"][runtime_names[0]] if runtime_names else None,
                        "name": None,
                        "service_name": name,
                        "binary_name": name,
                        "is_new": bool(new[k] and self.version_current[k]),
                        "notes": None,
                        "row_version": 1,
                        "created_at": CREATED_AT,
                        "updated_at": CREATED_AT,
                    }
                )
                chosen_ports = {
                    port_values[int(port_roll[k, p]) % len(port_values)]
                    for p in range(int(port_roll[k, 0]) % 3)
                }
                ports += [
                    {"deployment_id": dep_id, "port_id": self.ref["port"][str(p)]}
                    for p in sorted(chosen_ports)
                ]
                if location == "per-dc":
                    for r in regions[: 1 + int(port_roll[k, 1]) % 3]:
                        dcs.append({"data_center_id": self.ref["dc"][r], "deployment_id": dep_id})
        self._insert(Deployment, rows)
        self._insert(DeploymentPort, ports)
        self._insert(DataCenterDeployment, dcs)

    # --- requirement statuses, exclusions, QA ----------------------------------------------------

    def _statuses(self) -> None:
        rng = self.rng
        _reqs, sets = requirement_catalog()
        req_ids: list[int] = []
        req_set: list[str] = []
        for s in sets:
            for rid in self.catalog.set_requirements[s.name]:
                if rid not in req_ids:
                    req_ids.append(rid)
                    req_set.append(s.name)
        current = np.nonzero(self.version_current)[0]
        nv, nr = len(current), len(req_ids)
        total = nv * nr
        self.progress("requirement statuses", 0, total)
        self._exclusions(current, sets)

        maturity = np.repeat(self.maturity[self.version_comp[current]], nr)
        u = rng.random(total)
        p_ready = 0.12 + 0.7 * maturity
        p_na = p_ready + 0.07
        p_not = p_na + 0.04 + 0.14 * (1 - maturity)
        owner = np.select([u < p_ready, u < p_na, u < p_not], [2, 3, 1], default=0)
        v = rng.random(total)
        claimed = (owner == 2) | (owner == 3)
        p_sign = 0.15 + 0.7 * maturity
        signee = np.zeros(total, dtype=np.int64)
        signee[claimed & (v < p_sign)] = 2
        signee[claimed & (v >= p_sign) & (v < p_sign + 0.07)] = 1
        signee[(owner == 1) & (v < 0.15)] = 1
        signee[(owner == 0) & (v < 0.005)] = 2
        signee[(owner == 0) & (v >= 0.995)] = 1

        days = np.arange(0, 420)
        pool = [BASE_DATE - timedelta(days=int(d), hours=int(d % 9)) for d in days]
        owner_day = rng.integers(20, 400, size=total)
        signee_day = np.maximum(owner_day - rng.integers(1, 30, size=total), 1)
        owner_notes = rng.random(total) < 0.05
        signee_notes = rng.random(total) < 0.05
        evidence = rng.random(total) < 0.2
        signer_choice = rng.integers(0, 1 << 20, size=total)
        signers = {s.name: [gid for g in s.signer_groups for gid in self.group_members[g]] for s in sets}
        per_req_signers = [signers[name] or [int(self.person_ids[0])] for name in req_set]

        versions = np.repeat(self.version_ids[current], nr).tolist()
        maintainers = np.repeat(self.version_maintainer[current], nr).tolist()
        requirements = np.tile(np.array(req_ids), nv).tolist()
        req_index = np.tile(np.arange(nr), nv).tolist()
        owner_l, signee_l = owner.tolist(), signee.tolist()
        o_day, s_day = owner_day.tolist(), signee_day.tolist()
        o_note, s_note, ev, choice = (
            owner_notes.tolist(),
            signee_notes.tolist(),
            evidence.tolist(),
            signer_choice.tolist(),
        )
        ids = self.ids.take(table_of(RequirementStatus), total)
        o_names, s_names = OWNER.tolist(), SIGNEE.tolist()
        table = table_of(RequirementStatus)
        rows: list[dict[str, Any]] = []
        done = 0
        for x in range(total):
            o, sg = owner_l[x], signee_l[x]
            owner_at = pool[o_day[x]] if o else None
            signee_at = pool[s_day[x]] if sg else None
            signer_pool = per_req_signers[req_index[x]]
            rows.append(
                {
                    "id": ids[x],
                    "version_id": versions[x],
                    "requirement_id": requirements[x],
                    "owner_status": o_names[o],
                    "owner_notes": "See SHOP-1873." if o and o_note[x] else None,
                    "owner_by_id": maintainers[x] if o else None,
                    "owner_at": owner_at,
                    "signee_status": s_names[sg],
                    "signee_notes": "Reviewed." if sg and s_note[x] else None,
                    "signee_by_id": signer_pool[choice[x] % len(signer_pool)] if sg else None,
                    "signee_at": signee_at,
                    "evidence_url": f"https://wiki.example.com/signoff/{ids[x]}"
                    if sg == 2 and ev[x]
                    else None,
                    "row_version": 1,
                    "created_at": CREATED_AT,
                    "updated_at": signee_at or owner_at or CREATED_AT,
                }
            )
            if len(rows) == CHUNK:
                insert_rows(self.conn, table, rows, chunk=CHUNK, normalise=False)
                done += len(rows)
                rows = []
                self.progress("requirement statuses", done, total)
        if rows:
            insert_rows(self.conn, table, rows, chunk=CHUNK, normalise=False)
            self.progress("requirement statuses", total, total)

    def _exclusions(self, current: np.ndarray, sets: Sequence[Any]) -> None:
        rng = self.rng
        roll = rng.random(len(current))
        which = rng.integers(len(sets), size=len(current))
        rows = []
        for n, k in enumerate(current):
            comp = int(self.version_comp[k])
            library = str(self.types[comp]) in ("Library", "Framework")
            if library and roll[n] < 0.8:
                set_name, reason = "Operational requirements", "A library: not operated on its own."
            elif roll[n] < 0.04:
                set_name, reason = (
                    sets[int(which[n])].name,
                    "Not applicable to this component (agreed with the experts).",
                )
            else:
                continue
            rows.append(
                {
                    "version_id": int(self.version_ids[k]),
                    "set_id": self.catalog.sets[set_name],
                    "reason": reason,
                    "excluded_by_id": int(self.person_ids[0]),
                    "excluded_at": days_before(300),
                }
            )
        self._insert(SetExclusion, rows)

    def _qa(self) -> None:
        rng = self.rng
        applicable = np.nonzero(self.version_qa)[0]
        kinds = len(QA_KINDS)
        maturity = np.repeat(self.maturity[self.version_comp[applicable]], kinds)
        u = rng.random(len(maturity))
        # unknown, none, low, med, high, n/a: more mature -> higher levels
        level = np.select(
            [
                u < 0.25 * (1 - maturity),
                u < 0.35 * (1 - maturity) + 0.05,
                u < 0.55,
                u < 0.55 + 0.3 * maturity,
                u < 0.97,
            ],
            [0, 1, 2, 3, 4],
            default=5,
        )
        versions = np.repeat(self.version_ids[applicable], kinds).tolist()
        kind_names = np.tile(np.array(QA_KINDS, dtype=object), len(applicable)).tolist()
        levels = QA_LEVEL[level].tolist()
        rows = [
            {
                "version_id": v,
                "kind": k,
                "level": lv,
                "notes": None,
                "signed_off_by_id": None,
                "signed_off_at": None,
            }
            for v, k, lv in zip(versions, kind_names, levels, strict=True)
            if lv != "unknown"
        ]
        self._insert(QaLevel, rows)

    # --- audit -----------------------------------------------------------------------------------

    def _audit(self) -> None:
        cs_id = self.ids.one(table_of(ChangeSet))
        self.change_set_id = cs_id
        summary = (
            f"Synthetic registry: {self.n} components, {len(self.version_ids)} versions, "
            f"{len(self.person_ids)} people (seed {self.seed})"
        )
        at: datetime = CREATED_AT
        self._insert(
            ChangeSet,
            [
                {
                    "id": cs_id,
                    "actor_id": None,
                    "actor_name": "system",
                    "at": at,
                    "source": "scale",
                    "summary": summary,
                }
            ],
        )
        base = {
            "change_set_id": cs_id,
            "action": "create",
            "old_value": None,
            "actor_id": None,
            "actor_name": "system",
            "at": at,
        }
        events = [
            {
                **base,
                "entity": "component",
                "entity_id": int(cid),
                "component_id": int(cid),
                "field": "name",
                "new_value": name,
            }
            for cid, name in zip(self.comp_ids.tolist(), self.comp_names, strict=True)
        ]
        comp_ids = self.comp_ids.tolist()
        events += [
            {
                **base,
                "entity": "component_version",
                "entity_id": vid,
                "component_id": comp_ids[c],
                "field": None,
                "new_value": None,
            }
            for vid, c in zip(self.version_ids.tolist(), self.version_comp.tolist(), strict=True)
        ]
        ids = self.ids.take(table_of(AuditEvent), len(events))
        for event, eid in zip(events, ids, strict=True):
            event["id"] = eid
        self._insert(AuditEvent, events)
