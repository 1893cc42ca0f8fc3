"""Scale benchmarks: generate registries of N components on SQLite and time the hot paths.

    python -m benchmarks.run [--sizes 1000 10000] [--repeat 7] [--regenerate]

Prints a Markdown table of medians (and min / max) with the target for each path at 10,000
components. Registries are cached in benchmarks/data/ (ignored by git) keyed by size and seed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from benchmarks import grid_save, history
from panopticum_data import models as m
from panopticum_data.db import make_engine, session_scope
from panopticum_data.demo.scale import generate_scale
from panopticum_data.queries.detail import component_detail
from panopticum_data.queries.requirements import requirement_matrix
from panopticum_data.queries.signoff import compliance_over_time, missing_for_owner, waiting_for_signee
from panopticum_data.registry import Registry
from panopticum_data.services import SYSTEM
from panopticum_data.services.requirements import ClaimChange, set_owner_claims
from tests.dbutil import migrate

DATA = Path(__file__).resolve().parent / "data"
TARGETS: dict[str, float | None] = {  # seconds, at 10,000 components (issues 2 and 3)
    "overview": 0.5,
    "component detail": 0.05,
    "set matrix": 1.0,
    "save 100 changes": 0.5,
    "dashboard rerun": 0.5,  # the page's server-side work: cached overview, filter, one page
    "dashboard rerun, text search": 0.5,
    "dashboard after a write": None,  # the overview recomputed (cache key changed)
    "component page": 0.2,  # uncached: detail, photos, page model
    # issue 4
    "set heat-map page": 1.0,  # uncached: filter on the whole matrix, 200 rows in detail, the figure
    "set heat-map, status filter": 1.0,
    "all-sets heat-map": 1.0,  # uncached: every component × set, shares per set and category
    "waiting for me: signee": None,  # no target in the issues; cached per data version on the page
    "waiting for me: owner": 0.5,
    "compliance over time (26 weeks)": 1.0,
    # issue 5
    **grid_save.TARGETS,
    **history.TARGETS,  # over 1,000,000 audit events (a copy of the 10,000 registry, see history.py)
}


def registry(size: int, seed: int, regenerate: bool) -> Engine:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"scale-{size}-seed{seed}.db"
    if regenerate and path.exists():
        path.unlink()
    if not path.exists():
        tmp = path.with_suffix(".tmp.db")
        tmp.unlink(missing_ok=True)
        migrate(f"sqlite:///{tmp}")
        engine = make_engine(f"sqlite:///{tmp}")
        started = time.perf_counter()
        generate_scale(engine, components=size, seed=seed)
        print(f"generated {size} components in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        tmp.rename(path)
    return make_engine(f"sqlite:///{path}")


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm-up: imports, statement caches, OS file cache
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return runs


def bench(engine: Engine, repeat: int, rng: random.Random) -> dict[str, list[float]]:
    with engine.connect() as conn:
        names = list(conn.execute(select(m.Component.name)).scalars())
        biggest_set = (
            conn.execute(
                select(m.RequirementSetItem.set_id)
                .group_by(m.RequirementSetItem.set_id)
                .order_by(func.count().desc())
            )
            .scalars()
            .first()
        )
        pairs = conn.execute(
            select(m.RequirementStatus.version_id, m.RequirementStatus.requirement_id).limit(20_000)
        ).all()

        signees = list(
            conn.execute(
                select(m.Person.username)
                .join(m.GroupMember, m.GroupMember.person_id == m.Person.id)
                .distinct()
                .order_by(m.Person.username)
            ).scalars()
        )
        owner_counts = conn.execute(
            select(m.Person.username, func.count())
            .join(m.VersionOwner, m.VersionOwner.person_id == m.Person.id)
            .group_by(m.Person.username)
            .order_by(func.count(), m.Person.username)
        ).all()
    typical_owner = owner_counts[len(owner_counts) // 2][0]  # the median owner by versions owned

    registry = Registry(engine)

    def waiting_signee() -> None:
        with engine.connect() as conn, conn.begin():
            waiting_for_signee(conn, rng.choice(signees))

    def waiting_owner() -> None:
        with engine.connect() as conn, conn.begin():
            missing_for_owner(conn, typical_owner)

    def compliance() -> None:
        with engine.connect() as conn, conn.begin():
            compliance_over_time(conn, weeks=26)

    def overview() -> None:
        registry.overview()

    def detail() -> None:
        with engine.connect() as conn, conn.begin():
            component_detail(conn, rng.choice(names))

    def matrix() -> None:
        with engine.connect() as conn, conn.begin():
            requirement_matrix(conn, int(biggest_set or 1))

    statuses = ("ready", "not_ready", "n/a", "unknown")

    def save() -> None:
        chosen = rng.sample(pairs, 100)
        changes = [
            ClaimChange(version_id=v, requirement_id=r, status=rng.choice(statuses), notes="bench")
            for v, r in chosen
        ]
        with session_scope(engine) as session:
            set_owner_claims(session, actor=SYSTEM, changes=changes)

    ui = ui_paths(engine, names, rng)
    return {
        **{k: timed(fn, repeat) for k, fn in ui.items() if k.startswith("dashboard")},
        "component page": timed(ui["component page"], repeat * 3),
        **{
            k: timed(ui[k], repeat)
            for k in ("set heat-map page", "set heat-map, status filter", "all-sets heat-map")
        },
        "overview": timed(overview, repeat),
        "component detail": timed(detail, repeat * 3),
        "set matrix": timed(matrix, repeat),
        "save 100 changes": timed(save, repeat),
        "waiting for me: signee": timed(waiting_signee, repeat),
        "waiting for me: owner": timed(waiting_owner, repeat),
        "compliance over time (26 weeks)": timed(compliance, repeat),
        **{k: timed(fn, repeat) for k, fn in grid_save.paths(engine, rng).items()},
    }


def ui_paths(engine: Engine, names: list[str], rng: random.Random) -> dict[str, Callable[[], Any]]:
    """The web app's data functions, timed outside a browser (Streamlit caches in memory)."""
    os.environ["PANOPTICUM_DATABASE_URL"] = str(engine.url)
    import streamlit as st

    from panopticum_data.queries.overview import OverviewFilters
    from panopticum_ui.component import component_page_data
    from panopticum_ui.dashboard import dashboard_data

    st.cache_resource.clear()
    st.cache_data.clear()

    from panopticum_data.queries.signoff import StatusFilter
    from panopticum_ui import signoff

    sets = signoff.sets(str(engine.url), 0)
    biggest = max(sets, key=lambda s: len(s.requirements))

    def set_page(status_filters: tuple[StatusFilter, ...] = ()) -> None:
        st.cache_data.clear()
        hm = signoff.heatmap(
            str(engine.url), 0, biggest.set_id, OverviewFilters(), status_filters, rng.randint(0, 20) * 200
        )
        signoff.heatmap_figure(hm).to_json()

    def all_sets() -> None:
        st.cache_data.clear()
        frame = signoff.all_sets(str(engine.url), 0)
        by_set, by_category = signoff.shares(frame)
        page = frame.iloc[:200]
        page.attrs = frame.attrs
        signoff.all_sets_figure(page).to_json()
        signoff.share_by_set_figure(by_set).to_json()
        signoff.share_by_category_figure(by_category).to_json()

    def after_write() -> None:
        st.cache_data.clear()
        dashboard_data(OverviewFilters(), page=1, page_size=50)

    def page() -> None:
        st.cache_data.clear()
        component_page_data(rng.choice(names))

    return {
        "dashboard rerun": lambda: dashboard_data(OverviewFilters(), page=rng.randint(1, 20), page_size=50),
        "dashboard rerun, text search": lambda: dashboard_data(
            OverviewFilters(text=rng.choice(["pay", "api", "order", "zzz"])), page=1, page_size=50
        ),
        "dashboard after a write": after_write,
        "component page": page,
        "set heat-map page": set_page,
        "set heat-map, status filter": lambda: set_page(
            (StatusFilter(biggest.requirements[0], "overall", rng.choice(["ready", "waiting", "not_ready"])),)
        ),
        "all-sets heat-map": all_sets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    results: dict[int, dict[str, list[float]]] = {}
    for size in args.sizes:
        engine = registry(size, args.seed, args.regenerate)
        results[size] = bench(engine, args.repeat, rng)
        engine.dispose()
        if size == 10000:  # the History page over 1,000,000 events: its own (cached) registry
            trail = history.registry(seed=args.seed)
            results[size].update({k: timed(fn, args.repeat) for k, fn in history.paths(trail, rng).items()})
            trail.dispose()
    print(
        "| path | "
        + " | ".join(f"{s:,} components: median (min–max)" for s in args.sizes)
        + " | target at 10,000 |"
    )
    print("|---|" + "---|" * len(args.sizes) + "---|")
    failed = False
    for path, target in TARGETS.items():
        cells = []
        for size in args.sizes:
            runs = results[size].get(path)
            if runs is None:  # measured at 10,000 components only
                cells.append("—")
                continue
            med = statistics.median(runs)
            cells.append(f"{med * 1000:.0f} ms ({min(runs) * 1000:.0f}–{max(runs) * 1000:.0f})")
            if size == 10000 and target is not None and med > target:
                failed = True
        goal = "—" if target is None else f"≤ {target * 1000:.0f} ms"
        print(f"| {path} | " + " | ".join(cells) + f" | {goal} |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
