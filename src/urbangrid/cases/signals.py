"""Recompute open deadlines when an administrator changes the working calendar."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from urbangrid.core.calendar import calendar_changed


@receiver(calendar_changed)
def recompute_deadlines(sender, years=None, all_years=False, **kwargs) -> None:
    from .actions import recompute_open_deadlines

    recompute_open_deadlines(None if all_years else years)


def _connect_stage_limit_cache() -> None:
    from .loop import clear_stage_limit_cache
    from .models import StageLimit

    post_save.connect(clear_stage_limit_cache, sender=StageLimit, dispatch_uid="stage_limit_cache")
    post_delete.connect(clear_stage_limit_cache, sender=StageLimit, dispatch_uid="stage_limit_cache_del")


def _connect_department_cache() -> None:
    from urbangrid.core.models import Department

    from .loop import clear_department_cache

    post_save.connect(clear_department_cache, sender=Department, dispatch_uid="department_cache")
    post_delete.connect(clear_department_cache, sender=Department, dispatch_uid="department_cache_del")


_connect_stage_limit_cache()
_connect_department_cache()
