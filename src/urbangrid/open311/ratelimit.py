"""Fixed-window rate limits shared by every worker process through the database.

One statement per check: an upsert that increments the counters of all keys at once and
returns them (PostgreSQL and SQLite both support INSERT … ON CONFLICT … RETURNING).
Old windows are deleted now and then by the same code path.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping

from django.db import connection
from django.utils.translation import gettext as _

from .errors import Open311Error
from .models import RateCounter

WINDOW_SECONDS = 60
_CLEANUP_CHANCE = 0.002


def hit(limits: Mapping[str, int], now: float | None = None, cost: int = 1) -> None:
    """Count one request (or `cost` units, e.g. ids looked up) against each key (key ->
    allowed units per minute); raise a 429 Open311Error with Retry-After when any key is over
    its limit."""
    if not limits:
        return
    cost = max(1, int(cost))
    now = time.time() if now is None else now
    slot = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    table = RateCounter._meta.db_table
    rows = ", ".join(["(%s, CAST(%s AS BIGINT))"] * len(limits))
    params: list[object] = []
    for key in limits:
        params += [key, slot]
    # PostgreSQL: the counters need no durable commit, so this one-statement transaction
    # does not wait for the WAL flush (synchronous_commit off, for this statement only).
    local = (
        "(SELECT set_config('synchronous_commit', 'off', true)) AS cfg, " if connection.vendor == "postgresql" else ""
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (key, slot, count) "
            f"SELECT v.column1, v.column2, {cost} FROM {local}(VALUES {rows}) AS v "
            f"WHERE true ON CONFLICT (key, slot) DO UPDATE SET count = {table}.count + {cost} RETURNING key, count",
            params,
        )
        counts = dict(cur.fetchall())
        if random.random() < _CLEANUP_CHANCE:
            cur.execute(f"DELETE FROM {table} WHERE slot < %s", [slot - WINDOW_SECONDS])
    if any(counts[key] > limit for key, limit in limits.items()):
        retry = max(1, math.ceil(slot + WINDOW_SECONDS - now))
        raise Open311Error(
            429,
            _("Too many requests; try again in %(s)d seconds.") % {"s": retry},
            headers={"Retry-After": str(retry)},
        )
