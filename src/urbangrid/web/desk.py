"""The operator's hotline intake and the dispatcher's desk."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from urbangrid.cases import actions
from urbangrid.cases.models import OPEN_STATES, Source, State
from urbangrid.cases.queries import visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode as R
from urbangrid.geo.geocoding import GeocodeError, geocode
from urbangrid.workflow.errors import WorkflowError

from .access import staff_required
from .shared.casepage import tile_settings
from .shared.errors import apply_error, message_of
from .shared.labels import light_of, state_label
from .shared.paging import BadCursor, paginate
from .shared.widgets import FastSelect, PhotoField

DUPLICATE_RADIUS_M = 50
DUPLICATE_DAYS = 7


def nearby_open_cases(user: User, category_id: int, lon: float, lat: float) -> list[dict[str, Any]]:
    """Open cases of the same category within ~50 m reported in the last 7 days (possible duplicates).

    Uses the (category, created_at) index, then a bounding box and the exact distance.
    """
    dlat = DUPLICATE_RADIUS_M / 110_574.0
    dlon = DUPLICATE_RADIUS_M / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    qs = visible_cases(user).filter(
        category_id=category_id,
        created_at__gte=timezone.now() - timedelta(days=DUPLICATE_DAYS),
        state__in=OPEN_STATES,
        lon__range=(lon - dlon, lon + dlon),
        lat__range=(lat - dlat, lat + dlat),
    )
    found = []
    for c in qs.order_by("-pk")[:20]:
        dist = math.hypot((c.lon - lon) * 111_320.0 * math.cos(math.radians(lat)), (c.lat - lat) * 110_574.0)
        if dist <= DUPLICATE_RADIUS_M:
            found.append({"case": c, "distance": round(dist), "state_label": state_label(c)})
    return found


class IntakeForm(forms.Form):
    caller_name = forms.CharField(label=gettext_lazy("Caller"), max_length=64, required=False)
    caller_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"), queryset=Category.objects.none(), widget=FastSelect(attrs={"required": True})
    )
    description = forms.CharField(label=gettext_lazy("What is the problem?"), widget=forms.Textarea(attrs={"rows": 3}))
    address = forms.CharField(label=gettext_lazy("Where? (address or place)"), max_length=200)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    photos = PhotoField(label=gettext_lazy("Photos"), required=False)
    ignore_duplicates = forms.BooleanField(label=gettext_lazy("Not a duplicate: register it anyway"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(parent__isnull=False, active=True).order_by(
            "kind", "code"
        )
        self.fields["category"].label_from_instance = lambda c: f"{c.code} {c.name}"


def _candidates(address: str) -> list[dict[str, Any]]:
    """The geocoder's candidates for an address, as the page shows them (never chosen for the operator)."""
    try:
        found = geocode(address, limit=6)
    except GeocodeError:
        return []
    return [
        {
            "label": c.label,
            "lon": c.lon,
            "lat": c.lat,
            "grid": c.grid.unit_grid_code if c.grid else None,
            "community": c.grid.community_name if c.grid else None,
            "pick": f"{c.lon:.7f},{c.lat:.7f}",
        }
        for c in found
    ]


def _picked(raw: str) -> tuple[float, float] | None:
    """A candidate chosen on the page without JavaScript ("lon,lat")."""
    lon, _sep, lat = str(raw or "").partition(",")
    try:
        point = float(lon), float(lat)
    except ValueError:
        return None
    return point if all(math.isfinite(v) for v in point) else None


def _resolve_position(form: IntakeForm, candidates: list[dict[str, Any]]) -> tuple[float, float] | None:
    """The point the operator chose (a candidate or a pin on the map); never the geocoder's first guess."""
    f = form.cleaned_data
    if f.get("lon") is not None and f.get("lat") is not None:
        return f["lon"], f["lat"]
    candidates.extend(_candidates(f["address"]))
    if candidates:
        form.add_error("address", _("Choose the place among the candidates, or pin it on the map."))
    else:
        form.add_error("address", _("No place matches this address: pin the point on the map."))
    return None


