"""/dashboard/ (leaders' dashboard with drill-down), /dashboard/screen/ (the big screen) and
their JSON endpoints under /dashboard/api/. Charts are drawn by static/dashboard/*.js from the
JSON endpoints; the tables and numbers (links to the case list) are rendered here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from urbangrid.web.shared.casepage import tile_settings

from . import data
from .access import Viewer, dashboard_view


def _read(request: HttpRequest):
    """(period, scope) from ?period=&scope= (or ?from=&to= for a custom range); ValueError."""
    text = request.GET.get("period", "")
    first, last = request.GET.get("from", "").strip(), request.GET.get("to", "").strip()
    if first and last and not text:
        text = f"{first}..{last}"
    return data.read_period(text), data.read_scope(request.GET.get("scope"))


def _period_choices(period) -> list[dict[str, str]]:
    from django.utils import timezone
    from django.utils.translation import gettext as _

    today = timezone.localdate()
    y, w, _d = today.isocalendar()
    return [
        {"kind": "week", "label": str(_("This week")), "value": f"{y}-W{w:02d}"},
        {"kind": "month", "label": str(_("This month")), "value": f"{today:%Y-%m}"},
        {"kind": "quarter", "label": str(_("This quarter")), "value": f"{today.year}-Q{(today.month - 1) // 3 + 1}"},
        {"kind": "year", "label": str(_("This year")), "value": str(today.year)},
    ]


@require_GET
@dashboard_view()
def dashboard(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    try:
        period, scope = _read(request)
    except ValueError as exc:
        return render(request, "dashboard/error.html", {"message": str(exc)}, status=400)
    summary = data.summary(viewer, period, scope)
    prev = data.previous_period(period)
    context = {
        "s": summary,
        "period": period,
        "choices": _period_choices(period),
        "previous_value": prev.label,
        "scope_text": summary["scope"]["text"],
        "api_url": reverse("dashboard:summary_json") + "?" + request.GET.urlencode(),
    }
    return render(request, "dashboard/dashboard.html", context)


def _bad(exc: Exception) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=400)


@require_GET
@dashboard_view(json=True)
def summary_json(request: HttpRequest, viewer: Viewer) -> JsonResponse:
    try:
        period, scope = _read(request)
    except ValueError as exc:
        return _bad(exc)
    return JsonResponse(data.summary(viewer, period, scope))


@require_GET
@dashboard_view()
def screen(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return render(request, "dashboard/screen.html", {"tiles": tile_settings()})


@require_GET
@dashboard_view(json=True)
def screen_json(request: HttpRequest, viewer: Viewer) -> JsonResponse:
    return JsonResponse(data.screen_summary(viewer))


@require_GET
@dashboard_view(json=True)
def feed_json(request: HttpRequest, viewer: Viewer) -> JsonResponse:
    raw = request.GET.get("after", "0")
    after = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0
    return JsonResponse(data.feed(viewer, after))


@require_GET
@dashboard_view(json=True)
def density_json(request: HttpRequest, viewer: Viewer) -> JsonResponse:
    return JsonResponse(data.density(viewer))


@require_GET
@dashboard_view(json=True)
def collectors_json(request: HttpRequest, viewer: Viewer) -> JsonResponse:
    return JsonResponse(data.collector_positions(viewer))
