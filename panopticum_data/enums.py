"""The domain's closed vocabularies (stored as strings with CHECK constraints)."""

from __future__ import annotations

from .scoring import (
    OWNER_STATUSES,
    QA_KINDS,
    QA_LEVELS,
    SIGNEE_STATUSES,
)  # one source for the scorer and the schema

LIFE_STATUSES = ("unknown", "new", "mature", "legacy", "eol", "eos")
LIFE_STATUS_LABELS = {
    "unknown": "?",
    "new": "New",
    "mature": "Mature",
    "legacy": "Legacy",
    "eol": "End of life",
    "eos": "End of support",
}

DEPENDENCY_TYPES = ("strong_rw", "strong_ro", "strong_wo", "weak_rw", "weak_ro", "weak_wo", "compile_time")
DEPENDENCY_LABELS = {
    "strong_rw": "Runtime - strong - R/W",
    "strong_ro": "Runtime - strong - R/O",
    "strong_wo": "Runtime - strong - W/O",
    "weak_rw": "Runtime - weak - R/W",
    "weak_ro": "Runtime - weak - R/O",
    "weak_wo": "Runtime - weak - W/O",
    "compile_time": "Compile time",
}

OWNER_ROLES = (
    "maintainer",
    "responsible_qa",
    "product_manager",
    "program_manager",
    "escalation",
    "expert",
    "architect",
)
SINGLE_OWNER_ROLES = ("maintainer", "responsible_qa")
MULTI_OWNER_ROLES = ("product_manager", "program_manager", "escalation", "expert", "architect")

API_PUBLIC = ("unknown", "n/a", "no", "partial", "yes")


LINK_KINDS = (
    "api_spec",
    "repository",
    "public_repository",
    "issue_tracker",
    "build_job",
    "docs",
    "public_docs",
    "metrics",
    "logs",
)


ACCESS_ROLES = ("admin", "editor", "viewer")

RADAR_MOVES = (-1, 0, 1)

__all__ = [
    "ACCESS_ROLES",
    "API_PUBLIC",
    "DEPENDENCY_LABELS",
    "DEPENDENCY_TYPES",
    "LIFE_STATUSES",
    "LIFE_STATUS_LABELS",
    "LINK_KINDS",
    "MULTI_OWNER_ROLES",
    "OWNER_ROLES",
    "OWNER_STATUSES",
    "QA_KINDS",
    "QA_LEVELS",
    "RADAR_MOVES",
    "SIGNEE_STATUSES",
    "SINGLE_OWNER_ROLES",
]
