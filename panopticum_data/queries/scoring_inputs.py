"""Row-level inputs of ``scoring.score_versions`` for a chosen set of versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from .. import models as m
from ._util import frame
from .entities import list_owners, list_requirements

ROLE_FIELDS = {
    "maintainer": "maintainer",
    "responsible_qa": "responsible_qa",
    "product_manager": "product_managers",
    "program_manager": "program_managers",
    "escalation": "escalation_list",
    "expert": "experts",
    "architect": "architects",
}
LINK_FIELDS = {
    "api_spec": "api_spec",
    "repository": "repository",
    "issue_tracker": "issue_tracker",
    "docs": "docs",
}


@dataclass(frozen=True)
class ScoreInputs:
    profile: pd.DataFrame
    qa_levels: pd.DataFrame
    pairs: pd.DataFrame
    statuses: pd.DataFrame
    excluded: pd.DataFrame


def score_inputs(
    conn: Connection, *, version_ids: Sequence[int], reqs: pd.DataFrame | None = None
) -> ScoreInputs:
    """Everything ``score_versions`` needs for these versions, in six set-based queries."""
    ids = [int(v) for v in version_ids]
    reqs = list_requirements(conn) if reqs is None else reqs
    versions = frame(
        conn,
        select(
            m.ComponentVersion.id.label("version_id"),
            m.ComponentVersion.api_is_public,
            m.ComponentVersion.qa_applicable,
        ).where(m.ComponentVersion.id.in_(ids)),
    ).set_index("version_id")
    profile = pd.DataFrame(index=pd.Index(ids, name="version_id"))
    owners = list_owners(conn, version_ids=ids)
    for role, field in ROLE_FIELDS.items():
        names = owners[owners["role"] == role].groupby("version_id")["username"].agg(list)
        profile[field] = names.reindex(profile.index).map(lambda v: v if isinstance(v, list) else [])
    langs = frame(
        conn,
        select(m.VersionLanguage.version_id, m.Language.name)
        .join(m.Language, m.Language.id == m.VersionLanguage.language_id)
        .where(m.VersionLanguage.version_id.in_(ids)),
    )
    profile["languages"] = (
        langs.groupby("version_id")["name"]
        .agg(list)
        .reindex(profile.index)
        .map(lambda v: v if isinstance(v, list) else [])
    )
    links = frame(
        conn,
        select(m.VersionLink.version_id, m.VersionLink.kind, m.VersionLink.url).where(
            m.VersionLink.version_id.in_(ids)
        ),
    )
    for kind, field in LINK_FIELDS.items():
        urls = links[links["kind"] == kind].groupby("version_id")["url"].agg(list)
        profile[field] = urls.reindex(profile.index).map(lambda v: v if isinstance(v, list) else [])
    profile["api_is_public"] = versions["api_is_public"].reindex(profile.index)
    profile["qa_applicable"] = versions["qa_applicable"].reindex(profile.index).fillna(True).astype(bool)

    qa_levels = frame(
        conn,
        select(m.QaLevel.version_id, m.QaLevel.kind, m.QaLevel.level).where(m.QaLevel.version_id.in_(ids)),
    )
    excluded = frame(
        conn,
        select(m.SetExclusion.version_id, m.SetExclusion.set_id).where(m.SetExclusion.version_id.in_(ids)),
    )
    pairs = pd.DataFrame({"version_id": ids}).merge(reqs, how="cross")
    if len(excluded):
        keys = pairs.merge(excluded.assign(_x=True), on=["version_id", "set_id"], how="left")["_x"]
        pairs = pairs[keys.isna().to_numpy()]
    pairs = pairs[
        [
            "version_id",
            "set_id",
            "set_name",
            "set_position",
            "requirement_id",
            "title",
            "requirement_position",
            "validity_days",
        ]
    ].rename(columns={"title": "requirement_title"})
    pairs["validity_days"] = pairs["validity_days"].astype("float64")
    statuses = frame(
        conn,
        select(
            m.RequirementStatus.version_id,
            m.RequirementStatus.requirement_id,
            m.RequirementStatus.owner_status,
            m.RequirementStatus.signee_status,
            m.RequirementStatus.signee_at,
        ).where(m.RequirementStatus.version_id.in_(ids)),
    )
    statuses["signee_at"] = pd.to_datetime(statuses["signee_at"], utc=True).dt.tz_localize(None)
    return ScoreInputs(profile, qa_levels, pairs.reset_index(drop=True), statuses, excluded)
