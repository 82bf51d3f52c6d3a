"""History is append-only in the database itself (SQLite triggers, PostgreSQL row and TRUNCATE
triggers, migration workflow/0004). `history_maintenance()` lifts that for deliberate
maintenance by the application in this process (archiving, the test suite's table flush):
on PostgreSQL it sets the session variable the triggers check, on SQLite it answers the
function `urbangrid_history_maintenance()` the triggers call (registered on every connection
this application opens; other clients lack it, so their updates fail too)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

_state = threading.local()


def _active() -> int:
    return 1 if getattr(_state, "depth", 0) > 0 else 0


def register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("urbangrid_history_maintenance", 0, _active, deterministic=False)


@contextmanager
def history_maintenance(using: str = "default") -> Iterator[None]:
    connection = connections[using]
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET urbangrid.history_maintenance = 'on'")
        yield
    finally:
        _state.depth -= 1
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute("RESET urbangrid.history_maintenance")
