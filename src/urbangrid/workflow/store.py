"""How a step is written (存储): plain Django ORM.

`update()` is an optimistic `filter(pk=…, version=…).update(…)`; `insert()` saves a new
object; both append the history entry with its hash chain. The engine calls them inside one
transaction (`transaction.atomic`), so the row, its history entry and whatever the effects
wrote commit together or not at all.

The hash chain costs no read: the object's row keeps the hash of its latest entry
(`last_hash`), which becomes the new entry's `prev_hash` and is replaced by the new entry's hash
in the same UPDATE that bumps the version (and that UPDATE also requires the old `last_hash`,
so an entry can only link to the entry the row actually ends with). Only when `last_hash` is
empty — after the creation step, which cannot know its entry's hash before the row has its id,
and on rows written before the field existed — is the previous hash read from the history.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import History


def _latest_hash(entry: History) -> str:
    """The hash of the latest history entry of `entry`'s object ("" when it has none)."""
    found = (
        History.objects.filter(content_type_id=entry.content_type_id, object_id=entry.object_id)
        .order_by("-seq")
        .values_list("hash", flat=True)
        .first()
    )
    return found or ""


def insert(obj: models.Model, entry: History) -> None:
    """Insert a new workflow object and its first history entry (`obj.last_hash` stays empty:
    the row is written before the entry, whose hash includes the row's id)."""
    obj.save(force_insert=True)
    entry.object_id = obj.pk
    entry.prev_hash = ""
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)


def update(obj: models.Model, changed: list[str], version: int, entry: History) -> bool:
    """Save the `changed` fields of `obj` if its row still has `version` (and the `last_hash`
    read with it), and append `entry` linked to that hash; False (and nothing written) when the
    row moved on."""
    prev = obj.last_hash
    entry.prev_hash = prev or (_latest_hash(entry) if entry.seq > 1 else "")
    entry.hash = entry.compute_hash()
    values: dict[str, Any] = {name: getattr(obj, name) for name in changed}
    values["last_hash"] = entry.hash
    if not type(obj)._default_manager.filter(pk=obj.pk, version=version, last_hash=prev).update(**values):
        return False
    obj.last_hash = entry.hash
    entry.save(force_insert=True)
    return True


def lock(model: type[models.Model], pk: Any) -> Any:
    """Read the row under a lock (PostgreSQL: FOR UPDATE; SQLite: the transaction's write lock)
    with the related rows that guards and timers read (`model.workflow_related`)."""
    qs = model._default_manager.select_for_update(of=("self",)).select_related(*getattr(model, "workflow_related", ()))
    return qs.get(pk=pk)
