"""Time lights (红黄绿灯) and state labels as people read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LIGHT_LABELS = {"red": _("overdue"), "yellow": _("due soon"), "green": _("on time"), "": ""}


def light_of(obj: Any, now: datetime | None = None) -> str:
    """ "red" (overdue), "yellow" (due soon), "green" or "" (no running deadline), live."""
    if obj.deadline is None:
        return ""
    now = now or timezone.now()
    if obj.deadline < now:
        return "red"
    if obj.warn_at is not None and obj.warn_at <= now:
        return "yellow"
    return "green"


def light_label(obj: Any, now: datetime | None = None) -> str:
    return str(LIGHT_LABELS[light_of(obj, now)])


def state_label(obj: Any) -> str:
    """The label of the object's state in its own workflow."""
    return str(obj.get_workflow().state_label(obj.state))
