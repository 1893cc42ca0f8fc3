"""Scores of component versions, computed on read from DataFrames (SPEC §2 "Requirement statuses", §3).

Pure, vectorised functions over pandas objects: no database, no I/O and no clock (the caller passes
``now``). They fix the original Panopticum's formulas: empty lists are not "filled", a missing status
row is neither filled nor signed, a requirement in several sets counts once, and the rating uses the
QA points of the same computation.

Input frames (as produced by the data layer's queries):

``profile``
    Indexed by ``version_id`` (unique). One column per key of :data:`MUST_FIELDS` (strings, person
    names, booleans, Python lists that may be empty, or None) and ``qa_applicable`` (bool; a null
    counts as True, the model's default).
``qa_levels``
    Long frame ``[version_id, kind, level]``, at most one row per (version_id, kind); ``kind`` in
    :data:`QA_KINDS`, ``level`` in :data:`QA_LEVELS`. A missing row or a null level is ``unknown``.
``pairs``
    One row per (version_id, set_id, requirement_id) for every requirement of every set that applies
    to the version (excluded sets already removed), with columns ``version_id, set_id, set_name,
    set_position`` (order of the sets), ``requirement_id, requirement_title, requirement_position``
    (order within the set) and ``validity_days`` (float; NaN = the set's sign-offs never expire).
    A requirement may appear under several sets.
``statuses``
    ``[version_id, requirement_id, owner_status, signee_status, signee_at]``, at most one row per
    (version_id, requirement_id); a missing row means owner ``unknown`` and no signee verdict.
    ``signee_at`` is a datetime (datetime64 is fastest); naive times are taken as UTC, like ``now``.
``excluded``
    ``[version_id, set_id]`` of the sets a version excludes as not applicable.

Rows of ``qa_levels``, ``pairs`` and ``statuses`` whose version is not being scored are ignored.
A value outside its vocabulary, a duplicate key or a missing column raises :class:`ValueError`
naming the frame, the column and the offending values.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from types import MappingProxyType
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "LEVEL_POINTS",
    "MUST_FIELDS",
    "OVERALL_STATUSES",
    "OWNER_STATUSES",
    "QA_KINDS",
    "QA_LEVELS",
    "QA_MAX_POINTS",
    "SET_STATUSES",
    "SIGNEE_STATUSES",
    "band",
    "bands",
    "expire_verdicts",
    "filled_mask",
    "is_filled",
    "overall_status",
    "qa_scores",
    "score_versions",
    "set_statuses",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]
ObjectArray = npt.NDArray[np.object_]

OWNER_STATUSES: Final[tuple[str, ...]] = ("unknown", "not_ready", "ready", "n/a")
SIGNEE_STATUSES: Final[tuple[str, ...]] = ("unknown", "not_ready", "ready")
OVERALL_STATUSES: Final[tuple[str, ...]] = ("ready", "n/a", "waiting", "waiting_na", "not_ready", "unknown")
SET_STATUSES: Final[tuple[str, ...]] = ("ready", "waiting", "unknown", "not_ready", "n/a")

QA_KINDS: Final[tuple[str, ...]] = (
    "manual",
    "unit",
    "e2e",
    "performance",
    "longhaul",
    "security",
    "api",
    "anonymisation",
    "upgrade",
)
QA_LEVELS: Final[tuple[str, ...]] = ("unknown", "n/a", "none", "low", "med", "high")
LEVEL_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {"unknown": 0, "none": 0, "low": 1, "med": 2, "high": 3, "n/a": 3}
)
QA_MAX_POINTS: Final[int] = 3 * len(QA_KINDS)  # 27

MUST_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "maintainer": "Owners: maintainer",
        "responsible_qa": "Owners: responsible QA",
        "product_managers": "Owners: product managers",
        "program_managers": "Owners: program managers",
        "escalation_list": "Owners: escalation list",
        "experts": "Owners: experts",
        "architects": "Owners: architects",
        "languages": "Tech: languages",
        "api_spec": "Links: API spec",
        "repository": "Links: repository",
        "issue_tracker": "Links: issue-tracker component",
        "docs": "Links: docs",
        "api_is_public": "Links: API is public",
    }
)

GOOD_AT: Final[int] = 80
MEDIUM_AT: Final[int] = 50

_BLANK_STRINGS: Final = frozenset({"", "unknown", "?"})
_PAIR_COLUMNS: Final = (
    "version_id",
    "set_id",
    "set_name",
    "set_position",
    "requirement_id",
    "requirement_title",
    "requirement_position",
    "validity_days",
)
_STATUS_COLUMNS: Final = ("version_id", "requirement_id", "owner_status", "signee_status", "signee_at")


# ---------------------------------------------------------------------------------------------------
# Overall status of one (version, requirement) and sign-off expiry


def _overall_one(owner: str | None, signee: str | None) -> str:
    """SPEC §2 for one pair; ``None`` is a missing status. The vectorised form is a table of this."""
    if owner in ("ready", "n/a"):
        if signee in (None, "unknown"):
            return "waiting" if owner == "ready" else "waiting_na"
        return owner if signee == "ready" else signee  # ready approves the owner's ready or n/a
    return owner if owner is not None else "unknown"


# _OVERALL_TABLE[owner code + 1, signee code + 1] -> overall code; code -1 is a missing status.
_OVERALL_TABLE: Final = np.array(
    [
        [OVERALL_STATUSES.index(_overall_one(owner, signee)) for signee in (None, *SIGNEE_STATUSES)]
        for owner in (None, *OWNER_STATUSES)
    ],
    dtype=np.int8,
)
_SIGNED_OVERALL: Final = np.array([status in ("ready", "n/a") for status in OVERALL_STATUSES])
_SET_STATUS_BY_RANK: Final = ("ready", "waiting", "unknown", "not_ready")  # the worst rank wins
_SET_STATUS_OF_OVERALL: Final = {
    "ready": "ready",
    "n/a": "ready",
    "waiting": "waiting",
    "waiting_na": "waiting",
    "unknown": "unknown",
    "not_ready": "not_ready",
}
_SET_RANK: Final = np.array(
    [_SET_STATUS_BY_RANK.index(_SET_STATUS_OF_OVERALL[status]) for status in OVERALL_STATUSES], dtype=np.int8
)
_OWNER_UNKNOWN: Final = OWNER_STATUSES.index("unknown")
_SIGNEE_UNKNOWN: Final = SIGNEE_STATUSES.index("unknown")
_SIGNEE_VERDICTS: Final = np.array([SIGNEE_STATUSES.index("not_ready"), SIGNEE_STATUSES.index("ready")])
_LEVEL_POINTS_BY_CODE: Final = np.array([LEVEL_POINTS[level] for level in QA_LEVELS], dtype=np.int64)
_LEVEL_UNKNOWN: Final = QA_LEVELS.index("unknown")


def overall_status(owner: pd.Series, signee: pd.Series) -> pd.Series:
    """Overall status of each (version, requirement), from the owner's claim and the signee's verdict.

    Owner ``ready``/``n/a`` with signee ``unknown`` or missing -> ``waiting``/``waiting_na``; with a
    verdict -> that verdict (``ready`` on an owner ``n/a`` -> ``n/a``); otherwise the owner's status,
    a missing owner status being ``unknown``. Both series must share one index, which the result
    (string dtype, values in :data:`OVERALL_STATUSES`) keeps.
    """
    _check_aligned(owner=owner, signee=signee)
    codes = _overall_codes(
        _vocab_codes(owner, OWNER_STATUSES, what="owner_status"),
        _vocab_codes(signee, SIGNEE_STATUSES, what="signee_status"),
    )
    return pd.Series(_names(OVERALL_STATUSES)[codes], index=owner.index, name="overall_status", dtype="str")


def expire_verdicts(
    signee: pd.Series, *, signee_at: pd.Series, validity_days: pd.Series, now: datetime
) -> pd.Series:
    """``signee`` with verdicts (``ready``/``not_ready``) older than ``validity_days`` set to ``unknown``.

    A null ``validity_days`` never expires; a verdict exactly ``validity_days`` old is still valid; a
    verdict without a ``signee_at`` under a finite validity counts as expired (its age cannot be
    shown). ``unknown`` and missing values are kept. The three series must share one index.
    """
    _check_aligned(signee=signee, signee_at=signee_at, validity_days=validity_days)
    expired = _expired(
        _vocab_codes(signee, SIGNEE_STATUSES, what="signee_status"),
        _utc_naive(signee_at),
        _floats(validity_days),
        _utc_now(now),
    )
    return signee.mask(pd.Series(expired, index=signee.index), "unknown")


def _overall_codes(owner: CodeArray, signee: CodeArray) -> CodeArray:
    return _OVERALL_TABLE[owner.astype(np.intp) + 1, signee.astype(np.intp) + 1]


def _expired(
    signee: CodeArray,
    signee_at: npt.NDArray[np.datetime64],
    validity_days: npt.NDArray[np.float64],
    now: np.datetime64,
) -> BoolArray:
    verdict = np.isin(signee, _SIGNEE_VERDICTS)
    limited = ~np.isnan(validity_days)
    age_days = (now - signee_at) / np.timedelta64(1, "D")  # NaN where signee_at is missing
    with np.errstate(invalid="ignore"):
        stale = np.isnan(age_days) | (age_days > validity_days)
    return verdict & limited & stale


# ---------------------------------------------------------------------------------------------------
# Filled fields


def is_filled(value: object) -> bool:
    """Whether a profile value counts as filled in.

    Not filled: None/NaN/NA, a string that is empty, ``unknown`` or ``?`` (after strip, any case), and
    an empty collection (list, tuple, set, dict, array). Numbers and booleans are answers, so
    ``False`` and ``0`` are filled.
    """
    if isinstance(value, str):
        return value.strip().lower() not in _BLANK_STRINGS
    if isinstance(value, np.ndarray):
        return value.size > 0
    if pd.api.types.is_scalar(value) and bool(pd.isna(cast(Any, value))):
        return False
    if isinstance(value, numbers.Number | np.generic):
        return True
    return bool(value)


def filled_mask(fields: pd.DataFrame) -> pd.DataFrame:
    """:func:`is_filled` over every cell of ``fields``: a bool frame of the same shape and labels."""
    return pd.DataFrame(_filled_matrix(fields), index=fields.index, columns=fields.columns)


def _filled_matrix(fields: pd.DataFrame) -> BoolArray:
    out = np.empty(fields.shape, dtype=bool)
    for position in range(fields.shape[1]):  # one vectorised pass per column
        out[:, position] = _filled_column(fields.iloc[:, position])
    return out


def _filled_column(column: pd.Series) -> BoolArray:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return column.notna().to_numpy(dtype=bool)
    if isinstance(dtype, pd.StringDtype):
        blank = column.str.strip().str.lower().isin(list(_BLANK_STRINGS))
        return (column.notna() & ~blank).to_numpy(dtype=bool)
    return _filled_objects(column.to_numpy(dtype=object))


_OTHER, _MISSING, _TEXT, _COLLECTION, _ANSWER, _FLOAT = -1, 0, 1, 2, 3, 4
_TYPE_KIND: Final[dict[type, int]] = {
    type(None): _MISSING,
    type(pd.NA): _MISSING,
    type(pd.NaT): _MISSING,
    str: _TEXT,
    list: _COLLECTION,
    tuple: _COLLECTION,
    set: _COLLECTION,
    frozenset: _COLLECTION,
    dict: _COLLECTION,
    bool: _ANSWER,
    int: _ANSWER,
    float: _FLOAT,  # an answer unless NaN
}


def _filled_objects(values: ObjectArray) -> BoolArray:
    """:func:`is_filled` over an object array: one C-level pass per common exact type."""
    kind = np.fromiter(
        map(_TYPE_KIND.get, map(type, values), repeat(_OTHER)), dtype=np.int8, count=len(values)
    )
    filled = kind == _ANSWER
    texts = values[kind == _TEXT]
    normalised = map(str.lower, map(str.strip, texts))
    filled[kind == _TEXT] = ~_bools(map(_BLANK_STRINGS.__contains__, normalised), len(texts))
    collections = values[kind == _COLLECTION]
    filled[kind == _COLLECTION] = _bools(map(bool, collections), len(collections))
    filled[kind == _FLOAT] = ~np.isnan(values[kind == _FLOAT].astype(np.float64))
    others = values[kind == _OTHER]  # subclasses, numpy values, arrays…: the scalar rule, one by one (rare)
    filled[kind == _OTHER] = _bools(map(is_filled, others), len(others))
    return filled


def _bools(values: object, count: int) -> BoolArray:
    return np.fromiter(values, dtype=bool, count=count)  # type: ignore[call-overload]


# ---------------------------------------------------------------------------------------------------
# QA


def qa_scores(qa_levels: pd.DataFrame, qa_applicable: pd.Series) -> pd.DataFrame:
    """QA points and score per version of ``qa_applicable``'s index (``version_id``).

    ``qa_points`` (int) is Σ :data:`LEVEL_POINTS` over the nine kinds, a missing kind counting as
    ``unknown`` (0); ``qa_score`` (Int64) is floor(100 × points / 27), ``<NA>`` where QA is not
    applicable (a null ``qa_applicable`` counts as applicable).
    """
    versions = _unique_index(qa_applicable.index, what="qa_applicable")
    applicable = _applicable(qa_applicable)
    points = _qa_points(_qa_level_codes(qa_levels, versions))
    return pd.DataFrame(
        {"qa_points": points, "qa_score": _masked_int(100 * points // QA_MAX_POINTS, ~applicable)},
        index=versions,
    )


def _qa_level_codes(qa_levels: pd.DataFrame, versions: pd.Index) -> CodeArray:
    """A (versions × QA_KINDS) grid of level codes, ``unknown`` where no row was given."""
    _require(qa_levels, ("version_id", "kind", "level"), what="qa_levels")
    grid = np.full((len(versions), len(QA_KINDS)), _LEVEL_UNKNOWN, dtype=np.int8)
    rows = _positions(versions, qa_levels["version_id"])
    kinds = _vocab_codes(qa_levels["kind"], QA_KINDS, what="qa_levels.kind")
    levels = _vocab_codes(qa_levels["level"], QA_LEVELS, what="qa_levels.level")
    if (kinds < 0).any():
        raise ValueError("qa_levels.kind: null kinds; expected one of " + ", ".join(QA_KINDS))
    keep = rows >= 0
    rows, kinds, levels = rows[keep], kinds[keep], levels[keep]
    if not pd.Index(rows.astype(np.int64) * len(QA_KINDS) + kinds).is_unique:
        raise ValueError("qa_levels: more than one row for a (version_id, kind)")
    grid[rows, kinds] = np.where(levels < 0, _LEVEL_UNKNOWN, levels)
    return grid


def _qa_points(grid: CodeArray) -> IntArray:
    return _LEVEL_POINTS_BY_CODE[grid].sum(axis=1)


def _applicable(qa_applicable: pd.Series) -> BoolArray:
    return qa_applicable.astype("boolean").fillna(True).to_numpy(dtype=bool)


# ---------------------------------------------------------------------------------------------------
# Requirements: per pairs row, then per distinct (version, requirement)


@dataclass(frozen=True)
class _PairStatus:
    """The ``pairs`` rows of the versions being scored, with their statuses after expiry."""

    pairs: pd.DataFrame
    version: IntArray  # position in the version index
    requirement: IntArray  # code of requirement_id (sorted factorisation)
    requirement_count: int
    owner_filled: BoolArray
    overall: CodeArray


def _pair_status(
    pairs: pd.DataFrame, statuses: pd.DataFrame, *, versions: pd.Index, now: datetime
) -> _PairStatus:
    _require(pairs, _PAIR_COLUMNS, what="pairs")
    _require(statuses, _STATUS_COLUMNS, what="statuses")
    version = _positions(versions, pairs["version_id"])
    if (version < 0).any():
        pairs = pairs.iloc[np.flatnonzero(version >= 0)]
        version = version[version >= 0]
    codes, requirement_ids = pd.factorize(pairs["requirement_id"], sort=True)
    requirement = codes.astype(np.int64)
    found = _status_rows(
        statuses, versions, pd.Index(requirement_ids), version * len(requirement_ids) + requirement
    )
    owner = np.append(
        _vocab_codes(statuses["owner_status"], OWNER_STATUSES, what="statuses.owner_status"), -1
    )
    signee = np.append(
        _vocab_codes(statuses["signee_status"], SIGNEE_STATUSES, what="statuses.signee_status"), -1
    )
    signee_at = np.append(_utc_naive(statuses["signee_at"]), np.datetime64("NaT", "ns"))
    # found == -1 (no status row) picks the appended -1 / NaT: owner and signee missing, no time.
    owner, signee, signee_at = owner[found], signee[found], signee_at[found]
    expired = _expired(signee, signee_at, _floats(pairs["validity_days"]), _utc_now(now))
    signee = np.where(expired, _SIGNEE_UNKNOWN, signee).astype(np.int8)
    return _PairStatus(
        pairs=pairs,
        version=version,
        requirement=requirement,
        requirement_count=len(requirement_ids),
        owner_filled=(owner >= 0) & (owner != _OWNER_UNKNOWN),
        overall=_overall_codes(owner, signee),
    )


def _status_rows(
    statuses: pd.DataFrame, versions: pd.Index, requirements: pd.Index, keys: IntArray
) -> IntArray:
    """Position in ``statuses`` of the row of each (version, requirement) key, -1 where there is none."""
    version = _positions(versions, statuses["version_id"])
    requirement = _positions(requirements, statuses["requirement_id"])
    known = (version >= 0) & (requirement >= 0)
    # Rows of other versions or requirements get distinct negative keys: they never match and never clash.
    status_keys = np.where(known, version * len(requirements) + requirement, -1 - np.arange(len(statuses)))
    index = pd.Index(status_keys)
    if not index.is_unique:
        raise ValueError("statuses: more than one row for a (version_id, requirement_id)")
    return _positions(index, keys)


@dataclass(frozen=True)
class _Requirements:
    """One item per distinct (version, requirement), ordered by version, then the position of the
    requirement's first set (by ``set_position``) and its position in that set."""

    version: IntArray
    owner_filled: BoolArray
    signed: BoolArray
    label: ObjectArray  # "<first set name>: <requirement title>"


