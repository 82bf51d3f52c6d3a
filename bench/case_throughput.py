"""Benchmark: create → accept → register → dispatch through the actions layer, history included.

    .venv/bin/python bench/case_throughput.py --db sqlite
    .venv/bin/python bench/case_throughput.py --db postgres   # BENCH_PG_URL, default local urbangrid_bench

Prints cases per second (median of the batches) for the whole path: each case is one
report, three operations and four history entries, each operation its own transaction.
Target: at least 500 cases/s on SQLite and on PostgreSQL on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import time

from _setup import median, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1000, help="cases per batch")
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    url = setup(args.db)

    from urbangrid.cases.actions import create_case, perform
    from urbangrid.catalog.models import Category
    from urbangrid.core.models import User
    from urbangrid.demo.builder import build_demo
    from urbangrid.geo.index import get_index
    from urbangrid.geo.models import UnitGrid
    from urbangrid.workflow.models import History

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    print(f"database: {url.split('@')[-1]}; demo base data built in {time.perf_counter() - t0:.1f} s")
    users = {u.username: u for u in User.objects.filter(username__in=["operator", "shiftleader", "dispatcher"])}
    op, shift, disp = users["operator"], users["shiftleader"], users["dispatcher"]
    grids = list(UnitGrid.objects.select_related("work_grid").filter(work_grid__isnull=False))
    collectors = {g.work_grid_id: g.work_grid.collectors.first() for g in grids}
    for user in [op, shift, disp, *collectors.values()]:
        _ = user.role_codes  # roles are read once per user, as in a long-running worker
    cats = list(Category.objects.filter(kind="event", parent__isnull=False, default_department__isnull=False))
    index = get_index()
    rng = random.Random(7)
    points = []
    for g in grids:
        lon, lat = (g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2
        try:
            index.locate(lon, lat)
            points.append((g, lon, lat))
        except ValueError:
            pass

    rates = []
    for batch in range(args.batches):
        start = time.perf_counter()
        for _ in range(args.cases):
            g, lon, lat = rng.choice(points)
            cat = rng.choice(cats)
            case = create_case(collectors[g.work_grid_id], source="collector", category=cat,
                               description=cat.name, lon=lon, lat=lat)
            perform(case, "accept", op, version=case.version)
            perform(case, "register", shift, version=case.version)
            perform(case, "dispatch", disp, version=case.version, data={"department": case.suggested_department_id})
        elapsed = time.perf_counter() - start
        rates.append(args.cases / elapsed)
        print(f"  batch {batch + 1}: {args.cases} cases in {elapsed:.2f} s = {args.cases / elapsed:.0f} cases/s")
    print(f"history entries written: {History.objects.count()}")
    print(f"RESULT {args.db}: median {median(rates):.0f} cases/s "
          f"({1000 / median(rates):.2f} ms per case: report + accept + register + dispatch)")


if __name__ == "__main__":
    main()
