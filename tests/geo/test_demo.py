from __future__ import annotations

import json
import time
from collections import Counter

import numpy as np
import pytest
from shapely.geometry import shape

from tests import factories
from urbangrid.geo.codes import validate_unit_grid_code
from urbangrid.geo.demo import build_demo_geography, demo_layout
from urbangrid.geo.geocoding import geocode
from urbangrid.geo.models import AdminDivision, GridRevision, UnitGrid, WorkGrid
from urbangrid.geo.preview import svg_map


@pytest.mark.django_db
def test_full_demo_geography():
    started = time.perf_counter()
    counts = build_demo_geography()
    assert time.perf_counter() - started < 60
    assert counts["streets"] == 5 and counts["work_grids"] == 22
    assert 32 <= counts["communities"] <= 36
    assert 2900 <= counts["unit_grids"] <= 3100
    assert UnitGrid.objects.count() == counts["unit_grids"]
    assert counts["roads"] >= 40 and counts["landmarks"] >= 55 and counts["door_plates"] > 5000
    county = AdminDivision.objects.get(code="330483")
    assert (county.name, county.parent.code, county.parent.parent.code) == ("桐乡市", "330400", "330000")
    assert AdminDivision.objects.get(code="330483101").name == "濮院镇"

    per_community = Counter(UnitGrid.objects.values_list("community__code", flat=True))
    assert max(per_community.values()) <= 99
    for grid in UnitGrid.objects.select_related("community").only("code", "community__code"):
        validate_unit_grid_code(grid.code, grid.community.code, length=14)
    for wg in WorkGrid.objects.all():
        assert {c[:9] for c in wg.unit_grids.values_list("code", flat=True)} == {wg.street.code}
    assert GridRevision.current() > (0, 0)

    best = geocode("梧桐街道庆丰路128号")[0]
    assert best.label == "梧桐街道庆丰路128号" and best.kind == "door_plate"
    assert best.grid.street_code == "330483001"


def test_demo_layout_is_reproducible_and_tiles_the_district():
    a = demo_layout(grids=300, communities=5, work_grids=5, roads=6)
    b = demo_layout(grids=300, communities=5, work_grids=5, roads=6)
    assert [g["code"] for g in a.grids] == [g["code"] for g in b.grids]
    assert all(ga["geometry"].equals_exact(gb["geometry"], 0) for ga, gb in zip(a.grids, b.grids, strict=True))
    total = sum(g["geometry"].area for g in a.grids)
    assert total == pytest.approx(a.county_geometry.area, rel=1e-9)  # no gaps, no overlaps
    assert all(c["geometry"].geom_type == "Polygon" for c in a.communities)  # contiguous
    # sequence numbers run north -> south: early grids lie north of late ones
    first = [g for g in a.grids if g["code"].startswith(a.communities[0]["code"])]
    lat = [shape(g["geometry"]).centroid.y for g in first]
    assert np.mean(lat[:10]) > np.mean(lat[-10:])
    with pytest.raises(ValueError, match="at most 99"):
        demo_layout(grids=3000, communities=10)


def test_svg_map_is_self_contained_and_escaped():
    square = {"type": "Polygon", "coordinates": [[[120.5, 30.6], [120.501, 30.6], [120.501, 30.601], [120.5, 30.6]]]}
    feature = {"type": "Feature", "geometry": square, "properties": {"name": "<script>alert(1)</script>"}}
    svg = svg_map([square, feature], points=[(120.5005, 30.6005)], highlight=1, size=200)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<path") == 2 and svg.count("<circle") == 1 and 'fill="#4c8bf5"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert svg_map([]).startswith("<svg")


@pytest.mark.django_db
def test_admin_pages(client, small_demo):
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    grid = UnitGrid.objects.order_by("code").first()
    street = AdminDivision.objects.get(code="330483001")
    for url in ("/admin/geo/unitgrid/", f"/admin/geo/unitgrid/?street={street.pk}&management_level=1",
                "/admin/geo/workgrid/", "/admin/geo/place/?kind=landmark&q=公园", "/admin/geo/admindivision/",
                f"/admin/geo/admindivision/{street.pk}/change/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/geo/unitgrid/{grid.pk}/change/").content.decode()
    assert "<svg" in page and grid.code in page

    UnitGrid.objects.filter(pk=grid.pk).update(area_m2=0)  # the admin recomputes it on save
    data = {"code": grid.code, "name": "新名称", "community": grid.community_id, "work_grid": grid.work_grid_id or "",
            "geometry": json.dumps(grid.geometry), "management_level": "2", "land_use": "R",
            "responsible_department": "", "valid_from": "", "valid_to": ""}
    assert client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", data).status_code == 302
    grid.refresh_from_db()
    assert grid.name == "新名称" and 3_000 < grid.area_m2 < 30_000
    bad = {**data, "code": grid.code[:-2] + "00"}
    assert "must not be zero" in client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", bad).content.decode()
