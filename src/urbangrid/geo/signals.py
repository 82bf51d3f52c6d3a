"""Rebuild the point-to-grid index when unit grids change."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import UnitGrid, WorkGrid


@receiver(post_save, sender=UnitGrid)
@receiver(post_delete, sender=UnitGrid)
@receiver(post_save, sender=WorkGrid)
@receiver(post_delete, sender=WorkGrid)
def grids_changed(**kwargs) -> None:
    from .index import invalidate_index

    invalidate_index()
