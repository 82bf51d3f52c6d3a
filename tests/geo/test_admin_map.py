"""The admin edits unit-grid and division boundaries on a map (issue 11): the change forms render
the map editor with the polygon and its read-only neighbours; the posted GeoJSON is checked
(valid polygon, inside the parent, no overlap with neighbours) with errors in the form and
nothing saved; a good edit recomputes the area, refreshes the point-to-grid index and is audited."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from shapely.geometry import box, mapping

from urbangrid.core.models import AuditLog, User
from urbangrid.geo.actions import geodesic_area_m2
from urbangrid.geo.index import OutsideJurisdiction, locate
from urbangrid.geo.models import AdminDivision, GridRevision, UnitGrid, WorkGrid

pytestmark = pytest.mark.django_db

LON, LAT = 120.55, 30.63
D = 0.001  # ~96 m x 111 m
COMMUNITY, OTHER_COMMUNITY = "330483001001", "330483001002"


def polygon(x0: float, y0: float, x1: float, y1: float) -> dict:
    return json.loads(json.dumps(mapping(box(x0, y0, x1, y1))))


def save_grid(code: str, community: AdminDivision, geometry: dict, work_grid: WorkGrid | None = None) -> UnitGrid:
    from shapely.geometry import shape

    geom = shape(geometry)
    x0, y0, x1, y1 = geom.bounds
    return UnitGrid.objects.create(
        code=code,
        community=community,
        work_grid=work_grid,
        geometry=geometry,
        area_m2=geodesic_area_m2(geom),
        min_lon=x0,
        min_lat=y0,
        max_lon=x1,
        max_lat=y1,
    )


@pytest.fixture
def area():
    """A street with two communities side by side; three grids in the first, a gap east of them."""
    county = AdminDivision.objects.create(code="330483", name="桐乡市", level="county")
    street = AdminDivision.objects.create(
        code="330483001",
        name="梧桐街道",
        level="street",
        parent=county,
        geometry=polygon(LON, LAT, LON + 8 * D, LAT + 2 * D),
    )
    community = AdminDivision.objects.create(
        code=COMMUNITY,
        name="庆丰社区",
        level="community",
        parent=street,
        geometry=polygon(LON, LAT, LON + 4 * D, LAT + D),
    )
    other = AdminDivision.objects.create(
        code=OTHER_COMMUNITY,
        name="文华社区",
        level="community",
        parent=street,
        geometry=polygon(LON + 4 * D, LAT, LON + 8 * D, LAT + D),
    )
    wg = WorkGrid.objects.create(code="WG1", name="梧桐-01", street=street)
    grids = [
        save_grid(f"{COMMUNITY}{i + 1:02d}", community, polygon(LON + i * D, LAT, LON + (i + 1) * D, LAT + D), wg)
        for i in range(3)
    ]
    return {"street": street, "community": community, "other": other, "grids": grids, "work_grid": wg}


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.org", None))
    return client


def grid_post(grid: UnitGrid, geometry, **changes) -> dict:
    data = {
        "code": grid.code,
        "name": grid.name,
        "community": grid.community_id,
        "work_grid": grid.work_grid_id or "",
        "geometry": geometry if isinstance(geometry, str) else json.dumps(geometry),
        "management_level": grid.management_level,
        "land_use": grid.land_use,
        "responsible_department": grid.responsible_department_id or "",
        "valid_from": "",
        "valid_to": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def division_post(division: AdminDivision, geometry, **changes) -> dict:
    data = {
        "code": division.code,
        "name": division.name,
        "level": division.level,
        "parent": division.parent_id or "",
        "geometry": geometry if isinstance(geometry, str) else json.dumps(geometry),
        "valid_from": "",
        "valid_to": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def map_data(html: str, field: str = "id_geometry") -> dict:
    found = re.search(rf'<script id="{field}_map_data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the map data block is missing"
    return json.loads(found.group(1))


def layer_codes(data: dict, role: str) -> set[str]:
    return {
        f["properties"].get("code", f["properties"]["label"])
        for layer in data["layers"]
        if layer["role"] == role
        for f in layer["features"]["features"]
    }


def assert_no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script: {tag}"


# --- rendering --------------------------------------------------------------------------


def test_unit_grid_change_form_shows_the_map_editor_with_its_neighbours(admin_client, area):
    grid = area["grids"][1]
    response = admin_client.get(f"/admin/geo/unitgrid/{grid.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-polygon-editor" in html and 'data-testid="polygon-map"' in html
    for asset in (
        "vendor/leaflet/leaflet.js",
        "vendor/geoman/leaflet-geoman.js",
        "geo/polygon_editor.js",
        "vendor/geoman/leaflet-geoman.css",
        "geo/polygon_editor.css",
    ):
        assert asset in html
    # the field still posts the GeoJSON text, now folded under "advanced"
    textarea = re.search(r'<textarea name="geometry"[^>]*id="id_geometry"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea and json.loads(textarea.group(1).replace("&quot;", '"')) == grid.geometry
    data = map_data(html)
    assert layer_codes(data, "neighbour") == {area["grids"][0].code, area["grids"][2].code}
    [parent] = [layer for layer in data["layers"] if layer["role"] == "parent"]
    assert parent["features"]["features"][0]["geometry"] == area["community"].geometry
    assert_no_inline_script(html)
    # the bounding box as people read it (one labelled line, rounded), not four raw float fields
    assert "Min lon" not in html and "Max lat" not in html
    assert f"longitude {grid.min_lon:.6f}–{grid.max_lon:.6f}, latitude {grid.min_lat:.6f}–{grid.max_lat:.6f}" in html


def test_add_form_renders_an_empty_editor_centred_on_the_district(admin_client, area):
    response = admin_client.get("/admin/geo/unitgrid/add/")
    assert response.status_code == 200
    data = map_data(response.content.decode())
    assert data["center"] == pytest.approx([LON + 1.5 * D, LAT + 0.5 * D])


def test_division_change_form_shows_siblings_parent_and_its_grids(admin_client, area):
    response = admin_client.get(f"/admin/geo/admindivision/{area['community'].pk}/change/")
    assert response.status_code == 200
    data = map_data(response.content.decode())
    assert layer_codes(data, "neighbour") == {OTHER_COMMUNITY}
    assert layer_codes(data, "member") == {g.code for g in area["grids"]}
    assert data["layers"][0]["role"] == "parent"


def test_work_grid_change_form_shows_its_unit_grids_read_only(admin_client, area):
    response = admin_client.get(f"/admin/geo/workgrid/{area['work_grid'].pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="work-grid-map"' in html and "geo/polygon_editor.js" in html
    assert layer_codes(map_data(html, "work-grid-map"), "member") == {g.code for g in area["grids"]}


# --- saving -----------------------------------------------------------------------------


def test_an_edited_polygon_is_saved_with_its_area_and_the_index_sees_it(admin_client, area):
    grid = area["grids"][2]
    inside_gap = (LON + 3.5 * D, LAT + 0.5 * D)
    with pytest.raises(OutsideJurisdiction):
        locate(*inside_gap)
    revision = GridRevision.current()[0]
    wider = polygon(LON + 2 * D, LAT, LON + 4 * D, LAT + D)  # grows east into the gap, up to the boundary
    response = admin_client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", grid_post(grid, wider))
    assert response.status_code == 302, response.content.decode()[:2000]
    grid.refresh_from_db()
    assert grid.geometry == wider
    assert grid.area_m2 == pytest.approx(2 * area["grids"][0].area_m2, rel=1e-3)
    assert (grid.min_lon, grid.max_lon) == pytest.approx((LON + 2 * D, LON + 4 * D))
    assert GridRevision.current()[0] > revision
    assert locate(*inside_gap).unit_grid_code == grid.code
    record = AuditLog.objects.get(action="geo.change_unit_grid")
    assert record.object_id == str(grid.pk) and "geometry" in record.data["fields"]
    assert record.data["area_m2"] == pytest.approx(grid.area_m2, abs=0.1)
    assert record.data["previous_area_m2"] == pytest.approx(area["grids"][0].area_m2, abs=0.1)
    assert LogEntry.objects.filter(object_id=str(grid.pk)).exists()


def test_a_vertex_snapped_onto_the_neighbour_is_no_overlap(admin_client, area):
    grid = area["grids"][2]
    # a pentagon sharing the neighbour's edge exactly, with an extra vertex on it
    shared = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON + 2 * D, LAT],
                [LON + 3 * D, LAT],
                [LON + 3.2 * D, LAT + 0.5 * D],
                [LON + 3 * D, LAT + D],
                [LON + 2 * D, LAT + D],
                [LON + 2 * D, LAT + 0.5 * D],
                [LON + 2 * D, LAT],
            ]
        ],
    }
    response = admin_client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", grid_post(grid, shared))
    assert response.status_code == 302


def test_a_new_grid_drawn_in_the_gap_is_added(admin_client, area):
    community = area["community"]
    data = {
        "code": f"{COMMUNITY}04",
        "name": "",
        "community": community.pk,
        "work_grid": "",
        "geometry": json.dumps(polygon(LON + 3 * D, LAT, LON + 4 * D, LAT + D)),
        "management_level": "1",
        "land_use": "",
        "responsible_department": "",
        "valid_from": "",
        "valid_to": "",
        "_save": "Save",
    }
    response = admin_client.post("/admin/geo/unitgrid/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    new = UnitGrid.objects.get(code=f"{COMMUNITY}04")
    assert new.area_m2 == pytest.approx(area["grids"][0].area_m2, rel=1e-3)
    assert AuditLog.objects.filter(action="geo.add_unit_grid", object_id=str(new.pk)).exists()


def test_a_name_change_is_not_blocked_by_an_old_overlap(admin_client, area):
    grid = area["grids"][2]
    UnitGrid.objects.filter(pk=grid.pk).update(geometry=polygon(LON + 1.5 * D, LAT, LON + 3 * D, LAT + D))
    grid.refresh_from_db()
    response = admin_client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", grid_post(grid, grid.geometry, name="东区"))
    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.name == "东区"


# --- refusals: an error in the form, nothing saved ---------------------------------------

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[LON + 2 * D, LAT], [LON + 3 * D, LAT + D], [LON + 3 * D, LAT], [LON + 2 * D, LAT + D], [LON + 2 * D, LAT]]
    ],
}


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ("{not json", ["Enter a valid JSON."]),
        ({"type": "Point", "coordinates": [LON, LAT]}, ["must be a GeoJSON Polygon or MultiPolygon, not Point"]),
        ({"type": "Polygon", "coordinates": [[[LON, LAT], [LON + D, LAT]]]}, ["Geometry coordinates are malformed"]),
        (
            {"type": "Polygon", "coordinates": [[[LAT, LON], [LAT, LON + D], [LAT + D, LON], [LAT, LON]]]},
            ["Coordinates out of range"],
        ),
        (BOW_TIE, ["Invalid polygon: Self-intersection"]),
        # moved half a grid west onto grid 02
        (
            polygon(LON + 1.5 * D, LAT, LON + 2.5 * D, LAT + D),
            [f"The polygon overlaps unit grid {COMMUNITY}02 by 5", " m²."],
        ),
        # grows across the community's eastern boundary into the neighbouring community
        (
            polygon(LON + 2 * D, LAT, LON + 5 * D, LAT + D),
            ["The polygon extends 1", " m² outside 庆丰社区 (330483001001) (near 120.55"],
        ),
    ],
    ids=["json", "point", "malformed", "swapped", "self-intersection", "overlap", "outside-parent"],
)
def test_a_bad_polygon_is_refused_with_a_readable_error(admin_client, area, geometry, expected):
    grid = area["grids"][2]
    before = (grid.geometry, grid.area_m2)
    revision = GridRevision.current()[0]
    response = admin_client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", grid_post(grid, geometry))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["geometry"]
    text = " ".join(errors)
    for part in expected:
        assert part in text
    assert 'class="errorlist' in response.content.decode()
    grid.refresh_from_db()
    assert (grid.geometry, grid.area_m2) == before
    assert GridRevision.current()[0] == revision
    assert not AuditLog.objects.filter(action__startswith="geo.").exists()
    # the posted text comes back in the form, so the admin can fix it
    assert "geo/polygon_editor.js" in response.content.decode()


def test_overlaps_name_every_neighbour_with_its_area(admin_client, area):
    grid = area["grids"][2]
    # over half of grid 01 and all of 02, reaching south out of the community
    everything = polygon(LON + 0.5 * D, LAT - 0.2 * D, LON + 3 * D, LAT + D)
    response = admin_client.post(f"/admin/geo/unitgrid/{grid.pk}/change/", grid_post(grid, everything))
    errors = response.context["adminform"].form.errors["geometry"]
    overlaps = [e for e in errors if "overlaps unit grid" in e]
    assert [e.split()[5] for e in overlaps] == [f"{COMMUNITY}02", f"{COMMUNITY}01"]  # largest overlap first
    full = area["grids"][1].area_m2
    assert f"by {full:.1f} m²" in overlaps[0]
    assert any("outside 庆丰社区" in e for e in errors)


def test_division_boundary_overlapping_a_sibling_or_leaving_its_parent_is_refused(admin_client, area):
    community = area["community"]
    url = f"/admin/geo/admindivision/{community.pk}/change/"
    response = admin_client.post(url, division_post(community, polygon(LON, LAT, LON + 5 * D, LAT + D)))
    assert response.status_code == 200
    text = " ".join(response.context["adminform"].form.errors["geometry"])
    assert "The boundary overlaps 文华社区 (330483001002) by " in text
    response = admin_client.post(url, division_post(community, polygon(LON, LAT - D, LON + 4 * D, LAT + D)))
    text = " ".join(response.context["adminform"].form.errors["geometry"])
    assert "outside 梧桐街道 (330483001)" in text
    community.refresh_from_db()
    assert community.geometry == polygon(LON, LAT, LON + 4 * D, LAT + D)


def test_division_boundary_edit_is_saved_and_audited(admin_client, area):
    community = area["community"]
    smaller = polygon(LON, LAT, LON + 3.5 * D, LAT + D)
    response = admin_client.post(f"/admin/geo/admindivision/{community.pk}/change/", division_post(community, smaller))
    assert response.status_code == 302, response.content.decode()[:2000]
    community.refresh_from_db()
    assert community.geometry == smaller
    record = AuditLog.objects.get(action="geo.change_division")
    assert record.data["fields"] == ["geometry"] and record.data["area_m2"] > 0
