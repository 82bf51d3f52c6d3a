"""Keep the discovery changeset and the per-process service cache in step with changes to
categories and their Open311 configuration."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.utils import timezone


def services_changed(sender, **kwargs) -> None:
    from . import public
    from .models import Changeset

    public.clear_service_cache()
    now = timezone.now()
    if not Changeset.objects.filter(pk=1).update(changed_at=now):
        Changeset.objects.get_or_create(pk=1, defaults={"changed_at": now})


def connect() -> None:
    from urbangrid.catalog.models import Category, CategorySynonym

    from .models import AttributeValue, Service, ServiceAttribute

    for model in (Category, CategorySynonym, Service, ServiceAttribute, AttributeValue):
        post_save.connect(services_changed, sender=model, dispatch_uid=f"open311_save_{model.__name__}")
        post_delete.connect(services_changed, sender=model, dispatch_uid=f"open311_delete_{model.__name__}")
