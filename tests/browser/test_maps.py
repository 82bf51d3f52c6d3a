"""The staff map in a real browser, under the strict CSP, on a desktop (1280 px) and a phone (375 px):
the offline base map draws roads and labels, the component and heat layers switch on, the time
filter changes the case count, clusters take the legend's colours; GCJ-02 tiles shift the overlays
by geo.crs's formula. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from tests.factories import World
    from urbangrid.evaluation import facts

    ContentType.objects.clear_cache()
    facts.case_content_type_id.cache_clear()
    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


def city(world):
    """Door plates along a road through the grids, a landmark, components and cases of several ages."""
    from django.utils import timezone

    from tests.factories import report_at
    from urbangrid.catalog.models import Component
    from urbangrid.geo.models import Place

    step = 20 / 96_000
    Place.objects.bulk_create(
        [
            Place(
                kind="door_plate",
                name=f"庆丰路{n}号",
                road="庆丰路",
                number=str(n),
                lon=120.5495 + ((n + 1) // 2) * step,
                lat=30.6305 + (0.00016 if n % 2 else -0.00016),
                street=world.street,
                community=world.community,
            )
            for n in range(1, 60)
        ]
    )
    Place.objects.create(kind="landmark", name="振兴广场", lon=120.5512, lat=30.6308, street=world.street)
    Component.objects.bulk_create(
        [
            Component(
                obj_id=f"3304830100{i:06d}",
                category=world.cover,
                state="damaged" if i % 4 == 0 else "intact",
                lon=120.5501 + (i % 40) * 0.0001,
                lat=30.6301 + (i // 40) * 0.0001,
            )
            for i in range(400)
        ]
    )
    now = timezone.now()
    for i, days in enumerate((0, 0, 3, 3, 20, 20)):
        report_at(world, now - dt.timedelta(days=days), i=i % 4)


def sign_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def loaded(page, key: str) -> str:
    page.wait_for_function(
        f"() => /^\\d+$/.test(document.getElementById('big-map').dataset.{key} || '')", timeout=20_000
    )
    return page.evaluate(f"() => document.getElementById('big-map').dataset.{key}")


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 812)], ids=["desktop", "phone"])
def test_staff_map_layers(world, new_page, screenshot, viewport):
    city(world)
    page = new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, world.leader)
    page.goto("/map/")
    assert loaded(page, "loaded") == "6"
    # the offline base map: road paths on the canvas and labels drawn
    page.wait_for_function("() => document.getElementById('big-map').dataset.baseRoads === '1'")
    page.evaluate("() => { window.urbangridStaffMap.setView([30.6305, 120.551], 17, {animate: false}); }")
    page.wait_for_function("() => Number(document.querySelector('[data-testid=base-labels]').dataset.drawn) >= 2")
    assert page.evaluate("() => document.querySelectorAll('.leaflet-ugBase-pane canvas').length") >= 1
    screenshot(page, "base-and-cases")

    # cluster colours follow the legend: zoomed out, the six cases form pies of legend colours
    page.evaluate("() => { window.urbangridStaffMap.setView([30.6305, 120.5515], 14, {animate: false}); }")
    page.wait_for_selector(".ug-pie")
    legend = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-legend-group]')].map(
             d => [d.dataset.legendGroup, getComputedStyle(d).backgroundColor]))"""
    )
    pies = page.evaluate(
        """() => [...document.querySelectorAll('.ug-pie')].map(
             p => [p.dataset.topGroup, p.dataset.topColor, p.style.background])"""
    )
    assert pies
    for group, color, background in pies:
        assert group == "new" and color == legend["new"], (pies, legend)
        assert legend["new"].replace(" ", "") in background.replace(" ", "")
    assert page.evaluate("() => document.querySelectorAll('.ug-pie.overdue').length") >= 1  # the 20-day-old cases
    screenshot(page, "clusters")

    # components, filtered by state
    page.check("#layer-components")
    assert loaded(page, "components") == "400"
    page.wait_for_selector(".ug-comp-cluster")
    page.select_option("#comp-state", "damaged")
    page.wait_for_function("() => document.getElementById('big-map').dataset.components === '100'")
    screenshot(page, "components")
    page.uncheck("#layer-components")

    # heat map, then the time filter changes both the cases and the heat map
    page.check("#layer-heat")
    assert loaded(page, "heat") == "6"
    assert page.evaluate("() => document.querySelectorAll('canvas.leaflet-heatmap-layer').length") == 1
    page.select_option("#map-period", "today")
    page.wait_for_function("() => document.getElementById('big-map').dataset.loaded === '2'")
    page.wait_for_function("() => document.getElementById('big-map').dataset.heat === '2'")
    page.select_option("#map-period", "7d")
    page.wait_for_function("() => document.getElementById('big-map').dataset.loaded === '4'")
    page.select_option("#map-period", "custom")
    assert page.is_visible("#map-from")
    screenshot(page, "heat-and-period")
    assert "2" in page.inner_text("[data-testid=map-status]") or "4" in page.inner_text("[data-testid=map-status]")
    assert not errors, errors