@staff_required(R.OPERATOR)
def intake(request: HttpRequest) -> HttpResponse:
    """Hotline intake (热线受理): caller, what, where (a chosen candidate or a pin) and photos → a report."""
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        picked = _picked(data.get("pick", ""))
        if picked is not None:  # a candidate chosen on the page without JavaScript
            data["lon"], data["lat"] = (f"{v:.7f}" for v in picked)
    form = IntakeForm(data, request.FILES or None)
    duplicates: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        position = _resolve_position(form, candidates)
        f = form.cleaned_data
        if position is not None:
            duplicates = nearby_open_cases(request.user, f["category"].pk, *position)
            if duplicates and not f["ignore_duplicates"]:
                form.add_error(None, _("Similar open cases were reported nearby; check them first."))
            else:
                try:
                    tokens = [
                        actions.upload_attachment(request.user, p.read(), p.name or "").token for p in f["photos"]
                    ]
                    case = actions.create_case(
                        request.user,
                        source=Source.HOTLINE,
                        category=f["category"],
                        description=f["description"],
                        lon=position[0],
                        lat=position[1],
                        address=f["address"],
                        reporter={"name": f["caller_name"], "phone": f["caller_phone"]},
                        photos=tokens,
                    )
                except WorkflowError as exc:
                    apply_error(form, exc, {"lon": "address", "lat": "address"})
                else:
                    messages.success(request, _("Report %(n)s was filed.") % {"n": case.number})
                    return redirect("web:case", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "duplicates": duplicates,
        "candidates": candidates,
        "position": _position_of(form),
        "tiles_url": tile_settings()["url"],
        "tile_crs": tile_settings()["crs"],
    }
    return render(request, "web/intake.html", context, status=status)


def _position_of(form: IntakeForm) -> dict[str, float] | None:
    """The point already chosen (kept when the form comes back with errors)."""
    data = getattr(form, "cleaned_data", {}) or {}
    if data.get("lon") is not None and data.get("lat") is not None:
        return {"lon": data["lon"], "lat": data["lat"]}
    return None


@staff_required(R.OPERATOR)
@require_GET
def geocode_json(request: HttpRequest) -> JsonResponse:
    try:
        found = geocode(request.GET.get("q", ""), limit=6)
    except GeocodeError as exc:
        return JsonResponse({"results": [], "error": str(exc)})
    return JsonResponse(
        {
            "results": [
                {
                    "label": c.label,
                    "lon": c.lon,
                    "lat": c.lat,
                    "score": c.score,
                    "grid": c.grid.unit_grid_code if c.grid else None,
                    "street": c.grid.street_name if c.grid else None,
                    "community": c.grid.community_name if c.grid else None,
                }
                for c in found
            ]
        }
    )


