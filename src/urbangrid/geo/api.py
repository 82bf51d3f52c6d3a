"""Geography API (/api/v1/geo): point-to-grid location and geocoding (地理编码)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from urbangrid.core.api_errors import ERRORS, ApiError

from .crs import CoordinateError, UnknownCRS, to_wgs84
from .geocoding import GeocodeError, geocode
from .index import GridLocation, OutsideJurisdiction, get_index

router = Router(tags=["geo"])


class LocationOut(Schema):
    lon: float
    lat: float
    unit_grid_id: str
    unit_grid_code: str
    work_grid_id: str | None
    work_grid_code: str | None
    community_id: str | None
    community_code: str | None
    community_name: str | None
    street_id: str | None
    street_code: str | None
    street_name: str | None


class CandidateOut(Schema):
    place_id: str | None
    label: str
    lon: float
    lat: float
    score: float
    kind: str
    grid: LocationOut | None


class LocateQuery(Schema):
    lon: float
    lat: float
    crs: str = "WGS84"


class GeocodeQuery(Schema):
    q: str
    limit: int = 5


def _location(loc: GridLocation, lon: float, lat: float) -> dict:
    """Ids as strings (JavaScript clients lose precision on 64-bit integers)."""
    data = {k: (str(v) if k.endswith("_id") and v is not None else v) for k, v in loc.as_dict().items()}
    return {"lon": lon, "lat": lat, **data}


@router.get("/locate", response={200: LocationOut, **ERRORS}, summary="Which unit grid covers a point")
def locate(request, params: Query[LocateQuery]):
    try:
        lon, lat = to_wgs84(params.lon, params.lat, params.crs)
    except UnknownCRS as exc:
        raise ApiError(400, "unknown_crs", str(exc), {"crs": str(exc)}) from None
    except CoordinateError as exc:
        raise ApiError(400, "bad_coordinates", str(exc), {"lon": str(exc), "lat": str(exc)}) from None
    try:
        loc = get_index().locate(lon, lat)
    except OutsideJurisdiction as exc:
        raise ApiError(422, "outside_jurisdiction", str(exc)) from None
    return _location(loc, lon, lat)


@router.get("/geocode", response={200: list[CandidateOut], **ERRORS}, summary="Geocode an address or place name")
def geocode_view(request, params: Query[GeocodeQuery]):
    if not 1 <= params.limit <= 50:
        raise ApiError(400, "invalid", _("limit must be between 1 and 50."), {"limit": _("between 1 and 50")})
    try:
        candidates = geocode(params.q, params.limit)
    except GeocodeError as exc:
        raise ApiError(404, "no_match", str(exc), {"q": str(exc)}) from None
    return [
        {"place_id": str(c.place_id) if c.place_id is not None else None, "label": c.label, "lon": c.lon,
         "lat": c.lat, "score": c.score, "kind": c.kind,
         "grid": _location(c.grid, c.lon, c.lat) if c.grid else None}
        for c in candidates
    ]
