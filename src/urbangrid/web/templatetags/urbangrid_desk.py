"""Template tags of the dispatcher's desk shown on the case page (merge candidates)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def merge_candidates(context: dict[str, Any], case: Any) -> dict[str, Any] | None:
    """Nearby open cases of the same category to merge `case` into, when merging is open to the user."""
    from urbangrid.web.desk import merge_candidates as find
    from urbangrid.web.desk import merge_map_data

    forms = context.get("op_forms") or []
    if not any(getattr(f, "name", "") == "merge" for f in forms):
        return None
    request = context.get("request")
    if request is None:
        return None
    found = find(request.user, case)
    return {"rows": found, "map": merge_map_data(case, found)}
