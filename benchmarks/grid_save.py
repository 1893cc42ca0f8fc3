"""Benchmark of a grid save (issue 5): the Edit page's model plans and saves 100 edited rows of a
500-row components grid, with audit, in one transaction and one change set.

    paths(engine, rng) -> {"save 100 grid rows of 500": fn}

The registry file behind ``engine`` is never written: on SQLite it is copied to a temporary file
first. The grid (500 components and the page's context) is read once, as the page holds it; each
run then plans and saves new descriptions for 100 of its rows (as an administrator), and the
grid's copy is moved on the way a reload would see it (new values, row_version + 1).

    python -m benchmarks.grid_save [benchmarks/data/scale-10000-seed1.db] [--repeat 7]
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from panopticum_data import models as m
from panopticum_data import queries
from panopticum_data.db import make_engine, read_connection
from panopticum_ui import edit as model

TARGETS: dict[str, float | None] = {"save 100 grid rows of 500": 0.5}
GRID_ROWS = 500
EDITED = 100


def _private_copy(engine: Engine) -> Engine:
    """An engine on a copy of the SQLite registry, removed at exit. The original is only read: its
    file and any WAL beside it are copied as they are, and the copy is checkpointed."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return engine
    directory = Path(tempfile.mkdtemp(prefix="grid-save-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    source = Path(engine.url.database)
    target = directory / "registry.db"
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    copy = make_engine(f"sqlite:///{target}")
    with copy.connect() as conn:  # fold the copied WAL in
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return copy


def paths(engine: Engine, rng: random.Random) -> dict[str, Callable[[], None]]:
    own = _private_copy(engine)
    with read_connection(own) as conn:
        admin = conn.execute(
            select(m.Person.username)
            .where(m.Person.access_role == "admin", m.Person.active.is_(True))
            .limit(1)
        ).scalar_one()
        all_ids = [int(i) for i in queries.list_components(conn)["component_id"]]
        ids = rng.sample(all_ids, min(GRID_ROWS, len(all_ids)))
        ctx = model.read_context(conn, username=admin, component_ids=ids)
        base = model.load(conn, "components", ids)
    counter = itertools.count()

    def save() -> None:
        nonlocal base
        run = next(counter)
        rows = rng.sample(range(len(base)), min(EDITED, len(base)))
        values = {i: f"benchmark run {run}, row {i}" for i in rows}
        state = {"edited_rows": {i: {"description": v} for i, v in values.items()}}
        plan = model.plan("components", base, base, state, ctx)
        assert not plan.errors, plan.errors
        model.execute(own, admin, plan, "components")
        base = base.copy()  # what a reload would read: the new values, one row_version on
        for i, value in values.items():
            base.iat[i, base.columns.get_loc("description")] = value
            base.iat[i, base.columns.get_loc("row_version")] = int(base["row_version"].iloc[i]) + 1

    return {"save 100 grid rows of 500": save}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="benchmarks/data/scale-10000-seed1.db")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    engine = make_engine(f"sqlite:///{args.database}")
    for name, fn in paths(engine, random.Random(1)).items():
        fn()  # warm-up
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - started)
        print(
            f"{name}: median {statistics.median(runs):.3f} s (min {min(runs):.3f}, max {max(runs):.3f}), "
            f"target {TARGETS[name]} s",
            file=sys.stdout,
        )


if __name__ == "__main__":
    main()
