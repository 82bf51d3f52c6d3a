"""Benchmark: one department's open-task list with 1,000,000 cases stored (PostgreSQL).

    .venv/bin/python bench/department_todo.py            # BENCH_PG_URL, default local urbangrid_bench_todo
    .venv/bin/python bench/department_todo.py --reuse    # keep the cases from a previous run

Fills the database with the demo base data and 1,000,000 cases spread over every state,
department, grid and category (one INSERT … SELECT), then times the department work list
(`urbangrid.cases.queries.department_todo`, first page of 50 with the joins the API uses)
for random departments and prints p50/p95 and the query plan. Target: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import time

os.environ.setdefault("BENCH_PG_URL", "postgres://urbangrid:urbangrid@127.0.0.1:5432/urbangrid_bench_todo")

from _setup import median, percentile, setup

FILL_SQL = """
WITH g AS (
    SELECT row_number() OVER (ORDER BY ug.id) AS n, ug.id, ug.work_grid_id, ug.community_id, c.parent_id AS street_id
    FROM geo_unitgrid ug JOIN geo_admindivision c ON c.id = ug.community_id
), gc AS (SELECT count(*) AS n FROM g),
cat AS (SELECT row_number() OVER (ORDER BY id) AS n, id FROM catalog_category WHERE parent_id IS NOT NULL),
cc AS (SELECT count(*) AS n FROM cat),
d AS (SELECT row_number() OVER (ORDER BY id) AS n, id FROM core_department WHERE kind NOT IN
      ('supervision_center', 'command_center')),
dc AS (SELECT count(*) AS n FROM d),
s AS (
    SELECT i, random() AS r, now() - (random() * interval '365 days') AS t,
           (floor(random() * (SELECT n FROM gc)) + 1)::int AS gn,
           (floor(random() * (SELECT n FROM cc)) + 1)::int AS cn,
           (floor(random() * (SELECT n FROM dc)) + 1)::int AS dn
    FROM generate_series(1, %(count)s) AS i
)
INSERT INTO cases_case (
    state, version, stage, stage_limit_unit, deadline_provisional, number, source, channel, category_id, description,
    address, lon, lat, unit_grid_id, work_grid_id, community_id, street_id, urgency, reporter_name, reporter_phone,
    reporter_email, department_id, supervised, urged_count, rework_count, return_count, extension_count,
    self_handled, pending_request, pending_data, light, created_at, deadline, stage_started_at, verified
)
SELECT
    CASE WHEN s.r < 0.85 THEN 'closed' WHEN s.r < 0.90 THEN 'handling' WHEN s.r < 0.92 THEN 'registered'
         WHEN s.r < 0.94 THEN 'feedback' WHEN s.r < 0.95 THEN 'checking' WHEN s.r < 0.97 THEN 'rejected'
         WHEN s.r < 0.98 THEN 'suspended' ELSE 'reported' END,
    4, '', '', false, 'B' || lpad(s.i::text, 18, '0'), 'collector', '{}', cat.id, '批量生成的案件', '',
    120.55, 30.63, g.id, g.work_grid_id, g.community_id, g.street_id, 'normal', '', '', '',
    CASE WHEN s.r < 0.90 OR (s.r >= 0.92 AND s.r < 0.95) OR (s.r >= 0.97 AND s.r < 0.98) THEN d.id END,
    false, 0, 0, 0, 0, false, '', '{}', 'green', s.t,
    CASE WHEN s.r >= 0.85 AND s.r < 0.90 THEN s.t + interval '1 day' END,
    CASE WHEN s.r >= 0.85 AND s.r < 0.90 THEN s.t END, true
FROM s JOIN g ON g.n = s.gn JOIN cat ON cat.n = s.cn JOIN d ON d.n = s.dn
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="reuse the cases of a previous run")
    args = parser.parse_args()
    url = setup("postgres", fresh=not args.reuse)

    from django.db import connection

    from urbangrid.cases.models import Case
    from urbangrid.cases.queries import department_todo
    from urbangrid.core.models import Department
    from urbangrid.demo.builder import build_demo

    if not args.reuse or not Case.objects.exists():
        t0 = time.perf_counter()
        build_demo(components=0, cases=0)
        print(f"demo base data: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(FILL_SQL, {"count": args.cases})
            cur.execute("ANALYZE cases_case")
        print(f"inserted {args.cases:,} cases in {time.perf_counter() - t0:.1f} s")
    total = Case.objects.count()
    depts = list(Department.objects.filter(cases__isnull=False).distinct().values_list("pk", flat=True))
    print(f"database: {url.split('@')[-1]}; cases: {total:,}; departments with cases: {len(depts)}")

    def page(dept_id: int) -> list[Case]:
        return list(department_todo(dept_id)[:50])

    rng = random.Random(3)
    for d in depts[:5]:
        page(d)  # warm the cache, as a running server would be
    times = []
    for _ in range(args.queries):
        d = rng.choice(depts)
        t0 = time.perf_counter()
        rows = page(d)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"department to-do list, first page of 50 ({len(rows)} rows), {args.queries} queries: "
          f"p50 {median(times):.2f} ms, p95 {percentile(times, 95):.2f} ms, max {max(times):.2f} ms")
    sql, params = department_todo(depts[0])[:50].query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        print("\nquery plan:")
        for (line,) in cur.fetchall():
            print("  " + line)


if __name__ == "__main__":
    main()
