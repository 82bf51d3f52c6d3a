from __future__ import annotations

from collections import Counter

import numpy as np

from urbangrid.catalog.codes import ComponentIdValidator
from urbangrid.catalog.demo import build_demo_components
from urbangrid.catalog.models import Component
from urbangrid.geo.index import get_index


def snapshot() -> list[tuple[str, float, float, str]]:
    return list(Component.objects.order_by("lon", "lat").values_list("category__code", "lon", "lat", "state"))


def test_demo_components(grids):
    assert build_demo_components(count=2000) == 2000  # loads the dictionary itself
    components = list(Component.objects.select_related("category"))
    validate = ComponentIdValidator()
    assert all(validate(c.obj_id).class_code == c.category.code for c in components)
    located = get_index().locate_many(np.array([c.lon for c in components]), np.array([c.lat for c in components]))
    assert located.tolist() == [c.unit_grid_id for c in components]
    states = Counter(c.state for c in components)
    assert 0.9 < states["intact"] / len(components) < 0.99
    classes = Counter(c.category.code for c in components)
    assert classes["0402"] > classes["0203"] and sum(n for code, n in classes.items() if code <= "0114") > 500

    first = snapshot()
    Component.objects.all().delete()
    build_demo_components(count=2000)
    assert snapshot() == first
    assert Component.objects.filter(obj_id__endswith="000001").count() == 0  # numbers are not reused
