"""Benchmark: all indicators for all departments, all posts and all streets for one month.

    .venv/bin/python bench/evaluation.py --db postgres            # build (3M cases) and time
    .venv/bin/python bench/evaluation.py --db sqlite --reuse      # time an existing build

Builds (unless --reuse finds one) a database with the demo base data and `--cases` synthetic
cases (default 3,000,000) with realistic histories from `_setup.fill` (8–12 entries for closed
cases; reworks, extensions, suspensions, returns; hash-chained), of which `--month-cases`
(default 1,000,000) are reported in the month timed (October 2026 unless --month), the rest
spread over the two years before it. History rows are bulk-inserted (COPY / executemany), so
the evaluation facts are then built by the rebuild path (`facts.rebuild`, the code behind
`urbangrid rebuild_facts`), timed. Then times `evaluate_all()` for the month: the 4 posts, all
departments and all streets (every indicator of the registry) in one call, `--repeat` times;
prints each run (with each object type evaluated alone, for the record) and the median.
`--facts-only` stores the evaluation tables derived from the generated histories instead of the
case and history rows (see `_fill_facts`). Target: < 2 s on PostgreSQL, < 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import _setup
from _setup import median, setup

DB_NAME = "urbangrid_bench_eval"


def _place_cases(total: int, in_month: int, month: str) -> None:
    """Make `_setup`'s generator put `in_month` of the `total` cases in `month`."""
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


def _build(total: int, in_month: int, month: str, facts_only: bool) -> None:
    from urbangrid.demo.builder import build_demo

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    print(f"demo base data in {time.perf_counter() - t0:.1f} s")
    _place_cases(total, in_month, month)
    if facts_only:
        _fill_facts(total, seed=_setup.SEED + 7)
    else:
        _setup.fill(total, seed=_setup.SEED + 7)


def _derive_batch(args: tuple[int, int]) -> tuple[int, list[tuple], list[tuple], Counter]:
    """Cases `start` … `start + n - 1` made by `_setup`'s generator (the same histories `fill`
    writes), each passed through `facts.derive` — the function the hook, `rebuild_facts` and
    `check_facts` use: their CaseFact and CaseSnapshot rows and daily-count contributions."""
    from urbangrid.evaluation import facts
    from urbangrid.evaluation.models import CaseFact

    start, n = args
    work = _setup._WORK
    gen, base, seed = work["gen"], work["base"], work["seed"]
    gen.rng = random.Random(seed * 1_000_003 + start)
    fact_row = _setup._converter(facts.FACT_FIELDS, CaseFact)
    fact_rows, snap_rows, counts = [], [], Counter()
    for k in range(start, start + n):
        case_id = base + k
        c, generated = gen.case(k, case_id, _setup._is_open(k, gen.total))
        entries = [
            facts.Entry(e.seq, e.action, e.to_state, e.actor_id, e.overdue, e.deadline_after, e.created_at, e.payload)
            for e in generated
        ]
        registered = any(e.action == "register" for e in entries)
        values = (
            c["source"],
            c["category_id"],
            c["category_id"] if registered else None,
            c["urgency"],
            c["unit_grid_id"],
            c["work_grid_id"],
            c["community_id"],
            c["street_id"],
        )
        fact, contrib = facts.derive(case_id, entries, facts.Snapshot(*values))
        fact_rows.append((case_id, *fact_row(tuple(fact[name] for name in facts.FACT_FIELDS), {})))
        snap_rows.append((case_id, *values, "", ""))
        counts.update(contrib)
    return start, fact_rows, snap_rows, counts