def test_gcj02_tiles_shift_the_overlays(world, new_page, screenshot, settings):
    from urbangrid.geo import crs

    settings.URBANGRID_TILE_URL = "/static/web/favicon.svg?z={z}&x={x}&y={y}"
    settings.URBANGRID_TILE_CRS = "GCJ02"
    page = new_page(viewport=(1280, 900))
    sign_in(page, world.leader)
    page.goto("/map/")
    page.wait_for_function("() => document.getElementById('big-map').dataset.loaded === '0'")
    assert page.evaluate("() => document.getElementById('big-map').dataset.tileCrsUsed") == "GCJ02"
    lon, lat = 120.5512, 30.6308
    glon, glat = crs.from_wgs84(lon, lat, "GCJ02")
    shifted, expected = page.evaluate(
        """([lon, lat, glon, glat]) => {
             const m = window.urbangridStaffMap;
             const a = m.options.crs.latLngToPoint(L.latLng(lat, lon), 18);
             const b = L.CRS.EPSG3857.latLngToPoint(L.latLng(glat, glon), 18);
             return [[a.x, a.y], [b.x, b.y]];
           }""",
        [lon, lat, glon, glat],
    )
    assert abs(shifted[0] - expected[0]) < 0.05 and abs(shifted[1] - expected[1]) < 0.05
    # and a click on the map comes back in WGS-84
    back = page.evaluate(
        """([x, y]) => { const ll = window.urbangridStaffMap.options.crs.pointToLatLng(L.point(x, y), 18);
                         return [ll.lng, ll.lat]; }""",
        shifted,
    )
    assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7
    assert page.is_visible("#layer-tiles") and not page.is_checked("#layer-base")
    screenshot(page, "gcj02-tiles")
    # the case page's map shifts too (its HTML names the CRS: data-tile-crs)
    from django.utils import timezone

    from tests.factories import report_at

    case = report_at(world, timezone.now())
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_function("() => document.getElementById('case-map').dataset.tileCrsUsed === 'GCJ02'")
    assert page.get_attribute("#case-map", "data-tile-crs") == "GCJ02"


def test_big_screen_stacks_tiles_and_shifts_onto_gcj02(world, new_page, screenshot, settings):
    """The big screen's map is map.js's baseMap: stacked tile URLs (Tianditu vec_w + cva_w style) are
    two tile layers, and GCJ-02 tiles shift the density grid from the start (data-tile-crs)."""
    settings.URBANGRID_TILE_URL = (
        "/static/web/favicon.svg?l=vec&z={z}&x={x}&y={y} /static/web/favicon.svg?l=cva&z={z}&x={x}&y={y}"
    )
    settings.URBANGRID_TILE_CRS = "GCJ02"
    errors: list[str] = []
    page = new_page(viewport=(1920, 1080))
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, world.leader)
    tiles_json: list[str] = []
    page.on("request", lambda r: tiles_json.append(r.url) if "/map/tiles.json" in r.url else None)
    page.goto("/dashboard/screen/")
    assert page.get_attribute("#screen", "data-tile-crs") == "GCJ02"
    page.wait_for_selector("#screen[data-density-max]")
    assert page.evaluate("() => document.getElementById('scr-map').dataset.tileCrsUsed") == "GCJ02"
    assert page.locator("#scr-map .leaflet-tile-pane .leaflet-layer").count() == 2
    srcs = page.evaluate("() => [...document.querySelectorAll('#scr-map img.leaflet-tile')].map(i => i.src)")
    assert any("l=vec" in u for u in srcs) and any("l=cva" in u for u in srcs)
    assert not tiles_json  # the CRS came with the page, not from /map/tiles.json
    screenshot(page, "screen-gcj02-stacked-tiles")
    assert not errors, errors
