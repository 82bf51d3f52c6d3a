"""The offline base map (离线底图): division areas, roads and labels of whatever city is loaded.

Maps draw it when no tile server is configured (``URBANGRID_TILE_URL`` empty). It is built
from the geography in the database, so it works for the demo district and for a bureau's own
data alike:

* **areas**: streets and communities (and the county outline) from ``AdminDivision.geometry``;
  a division without a boundary gets the union of its unit grids;
* **roads**: centre lines derived from the gazetteer's door plates. Plates with door numbers
  ``2k-1`` and ``2k`` face each other across the road (odd on one side, even on the other), so
  the midpoint of each pair lies on the centre line; the points in number order make the line,
  broken where consecutive points are far apart (a gap in the numbering, a road leaving the
  jurisdiction). A name used by two different roads (the same number twice) is split by street;
* **labels**: street, community, road (along the road, with its angle), landmark names, each
  with the zoom level from which it is shown.

The result is one GeoJSON FeatureCollection in WGS-84 (properties ``layer`` = ``county`` /
``street`` / ``community`` / ``road`` / ``label``), coordinates rounded to 1e-6° (0.1 m).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

import shapely
from django.db.models import Q
from django.utils import timezone
from shapely.geometry import LineString, mapping, shape
from shapely.geometry.base import BaseGeometry

from .models import AdminDivision, DivisionLevel, Place, PlaceKind, UnitGrid

M_PER_DEG_LAT = 111_320.0
#: consecutive centre-line points further apart than this (metres) start a new line
MAX_STEP_M = 150.0
#: simplification tolerance (degrees, about 1.5 m) for areas and roads
SIMPLIFY_DEG = 0.000015
#: the zoom level from which each kind of label is shown
LABEL_MIN_ZOOM = {"county": 0, "street": 0, "community": 14, "road": 15, "landmark": 16}
#: and up to which (street names give way to community names when zoomed in)
LABEL_MAX_ZOOM = {"county": 11, "street": 15, "community": 17, "road": 30, "landmark": 30}
AREA_LEVELS = (DivisionLevel.COUNTY, DivisionLevel.STREET, DivisionLevel.COMMUNITY)

_NUMBER = re.compile(r"\d+")


def _round(coords: Any) -> Any:
    if isinstance(coords, (int, float)):
        return round(float(coords), 6)
    return [_round(c) for c in coords]


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    data = mapping(geom)
    return {"type": data["type"], "coordinates": _round(data["coordinates"])}


def _valid_today() -> Q:
    return Q(valid_to__isnull=True) | Q(valid_to__gte=timezone.localdate())


def _areas() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    divisions = list(
        AdminDivision.objects.filter(_valid_today(), level__in=AREA_LEVELS)
        .order_by("code")
        .values("pk", "code", "name", "level", "geometry", "parent_id")
    )
    # unit grids per community, for divisions without a boundary of their own
    grids_of: dict[int, list[BaseGeometry]] = defaultdict(list)
    missing = {d["pk"] for d in divisions if not d["geometry"]}
    if missing:
        parent = {d["pk"]: d["parent_id"] for d in divisions}
        for community_id, geom in UnitGrid.objects.filter(_valid_today()).values_list("community_id", "geometry"):
            g = shape(geom)
            grids_of[community_id].append(g)
            street = parent.get(community_id)
            if street in missing:
                grids_of[street].append(g)
                if parent.get(street) in missing:
                    grids_of[parent[street]].append(g)
    features, labels = [], []
    for d in divisions:
        try:
            geom = shape(d["geometry"]) if d["geometry"] else None
        except (ValueError, TypeError, KeyError, AttributeError):
            geom = None
        if geom is None and grids_of.get(d["pk"]):
            geom = shapely.unary_union(grids_of[d["pk"]])
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        geom = geom.simplify(SIMPLIFY_DEG, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "geometry": _geojson(geom),
                "properties": {"layer": d["level"], "code": d["code"], "name": d["name"]},
            }
        )
        point = geom.representative_point()
        labels.append(_label(d["name"], d["level"], point.x, point.y))
    return features, labels


def _label(text: str, kind: str, lon: float, lat: float, angle: float = 0.0) -> dict[str, Any]:
    props: dict[str, Any] = {
        "layer": "label",
        "kind": kind,
        "text": text,
        "minzoom": LABEL_MIN_ZOOM[kind],
        "maxzoom": LABEL_MAX_ZOOM[kind],
    }
    if angle:
        props["angle"] = round(angle, 1)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": _round([lon, lat])}, "properties": props}


def _door_number(text: str) -> int | None:
    """128 for "128", "128-3", "128号"; None without digits."""
    m = _NUMBER.search(text or "")
    return int(m.group()) if m else None


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * M_PER_DEG_LAT * k, (a[1] - b[1]) * M_PER_DEG_LAT)


def centre_lines(plates: list[tuple[int, float, float]]) -> list[list[tuple[float, float]]]:
    """Centre lines of one road from its door plates (number, lon, lat), in number order."""
    pairs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for number, lon, lat in plates:
        pairs[(number + 1) // 2].append((lon, lat))
    both = sum(1 for pts in pairs.values() if len(pts) >= 2)
    # where most numbers face each other, a plate without its partner would make the line zigzag
    keep_single = both < len(pairs) / 2
    points = [
        (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        for _k, pts in sorted(pairs.items())
        if keep_single or len(pts) >= 2
    ]
    lines: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if lines[-1] and _metres(lines[-1][-1], p) > MAX_STEP_M:
            lines.append([])
        lines[-1].append(p)
    return [line for line in lines if len(line) >= 2]


def _angle(line: LineString) -> tuple[float, float, float]:
    """A point in the middle of `line` and the direction there (degrees, screen-upright)."""
    mid = line.interpolate(0.5, normalized=True)
    a = line.interpolate(max(0.0, 0.5 - 0.05), normalized=True)
    b = line.interpolate(min(1.0, 0.5 + 0.05), normalized=True)
    dx = (b.x - a.x) * math.cos(math.radians(mid.y))
    dy = b.y - a.y
    angle = -math.degrees(math.atan2(dy, dx))  # screen y grows downwards
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    return mid.x, mid.y, angle


def _roads() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    plates: dict[str, list[tuple[int, float, float, int | None]]] = defaultdict(list)
    for road, number, lon, lat, street in Place.objects.filter(kind=PlaceKind.DOOR_PLATE).values_list(
        "road", "number", "lon", "lat", "street_id"
    ):
        n = _door_number(number)
        if road and n is not None:
            plates[road].append((n, lon, lat, street))
    features, labels = [], []
    drawn: set[str] = set()
    for name in sorted(plates):
        rows = plates[name]
        numbers = [r[0] for r in rows]
        if len(numbers) != len(set(numbers)):  # two roads of this name: one per street
            groups: dict[Any, list] = defaultdict(list)
            for r in rows:
                groups[r[3]].append(r)
            parts = list(groups.values())
        else:
            parts = [rows]
        lines = []
        for part in parts:
            lines += [LineString(line) for line in centre_lines([(n, lon, lat) for n, lon, lat, _s in part])]
        if not lines:
            continue
        drawn.add(name)
        geom = shapely.MultiLineString(lines).simplify(SIMPLIFY_DEG)
        features.append({"type": "Feature", "geometry": _geojson(geom), "properties": {"layer": "road", "name": name}})
        for line in lines:
            if _metres(line.coords[0], line.coords[-1]) >= 100:
                labels.append(_label(name, "road", *_angle(line)))
    # roads known only by name and position (no door plates): a label at that point
    for name, lon, lat in Place.objects.filter(kind=PlaceKind.ROAD).values_list("name", "lon", "lat"):
        if name not in drawn:
            labels.append(_label(name, "road", lon, lat))
    return features, labels


def _landmarks() -> list[dict[str, Any]]:
    return [
        _label(name, "landmark", lon, lat)
        for name, lon, lat in Place.objects.filter(kind=PlaceKind.LANDMARK).values_list("name", "lon", "lat")
    ]


def build_basemap() -> dict[str, Any]:
    """The base map as a GeoJSON FeatureCollection with a ``bbox`` (empty without geography)."""
    areas, area_labels = _areas()
    roads, road_labels = _roads()
    features = areas + roads + area_labels + road_labels + _landmarks()
    data: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if features:
        bounds = shapely.total_bounds(
            [shape(f["geometry"]) for f in areas + roads] or [shape(f["geometry"]) for f in features]
        )
        data["bbox"] = _round(list(bounds))
    return data
