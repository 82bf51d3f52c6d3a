"""Benchmark: a department handler's to-do (待办) with 1,000,000 cases stored, as users hit it.

    .venv/bin/python bench/department_todo.py --db sqlite   [--reuse] [--user handler-hw]
    .venv/bin/python bench/department_todo.py --db postgres [--reuse]   # BENCH_PG_URL's server

Uses the shared benchmark database (`_setup.cases_database`: demo base data and 1,000,000
synthetic cases with full histories; built on first use, kept for --reuse). Times, for a real
handler account of a department (default: the handler whose department has the most open
tasks), through Django's test client with the full middleware:

* `GET /todo/` — the department workbench: the scope-aware to-do (`visible_cases(user)`
  filtered by `todo_q(user)`, the UNION of the buckets the loop's holders and approvals give
  this user), first page by deadline as the web list pages it, the per-state and light counts,
  the rendered template;
* `GET /api/v1/cases?mine=true` — the same to-do through the REST API (first 50, newest first);
* the web list's query alone: `lists.paginate(lists.base_queryset(user, "todo"), "deadline")`.

Prints median, p95 and max per shape, the SQL statements per request and the query plan of
the to-do query. Target: p95 < 50 ms for the query, < 200 ms for the page.
"""

from __future__ import annotations

import argparse
import time

from _setup import CASES_DB, cases_database, median, percentile


def _plan(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            return [line for (line,) in cur.fetchall()]
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [" " * (2 * (row[1] > 0)) + str(row[-1]) for row in cur.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=100, help="requests per shape")
    parser.add_argument("--user", default="", help="handler account (default: busiest department's handler)")
    parser.add_argument("--reuse", action="store_true", help="reuse the shared benchmark database")
    parser.add_argument("--name", default=CASES_DB, help="benchmark database name")
    args = parser.parse_args()
    url = cases_database(args.db, args.cases, reuse=args.reuse, name=args.name)

    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from urbangrid.cases.models import Case
    from urbangrid.core.models import User
    from urbangrid.web import lists

    handlers = User.objects.filter(roles__code="handler", department__isnull=False)
    if args.user:
        user = handlers.get(username=args.user)
    else:
        busiest = (
            Case.objects.filter(state="handling", department__isnull=False)
            .values("department_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        user = handlers.filter(department_id=busiest["department_id"]).order_by("pk").first()
    qs = lists.base_queryset(user, "todo")
    todo = qs.order_by().count()
    print(
        f"database: {url.split('@')[-1]}; cases: {Case.objects.count():,}; user {user.username} "
        f"({user.department.name}): {todo:,} cases in the to-do"
    )

    client = Client()
    client.force_login(user)
    shapes = [
        ("GET /todo/ (department workbench page)", lambda: client.get("/todo/")),
        ("GET /api/v1/cases?mine=true", lambda: client.get("/api/v1/cases", {"mine": "true"})),
        ("to-do query: paginate(base_queryset, deadline)", lambda: lists.paginate(qs, "deadline")),
    ]
    print(f"\n{'shape':<50} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'SQL':>4}   ({args.repeats} each)")
    for label, call in shapes:
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            first = call()  # warm-up, and what it sends to the database
        status = getattr(first, "status_code", 200)
        assert status == 200, (label, status)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        print(
            f"{label:<50} {median(times):>10.1f} {percentile(times, 95):>8.1f} {max(times):>8.1f} {len(statements):>4}"
        )
    page = lists.paginate(qs, "deadline")
    print(f"\nfirst page: {len(page.items)} cases, states {sorted({c.state for c in page.items})}")
    open_state = page.items[0].state if page.items else "handling"
    part = qs.filter(deadline__isnull=False, state=open_state).order_by("deadline", "pk")[:51]
    sql, params = part.query.sql_with_params()
    print(f"\nquery plan of the to-do's '{open_state}' part (one of the per-state reads paginate merges):")
    for line in _plan(sql, params):
        print("  " + line)


if __name__ == "__main__":
    main()
