from __future__ import annotations

import pytest

from urbangrid.geo.geocoding import invalidate_geocoder
from urbangrid.geo.index import invalidate_index

#: A quick district: 400 grids in 5 communities (one per street), 5 work grids, 12 roads.
SMALL = {"grids": 400, "communities": 5, "work_grids": 5, "roads": 12}


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """Process-wide indexes must not leak between tests (the database is rolled back)."""
    invalidate_index()
    invalidate_geocoder()
    yield
    invalidate_index()
    invalidate_geocoder()


@pytest.fixture
def small_demo(db) -> dict[str, int]:
    from urbangrid.geo.demo import build_demo_geography

    return build_demo_geography(**SMALL)
