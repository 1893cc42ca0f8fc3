"""The component page's data path: :func:`component_page_data` turns the (cached) component detail
into display-ready pieces, so the page only lays them out. Its uncached cost is one
``component_detail`` plus one photo query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from natsort import natsorted

from panopticum_data import services
from panopticum_data.enums import DEPENDENCY_LABELS, LIFE_STATUS_LABELS, OWNER_ROLES
from panopticum_data.errors import InvalidValue
from panopticum_data.queries.detail import ComponentDetail

from . import actions, cached
from .style import LEVEL_STARS, LINK_KINDS, component_href, mark, safe_url

ROLE_LABELS = {
    "maintainer": "Maintainer",
    "responsible_qa": "Responsible QA",
    "product_manager": "Product managers",
    "program_manager": "Program managers",
    "escalation": "Escalation list",
    "expert": "Experts",
    "architect": "Architects",
}
STACK_LABELS = {
    "language": "Languages",
    "framework": "Frameworks",
    "database": "Databases",
    "orm": "ORMs",
    "logger": "Loggers",
    "runtime": "Runtimes",
}
QA_LABELS = {
    "manual": "Manual",
    "unit": "Unit",
    "e2e": "End-to-end",
    "performance": "Performance",
    "longhaul": "Long-haul",
    "security": "Security",
    "api": "API",
    "anonymisation": "DB anonymisation",
    "upgrade": "Upgrade",
}


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    photo: bytes | None


@dataclass(frozen=True)
class Link:
    kind: str
    label: str
    icon: str
    url: str
    text: str


@dataclass(frozen=True)
class SetCard:
    name: str
    status: str
    excluded_reason: str | None
    rows: pd.DataFrame  # requirement, owner, owner_by, signee, signee_by, overall, notes, evidence


@dataclass(frozen=True)
class ComponentPage:
    component: dict[str, Any]
    version: dict[str, Any]
    versions: list[str]  # natural order
    current_version: str | None
    facts: list[tuple[str, str]]  # (label, value) for the header
    owners: list[tuple[str, list[Person]]]  # role label -> people, in role order
    stack: list[tuple[str, list[str]]]
    links: list[Link]
    documents: list[Link]
    qa_applicable: bool
    qa: pd.DataFrame
    dependencies: pd.DataFrame
    dependents: pd.DataFrame
    deployments: pd.DataFrame
    sets: list[SetCard]
    scores: dict[str, Any]
    history: pd.DataFrame


def component_page_data(name: str, version: str | None = None) -> ComponentPage | None:
    """Everything the component page shows; None when the component (or that version) is unknown."""
    url, data_version = cached.key()
    detail = cached.detail(url, data_version, name, version or None)
    if detail is None:
        return None
    usernames = tuple(sorted(set(detail.owners["username"].dropna())))
    return build_page(detail, cached.photos(url, data_version, usernames))


def build_page(detail: ComponentDetail, photos: dict[str, bytes]) -> ComponentPage:
    """Display-ready pieces of a component detail. The frames are small (one version), so this
    works on plain records: cheaper than pandas for a few dozen rows."""
    comp, ver = detail.component, detail.version
    versions = detail.versions.to_dict("records")
    current = [str(v["version"]) for v in versions if v["is_current"]]
    stack: dict[str, list[str]] = {}
    for row in detail.stack.to_dict("records"):
        stack.setdefault(str(row["kind"]), []).append(str(row["name"]))
    return ComponentPage(
        component=comp,
        version=ver,
        versions=natsorted(str(v["version"]) for v in versions),
        current_version=current[0] if current else None,
        facts=_facts(comp, ver),
        owners=_owners(detail.owners, photos),
        stack=[
            (label, sorted(stack[kind], key=str.lower))
            for kind, label in STACK_LABELS.items()
            if kind in stack
        ],
        links=_links(detail.links),
        documents=[
            Link(
                "document",
                _text(r["title"]) or _text(r["type"]),
                ":material/description:",
                u,
                _text(r["type"]),
            )
            for r in detail.documents.to_dict("records")
            if (u := safe_url(r["url"]))
        ],
        qa_applicable=bool(ver.get("qa_applicable", True)) if ver else True,
        qa=_qa(detail.qa),
        dependencies=_edges(detail.dependencies),
        dependents=_edges(detail.dependents),
        deployments=_deployments(detail.deployments),
        sets=_sets(detail.requirements, detail.set_statuses),
        scores=detail.scores,
        history=_history(detail.history),
    )


def _text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _facts(comp: dict[str, Any], ver: dict[str, Any]) -> list[tuple[str, str]]:
    kloc = ver.get("code_kloc") if ver else None
    category = " / ".join(p for p in (_text(comp.get("category")), _text(comp.get("subcategory"))) if p)
    facts = [
        (
            "Life status",
            LIFE_STATUS_LABELS.get(_text(comp.get("life_status")), _text(comp.get("life_status"))),
        ),
        ("Type", _text(comp.get("type"))),
        ("Category", category),
        ("Vendor", _text(comp.get("vendor"))),
        ("Data privacy", _text(comp.get("privacy_class"))),
        ("Highly loaded", "yes" if comp.get("highly_loaded") else ""),
        ("API is public", _text(ver.get("api_is_public")) if ver else ""),
        ("Code size", f"{kloc:g} KLOC" if _text(kloc) else ""),
    ]
    return [(label, value) for label, value in facts if value]


def _owners(owners: pd.DataFrame, photos: dict[str, bytes]) -> list[tuple[str, list[Person]]]:
    by_role: dict[str, list[Person]] = {}
    for r in owners.to_dict("records"):
        username = str(r["username"])
        person = Person(username, _text(r["name"]) or username, photos.get(username.lower()))
        by_role.setdefault(str(r["role"]), []).append(person)
    return [
        (ROLE_LABELS[role], sorted(by_role[role], key=lambda p: p.name.lower()))
        for role in OWNER_ROLES
        if role in by_role
    ]


def _links(links: pd.DataFrame) -> list[Link]:
    by_kind: dict[str, list[str]] = {}
    for r in links.to_dict("records"):
        by_kind.setdefault(str(r["kind"]), []).append(r["url"])
    out = []
    for kind, (label, icon) in LINK_KINDS.items():
        for raw in by_kind.get(kind, []):
            url = safe_url(raw)
            if url:
                out.append(Link(kind, label, icon, url, urlsplit(url).netloc or url))
    return out


def _level(level: str) -> str:
    stars = LEVEL_STARS.get(level, level)
    return f"{stars}  {level}" if stars != level and level not in ("n/a", "unknown") else stars


def _qa(qa: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "test": QA_LABELS.get(r["kind"], r["kind"]),
            "level": _level(str(r["level"])),
            "notes": _text(r["notes"]),
            "signed_off_by": _text(r["signed_off_by"]),
            "signed_off_at": None
            if not _text(r["signed_off_at"])
            else pd.Timestamp(r["signed_off_at"]).date(),
        }
        for r in qa.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["test", "level", "notes", "signed_off_by", "signed_off_at"])


def _edges(edges: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "component": component_href(str(r["component"])),
            "type": DEPENDENCY_LABELS.get(r["type"], r["type"]),
            "notes": _text(r["notes"]),
        }
        for r in edges.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["component", "type", "notes"])


DEPLOYMENT_COLUMNS = {
    "product": "product_version",
    "family": "product_family",
    "location": "location_class",
    "environment": "environment",
    "runtime": "runtime",
    "service": "service_name",
    "binary": "binary_name",
}


def _deployments(deps: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in deps.to_dict("records"):
        row = {out: _text(r[col]) for out, col in DEPLOYMENT_COLUMNS.items()}
        row["ports"] = ", ".join(str(p) for p in (r["ports"] or []))
        row["new"] = bool(r["is_new"]) if _text(r["is_new"]) else False
        row["notes"] = _text(r["notes"])
        rows.append(row)
    return pd.DataFrame(rows, columns=[*DEPLOYMENT_COLUMNS, "ports", "new", "notes"])


def _notes(owner: Any, signee: Any) -> str:
    parts = []
    if _text(owner):
        parts.append(f"Owner: {_text(owner)}")
    if _text(signee):
        parts.append(f"Signee: {_text(signee)}")
    return "  ·  ".join(parts)


SET_COLUMNS = ["requirement", "owner", "owner_by", "signee", "signee_by", "overall", "notes", "evidence"]


def _sets(reqs: pd.DataFrame, set_statuses: pd.DataFrame) -> list[SetCard]:
    status_by_set = {int(r["set_id"]): str(r["set_status"]) for r in set_statuses.to_dict("records")}
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in reqs.to_dict("records"):
        grouped.setdefault(int(r["set_id"]), []).append(r)
    cards = []
    for set_id, rows in sorted(grouped.items(), key=lambda kv: (kv[1][0]["set_position"], kv[0])):
        rows.sort(key=lambda r: r["requirement_position"])
        excluded = all(bool(r["excluded"]) for r in rows)
        reasons = [_text(r["excluded_reason"]) for r in rows if _text(r["excluded_reason"])]
        table = [
            {
                "requirement": _text(r["requirement"]),
                "owner": mark(r["owner_status"]),
                "owner_by": _text(r["owner_by"]),
                "signee": mark(r["signee_status"]) + (" (expired)" if r["expired"] else ""),
                "signee_by": _text(r["signee_by"]),
                "overall": mark(r["overall"]),
                "notes": _notes(r["owner_notes"], r["signee_notes"]),
                "evidence": safe_url(r["evidence_url"]),
            }
            for r in rows
        ]
        cards.append(
            SetCard(
                name=_text(rows[0]["set_name"]),
                status="n/a" if excluded else status_by_set.get(set_id, "unknown"),
                excluded_reason=(reasons[0] if reasons else "not applicable") if excluded else None,
                rows=pd.DataFrame(table, columns=SET_COLUMNS),
            )
        )
    return cards


def _history(history: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "at": r["at"],
            "actor": _text(r["actor"]),
            "entity": _text(r["entity"]).replace("_", " "),
            "action": _text(r["action"]),
            "field": _text(r["field"]),
            "old": _text(r["old_value"]),
            "new": _text(r["new_value"]),
            "source": _text(r["source"]),
        }
        for r in history.to_dict("records")
    ]
    out = pd.DataFrame(rows, columns=["at", "actor", "entity", "action", "field", "old", "new", "source"])
    out["at"] = pd.to_datetime(out["at"], errors="coerce")
    return out


# --- writes from the page -------------------------------------------------------------------------------


def exclude_set(version_id: int, set_name: str, reason: str) -> actions.Outcome:
    """Mark the set as not applicable to this version (a reason is required here)."""
    if not reason.strip():
        return actions.Outcome(
            False, error=InvalidValue("reason", reason, "is required: say why the set does not apply")
        )
    return actions.perform(
        services.exclude_set, version_id=version_id, requirement_set=set_name, reason=reason.strip()
    )


def include_set(version_id: int, set_name: str) -> actions.Outcome:
    return actions.perform(services.include_set, version_id=version_id, requirement_set=set_name)
