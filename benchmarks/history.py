"""The History page over 1,000,000 audit events (issue 5, item 6).

    python -m benchmarks.history [--repeat 7] [--regenerate]

``registry()`` builds once (cached as ``benchmarks/data/history-1m-seed1.db``, ignored by git) a copy
of the 10,000-component registry (``scale-10000-seed1.db``, only read) with synthetic change sets
added until the trail holds 1,000,000 events — people editing components, versions, owners,
deployments and claims over 18 months, a few big imports — bulk-inserted in one transaction, then
migrated to head (so it carries this revision's indexes). ``paths(engine, rng)`` returns the History
page's filtered views, each ≤ ``TARGETS`` seconds: ``benchmarks/run.py`` times them.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from panopticum_data import models as m
from panopticum_data.db import make_engine, read_connection
from panopticum_data.queries.history import HistoryFilters, change_sets, history_events

DATA = Path(__file__).resolve().parent / "data"
SOURCE = DATA / "scale-10000-seed1.db"
TOTAL_EVENTS = 1_000_000
START = datetime(2025, 5, 11, tzinfo=UTC)
DAYS = 560

TARGETS: dict[str, float | None] = {  # seconds, over 1,000,000 events (issue 5)
    "history: first page": 0.5,
    "history: by person": 0.5,
    "history: by entity and field": 0.5,
    "history: by component": 0.5,
    "history: by time range": 0.5,
    "history: by change set": 0.5,
}

# entity -> fields an edit touches (the services' column names)
FIELDS: dict[str, tuple[str, ...]] = {
    "component": ("description", "life_status", "category_id", "type_id", "vendor_id", "privacy_class_id"),
    "component_version": ("comments", "code_kloc", "maintainer_id", "responsible_qa_id", "api_is_public"),
    "requirement_status": ("owner_status", "owner_notes", "signee_status", "signee_notes", "evidence_url"),
    "deployment": ("environment_id", "runtime_id", "service_name", "binary_name", "notes"),
    "dependency": ("type", "notes"),
    "version_owner": ("person_id",),
    "component_tag": ("tag_id",),
    "qa_level": ("level", "notes"),
}
ENTITY_WEIGHTS = (8, 6, 10, 3, 2, 2, 1, 2)
STATUSES = ("unknown", "not_ready", "ready", "n/a")
SOURCES = ("ui", "ui", "ui", "ui", "api", "excel")


def _value(field: str, rng: random.Random) -> str:
    if field.endswith("_status"):
        return rng.choice(STATUSES)
    if field.endswith("_id"):
        return str(rng.randint(1, 999))
    if field in ("api_is_public",):
        return rng.choice(("true", "false"))
    if field == "code_kloc":
        return str(rng.randint(1, 900))
    return rng.choice(("reviewed", "see JIRA", "updated after audit", "moved to k8s", "legacy")) + (
        f" #{rng.randint(1, 9999)}"
    )


def _synthesise(conn: sqlite3.Connection, rng: random.Random, events_wanted: int) -> None:
    people = [r[0:2] for r in conn.execute("SELECT id, username FROM person ORDER BY id")]
    versions = list(conn.execute("SELECT id, component_id FROM component_version ORDER BY id"))
    cs_id = int(conn.execute("SELECT max(id) FROM change_set").fetchone()[0])
    ev_id = int(conn.execute("SELECT max(id) FROM audit_event").fetchone()[0])
    weights = [1 / (i + 1) ** 0.8 for i in range(len(people))]  # a few people do most of the editing
    entities = list(FIELDS)
    change_rows: list[tuple[object, ...]] = []
    event_rows: list[tuple[object, ...]] = []
    moment = START
    step = timedelta(days=DAYS) / (events_wanted / 10)
    while len(event_rows) < events_wanted:
        moment += step * rng.uniform(0.2, 1.8)
        cs_id += 1
        pid, username = rng.choices(people, weights)[0]
        big = rng.random() < 0.01  # an import or a big grid save
        size = rng.randint(200, 2000) if big else max(1, int(rng.expovariate(1 / 7)))
        source = "excel" if big else rng.choice(SOURCES)
        at = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        change_rows.append((cs_id, pid, username, at, source, f"{size} changes"))
        for _ in range(min(size, events_wanted - len(event_rows))):
            entity = rng.choices(entities, ENTITY_WEIGHTS)[0]
            version_id, component_id = rng.choice(versions)
            entity_id = component_id if entity == "component" else version_id
            action = rng.choices(("update", "create", "delete"), (8, 1, 1))[0]
            field = rng.choice(FIELDS[entity])
            old = None if action == "create" else _value(field, rng)
            new = None if action == "delete" else _value(field, rng)
            ev_id += 1
            event_rows.append(
                (ev_id, cs_id, entity, entity_id, component_id, action, field, old, new, pid, username, at)
            )
    conn.executemany(
        "INSERT INTO change_set (id, actor_id, actor_name, at, source, summary) VALUES (?, ?, ?, ?, ?, ?)",
        change_rows,
    )
    conn.executemany(
        "INSERT INTO audit_event (id, change_set_id, entity, entity_id, component_id, action, field, "
        "old_value, new_value, actor_id, actor_name, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        event_rows,
    )


def registry(*, regenerate: bool = False, seed: int = 1, migrate_to_head: bool = True) -> Engine:
    """The 1,000,000-event registry (built on first use). ``migrate_to_head=False`` builds it at the
    source's revision (without this issue's indexes), under another name, to measure what they earn."""
    name = f"history-1m-seed{seed}" + ("" if migrate_to_head else "-noindex")
    path = DATA / f"{name}.db"
    if regenerate and path.exists():
        path.unlink()
    if not path.exists():
        if not SOURCE.exists():
            raise SystemExit(f"{SOURCE} is missing: run `python -m benchmarks.run --sizes 10000` first")
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp.db")
        shutil.copyfile(SOURCE, tmp)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            have = int(conn.execute("SELECT count(*) FROM audit_event").fetchone()[0])
            conn.execute("BEGIN")
            _synthesise(conn, random.Random(seed), TOTAL_EVENTS - have)
            conn.execute("COMMIT")
        finally:
            conn.close()
        if migrate_to_head:
            from tests.dbutil import migrate

            migrate(f"sqlite:///{tmp}")
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:  # statistics for the planner; out of WAL mode, so the file alone is the database
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        tmp.rename(path)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    elif migrate_to_head:  # built by an older checkout: bring it to this one's schema
        from tests.dbutil import migrate

        migrate(f"sqlite:///{path}")
    return make_engine(f"sqlite:///{path}")


def paths(engine: Engine, rng: random.Random) -> dict[str, Callable[[], None]]:
    """The History page's reads for one filtered view: a page of events with its count, and a page
    of change sets with their event counts (both newest first)."""
    with read_connection(engine) as conn:
        people = list(conn.execute(select(m.Person.username).limit(50)).scalars())
        components = list(conn.execute(select(m.Component.name).limit(2000)).scalars())
        top = int(conn.execute(select(m.ChangeSet.id).order_by(m.ChangeSet.id.desc()).limit(1)).scalar_one())

    def view(make: Callable[[], HistoryFilters]) -> Callable[[], None]:
        def run() -> None:
            filters = make()
            with read_connection(engine) as conn:
                history_events(conn, filters, page=rng.randint(1, 5))
                change_sets(conn, filters, page=1)

        return run

    def time_range() -> HistoryFilters:
        since = START + timedelta(days=rng.randint(0, DAYS - 30))
        return HistoryFilters(since=since, until=since + timedelta(days=rng.choice((1, 7, 30))))

    def entity_field() -> HistoryFilters:
        entity = rng.choice(list(FIELDS))
        return HistoryFilters(entity=entity, field=rng.choice(FIELDS[entity]))

    return {
        "history: first page": view(HistoryFilters),
        "history: by person": view(lambda: HistoryFilters(person=rng.choice(people))),
        "history: by entity and field": view(entity_field),
        "history: by component": view(lambda: HistoryFilters(component=rng.choice(components))),
        "history: by time range": view(time_range),
        "history: by change set": view(lambda: HistoryFilters(change_set_id=rng.randint(1, top))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-indexes", action="store_true", help="at the source's revision (before 0005)")
    args = parser.parse_args(argv)
    engine = registry(regenerate=args.regenerate, migrate_to_head=not args.no_indexes)
    rng = random.Random(1)
    failed = False
    print("| path | median (min–max) | target |\n|---|---|---|")
    for name, fn in paths(engine, rng).items():
        fn()
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - started)
        med, target = statistics.median(runs), TARGETS[name]
        failed |= target is not None and med > target
        goal = "—" if target is None else f"≤ {target * 1000:.0f} ms"
        print(f"| {name} | {med * 1000:.0f} ms ({min(runs) * 1000:.0f}–{max(runs) * 1000:.0f}) | {goal} |")
    engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
