"""Benchmark: Open311 POST requests.json over HTTP to a multi-process gunicorn on PostgreSQL.

    .venv/bin/python bench/open311_post.py [--workers 3] [--clients 6] [--requests 12000] [--seconds 25]

Builds the demo city (2,000 components, no cases) in its own PostgreSQL database
(BENCH_PG_URL, default .../urbangrid_bench_open311), registers a partner application, starts
gunicorn (sync workers, no access log) and drives it from a separate load process: `--clients`
threads, each with its own HTTP connection, POST as fast as answers come back, until
`--requests` are done or `--seconds` have passed (after a warm-up). Every request is a full
GeoReport v2 POST (api_key, rate-limit check, validation, grid lookup, case through the loop's
`report`, history, Open311 record). Prints requests/s, p50 and p99 latency.
Target on a 2-core machine: at least 400 requests/s with p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

os.environ.setdefault("BENCH_PG_URL", "postgres://urbangrid:urbangrid@127.0.0.1:5432/urbangrid_bench_open311")

from _setup import ROOT, median, percentile, setup


def _prepare() -> tuple[str, list[bytes]]:
    """Demo city + a partner key; returns the key and ready-made request bodies."""
    from urbangrid.demo.builder import build_demo
    from urbangrid.geo.index import get_index
    from urbangrid.geo.models import UnitGrid
    from urbangrid.open311.actions import issue_application
    from urbangrid.open311.public import public_categories, service_configs

    t0 = time.perf_counter()
    build_demo(components=2000, cases=0)
    print(f"demo city built in {time.perf_counter() - t0:.1f} s")
    _app, key = issue_application("bench", rate_limit=10**9, address_rate_limit=10**9)
    index = get_index()
    points = []
    for g in UnitGrid.objects.all():
        lon, lat = (g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2
        if index.locate_idx(lon, lat) >= 0:
            points.append((lon, lat))
    # services that ask for attributes (the demo's attribute and batch services) are left out:
    # the bodies carry none
    configs = service_configs()
    codes = [
        c.code
        for pk, c in public_categories().items()
        if pk not in configs or (configs[pk].type == "realtime" and not configs[pk].attributes.all())
    ]
    rng = random.Random(7)
    bodies = []
    for i in range(5000):
        lon, lat = rng.choice(points)
        form = {
            "api_key": key,
            "service_code": rng.choice(codes),
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": f"路边有垃圾堆，影响通行（压测 {i}）",
            "email": "citizen@example.cn",
            "phone": "13800000000",
        }
        bodies.append(urllib.parse.urlencode(form).encode())
    return key, bodies


def start_server(url: str, workers: int, worker_class: str, port: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port` (no access log), once it answers."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "urbangrid.settings",
        "CONN_MAX_AGE": "600",
    }
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "urbangrid.wsgi:application",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    server = subprocess.Popen(cmd, env=env, cwd=ROOT)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/open311/v2/services.json")
            if c.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _client(port: int, bodies: list[bytes], stop_at: float, budget: list[int], lock, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "keep-alive"}
    i = random.randrange(len(bodies))
    while time.time() < stop_at:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        body = bodies[i % len(bodies)]
        i += 1
        t = time.perf_counter()
        try:
            conn.request("POST", "/open311/v2/requests.json", body, headers)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if resp.status != 200:
            raise SystemExit(f"HTTP {resp.status}")
        out.append(time.perf_counter() - t)
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def load(port: int, bodies: list[bytes], clients: int, requests: int, seconds: float, queue) -> None:
    """The load process: `clients` threads; puts (latencies, wall seconds) on the queue."""
    stop_at = time.time() + seconds
    budget, lock, latencies = [requests], threading.Lock(), []
    threads = [
        threading.Thread(target=_client, args=(port, bodies, stop_at, budget, lock, latencies)) for _ in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((latencies, time.perf_counter() - t0))


def run_load(port: int, bodies: list[bytes], clients: int, requests: int, seconds: float) -> tuple[list[float], float]:
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=load, args=(port, bodies, clients, requests, seconds, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--clients", type=int, default=6, help="concurrent connections of the load process")
    parser.add_argument("--requests", type=int, default=12000)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--port", type=int, default=8311)
    args = parser.parse_args()
    url = setup("postgres")
    _key, bodies = _prepare()
    from django.db import connections

    connections.close_all()
    server = start_server(url, args.workers, args.worker_class, args.port)
    try:
        warm, _ = run_load(args.port, bodies, args.clients, 100 * args.workers, 30)
        print(f"warm-up: {len(warm)} requests")
        latencies, wall = run_load(args.port, bodies, args.clients, args.requests, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = [x * 1000 for x in latencies]
    print(
        f"POST requests.json, gunicorn {args.workers} {args.worker_class} workers, {args.clients} clients: "
        f"{len(ms)} requests in {wall:.1f} s = {len(ms) / wall:.0f} req/s; "
        f"p50 {median(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms"
    )


if __name__ == "__main__":
    main()
