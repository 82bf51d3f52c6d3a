from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from urbangrid.geo import index as index_module
from urbangrid.geo.crs import CoordinateError
from urbangrid.geo.index import GridIndex, OutsideJurisdiction, get_index
from urbangrid.geo.models import GridRevision, UnitGrid

LON, LAT = 120.55, 30.63
STEP = 0.001  # ~96 m x 111 m


def _square_grid(cols: int = 6, rows: int = 5) -> tuple[list, list[int], list[str]]:
    polys, ids, codes = [], [], []
    for r in range(rows):
        for c in range(cols):
            polys.append(box(LON + c * STEP, LAT + r * STEP, LON + (c + 1) * STEP, LAT + (r + 1) * STEP))
            ids.append(1000 + r * cols + c)
            # codes deliberately not in id order: the lowest *code* must win on edges
            codes.append(f"330483001001{(cols * rows - (r * cols + c)):02d}")
    return polys, ids, codes


def _voronoi(n: int = 60, seed: int = 3) -> tuple[list, list[int], list[str]]:
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.uniform(LON, LON + 0.01, n), rng.uniform(LAT, LAT + 0.008, n)])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), ordered=True))
    area = box(LON + 0.001, LAT + 0.001, LON + 0.009, LAT + 0.007).difference(
        box(LON + 0.004, LAT + 0.003, LON + 0.005, LAT + 0.004))  # a hole: outside every grid
    polys = [p for p in shapely.intersection(cells, area) if not p.is_empty and p.geom_type == "Polygon"]
    return polys, list(range(1, len(polys) + 1)), [f"33048300100{k:03d}" for k in range(len(polys), 0, -1)]


def _edge_points(polys, rng, extra: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    coords, ring = shapely.get_coordinates(shapely.get_rings(np.array(polys, dtype=object)), return_index=True)
    same = ring[:-1] == ring[1:]
    a, b = coords[:-1][same], coords[1:][same]
    t = rng.choice([0.25, 0.5, 0.75], len(a))[:, None]
    on_edges = a + (b - a) * t
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    randoms = np.column_stack([rng.uniform(x0 - 0.002, x1 + 0.002, extra), rng.uniform(y0 - 0.002, y1 + 0.002, extra)])
    pts = np.concatenate([coords, on_edges, randoms])
    return pts[:, 0].copy(), pts[:, 1].copy()


@pytest.mark.parametrize("make", [_square_grid, _voronoi])
def test_index_equals_bruteforce_including_edges_and_vertices(make):
    polys, ids, codes = make()
    index = GridIndex.from_polygons(polys, ids, codes)
    xs, ys = _edge_points(polys, np.random.default_rng(5))
    fast = index.locate_many(xs, ys)
    assert np.array_equal(fast, index.locate_many_bruteforce(xs, ys))
    assert (fast == -1).any() and (fast != -1).any()
    single = np.array([index.locate_idx(x, y) for x, y in zip(xs[:3000], ys[:3000], strict=True)])
    assert np.array_equal(index._ids_ext[single], fast[:3000])


def test_shared_edge_and_vertex_go_to_lowest_code():
    polys, ids, codes = _square_grid()
    index = GridIndex.from_polygons(polys, ids, codes)
    lowest = {code: i for i, code in zip(ids, codes, strict=True)}
    # vertical edge between columns 0 and 1 of row 0
    loc = index.locate(LON + STEP, LAT + STEP / 2)
    assert loc.unit_grid_code == min(codes[0], codes[1])
    # the vertex shared by four squares
    loc = index.locate(LON + STEP, LAT + STEP)
    assert loc.unit_grid_code == min(codes[0], codes[1], codes[6], codes[7])
    assert loc.unit_grid_id == lowest[loc.unit_grid_code]
    # the outer boundary belongs to the grid it bounds
    assert index.locate(LON, LAT + STEP / 2).unit_grid_id == ids[0]


def test_overlap_goes_to_lowest_code_everywhere():
    big, small = box(LON, LAT, LON + 0.004, LAT + 0.004), box(LON + 0.001, LAT + 0.001, LON + 0.002, LAT + 0.002)
    index = GridIndex.from_polygons([big, small], [1, 2], ["33048300100102", "33048300100101"])
    assert index.locate(LON + 0.0015, LAT + 0.0015).unit_grid_id == 2
    assert index.locate(LON + 0.003, LAT + 0.003).unit_grid_id == 1
    index = GridIndex.from_polygons([big, small], [1, 2], ["33048300100101", "33048300100102"])
    assert index.locate(LON + 0.0015, LAT + 0.0015).unit_grid_id == 1


def test_outside_and_bad_input():
    polys, ids, codes = _square_grid()
    index = GridIndex.from_polygons(polys, ids, codes)
    with pytest.raises(OutsideJurisdiction, match="outside every unit grid"):
        index.locate(LON - 0.01, LAT)
    with pytest.raises(OutsideJurisdiction):
        index.locate(0.0, 0.0)
    with pytest.raises(CoordinateError):
        index.locate(LON, 95.0)
    result = index.locate_many([np.nan, LON + 0.0005, 500.0], [LAT, LAT + 0.0005, LAT])
    assert result.tolist() == [-1, ids[0], -1]
    assert GridIndex.from_polygons([], []).locate_many([LON], [LAT]).tolist() == [-1]


@pytest.mark.django_db
def test_index_from_database_and_rebuild_after_change(small_demo):
    index = get_index()
    assert len(index) == small_demo["unit_grids"] == UnitGrid.objects.count()
    grid = UnitGrid.objects.select_related("community__parent", "work_grid").order_by("code")[7]
    point = shapely.geometry.shape(grid.geometry).representative_point()
    loc = index.locate(point.x, point.y)
    assert (loc.unit_grid_id, loc.unit_grid_code, loc.community_code, loc.street_name, loc.work_grid_code) == (
        grid.pk, grid.code, grid.community.code, grid.community.parent.name, grid.work_grid.code)
    assert get_index() is index  # cached

    grid.delete()  # signal: invalidated at once
    rebuilt = get_index()
    assert rebuilt is not index
    with pytest.raises(OutsideJurisdiction):
        rebuilt.locate(point.x, point.y)


@pytest.mark.django_db
def test_index_notices_changes_by_other_processes(small_demo):
    index = get_index()
    GridRevision.bump(grids=True)  # as another process would, without our signal
    assert get_index() is index  # not re-checked before CHECK_SECONDS
    index_module._index._checked_at -= index_module.CHECK_SECONDS + 1  # as if the check interval passed
    assert get_index() is not index
