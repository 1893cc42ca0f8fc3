"""Scores (SPEC §2 "Requirement statuses", §3): table-driven tests of panopticum_data.scoring.

No database: every input frame is built here. Cases marked "original bug" pin a defect of the
original Panopticum (reference/original-panopticum.md §2, §12 item 7) that we must not repeat.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from panopticum_data import scoring
from panopticum_data.scoring import (
    LEVEL_POINTS,
    MUST_FIELDS,
    OVERALL_STATUSES,
    QA_KINDS,
    QA_LEVELS,
    QA_MAX_POINTS,
    band,
    bands,
    expire_verdicts,
    filled_mask,
    is_filled,
    overall_status,
    qa_scores,
    score_versions,
    set_statuses,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FRESH = NOW - timedelta(days=1)
OLD = NOW - timedelta(days=40)  # beyond the Operations set's 30-day validity

# A small catalogue. Set ids and positions disagree on purpose: "Security" (id 2) comes first.
SETS: dict[int, tuple[str, int, float | None]] = {  # set_id: (name, position, validity_days)
    1: ("Operations", 2, 30.0),
    2: ("Security", 1, None),
}
SET_REQUIREMENTS = {1: [20, 10], 2: [10, 11]}  # in position order; "Threat model" is in both sets
TITLES = {10: "Threat model", 11: "Pen test", 20: "Runbook"}
OPERATIONS, SECURITY = 1, 2

FILLED: dict[str, object] = {
    "maintainer": "alice",
    "responsible_qa": "bob",
    "product_managers": ["carol"],
    "program_managers": ["dave"],
    "escalation_list": ["erin"],
    "experts": ["frank"],
    "architects": ["grace"],
    "languages": ["Python"],
    "api_spec": ["https://example.com/api.yaml"],
    "repository": ["https://git.example.com/x"],
    "issue_tracker": ["X"],
    "docs": ["https://docs.example.com/x"],
    "api_is_public": "yes",
}
DEMO_QA = ["med", "high", "low", "none", "med", "none", "med", "n/a", "n/a"]  # original demo: 16 points
ALL_HIGH = ["high"] * 9

PAIR_COLUMNS = [
    "version_id",
    "set_id",
    "set_name",
    "set_position",
    "requirement_id",
    "requirement_title",
    "requirement_position",
    "validity_days",
]
StatusRow = tuple[int, int, str | None, str | None, datetime | None]


def objects(values: Sequence[object]) -> pd.Series:
    """An object series holding the values as they are (lists stay lists)."""
    out = np.empty(len(values), dtype=object)
    for position, value in enumerate(values):
        out[position] = value
    return pd.Series(out, dtype=object)


def make_profile(overrides: Mapping[int, Mapping[str, object]]) -> pd.DataFrame:
    """One row per version: every must field filled and QA applicable, unless overridden."""
    ids = list(overrides)
    defaults = {**FILLED, "qa_applicable": True}
    columns = {
        name: objects([overrides[v].get(name, default) for v in ids]) for name, default in defaults.items()
    }
    frame = pd.DataFrame({name: column.to_numpy() for name, column in columns.items()})
    frame.index = pd.Index(ids, name="version_id")
    return frame


def make_qa(levels: Mapping[int, Sequence[str] | Mapping[str, str]]) -> pd.DataFrame:
    """QA rows: a sequence gives all nine kinds in QA_KINDS order, a mapping only some."""
    rows = []
    for version, given in levels.items():
        pairs = zip(QA_KINDS, given, strict=True) if isinstance(given, Sequence) else given.items()
        rows += [(version, kind, level) for kind, level in pairs]
    return pd.DataFrame(rows, columns=["version_id", "kind", "level"])


def make_pairs(applies: Mapping[int, Sequence[int]]) -> pd.DataFrame:
    """The catalogue's requirements of the sets that apply to each version."""
    rows = []
    for version, set_ids in applies.items():
        for set_id in set_ids:
            name, position, validity = SETS[set_id]
            for order, requirement in enumerate(SET_REQUIREMENTS[set_id], start=1):
                rows.append(
                    (version, set_id, name, position, requirement, TITLES[requirement], order, validity)
                )
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    return frame.astype({"validity_days": float})


