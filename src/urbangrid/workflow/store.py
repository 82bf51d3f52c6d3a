"""How a step is written (存储): plain Django ORM.

`update()` is an optimistic `filter(pk=…, version=…).update(…)`; `insert()` saves a new
object; both append the history entry with its hash chain. The engine calls them inside one
transaction (`transaction.atomic`), so the row, its history entry and whatever the effects
wrote commit together or not at all.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import History


def _chain(entry: History) -> None:
    """Link `entry` to the previous entry of its object (the object's row is already written,
    hence locked, in this transaction: entries of one object are appended one at a time)."""
    if entry.seq > 1:
        prev = (
            History.objects.filter(content_type_id=entry.content_type_id, object_id=entry.object_id, seq=entry.seq - 1)
            .values_list("hash", flat=True)
            .first()
        )
        entry.prev_hash = prev or ""
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)


def insert(obj: models.Model, entry: History) -> None:
    """Insert a new workflow object and its first history entry."""
    obj.save(force_insert=True)
    entry.object_id = obj.pk
    _chain(entry)


def update(obj: models.Model, changed: list[str], version: int, entry: History) -> bool:
    """Save the `changed` fields of `obj` if its row still has `version`, and append `entry`;
    False (and nothing written) when the row moved on."""
    values: dict[str, Any] = {name: getattr(obj, name) for name in changed}
    if not type(obj)._default_manager.filter(pk=obj.pk, version=version).update(**values):
        return False
    _chain(entry)
    return True


def lock(model: type[models.Model], pk: Any) -> Any:
    """Read the row under a lock (PostgreSQL: FOR UPDATE; SQLite: the transaction's write lock)
    with the related rows that guards and timers read (`model.workflow_related`)."""
    qs = model._default_manager.select_for_update(of=("self",)).select_related(*getattr(model, "workflow_related", ()))
    return qs.get(pk=pk)
