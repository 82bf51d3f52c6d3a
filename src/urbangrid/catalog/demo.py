"""Demo component inventory (部件普查数据) spread over the existing unit grids."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import shapely
from django.db import transaction
from shapely.geometry import shape

from urbangrid.geo.models import ManagementLevel, UnitGrid

from .actions import load_categories
from .codes import ComponentIdValidator, class_code_length, next_component_ids
from .importing import BATCH_SIZE
from .models import Category, CategoryKind, Component, ComponentState

#: Relative frequency of component classes in a built-up district (CJ/T 214-2007 codes):
#: manhole covers, poles and street lights, bins and street trees dominate a survey.
CLASS_WEIGHTS: dict[str, float] = {
    "0101": 7, "0102": 8, "0103": 8, "0104": 6, "0105": 5, "0106": 3, "0107": 5, "0108": 2,
    "0109": 2, "0110": 1, "0111": 3, "0112": 1, "0113": 2, "0114": 1, "0115": 1.5, "0116": 1.5,
    "0117": 7, "0118": 10, "0120": 1.5, "0121": 0.3, "0123": 0.2, "0126": 0.6, "0136": 1.5,
    "0201": 0.3, "0202": 0.5, "0203": 1, "0209": 3, "0210": 0.8, "0211": 2, "0212": 1, "0213": 2,
    "0301": 0.4, "0305": 8, "0306": 1, "0307": 2,
    "0402": 12, "0403": 2, "0404": 1, "0405": 1, "0407": 1.5, "0408": 1,
    "0501": 0.8, "0602": 0.1,
}
STATE_WEIGHTS: dict[str, float] = {
    ComponentState.INTACT: 0.95, ComponentState.DAMAGED: 0.03,
    ComponentState.LOST: 0.01, ComponentState.OCCUPIED: 0.01,
}
#: Component density by management level: core areas hold more street furniture.
LEVEL_DENSITY = {ManagementLevel.CLASS_1: 1.0, ManagementLevel.CLASS_2: 0.6, ManagementLevel.CLASS_3: 0.25}
SURVEY_START = dt.date(2018, 3, 1)
SURVEY_DAYS = 6 * 365


def _points_in(geometry: dict, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random (lon, lat) points inside a GeoJSON polygon (rejection sampling)."""
    polygon = shape(geometry)
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    found: list[np.ndarray] = []
    needed = count
    while needed > 0:
        batch = max(16, needed * 2)
        lons = rng.uniform(min_lon, max_lon, batch)
        lats = rng.uniform(min_lat, max_lat, batch)
        inside = shapely.contains_xy(polygon, lons, lats)
        points = np.column_stack([lons[inside], lats[inside]])[:needed]
        found.append(points)
        needed -= len(points)
    return np.concatenate(found)


def build_demo_components(count: int = 20000, seed: int = 20261122) -> int:
    """Create about ``count`` realistic components over the unit grids; returns the number made.

    Reproducible for a given seed on a fresh database. Loads the dictionary if it is empty.
    """
    minors = Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=False, active=True)
    if not minors.exists():
        load_categories()
    categories = {
        c.code: c for c in minors.filter(code__in=list(CLASS_WEIGHTS)) if len(c.code) == class_code_length()
    }
    grids = list(UnitGrid.objects.select_related("community").order_by("pk"))
    if not categories or not grids or count <= 0:
        return 0
    rng = np.random.default_rng(seed)

    codes = sorted(categories)
    class_weights = np.array([CLASS_WEIGHTS[c] for c in codes])
    chosen_classes = rng.choice(len(codes), size=count, p=class_weights / class_weights.sum())
    grid_weights = np.array([g.area_m2 * LEVEL_DENSITY.get(g.management_level, 1.0) for g in grids])
    chosen_grids = rng.choice(len(grids), size=count, p=grid_weights / grid_weights.sum())
    states = list(STATE_WEIGHTS)
    chosen_states = rng.choice(len(states), size=count, p=list(STATE_WEIGHTS.values()))
    survey_days = rng.integers(0, SURVEY_DAYS, size=count)

    points = np.empty((count, 2))
    for grid_index in np.unique(chosen_grids):
        members = np.flatnonzero(chosen_grids == grid_index)
        points[members] = _points_in(grids[grid_index].geometry, len(members), rng)

    validator = ComponentIdValidator()
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in range(count):
        county = validator.county_for(grids[chosen_grids[i]].community.code)
        groups[(county, codes[chosen_classes[i]])].append(i)

    components: list[Component | None] = [None] * count
    with transaction.atomic():
        for (county, code), members in sorted(groups.items()):
            category = categories[code]
            for i, obj_id in zip(members, next_component_ids(county, category, len(members)), strict=True):
                grid = grids[chosen_grids[i]]
                components[i] = Component(
                    obj_id=obj_id, category=category, name=category.name,
                    state=states[chosen_states[i]],
                    lon=round(float(points[i, 0]), 7), lat=round(float(points[i, 1]), 7),
                    unit_grid=grid,
                    owner_department_id=category.default_department_id,
                    maintainer_department_id=category.default_department_id,
                    address=f"{grid.community.name} {grid.name or grid.code}",
                    initial_date=SURVEY_START + dt.timedelta(days=int(survey_days[i])),
                    data_source="实测",
                )
        Component.objects.bulk_create(components, batch_size=BATCH_SIZE)
    return count
