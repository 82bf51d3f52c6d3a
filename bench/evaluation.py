"""Benchmark: all indicators for all departments, all posts and all streets for one month.

    .venv/bin/python bench/evaluation.py --db postgres            # build (3M cases) and time
    .venv/bin/python bench/evaluation.py --db sqlite --reuse      # time an existing build

Builds (unless --reuse finds one) a database with the demo base data and `--cases` synthetic
cases (default 3,000,000) with realistic histories from `_setup.fill` (8–12 entries for closed
cases; reworks, extensions, suspensions, returns; hash-chained), of which `--month-cases`
(default 1,000,000) are reported in the month timed (October 2026 unless --month), the rest
spread over the two years before it. History rows are bulk-inserted (COPY / executemany), so
the evaluation facts are then built by the rebuild path (`facts.rebuild`, the code behind
`urbangrid rebuild_facts`), timed. Then times `evaluate()` for the month: the 4 posts, all
departments and all streets (every indicator of the registry), `--repeat` times; prints each run
and the median. Target: < 2 s on PostgreSQL, < 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import _setup
from _setup import median, setup

DB_NAME = "urbangrid_bench_eval"


def _build(total: int, in_month: int, month: str) -> None:
    from urbangrid.demo.builder import build_demo

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    print(f"demo base data in {time.perf_counter() - t0:.1f} s")
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1, tzinfo=UTC) - timedelta(hours=8)  # local midnight (Asia/Shanghai)
    older = total - in_month
    original = _setup._Generator.case

    def case(self, k, case_id, open_):
        # the older cases 40 s apart before the month; the month's cases 2 s apart from its 2nd day
        if k < older:
            _setup.SECONDS_APART = 40
            self.first = start - timedelta(seconds=40 * older)
        else:
            _setup.SECONDS_APART = 2
            self.first = start + timedelta(days=1) - timedelta(seconds=2 * older)
        return original(self, k, case_id, open_)

    _setup._Generator.case = case
    _setup.fill(total, seed=_setup.SEED + 7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=3_000_000)
    parser.add_argument("--month-cases", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already holds cases")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the facts even when reusing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default=DB_NAME)
    args = parser.parse_args()

    setup(args.db, fresh=not args.reuse, name=args.name)
    from django.db import connection

    from urbangrid.cases.models import Case
    from urbangrid.evaluation import facts
    from urbangrid.evaluation.indicators import POSTS, evaluate, registry
    from urbangrid.evaluation.models import CaseFact
    from urbangrid.evaluation.periods import parse_period

    built = args.reuse and Case.objects.exists()
    if not built:
        _build(args.cases, args.month_cases, args.month)
    if not built or args.rebuild or not CaseFact.objects.exists():
        t0 = time.perf_counter()
        made = facts.rebuild(log=lambda s: print(s, flush=True) if "000,000" in s else None)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        print(f"rebuild_facts: {made} in {time.perf_counter() - t0:.1f} s")
    period = parse_period(args.month)
    in_month = CaseFact.objects.filter(reported_at__gte=period.start, reported_at__lt=period.end).count()
    print(
        f"{connection.vendor}: {Case.objects.count():,} cases, {CaseFact.objects.count():,} facts, "
        f"{in_month:,} reported in {args.month}; {len(registry())} indicators in the registry"
    )
    runs = []
    for i in range(args.repeat):
        parts = {}
        t0 = time.perf_counter()
        for target in (*POSTS, "department", "street"):
            t1 = time.perf_counter()
            rows = evaluate(target, period)
            parts[target] = (time.perf_counter() - t1, len(rows))
        total = time.perf_counter() - t0
        runs.append(total)
        detail = ", ".join(f"{k} {s * 1000:.0f} ms ({n})" for k, (s, n) in parts.items())
        print(f"run {i + 1}: {total:.3f} s — {detail}")
    print(f"median of {args.repeat}: {median(runs):.3f} s (target {'2' if args.db == 'postgres' else '5'} s)")
    sample = evaluate("department", period)[:3]
    for row in sample:
        v = row["values"]
        print(
            f"  {row['object']['name']}: 应处置 {v['dept_should']}, 按期处置率 {v['dept_on_time_handling_rate']}, "
            f"结案率 {v['dept_closure_rate']}, 返工率 {v['dept_rework_rate']}, 综合 {v['dept_composite']}"
        )


if __name__ == "__main__":
    main()
