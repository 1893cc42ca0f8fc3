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

from panopticum_data.enums import DEPENDENCY_LABELS, LIFE_STATUS_LABELS, OWNER_ROLES
from panopticum_data.queries.detail import ComponentDetail

from . import cached
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
    comp, ver = detail.component, detail.version
    versions = natsorted(detail.versions["version"].astype(str).tolist())
    current = detail.versions.loc[detail.versions["is_current"], "version"]
    return ComponentPage(
        component=comp,
        version=ver,
        versions=versions,
        current_version=str(current.iloc[0]) if len(current) else None,
        facts=_facts(comp, ver),
        owners=_owners(detail.owners, photos),
        stack=[
            (label, sorted(detail.stack.loc[detail.stack["kind"] == kind, "name"].astype(str), key=str.lower))
            for kind, label in STACK_LABELS.items()
            if (detail.stack["kind"] == kind).any()
        ],
        links=_links(detail.links),
        documents=[
            Link("document", str(r.title or r.type), ":material/description:", u, str(r.type))
            for r in detail.documents.itertuples()
            if (u := safe_url(r.url))
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
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _facts(comp: dict[str, Any], ver: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("Life status", LIFE_STATUS_LABELS.get(comp.get("life_status") or "", _text(comp.get("life_status")))),
        ("Type", _text(comp.get("type"))),
        ("Category", " / ".join(p for p in (_text(comp.get("category")), _text(comp.get("subcategory"))) if p)),
        ("Vendor", _text(comp.get("vendor"))),
        ("Data privacy", _text(comp.get("privacy_class"))),
        ("Highly loaded", "yes" if comp.get("highly_loaded") else ""),
        ("API is public", _text(ver.get("api_is_public")) if ver else ""),
        ("Code size", f"{ver['code_kloc']:g} KLOC" if ver and pd.notna(ver.get("code_kloc")) else ""),
    ]
    return [(label, value) for label, value in facts if value]


def _owners(owners: pd.DataFrame, photos: dict[str, bytes]) -> list[tuple[str, list[Person]]]:
    out = []
    for role in OWNER_ROLES:
        rows = owners[owners["role"] == role]
        if rows.empty:
            continue
        people = [
            Person(str(r.username), _text(r.name) or str(r.username), photos.get(str(r.username).lower()))
            for r in rows.itertuples()
        ]
        out.append((ROLE_LABELS[role], sorted(people, key=lambda p: p.name.lower())))
    return out


def _links(links: pd.DataFrame) -> list[Link]:
    out = []
    for kind, (label, icon) in LINK_KINDS.items():
        for raw in links.loc[links["kind"] == kind, "url"]:
            url = safe_url(raw)
            if url:
                parts = urlsplit(url)
                text = parts.netloc or url
                out.append(Link(kind, label, icon, url, text))
    return out


def _qa(qa: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(qa["signed_off_at"], errors="coerce")
    return pd.DataFrame(
        {
            "test": qa["kind"].map(lambda k: QA_LABELS.get(k, k)),
            "level": qa["level"].map(_level),
            "notes": qa["notes"].map(_text),
            "signed_off_by": qa["signed_off_by"].map(_text),
            "signed_off_at": when.dt.date,
        }
    )


def _level(level: str) -> str:
    stars = LEVEL_STARS.get(level, level)
    return f"{stars}  {level}" if stars != level and level not in ("n/a", "unknown") else stars


def _edges(edges: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "component": [component_href(str(n)) for n in edges["component"]],
            "type": edges["type"].map(lambda t: DEPENDENCY_LABELS.get(t, t)),
            "notes": edges["notes"].map(_text),
        }
    )


def _deployments(deps: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product": deps["product_version"],
            "family": deps["product_family"],
            "location": deps["location_class"],
            "environment": deps["environment"].map(_text),
            "runtime": deps["runtime"].map(_text),
            "service": deps["service_name"].map(_text),
            "binary": deps["binary_name"].map(_text),
            "ports": deps["ports"].map(lambda ps: ", ".join(str(p) for p in ps)),
            "new": deps["is_new"].fillna(False).astype(bool),
            "notes": deps["notes"].map(_text),
        }
    )


def _notes(owner: Any, signee: Any) -> str:
    parts = []
    if _text(owner):
        parts.append(f"Owner: {_text(owner)}")
    if _text(signee):
        parts.append(f"Signee: {_text(signee)}")
    return "  ·  ".join(parts)


def _sets(reqs: pd.DataFrame, set_statuses: pd.DataFrame) -> list[SetCard]:
    if reqs.empty:
        return []
    status_by_set = dict(zip(set_statuses["set_id"], set_statuses["set_status"], strict=True))
    cards = []
    for set_id, rows in reqs.sort_values(["set_position", "set_id", "requirement_position"]).groupby(
        "set_id", sort=False
    ):
        excluded = bool(rows["excluded"].all())
        signee = rows["signee_status"].map(mark) + rows["expired"].map(lambda e: " (expired)" if e else "")
        table = pd.DataFrame(
            {
                "requirement": rows["requirement"].astype(str),
                "owner": rows["owner_status"].map(mark),
                "owner_by": rows["owner_by"].map(_text),
                "signee": signee,
                "signee_by": rows["signee_by"].map(_text),
                "overall": rows["overall"].map(mark),
                "notes": [_notes(o, s) for o, s in zip(rows["owner_notes"], rows["signee_notes"], strict=True)],
                "evidence": rows["evidence_url"].map(safe_url),
            }
        ).reset_index(drop=True)
        reasons = [_text(r) for r in rows["excluded_reason"] if _text(r)]
        cards.append(
            SetCard(
                name=str(rows["set_name"].iloc[0]),
                status="n/a" if excluded else str(status_by_set.get(set_id, "unknown")),
                excluded_reason=(reasons[0] if reasons else "not applicable") if excluded else None,
                rows=table,
            )
        )
    return cards


def _history(history: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "at": pd.to_datetime(history["at"], errors="coerce"),
            "actor": history["actor"].map(_text),
            "entity": history["entity"].map(lambda e: _text(e).replace("_", " ")),
            "action": history["action"].map(_text),
            "field": history["field"].map(_text),
            "old": history["old_value"].map(_text),
            "new": history["new_value"].map(_text),
            "source": history["source"].map(_text),
        }
    )