@staff_required(R.OPERATOR)
@require_GET
def duplicates_json(request: HttpRequest) -> JsonResponse:
    try:
        category, lon, lat = int(request.GET["category"]), float(request.GET["lon"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        return JsonResponse({"results": []})
    found = nearby_open_cases(request.user, category, lon, lat)
    return JsonResponse(
        {
            "results": [
                {
                    "number": d["case"].number,
                    "url": reverse("web:case", args=[d["case"].pk]),
                    "state": state_label(d["case"]),
                    "distance": d["distance"],
                }
                for d in found
            ]
        }
    )


# --- dispatcher desk --------------------------------------------------------------------


def _small_int(raw: str) -> int:
    """A key or version from the page; 0 (matches nothing) when it is not one."""
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


def _department_choices(case) -> list[tuple[str, str]]:
    """The departments the dispatch operation offers (its declared input)."""
    inp = case.get_workflow().get("dispatch").input("department")
    return [(str(v), str(label)) for v, label in inp.choice_list(case)] if inp else []


def suggestion_first(departments: list[tuple[str, str]], suggested: Any) -> list[tuple[str, str]]:
    """The departments with the suggested one first (the rest keep their order)."""
    key = str(suggested or "")
    return sorted(departments, key=lambda d: d[0] != key)


def _unit_choices(case) -> list[tuple[str, str]]:
    inp = case.get_workflow().get("dispatch").input("limit_unit")
    return [(str(v), str(label)) for v, label in inp.choice_list(case)] if inp else []


DISPATCH_FIELDS = ("department", "instructions", "limit_amount", "limit_unit", "limit_reason")


def _dispatch_data(post, pk: int) -> dict[str, str]:
    """The dispatch inputs of one row of the desk (empty ones left out: the engine decides)."""
    data = {name: str(post.get(f"{name}_{pk}", "")).strip() for name in DISPATCH_FIELDS}
    return {k: v for k, v in data.items() if v or k == "department"}


@staff_required(R.DISPATCHER)
def dispatch_desk(request: HttpRequest) -> HttpResponse:
    """Registered cases waiting for dispatch, with the suggested department first, instructions
    (批示) and an optional time limit with its reason; one or many at once."""
    if request.method == "POST":
        one = request.POST.get("one")
        ids = [one] if one else request.POST.getlist("case")
        if not ids:
            messages.warning(request, _("Select at least one case."))
        done, failed = 0, []
        for raw in ids:
            case = visible_cases(request.user).filter(pk=_small_int(raw)).first()
            if case is None:
                failed.append((raw, _("No such case, or it is outside your area of responsibility.")))
                continue
            try:
                actions.perform(
                    case,
                    "dispatch",
                    request.user,
                    version=_small_int(request.POST.get(f"version_{case.pk}", "")),
                    data=_dispatch_data(request.POST, case.pk),
                )
                done += 1
            except WorkflowError as exc:
                detail = " ".join(str(m) for m in exc.fields.values())
                failed.append((case.number, f"{message_of(exc)} {detail}".strip()))
        if done:
            messages.success(request, _("%(n)d case(s) dispatched.") % {"n": done})
        for number, message in failed:
            messages.error(request, f"{number}: {message}")
        return redirect(request.get_full_path())
    qs = visible_cases(request.user).filter(state=State.REGISTERED).select_related("suggested_department")
    try:
        page = paginate(qs, "deadline", request.GET.get("cursor", ""))
    except BadCursor:
        page = paginate(qs, "deadline")
    now = timezone.now()
    departments = _department_choices(page.items[0]) if page.items else []
    units = _unit_choices(page.items[0]) if page.items else []
    rows = [
        {
            "case": c,
            "light": light_of(c, now),
            "departments": suggestion_first(departments, c.suggested_department_id),
            "suggested": str(c.suggested_department_id or ""),
        }
        for c in page.items
    ]
    return render(
        request,
        "web/dispatch.html",
        {"rows": rows, "units": units, "next_cursor": page.next_cursor},
    )


# --- merging: nearby open cases of the same category ------------------------------------------

MERGE_RADIUS_M = 200
MERGE_LIMIT = 10


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return math.hypot((lon2 - lon1) * 111_320.0 * math.cos(math.radians(lat1)), (lat2 - lat1) * 110_574.0)


def merge_candidates(user: User, case) -> list[dict[str, Any]]:
    """Open cases of the same category within ~200 m of `case` that it may be merged into,
    nearest first (a bounding box on lon/lat, then the exact distance)."""
    lon, lat = case.lon, case.lat
    if lon is None or lat is None:
        return []
    dlat = MERGE_RADIUS_M / 110_574.0
    dlon = MERGE_RADIUS_M / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    qs = (
        visible_cases(user)
        .filter(
            category_id=case.category_id,
            state__in=OPEN_STATES,
            lon__range=(lon - dlon, lon + dlon),
            lat__range=(lat - dlat, lat + dlat),
        )
        .exclude(pk=case.pk)
        .order_by("-pk")[:200]
    )
    found = []
    for c in qs:
        dist = _distance_m(lon, lat, c.lon, c.lat)
        if dist <= MERGE_RADIUS_M:
            found.append({"case": c, "distance": round(dist), "state_label": state_label(c)})
    found.sort(key=lambda d: (d["distance"], d["case"].pk))
    return found[:MERGE_LIMIT]


def merge_map_data(case, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "point": [case.lon, case.lat],
        "number": case.number,
        "candidates": [
            {"number": d["case"].number, "point": [d["case"].lon, d["case"].lat], "distance": d["distance"]}
            for d in candidates
        ],
    }