def make_statuses(rows: Sequence[StatusRow]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [row[:4] for row in rows], columns=["version_id", "requirement_id", "owner_status", "signee_status"]
    )
    frame["signee_at"] = pd.Series([row[4] for row in rows], dtype="datetime64[ns, UTC]")
    return frame


def score_one(
    overrides: Mapping[str, object] | None = None,
    *,
    qa: Sequence[str] | Mapping[str, str] = ALL_HIGH,
    applies: Sequence[int] = (),
    statuses: Sequence[StatusRow] = (),
) -> pd.Series:
    """score_versions for a single version (id 1); returns its row."""
    result = score_versions(
        profile=make_profile({1: overrides or {}}),
        qa_levels=make_qa({1: qa}),
        pairs=make_pairs({1: applies}),
        statuses=make_statuses(statuses),
        now=NOW,
    )
    return result.loc[1]


# ---------------------------------------------------------------------------------------------------
# Constants


def test_constants() -> None:
    assert QA_MAX_POINTS == 27
    assert set(LEVEL_POINTS) == set(QA_LEVELS)
    assert dict(LEVEL_POINTS) == {"unknown": 0, "none": 0, "low": 1, "med": 2, "high": 3, "n/a": 3}
    assert len(MUST_FIELDS) == 13
    assert list(MUST_FIELDS)[:2] == ["maintainer", "responsible_qa"]
    assert MUST_FIELDS["api_is_public"] == "Links: API is public"
    assert set(scoring.SET_STATUSES) == {"ready", "waiting", "unknown", "not_ready", "n/a"}


# ---------------------------------------------------------------------------------------------------
# Overall status: the full truth table (owner × signee, None = no recorded status)

TRUTH_TABLE = [
    ("unknown", "unknown", "unknown"),
    ("unknown", "not_ready", "unknown"),
    ("unknown", "ready", "unknown"),
    ("unknown", None, "unknown"),
    ("not_ready", "unknown", "not_ready"),
    ("not_ready", "not_ready", "not_ready"),
    ("not_ready", "ready", "not_ready"),
    ("not_ready", None, "not_ready"),
    ("ready", "unknown", "waiting"),
    ("ready", "not_ready", "not_ready"),
    ("ready", "ready", "ready"),
    ("ready", None, "waiting"),
    ("n/a", "unknown", "waiting_na"),
    ("n/a", "not_ready", "not_ready"),
    ("n/a", "ready", "n/a"),
    ("n/a", None, "waiting_na"),
    (None, "unknown", "unknown"),
    (None, "not_ready", "unknown"),
    (None, "ready", "unknown"),
    (None, None, "unknown"),
]


@pytest.mark.parametrize(
    ("owner", "signee", "expected"),
    [pytest.param(*row, id=f"owner={row[0]}-signee={row[1]}") for row in TRUTH_TABLE],
)
def test_overall_status_truth_table(owner: str | None, signee: str | None, expected: str) -> None:
    assert overall_status(objects([owner]), objects([signee])).tolist() == [expected]


def test_overall_status_vectorised_keeps_index_and_accepts_string_dtype() -> None:
    index = pd.Index([f"v{i}" for i in range(len(TRUTH_TABLE))])
    owner = pd.Series([row[0] for row in TRUTH_TABLE], index=index, dtype="str")  # None -> NaN
    signee = pd.Series([row[1] for row in TRUTH_TABLE], index=index, dtype="str")
    result = overall_status(owner, signee)
    assert result.index.equals(index)
    assert result.tolist() == [row[2] for row in TRUTH_TABLE]
    assert set(result) <= set(OVERALL_STATUSES)


