"""The map: grid and work-grid outlines (cached GeoJSON) and the cases a user may see."""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from shapely import unary_union
from shapely.geometry import mapping, shape

from urbangrid.cases.filters import CaseFilter
from urbangrid.cases.models import OPEN_STATES, State
from urbangrid.cases.queries import visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import User
from urbangrid.geo.models import GridRevision, UnitGrid
from urbangrid.workflow.errors import Invalid

from .access import staff_required
from .shared.casepage import tile_settings

#: Up to this many cases are sent as points (clustered in the browser); beyond it, counts per grid.
MAP_POINTS = 3000


@staff_required()
@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
    return render(
        request,
        "web/map.html",
        {"states": State.choices, "categories": categories, "tiles": tile_settings()},
    )


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


def map_cases(user: User, params) -> dict[str, Any]:
    """Cases as GeoJSON points, or counts per unit grid when there are more than MAP_POINTS."""
    qs = visible_cases(user).order_by()
    state = params.get("state", "open")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in State.values:
        qs = qs.filter(state=state)
    if params.get("category"):
        try:
            qs = CaseFilter.parse({"category": params["category"]}).apply(qs, user)
        except Invalid:
            qs = qs.none()
    bbox = [p for p in str(params.get("bbox", "")).split(",") if p]
    if len(bbox) == 4:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox)
            qs = qs.filter(lon__range=(x0, x1), lat__range=(y0, y1))
        except ValueError:
            pass
    rows = list(
        qs.order_by("-pk").values_list("pk", "number", "lon", "lat", "state", "category__name", "deadline")[
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
                    "category": cat,
                    "url": reverse("web:case", args=[pk]),
                },
            }
            for pk, number, lon, lat, st, cat, _deadline in rows
        ]
        return {"type": "FeatureCollection", "features": features, "clustered": False}
    counts = qs.values("unit_grid_id").annotate(n=Count("pk")).order_by()
    grids = {
        g["pk"]: g
        for g in UnitGrid.objects.filter(pk__in=[c["unit_grid_id"] for c in counts]).values(
            "pk", "code", "min_lon", "min_lat", "max_lon", "max_lat"
        )
    }
    features = []
    for c in counts:
        g = grids[c["unit_grid_id"]]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [(g["min_lon"] + g["max_lon"]) / 2, (g["min_lat"] + g["max_lat"]) / 2],
                },
                "properties": {"grid": g["code"], "count": c["n"]},
            }
        )
    return {"type": "FeatureCollection", "features": features, "clustered": True}


@staff_required()
@require_GET
def cases_geojson(request: HttpRequest) -> JsonResponse:
    return JsonResponse(map_cases(request.user, request.GET))