def _fill_facts(total: int, *, seed: int, procs: int = 2) -> None:
    """The evaluation tables of `total` generated cases, without their case and history rows
    (27 million history rows take over an hour to write here, and evaluation never reads them):
    CaseSnapshot, CaseFact and DailyCount exactly as `rebuild_facts` would make them from those
    histories. Two processes generate and derive while this one writes."""
    import multiprocessing as mp

    from django.db import connection, connections, transaction
    from django.utils import timezone

    from urbangrid.evaluation import cohorts, facts
    from urbangrid.evaluation.models import CaseFact, CaseSnapshot, DailyCount

    gen = _setup._Generator(total, seed, timezone.now().replace(microsecond=0))
    _setup._WORK.update(gen=gen, base=1, seed=seed)
    jobs = [(start, min(_setup.BATCH, total - start)) for start in range(0, total, _setup.BATCH)]
    fact_cols = [CaseFact._meta.get_field("case_id").column] + [
        CaseFact._meta.get_field(name).column for name in facts.FACT_FIELDS
    ]
    snap_cols = [
        CaseSnapshot._meta.get_field(name).column
        for name in (
            "case_id", "source", "reported_category_id", "registered_category_id", "urgency", "unit_grid_id",
            "work_grid_id", "community_id", "street_id", "category_code", "category_kind",
        )
    ]  # fmt: skip
    connections.close_all()
    pool = mp.get_context("fork").Pool(procs)
    with connection.cursor() as cur:
        cur.execute("PRAGMA synchronous = OFF" if connection.vendor == "sqlite" else "SET synchronous_commit TO OFF")
    started, totals = time.perf_counter(), Counter()
    try:
        for start, fact_rows, snap_rows, counts in pool.imap(_derive_batch, jobs):
            with transaction.atomic():
                _setup._write(connection, CaseFact._meta.db_table, fact_cols, fact_rows)
                _setup._write(connection, CaseSnapshot._meta.db_table, snap_cols, snap_rows)
            totals.update(counts)
            done = start + len(fact_rows)
            if done % 200_000 == 0 or done == total:
                print(f"  {done:>9,} cases derived and written, {time.perf_counter() - started:6.1f} s", flush=True)
    finally:
        pool.terminate()
    rows = [(str(d), dim, key, cn, v) for (d, dim, key, cn), v in totals.items() if v]
    cols = [DailyCount._meta.get_field(n).column for n in ("day", "dim", "key", "counter", "value")]
    with transaction.atomic():
        _setup._write(connection, DailyCount._meta.db_table, cols, rows)
        cohort_rows = cohorts.rebuild()  # a function of the facts: a GROUP BY over them
    with connection.cursor() as cur:  # PostgreSQL: VACUUM sets the visibility map index-only scans need
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"facts of {total:,} cases, {len(rows):,} daily counts and {cohort_rows:,} cohort counts"
        f" in {time.perf_counter() - started:.1f} s"
    )


def ensure_data(
    *, reuse: bool, cases: int, month_cases: int, month: str, facts_only: bool = False, rebuild: bool = False
):
    """Build the benchmark data unless `reuse` finds some, build the facts from the history when
    there are none (or with `rebuild`), print the data's size; return the month's Period.
    bench/dashboard.py times its endpoints on the same data."""
    from django.db import connection

    from urbangrid.cases.models import Case
    from urbangrid.evaluation import facts
    from urbangrid.evaluation.models import CaseFact
    from urbangrid.evaluation.periods import parse_period

    built = reuse and (Case.objects.exists() or CaseFact.objects.exists())
    if not built:
        _build(cases, month_cases, month, facts_only)
    if facts_only and rebuild:
        raise SystemExit("--rebuild needs the history rows: not with --facts-only")
    if not facts_only and (not built or rebuild or not CaseFact.objects.exists()):
        t0 = time.perf_counter()
        made = facts.rebuild(log=lambda s: print(s, flush=True) if "000,000" in s else None)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        print(f"rebuild_facts: {made} in {time.perf_counter() - t0:.1f} s")
    if connection.vendor == "postgresql":  # as autovacuum would after the migrations (fresh statistics)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    period = parse_period(month)
    in_month = CaseFact.objects.filter(reported_at__gte=period.start, reported_at__lt=period.end).count()
    print(
        f"{connection.vendor}: {Case.objects.count():,} case rows, {CaseFact.objects.count():,} case facts, "
        f"{in_month:,} reported in {month}"
    )
    return period


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=3_000_000)
    parser.add_argument("--month-cases", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already holds cases")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the facts even when reusing")
    parser.add_argument(
        "--facts-only",
        action="store_true",
        help="store the evaluation tables derived from the generated histories, not the case and history rows",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default=DB_NAME)
    args = parser.parse_args()

    setup(args.db, fresh=not args.reuse, name=args.name)

    from urbangrid.evaluation.indicators import POSTS, evaluate, evaluate_all, registry

    period = ensure_data(
        reuse=args.reuse,
        cases=args.cases,
        month_cases=args.month_cases,
        month=args.month,
        facts_only=args.facts_only,
        rebuild=args.rebuild,
    )
    print(f"{len(registry())} indicators in the registry")
    targets = (*POSTS, "department", "street")
    runs = []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        together = evaluate_all(targets, period)
        total = time.perf_counter() - t0
        runs.append(total)
        parts = []
        for target in targets:  # each object type alone, for the record
            t1 = time.perf_counter()
            rows = evaluate(target, period)
            assert rows == together[target]
            parts.append(f"{target} {(time.perf_counter() - t1) * 1000:.0f} ms ({len(rows)})")
        print(f"run {i + 1}: {total:.3f} s all together; alone: {', '.join(parts)}", flush=True)
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
