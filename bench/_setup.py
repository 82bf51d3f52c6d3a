"""Shared set-up for benchmarks: a fresh database of the chosen kind with the demo base data."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://urbangrid:urbangrid@127.0.0.1:5432/urbangrid_bench")


def setup(db: str, *, fresh: bool = True) -> str:
    """Point Django at a benchmark database ("sqlite" or "postgres"), migrate it; return its URL."""
    if db == "sqlite":
        path = Path(tempfile.gettempdir()) / "urbangrid_bench.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = PG_URL
        if fresh:
            _recreate_pg(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    os.environ.setdefault("URBANGRID_DATA_DIR", tempfile.gettempdir())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return url


def _recreate_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]
