"""The domain's closed vocabularies (stored as strings with CHECK constraints)."""

from __future__ import annotations

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

QA_KINDS = ("manual", "unit", "e2e", "performance", "longhaul", "security", "api", "anonymisation", "upgrade")
QA_LEVELS = ("unknown", "n/a", "none", "low", "med", "high")

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

OWNER_STATUSES = ("unknown", "not_ready", "ready", "n/a")
SIGNEE_STATUSES = ("unknown", "not_ready", "ready")

ACCESS_ROLES = ("admin", "editor", "viewer")

RADAR_MOVES = (-1, 0, 1)
