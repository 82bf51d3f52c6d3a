"""Citizen portal (市民门户): report a problem, follow it by its tracking number, rate the result."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from urbangrid.core.cache import ProcessCache
from urbangrid.open311 import public, ratelimit
from urbangrid.open311.conf import conf
from urbangrid.open311.errors import Open311Error
from urbangrid.open311.views import client_address, media_base, throttle_lookups
from urbangrid.workflow.errors import WorkflowError

from . import actions
from .forms import RatingForm, ReportForm


def _build_map() -> dict[str, Any]:
    from urbangrid.geo.models import AdminDivision, UnitGrid

    rows = list(AdminDivision.objects.filter(level="community", geometry__isnull=False).values_list("name", "geometry"))
    if not rows:
        rows = list(UnitGrid.objects.values_list("code", "geometry"))
    features = [{"type": "Feature", "properties": {"name": n}, "geometry": g} for n, g in rows]
    return {"type": "FeatureCollection", "features": features}


#: The portal's base map, per process, for five minutes.
_map = ProcessCache("portal_map", _build_map, ttl=300.0)


def _throttle(request: HttpRequest) -> None:
    ratelimit.hit({f"p:{client_address(request)}": conf("OPEN311_ADDRESS_RATE_LIMIT")})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            _throttle(request)
            req, code = actions.report(form.cleaned_data, form.cleaned_data.get("photo"))
        except Open311Error as exc:
            for message in exc.messages:
                form.add_error(None, message)
            status = exc.status
            response = render(request, "portal/report.html", {"form": form}, status=status)
            for name, value in exc.headers.items():
                response[name] = value
            return response
        if code or request.session.get("portal_receipt", {}).get("number") != actions.tracking_number(req):
            request.session["portal_receipt"] = {"number": actions.tracking_number(req), "code": code}
        return redirect("portal:receipt")
    if request.method == "POST":
        status = 400
    return render(request, "portal/report.html", {"form": form}, status=status)


@require_GET
def receipt(request: HttpRequest) -> HttpResponse:
    data = request.session.get("portal_receipt")
    if not data:
        return redirect("portal:home")
    return render(request, "portal/receipt.html", data)


def _throttled(request: HttpRequest, exc: Open311Error, context: dict[str, Any]) -> HttpResponse:
    response = render(request, "portal/home.html", {**context, "track_error": exc.messages[0]}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@require_GET
def track(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    if number:
        try:
            throttle_lookups(request)
        except Open311Error as exc:
            return _throttled(request, exc, {"number": number})
    case = actions.find_case(number) if number else None
    if case is None:
        context = {"track_error": _("No report has this tracking number.") if number else "", "number": number}
        return render(request, "portal/home.html", context, status=404 if number else 200)
    return redirect("portal:case", number=case.number)


def _case_or_404(number: str):
    case = actions.find_case(number)
    if case is None or case.number != number:
        raise Http404(_("No report has this tracking number."))
    return case


@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        throttle_lookups(request)
    except Open311Error as exc:
        return _throttled(request, exc, {"number": number})
    return _render_case(request, _case_or_404(number), RatingForm())


def _render_case(request: HttpRequest, case, form: RatingForm, status: int = 200) -> HttpResponse:
    from urbangrid.cases.models import Case

    (record,) = public.request_records(Case.objects.filter(pk=case.pk), public.public_categories(), media_base(request))
    context = {
        "case": case,
        "record": record,
        "history": public.public_history(case),
        "photos": [record["media_url"]] if record["media_url"] else [],
        "may_rate": actions.may_rate(case),
        "form": form,
    }
    return render(request, "portal/case.html", context, status=status)


@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(number)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, form, status=400)
    try:
        _throttle(request)
        d = form.cleaned_data
        actions.rate(case, d["code"], d["rating"], d["comment"], d["not_fixed"])
    except Open311Error as exc:
        form.add_error(None, exc.messages[0])
        return _render_case(request, case, form, status=exc.status)
    except WorkflowError as exc:
        form.add_error(None, exc.message)
        return _render_case(request, case, form, status=400)
    messages.success(request, _("Thank you for your rating."))
    return redirect("portal:case", number=number)


@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    """Community outlines (or unit grids when communities have none) as GeoJSON, for the map."""
    response = JsonResponse(_map())
    response["Cache-Control"] = "public, max-age=300"
    return response
