from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import box, mapping

from tests import factories
from urbangrid.core.models import AuditLog
from urbangrid.geo.actions import assign_collectors, load_divisions, load_grids
from urbangrid.geo.crs import from_wgs84
from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

LON, LAT = 120.55, 30.63
D = 0.001  # ~96 m x 111 m squares, about one hectare
C1, C2 = "330483001001", "330483001002"

pytestmark = pytest.mark.django_db


@pytest.fixture
def divisions():
    report = load_divisions([
        {"code": C1, "name": "庆丰社区"},  # any order: parents are loaded first
        {"code": "330483", "name": "桐乡市"},
        {"code": "330483001", "name": "梧桐街道"},
        # C2 has a boundary: 2 x 1 squares east of C1's area
        {"code": C2, "name": "文华社区", "geometry": json.dumps(mapping(box(LON + 3 * D, LAT, LON + 5 * D, LAT + D)))},
    ])
    assert report.ok, report.as_text()
    return report


def square(code: str, col: int, row: int = 0, community: str | None = None, **props) -> dict:
    geom = mapping(box(LON + col * D, LAT + row * D, LON + (col + 1) * D, LAT + (row + 1) * D))
    return {"type": "Feature", "geometry": geom,
            "properties": {"code": code, "name": f"网格{code[-2:]}", "community": community or code[:12], **props}}


def test_load_divisions_links_parents_and_rejects_unknown_parent(divisions):
    assert divisions.created == 4
    assert AdminDivision.objects.get(code=C1).parent.code == "330483001"
    report = load_divisions([{"code": "330483002001", "name": "无主社区"}])
    assert not report.ok and not report.written
    assert "parent division 330483002 is unknown" in str(report.errors[0])
    assert not AdminDivision.objects.filter(code="330483002001").exists()


def test_load_grids_good(divisions):
    user = factories.user()
    report = load_grids({"type": "FeatureCollection", "features": [
        square(f"{C1}01", 0, management_level="2", land_use="R", work_grid="梧桐-01"),
        square(f"{C1}02", 1, work_grid="梧桐-01"),
        square(f"{C1}03", 2),
    ]}, actor=user)
    assert report.ok and report.written, report.as_text()
    assert (report.created, report.updated, report.work_grids_created) == (3, 0, 1)
    grid = UnitGrid.objects.get(code=f"{C1}01")
    assert 10_000 < grid.area_m2 < 11_000  # 96 m x 111 m on the WGS-84 ellipsoid
    assert (grid.min_lon, grid.max_lat) == pytest.approx((LON, LAT + D))
    assert grid.management_level == "2" and grid.land_use == "R"
    assert grid.work_grid.street.code == "330483001"
    log = AuditLog.objects.get(action="geo.load_grids")
    assert log.actor == user and log.object_type == "geo.unitgrid" and log.data["count"] == 3

    again = load_grids([square(f"{C1}01", 0, name="改名")])
    assert (again.created, again.updated) == (0, 1)
    assert UnitGrid.objects.get(code=f"{C1}01").name == "改名"


@pytest.mark.parametrize(("feature", "message"), [
    (square(f"{C1}1", 0), "has 13 digits"),
    (square(f"{C1}00", 0), "must not be zero"),
    (square("33048300100901", 0), "community 330483001009 is unknown"),
    (square(f"{C1}01", 0, community=C2), "must start with its community's code 330483001002"),
    ({"type": "Feature", "properties": {"code": f"{C1}01"}, "geometry": {"type": "Polygon", "coordinates": [
        [[LON, LAT], [LON + D, LAT + D], [LON + D, LAT], [LON, LAT + D], [LON, LAT]]]}},
     "Invalid polygon: Self-intersection"),  # bow-tie
    ({"type": "Feature", "properties": {"code": f"{C1}01"}, "geometry": {"type": "Polygon", "coordinates": [
        [[LON, LAT], [LON, 91.0], [LON + D, LAT], [LON, LAT]]]}}, "Latitude 91.0 is out of range"),
    ({"type": "Feature", "properties": {"code": f"{C1}01"}, "geometry": {"type": "Point", "coordinates": [LON, LAT]}},
     "must be a GeoJSON Polygon or MultiPolygon, not Point"),
    (square(f"{C1}01", 0, management_level="9"), "management level '9'"),
])
def test_bad_feature_is_reported_with_index_and_code(divisions, feature, message):
    report = load_grids([square(f"{C1}05", 4), feature])
    assert not report.ok and not report.written
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.index == 1 and message in error.message, error.message
    assert str(error).startswith("feature #1")
    assert UnitGrid.objects.count() == 0  # atomic: the good feature is not written either


