from __future__ import annotations

import pytest
from shapely.geometry import shape

from tests import factories
from urbangrid.core.models import ApiToken
from urbangrid.geo.crs import from_wgs84
from urbangrid.geo.models import UnitGrid

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, small_demo):
    client.force_login(factories.user())
    return client


def _inside() -> tuple[UnitGrid, float, float]:
    grid = UnitGrid.objects.select_related("community__parent").order_by("code").first()
    p = shape(grid.geometry).representative_point()
    return grid, p.x, p.y


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    return body["error"]


def test_locate(signed_in):
    grid, lon, lat = _inside()
    r = signed_in.get("/api/v1/geo/locate", {"lon": lon, "lat": lat})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["unit_grid_id"] == str(grid.pk) and body["unit_grid_code"] == grid.code
    assert body["community_id"] == str(grid.community_id) and body["street_name"] == grid.community.parent.name
    gcj = from_wgs84(lon, lat, "GCJ02")
    r = signed_in.get("/api/v1/geo/locate", {"lon": gcj[0], "lat": gcj[1], "crs": "GCJ-02"})
    assert r.json()["unit_grid_code"] == grid.code
    assert r.json()["lon"] == pytest.approx(lon, abs=1e-7)


def test_locate_with_api_token(client, small_demo):
    _grid, lon, lat = _inside()
    key = ApiToken.issue(factories.user(), "test")
    r = client.get("/api/v1/geo/locate", {"lon": lon, "lat": lat}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content


def test_locate_errors(signed_in, client):
    _error(signed_in.get("/api/v1/geo/locate", {"lon": 120.5, "lat": 95}), 400, "bad_coordinates")
    err = _error(signed_in.get("/api/v1/geo/locate", {"lon": 120.5, "lat": 30.6, "crs": "XYZ"}), 400, "unknown_crs")
    assert "use WGS84, GCJ02 or CGCS2000" in err["message"]
    _error(signed_in.get("/api/v1/geo/locate", {"lon": "east", "lat": 30.6}), 400, "invalid")
    err = _error(signed_in.get("/api/v1/geo/locate", {"lon": 116.39, "lat": 39.9}), 422, "outside_jurisdiction")
    assert "outside every unit grid" in err["message"]
    client.logout()
    _error(client.get("/api/v1/geo/locate", {"lon": 120.5, "lat": 30.6}), 401, "unauthenticated")


def test_geocode(signed_in):
    r = signed_in.get("/api/v1/geo/geocode", {"q": "人民路5号", "limit": 2})
    assert r.status_code == 200, r.content
    body = r.json()
    assert len(body) == 2 and body[0]["kind"] == "door_plate"
    assert isinstance(body[0]["place_id"], str) and isinstance(body[0]["grid"]["unit_grid_id"], str)
    err = _error(signed_in.get("/api/v1/geo/geocode", {"q": "火星基地"}), 404, "no_match")
    assert "火星基地" in err["message"]
    _error(signed_in.get("/api/v1/geo/geocode", {"q": "人民公园", "limit": 0}), 400, "invalid")