@pytest.mark.parametrize(
    ("owner", "signee", "message"),
    [
        pytest.param("done", "ready", "owner_status", id="unknown-owner-value"),
        pytest.param("ready", "n/a", "signee_status", id="signee-cannot-choose-na"),
    ],
)
def test_overall_status_rejects_values_outside_the_vocabulary(owner: str, signee: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        overall_status(objects([owner]), objects([signee]))


def test_overall_status_needs_one_index() -> None:
    with pytest.raises(ValueError, match="share one index"):
        overall_status(pd.Series(["ready"], index=[1]), pd.Series(["ready"], index=[2]))


# ---------------------------------------------------------------------------------------------------
# Expiry of sign-off verdicts


@pytest.mark.parametrize(
    ("signee", "age_days", "validity", "expected"),
    [
        pytest.param("ready", 10, 30.0, "ready", id="fresh-ready"),
        pytest.param("not_ready", 10, 30.0, "not_ready", id="fresh-not-ready"),
        pytest.param("ready", 31, 30.0, "unknown", id="expired-ready"),
        pytest.param("not_ready", 31, 30.0, "unknown", id="expired-not-ready"),
        pytest.param("ready", 30, 30.0, "ready", id="exactly-validity-still-valid"),
        pytest.param("ready", 3000, None, "ready", id="no-validity-never-expires"),
        pytest.param("unknown", 3000, 30.0, "unknown", id="unknown-stays-unknown"),
        pytest.param(None, 3000, 30.0, None, id="missing-stays-missing"),
        pytest.param("ready", None, 30.0, "unknown", id="undated-verdict-with-validity-expires"),
        pytest.param("ready", None, None, "ready", id="undated-verdict-without-validity-kept"),
    ],
)
def test_expire_verdicts(
    signee: str | None, age_days: int | None, validity: float | None, expected: str | None
) -> None:
    signee_at = None if age_days is None else NOW - timedelta(days=age_days)
    result = expire_verdicts(
        objects([signee]),
        signee_at=objects([signee_at]),
        validity_days=pd.Series([validity], dtype=float),
        now=NOW,
    )
    assert result.tolist() == [expected]


def test_expire_verdicts_compares_naive_and_aware_times_in_utc() -> None:
    naive_at = pd.Series([datetime(2026, 5, 1, 12, 0), datetime(2026, 5, 1, 11, 0)])  # naive = UTC
    result = expire_verdicts(
        pd.Series(["ready", "ready"]),
        signee_at=naive_at,
        validity_days=pd.Series([31.0, 31.0]),
        now=NOW,  # aware: exactly 31 days after the first, 31 days + 1 hour after the second
    )
    assert result.tolist() == ["ready", "unknown"]


# ---------------------------------------------------------------------------------------------------
# Filled fields

FILLED_CASES = [
    pytest.param(None, False, id="none"),
    pytest.param(math.nan, False, id="nan"),
    pytest.param(pd.NA, False, id="pd-na"),
    pytest.param("", False, id="empty-string"),
    pytest.param("   ", False, id="blank-string"),
    pytest.param("unknown", False, id="unknown"),
    pytest.param(" Unknown ", False, id="unknown-any-case-padded"),
    pytest.param("?", False, id="question-mark"),
    pytest.param([], False, id="empty-list (original bug: counted filled)"),
    pytest.param((), False, id="empty-tuple"),
    pytest.param(set(), False, id="empty-set"),
    pytest.param(np.array([]), False, id="empty-array"),
    pytest.param("alice", True, id="string"),
    pytest.param("n/a", True, id="n/a-is-an-answer"),
    pytest.param(["alice"], True, id="list"),
    pytest.param(("a",), True, id="tuple"),
    pytest.param(np.array(["a"]), True, id="array"),
    pytest.param(False, True, id="false-is-an-answer"),
    pytest.param(0, True, id="zero-is-an-answer"),
    pytest.param(1.5, True, id="float"),
]


@pytest.mark.parametrize(("value", "expected"), FILLED_CASES)
def test_is_filled(value: object, expected: bool) -> None:
    assert is_filled(value) is expected


@pytest.mark.parametrize(("value", "expected"), FILLED_CASES)
def test_filled_mask_agrees_with_is_filled_per_cell(value: object, expected: bool) -> None:
    frame = pd.DataFrame({"field": objects([value, "x"]).to_numpy()}, index=[7, 8])
    assert filled_mask(frame)["field"].tolist() == [expected, True]


def test_filled_mask_over_typed_columns() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array(["a", None, " ? ", "UNKNOWN"], dtype="str"),
            "flag": pd.array([True, False, None, True], dtype="boolean"),
            "number": [1.0, math.nan, 0.0, 2.0],
            "mixed": objects([["x"], [], "", False]).to_numpy(),
        },
        index=pd.Index([1, 2, 3, 4], name="version_id"),
    )
    result = filled_mask(frame)
    assert result.index.equals(frame.index)
    assert list(result.columns) == list(frame.columns)
    assert result.to_dict(orient="list") == {
        "text": [True, False, False, False],
        "flag": [True, True, False, True],
        "number": [True, False, True, True],
        "mixed": [True, False, False, True],
    }


