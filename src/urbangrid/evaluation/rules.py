"""Counting rules cities differ on (§8.2 of the domain reference), as settings:
settings.URBANGRID["EVALUATION"] = {...} overrides these defaults. They choose among counters
that are all kept, so changing a rule needs no rebuild of the facts."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Which period a department's (and a region's closing) case belongs to: "due" — its
    # effective handling deadline falls in the period, plus carry-overs (due earlier, not handled
    # before the period began) (§8.2 b, the default for departments); "dispatched" — dispatched
    # in the period (§8.2 a).
    "DEPARTMENT_PERIOD": "due",
    # A collector's valid report (有效上报): "registered_not_voided" (registered, never voided;
    # the default), "registered" (registered at some time), "accepted" (accepted by the operator).
    "VALID_REPORT": "registered_not_voided",
    # A collector's confirmed on-the-spot fix (快速处置) counts as a valid report.
    "SELF_FIX_VALID": True,
    # Suspended cases (挂账/缓办): "exclude" — a case suspended and not handled by the period's end
    # is out of 应处置/应结案 (the default); "include" — counted like any case (its frozen time is
    # already outside the clock).
    "SUSPENDED": "exclude",
    # Extended cases (延期): "on_time" — handled before the extended deadline is on time (the
    # default); "late" — an extended case is never on time.
    "EXTENDED": "on_time",
    # Denominator of the department rework rate (返工率): "handled" (处置数, default) or
    # "should" (应结案数).
    "REWORK_DENOMINATOR": "handled",
    # A recurring hot spot (反复发案): a unit grid with at least this many registered cases of one
    # category in the period.
    "HOTSPOT_MIN": 3,
    # Return-visit and rating outcomes that count as satisfied.
    "SATISFIED": ("satisfied", "basically_satisfied"),
}

CHOICES = {
    "DEPARTMENT_PERIOD": ("due", "dispatched"),
    "VALID_REPORT": ("registered_not_voided", "registered", "accepted"),
    "SUSPENDED": ("exclude", "include"),
    "EXTENDED": ("on_time", "late"),
    "REWORK_DENOMINATOR": ("handled", "should"),
}


def rules(**overrides: Any) -> dict[str, Any]:
    """The counting rules in force: defaults, then settings, then `overrides`."""
    merged = {**DEFAULTS, **settings.URBANGRID.get("EVALUATION", {}), **overrides}
    for key, allowed in CHOICES.items():
        if merged[key] not in allowed:
            raise ValueError(f"URBANGRID['EVALUATION']['{key}'] must be one of {allowed}")
    return merged
