"""The requirement-status matrix of the current versions, read in one grouped query and decoded with numpy.

Each status row becomes a few ASCII characters — the requirement's key, a character for the length
of the owner's and of the signee's status (unique in both vocabularies), and one freshness flag per
sign-off validity — concatenated per version in SQL. A 10,000 × 26 matrix thus crosses the driver as 10,000
short strings instead of 260,000 rows. The derived statuses follow ``panopticum_data.scoring``
(``tests/data/test_queries_overview.py`` checks they agree with it on the whole demo registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, case, func, literal, select

from .. import models as m
from ._util import group_concat

MISSING = 255
"""Code of a (version, requirement) without a status row."""
OWNER_CODES = {chr(64 + len(s)): code for code, s in enumerate(("unknown", "not_ready", "ready", "n/a"))}
SIGNEE_CODES = {chr(64 + len(s)): code for code, s in enumerate(("unknown", "not_ready", "ready"))}
_KEY_BASE, _KEY_FIRST, _NO_KEY = 90, 33, "~"


@dataclass(frozen=True)
class Layout:
    """The requirements in matrix-column order, each set's columns, and its validity class."""

    requirement_ids: list[int]
    titles: list[str]
    set_ids: list[int]
    set_names: list[str]
    set_columns: list[np.ndarray]
    set_class: list[int]  # index into cutoffs
    cutoffs: list[datetime | None]  # verdicts before the cutoff have expired; None: never

    @property
    def key_width(self) -> int:
        return 1 if len(self.requirement_ids) <= _KEY_BASE else 2


def layout(reqs: pd.DataFrame, now: datetime) -> Layout:
    """From ``list_requirements``: columns in set order, then requirement order (first set wins)."""
    order = reqs.sort_values(["set_position", "set_id", "requirement_position"])
    first = order.drop_duplicates("requirement_id")
    req_ids = [int(r) for r in first["requirement_id"]]
    index = {rid: i for i, rid in enumerate(req_ids)}
    sets = order.drop_duplicates("set_id")
    set_ids = [int(s) for s in sets["set_id"]]
    columns = [
        np.array([index[int(r)] for r in order.loc[order["set_id"] == sid, "requirement_id"]], dtype=np.int64)
        for sid in set_ids
    ]
    validities: list[float | None] = []
    set_class = []
    for days in sets["validity_days"]:
        key = None if pd.isna(days) else float(days)
        if key not in validities:
            validities.append(key)
        set_class.append(validities.index(key))
    cutoffs = [None if d is None else now - timedelta(days=d) for d in validities]
    return Layout(req_ids, list(first["title"]), set_ids, list(sets["set_name"]), columns, set_class, cutoffs)


def current_versions() -> Any:
    return select(m.Component.current_version_id).where(m.Component.current_version_id.is_not(None))


