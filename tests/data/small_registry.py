"""A small registry written row by row with the ORM, for checking reads against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from panopticum_data import models as m
from panopticum_data.db import session_scope

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def build(engine: Engine, *, extra_components: int = 0, undated: bool = False) -> dict[str, Any]:
    """Sets A (r1, r2, r3), B (r3, r4; verdicts valid 30 days), C (r5), D (empty). r3 is in A and B.
    alpha excludes D; delta excludes B (so its 45-day-old r3 verdict counts, through A)."""
    ids: dict[str, Any] = {}
    with session_scope(engine) as s:
        cat = m.Category(name="Core", position=1)
        typ = m.ComponentType(name="Web Service", position=1)
        lang = m.Language(name="Python")
        pf = m.ProductFamily(name="Cloud")
        loc = m.LocationClass(name="Cloud DC", position=1)
        s.add_all([cat, typ, lang, pf, loc])
        s.flush()
        pv = m.ProductVersion(name="Cloud 1", family_id=pf.id, position=1)
        tag = m.Tag(name="payments")
        s.add_all([pv, tag])
        people = [m.Person(username=f"p{i}", first_name=f"P{i}", last_name="Person") for i in range(3)]
        s.add_all(people)
        sets = [
            m.RequirementSet(name="A", position=1),
            m.RequirementSet(name="B", position=2, validity_days=30),
            m.RequirementSet(name="C", position=3),
            m.RequirementSet(name="D", position=4),  # no requirements yet
        ]
        reqs = [m.Requirement(title=f"r{i}", description=f"requirement {i}") for i in range(1, 6)]
        s.add_all(sets + reqs)
        s.flush()
        membership = {0: [0, 1, 2], 1: [2, 3], 2: [4]}
        for si, ris in membership.items():
            for pos, ri in enumerate(ris):
                s.add(m.RequirementSetItem(set_id=sets[si].id, requirement_id=reqs[ri].id, position=pos))
        ids["sets"] = [x.id for x in sets]
        ids["reqs"] = [x.id for x in reqs]
        ids["components"] = {}
        specs = [
            # name, qa_applicable, statuses {req index: (owner, signee, signee age days)}, excluded set index
            (
                "alpha",
                True,
                {
                    0: ("ready", "ready", 1),
                    1: ("n/a", "ready", 1),
                    2: ("ready", "ready", 45),
                    3: ("ready", "ready", 2),
                    4: ("ready", "unknown", None),
                },
                None,
            ),
            ("beta", False, {0: ("not_ready", "unknown", None), 2: ("n/a", "unknown", None)}, None),
            ("gamma", True, {}, None),
            (
                "delta",
                True,
                {
                    0: ("ready", "ready", 1),
                    1: ("ready", "not_ready", 1),
                    2: ("ready", "ready", 45),
                    4: ("ready", "ready", 3),
                },
                1,
            ),
        ]
        specs += [(f"extra{i}", True, {0: ("ready", "ready", 1)}, None) for i in range(extra_components)]
        if undated:  # a verdict with no date under B's 30-day validity: its age is unknown, so it expired
            specs.append(("epsilon", True, {2: ("ready", "ready", 1), 3: ("ready", "ready", None)}, None))
        for name, qa_applicable, statuses, excluded in specs:
            comp = m.Component(
                name=name, category_id=cat.id, type_id=typ.id, description=f"The {name} service"
            )
            s.add(comp)
            s.flush()
            ver = m.ComponentVersion(component_id=comp.id, version="1.0", qa_applicable=qa_applicable)
            s.add(ver)
            s.flush()
            comp.current_version_id = ver.id
            ids["components"][name] = (comp.id, ver.id)
            _profile(s, name, ver, people, lang)
            for ri, (owner, signee, age) in statuses.items():
                s.add(
                    m.RequirementStatus(
                        version_id=ver.id,
                        requirement_id=reqs[ri].id,
                        owner_status=owner,
                        signee_status=signee,
                        signee_at=None if age is None else NOW - timedelta(days=age),
                    )
                )
            if excluded is not None:
                s.add(m.SetExclusion(version_id=ver.id, set_id=sets[excluded].id, reason="not a service"))
            if name == "alpha":
                s.add(m.SetExclusion(version_id=ver.id, set_id=sets[3].id, reason="nothing to sign yet"))
            if name == "alpha":
                s.add(m.ComponentTag(component_id=comp.id, tag_id=tag.id))
                s.flush()
                s.add(
                    m.Deployment(
                        version_id=ver.id, product_version_id=pv.id, location_class_id=loc.id, is_new=True
                    )
                )
    return ids


def _profile(
    s: Session, name: str, ver: m.ComponentVersion, people: list[m.Person], lang: m.Language
) -> None:
    if name == "alpha":  # every must field filled, QA: med×4, high×2, n/a, low, unknown → 8+6+3+1 = 18 points
        ver.maintainer_id, ver.responsible_qa_id, ver.api_is_public = people[0].id, people[1].id, "yes"
        for role in ("product_manager", "program_manager", "escalation", "expert", "architect"):
            s.add(m.VersionOwner(version_id=ver.id, role=role, person_id=people[2].id))
        s.add(m.VersionLanguage(version_id=ver.id, language_id=lang.id))
        for kind in ("api_spec", "repository", "issue_tracker", "docs"):
            s.add(m.VersionLink(version_id=ver.id, kind=kind, url=f"https://example.com/{kind}"))
        levels = ["med", "med", "med", "med", "high", "high", "n/a", "low", "unknown"]
        for kind, level in zip(
            (
                "manual",
                "unit",
                "e2e",
                "performance",
                "longhaul",
                "security",
                "api",
                "anonymisation",
                "upgrade",
            ),
            levels,
            strict=True,
        ):
            s.add(m.QaLevel(version_id=ver.id, kind=kind, level=level))
    elif name.startswith("delta"):
        ver.maintainer_id = people[1].id
        s.add(m.VersionOwner(version_id=ver.id, role="expert", person_id=people[0].id))
        s.add(m.QaLevel(version_id=ver.id, kind="unit", level="high"))