def _requirements(
    pairs: pd.DataFrame, statuses: pd.DataFrame, *, versions: pd.Index, now: datetime
) -> _Requirements:
    rows = _pair_status(pairs, statuses, versions=versions, now=now)
    frame, count = rows.pairs, rows.requirement_count
    set_code, set_rank, set_count = _set_ranks(frame)
    position, position_count = _dense_rank(_floats(frame["requirement_position"]))
    pair = rows.version * count + rows.requirement
    # Rows grouped by (version, requirement), each group led by its first set: one item per group.
    grouped = _argsort([(pair, len(versions) * count), (set_rank, set_count)])
    starts = np.flatnonzero(np.diff(pair[grouped], prepend=-1) != 0)
    first = grouped[starts]
    signed_rows = _SIGNED_OVERALL[rows.overall[grouped]]
    signed = np.logical_and.reduceat(signed_rows, starts) if len(starts) else signed_rows  # in every set
    # Items in display order: version, first set, position in that set.
    display = _argsort(
        [
            (rows.version[first], len(versions)),
            (set_rank[first], set_count),
            (position[first], position_count),
            (rows.requirement[first], count),
        ]
    )
    first, signed = first[display], signed[display]
    return _Requirements(
        version=rows.version[first],
        owner_filled=rows.owner_filled[first],  # the owner's claim is per (version, requirement)
        signed=signed,  # ready or n/a in every applicable set (the strictest expiry wins)
        label=_requirement_labels(frame, set_code * count + rows.requirement, set_count * count, first),
    )


