"""Keep the in-memory indexes fresh: every change to grids, divisions or places bumps the
shared :class:`~urbangrid.geo.models.GridRevision` counter (seen by other processes) and
drops this process's copy at once. Bulk loaders bump the counter explicitly."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import AdminDivision, GridRevision, Place, UnitGrid, WorkGrid


@receiver(post_save, sender=UnitGrid)
@receiver(post_delete, sender=UnitGrid)
@receiver(post_save, sender=WorkGrid)
@receiver(post_delete, sender=WorkGrid)
@receiver(post_save, sender=AdminDivision)
@receiver(post_delete, sender=AdminDivision)
def grids_changed(sender, **kwargs) -> None:
    from .geocoding import invalidate_geocoder
    from .index import invalidate_index

    places = sender is AdminDivision  # the gazetteer resolves division names
    GridRevision.bump(grids=True, places=places)
    invalidate_index()
    if places:
        invalidate_geocoder()


@receiver(post_save, sender=Place)
@receiver(post_delete, sender=Place)
def places_changed(**kwargs) -> None:
    from .geocoding import invalidate_geocoder

    GridRevision.bump(places=True)
    invalidate_geocoder()
