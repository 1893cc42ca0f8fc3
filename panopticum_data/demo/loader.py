"""``load_demo``: the demo registry of ``catalog`` written into an empty database, with its history."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from ..models import (
    AuditEvent,
    ChangeSet,
    Component,
    ComponentTag,
    ComponentVersion,
    DataCenterDeployment,
    Dependency,
    Deployment,
    DeploymentPort,
    DocumentLink,
    Endpoint,
    GroupMember,
    Person,
    PersonGroup,
    QaLevel,
    RequirementStatus,
    SetExclusion,
    VersionDatabase,
    VersionFramework,
    VersionLanguage,
    VersionLink,
    VersionLogger,
    VersionOrm,
    VersionOwner,
    VersionRuntime,
)
from ..security import hash_password
from . import catalog as cat
from ._common import (
    CatalogIds,
    IdAllocator,
    days_before,
    ensure_empty,
    ensure_named,
    fix_sequences,
    insert_rows,
    link_missing,
    registry_counts,
    requirement_catalog,
    table_of,
    write_requirement_catalog,
)
from .avatars import identicon_png
from .refdata import write_radar, write_reference

SEED = 20261101
LOADED_AT = days_before(517)  # 2025-06-02: when the registry was "filled"; later edits follow it
WIKI = "https://wiki.acme-shop.example"


@dataclass(frozen=True)
class LoadResult:
    change_set_id: int
    counts: dict[str, int]


def load_demo(session: Session) -> LoadResult:
    """Write the demo registry into the session's transaction (the caller commits).

    Raises ``RegistryNotEmpty`` (nothing written) when components already exist. Reference rows,
    people, groups, requirement sets and requirements that already exist by name are reused. All
    rows of the load share one change set (source ``demo``, actor ``system``) with a ``create``
    event per component and version; a few later edits follow as their own change sets.
    """
    conn = session.connection()
    ensure_empty(conn)
    loader = _Loader(conn)
    loader.run()
    fix_sequences(conn)
    return LoadResult(change_set_id=loader.change_set_id, counts=registry_counts(conn))


class _Loader:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids = IdAllocator(conn)
        self.rng = random.Random(SEED)
        self.ref: dict[str, dict[str, int]] = {}
        self.people: dict[str, int] = {}
        self.comp_ids: dict[str, int] = {}
        self.version_ids: dict[tuple[str, str], int] = {}
        self.specs = {c.key: c for c in cat.COMPONENTS}
        self.change_set_id = 0
        self.events: list[dict[str, Any]] = []
        self.status_ids: dict[tuple[str, str], int] = {}  # (component key, title) of current version
        self.dependency_ids: dict[tuple[str, str, str], int] = {}
        self.catalog = CatalogIds(requirements={}, sets={}, groups={}, set_requirements={})

    # --- orchestration ---------------------------------------------------------------------------

    def run(self) -> None:
        self._reference()
        self._people()
        self.catalog = write_requirement_catalog(self.conn, self.ids, group_members=self._signer_members())
        self._extra_groups()
        self.change_set_id = self._change_set(None, "system", LOADED_AT, "demo", self._summary())
        self._components()
        self._versions()
        self._version_details()
        self._dependencies()
        self._deployments()
        self._exclusions()
        self._qa()
        self._statuses()
        self._radar()
        self._history()
        insert_rows(self.conn, table_of(AuditEvent), self.events)

    def _summary(self) -> str:
        return (
            f"Demo registry: {len(cat.COMPONENTS)} components, {len(cat.PEOPLE)} people, 4 requirement sets"
        )

    def _named(self, model: type, rows: Sequence[Mapping[str, Any]], key: str = "name") -> dict[str, int]:
        return ensure_named(self.conn, self.ids, table_of(model), rows, key=key)

    # --- reference data --------------------------------------------------------------------------

    def _reference(self) -> None:
        self.ref = write_reference(self.conn, self.ids)

    # --- people and groups -----------------------------------------------------------------------

    def _people(self) -> None:
        rows: list[dict[str, Any]] = []
        resolved: dict[str, int] = {}
        people = table_of(Person)
        known = {str(u).lower(): int(i) for i, u in self.conn.execute(select(people.c.id, people.c.username))}
        for n, p in enumerate(cat.PEOPLE):
            if p.username.lower() in known:
                resolved[p.username] = known[p.username.lower()]
                continue
            pid = self.ids.one(table_of(Person))
            resolved[p.username] = pid
            rows.append(
                {
                    "id": pid,
                    "username": p.username,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "email": None if p.hidden else f"{p.username}@acme-shop.example",
                    "title": p.title,
                    "office_phone": None if p.hidden else f"+44 20 7946 0{100 + n:03d}",
                    "mobile_phone": f"+44 7700 900{100 + n:03d}" if n % 3 != 2 and not p.hidden else None,
                    "photo": identicon_png(p.username) if p.photo else None,
                    "info": p.info,
                    "department_id": self.ref["department"][p.department],
                    "organisation_id": self.ref["organisation"][p.organisation],
                    "job_role_id": self.ref["job_role"][p.job_role],
                    "manager_id": resolved[p.manager] if p.manager else None,
                    "employee_number": None if p.hidden else f"E{1000 + n:04d}",
                    "directory_guid": None,
                    "directory_dn": None,
                    "access_role": p.access_role,
                    "active": p.active,
                    "hidden": p.hidden,
                    "password_hash": hash_password(p.password) if p.password else None,
                    "row_version": 1,
                    "created_at": LOADED_AT,
                    "updated_at": LOADED_AT,
                }
            )
        insert_rows(self.conn, table_of(Person), rows)
        self.people = resolved

    def _signer_members(self) -> dict[str, list[int]]:
        members: dict[str, list[int]] = {}
        for p in cat.PEOPLE:
            for g in p.groups:
                members.setdefault(g, []).append(self.people[p.username])
        return members

    def _extra_groups(self) -> None:
        groups = self._named(PersonGroup, [{"name": n, "description": d} for n, d, _m in cat.EXTRA_GROUPS])
        link_missing(
            self.conn,
            table_of(GroupMember),
            [
                {"group_id": groups[n], "person_id": self.people[u]}
                for n, _d, m in cat.EXTRA_GROUPS
                for u in m
            ],
        )

    # --- audit -----------------------------------------------------------------------------------

    def _change_set(self, actor: str | None, name: str, at: datetime, source: str, summary: str) -> int:
        cs_id = self.ids.one(table_of(ChangeSet))
        actor_id = self.people[actor] if actor else None
        insert_rows(
            self.conn,
            table_of(ChangeSet),
            [
                {
                    "id": cs_id,
                    "actor_id": actor_id,
                    "actor_name": name,
                    "at": at,
                    "source": source,
                    "summary": summary,
                }
            ],
        )
        return cs_id

    def _event(self, cs_id: int, actor: str | None, at: datetime, **values: Any) -> None:
        row = {"field": None, "old_value": None, "new_value": None, "component_id": None, **values}
        row.update(
            change_set_id=cs_id,
            actor_id=self.people[actor] if actor else None,
            actor_name=actor or "system",
            at=at,
        )
        self.events.append(row)

    # --- components and versions -----------------------------------------------------------------

    def _components(self) -> None:
        rows, tags, endpoints = [], [], []
        for spec in cat.COMPONENTS:
            cid = self.ids.one(table_of(Component))
            self.comp_ids[spec.key] = cid
            rows.append(
                {
                    "id": cid,
                    "name": spec.name,
                    "description": spec.description,
                    "life_status": spec.life,
                    "type_id": self.ref["type"][spec.type],
                    "category_id": self.ref["category"][spec.category],
                    "subcategory_id": self.ref["subcategory"][spec.subcategory] if spec.subcategory else None,
                    "vendor_id": self.ref["vendor"][spec.vendor],
                    "privacy_class_id": self.ref["privacy"][spec.privacy],
                    "highly_loaded": spec.highly_loaded,
                    "current_version_id": None,
                    "row_version": 1,
                    "created_at": LOADED_AT,
                    "updated_at": LOADED_AT,
                }
            )
            tags += [{"component_id": cid, "tag_id": self.ref["tag"][t]} for t in spec.tags]
            self._event(
                self.change_set_id,
                None,
                LOADED_AT,
                entity="component",
                entity_id=cid,
                component_id=cid,
                action="create",
                field="name",
                new_value=spec.name,
            )
        for pattern, key, notes in cat.ENDPOINTS:
            endpoints.append(
                {
                    "id": self.ids.one(table_of(Endpoint)),
                    "pattern": pattern,
                    "component_id": self.comp_ids[key],
                    "notes": notes,
                }
            )
        insert_rows(self.conn, table_of(Component), rows)
        insert_rows(self.conn, table_of(ComponentTag), tags)
        insert_rows(self.conn, table_of(Endpoint), endpoints)

    def _maintainer(self, spec: cat.CompSpec, version: str) -> str:
        # Older versions were maintained by others (one of them has left the company since).
        older = {("orders", "9.2"): "eroberts", ("orders", "10.0"): "owner", ("payments", "2.9"): "hlee"}
        return older.get((spec.key, version), spec.maintainer)

    def _versions(self) -> None:
        rows = []
        for spec in cat.COMPONENTS:
            team = cat.TEAMS[spec.team]
            for version, comments in spec.versions:
                vid = self.ids.one(table_of(ComponentVersion))
                self.version_ids[(spec.key, version)] = vid
                qa = team.qa if spec.profile != "new" and spec.qa_applicable else None
                rows.append(
                    {
                        "id": vid,
                        "component_id": self.comp_ids[spec.key],
                        "version": version,
                        "comments": comments,
                        "maintainer_id": self.people[self._maintainer(spec, version)],
                        "responsible_qa_id": self.people[qa] if qa else None,
                        "code_kloc": Decimal(str(spec.kloc)) if spec.kloc is not None else None,
                        "api_is_public": spec.api_public,
                        "qa_applicable": spec.qa_applicable,
                        "row_version": 1,
                        "created_at": LOADED_AT,
                        "updated_at": LOADED_AT,
                    }
                )
                self._event(
                    self.change_set_id,
                    None,
                    LOADED_AT,
                    entity="component_version",
                    entity_id=vid,
                    component_id=self.comp_ids[spec.key],
                    action="create",
                    field="version",
                    new_value=version,
                )
        insert_rows(self.conn, table_of(ComponentVersion), rows)
        table = table_of(Component)
        self.conn.execute(
            update(table)
            .where(table.c.id == bindparam("cid"))
            .values(current_version_id=bindparam("vid"), updated_at=LOADED_AT),  # else onupdate: "now"
            [
                {"cid": self.comp_ids[s.key], "vid": self.version_ids[(s.key, s.current)]}
                for s in cat.COMPONENTS
            ],
        )

    def _versions_of(self, spec: cat.CompSpec) -> list[tuple[str, int]]:
        return [(v, self.version_ids[(spec.key, v)]) for v, _c in spec.versions]

    def _version_details(self) -> None:
        owners: list[dict[str, Any]] = []
        stack: dict[Table, list[dict[str, Any]]] = {}
        links: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        stack_tables = (
            (VersionLanguage, "language_id", "language", "languages"),
            (VersionFramework, "framework_id", "framework", "frameworks"),
            (VersionDatabase, "database_vendor_id", "database", "databases"),
            (VersionOrm, "orm_id", "orm", "orms"),
            (VersionLogger, "logger_id", "logger", "loggers"),
            (VersionRuntime, "runtime_id", "runtime", "runtimes"),
        )
        for spec in cat.COMPONENTS:
            for version, vid in self._versions_of(spec):
                owners += [
                    {"version_id": vid, "role": role, "person_id": self.people[u]}
                    for role, u in self._owner_roles(spec, version)
                ]
                for model, column, ref, attr in stack_tables:
                    stack.setdefault(table_of(model), []).extend(
                        {"version_id": vid, column: self.ref[ref][name]} for name in getattr(spec, attr)
                    )
                links += [
                    {
                        "id": self.ids.one(table_of(VersionLink)),
                        "version_id": vid,
                        "kind": kind,
                        "url": url,
                        "position": pos,
                    }
                    for kind, url, pos in self._links(spec)
                ]
        for key, doc_type, title, path in cat.DOCUMENT_LINKS:
            spec = self.specs[key]
            docs.append(
                {
                    "id": self.ids.one(table_of(DocumentLink)),
                    "version_id": self.version_ids[(key, spec.current)],
                    "document_type_id": self.ref["doc_type"][doc_type],
                    "title": title,
                    "url": f"{WIKI}/{path}",
                }
            )
        insert_rows(self.conn, table_of(VersionOwner), owners)
        for table, rows in stack.items():
            insert_rows(self.conn, table, rows)
        insert_rows(self.conn, table_of(VersionLink), links)
        insert_rows(self.conn, table_of(DocumentLink), docs)

    def _owner_roles(self, spec: cat.CompSpec, version: str) -> list[tuple[str, str]]:
        team = cat.TEAMS[spec.team]
        maintainer = self._maintainer(spec, version)
        roles: list[tuple[str, str]] = [("architect", team.architect)]
        experts = [d for d in team.developers if d != maintainer][:2]
        roles += [("expert", e) for e in experts]
        if spec.profile != "new":
            if team.product_manager:
                roles.append(("product_manager", team.product_manager))
            if team.program_manager:
                roles.append(("program_manager", team.program_manager))
            roles.append(("escalation", team.escalation))
            if spec.highly_loaded and team.escalation != team.manager:
                roles.append(("escalation", team.manager))
        if spec.key == "orders":  # a second architect on the biggest component
            roles.append(("architect", "mchen"))
        return list(dict.fromkeys(roles))

    def _links(self, spec: cat.CompSpec) -> list[tuple[str, str, int]]:
        slug = spec.slug
        jql = quote('component = "' + spec.name + '"')
        jira = f"https://jira.acme-shop.example/issues/?jql={jql}"
        found: list[tuple[str, str]] = [("issue_tracker", jira)]
        if spec.in_house:
            found.append(("repository", f"https://git.acme-shop.example/{spec.team}/{slug}"))
            if spec.profile != "new":
                found += [
                    ("build_job", f"https://ci.acme-shop.example/job/{slug}/"),
                    ("docs", f"https://docs.acme-shop.example/{slug}/"),
                ]
            if spec.type in ("Web Service", "UI") and spec.profile not in ("new", "legacy"):
                found.append(
                    ("api_spec", f"https://git.acme-shop.example/{spec.team}/{slug}/-/blob/main/openapi.yaml")
                )
        else:
            found += [
                ("repository", f"https://git.acme-shop.example/infra/{slug}-config"),
                ("docs", f"https://docs.acme-shop.example/platform/{slug}/"),
            ]
        if spec.location is not None and spec.profile not in ("new", "legacy"):
            found += [
                ("metrics", f"https://grafana.acme-shop.example/d/{slug}"),
                ("logs", f"https://logs.acme-shop.example/app/discover#/?query=service:{slug}"),
            ]
        if spec.public_docs:
            found.append(("public_docs", f"https://developer.acme-shop.example/{slug}"))
        if spec.public_repo:
            found.append(("public_repository", spec.public_repo))
        for kind, urls in spec.extra_links.items():
            found += [(kind, u) for u in urls]
        positions: dict[str, int] = {}
        result = []
        for kind, url in found:
            result.append((kind, url, positions.get(kind, 0)))
            positions[kind] = positions.get(kind, 0) + 1
        return result

    # --- dependencies and deployments ------------------------------------------------------------

    def _dependencies(self) -> None:
        rows = []
        for src, dst, dep_type, notes, only in cat.DEPENDENCIES:
            spec = self.specs[src]
            for version, vid in self._versions_of(spec):
                if only and version not in only:
                    continue
                dep_id = self.ids.one(table_of(Dependency))
                if version == spec.current:
                    self.dependency_ids[(src, dst, dep_type)] = dep_id
                rows.append(
                    {
                        "id": dep_id,
                        "version_id": vid,
                        "component_id": self.comp_ids[dst],
                        "type": dep_type,
                        "notes": notes or None,
                    }
                )
        insert_rows(self.conn, table_of(Dependency), rows)

    def _deployment_plan(self, spec: cat.CompSpec) -> list[tuple[str, str]]:
        """(version, product shortname) pairs: the current version in the newest products, the one
        before it in the older products; single-version components everywhere they run."""
        if spec.location is None:
            return []
        names = [v for v, _c in spec.versions]
        current = names.index(spec.current)
        plan = []
        for product in spec.products:
            if len(names) == 1 or product in cat.NEW_PRODUCTS:
                plan.append((spec.current, product))
            elif current > 0:
                plan.append((names[current - 1], product))
        return plan

    def _deployments(self) -> None:
        rows, ports, dcs = [], [], []
        for spec in cat.COMPONENTS:
            runtime = self.ref["runtime"][spec.runtimes[0]] if spec.runtimes else None
            for version, product in self._deployment_plan(spec):
                dep_id = self.ids.one(table_of(Deployment))
                onprem = product in cat.ONPREM
                location = "onprem" if onprem and spec.location != "endpoint" else spec.location
                assert location is not None
                rows.append(
                    {
                        "id": dep_id,
                        "version_id": self.version_ids[(spec.key, version)],
                        "product_version_id": self.ref["product"][product],
                        "location_class_id": self.ref["location"][location],
                        "environment_id": self.ref["environment"][spec.environment],
                        "runtime_id": runtime,
                        "name": None,
                        "service_name": spec.slug,
                        "binary_name": spec.binary or spec.slug,
                        "is_new": product in spec.new_in,
                        "notes": self._deployment_note(spec, product),
                        "row_version": 1,
                        "created_at": LOADED_AT,
                        "updated_at": LOADED_AT,
                    }
                )
                ports += [{"deployment_id": dep_id, "port_id": self.ref["port"][str(p)]} for p in spec.ports]
                if not onprem and location == "per-dc":
                    regions = ("euw1", "euc1", "use1") + (("apse1",) if product == "cc-2026.2" else ())
                    dcs += [{"data_center_id": self.ref["dc"][r], "deployment_id": dep_id} for r in regions]
                elif not onprem and location == "global":
                    dcs.append({"data_center_id": self.ref["dc"]["euw1"], "deployment_id": dep_id})
        insert_rows(self.conn, table_of(Deployment), rows)
        insert_rows(self.conn, table_of(DeploymentPort), ports)
        insert_rows(self.conn, table_of(DataCenterDeployment), dcs)

    @staticmethod
    def _deployment_note(spec: cat.CompSpec, product: str) -> str | None:
        if spec.key == "monolith" and product == "op-10.0":
            return "Only for customers upgrading from 9.2; removed in 11.0."
        if spec.key == "rabbit" and product == "op-10.0":
            return "Kept for the monolith; Order Management uses Kafka."
        if product in spec.new_in:
            return "New in this product version."
        return None

    # --- requirements: exclusions, QA, statuses --------------------------------------------------

    def _excluded(self) -> dict[str, set[str]]:
        excluded: dict[str, set[str]] = {}
        for key, set_name, _reason, _by in cat.SET_EXCLUSIONS:
            excluded.setdefault(key, set()).add(set_name)
        return excluded

    def _exclusions(self) -> None:
        rows = []
        for n, (key, set_name, reason, by) in enumerate(cat.SET_EXCLUSIONS):
            for _version, vid in self._versions_of(self.specs[key]):
                rows.append(
                    {
                        "version_id": vid,
                        "set_id": self.catalog.sets[set_name],
                        "reason": reason,
                        "excluded_by_id": self.people[by],
                        "excluded_at": days_before(400 - 7 * n),
                    }
                )
        insert_rows(self.conn, table_of(SetExclusion), rows)

    _QA_WEIGHTS = {
        "exemplary": {"high": 50, "med": 35, "low": 10, "n/a": 5},
        "progress": {"high": 15, "med": 35, "low": 30, "none": 10, "unknown": 10},
        "new": {"unknown": 50, "none": 20, "low": 25, "med": 5},
        "legacy": {"low": 35, "none": 35, "unknown": 20, "med": 10},
        "vendor": {"med": 50, "high": 30, "low": 20},
    }
    _QA_NOTES = {
        "e2e": "Nightly Playwright suite against staging.",
        "performance": "k6 load test at 3x the Black Friday peak.",
        "security": "DAST scan in the release pipeline.",
        "upgrade": "Upgrade from the previous two versions is tested.",
        "unit": "Coverage gate at 80 %.",
    }

    def _qa(self) -> None:
        rows = []
        for spec in cat.COMPONENTS:
            if not spec.qa_applicable:
                continue
            weights = self._QA_WEIGHTS[spec.profile]
            qa_person = cat.TEAMS[spec.team].qa
            for version, vid in self._versions_of(spec):
                for kind in (
                    "manual",
                    "unit",
                    "e2e",
                    "performance",
                    "longhaul",
                    "security",
                    "api",
                    "anonymisation",
                    "upgrade",
                ):
                    level = self.rng.choices(list(weights), list(weights.values()))[0]
                    if spec.location is None and kind in ("e2e", "longhaul", "anonymisation", "upgrade"):
                        level = "n/a"
                    if level == "unknown":
                        continue  # a missing row means unknown
                    signed = level in ("med", "high") and qa_person is not None and version == spec.current
                    rows.append(
                        {
                            "version_id": vid,
                            "kind": kind,
                            "level": level,
                            "notes": self._QA_NOTES.get(kind) if level in ("med", "high") else None,
                            "signed_off_by_id": self.people[qa_person] if signed and qa_person else None,
                            "signed_off_at": days_before(self.rng.randint(10, 200)) if signed else None,
                        }
                    )
        insert_rows(self.conn, table_of(QaLevel), rows)

    _OWNER_WEIGHTS = {
        "exemplary": {"ready": 82, "n/a": 10, "not_ready": 5, "unknown": 3},
        "progress": {"ready": 45, "unknown": 25, "not_ready": 18, "n/a": 12},
        "new": {"unknown": 60, "ready": 28, "not_ready": 12},
        "legacy": {"not_ready": 45, "unknown": 25, "ready": 20, "n/a": 10},
        "vendor": {"ready": 75, "n/a": 25},
    }
    _SIGNEE_WEIGHTS = {  # by owner status
        "ready": {"ready": 60, "unknown": 32, "not_ready": 8},
        "n/a": {"ready": 55, "unknown": 35, "not_ready": 10},
        "not_ready": {"unknown": 85, "not_ready": 15},
        "unknown": {"unknown": 100},
    }
    # Verdicts written by the edits in the history (their actor signed them).
    _FORCED_SIGNEES = {
        ("checkout", "Deployment"): "kmueller",
        ("payments", "Logs sanitization"): "expert",
        ("tax", "Databases access"): "nsato",
        ("payments", "Vulnerability management"): "aokafor",
    }

    def _statuses(self) -> None:
        _requirements, sets = requirement_catalog()
        excluded = self._excluded()
        titles = {rid: t for t, rid in self.catalog.requirements.items()}
        signers = self._set_signers()
        forced = {(c, t): rest for c, t, *rest in cat.FORCED_STATUSES}
        rows = []
        for spec in cat.COMPONENTS:
            applicable = [s for s in sets if s.name not in excluded.get(spec.key, set())]
            req_set: dict[int, str] = {}
            for s in applicable:
                for rid in self.catalog.set_requirements[s.name]:
                    req_set.setdefault(rid, s.name)
            for version, vid in self._versions_of(spec):
                is_current = version == spec.current
                age = 0 if is_current else 150
                for rid, set_name in req_set.items():
                    title = titles[rid]
                    cell = forced.get((spec.key, title)) if is_current else None
                    if cell is None and spec.profile == "new" and self.rng.random() < 0.55:
                        continue
                    row = self._status_row(spec, version, vid, rid, set_name, signers, age, cell, title)
                    if is_current:
                        self.status_ids[(spec.key, title)] = row["id"]
                    rows.append(row)
        insert_rows(self.conn, table_of(RequirementStatus), rows)

    def _set_signers(self) -> dict[str, list[str]]:
        _requirements, sets = requirement_catalog()
        result: dict[str, list[str]] = {}
        for s in sets:
            result[s.name] = [p.username for p in cat.PEOPLE if set(p.groups) & set(s.signer_groups)]
        return result

    def _status_row(
        self,
        spec: cat.CompSpec,
        version: str,
        vid: int,
        rid: int,
        set_name: str,
        signers: Mapping[str, list[str]],
        age: int,
        cell: Sequence[Any] | None,
        title: str,
    ) -> dict[str, Any]:
        rng = self.rng
        if cell is not None:
            owner, signee, owner_notes, signee_notes, signed_days = cell
            signee_at = days_before(signed_days, hour=3) if signed_days is not None else None
            owner_at = (signee_at or days_before(20)) - timedelta(days=5) if owner != "unknown" else None
        else:
            weights = self._OWNER_WEIGHTS[spec.profile]
            owner = rng.choices(list(weights), list(weights.values()))[0]
            sw = self._SIGNEE_WEIGHTS[owner]
            signee = rng.choices(list(sw), list(sw.values()))[0]
            owner_notes = rng.choice(cat.OWNER_NOTES) if owner != "unknown" and rng.random() < 0.25 else None
            signee_notes = (
                rng.choice(cat.SIGNEE_NOTES) if signee != "unknown" and rng.random() < 0.3 else None
            )
            owner_at = (
                days_before(age + rng.randint(30, 300), hour=rng.randint(0, 9))
                if owner != "unknown"
                else None
            )
            signee_at = None
            if signee != "unknown":
                start = owner_at or days_before(age + 200)
                signee_at = min(start + timedelta(days=rng.randint(1, 25)), days_before(1))
        signer = self._FORCED_SIGNEES.get((spec.key, title)) if cell is not None else None
        if signee != "unknown" and signer is None:
            signer = rng.choice(signers[set_name])
        evidence = None
        if signee == "ready" and (cell is not None or rng.random() < 0.3):
            evidence = f"{WIKI}/signoff/{spec.slug}/{quote(title.lower().replace(' ', '-'))}"
        stamp = max((t for t in (owner_at, signee_at) if t is not None), default=LOADED_AT)
        return {
            "id": self.ids.one(table_of(RequirementStatus)),
            "version_id": vid,
            "requirement_id": rid,
            "owner_status": owner,
            "owner_notes": owner_notes,
            "owner_by_id": self.people[self._maintainer(spec, version)] if owner != "unknown" else None,
            "owner_at": owner_at,
            "signee_status": signee,
            "signee_notes": signee_notes,
            "signee_by_id": self.people[signer] if signer else None,
            "signee_at": signee_at,
            "evidence_url": evidence,
            "row_version": 1,
            "created_at": LOADED_AT,
            "updated_at": max(stamp, LOADED_AT),
        }

    # --- tech radar ------------------------------------------------------------------------------

    def _radar(self) -> None:
        write_radar(self.conn, self.ids, created=LOADED_AT, moved=days_before(60))

    # --- history: later edits, each its own change set -------------------------------------------

    def _history(self) -> None:
        comp, ver, people = self.comp_ids, self.version_ids, self.people

        def edit(when: datetime, actor: str, summary: str, changes: list[dict[str, Any]]) -> None:
            cs_id = self._change_set(actor, actor, when, "ui", summary)
            for change in changes:
                self._event(cs_id, actor, when, action=change.pop("action", "update"), **change)

        def value(
            field: str, old: Any, new: Any, entity: str, entity_id: int, component: str
        ) -> dict[str, Any]:
            return {
                "entity": entity,
                "entity_id": entity_id,
                "component_id": comp[component],
                "field": field,
                "old_value": None if old is None else str(old),
                "new_value": None if new is None else str(new),
            }

        monolith, rabbit = comp["monolith"], comp["rabbit"]
        edit(
            days_before(417),
            "mchen",
            "Legacy Shop Monolith is legacy",
            [
                value("life_status", "mature", "legacy", "component", monolith, "monolith"),
            ],
        )
        edit(
            days_before(271),
            "goneill",
            "RabbitMQ is being replaced by Kafka",
            [
                value("life_status", "mature", "legacy", "component", rabbit, "rabbit"),
            ],
        )
        edit(
            days_before(214),
            "mchen",
            "Retirement of the monolith decided (ADR-021)",
            [
                value("life_status", "legacy", "eol", "component", monolith, "monolith"),
            ],
        )
        edit(
            days_before(167),
            "tbecker",
            "Owen Parker takes over Order Management",
            [
                value(
                    "maintainer_id",
                    people["eroberts"],
                    people["owner"],
                    "component_version",
                    ver[("orders", "10.0")],
                    "orders",
                ),
            ],
        )
        edit(
            days_before(132),
            "tbecker",
            "Payment Service 2.10 is current",
            [
                value(
                    "current_version_id",
                    ver[("payments", "2.9")],
                    ver[("payments", "2.10")],
                    "component",
                    comp["payments"],
                    "payments",
                ),
            ],
        )
        edit(
            days_before(123),
            "rortiz",
            "Product Catalog marked highly loaded",
            [
                value("highly_loaded", "false", "true", "component", comp["catalog"], "catalog"),
            ],
        )
        dep = self.dependency_ids[("checkout", "fraud", "weak_ro")]
        edit(
            days_before(90),
            "owner",
            "Checkout asks Fraud Detection for a risk score",
            [
                {
                    **value("component_id", None, comp["fraud"], "dependency", dep, "checkout"),
                    "action": "create",
                },
                {**value("type", None, "weak_ro", "dependency", dep, "checkout"), "action": "create"},
            ],
        )
        deployment = self.status_ids[("checkout", "Deployment")]
        edit(
            days_before(47, hour=3),
            "owner",
            "Checkout: deployment requirement ready",
            [
                value("owner_status", "not_ready", "ready", "requirement_status", deployment, "checkout"),
                value(
                    "owner_notes",
                    "Credentials still in the config map.",
                    "Helm chart reviewed; DB credentials from env (SHOP-2210).",
                    "requirement_status",
                    deployment,
                    "checkout",
                ),
                value("signee_status", "not_ready", "unknown", "requirement_status", deployment, "checkout"),
            ],
        )
        edit(
            days_before(42, hour=3),
            "kmueller",
            "Sign-off: Checkout deployment",
            [
                value("signee_status", "unknown", "ready", "requirement_status", deployment, "checkout"),
                value(
                    "signee_notes",
                    None,
                    "Checked in the production-readiness review.",
                    "requirement_status",
                    deployment,
                    "checkout",
                ),
            ],
        )
        logs = self.status_ids[("payments", "Logs sanitization")]
        edit(
            days_before(27, hour=3),
            "expert",
            "Declined: Payment Service logs sanitization",
            [
                value("signee_status", "unknown", "not_ready", "requirement_status", logs, "payments"),
                value(
                    "signee_notes",
                    None,
                    "Card holder names still appear in DEBUG logs: SEC-1432.",
                    "requirement_status",
                    logs,
                    "payments",
                ),
            ],
        )
        tax = self.status_ids[("tax", "Databases access")]
        edit(
            days_before(15, hour=3),
            "nsato",
            "Declined: Tax Calculator n/a on database access",
            [
                value("signee_status", "unknown", "not_ready", "requirement_status", tax, "tax"),
            ],
        )
        self._touch(
            Component,
            {
                monolith: days_before(214),
                rabbit: days_before(271),
                comp["payments"]: days_before(132),
                comp["catalog"]: days_before(123),
            },
        )
        self._touch(ComponentVersion, {ver[("orders", "10.0")]: days_before(167)})

    def _touch(self, model: type, stamps: Mapping[int, datetime]) -> None:
        table = table_of(model)
        self.conn.execute(
            update(table).where(table.c.id == bindparam("rid")).values(updated_at=bindparam("stamp")),
            [{"rid": rid, "stamp": at} for rid, at in stamps.items()],
        )


__all__ = ["SEED", "LoadResult", "load_demo"]