def _set_ranks(frame: pd.DataFrame) -> tuple[IntArray, IntArray, int]:
    """Per row: code of set_id (sorted) and rank of the set by (set_position, set_id); the set count."""
    codes, set_ids = pd.factorize(frame["set_id"], sort=True)
    set_code = codes.astype(np.int64)
    position = np.full(len(set_ids), np.nan)
    position[set_code] = _floats(frame["set_position"])  # one position per set
    rank = np.empty(len(set_ids), dtype=np.int64)
    rank[np.lexsort((np.arange(len(set_ids)), position))] = np.arange(len(set_ids))
    return set_code, rank[set_code], len(set_ids)


def _dense_rank(values: npt.NDArray[np.float64]) -> tuple[IntArray, int]:
    """Rank of each value among the distinct values (NaN last) and the number of ranks."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes).astype(np.int64), len(uniques) + 1


def _argsort(keys: Sequence[tuple[IntArray, int]]) -> IntArray:
    """Order of rows by several non-negative integer keys (major first), each below its bound."""
    bound = 1
    for _, size in keys:
        bound *= max(size, 1)
    if bound >= 2**62:  # the composite key would overflow int64
        return np.lexsort([key for key, _ in reversed(keys)]).astype(np.int64)
    combined = np.zeros(len(keys[0][0]), dtype=np.int64)
    for key, size in keys:
        combined = combined * max(size, 1) + key
    return np.argsort(combined).astype(np.int64)


def _requirement_labels(frame: pd.DataFrame, combo: IntArray, size: int, rows: IntArray) -> ObjectArray:
    """``"<set name>: <title>"`` of ``rows``; ``combo`` (< ``size``) numbers each (set, requirement)
    of ``frame``, so each distinct label is formatted once."""
    sample = np.zeros(size, dtype=np.int64)
    sample[combo] = np.arange(len(combo))  # any row of each (set, requirement): they share the label
    present = np.zeros(size, dtype=bool)
    present[combo] = True
    take = sample[present]
    names = frame["set_name"].iloc[take].tolist()
    titles = frame["requirement_title"].iloc[take].tolist()
    labels = np.full(size, None, dtype=object)
    labels[present] = _names([f"{name}: {title}" for name, title in zip(names, titles, strict=True)])
    return labels[combo[rows]]


# ---------------------------------------------------------------------------------------------------
# Set status and the per-version scores


def set_statuses(
    pairs: pd.DataFrame, statuses: pd.DataFrame, excluded: pd.DataFrame, *, now: datetime
) -> pd.DataFrame:
    """Status of each version on each requirement set: ``[version_id, set_id, set_status]``.

    One row per (version_id, set_id) in ``pairs`` — the worst overall status (after expiry with the
    set's validity) of its requirements: ``not_ready`` > ``unknown`` (a missing status row included)
    > ``waiting`` (waiting or waiting_na) > ``ready`` (all ready or n/a) — plus one ``n/a`` row per
    row of ``excluded`` (which wins over ``pairs``). A set with no requirements has no row. Sorted by
    version_id, set_id.
    """
    _require(pairs, _PAIR_COLUMNS, what="pairs")
    _require(excluded, ("version_id", "set_id"), what="excluded")
    versions = pd.Index(pd.unique(pairs["version_id"]))
    rows = _pair_status(pairs, statuses, versions=versions, now=now)
    codes, set_ids = pd.factorize(rows.pairs["set_id"], sort=True)
    set_count = max(len(set_ids), 1)
    group = rows.version * set_count + codes
    order = _argsort([(group, len(versions) * set_count)])
    starts = np.flatnonzero(np.diff(group[order], prepend=-1) != 0)
    ranks = _SET_RANK[rows.overall[order]]
    rank = np.maximum.reduceat(ranks, starts) if len(starts) else ranks  # the worst status of the set
    keys = group[order][starts]
    scored = pd.DataFrame(
        {
            "version_id": versions.take(keys // set_count),
            "set_id": pd.Index(set_ids).take(keys % set_count),
            "set_status": _names(_SET_STATUS_BY_RANK)[rank],
        }
    )
    marked = excluded[["version_id", "set_id"]].assign(set_status="n/a")
    frames = [frame for frame in (scored, marked) if len(frame)] or [scored]
    result = pd.concat(frames, ignore_index=True).drop_duplicates(["version_id", "set_id"], keep="last")
    result = result.sort_values(["version_id", "set_id"], kind="stable", ignore_index=True)
    return result.astype({"set_status": "str"})


def score_versions(
    *,
    profile: pd.DataFrame,
    qa_levels: pd.DataFrame,
    pairs: pd.DataFrame,
    statuses: pd.DataFrame,
    now: datetime,
) -> pd.DataFrame:
    """QA score, profile completeness and rating of every version in ``profile`` (SPEC §3).

    Returns a frame indexed like ``profile`` with columns ``qa_points`` (int), ``qa_score`` (Int64,
    ``<NA>`` when QA is not applicable), ``completeness`` (int 0–100), ``missing`` (list of labels of
    the unfilled items: must fields, then ``"QA: <kind> tests"``, then ``"<set>: <requirement>"``),
    ``rating`` (Int64, ``<NA>`` when there is nothing to rate), ``unsigned`` (list of
    ``"<set>: <requirement>"``), ``applicable_requirements`` and ``signed`` (int).
    """
    versions = _unique_index(profile.index, what="profile")
    _require(profile, (*MUST_FIELDS, "qa_applicable"), what="profile")
    count = len(versions)
    applicable = _applicable(profile["qa_applicable"])
    grid = _qa_level_codes(qa_levels, versions)
    points = _qa_points(grid)
    must = _filled_matrix(profile[list(MUST_FIELDS)])
    qa_missing = (grid == _LEVEL_UNKNOWN) & applicable[:, None]
    items = _requirements(pairs, statuses, versions=versions, now=now)
    requirements = np.bincount(items.version, minlength=count)
    signed = np.bincount(items.version[items.signed], minlength=count)
    owner_filled = np.bincount(items.version[items.owner_filled], minlength=count)

    filled = must.sum(axis=1) + (len(QA_KINDS) - qa_missing.sum(axis=1)) * applicable + owner_filled
    expected = len(MUST_FIELDS) + len(QA_KINDS) * applicable + requirements
    rated = requirements + QA_MAX_POINTS * applicable
    rating = 100 * (signed + points * applicable) // np.maximum(rated, 1)
    unsigned = _label_lists(count, [(items.version[~items.signed], items.label[~items.signed])])
    return pd.DataFrame(
        {
            "qa_points": points,
            "qa_score": _masked_int(100 * points // QA_MAX_POINTS, ~applicable),
            "completeness": (100 * filled // expected).astype(np.int64),
            "missing": pd.Series(_missing_lists(must, qa_missing, items), index=versions, dtype=object),
            "rating": _masked_int(rating, rated == 0),
            "unsigned": pd.Series(unsigned, index=versions, dtype=object),
            "applicable_requirements": requirements.astype(np.int64),
            "signed": signed.astype(np.int64),
        },
        index=versions,
    )


def _missing_lists(must: BoolArray, qa_missing: BoolArray, items: _Requirements) -> list[list[str]]:
    """Per version: labels of the unfilled must fields, QA levels and owner statuses, in that order."""
    must_version, must_field = np.nonzero(~must)
    qa_version, qa_kind = np.nonzero(qa_missing)
    unclaimed = ~items.owner_filled
    return _label_lists(
        len(must),
        [
            (must_version, _names(list(MUST_FIELDS.values()))[must_field]),
            (qa_version, _names([f"QA: {kind} tests" for kind in QA_KINDS])[qa_kind]),
            (items.version[unclaimed], items.label[unclaimed]),
        ],
    )


def _label_lists(count: int, parts: Sequence[tuple[npt.NDArray[np.intp], ObjectArray]]) -> list[list[str]]:
    """Labels grouped into one list per version position; parts, and items within a part, keep their order."""
    version = np.concatenate([np.asarray(part[0], dtype=np.int64) for part in parts])
    labels = np.concatenate([part[1] for part in parts])
    order = np.argsort(version, kind="stable")
    sizes = np.bincount(version, minlength=count)
    ends = np.cumsum(sizes)
    flat = labels[order].tolist()
    return [flat[start:end] for start, end in zip((ends - sizes).tolist(), ends.tolist(), strict=True)]


# ---------------------------------------------------------------------------------------------------
# Colour bands


def band(score: float | None) -> str | None:
    """Colour band of a score: ``good`` (≥ 80), ``medium`` (≥ 50), ``poor``; None for a missing score."""
    if score is None or bool(pd.isna(score)):
        return None
    return "good" if score >= GOOD_AT else "medium" if score >= MEDIUM_AT else "poor"


def bands(scores: pd.Series) -> pd.Series:
    """:func:`band` over a series (object dtype; None where the score is missing)."""
    values = pd.to_numeric(scores).to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(len(values), "poor", dtype=object)
    out[values >= MEDIUM_AT] = "medium"
    out[values >= GOOD_AT] = "good"
    out[np.isnan(values)] = None
    return pd.Series(out, index=scores.index, name=scores.name, dtype=object)


# ---------------------------------------------------------------------------------------------------
# Helpers


def _vocab_codes(values: pd.Series, vocabulary: Sequence[str], *, what: str) -> CodeArray:
    """Position of each value in ``vocabulary``, -1 for a null; ValueError on anything else."""
    codes, uniques = pd.factorize(values)  # nulls -> -1; fast on arrow strings and categoricals
    lookup = pd.Index(list(vocabulary)).get_indexer(uniques)
    if (lookup < 0).any():
        unexpected = sorted({str(value) for value in np.asarray(uniques, dtype=object)[lookup < 0]})
        raise ValueError(f"{what}: unexpected values {unexpected}; expected one of {', '.join(vocabulary)}")
    return np.append(lookup, -1).astype(np.int8)[codes]


def _positions(index: pd.Index, values: pd.Series | npt.NDArray[Any]) -> IntArray:
    """Position of each value in ``index`` (which must be unique), -1 where absent."""
    return index.get_indexer(pd.Index(values)).astype(np.int64)


def _names(values: Sequence[str]) -> ObjectArray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _masked_int(values: npt.NDArray[np.integer], mask: BoolArray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), np.asarray(mask, dtype=bool))


def _floats(values: pd.Series) -> npt.NDArray[np.float64]:
    return pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)


def _utc_naive(values: pd.Series) -> npt.NDArray[np.datetime64]:
    """Datetimes as naive UTC ``datetime64[ns]`` (naive inputs are taken as UTC)."""
    moments = pd.to_datetime(values, utc=True)
    return moments.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _utc_now(now: datetime) -> np.datetime64:
    moment = pd.Timestamp(now)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.tz_localize(None).as_unit("ns").to_datetime64()


def _unique_index(index: pd.Index, *, what: str) -> pd.Index:
    if not index.is_unique:
        raise ValueError(f"{what}: the index (version_id) has duplicates")
    return index if index.name is not None else index.rename("version_id")


def _check_aligned(**series: pd.Series) -> None:
    (first_name, first), *others = series.items()
    for name, other in others:
        if not first.index.equals(other.index):
            raise ValueError(f"{first_name} and {name} must share one index")


def _require(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        raise ValueError(f"{what}: missing columns {absent}")
