"""The admin's boundary editor in a real browser, under the strict CSP (issue 11): an administrator
opens a unit grid, drags one of its vertices with the mouse (leaflet-geoman), saves, and the stored
polygon, its area and the point-to-grid answer change. Screenshots at 1280 px go to test-artifacts/."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, shape

from tests import factories
from tests.browser.test_csp import sign_in
from tests.geo.test_admin_map import COMMUNITY, LAT, LON, D, polygon, save_grid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = (1280, 900)


@pytest.fixture
def grids(transactional_db):
    from urbangrid.geo.models import AdminDivision

    county = AdminDivision.objects.create(code="330483", name="桐乡市", level="county")
    street = AdminDivision.objects.create(code="330483001", name="梧桐街道", level="street", parent=county)
    community = AdminDivision.objects.create(
        code=COMMUNITY,
        name="庆丰社区",
        level="community",
        parent=street,
        geometry=polygon(LON, LAT, LON + 4 * D, LAT + D),
    )
    return [
        save_grid(f"{COMMUNITY}{i + 1:02d}", community, polygon(LON + i * D, LAT, LON + (i + 1) * D, LAT + D))
        for i in range(3)
    ]


def screen_xy(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a WGS-84 point is on the page (the editor keeps its Leaflet map on the element)."""
    return tuple(
        page.evaluate(
            """([lon, lat]) => {
            const el = document.querySelector("[data-testid=polygon-map]");
            const p = el._ugMap.latLngToContainerPoint([lat, lon]);
            const r = el.getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
            [lon, lat],
        )
    )


def test_admin_drags_a_grid_vertex_on_the_map_and_saves(grids, new_page, screenshot):
    from urbangrid.geo.index import locate
    from urbangrid.geo.models import UnitGrid

    admin = factories.user("administrator", is_staff=True, is_superuser=True)
    grid = grids[2]
    page = new_page(WIDE)
    sign_in(page, admin, "/admin/login/?next=/admin/")
    page.goto(f"/admin/geo/unitgrid/{grid.pk}/change/")
    page.wait_for_selector("[data-testid=polygon-editor][data-ready='1']")
    # the polygon, its two neighbours and the community boundary are drawn; geoman's edit mode is on
    assert page.locator("[data-testid=polygon-map] path.leaflet-interactive").count() >= 3
    assert page.locator("[data-testid=polygon-map] .leaflet-pm-toolbar").count() >= 1
    page.locator("[data-testid=polygon-map]").scroll_into_view_if_needed()
    screenshot(page, "grid-before")

    # drag the north-east corner half a grid east and a little south, into the empty part of the community
    start = screen_xy(page, LON + 3 * D, LAT + D)
    target = (LON + 3.5 * D, LAT + 0.75 * D)
    end = screen_xy(page, *target)
    vertex = page.locator("[data-testid=polygon-map] .marker-icon:not(.marker-icon-middle)")
    assert vertex.count() >= 4
    page.mouse.move(*start)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
    page.mouse.up()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=polygon-editor]').dataset.synced) > 0")
    posted = shape(json.loads(page.input_value("#id_geometry")))
    assert posted.area > shape(grid.geometry).area
    status = page.inner_text("[data-testid=polygon-status]")
    assert "m²" in status and "{" not in status  # the rough area, filled in
    screenshot(page, "grid-vertex-dragged")

    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "/admin/geo/unitgrid/" in page.url and "/change/" not in page.url  # back on the list: saved
    screenshot(page, "grid-saved")

    grid.refresh_from_db()
    stored = shape(grid.geometry)
    moved = min(stored.exterior.coords, key=lambda c: Point(c).distance(Point(target)))
    assert Point(moved).distance(Point(target)) < 0.05 * D  # a few metres: one mouse pixel
    assert (LON + 3 * D, LAT + D) not in [tuple(c) for c in stored.exterior.coords]
    assert grid.area_m2 > grids[0].area_m2 * 1.1
    assert grid.max_lon == pytest.approx(target[0], abs=0.05 * D)
    assert locate(LON + 3.15 * D, LAT + 0.6 * D).unit_grid_code == grid.code  # east of the old edge
    assert UnitGrid.objects.get(pk=grids[1].pk).geometry == grids[1].geometry

    # the saved polygon is drawn again; broken GeoJSON typed under "advanced" is refused in the form
    page.goto(f"/admin/geo/unitgrid/{grid.pk}/change/")
    page.wait_for_selector("[data-testid=polygon-editor][data-ready='1']")
    page.click("[data-testid=polygon-advanced]")
    page.fill("#id_geometry", '{"type": "Polygon", "coordinates": [[[120.55')
    page.press("#id_geometry", "Tab")  # change event: the map keeps the last valid polygon and says why
    assert "ug-map-problem" in page.get_attribute("[data-testid=polygon-status]", "class")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert page.locator(".errornote").count() == 1 and page.locator(".errorlist").count() >= 1
    page.wait_for_selector("[data-testid=polygon-editor][data-ready='1']")
    screenshot(page, "grid-refused")
    before = grid.geometry
    grid.refresh_from_db()
    assert grid.geometry == before


def test_admin_deletes_the_polygon_and_draws_a_new_one_snapped_to_the_neighbours(grids, new_page, screenshot):
    admin = factories.user("administrator", is_staff=True, is_superuser=True)
    grid = grids[2]
    page = new_page(WIDE)
    sign_in(page, admin, "/admin/login/?next=/admin/")
    page.goto(f"/admin/geo/unitgrid/{grid.pk}/change/")
    page.wait_for_selector("[data-testid=polygon-editor][data-ready='1']")
    page.locator("[data-testid=polygon-map]").scroll_into_view_if_needed()
    # removal mode, then a click inside the polygon: the field empties
    page.click("[data-testid=polygon-map] .leaflet-pm-icon-delete")
    page.mouse.click(*screen_xy(page, LON + 2.5 * D, LAT + 0.5 * D))
    page.wait_for_function("() => document.getElementById('id_geometry').value === ''")
    page.click("[data-testid=polygon-map] .leaflet-pm-icon-delete")  # leave removal mode
    # a rectangle over the empty east end of the community, corners a few pixels off: they snap
    page.click("[data-testid=polygon-map] .leaflet-pm-icon-rectangle")
    x0, y0 = screen_xy(page, LON + 3 * D, LAT + D)
    x1, y1 = screen_xy(page, LON + 4 * D, LAT)
    page.mouse.move(x0 + 3, y0 - 3)
    page.mouse.click(x0 + 3, y0 - 3)
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1 - 3, y1 + 3, steps=5)
    page.mouse.click(x1 - 3, y1 + 3)
    page.wait_for_function("() => document.getElementById('id_geometry').value !== ''")
    drawn = shape(json.loads(page.input_value("#id_geometry")))
    assert drawn.bounds == pytest.approx((LON + 3 * D, LAT, LON + 4 * D, LAT + D), abs=0.02 * D)
    screenshot(page, "grid-redrawn")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "/change/" not in page.url
    grid.refresh_from_db()
    assert shape(grid.geometry).bounds == pytest.approx((LON + 3 * D, LAT, LON + 4 * D, LAT + D), abs=0.02 * D)
