"""Benchmark: Open311 GET requests.json (1,000 results) with 1,000,000 cases stored.

    .venv/bin/python bench/open311_get.py [--db postgres|sqlite] [--reuse] [--repeats 200]

Uses the shared benchmark database (`_setup.cases_database`: the demo city's base data and
1,000,000 synthetic cases over two years, 15 % open, each with its full hash-chained history,
8 to 12 entries for a closed case; citizen and partner reports, the sources Open311 publishes,
are 15 % of them and have their Open311 record), starts gunicorn on it and times GET
requests.json from a separate process, one request at a time. Prints p50/p95 per query shape.
Target: p95 under 100 ms for 1,000 results.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time

from _setup import CASES_DB, cases_database, median, percentile
from open311_post import start_server


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
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8321)
    parser.add_argument("--reuse", action="store_true", help="reuse the shared benchmark database")
    parser.add_argument("--name", default=CASES_DB, help="benchmark database name")
    args = parser.parse_args()
    url = cases_database(args.db, args.cases, reuse=args.reuse, name=args.name)
    from django.db import connections

    from urbangrid.open311.public import published_cases

    print(f"database: {url.split('@')[-1]}; published cases: {published_cases().count():,}")
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
