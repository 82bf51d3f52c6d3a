"""The staff map (/map/) and its data: the offline base map, grid and work-grid outlines
(cached GeoJSON), the cases a user may see (coloured by state group and light), components
(compact cached array) and the problem heat map, with one time filter for cases and heat.

Every data endpoint answers bad query parameters with a 400 JSON error
(`{"error": {"code": "invalid", "message": ..., "fields": {...}}}`), never a 500.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from shapely import unary_union
from shapely.geometry import mapping, shape

from urbangrid.cases.filters import CaseFilter
from urbangrid.cases.models import OPEN_STATES, State
from urbangrid.cases.queries import visible_cases
from urbangrid.catalog.models import Category, CategoryKind, Component, ComponentState
from urbangrid.core.models import User
from urbangrid.geo.basemap import build_basemap
from urbangrid.geo.models import AdminDivision, GridRevision, Place, UnitGrid
from urbangrid.workflow.errors import Invalid

from .access import staff_required
from .shared.casepage import tile_settings

#: Up to this many cases are sent as points (clustered in the browser); beyond it, counts per grid.
MAP_POINTS = 3000
#: The heat map without a start date covers this many days back.
HEAT_DEFAULT_DAYS = 365
#: Heat map cell (degrees of latitude; longitude cells are as wide in metres), about 55 m.
HEAT_CELL_DEG = 0.0005
#: Component positions are sent as integers in units of 1e-5° (about 1 m) from an origin.
COMPONENT_SCALE = 100_000

#: The legend's groups of states (web/map.html, app.css `.s-new` …): the colour of a case marker.
STATE_GROUPS = {
    "new": (State.REPORTED, State.VERIFYING, State.ACCEPTED),
    "work": (State.REGISTERED, State.HANDLING, State.RETURN_REQUESTED, State.SUSPENDED),
    "check": (State.FEEDBACK, State.CHECKING, State.PENDING_CLOSE, State.RECHECKING, State.SELF_HANDLED),
}
GROUP_OF = {state: group for group, states in STATE_GROUPS.items() for state in states}
GROUPS = ("new", "work", "check", "done")
PERIODS = ("all", "today", "7d", "30d", "month", "custom")


def group_of(state: str) -> str:
    return GROUP_OF.get(state, "done")


def _bad(exc: Invalid) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "invalid", "message": str(exc.message), "fields": dict(exc.fields or {})}}, status=400
    )


@staff_required()
@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
    component_kinds = Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=True).order_by("code")
    today = timezone.localdate()
    return render(
        request,
        "web/map.html",
        {
            "states": State.choices,
            "categories": categories,
            "component_kinds": component_kinds,
            "component_states": ComponentState.choices,
            "tiles": tile_settings(),
            "today": today.isoformat(),
            "periods": [
                ("all", _("any time")),
                ("today", _("today")),
                ("7d", _("last 7 days")),
                ("30d", _("last 30 days")),
                ("month", _("this month")),
                ("custom", _("dates")),
            ],
            "map_config": {
                "labels": {
                    "cases": _("cases"),
                    "components": _("components"),
                    "heat": _("reports in the heat map"),
                    "overdue": _("overdue"),
                    "offline": _("Offline base map"),
                    "tiles": _("Map tiles"),
                    "error": _("The map data could not be loaded."),
                },
                "states": {k: str(v) for k, v in State.choices},
                "componentStates": {k: str(v) for k, v in ComponentState.choices},
            },
        },
    )


# --- cached layers ---------------------------------------------------------------------------


def _geo_stamp() -> str:
    grids, places = GridRevision.current()
    g = UnitGrid.objects.aggregate(n=Count("pk"), last=Max("pk"))
    d = AdminDivision.objects.aggregate(n=Count("pk"), last=Max("pk"))
    p = Place.objects.aggregate(n=Count("pk"), last=Max("pk"))
    return f"{grids}.{places}.{g['n']}.{g['last']}.{d['n']}.{d['last']}.{p['n']}.{p['last']}"


def _cached_layer(name: str, build) -> bytes:
    """The layer as serialised GeoJSON, cached until the grids change (GridRevision)."""
    stamp = UnitGrid.objects.aggregate(n=Count("pk"), last=Max("pk"))
    key = f"web:map:{name}:{GridRevision.current()[0]}:{stamp['n']}:{stamp['last']}"
    data = cache.get(key)
    if data is None:
        data = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
        cache.set(key, data, 3600)
    return data


def _grid_layer() -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": geom, "properties": {"code": code, "work_grid": wg or ""}}
        for code, geom, wg in UnitGrid.objects.values_list("code", "geometry", "work_grid__code").iterator()
    ]
    return {"type": "FeatureCollection", "features": features}


def _work_grid_layer() -> dict[str, Any]:
    groups: dict[tuple[str, str], list] = {}
    for geom, code, name in UnitGrid.objects.filter(work_grid__isnull=False).values_list(
        "geometry", "work_grid__code", "work_grid__name"
    ):
        groups.setdefault((code, name), []).append(shape(geom))
    features = [
        {
            "type": "Feature",
            "geometry": mapping(unary_union(geoms).simplify(0.00001)),
            "properties": {"code": code, "name": name},
        }
        for (code, name), geoms in sorted(groups.items())
    ]
    return {"type": "FeatureCollection", "features": features}


def _layer_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_required()
@require_GET
def grids_geojson(request: HttpRequest) -> HttpResponse:
    return _layer_response(_cached_layer("grids", _grid_layer))


@staff_required()
@require_GET
def work_grids_geojson(request: HttpRequest) -> HttpResponse:
    return _layer_response(_cached_layer("workgrids", _work_grid_layer))


def _packed(key: str, build: Callable[[], Any], timeout: int) -> tuple[bytes, bytes, str]:
    """(json, gzipped json, etag) of `build()`, cached under `key`."""
    entry = cache.get(key)
    if entry is None:
        raw = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
        entry = (raw, gzip.compress(raw, 6, mtime=0), '"' + hashlib.sha256(raw).hexdigest()[:32] + '"')
        cache.set(key, entry, timeout)
    return entry


def _packed_response(
    request: HttpRequest, entry: tuple[bytes, bytes, str], content_type: str, max_age: int
) -> HttpResponse:
    raw, packed, etag = entry
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponse = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(packed, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(raw, content_type=content_type)
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response


@staff_required()
@require_GET
def base_layer(request: HttpRequest) -> HttpResponse:
    """The offline base map (geo.basemap): division areas, roads and labels, cached until the
    geography changes; ETag and gzip."""
    entry = _packed(f"web:map:base:{_geo_stamp()}", build_basemap, 24 * 3600)
    return _packed_response(request, entry, "application/geo+json", 300)


@staff_required()
@require_GET
def tiles_json(request: HttpRequest) -> JsonResponse:
    """The tile configuration, for maps whose page does not carry it (map.js asks when needed)."""
    response = JsonResponse(
        {**tile_settings(), "base": reverse("web:map_base")},
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- time filter ---------------------------------------------------------------------------------


def period_bounds(params: Mapping[str, Any], today: date | None = None) -> dict[str, str]:
    """`period` (all, today, 7d, 30d, month, custom with `from`/`to` dates) as the case filter's
    `created_from` / `created_to` (dates; "to" includes its whole day). Invalid for bad values."""
    today = today or timezone.localdate()
    period = str(params.get("period") or "all")
    if period not in PERIODS:
        raise Invalid(
            _("Check the filters: %(fields)s.") % {"fields": "period"},
            fields={"period": _("Choose one of: %(choices)s.") % {"choices": ", ".join(PERIODS)}},
        )
    if period == "today":
        return {"created_from": today.isoformat()}
    if period in ("7d", "30d"):
        return {"created_from": (today - timedelta(days=int(period[:-1]) - 1)).isoformat()}
    if period == "month":
        return {"created_from": today.replace(day=1).isoformat()}
    if period != "custom":
        return {}
    errors, bounds = {}, {}
    for name, target in (("from", "created_from"), ("to", "created_to")):
        raw = str(params.get(name) or "").strip()
        if not raw:
            continue
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            errors[name] = _("Not a valid date (YYYY-MM-DD).")
        else:
            bounds[target] = day.isoformat()
    if not errors and "created_from" in bounds and "created_to" in bounds:
        if bounds["created_from"] > bounds["created_to"]:
            errors["to"] = _("The end date is before the start date.")
    if errors:
        raise Invalid(_("Check the filters: %(fields)s.") % {"fields": ", ".join(errors)}, fields=errors)
    return bounds


def _case_filter(params: Mapping[str, Any]) -> CaseFilter:
    """Category and time filter, checked by the one case filter (cases/filters.py)."""
    values = period_bounds(params)
    if params.get("category"):
        values["category"] = params["category"]
    return CaseFilter.parse(values)


def _bbox(params: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    raw = str(params.get("bbox") or "").strip()
    if not raw:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in raw.split(","))
    except ValueError:
        x0 = y0 = x1 = y1 = float("nan")
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise Invalid(
            _("Check the filters: %(fields)s.") % {"fields": "bbox"},
            fields={"bbox": _("Give west,south,east,north in degrees (WGS-84).")},
        )
    return x0, y0, x1, y1


# --- cases ------------------------------------------------------------------------------------------


def _light(state: str, deadline, warn_at, now) -> str:
    if state not in OPEN_STATES or deadline is None:
        return ""
    if deadline < now:
        return "red"
    if warn_at is not None and warn_at <= now:
        return "yellow"
    return "green"


def map_cases(user: User, params) -> dict[str, Any]:
    """Cases as GeoJSON points, or counts per unit grid when there are more than MAP_POINTS.

    Each point carries its state, the legend's state `group` (new, work, check, done) and its
    `light` (red overdue, yellow due soon, green; empty when closed); each per-grid count carries
    the counts per group and of overdue cases, so clusters can be coloured as the legend says.
    Raises Invalid for bad parameters (state, category, period/from/to, bbox)."""
    qs = visible_cases(user).order_by()
    state = str(params.get("state") or "open")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in State.values:
        qs = qs.filter(state=state)
    elif state != "all":
        raise Invalid(_("Check the filters: %(fields)s.") % {"fields": "state"}, fields={"state": _("Unknown state.")})
    qs = _case_filter(params).apply(qs, user)
    bbox = _bbox(params)
    if bbox:
        x0, y0, x1, y1 = bbox
        qs = qs.filter(lon__range=(x0, x1), lat__range=(y0, y1))
    now = timezone.now()
    rows = list(
        qs.order_by("-pk").values_list("pk", "number", "lon", "lat", "state", "category__name", "deadline", "warn_at")[
            : MAP_POINTS + 1
        ]
    )
    labels = dict(State.choices)
    if len(rows) <= MAP_POINTS:
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "number": number,
                    "state": st,
                    "state_label": str(labels.get(st, st)),
                    "group": group_of(st),
                    "light": _light(st, deadline, warn_at, now),
                    "category": cat,
                    "url": reverse("web:case", args=[pk]),
                },
            }
            for pk, number, lon, lat, st, cat, deadline, warn_at in rows
        ]
        return {"type": "FeatureCollection", "features": features, "clustered": False, "count": len(features)}
    open_overdue = Q(state__in=OPEN_STATES, deadline__lt=now)
    counts = qs.values("unit_grid_id", "state").annotate(n=Count("pk"), overdue=Count("pk", filter=open_overdue))
    per_grid: dict[int, dict[str, Any]] = {}
    for c in counts:
        entry = per_grid.setdefault(c["unit_grid_id"], {"count": 0, "overdue": 0, "groups": dict.fromkeys(GROUPS, 0)})
        entry["count"] += c["n"]
        entry["overdue"] += c["overdue"]
        entry["groups"][group_of(c["state"])] += c["n"]
    grids = {
        g["pk"]: g
        for g in UnitGrid.objects.filter(pk__in=list(per_grid)).values(
            "pk", "code", "min_lon", "min_lat", "max_lon", "max_lat"
        )
    }
    features = []
    for grid_id, entry in per_grid.items():
        g = grids.get(grid_id)
        if g is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [(g["min_lon"] + g["max_lon"]) / 2, (g["min_lat"] + g["max_lat"]) / 2],
                },
                "properties": {"grid": g["code"], **entry},
            }
        )
    total = sum(f["properties"]["count"] for f in features)
    return {"type": "FeatureCollection", "features": features, "clustered": True, "count": total}


@staff_required()
@require_GET
def cases_geojson(request: HttpRequest) -> JsonResponse:
    try:
        return JsonResponse(map_cases(request.user, request.GET))
    except Invalid as exc:
        return _bad(exc)


# --- heat map ---------------------------------------------------------------------------------------


def map_heat(user: User, params) -> dict[str, Any]:
    """Cases reported in the period (all states, the user's scope), summed per cell of about 55 m:
    `points` = [[lat, lon, count], ...] for leaflet.heat, `max` and `count`."""
    case_filter = _case_filter(params)
    qs = case_filter.apply(visible_cases(user).order_by(), user)
    if case_filter.created_from is None:
        qs = qs.filter(created_at__gte=timezone.now() - timedelta(days=HEAT_DEFAULT_DAYS))
    bbox = _bbox(params)
    if bbox:
        x0, y0, x1, y1 = bbox
        qs = qs.filter(lon__range=(x0, x1), lat__range=(y0, y1))
    cells: dict[tuple[int, int], int] = {}
    total = 0
    for lon, lat in qs.values_list("lon", "lat").iterator(chunk_size=5000):
        key = (round(lat / HEAT_CELL_DEG), round(lon / HEAT_CELL_DEG))
        cells[key] = cells.get(key, 0) + 1
        total += 1
    points = [[round(y * HEAT_CELL_DEG, 6), round(x * HEAT_CELL_DEG, 6), n] for (y, x), n in cells.items()]
    return {"points": points, "max": max(cells.values(), default=0), "count": total, "cell_deg": HEAT_CELL_DEG}


@staff_required()
@require_GET
def heat_json(request: HttpRequest) -> JsonResponse:
    try:
        return JsonResponse(map_heat(request.user, request.GET))
    except Invalid as exc:
        return _bad(exc)


# --- components -------------------------------------------------------------------------------------


def _component_stamp() -> str:
    s = Component.objects.aggregate(n=Count("pk"), last=Max("pk"), changed=Max("change_date"))
    return f"{s['n']}.{s['last']}.{s['changed']}"


def _all_components() -> dict[str, Any]:
    majors = list(
        Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=True)
        .order_by("code")
        .values("pk", "code", "name")
    )
    major_index = {m["pk"]: i for i, m in enumerate(majors)}
    minors = list(
        Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=False)
        .order_by("code")
        .values("pk", "code", "name", "parent_id")
    )
    minor_index = {c["pk"]: i for i, c in enumerate(minors)}
    states = list(ComponentState.values)
    state_index = {s: i for i, s in enumerate(states)}
    rows = list(Component.objects.order_by("pk").values_list("pk", "lon", "lat", "category_id", "state"))
    origin = [min((r[1] for r in rows), default=0.0), min((r[2] for r in rows), default=0.0)]
    origin = [round(v, 2) - 0.01 for v in origin] if rows else origin
    items: list[int] = []
    for pk, lon, lat, category_id, state in rows:
        if category_id not in minor_index:
            continue
        items += [
            round((lon - origin[0]) * COMPONENT_SCALE),
            round((lat - origin[1]) * COMPONENT_SCALE),
            minor_index[category_id],
            state_index.get(state, 0),
            pk,
        ]
    return {
        "origin": [round(v, 6) for v in origin],
        "scale": COMPONENT_SCALE,
        "kinds": [{"code": m["code"], "name": m["name"]} for m in majors],
        "categories": [
            {"code": c["code"], "name": c["name"], "kind": major_index.get(c["parent_id"], -1)} for c in minors
        ],
        "states": states,
        "stride": 5,
        "fields": ["dlon", "dlat", "category", "state", "id"],
        "items": items,
    }


def map_components(params: Mapping[str, Any]) -> dict[str, Any]:
    """All components, or those of one major class (`kind` = its code) and/or `state`, as a flat
    integer array `items` of (dlon, dlat, category, state, id) with `origin` and `scale`."""
    kind = str(params.get("kind") or "").strip()
    state = str(params.get("state") or "").strip()
    data = cache.get(key := f"web:map:components:{_component_stamp()}")
    if data is None:
        data = _all_components()
        cache.set(key, data, 600)
    errors = {}
    codes = [k["code"] for k in data["kinds"]]
    if kind and kind not in codes:
        errors["kind"] = _("Unknown component class.")
    if state and state not in data["states"]:
        errors["state"] = _("Unknown component state.")
    if errors:
        raise Invalid(_("Check the filters: %(fields)s.") % {"fields": ", ".join(errors)}, fields=errors)
    if not kind and not state:
        return {**data, "count": len(data["items"]) // data["stride"]}
    kind_i = codes.index(kind) if kind else None
    state_i = data["states"].index(state) if state else None
    category_kind = [c["kind"] for c in data["categories"]]
    src, out, stride = data["items"], [], data["stride"]
    for i in range(0, len(src), stride):
        if (kind_i is None or category_kind[src[i + 2]] == kind_i) and (state_i is None or src[i + 3] == state_i):
            out += src[i : i + stride]
    return {**data, "items": out, "count": len(out) // stride}


@staff_required()
@require_GET
def components_json(request: HttpRequest) -> HttpResponse:
    """Components are not personal data, but staff-only all the same."""
    try:
        data = map_components(request.GET)
    except Invalid as exc:
        return _bad(exc)
    params = f"{request.GET.get('kind', '')}:{request.GET.get('state', '')}"
    entry = _packed(f"web:map:components:packed:{_component_stamp()}:{params}", lambda: data, 600)
    return _packed_response(request, entry, "application/json", 60)


@staff_required()
@require_GET
def component_json(request: HttpRequest, component_id: int) -> JsonResponse:
    c = Component.objects.select_related("category", "maintainer_department").filter(pk=component_id).first()
    if c is None:
        return JsonResponse({"error": {"code": "not_found", "message": _("No such component.")}}, status=404)
    return JsonResponse(
        {
            "id": str(c.pk),
            "obj_id": c.obj_id,
            "name": c.name,
            "category": c.category.name,
            "state": c.state,
            "state_label": str(c.get_state_display()),
            "address": c.address,
            "maintainer": c.maintainer_department.name if c.maintainer_department else "",
        }
    )
