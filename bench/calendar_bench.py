"""Micro-benchmark of the working calendar (工作日历): median µs per call.

Run: ``.venv/bin/python bench/calendar_bench.py`` (no database needed).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
os.environ.setdefault("URBANGRID_DEMO", "1")  # the public demo SECRET_KEY is fine here

import django

django.setup()

from urbangrid.core.calendar import WorkingCalendar  # noqa: E402

N = 20_000


def median_us(fn: Callable[[int], object], n: int = N) -> float:
    samples = []
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        fn(i)
        samples.append(clock() - t0)
    return statistics.median(samples) / 1000


def main() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=tz)
    starts = [base + timedelta(minutes=rng.randrange(0, 2 * 365 * 1440)) for _ in range(N)]
    ends = [s + timedelta(minutes=rng.randrange(0, 30 * 1440)) for s in starts]
    amounts = [rng.choice([Decimal("0.17"), Decimal("0.5"), 2, 4, 8, Decimal("1.5")]) for _ in range(N)]
    days = [rng.randrange(1, 16) for _ in range(N)]

    t0 = time.perf_counter()
    cal = WorkingCalendar()
    for year in (2026, 2027, 2028):  # build the per-year tables once (lazy otherwise)
        cal.is_working_day(datetime(year, 1, 1).date())
    build_ms = (time.perf_counter() - t0) * 1000

    rows = [
        ("add(working_hours)", median_us(lambda i: cal.add(starts[i], amounts[i], "working_hours"))),
        ("add(working_days)", median_us(lambda i: cal.add(starts[i], days[i], "working_days"))),
        ("add(hours)", median_us(lambda i: cal.add(starts[i], amounts[i], "hours"))),
        ("working_minutes_between()", median_us(lambda i: cal.working_minutes_between(starts[i], ends[i]))),
    ]
    print(f"calendar build (3 years): {build_ms:.1f} ms")
    for name, us in rows:
        print(f"{name:28s} median {us:6.2f} µs")


if __name__ == "__main__":
    main()