def test_filled_mask_mixed_object_column_matches_is_filled() -> None:
    values = [case.values[0] for case in FILLED_CASES]
    frame = pd.DataFrame({"field": objects(values).to_numpy()})
    assert filled_mask(frame)["field"].tolist() == [is_filled(value) for value in values]


# ---------------------------------------------------------------------------------------------------
# QA score


@pytest.mark.parametrize(
    ("levels", "applicable", "points", "score"),
    [
        pytest.param(DEMO_QA, True, 16, 59, id="original-demo-my-idp-16-points-59"),
        pytest.param(ALL_HIGH, True, 27, 100, id="all-high"),
        pytest.param(["n/a"] * 9, True, 27, 100, id="all-na-count-as-full"),
        pytest.param(["none"] * 9, True, 0, 0, id="all-none"),
        pytest.param({}, True, 0, 0, id="no-rows-all-unknown"),
        pytest.param(
            {"manual": "high", "unit": "high", "e2e": "high"}, True, 9, 33, id="missing-kinds-unknown"
        ),
        pytest.param(["low"] * 9, True, 9, 33, id="floor-not-round"),
        pytest.param(DEMO_QA, False, 16, None, id="not-applicable-no-score"),
        pytest.param(DEMO_QA, None, 16, 59, id="null-applicable-counts-as-applicable"),
    ],
)
def test_qa_scores(
    levels: Sequence[str] | Mapping[str, str], applicable: bool | None, points: int, score: int | None
) -> None:
    result = qa_scores(make_qa({5: levels}), objects([applicable]).set_axis(pd.Index([5], name="version_id")))
    assert result.loc[5, "qa_points"] == points
    assert (None if pd.isna(result.loc[5, "qa_score"]) else result.loc[5, "qa_score"]) == score
    assert str(result["qa_score"].dtype) == "Int64"


def test_qa_scores_null_level_is_unknown_and_other_versions_are_ignored() -> None:
    qa = pd.DataFrame(
        {"version_id": [5, 5, 99], "kind": ["manual", "unit", "manual"], "level": ["high", None, "high"]}
    )
    result = qa_scores(qa, pd.Series([True], index=[5]))
    assert result["qa_points"].tolist() == [3]


