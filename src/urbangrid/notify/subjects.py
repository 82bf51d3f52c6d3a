"""What notifications are about: the page of the object, and whether it is urgent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import NoReverseMatch, reverse

#: model label -> the URL name of its staff page (taking the primary key)
OBJECT_PAGES = {"cases.case": "web:case"}


def object_path(model_label: str, pk: Any) -> str:
    name = OBJECT_PAGES.get(model_label)
    if not name:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def is_urgent(obj: Any) -> bool:
    """Urgent work (紧急): the object's urgency says so."""
    return getattr(obj, "urgency", "") == "urgent"


def subjects(notifications: Iterable[Any]) -> dict[tuple[int, int], Any]:
    """The objects of `notifications` by (content type id, object id), one query per type."""
    wanted: dict[int, set[int]] = {}
    types: dict[int, Any] = {}
    for n in notifications:
        wanted.setdefault(n.content_type_id, set()).add(n.object_id)
        types[n.content_type_id] = n.content_type
    found: dict[tuple[int, int], Any] = {}
    for ct_id, ids in wanted.items():
        model = types[ct_id].model_class()
        if model is None:
            continue
        for obj in model._default_manager.filter(pk__in=ids):
            found[(ct_id, obj.pk)] = obj
    return found
