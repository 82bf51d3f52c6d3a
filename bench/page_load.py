"""Server response times of the staff web with a million cases.

    .venv/bin/python bench/page_load.py --db sqlite   [--reuse] [--repeats 30]
    .venv/bin/python bench/page_load.py --db postgres [--reuse]      # BENCH_PG_URL's server

Uses the shared benchmark database (`_setup.cases_database`: the demo city's base data and
1,000,000 synthetic cases, 15 % open, each with its full hash-chained history: 8 to 12
entries for a closed case; built on first use and kept for --reuse). Measures, with Django's
test client (full middleware and templates), the workbenches (to-do of the operator, the
dispatcher and a department handler), filtered case lists, the done list, case pages, the map
data and the dispatcher desk, and prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import time

from _setup import CASES_DB, cases_database, median, percentile


def measure(repeats: int) -> None:
    from django.test import Client

    from urbangrid.cases.models import Case
    from urbangrid.catalog.models import Category
    from urbangrid.core.models import User
    from urbangrid.geo.models import UnitGrid

    def client(username: str) -> Client:
        c = Client()
        c.force_login(User.objects.get(username=username))
        return c

    operator, dispatcher, handler, leader = (client(u) for u in ("operator", "dispatcher", "handler-hw", "leader"))
    cat = Category.objects.get(kind="event", code="0102").pk
    grid = UnitGrid.objects.order_by("pk").values_list("code", flat=True)[10]
    closed = Case.objects.filter(state="closed").order_by("-pk").values_list("pk", "version").first()
    handling = Case.objects.filter(state="handling").order_by("-pk").values_list("pk", "version").first()
    print(
        f"cases in the database: {Case.objects.count():,}; closed case page: #{closed[0]} ({closed[1]} history "
        f"entries), handling case page: #{handling[0]} ({handling[1]} entries)"
    )
    last, handling = closed[0], handling[0]
    pages = [
        ("workbench (operator to-do)", operator, "/todo/", {}),
        ("workbench (dispatcher to-do)", dispatcher, "/todo/", {}),
        ("workbench (department to-do)", handler, "/todo/", {}),
        ("done list (operator)", operator, "/done/", {}),
        ("case list: all, newest first", leader, "/cases/", {}),
        ("case list: category + state", leader, "/cases/", {"category": cat, "state": "handling"}),
        ("case list: unit grid", leader, "/cases/", {"grid": grid}),
        ("case list: overdue, by deadline", leader, "/cases/", {"overdue": "on", "sort": "deadline"}),
        (
            "case list: source + last 7 days",
            leader,
            "/cases/",
            {"source": "collector", "created_from": time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))},
        ),
        ("case page (closed case)", leader, f"/cases/{last}/", {}),
        ("case page (handling, with operations)", dispatcher, f"/cases/{handling}/", {}),
        ("API: case with history (closed)", leader, f"/api/v1/cases/{last}", {}),
        ("map data: open cases", leader, "/map/cases.geojson", {}),
        ("map data: grid layer (cached)", leader, "/map/grids.geojson", {}),
        ("dispatcher desk", dispatcher, "/dispatch/", {}),
    ]
    print(f"\n{'page':<40} {'median ms':>10} {'p95 ms':>8}   ({repeats} requests each)")
    for label, c, url, params in pages:
        c.get(url, params)  # warm up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = c.get(url, params)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        print(f"{label:<40} {median(times):>10.1f} {percentile(times, 95):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the shared benchmark database")
    parser.add_argument("--name", default=CASES_DB, help="benchmark database name")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    url = cases_database(args.db, args.cases, reuse=args.reuse, name=args.name)
    print(f"database: {url.split('@')[-1]}")
    measure(args.repeats)


if __name__ == "__main__":
    main()