@pytest.mark.parametrize(
    ("qa", "message"),
    [
        pytest.param({"version_id": [5], "kind": ["smoke"], "level": ["high"]}, "kind", id="unknown-kind"),
        pytest.param({"version_id": [5], "kind": ["unit"], "level": ["great"]}, "level", id="unknown-level"),
        pytest.param(
            {"version_id": [5, 5], "kind": ["unit"] * 2, "level": ["low"] * 2}, "more than one", id="dupe"
        ),
    ],
)
def test_qa_scores_rejects_bad_rows(qa: dict[str, list[object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qa_scores(pd.DataFrame(qa), pd.Series([True], index=[5]))


# ---------------------------------------------------------------------------------------------------
# Profile completeness


@dataclass(frozen=True)
class Case:
    overrides: Mapping[str, object] = field(default_factory=dict)
    qa: Sequence[str] | Mapping[str, str] = tuple(ALL_HIGH)
    applies: Sequence[int] = ()
    statuses: Sequence[StatusRow] = ()


M2M_FIELDS = ["product_managers", "program_managers", "escalation_list", "experts", "architects", "languages"]
EVERYTHING_EMPTY: dict[str, object] = {
    name: (None if name in ("maintainer", "responsible_qa", "api_is_public") else []) for name in FILLED
}


@pytest.mark.parametrize(
    ("case", "completeness", "missing"),
    [
        pytest.param(Case(), 100, [], id="all-filled"),
        pytest.param(
            Case(overrides=dict.fromkeys(M2M_FIELDS, [])),
            72,  # 16 / 22
            [MUST_FIELDS[name] for name in M2M_FIELDS],
            id="empty-lists-unfilled (original bug)",
        ),
        pytest.param(
            Case(
                overrides={
                    "maintainer": "  ",
                    "responsible_qa": "?",
                    "repository": None,
                    "docs": math.nan,
                    "api_is_public": "Unknown",
                }
            ),
            77,  # 17 / 22
            [
                "Owners: maintainer",
                "Owners: responsible QA",
                "Links: repository",
                "Links: docs",
                "Links: API is public",
            ],
            id="blank-markers-unfilled",
        ),
        pytest.param(Case(overrides={"api_is_public": "n/a"}), 100, [], id="api-public-na-is-an-answer"),
        pytest.param(
            Case(qa={"manual": "unknown", "unit": "n/a", "e2e": "none", "performance": "low"}),
            72,  # (13 + 3) / 22
            [
                f"QA: {kind} tests"
                for kind in ("manual", "longhaul", "security", "api", "anonymisation", "upgrade")
            ],
            id="qa-unknown-unfilled-na-and-none-answered",
        ),
        pytest.param(
            Case(overrides={"qa_applicable": False}, qa={}), 100, [], id="qa-not-applicable-not-expected"
        ),
        pytest.param(
            Case(applies=[SECURITY]),
            91,  # 22 / 24
            ["Security: Threat model", "Security: Pen test"],
            id="missing-status-rows-unfilled (original bug)",
        ),
        pytest.param(
            Case(
                applies=[SECURITY],
                statuses=[(1, 10, "unknown", None, None), (1, 11, "not_ready", None, None)],
            ),
            95,  # 23 / 24
            ["Security: Threat model"],
            id="owner-unknown-unfilled-not-ready-filled",
        ),
        pytest.param(
            Case(
                applies=[OPERATIONS, SECURITY],
                statuses=[
                    (1, 10, "ready", None, None),
                    (1, 11, "ready", None, None),
                    (1, 20, "n/a", None, None),
                ],
            ),
            100,  # 25 / 25: three distinct requirements, not four
            [],
            id="requirement-in-two-sets-counted-once (original bug)",
        ),
        pytest.param(
            Case(
                applies=[OPERATIONS, SECURITY],
                statuses=[(1, 11, "ready", None, None), (1, 20, "ready", None, None)],
            ),
            96,  # 24 / 25
            ["Security: Threat model"],  # named after its first set by position, not by id
            id="shared-requirement-missing-once-under-first-set",
        ),
        pytest.param(
            Case(overrides=EVERYTHING_EMPTY, qa={}, applies=[OPERATIONS, SECURITY]),
            0,
            [*MUST_FIELDS.values()]
            + [f"QA: {kind} tests" for kind in QA_KINDS]
            + ["Security: Threat model", "Security: Pen test", "Operations: Runbook"],
            id="nothing-filled-lists-everything-in-order",
        ),
    ],
)
def test_completeness(case: Case, completeness: int, missing: list[str]) -> None:
    row = score_one(case.overrides, qa=case.qa, applies=case.applies, statuses=case.statuses)
    assert row["completeness"] == completeness
    assert row["missing"] == missing


# ---------------------------------------------------------------------------------------------------
# Rating

NO_QA = {"qa_applicable": False}


@pytest.mark.parametrize(
    ("case", "rating", "unsigned", "signed", "applicable"),
    [
        pytest.param(
            Case(overrides=NO_QA, applies=[SECURITY]),
            0,  # the original gave 100
            ["Security: Threat model", "Security: Pen test"],
            0,
            2,
            id="missing-verdicts-not-signed (original bug)",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[SECURITY],
                statuses=[(1, 10, "ready", "unknown", FRESH), (1, 11, "n/a", None, None)],
            ),
            0,
            ["Security: Threat model", "Security: Pen test"],
            0,
            2,
            id="waiting-not-signed",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[SECURITY],
                statuses=[(1, 10, "ready", "ready", FRESH), (1, 11, "n/a", "ready", FRESH)],
            ),
            100,
            [],
            2,
            2,
            id="ready-and-approved-na-signed",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[SECURITY],
                statuses=[(1, 10, "ready", "not_ready", FRESH), (1, 11, "ready", "ready", FRESH)],
            ),
            50,
            ["Security: Threat model"],
            1,
            2,
            id="declined-not-signed",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[SECURITY],
                statuses=[(1, 10, "not_ready", "ready", FRESH), (1, 11, "ready", "ready", FRESH)],
            ),
            50,
            ["Security: Threat model"],
            1,
            2,
            id="owner-not-ready-overrides-stale-approval",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[OPERATIONS, SECURITY],
                statuses=[(1, r, "ready", "ready", FRESH) for r in (10, 11, 20)],
            ),
            100,  # 3 / 3, not 4 / 4
            [],
            3,
            3,
            id="requirement-in-two-sets-counted-once (original bug)",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[OPERATIONS, SECURITY],
                statuses=[
                    (1, 10, "ready", "ready", OLD),
                    (1, 11, "ready", "ready", FRESH),
                    (1, 20, "ready", "ready", FRESH),
                ],
            ),
            66,  # 2 / 3: expired under Operations' 30 days although Security's sign-off never expires
            ["Security: Threat model"],
            2,
            3,
            id="strictest-expiry-wins",
        ),
        pytest.param(
            Case(
                overrides=NO_QA,
                applies=[SECURITY],
                statuses=[(1, 10, "ready", "ready", OLD), (1, 11, "ready", "ready", OLD)],
            ),
            100,
            [],
            2,
            2,
            id="no-expiry-when-the-expiring-set-is-not-applicable",
        ),
        pytest.param(
            Case(qa=DEMO_QA, applies=[SECURITY], statuses=[(1, 10, "ready", "ready", FRESH)]),
            58,  # (1 + 16) / (2 + 27)
            ["Security: Pen test"],
            1,
            2,
            id="qa-points-included",
        ),
        pytest.param(
            Case(
                overrides=NO_QA, qa=DEMO_QA, applies=[SECURITY], statuses=[(1, 10, "ready", "ready", FRESH)]
            ),
            50,  # 1 / 2: QA left out
            ["Security: Pen test"],
            1,
            2,
            id="qa-not-applicable-left-out",
        ),
        pytest.param(Case(qa=DEMO_QA), 59, [], 0, 0, id="qa-only"),
        pytest.param(Case(overrides=NO_QA), None, [], 0, 0, id="nothing-to-rate-is-na"),
    ],
)
def test_rating(case: Case, rating: int | None, unsigned: list[str], signed: int, applicable: int) -> None:
    row = score_one(case.overrides, qa=case.qa, applies=case.applies, statuses=case.statuses)
    assert (None if pd.isna(row["rating"]) else row["rating"]) == rating
    assert row["unsigned"] == unsigned
    assert row["signed"] == signed
    assert row["applicable_requirements"] == applicable


