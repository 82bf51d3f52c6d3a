"""Benchmark: create → accept → register → dispatch through the actions layer, history included.

    .venv/bin/python bench/case_throughput.py --db sqlite              # one process is best
    .venv/bin/python bench/case_throughput.py --db postgres --procs 2  # BENCH_PG_URL
    .venv/bin/python bench/case_throughput.py --without-facts-hook     # the engine's own cost

Each case is one collector report, three operations (operator accepts, shift leader
registers, dispatcher dispatches) and four history entries; every step is its own
transaction, as it is when four people do it. `--procs N` runs N worker processes at once,
as a multi-worker server does (they share the machine's 2 cores); the figure is all cases
divided by the wall time of the batch (6,000 cases by default: long enough to be steady).
Prints the median over the batches, then the SQL statements of each step of one more case.
`--without-facts-hook` disconnects the evaluation facts hook (History post_save) in the workers,
to measure the engine and the loop without it.
Target: at least 500 cases/s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import time

from _setup import median, setup


def _without_facts_hook() -> None:
    from django.db.models.signals import post_save

    from urbangrid.workflow.models import History

    post_save.disconnect(sender=History, dispatch_uid="evaluation_facts")


def _one_case(collector, cat, lon, lat, op, shift, disp, step=None) -> None:
    """report + accept + register + dispatch; `step(name, call)` wraps each step when given."""
    from urbangrid.cases.actions import create_case, perform

    step = step or (lambda name, call: call())
    case = step(
        "report",
        lambda: create_case(collector, source="collector", category=cat, description=cat.name, lon=lon, lat=lat),
    )
    step("accept", lambda: perform(case, "accept", op, version=case.version))
    step("register", lambda: perform(case, "register", shift, version=case.version))
    step(
        "dispatch",
        lambda: perform(
            case, "dispatch", disp, version=case.version, data={"department": case.suggested_department_id}
        ),
    )


def _work(args: tuple[int, int, int, list, float, bool]) -> tuple[float, float]:
    """One worker process: `count` cases; returns its (start, end) times."""
    worker, count, seed, points, start_at, no_hook = args
    from django.db import connections

    if no_hook:
        _without_facts_hook()

    from urbangrid.catalog.models import Category
    from urbangrid.core.models import User

    connections.close_all()
    names = ["operator", "shiftleader", "dispatcher"]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    op, shift, disp = (users[n] for n in names)
    collectors = {u.pk: u for u in User.objects.filter(username__startswith="collector")}
    for user in [op, shift, disp, *collectors.values()]:
        _ = user.role_codes  # a long-running worker has these cached per request user
    cats = list(Category.objects.filter(kind="event", parent__isnull=False, default_department__isnull=False))
    rng = random.Random(seed * 1000 + worker)
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    for _ in range(count):
        collector_id, lon, lat = rng.choice(points)
        cat = rng.choice(cats)
        _one_case(collectors[collector_id], cat, lon, lat, op, shift, disp)
    t1 = time.time()
    connections.close_all()
    return t0, t1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=6000, help="cases per batch (all processes together)")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--procs", type=int, default=1, help="worker processes acting at once")
    parser.add_argument("--without-facts-hook", action="store_true", help="disconnect the evaluation facts hook")
    args = parser.parse_args()
    url = setup(args.db)

    from django.db import connections

    from urbangrid.demo.builder import build_demo
    from urbangrid.geo.index import get_index
    from urbangrid.geo.models import UnitGrid
    from urbangrid.workflow.models import History

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    print(f"database: {url.split('@')[-1]}; demo base data built in {time.perf_counter() - t0:.1f} s")
    index = get_index()
    points = []
    for g in UnitGrid.objects.filter(work_grid__isnull=False).prefetch_related("work_grid__collectors"):
        lon, lat = (g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2
        try:
            index.locate(lon, lat)
        except ValueError:
            continue
        points.append((g.work_grid.collectors.all()[0].pk, lon, lat))
    connections.close_all()
    ctx = mp.get_context("fork")
    rates = []
    per = args.cases // args.procs
    with ctx.Pool(args.procs) as pool:
        for batch in range(args.batches):
            start_at = time.time() + 1.0
            spans = pool.map(
                _work, [(w, per, batch, points, start_at, args.without_facts_hook) for w in range(args.procs)]
            )
            wall = max(e for _, e in spans) - min(s for s, _ in spans)
            rates.append(per * args.procs / wall)
            print(
                f"  batch {batch + 1}: {per * args.procs} cases by {args.procs} process(es) in {wall:.2f} s "
                f"= {rates[-1]:.0f} cases/s"
            )
    print(f"history entries written: {History.objects.count()}")
    hook = " without the facts hook" if args.without_facts_hook else ""
    print(
        f"RESULT {args.db}, {args.procs} process(es){hook}: median {median(rates):.0f} cases/s "
        "(each: report + accept + register + dispatch, 4 transactions, 4 history entries)"
    )
    _statements(points, args.without_facts_hook)


def _statements(points: list, no_hook: bool) -> None:
    """The SQL statements of each step of one more case (caches warm after the batches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from urbangrid.catalog.models import Category
    from urbangrid.core.models import User

    if no_hook:
        _without_facts_hook()
    users = {u.username: u for u in User.objects.filter(username__in=["operator", "shiftleader", "dispatcher"])}
    collector_id, lon, lat = points[0]
    cat = Category.objects.filter(kind="event", parent__isnull=False, default_department__isnull=False).first()
    counts = {}

    def step(name, call):
        with CaptureQueriesContext(connection) as q:
            result = call()
        counts[name] = len(q.captured_queries)
        return result

    args = (User.objects.get(pk=collector_id), cat, lon, lat, users["operator"], users["shiftleader"])
    _one_case(*args, users["dispatcher"])  # warm this process's caches
    _one_case(*args, users["dispatcher"], step=step)
    print("statements per step: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; case {sum(counts.values())}")


if __name__ == "__main__":
    main()
