"""Server response times of the staff web with a million cases.

    .venv/bin/python bench/page_load.py [--cases 1000000] [--db var/bench-pages.sqlite3] [--rebuild]

Builds (once) a separate SQLite benchmark database: the demo city through its real actions
(base data, users, 200 cases), then bulk-inserts synthetic cases with one SQL statement per
100,000 rows (a recursive CTE; ~1 min for 1M) plus their "report" history rows and an
"accept" by the operator for every 20th case. Then it measures, with Django's test client,
the workbench, filtered case lists, the done list, the case page and the map data, and
prints median and p95 in milliseconds. For PostgreSQL, point DATABASE_URL at an empty
database instead of --db (the bulk insert is SQLite SQL; adapt it with generate_series).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _setup import median, percentile

ROOT = Path(__file__).resolve().parents[1]
STATES = [  # (state, weight per 1000): most cases are closed, as in a real bureau
    ("closed", 900),
    ("handling", 40),
    ("reported", 10),
    ("accepted", 5),
    ("registered", 10),
    ("feedback", 10),
    ("checking", 10),
    ("pending_close", 5),
    ("rejected", 5),
    ("suspended", 5),
]


def setup(db: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{db}")
    os.environ.setdefault("URBANGRID_DATA_DIR", str(db.parent))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def build(total: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from urbangrid.demo.builder import build_demo

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build_demo(components=0, cases=200)
    print(f"demo city built in {time.perf_counter() - started:.1f} s")
    from django.contrib.contenttypes.models import ContentType

    from urbangrid.cases.models import Case
    from urbangrid.catalog.models import Category
    from urbangrid.core.models import Department, User
    from urbangrid.geo.models import UnitGrid

    ct = ContentType.objects.get_for_model(Case).pk
    cats = list(Category.objects.filter(parent__isnull=False, active=True).values_list("pk", flat=True))
    grids = list(
        UnitGrid.objects.values_list(
            "pk", "work_grid_id", "community_id", "community__parent_id", "min_lon", "min_lat", "max_lon", "max_lat"
        )
    )
    depts = list(Department.objects.filter(kind__in=["professional", "company"]).values_list("pk", flat=True))
    operator = User.objects.get(username="operator").pk
    collector = User.objects.get(username="collector01").pk
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE g(i INTEGER PRIMARY KEY, id, wg, comm, street, lon, lat)")
        cur.executemany(
            "INSERT INTO g VALUES (?,?,?,?,?,?,?)",
            [
                (i, pk, wg, comm, street, (x0 + x1) / 2, (y0 + y1) / 2)
                for i, (pk, wg, comm, street, x0, y0, x1, y1) in enumerate(grids)
            ],
        )
        cur.execute("CREATE TEMP TABLE c(i INTEGER PRIMARY KEY, id)")
        cur.executemany("INSERT INTO c VALUES (?,?)", list(enumerate(cats)))
        cur.execute("CREATE TEMP TABLE d(i INTEGER PRIMARY KEY, id)")
        cur.executemany("INSERT INTO d VALUES (?,?)", list(enumerate(depts)))
        cur.execute("CREATE TEMP TABLE s(lo INTEGER, hi INTEGER, state TEXT)")
        lo = 0
        for state, w in STATES:
            cur.execute("INSERT INTO s VALUES (?,?,?)", (lo, lo + w, state))
            lo += w
        base = cur.execute("SELECT COALESCE(MAX(id), 0) FROM cases_case").fetchone()[0]
        started = time.perf_counter()
        step = 100_000
        for start in range(0, total, step):
            n = min(step, total - start)
            cur.execute(f"""
                INSERT INTO cases_case (id, number, source, channel, category_id, description, address, lon, lat,
                    unit_grid_id, work_grid_id, community_id, street_id, urgency, reporter_name, reporter_phone,
                    reporter_email, reported_by_id, department_id, suggested_department_id, verified, supervised,
                    urged_count, rework_count, return_count, extension_count, self_handled, pending_request,
                    pending_data, light, created_at, state, version, stage, stage_limit_unit, stage_started_at,
                    deadline, deadline_provisional, warn_at)
                WITH RECURSIVE seq(k) AS (SELECT {start} UNION ALL SELECT k + 1 FROM seq WHERE k < {start + n - 1})
                SELECT {base} + k + 1, 'B' || printf('%012d', k), 'collector', '{{}}',
                    (SELECT id FROM c WHERE i = k % (SELECT COUNT(*) FROM c)), '合成案件', '',
                    g.lon, g.lat, g.id, g.wg, g.comm, g.street, 'normal', '', '', '', {collector},
                    CASE WHEN st.state IN ('handling','feedback','checking','pending_close','closed','suspended')
                         THEN (SELECT id FROM d WHERE i = k % (SELECT COUNT(*) FROM d)) END,
                    (SELECT id FROM d WHERE i = k % (SELECT COUNT(*) FROM d)), NULL, 0, 0, 0, 0, 0, 0, '', '{{}}',
                    'green', datetime('now', printf('-%d minutes', ({total} - k) / 2)), st.state, 3, '', '', NULL,
                    CASE WHEN st.state NOT IN ('closed','rejected','suspended')
                         THEN datetime('now', printf('%+d minutes', (k * 7919) % 20000 - 10000)) END,
                    0,
                    CASE WHEN st.state NOT IN ('closed','rejected','suspended')
                         THEN datetime('now', printf('%+d minutes', (k * 7919) % 20000 - 12000)) END
                FROM seq
                JOIN g ON g.i = (k * 2654435761) % (SELECT COUNT(*) FROM g)
                JOIN s st ON (k * 40503) % 1000 >= st.lo AND (k * 40503) % 1000 < st.hi
            """)
            cur.execute(f"""
                INSERT INTO workflow_history (content_type_id, object_id, seq, action, from_state, to_state, actor_id,
                    role, reason, payload, attachments, stage, stage_limit, overdue, created_at)
                SELECT {ct}, id, 1, 'report', '', 'reported', {collector}, 'collector', '', '{{}}', '[]', '', '', 0,
                       created_at FROM cases_case WHERE id > {base + start} AND id <= {base + start + n}
            """)
            cur.execute(f"""
                INSERT INTO workflow_history (content_type_id, object_id, seq, action, from_state, to_state, actor_id,
                    role, reason, payload, attachments, stage, stage_limit, overdue, created_at)
                SELECT {ct}, id, 2, 'accept', 'reported', 'accepted', {operator}, 'operator', '', '{{}}', '[]', '', '',
                       0, created_at FROM cases_case WHERE id > {base + start} AND id <= {base + start + n}
                       AND id % 20 = 0
            """)
            print(f"  {start + n:>9,} cases", flush=True)
        cur.execute("ANALYZE")
    print(f"bulk insert of {total:,} cases in {time.perf_counter() - started:.1f} s")


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
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    handling = Case.objects.filter(state="handling").order_by("-pk").values_list("pk", flat=True).first()
    print(f"cases in the database: {last:,} (max id)")
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
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-pages.sqlite3")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    db = args.db.resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    if args.rebuild and db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    fresh = not db.exists()
    setup(db)
    if fresh:
        build(args.cases)
    measure(args.repeats)


if __name__ == "__main__":
    main()
