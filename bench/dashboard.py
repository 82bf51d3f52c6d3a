"""Benchmark: the dashboard's JSON endpoints on a month of cases.

    .venv/bin/python bench/dashboard.py --db sqlite --cases 300000 --month-cases 100000
    .venv/bin/python bench/dashboard.py --db postgres --reuse --name urbangrid_bench_eval

Builds the database as bench/evaluation.py does (its `_build`: demo base data, synthetic cases
with full histories, `--month-cases` of them in `--month`, then `facts.rebuild`), or reuses one
(`--reuse`, e.g. evaluation.py's 3M-case build). Then times, `--repeat` times each, without the
dashboard cache (cold: every query runs) and with it (warm), once the department evaluation the
summary shows is stored (what `urbangrid worker` keeps fresh, evaluation/stored.py); the first
request of a period and scope, which computes that evaluation, is timed apart:

* /dashboard/api/summary.json for the month, city-wide and for the busiest street, community and
  work grid;
* /dashboard/api/screen.json, feed.json, density.json and collectors.json (the big screen).

Prints each endpoint's median and the slowest run. Target: < 300 ms.
"""

from __future__ import annotations

import argparse
import time

import _setup
from _setup import median, setup

DB_NAME = "urbangrid_bench_dashboard"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--month-cases", type=int, default=100_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--name", default=DB_NAME)
    args = parser.parse_args()

    setup(args.db, fresh=not args.reuse, name=args.name)
    import evaluation  # bench/evaluation.py: the same data builder
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from urbangrid.core.models import User
    from urbangrid.evaluation.models import CaseFact

    settings.ALLOWED_HOSTS = ["*"]
    p = evaluation.ensure_data(reuse=args.reuse, cases=args.cases, month_cases=args.month_cases, month=args.month)
    from django.db.models import Count

    from urbangrid.geo.models import AdminDivision, WorkGrid

    def busiest(column: str) -> int:
        in_month = CaseFact.objects.filter(
            reported_at__gte=p.start, reported_at__lt=p.end, **{f"{column}__isnull": False}
        )
        return in_month.values(column).annotate(n=Count(column)).order_by("-n").first()[column]

    street_code = AdminDivision.objects.get(pk=busiest("street_id")).code
    community_code = AdminDivision.objects.get(pk=busiest("community_id")).code
    work_grid_code = WorkGrid.objects.get(pk=busiest("work_grid_id")).code
    leader = User.objects.filter(is_superuser=True).first() or User.objects.filter(roles__code="leader").first()
    client = Client()
    client.force_login(leader)
    urls = {
        "summary city": f"/dashboard/api/summary.json?period={args.month}",
        "summary street": f"/dashboard/api/summary.json?period={args.month}&scope=street:{street_code}",
        "summary community": f"/dashboard/api/summary.json?period={args.month}&scope=community:{community_code}",
        "summary work grid": f"/dashboard/api/summary.json?period={args.month}&scope=work_grid:{work_grid_code}",
        "screen": "/dashboard/api/screen.json",
        "feed": "/dashboard/api/feed.json",
        "density": "/dashboard/api/density.json",
        "collectors": "/dashboard/api/collectors.json",
    }
    from urbangrid.evaluation import stored
    from urbangrid.evaluation.models import StoredEvaluation
    from urbangrid.evaluation.periods import Scope, parse_scope

    settings.URBANGRID_DASHBOARD_CACHE_SECONDS = 0
    settings.URBANGRID_EVALUATION_MAX_AGE = 600
    StoredEvaluation.objects.all().delete()
    print("--- without a stored evaluation (the first request of a period and scope)")
    scopes = {
        "summary city": Scope("city"),
        "summary street": parse_scope(f"street:{street_code}"),
        "summary community": parse_scope(f"community:{community_code}"),
        "summary work grid": parse_scope(f"work_grid:{work_grid_code}"),
    }
    for name in scopes:
        t0 = time.perf_counter()
        assert client.get(urls[name]).status_code == 200
        print(f"{name:18s} {(time.perf_counter() - t0) * 1000:7.1f} ms  {urls[name]}")
    t0 = time.perf_counter()
    for scope in scopes.values():
        stored.refresh("department", p, scope)
    print(f"refreshing these {len(scopes)} evaluations: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for label, seconds in (("cold (no cache; the stored evaluation is fresh)", 0), ("warm (cache 30 s)", 30)):
        settings.URBANGRID_DASHBOARD_CACHE_SECONDS = seconds
        cache.clear()
        print(f"--- {label}")
        for name, url in urls.items():
            runs = []
            for _i in range(args.repeat):
                t0 = time.perf_counter()
                r = client.get(url)
                runs.append(time.perf_counter() - t0)
                assert r.status_code == 200, (url, r.status_code)
            print(f"{name:18s} median {median(runs) * 1000:7.1f} ms, max {max(runs) * 1000:7.1f} ms  {url}")


if __name__ == "__main__":
    _setup  # noqa: B018 (sets sys.path and the demo key)
    main()
