"""Everything about one component version, for the component page: a handful of set-based queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, literal, select

from .. import models as m
from .. import scoring
from ..errors import NotFound
from ._util import frame
from .entities import list_audit, list_components, list_deployments, list_owners, list_versions
from .requirements import requirement_statuses
from .scoring_inputs import LINK_FIELDS, ROLE_FIELDS, ScoreInputs


@dataclass(frozen=True)
class ComponentDetail:
    component: dict[str, Any]
    version: dict[str, Any]
    versions: pd.DataFrame
    owners: pd.DataFrame
    stack: pd.DataFrame
    links: pd.DataFrame
    documents: pd.DataFrame
    qa: pd.DataFrame
    dependencies: pd.DataFrame
    dependents: pd.DataFrame
    deployments: pd.DataFrame
    requirements: pd.DataFrame
    set_statuses: pd.DataFrame
    scores: dict[str, Any]
    history: pd.DataFrame
    exclusions: pd.DataFrame = field(default_factory=pd.DataFrame)  # set_id, set_name, reason, by, at


def _stack(conn: Connection, version_id: int) -> pd.DataFrame:
    parts = []
    stacks: tuple[tuple[str, Any, Any, Any], ...] = (
        ("language", m.VersionLanguage, m.Language, m.VersionLanguage.language_id),
        ("framework", m.VersionFramework, m.Framework, m.VersionFramework.framework_id),
        ("database", m.VersionDatabase, m.DatabaseVendor, m.VersionDatabase.database_vendor_id),
        ("orm", m.VersionOrm, m.Orm, m.VersionOrm.orm_id),
        ("logger", m.VersionLogger, m.Logger, m.VersionLogger.logger_id),
        ("runtime", m.VersionRuntime, m.Runtime, m.VersionRuntime.runtime_id),
    )
    for kind, assoc, model, fk in stacks:
        parts.append(
            select(literal(kind).label("kind"), model.name.label("name"))
            .select_from(assoc)
            .join(model, model.id == fk)
            .where(assoc.version_id == version_id)
        )
    union = parts[0].union_all(*parts[1:])
    return frame(conn, union)


def component_detail(
    conn: Connection, component: int | str, *, version: str | None = None, now: datetime | None = None
) -> ComponentDetail:
    """The component (by id or case-insensitive name) at its current version, or at ``version``."""
    now = now or datetime.now(UTC)
    col = m.Component.id if isinstance(component, int | np.integer) else func.lower(m.Component.name)
    key = int(component) if isinstance(component, int | np.integer) else component.lower()
    comp_row = conn.execute(select(m.Component.id).where(col == key)).first()
    if comp_row is None:
        raise NotFound("component", component)
    component_id = int(comp_row[0])
    comp = list_components_one(conn, component_id)
    versions = list_versions(conn, component_id=component_id)
    if version is not None:
        chosen = versions[versions["version"].str.lower() == version.lower()]
        if chosen.empty:
            raise NotFound("version", version)
    else:
        chosen = versions[versions["is_current"]]
        if chosen.empty:
            chosen = versions.tail(1)
    if chosen.empty:
        ver: dict[str, Any] = {}
        vid = -1
    else:
        ver = chosen.iloc[0].to_dict()
        vid = int(ver["version_id"])

    links = frame(
        conn,
        select(m.VersionLink.kind, m.VersionLink.url)
        .where(m.VersionLink.version_id == vid)
        .order_by(m.VersionLink.kind, m.VersionLink.position),
    )
    documents = frame(
        conn,
        select(m.DocumentType.name.label("type"), m.DocumentLink.title, m.DocumentLink.url)
        .join(m.DocumentType, m.DocumentType.id == m.DocumentLink.document_type_id)
        .where(m.DocumentLink.version_id == vid),
    )
    qa_rows = frame(
        conn,
        select(
            m.QaLevel.kind,
            m.QaLevel.level,
            m.QaLevel.notes,
            m.Person.username.label("signed_off_by"),
            m.QaLevel.signed_off_at,
        )
        .outerjoin(m.Person, m.Person.id == m.QaLevel.signed_off_by_id)
        .where(m.QaLevel.version_id == vid),
    ).set_index("kind")
    qa = qa_rows.reindex(list(scoring.QA_KINDS))
    qa["level"] = qa["level"].astype(object).fillna("unknown")
    qa = qa.reset_index().rename(columns={"index": "kind"})
    dst, src = m.Component, m.Component
    deps = frame(
        conn,
        select(dst.name.label("component"), m.Dependency.type, m.Dependency.notes)
        .join(dst, dst.id == m.Dependency.component_id)
        .where(m.Dependency.version_id == vid)
        .order_by(func.lower(dst.name)),
    )
    dependents = frame(
        conn,
        select(src.name.label("component"), m.Dependency.type, m.Dependency.notes)
        .join(src, src.current_version_id == m.Dependency.version_id)
        .where(m.Dependency.component_id == component_id)
        .order_by(func.lower(src.name)),
    )
    reqs = requirement_statuses(conn, version_ids=[vid], now=now) if vid > 0 else pd.DataFrame()
    owners = list_owners(conn, version_ids=[vid])
    exclusions = frame(
        conn,
        select(
            m.SetExclusion.set_id,
            m.RequirementSet.name.label("set_name"),
            m.SetExclusion.reason,
            m.Person.username.label("excluded_by"),
            m.SetExclusion.excluded_at,
        )
        .join(m.RequirementSet, m.RequirementSet.id == m.SetExclusion.set_id)
        .outerjoin(m.Person, m.Person.id == m.SetExclusion.excluded_by_id)
        .where(m.SetExclusion.version_id == vid),
    )
    stack = _stack(conn, vid)
    scores: dict[str, Any] = {}
    set_status = pd.DataFrame(columns=["set_id", "set_name", "set_status"])
    if vid > 0:
        inputs = _score_inputs(ver, owners, stack, links, qa, reqs, exclusions)
        scored = scoring.score_versions(
            profile=inputs.profile,
            qa_levels=inputs.qa_levels,
            pairs=inputs.pairs,
            statuses=inputs.statuses,
            now=now,
        )
        scores = scored.iloc[0].to_dict()
        set_status = scoring.set_statuses(inputs.pairs, inputs.statuses, inputs.excluded, now=now)
        names = dict(conn.execute(select(m.RequirementSet.id, m.RequirementSet.name)).all())
        set_status["set_name"] = set_status["set_id"].map(names)
    return ComponentDetail(
        component=comp,
        version=ver,
        versions=versions,
        owners=owners,
        stack=stack,
        links=links,
        documents=documents,
        qa=qa,
        dependencies=deps,
        dependents=dependents,
        deployments=list_deployments(conn, version_id=vid),
        requirements=reqs,
        set_statuses=set_status,
        scores=scores,
        history=list_audit(conn, component_id=component_id, limit=500),
        exclusions=exclusions,
    )


def list_components_one(conn: Connection, component_id: int) -> dict[str, Any]:
    """One component row with reference names and tags (the columns of ``list_components``)."""
    return dict(list_components(conn, component_id=component_id).iloc[0].to_dict())


def _score_inputs(
    ver: dict[str, Any],
    owners: pd.DataFrame,
    stack: pd.DataFrame,
    links: pd.DataFrame,
    qa: pd.DataFrame,
    reqs: pd.DataFrame,
    exclusions: pd.DataFrame,
) -> ScoreInputs:
    """The scorer's inputs for one version, from the frames the page reads anyway (no more queries)."""
    vid = int(ver["version_id"])
    field: dict[str, Any] = {f: [] for f in ROLE_FIELDS.values()}
    for role, username in zip(owners["role"], owners["username"], strict=True):
        field[ROLE_FIELDS[role]].append(username)
    field["languages"] = list(stack.loc[stack["kind"] == "language", "name"])
    for kind, name in LINK_FIELDS.items():
        field[name] = list(links.loc[links["kind"] == kind, "url"])
    field["api_is_public"] = ver.get("api_is_public")
    field["qa_applicable"] = bool(ver.get("qa_applicable", True))
    profile = pd.DataFrame({k: [v] for k, v in field.items()}, index=pd.Index([vid], name="version_id"))
    qa_levels = pd.DataFrame({"version_id": vid, "kind": qa["kind"], "level": qa["level"]})
    applicable = reqs[~reqs["excluded"]]
    pairs = applicable[
        [
            "version_id",
            "set_id",
            "set_name",
            "set_position",
            "requirement_id",
            "requirement",
            "requirement_position",
        ]
    ].rename(columns={"requirement": "requirement_title"})
    pairs = pairs.assign(validity_days=applicable["validity_days"].astype("float64"))
    recorded = reqs[reqs["status_id"].notna()].drop_duplicates("requirement_id")
    statuses = pd.DataFrame(
        {
            "version_id": recorded["version_id"],
            "requirement_id": recorded["requirement_id"],
            "owner_status": recorded["owner_status"],
            "signee_status": recorded["signee_status"],
            "signee_at": pd.to_datetime(recorded["signee_at"], utc=True).dt.tz_localize(None),
        }
    )
    excluded = pd.DataFrame({"version_id": vid, "set_id": exclusions["set_id"].astype("int64")})
    return ScoreInputs(profile, qa_levels, pairs.reset_index(drop=True), statuses, excluded)
