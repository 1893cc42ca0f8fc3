"""Set-based reads returning pandas DataFrames: ``fn(connection, *, filters) -> DataFrame``."""

from .entities import (
    data_version,
    list_audit,
    list_components,
    list_dependencies,
    list_deployments,
    list_endpoints,
    list_groups,
    list_owners,
    list_people,
    list_qa_levels,
    list_radar,
    list_reference,
    list_requirement_sets,
    list_requirements,
    list_versions,
)
from .overview import OverviewFilters, apply_filters, components_overview
from .scoring_inputs import ScoreInputs, score_inputs

__all__ = [
    "OverviewFilters",
    "ScoreInputs",
    "apply_filters",
    "components_overview",
    "data_version",
    "list_audit",
    "list_components",
    "list_dependencies",
    "list_deployments",
    "list_endpoints",
    "list_owners",
    "list_people",
    "list_qa_levels",
    "list_radar",
    "list_groups",
    "list_reference",
    "list_requirement_sets",
    "list_requirements",
    "list_versions",
    "score_inputs",
]
