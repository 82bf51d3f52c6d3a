"""Fixtures for the catalog tests: the real dictionary and four square unit grids."""

from __future__ import annotations

import pytest
from django.utils import translation

from urbangrid.catalog.actions import load_categories
from urbangrid.geo.index import invalidate_index
from urbangrid.geo.models import AdminDivision, DivisionLevel, UnitGrid

#: South-west corner and side (degrees, about 100 m) of the test grids in 南湖区 (330402).
ORIGIN_LON, ORIGIN_LAT, SIDE = 120.750, 30.750, 0.001


def square(lon: float, lat: float, side: float = SIDE) -> dict:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def grid_centre(n: int) -> tuple[float, float]:
    """Centre of test grid ``n`` (0-3), grids laid out west to east."""
    return round(ORIGIN_LON + SIDE * (n + 0.5), 6), round(ORIGIN_LAT + SIDE / 2, 6)


@pytest.fixture(autouse=True)
def _catalog_settings(settings):
    settings.URBANGRID = {**settings.URBANGRID, "JURISDICTION_CODE": "330402", "COMPONENT_ID_LENGTH": 16}
    with translation.override("en"):
        yield


@pytest.fixture
def categories(db):
    return load_categories()


@pytest.fixture
def grids(db) -> list[UnitGrid]:
    county = AdminDivision.objects.create(code="330402", name="南湖区", level=DivisionLevel.COUNTY)
    street = AdminDivision.objects.create(code="330402001", name="解放街道", level=DivisionLevel.STREET, parent=county)
    community = AdminDivision.objects.create(
        code="330402001001", name="天星湖社区", level=DivisionLevel.COMMUNITY, parent=street,
    )
    made = []
    for n in range(4):
        lon = ORIGIN_LON + SIDE * n
        made.append(UnitGrid.objects.create(
            code=f"330402001001{n + 1:02d}", community=community, geometry=square(lon, ORIGIN_LAT),
            area_m2=10_000, min_lon=lon, max_lon=lon + SIDE, min_lat=ORIGIN_LAT, max_lat=ORIGIN_LAT + SIDE,
        ))
    invalidate_index()
    return made
