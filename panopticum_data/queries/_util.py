"""Small helpers shared by the read functions."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Executable
from sqlalchemy.sql import ColumnElement, func


def frame(
    conn: Connection,
    stmt: Executable,
    columns: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run a select (with bound ``params``) and return its rows as a DataFrame (names from the labels)."""
    result = conn.execute(stmt, dict(params) if params else None)
    keys = list(columns or result.keys())
    rows = result.fetchall()
    if not rows:
        return pd.DataFrame({k: pd.Series([], dtype=object) for k in keys})
    # column-wise construction: several times faster than a list of Row objects
    columns_ = dict(zip(keys, (_column(col) for col in zip(*rows, strict=True)), strict=True))
    return pd.DataFrame(columns_, index=pd.RangeIndex(len(rows)))


def _column(values: tuple[Any, ...]) -> Any:
    """Text stays in object columns of Python strings: for the small frames of a page, pandas 3's
    Arrow-backed ``str`` dtype costs more to build than the whole query (it still reads the same)."""
    for value in values:
        if value is not None:
            if isinstance(value, str):
                return pd.Series(values, dtype=object)  # (an ndarray would be re-inferred as str)
            break
    return list(values)


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while a read builds a large frame.

    Building the overview of 10,000 components allocates some 100,000 small lists, tuples and strings,
    none of them in reference cycles. Each burst of allocations starts a collection, and every so often
    one that walks the whole heap: measured at 100 ms of a 460 ms overview (benchmarks/README.md).
    Reference counting still frees everything at once; the collector resumes when the last holder
    leaves (Streamlit runs sessions in threads, hence the count), and stays off if it was off."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def group_concat(column: Any, dialect_name: str, separator: str = ", ") -> ColumnElement[str]:
    """Aggregate strings into one, sorted where the backend allows it."""
    if dialect_name == "postgresql":
        return func.string_agg(column, separator)
    return func.group_concat(column, separator)


def split_list(values: pd.Series, separator: str = ", ") -> pd.Series:
    """Turn aggregated strings back into sorted lists ([] for NULL)."""
    return values.map(lambda v: sorted(v.split(separator)) if isinstance(v, str) and v else [])
