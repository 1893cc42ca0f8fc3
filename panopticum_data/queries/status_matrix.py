"""The requirement-status matrix of the current versions, read from the status digest and decoded with numpy.

``requirement_status_digest`` (kept by triggers, migrations 0006 and 0007) holds each version's status
rows as one string of 15-character records: the requirement id, a character for the length of the
owner's and of the signee's status (unique in both vocabularies), and the signee's time in
microseconds since 0001-01-01 (0: none, which has expired under any validity). A
10,000 × 26 matrix thus crosses the driver as 10,000 short strings, without aggregating 260,000 rows
on every read. The derived statuses follow ``panopticum_data.scoring``
(``tests/data/test_queries_overview.py`` checks they agree with it on the whole demo registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from .. import models as m

MISSING = 255
"""Code of a (version, requirement) without a status row."""
OWNER_CODES = {chr(64 + len(s)): code for code, s in enumerate(("unknown", "not_ready", "ready", "n/a"))}
SIGNEE_CODES = {chr(64 + len(s)): code for code, s in enumerate(("unknown", "not_ready", "ready"))}
RECORD, _BASE, _FIRST = 15, 90, 33  # a record's length; its numbers in base 90 from chr(33)
_ID, _TIME = slice(0, 4), slice(6, 15)  # the requirement id's and the time's digits; statuses at 4, 5
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


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


def fetch_cells(conn: Connection) -> dict[int, str]:
    """Per current version, its status digest (decode with ``decode_cells``, which applies a layout)."""
    d = m.RequirementStatusDigest
    stmt = select(d.version_id, d.cells).where(d.version_id.in_(current_versions()))
    return {int(v): c for v, c in conn.execute(stmt).all()}


def _number(raw: np.ndarray) -> np.ndarray:
    """Base-90 digits (columns, most significant first) to int64."""
    out = np.zeros(len(raw), dtype=np.int64)
    for j in range(raw.shape[1]):
        out = out * _BASE + (raw[:, j].astype(np.int64) - _FIRST)
    return out


def _microseconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def _code_table(mapping: dict[str, int]) -> np.ndarray:
    table = np.full(256, MISSING, dtype=np.uint8)
    for char, code in mapping.items():
        table[ord(char)] = code
    return table


def decode_cells(
    strings: dict[int, str], versions: pd.Index, lay: Layout
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner codes, signee codes) as versions × requirements (MISSING where no row), and per
    validity class a boolean matrix: is the verdict recent enough (always True without a cutoff).
    Records of requirements outside the layout (in no set) are ignored."""
    n, r = len(versions), len(lay.requirement_ids)
    owner = np.full((n, r), MISSING, dtype=np.uint8)
    signee = np.full((n, r), MISSING, dtype=np.uint8)
    fresh = np.ones((len(lay.cutoffs), n, r), dtype=bool)
    texts = [strings.get(int(v)) or "" for v in versions]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    if lengths.sum() and r:
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(-1, RECORD)
        rows = np.repeat(np.arange(n), lengths // RECORD)
        ids = _number(raw[:, _ID])
        # ids may reach 65,609,999: look them up among the layout's (sorted), not in a table that large
        layout_ids = np.asarray(lay.requirement_ids, dtype=np.int64)
        order = np.argsort(layout_ids, kind="stable")
        sorted_ids = layout_ids[order]
        found = np.minimum(np.searchsorted(sorted_ids, ids), r - 1)
        known = sorted_ids[found] == ids
        cols = order[found]
        raw, rows, cols = raw[known], rows[known], cols[known]
        owner[rows, cols] = _code_table(OWNER_CODES)[raw[:, 4]]
        signee[rows, cols] = _code_table(SIGNEE_CODES)[raw[:, 5]]
        signed_at = _number(raw[:, _TIME])
        for k, cutoff in enumerate(lay.cutoffs):
            if cutoff is not None:  # (a verdict without a time has expired, as in scoring)
                fresh[k, rows, cols] = (signed_at > 0) & (signed_at >= _microseconds(cutoff))
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