def test_rating_uses_the_current_qa_points() -> None:
    """Original bug: the rating used the QA score of the previous recomputation."""
    statuses = [(1, 10, "ready", "ready", FRESH)]
    high = score_one(qa=ALL_HIGH, applies=[SECURITY], statuses=statuses)
    none = score_one(qa=["none"] * 9, applies=[SECURITY], statuses=statuses)
    high_again = score_one(qa=ALL_HIGH, applies=[SECURITY], statuses=statuses)
    assert (high["qa_points"], high["rating"]) == (27, 96)  # (1 + 27) / 29
    assert (none["qa_points"], none["rating"]) == (0, 3)  # (1 + 0) / 29
    assert high_again["rating"] == high["rating"]


# ---------------------------------------------------------------------------------------------------
# Set status

# How to record a requirement so that its overall status is the key ("missing" = no status row).
RECORDED: dict[str, tuple[str, str | None, datetime | None] | None] = {
    "ready": ("ready", "ready", FRESH),
    "n/a": ("n/a", "ready", FRESH),
    "waiting": ("ready", "unknown", None),
    "waiting_na": ("n/a", None, None),
    "not_ready": ("ready", "not_ready", FRESH),
    "unknown": ("unknown", None, None),
    "missing": None,
    "expired": ("ready", "ready", OLD),  # re-approval needed: back to waiting
}


