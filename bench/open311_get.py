"""Benchmark: Open311 GET requests.json (1,000 results) with 1,000,000 cases stored, PostgreSQL.

    .venv/bin/python bench/open311_get.py [--cases 1000000] [--repeats 200] [--keep]

Builds the demo city's base data in its own database (BENCH_PG_URL, default
.../urbangrid_bench_open311_get), then bulk-inserts the cases server-side (INSERT … SELECT
over generate_series; two years of reports, most of them closed, one history entry per
report and one per closing, an Open311 record for every tenth), starts gunicorn and times
GET requests.json from a separate process, one request at a time. `--keep` reuses the
database of an earlier run. Prints p50/p95 per query shape.
Target: p95 under 100 ms for 1,000 results.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time

os.environ.setdefault("BENCH_PG_URL", "postgres://urbangrid:urbangrid@127.0.0.1:5432/urbangrid_bench_open311_get")

from _setup import median, percentile, setup
from open311_post import start_server

SECONDS_APART = 63  # 1,000,000 reports over about two years


def _fill(count: int) -> None:
    """`count` cases, their history and some Open311 records, inserted by the database itself."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from urbangrid.cases.models import Case
    from urbangrid.demo.builder import build_demo
    from urbangrid.geo.models import UnitGrid
    from urbangrid.open311.models import ServiceRequest
    from urbangrid.open311.public import public_categories
    from urbangrid.workflow.models import History

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    grids = list(UnitGrid.objects.values_list("pk", "community_id", "community__parent_id", "min_lon", "min_lat"))
    cats = list(public_categories())
    depts = list(Case._meta.get_field("department").related_model.objects.values_list("pk", flat=True))
    print(f"base data in {time.perf_counter() - t0:.1f} s; {len(grids)} grids, {len(cats)} services")
    n = len(grids)
    pick = f"1 + mod(i, {n})"
    created = f"now() - make_interval(secs => i * {SECONDS_APART})"
    values = {
        "state": "CASE WHEN mod(i, 10) < 7 THEN 'closed' WHEN mod(i, 10) < 9 THEN 'handling' ELSE 'reported' END",
        "version": "1",
        "number": "'9' || lpad(i::text, 12, '0')",
        "source": "CASE WHEN mod(i, 10) = 0 THEN 'partner' ELSE 'collector' END",
        "channel": "'{}'::jsonb",
        "category_id": f"(%(cats)s::bigint[])[1 + mod(i * 7, {len(cats)})]",
        "description": "'路边有垃圾堆，影响通行（第' || i || '件）'",
        "address": "''",
        "lon": f"(%(lon)s::float8[])[{pick}] + 0.0003",
        "lat": f"(%(lat)s::float8[])[{pick}] + 0.0003",
        "unit_grid_id": f"(%(grid)s::bigint[])[{pick}]",
        "community_id": f"(%(comm)s::bigint[])[{pick}]",
        "street_id": f"(%(street)s::bigint[])[{pick}]",
        "urgency": "'normal'",
        "department_id": f"CASE WHEN mod(i, 10) < 9 THEN (%(dept)s::bigint[])[1 + mod(i, {len(depts)})] END",
        "created_at": created,
        "closed_at": f"CASE WHEN mod(i, 10) < 7 THEN {created} + interval '2 days' END",
        "deadline": "CASE WHEN mod(i, 10) IN (7, 8) THEN now() + interval '1 day' - make_interval(secs => i) END",
    }
    columns, exprs = [], []
    for f in Case._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.column in values:
            expr = values[f.column]
        elif f.has_default() and not callable(f.default):
            expr = "%(d_" + f.column + ")s"
            values["d_" + f.column] = f.get_db_prep_save(f.default, connection)
        elif f.has_default():
            expr = "%(d_" + f.column + ")s"
            values["d_" + f.column] = f.get_db_prep_save(f.default(), connection)
        elif f.null:
            expr = "NULL"
        else:
            expr = "''"
        columns.append(f.column)
        exprs.append(expr)
    params = {
        "cats": cats,
        "lon": [g[3] for g in grids],
        "lat": [g[4] for g in grids],
        "grid": [g[0] for g in grids],
        "comm": [g[1] for g in grids],
        "street": [g[2] for g in grids],
        "dept": depts,
        **{k: v for k, v in values.items() if k.startswith("d_")},
    }
    ct = ContentType.objects.get_for_model(Case).pk
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO OFF")
        cur.execute(
            f"INSERT INTO {Case._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(exprs)} FROM generate_series(1, {count}) AS i",
            params,
        )
        print(f"{count} cases inserted in {time.perf_counter() - t0:.1f} s")
        hist = {
            "content_type_id": str(ct),
            "object_id": "c.id",
            "seq": "s.seq",
            "action": "CASE s.seq WHEN 1 THEN 'report' ELSE 'close' END",
            "from_state": "CASE s.seq WHEN 1 THEN '' ELSE 'pending_close' END",
            "to_state": "CASE s.seq WHEN 1 THEN 'reported' ELSE 'closed' END",
            "payload": "'{}'::jsonb",
            "attachments": "'[]'::jsonb",
            "overdue": "false",
            "created_at": "CASE s.seq WHEN 1 THEN c.created_at ELSE c.closed_at END",
        }
        hcols = [f.column for f in History._meta.concrete_fields if not f.primary_key]
        hexprs = [hist.get(c, "NULL" if History._meta.get_field(_attname(History, c)).null else "''") for c in hcols]
        cur.execute(
            f"INSERT INTO {History._meta.db_table} ({', '.join(hcols)}) "
            f"SELECT {', '.join(hexprs)} FROM {Case._meta.db_table} c "
            "JOIN (VALUES (1), (2)) AS s(seq) ON s.seq = 1 OR c.closed_at IS NOT NULL"
        )
        req = {
            "case_id": "c.id",
            "status": "'created'",
            "photos": "'[]'::jsonb",
            "attributes": "'{}'::jsonb",
            "pending": "'{}'::jsonb",
            "created_at": "c.created_at",
        }
        rcols = [f.column for f in ServiceRequest._meta.concrete_fields if not f.primary_key]
        rexprs = [
            req.get(c, "NULL" if ServiceRequest._meta.get_field(_attname(ServiceRequest, c)).null else "''")
            for c in rcols
        ]
        cur.execute(
            f"INSERT INTO {ServiceRequest._meta.db_table} ({', '.join(rcols)}) "
            f"SELECT {', '.join(rexprs)} FROM {Case._meta.db_table} c WHERE c.source = 'partner'"
        )
        cur.execute("ANALYZE")
    print(f"history and Open311 records, ANALYZE: {time.perf_counter() - t0:.1f} s in all")


def _attname(model, column: str) -> str:
    return next(f.name for f in model._meta.concrete_fields if f.column == column)


def _time(port: int, path: str, repeats: int) -> tuple[list[float], int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, size = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status} {body[:200]!r}")
        size = len(json.loads(body)) if path.split("?")[0].endswith(".json") else body.count(b"<request>")
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8312)
    parser.add_argument("--keep", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    url = setup("postgres", fresh=not args.keep)
    from django.db import connections

    from urbangrid.cases.models import Case

    if not args.keep:
        _fill(args.cases)
    print(f"cases stored: {Case.objects.count()}")
    connections.close_all()
    server = start_server(url, args.workers, "sync", args.port)
    shapes = [
        "/open311/v2/requests.json",
        "/open311/v2/requests.json?status=open",
        "/open311/v2/requests.json?extensions=true",
        "/open311/v2/requests.xml",
    ]
    try:
        for path in shapes:
            _time(args.port, path, 5)  # warm-up
            ms, size = _time(args.port, path, args.repeats)
            print(
                f"GET {path}: {size} results; p50 {median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
                f"max {max(ms):.1f} ms ({len(ms)} requests)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
