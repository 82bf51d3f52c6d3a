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


def _resolve_position(form: IntakeForm) -> tuple[float, float] | None:
    f = form.cleaned_data
    if f.get("lon") is not None and f.get("lat") is not None:
        return f["lon"], f["lat"]
    try:
        best = geocode(f["address"], limit=1)[0]
    except GeocodeError as exc:
        form.add_error("address", str(exc))
        return None
    return best.lon, best.lat


@staff_required(R.OPERATOR)
def intake(request: HttpRequest) -> HttpResponse:
    """Hotline intake (热线受理): caller, what, where (geocoded) and photos → a hotline case."""
    form = IntakeForm(request.POST or None, request.FILES or None)
    duplicates: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        position = _resolve_position(form)
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
                    messages.success(request, _("Case %(n)s was registered.") % {"n": case.number})
                    return redirect("web:case", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/intake.html", {"form": form, "duplicates": duplicates}, status=status)


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


@staff_required(R.DISPATCHER)
def dispatch_desk(request: HttpRequest) -> HttpResponse:
    """Registered cases waiting for dispatch, with the suggested department; one or many at once."""
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
                    data={"department": request.POST.get(f"department_{case.pk}", "")},
                )
                done += 1
            except WorkflowError as exc:
                failed.append((case.number, message_of(exc)))
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
    rows = [(c, light_of(c, now)) for c in page.items]
    departments = _department_choices(page.items[0]) if page.items else []
    return render(
        request,
        "web/dispatch.html",
        {"rows": rows, "departments": departments, "next_cursor": page.next_cursor},
    )
