"""Benchmark the point-to-grid index (网格定位) on the demo district, without a database.

Run: ``.venv/bin/python bench/point_to_grid.py``. Prints build time, bulk throughput (one
core), equality with the brute-force reference on edge/vertex/outside points, and
single-lookup latency. Exits 1 when any answer differs from the reference.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
os.environ.setdefault("URBANGRID_DEMO", "1")  # the public demo SECRET_KEY is fine here
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from urbangrid.geo.demo import demo_layout  # noqa: E402
from urbangrid.geo.index import GridIndex, OutsideJurisdiction  # noqa: E402

BULK_POINTS = 1_000_000
EQUALITY_POINTS = 100_000
SINGLE_CALLS = 100_000


def test_points(index: GridIndex, rng: np.random.Generator, bounds: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Random points plus exact vertices, edge midpoints and points outside the district."""
    x0, y0, x1, y1 = bounds
    coords, ring = shapely.get_coordinates(shapely.get_rings(index.polygons), return_index=True)
    same = ring[:-1] == ring[1:]
    mids = (coords[:-1][same] + coords[1:][same]) / 2.0
    n_each = EQUALITY_POINTS // 5
    vertices = coords[rng.choice(len(coords), n_each, replace=True)]
    midpoints = mids[rng.choice(len(mids), n_each, replace=True)]
    w, h = x1 - x0, y1 - y0
    outside = np.column_stack([rng.uniform(x0 - w, x1 + w, n_each), rng.uniform(y0 - h, y1 + h, n_each)])
    outside = outside[(outside[:, 0] < x0) | (outside[:, 0] > x1) | (outside[:, 1] < y0) | (outside[:, 1] > y1)]
    n_random = EQUALITY_POINTS - len(vertices) - len(midpoints) - len(outside)
    randoms = np.column_stack([rng.uniform(x0, x1, n_random), rng.uniform(y0, y1, n_random)])
    pts = np.concatenate([randoms, vertices, midpoints, outside])
    return pts[:, 0].copy(), pts[:, 1].copy()


def main() -> int:
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    layout = demo_layout()
    layout_s = time.perf_counter() - started
    polygons = [g["geometry"] for g in layout.grids]
    codes = [g["code"] for g in layout.grids]
    started = time.perf_counter()
    index = GridIndex.from_polygons(polygons, np.arange(1, len(polygons) + 1), codes)
    build_s = time.perf_counter() - started
    bounds = layout.county_geometry.bounds
    print(f"grids: {len(index)}   demo layout: {layout_s:.2f} s")
    print(f"index build: {build_s:.2f} s  (raster {index.nrows}x{index.ncols} cells of {index.cell_m:.1f} m, "
          f"{index.ambiguous_share:.1%} ambiguous)")

    xs = rng.uniform(bounds[0], bounds[2], BULK_POINTS)
    ys = rng.uniform(bounds[1], bounds[3], BULK_POINTS)
    runs = []
    for _run in range(5):
        t = time.perf_counter()
        index.locate_many(xs, ys)
        runs.append(time.perf_counter() - t)
    median = statistics.median(runs)
    print(f"bulk: {BULK_POINTS:,} random points over the district bbox, 5 runs, median {median * 1000:.1f} ms "
          f"= {BULK_POINTS / median:,.0f} points/s (one core)")

    ex, ey = test_points(index, rng, bounds)
    t = time.perf_counter()
    fast = index.locate_many(ex, ey)
    fast_s = time.perf_counter() - t
    t = time.perf_counter()
    reference = index.locate_many_bruteforce(ex, ey)
    brute_s = time.perf_counter() - t
    mismatches = int((fast != reference).sum())
    print(f"equality vs brute force: {len(ex):,} points (random, vertices, edge midpoints, outside): "
          f"{mismatches} mismatches  [index {fast_s * 1000:.0f} ms, brute force {brute_s * 1000:.0f} ms; "
          f"{int((reference == -1).sum()):,} outside]")

    inside = np.flatnonzero(index.locate_many(xs[:SINGLE_CALLS * 2], ys[:SINGLE_CALLS * 2]) >= 0)[:SINGLE_CALLS]
    px, py = xs[inside].tolist(), ys[inside].tolist()
    times = np.empty(len(px))
    clock = time.perf_counter_ns
    for k, (lon, lat) in enumerate(zip(px, py, strict=True)):
        t0 = clock()
        try:
            index.locate(lon, lat)
        except OutsideJurisdiction:
            pass
        times[k] = clock() - t0
    p50, p99 = np.percentile(times, [50, 99]) / 1000.0
    print(f"single locate(): {len(px):,} calls, p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {times.max() / 1000:.0f} µs")
    if mismatches:
        bad = np.flatnonzero(fast != reference)[:10]
        for k in bad:
            print(f"  mismatch at ({ex[k]!r}, {ey[k]!r}): index {fast[k]}, brute force {reference[k]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
