"""The phone app (城管通) at /m/ for every field role: collectors (my grids, tasks, reports that are
safe offline, checks with the fix side by side) and department handlers (the department's to-do,
sign, report the fix with photos, ask for a return or an extension). Other roles get a page that
says where to go (access.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from urbangrid.cases.models import Case
from urbangrid.cases.queries import todo_q, todo_states, visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.roles import RoleCode as R
from urbangrid.geo.models import UnitGrid
from urbangrid.web.shared import operations
from urbangrid.web.shared.casepage import case_context, get_visible_case, tile_settings
from urbangrid.web.shared.errors import apply_error
from urbangrid.web.shared.labels import light_of, state_label
from urbangrid.web.shared.paging import paginate
from urbangrid.web.shared.widgets import FastSelect, PhotoField
from urbangrid.workflow.errors import WorkflowError

from .access import phone_context, phone_required
from .actions import submit_report
from .fix import fix_of
from .picker import picker_data

collector_required = phone_required(R.COLLECTOR)
field_required = phone_required()


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {**phone_context(request.user), **context}, status=status)


@field_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The tasks waiting for the user in any of their roles (a handler: the department's cases in
    handling), and for collectors their grids and recent reports."""
    user = request.user
    tasks = paginate(
        visible_cases(user).filter(todo_q(user)), "deadline", limit=30, states=todo_states(user)
    ).items
    context: dict[str, Any] = {"tasks": [(c, light_of(c), state_label(c)) for c in tasks], "tiles": tile_settings()}
    if user.has_role(R.COLLECTOR):
        mine = Case.objects.filter(reported_by=user).select_related("category").order_by("-pk")[:10]
        context["mine"] = [(c, state_label(c)) for c in mine]
        context["work_grids"] = user.work_grids.all()
    if user.has_role(R.HANDLER):
        context["department"] = user.department
    return _render(request, "mobile/home.html", context)


@collector_required
@require_GET
def categories(request: HttpRequest) -> JsonResponse:
    """The category picker's data: every active minor class with kind, major class, code, name,
    synonyms and pinyin, the collector's recent choices first."""
    response = JsonResponse(picker_data(request.user), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache"
    return response


@collector_required
@require_GET
def my_grids(request: HttpRequest) -> JsonResponse:
    """The unit grids of the collector's work grids, as GeoJSON."""
    rows = UnitGrid.objects.filter(work_grid__collectors=request.user).values_list(
        "code", "geometry", "work_grid__code"
    )
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": g, "properties": {"code": code, "work_grid": wg}}
                for code, g, wg in rows
            ],
        }
    )


class ReportForm(forms.Form):
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"), queryset=Category.objects.none(), widget=FastSelect(attrs={"required": True})
    )
    description = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotoField(label=gettext_lazy("Photo"), required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    address = forms.CharField(label=gettext_lazy("Address or landmark (optional)"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cat = self.fields["category"]
        cat.queryset = Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
        cat.label_from_instance = lambda c: f"{c.name} ({c.code})"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@collector_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a problem. The page's script sends it with fetch (queued in IndexedDB while offline);
    without script the form posts normally."""
    if request.method != "POST":
        form = ReportForm(initial={"client_id": uuid.uuid4()})
        return _render(request, "mobile/report.html", {"form": form, "tiles": tile_settings()})
    form = ReportForm(request.POST, request.FILES)
    if form.is_valid():
        f = form.cleaned_data
        if f["lon"] is None or f["lat"] is None:
            form.add_error(None, _("Give the position: allow location access or tap the map."))
        else:
            try:
                case, created = submit_report(
                    request.user,
                    f["client_id"] or uuid.uuid4(),
                    category=f["category"],
                    description=f["description"],
                    lon=f["lon"],
                    lat=f["lat"],
                    address=f["address"],
                    photos=[(p.read(), p.name or "") for p in f["photos"]],
                )
            except WorkflowError as exc:
                apply_error(form, exc, {"lon": None, "lat": None})
            else:
                url = reverse("mobile:case", args=[case.pk])
                if _wants_json(request):
                    return JsonResponse(
                        {"id": str(case.pk), "number": case.number, "url": url, "created": created},
                        status=201 if created else 200,
                    )
                messages.success(request, _("Reported: case %(n)s.") % {"n": case.number})
                return redirect(url)
    if _wants_json(request):
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        return JsonResponse({"error": {"message": _("The report was not accepted."), "fields": errors}}, status=400)
    return _render(request, "mobile/report.html", {"form": form, "tiles": tile_settings()}, status=400)


def _case_context(request: HttpRequest, case: Case, forms_: list[Any] | None = None) -> dict[str, Any]:
    context = case_context(request, case, forms_)
    context["fix"] = fix_of(case)
    return context


@field_required
@require_GET
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_visible_case(request, case_id)
    return _render(request, "mobile/case.html", _case_context(request, case))


@field_required
@require_POST
def operate(request: HttpRequest, case_id: int, operation: str) -> HttpResponse:
    case = get_visible_case(request, case_id)
    outcome = operations.run(request, case, operation)
    if outcome.ok:
        messages.success(request, outcome.message)
        return redirect("mobile:case", case_id=case.pk)
    messages.error(request, outcome.message)
    case = get_visible_case(request, case_id)
    forms_ = operations.forms_for(case, request.user)
    if outcome.form is not None:
        forms_ = operations.replace_form(forms_, outcome.form)
    context = _case_context(request, case, forms_)
    context["open_operation"] = operation
    return _render(request, "mobile/case.html", context, status=outcome.status)


# --- PWA ------------------------------------------------------------------------------------


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("urbangrid collector"),
        "short_name": _("Collector"),
        "start_url": reverse("mobile:home"),
        "scope": reverse("mobile:home"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0d2a5c",
        "icons": [
            {"src": static("mobile/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("mobile/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


SHELL = [
    "mobile/app.css",
    "mobile/app.js",
    "mobile/picker.js",
    "mobile/photos.js",
    "web/map.js",
    "web/app.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "mobile/icon-192.png",
]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /m/ so that its scope is the app."""
    response = render(
        request,
        "mobile/sw.js",
        {
            "shell": [static(p) for p in SHELL],
            "pages": [reverse("mobile:home"), reverse("mobile:report")],
            "data": [reverse("mobile:categories"), reverse("mobile:grids")],
            "case_prefix": reverse("mobile:home") + "cases/",
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("mobile:home")
    return response
