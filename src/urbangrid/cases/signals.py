"""Recompute open deadlines when an administrator changes the working calendar."""

from __future__ import annotations

from django.dispatch import receiver

from urbangrid.core.calendar import calendar_changed


@receiver(calendar_changed)
def recompute_deadlines(sender, years=None, all_years=False, **kwargs) -> None:
    from .actions import recompute_open_deadlines

    recompute_open_deadlines(None if all_years else years)
