"""Stored files that follow the fate of the transaction that wrote them.

A file is written to storage before the row that refers to it is inserted; when the
transaction rolls back, the row disappears but the file stays (an orphan in media storage).
Django has `transaction.on_commit` but no on-rollback hook, so:

- `delete_on_rollback(field_file)` (after the row is saved) remembers the file on the
  connection and registers an `on_commit` callback that forgets it again.
- A rolled-back transaction or savepoint discards its `on_commit` callbacks. `sweep()` looks
  for remembered files whose callback has neither run nor is still queued: their transaction
  rolled back. Before deleting, it asks the database whether the row still exists (that also
  covers a commit whose hooks were cut short by an earlier failing hook).
- `atomic()` is `transaction.atomic()` followed by a sweep, so a block that fails removes
  its files at once; the request middleware (core.middleware) sweeps after every request,
  which catches rollbacks of enclosing transactions.

Files saved outside any transaction are kept as soon as their row is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction

logger = logging.getLogger(__name__)

_ATTRIBUTE = "_urbangrid_pending_files"


@dataclass(eq=False)
class _Pending:
    storage: Any
    name: str
    model: type
    pk: Any
    field: str
    using: str
    callback: Any = field(default=None, repr=False)


def _pending(conn) -> list[_Pending]:
    pending = conn.__dict__.get(_ATTRIBUTE)
    if pending is None:
        pending = conn.__dict__[_ATTRIBUTE] = []
    return pending


def delete_on_rollback(field_file, using: str | None = None) -> None:
    """Delete the stored file of `field_file` (a model's FileField value, its row already
    saved) if the transaction it was saved in, or the savepoint, rolls back."""
    instance = field_file.instance
    using = using or router.db_for_write(type(instance), instance=instance) or DEFAULT_DB_ALIAS
    conn = connections[using]
    entry = _Pending(field_file.storage, field_file.name, type(instance), instance.pk, field_file.field.name, using)
    pending = _pending(conn)

    def committed() -> None:
        if entry in pending:
            pending.remove(entry)

    entry.callback = committed
    pending.append(entry)
    transaction.on_commit(committed, using=using)  # runs at once outside a transaction


def _row_exists(entry: _Pending) -> bool | None:
    try:
        # the file name too: a rolled-back id may have been given to a new row since
        rows = entry.model._base_manager.using(entry.using)
        return rows.filter(pk=entry.pk, **{entry.field: entry.name}).exists()
    except DatabaseError:
        return None


def sweep(using: str | None = None) -> int:
    """Delete the remembered files whose transaction rolled back; returns how many."""
    conn = connections[using or DEFAULT_DB_ALIAS]
    pending = conn.__dict__.get(_ATTRIBUTE)
    if not pending or conn.needs_rollback:
        return 0  # nothing remembered, or the transaction cannot be queried before its rollback
    queued = {id(func) for _sids, func, _robust in conn.run_on_commit}
    deleted = 0
    for entry in list(pending):
        if id(entry.callback) in queued:
            continue  # its transaction is still open
        exists = _row_exists(entry)
        if exists is None:
            continue  # cannot tell now; a later sweep will
        pending.remove(entry)
        if exists:
            continue  # committed
        try:
            if entry.storage.exists(entry.name):
                entry.storage.delete(entry.name)
                deleted += 1
        except OSError:
            logger.warning("Could not delete %s after a rollback", entry.name, exc_info=True)
    return deleted


def sweep_all() -> int:
    """Sweep every open connection that remembers files (after each request)."""
    total = 0
    for conn in connections.all(initialized_only=True):
        if conn.__dict__.get(_ATTRIBUTE):
            total += sweep(conn.alias)
    return total


@contextmanager
def atomic(using: str | None = None, savepoint: bool = True, durable: bool = False) -> Iterator[None]:
    """`transaction.atomic()` that deletes the files saved inside it (with
    `delete_on_rollback`) as soon as it rolls back."""
    try:
        with transaction.atomic(using=using, savepoint=savepoint, durable=durable):
            yield
    finally:
        sweep(using)