def _key_digits(i: int, width: int) -> list[int]:
    return [_KEY_FIRST + (i // _KEY_BASE**j) % _KEY_BASE for j in reversed(range(width))]


def fetch_cells(conn: Connection, lay: Layout) -> dict[int, str]:
    """Per current version, its status rows encoded as one string (decode with ``decode_cells``).

    A row's characters: its requirement's key, then ``64 + len(owner_status)`` and
    ``64 + len(signee_status)`` (the lengths tell the statuses apart), then ``'0'``/``'1'`` per
    validity cutoff. On SQLite a single ``char(...)`` call builds them (no intermediate strings)."""
    rs, width = m.RequirementStatus, lay.key_width
    digits: list[Any] = []
    for j in range(width):
        whens = {rid: _key_digits(i, width)[j] for i, rid in enumerate(lay.requirement_ids)}
        digits.append(
            case(whens, value=rs.requirement_id, else_=ord(_NO_KEY)) if whens else literal(ord(_NO_KEY))
        )
    codes: list[Any] = [*digits, 64 + func.length(rs.owner_status), 64 + func.length(rs.signee_status)]
    for cutoff in lay.cutoffs:
        if cutoff is not None:
            codes.append(case((rs.signee_at >= cutoff, ord("1")), else_=ord("0")))
    if conn.dialect.name == "sqlite":
        cell: Any = func.char(*codes)
    else:
        cell = func.concat(*[func.chr(code) for code in codes])
    stmt = (
        select(rs.version_id, group_concat(cell, conn.dialect.name, "").label("cells"))
        .where(rs.version_id.in_(current_versions()))  # no filter on requirement: it misleads the planner
        .group_by(rs.version_id)
    )
    return {int(v): c for v, c in conn.execute(stmt).all()}


def _code_table(mapping: dict[str, int]) -> np.ndarray:
    table = np.full(256, MISSING, dtype=np.uint8)
    for char, code in mapping.items():
        table[ord(char)] = code
    return table


def decode_cells(
    strings: dict[int, str], versions: pd.Index, lay: Layout
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner codes, signee codes) as versions × requirements (MISSING where no row), and per
    validity class a boolean matrix: is the verdict recent enough (always True without a cutoff)."""
    n, r, width = len(versions), len(lay.requirement_ids), lay.key_width
    cut_classes = [k for k, c in enumerate(lay.cutoffs) if c is not None]
    owner = np.full((n, r), MISSING, dtype=np.uint8)
    signee = np.full((n, r), MISSING, dtype=np.uint8)
    fresh = np.ones((len(lay.cutoffs), n, r), dtype=bool)
    per_row = width + 2 + len(cut_classes)
    texts = [strings.get(int(v)) or "" for v in versions]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    if lengths.sum():
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(-1, per_row)
        rows = np.repeat(np.arange(n), lengths // per_row)
        known = (raw[:, :width] != ord(_NO_KEY)).all(axis=1)  # rows of requirements in no set
        raw, rows = raw[known], rows[known]
        cols = np.zeros(len(raw), dtype=np.int64)
        for j in range(width):
            cols = cols * _KEY_BASE + (raw[:, j].astype(np.int64) - _KEY_FIRST)
        owner[rows, cols] = _code_table(OWNER_CODES)[raw[:, width]]
        signee[rows, cols] = _code_table(SIGNEE_CODES)[raw[:, width + 1]]
        for j, k in enumerate(cut_classes):
            fresh[k, rows, cols] = raw[:, width + 2 + j] == ord("1")
    return owner, signee, fresh


OVERALL_NAMES = np.array(["unknown", "not_ready", "waiting", "waiting_na", "ready", "n/a"], dtype=object)


def overall_codes(owner: np.ndarray, verdict: np.ndarray) -> np.ndarray:
    """Indices into OVERALL_NAMES, as ``scoring.overall_status`` (``verdict``: after expiry)."""
    ready, na = owner == 2, owner == 3
    return np.select(
        [
            owner == 1,
            (ready | na) & (verdict == 1),
            ready & (verdict == 2),
            na & (verdict == 2),
            ready,
            na,
        ],
        [1, 1, 4, 5, 2, 3],
        default=0,
    )


def set_overall_codes(
    owner: np.ndarray, signee: np.ndarray, fresh: np.ndarray, lay: Layout, index: int
) -> np.ndarray:
    """The overall codes (versions × the set's requirements) of the set at ``index`` in ``lay``,
    with verdicts older than that set's validity counted as unknown."""
    cols = lay.set_columns[index]
    verdict = np.where(fresh[lay.set_class[index]][:, cols], signee[:, cols], 0)
    return overall_codes(owner[:, cols], verdict)


def set_status_of(codes: np.ndarray) -> np.ndarray:
    """Per row of overall codes, the set status (``scoring.set_statuses``): not_ready, else unknown,
    else waiting, else ready."""
    return np.where(
        (codes == 1).any(axis=1),
        "not_ready",
        np.where(
            (codes == 0).any(axis=1),
            "unknown",
            np.where(((codes == 2) | (codes == 3)).any(axis=1), "waiting", "ready"),
        ),
    ).astype(object)