def test_repeated_code_and_partial_mode(divisions):
    features = [square(f"{C1}01", 0), square(f"{C1}01", 1), square(f"{C1}02", 1), square(f"{C1}03", 2, community="x")]
    report = load_grids(features, atomic=False)
    assert report.written
    assert [(e.index, e.code) for e in report.errors] == [(1, f"{C1}01"), (3, f"{C1}03")]
    assert "repeated (first at feature #0)" in report.errors[0].message
    assert (report.created, report.skipped) == (2, 2)
    assert set(UnitGrid.objects.values_list("code", flat=True)) == {f"{C1}01", f"{C1}02"}


def test_overlap_and_gap_warnings(divisions):
    overlapping = square(f"{C1}02", 0)
    overlapping["geometry"] = mapping(box(LON + 0.5 * D, LAT, LON + 1.5 * D, LAT + D))
    ring = [square(f"{C1}{k + 20:02d}", c, r) for k, (c, r) in enumerate(
        [(0, 1), (1, 1), (2, 1), (0, 2), (2, 2), (0, 3), (1, 3), (2, 3)])]  # (1, 2) missing: a hole
    report = load_grids([square(f"{C1}10", 0), overlapping, *ring,
                         square(f"{C2}01", 3)])  # C2's boundary also covers column 4: a gap
    assert report.ok and report.written, report.as_text()
    texts = [str(w) for w in report.warnings]
    assert any(f"{C1}10: overlaps grid {C1}02 by 53" in t for t in texts), texts  # half a square
    assert any("gap of" in t and "between grids" in t for t in texts), texts
    assert any(f"in community {C2}" in t for t in texts), texts
    assert len(texts) == 3


def test_existing_grids_count_for_overlaps(divisions):
    assert load_grids([square(f"{C1}01", 0)]).ok
    report = load_grids([square(f"{C1}02", 0)])
    assert [w.code for w in report.warnings] == [f"{C1}02"]


def test_gcj02_input_is_stored_as_wgs84(divisions):
    feature = square(f"{C1}01", 0)
    ring = feature["geometry"]["coordinates"][0]
    feature["geometry"]["coordinates"] = [[list(from_wgs84(x, y, "GCJ02")) for x, y in ring]]
    report = load_grids([feature], crs="GCJ02")
    assert report.ok, report.as_text()
    grid = UnitGrid.objects.get()
    assert grid.min_lon == pytest.approx(LON, abs=1e-7) and grid.min_lat == pytest.approx(LAT, abs=1e-7)


def test_work_grid_in_other_street_is_an_error(divisions):
    AdminDivision.objects.create(code="330483002", name="凤鸣街道", level="street",
                                 parent=AdminDivision.objects.get(code="330483"))
    WorkGrid.objects.create(code="凤鸣-01", name="凤鸣-01", street=AdminDivision.objects.get(code="330483002"))
    report = load_grids([square(f"{C1}01", 0, work_grid="凤鸣-01")])
    assert "lies in another street" in report.errors[0].message


def test_assign_collectors(divisions):
    wg = WorkGrid.objects.create(code="梧桐-01", name="梧桐-01")
    users = [factories.user(), factories.user()]
    assign_collectors(wg, users, actor=users[0])
    assert set(wg.collectors.all()) == set(users)
    assert AuditLog.objects.filter(action="geo.assign_collectors", object_id=str(wg.pk)).exists()


def test_management_commands(divisions, tmp_path):
    csv_path = tmp_path / "divisions.csv"
    csv_path.write_text("code,name\n330483001003,复兴社区\n", encoding="utf-8")
    call_command("load_divisions", str(csv_path))
    assert AdminDivision.objects.get(code="330483001003").level == "community"

    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [square(f"{C1}01", 0)]}), encoding="utf-8")
    call_command("load_grids", str(path))
    assert UnitGrid.objects.count() == 1
    path.write_text(json.dumps([square(f"{C1}02", 1), square("bad", 2)]), encoding="utf-8")
    with pytest.raises(CommandError, match="1 errors"):
        call_command("load_grids", str(path), "--partial")
    assert UnitGrid.objects.count() == 2
    with pytest.raises(CommandError, match="Unknown coordinate system"):
        call_command("load_grids", str(path), "--crs", "BD09")
