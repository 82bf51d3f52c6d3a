"""Keep the in-memory indexes fresh: every change to grids, divisions or places bumps the
shared :class:`~urbangrid.geo.models.GridRevision` counter (seen by other processes) and
drops this process's copy at once. Bulk loaders wrap their writes in :func:`bulk_changes`,
which bumps once at the end instead of once per row (and covers ``bulk_create``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import AdminDivision, GridRevision, Place, UnitGrid, WorkGrid

_state = threading.local()


def changed(*, grids: bool = False, places: bool = False) -> None:
    """Record a change: bump the shared counters and drop this process's indexes."""
    from .geocoding import invalidate_geocoder
    from .index import invalidate_index

    GridRevision.bump(grids=grids, places=places)
    if grids:
        invalidate_index()
    if places:
        invalidate_geocoder()


@contextmanager
def bulk_changes(*, grids: bool = True, places: bool = True) -> Iterator[None]:
    """Suspend per-row bumps inside the block and bump once when it ends."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth
        if depth == 0:
            changed(grids=grids, places=places)


def _suspended() -> bool:
    return getattr(_state, "depth", 0) > 0


@receiver(post_save, sender=UnitGrid)
@receiver(post_delete, sender=UnitGrid)
@receiver(post_save, sender=WorkGrid)
@receiver(post_delete, sender=WorkGrid)
@receiver(post_save, sender=AdminDivision)
@receiver(post_delete, sender=AdminDivision)
def grids_changed(sender, **kwargs) -> None:
    if not _suspended():
        changed(grids=True, places=sender is AdminDivision)  # the gazetteer resolves division names


@receiver(post_save, sender=Place)
@receiver(post_delete, sender=Place)
def places_changed(**kwargs) -> None:
    if not _suspended():
        changed(places=True)