def one_set(overalls: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Version 1 on one set (validity 30 days) whose requirements have the given overall statuses."""
    pairs = pd.DataFrame(
        [(1, 7, "Set", 1, 100 + i, f"R{i}", i, 30.0) for i in range(len(overalls))],
        columns=PAIR_COLUMNS,
    )
    recorded = [(i, RECORDED[overall]) for i, overall in enumerate(overalls)]
    statuses = make_statuses([(1, 100 + i, *row) for i, row in recorded if row is not None])
    return pairs, statuses


NO_EXCLUSIONS = pd.DataFrame({"version_id": [], "set_id": []})


@pytest.mark.parametrize(
    ("overalls", "expected"),
    [
        pytest.param(["ready", "ready"], "ready", id="all-ready"),
        pytest.param(["ready", "n/a"], "ready", id="ready-and-na"),
        pytest.param(["n/a"], "ready", id="all-na-is-ready"),
        pytest.param(["ready", "waiting"], "waiting", id="waiting"),
        pytest.param(["waiting_na", "ready"], "waiting", id="waiting-na-is-waiting"),
        pytest.param(["waiting", "ready"], "waiting", id="waiting-first-still-waiting (original bug)"),
        pytest.param(["waiting", "unknown", "ready"], "unknown", id="unknown-beats-waiting"),
        pytest.param(["missing", "ready"], "unknown", id="missing-status-row-is-unknown"),
        pytest.param(["unknown", "not_ready", "waiting"], "not_ready", id="not-ready-beats-all"),
        pytest.param(["ready", "expired"], "waiting", id="expired-sign-off-waits-for-re-approval"),
    ],
)
def test_set_status_precedence(overalls: list[str], expected: str) -> None:
    pairs, statuses = one_set(overalls)
    result = set_statuses(pairs, statuses, NO_EXCLUSIONS, now=NOW)
    assert result.to_dict(orient="records") == [{"version_id": 1, "set_id": 7, "set_status": expected}]


def test_set_status_exclusion() -> None:
    pairs, statuses = one_set(["ready"])
    excluded = pd.DataFrame({"version_id": [1, 2], "set_id": [7, 7]})
    result = set_statuses(pairs, statuses, excluded, now=NOW)
    assert result.to_dict(orient="records") == [
        {"version_id": 1, "set_id": 7, "set_status": "n/a"},  # excluded wins over a stray pairs row
        {"version_id": 2, "set_id": 7, "set_status": "n/a"},
    ]


def test_set_status_empty_inputs() -> None:
    pairs, statuses = one_set([])
    result = set_statuses(pairs, statuses, NO_EXCLUSIONS, now=NOW)
    assert list(result.columns) == ["version_id", "set_id", "set_status"]
    assert result.empty


# ---------------------------------------------------------------------------------------------------
# A case computed by hand: three versions, every output column


def hand_inputs() -> dict[str, pd.DataFrame]:
    profile = make_profile(
        {
            1: {},
            2: {
                "maintainer": None,
                "responsible_qa": " ? ",
                "product_managers": [],
                "docs": [],
                "api_is_public": "unknown",
                "qa_applicable": False,
            },
            3: {},
        }
    )
    qa = make_qa(
        {
            1: DEMO_QA,
            2: {"manual": "high", "unit": "high"},
            3: {"manual": "high", "unit": "high", "e2e": "unknown"},
            99: ALL_HIGH,  # not in the profile: ignored
        }
    )
    pairs = make_pairs({1: [OPERATIONS, SECURITY], 2: [SECURITY], 4: [SECURITY]})
    statuses = make_statuses(
        [
            (1, 10, "ready", "ready", OLD),  # signed under Security, expired under Operations
            (1, 11, "n/a", "ready", FRESH),  # approved n/a
            (1, 20, "ready", "unknown", None),  # waiting
            (2, 10, "not_ready", None, None),  # (2, 11) has no row
            (4, 10, "ready", "ready", FRESH),  # not in the profile: ignored
        ]
    )
    excluded = pd.DataFrame({"version_id": [2, 3, 3], "set_id": [OPERATIONS, OPERATIONS, SECURITY]})
    return {"profile": profile, "qa_levels": qa, "pairs": pairs, "statuses": statuses, "excluded": excluded}


def test_score_versions_by_hand() -> None:
    frames = hand_inputs()
    result = score_versions(
        profile=frames["profile"],
        qa_levels=frames["qa_levels"],
        pairs=frames["pairs"],
        statuses=frames["statuses"],
        now=NOW,
    )
    expected = pd.DataFrame(
        {
            "qa_points": [16, 6, 6],
            "qa_score": pd.array([59, None, 22], dtype="Int64"),  # 1600/27; n/a; 600/27
            "completeness": [100, 60, 68],  # 25/25; (8 + 1)/(13 + 2); (13 + 2)/(13 + 9)
            "rating": pd.array([56, 0, 22], dtype="Int64"),  # (1 + 16)/(3 + 27); 0/2; 6/27
            "applicable_requirements": [3, 2, 0],
            "signed": [1, 0, 0],
        },
        index=pd.Index([1, 2, 3], name="version_id"),
    )
    pd.testing.assert_frame_equal(result[expected.columns], expected)
    assert list(result.columns) == [
        "qa_points",
        "qa_score",
        "completeness",
        "missing",
        "rating",
        "unsigned",
        "applicable_requirements",
        "signed",
    ]
    assert result["missing"].tolist() == [
        [],
        [
            "Owners: maintainer",
            "Owners: responsible QA",
            "Owners: product managers",
            "Links: docs",
            "Links: API is public",
            "Security: Pen test",
        ],
        [f"QA: {kind} tests" for kind in QA_KINDS[2:]],
    ]
    assert result["unsigned"].tolist() == [
        ["Security: Threat model", "Operations: Runbook"],
        ["Security: Threat model", "Security: Pen test"],
        [],
    ]


def test_set_statuses_by_hand() -> None:
    frames = hand_inputs()
    result = set_statuses(frames["pairs"], frames["statuses"], frames["excluded"], now=NOW)
    assert list(result.itertuples(index=False, name=None)) == [
        (1, OPERATIONS, "waiting"),  # Runbook waiting; Threat model expired -> waiting
        (1, SECURITY, "ready"),  # ready + approved n/a
        (2, OPERATIONS, "n/a"),
        (2, SECURITY, "not_ready"),
        (3, OPERATIONS, "n/a"),
        (3, SECURITY, "n/a"),
        (4, SECURITY, "unknown"),  # every version in pairs is scored; (4, Pen test) has no row
    ]


@pytest.mark.parametrize(
    ("frame", "change", "message"),
    [
        pytest.param(
            "statuses", lambda f: pd.concat([f, f.iloc[:1]]), "more than one row", id="duplicate-status"
        ),
        pytest.param("statuses", lambda f: f.drop(columns="signee_at"), "signee_at", id="missing-column"),
        pytest.param("profile", lambda f: f.drop(columns="docs"), "docs", id="missing-must-field"),
        pytest.param("profile", lambda f: pd.concat([f, f.iloc[:1]]), "duplicates", id="duplicate-version"),
    ],
)
def test_score_versions_rejects_malformed_frames(
    frame: str, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    frames = hand_inputs()
    frames[frame] = change(frames[frame])
    with pytest.raises(ValueError, match=message):
        score_versions(
            profile=frames["profile"],
            qa_levels=frames["qa_levels"],
            pairs=frames["pairs"],
            statuses=frames["statuses"],
            now=NOW,
        )


def test_score_versions_with_no_rows_anywhere() -> None:
    result = score_versions(
        profile=make_profile({}),
        qa_levels=make_qa({}),
        pairs=make_pairs({}),
        statuses=make_statuses([]),
        now=NOW,
    )
    assert result.empty
    assert str(result["rating"].dtype) == "Int64"


# ---------------------------------------------------------------------------------------------------
# Colour bands

BAND_CASES = [
    pytest.param(100, "good", id="100"),
    pytest.param(80, "good", id="80"),
    pytest.param(79, "medium", id="79"),
    pytest.param(50, "medium", id="50"),
    pytest.param(49, "poor", id="49"),
    pytest.param(0, "poor", id="0"),
    pytest.param(None, None, id="none"),
    pytest.param(math.nan, None, id="nan"),
]


@pytest.mark.parametrize(("score", "expected"), BAND_CASES)
def test_band(score: float | None, expected: str | None) -> None:
    assert band(score) == expected


def test_bands_matches_band() -> None:
    scores = pd.Series([case.values[0] for case in BAND_CASES], dtype="Float64")
    assert bands(scores).tolist() == [case.values[1] for case in BAND_CASES]
    assert bands(pd.Series([85, None, 10], dtype="Int64")).tolist() == ["good", None, "poor"]
