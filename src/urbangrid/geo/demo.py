"""Demo geography (演示辖区): a reproducible district around 桐乡市 (GB/T 2260 330483).

:func:`demo_layout` builds everything in memory (no database): streets, communities, about
3,000 irregular unit grids of roughly one hectare (Voronoi cells of a jittered lattice, so
neighbouring grids share exact edges: no gaps, no overlaps), work grids, roads, door
plates and landmarks. :func:`build_demo_geography` writes it through the normal loaders
(:func:`~urbangrid.geo.actions.load_divisions`, :func:`~urbangrid.geo.actions.load_grids`).
The benchmark uses :func:`demo_layout` directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, mapping
from shapely.geometry.base import BaseGeometry

from .codes import format_unit_grid_code
from .index import GridIndex

LON0, LAT0 = 120.55, 30.63
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
M_PER_DEG_LAT = 110_574.0
SPACING_M = 100.0  # lattice spacing: one seed per hectare

PROVINCE = ("330000", "浙江省")
CITY = ("330400", "嘉兴市")
COUNTY = ("330483", "桐乡市")
#: (code, name, short name, share of communities, share of work grids)
STREETS = [
    ("330483001", "梧桐街道", "梧桐", 8, 5),
    ("330483002", "凤鸣街道", "凤鸣", 7, 5),
    ("330483003", "龙翔街道", "龙翔", 7, 4),
    ("330483004", "高桥街道", "高桥", 6, 4),
    ("330483101", "濮院镇", "濮院", 6, 4),
]
COMMUNITY_NAMES = {
    "330483001": ["庆丰社区", "文华社区", "复兴社区", "校场社区", "北港社区", "南门社区", "东兴社区",
                  "西门社区", "茅盾社区", "光明社区", "振东社区", "梧桐社区"],
    "330483002": ["凤鸣社区", "康乐社区", "华阳社区", "百桃社区", "湖滨社区", "金牛社区", "城南社区",
                  "凤凰社区", "高家社区", "景雅社区"],
    "330483003": ["龙翔社区", "新港社区", "龙潭社区", "三里桥社区", "杨家门社区", "东池社区",
                  "新生社区", "城北社区", "民合社区", "骑塘社区"],
    "330483004": ["高桥社区", "越丰社区", "骑力社区", "亭桥社区", "南日社区", "三村社区", "新农社区",
                  "高桥新村社区", "众安社区"],
    "330483101": ["濮院社区", "永越社区", "梅泾社区", "南星村", "北横村", "新联村", "油车村", "星火村",
                  "双义村"],
}
ROAD_NAMES = [
    "庆丰路", "复兴路", "校场路", "环城北路", "环城南路", "环城东路", "环城西路", "振兴东路", "振兴西路",
    "茅盾路", "世纪大道", "康庄路", "凤鸣路", "梧桐大道", "龙翔大道", "同德路", "文华路", "光明路",
    "北港路", "东兴路", "南门路", "西门路", "长山河路", "体育路", "学前路", "发展大道", "城北路",
    "建设路", "中山路", "公园路", "高桥大道", "濮院大道", "毛衫城路", "永越路", "东门路", "市场路",
    "新华路", "凤凰路", "百桃路",
]
#: Two different roads with this name exist, one in 梧桐街道 and one in 濮院镇.
SHARED_ROAD_NAME = "人民路"
#: (name, aliases, street code or "")
LANDMARKS = [
    ("人民公园", "市人民公园", "330483001"), ("桐乡市人民医院", "市一医院,一医院", "330483001"),
    ("桐乡市第一中学", "桐乡一中", "330483001"), ("梧桐街道办事处", "梧桐街道", "330483001"),
    ("桐乡市图书馆", "图书馆", "330483001"), ("茅盾故居", "", "330483001"),
    ("庆丰菜场", "庆丰菜市场", "330483001"), ("桐乡汽车站", "汽车客运站,客运中心", "330483001"),
    ("君匋艺术院", "", "330483001"), ("东兴商厦", "", "330483001"), ("市民广场", "", "330483001"),
    ("梧桐小学", "", "330483001"), ("凤鸣街道办事处", "凤鸣街道", "330483002"),
    ("凤凰湖公园", "凤凰湖", "330483002"), ("桐乡市体育中心", "体育中心", "330483002"),
    ("吾悦广场", "新城吾悦广场", "330483002"), ("凤鸣高级中学", "凤中", "330483002"),
    ("金牛湖公园", "金牛湖", "330483002"), ("桐乡市妇幼保健院", "妇保院", "330483002"),
    ("凤鸣小学", "", "330483002"), ("康乐农贸市场", "康乐菜场", "330483002"),
    ("城南加油站", "", "330483002"), ("龙翔街道办事处", "龙翔街道", "330483003"),
    ("银泰城", "桐乡银泰", "330483003"), ("龙翔工业园", "", "330483003"),
    ("桐乡市中医医院", "中医院", "330483003"), ("龙翔小学", "", "330483003"),
    ("新港菜场", "", "330483003"), ("三里桥公园", "", "330483003"),
    ("城北客运站", "", "330483003"), ("骑塘文化礼堂", "", "330483003"),
    ("高桥街道办事处", "高桥街道", "330483004"), ("桐乡站", "高铁站,桐乡高铁站", "330483004"),
    ("高桥中学", "", "330483004"), ("越丰公园", "", "330483004"),
    ("高桥菜场", "", "330483004"), ("亭桥水厂", "", "330483004"),
    ("高桥卫生院", "", "330483004"), ("众安物流园", "", "330483004"),
    ("濮院镇人民政府", "濮院镇政府", "330483101"), ("濮院古镇", "濮院景区", "330483101"),
    ("濮院羊毛衫市场", "毛衫市场,羊毛衫市场", "330483101"), ("濮院中学", "", "330483101"),
    ("濮院卫生院", "", "330483101"), ("永越公园", "", "330483101"),
    ("梅泾小学", "", "330483101"), ("濮院汽车站", "", "330483101"),
    ("桐乡市政府", "市政府,市人民政府", ""), ("桐乡市公安局", "公安局", ""),
    ("桐乡市综合行政执法局", "执法局,城管局", ""), ("桐乡市档案馆", "", ""),
    ("桐乡市博物馆", "博物馆", ""), ("桐乡大剧院", "大剧院", ""), ("桐乡市实验中学", "实验中学", ""),
    ("桐乡市第二人民医院", "二院", ""), ("桐乡市城市管理指挥中心", "数字城管中心", ""),
    ("长山河湿地公园", "长山河公园", ""), ("振兴广场", "", ""), ("世纪公园", "", ""),
    ("桐乡火车站", "火车站", ""),
]
LAND_USES = ["R", "R", "R", "B", "A", "G", "M", "S", "U", "W"]  # GB 50137-2011 major classes
DOOR_SPACING_M = 20.0  # metres between consecutive door numbers on the same side
DOOR_OFFSET_M = 18.0  # door plates stand back from the road centre line


@dataclass
class DemoLayout:
    """The demo district in memory; geometries in WGS-84."""

    county_geometry: BaseGeometry
    streets: list[dict[str, Any]] = field(default_factory=list)
    communities: list[dict[str, Any]] = field(default_factory=list)
    work_grids: list[dict[str, Any]] = field(default_factory=list)
    grids: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)

    def feature_collection(self) -> dict[str, Any]:
        """The unit grids as a GeoJSON FeatureCollection for :func:`~urbangrid.geo.actions.load_grids`."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": mapping(g["geometry"]),
             "properties": {k: v for k, v in g.items() if k != "geometry"}}
            for g in self.grids
        ]}

    def division_rows(self) -> list[dict[str, Any]]:
        """Division rows for :func:`~urbangrid.geo.actions.load_divisions`."""
        rows: list[dict[str, Any]] = [
            {"code": PROVINCE[0], "name": PROVINCE[1]},
            {"code": CITY[0], "name": CITY[1]},
            {"code": COUNTY[0], "name": COUNTY[1], "geometry": mapping(self.county_geometry)},
        ]
        rows += [{"code": s["code"], "name": s["name"], "geometry": mapping(s["geometry"])} for s in self.streets]
        rows += [{"code": c["code"], "name": c["name"], "geometry": mapping(c["geometry"])}
                 for c in self.communities]
        return rows


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Local metres (east, north of LON0/LAT0) to degrees, rounded to 1e-7° (about 1 cm)."""
    def fn(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = np.round(LON0 + xy[:, 0] / M_PER_DEG_LON, 7)
        out[:, 1] = np.round(LAT0 + xy[:, 1] / M_PER_DEG_LAT, 7)
        return out
    return shapely.transform(geom, fn)


def _district_shape(rng: np.random.Generator, grids: int) -> BaseGeometry:
    """An irregular blob with about ``grids`` hectares."""
    theta = np.linspace(0.0, 2.0 * np.pi, 240, endpoint=False)
    phases = rng.uniform(0, 2 * np.pi, 4)
    r = (1.0 + 0.16 * np.sin(2 * theta + phases[0]) + 0.08 * np.sin(3 * theta + phases[1])
         + 0.05 * np.sin(5 * theta + phases[2]) + 0.03 * np.sin(7 * theta + phases[3]))
    unit = shapely.Polygon(np.column_stack([r * np.cos(theta) * 1.25, r * np.sin(theta) * 0.85]))
    scale = math.sqrt(grids * SPACING_M**2 / unit.area)
    return shapely.affinity.scale(unit, scale, scale, origin=(0, 0))


def _split(idx: np.ndarray, xy: np.ndarray, weights: list[float], rng: np.random.Generator) -> list[np.ndarray]:
    """Split seeds into contiguous groups sized by ``weights`` (recursive wavy bisection)."""
    if len(weights) == 1:
        return [idx]
    k = len(weights) // 2
    pts = xy[idx]
    span = pts.max(axis=0) - pts.min(axis=0)
    angle = (0.0 if span[0] >= span[1] else np.pi / 2) + rng.uniform(-0.35, 0.35)
    along = pts @ np.array([math.cos(angle), math.sin(angle)])
    across = pts @ np.array([-math.sin(angle), math.cos(angle)])
    key = along + 70.0 * np.sin(across / 900.0 * 2 * np.pi + rng.uniform(0, 2 * np.pi))
    order = idx[np.argsort(key, kind="stable")]
    cut = round(len(idx) * sum(weights[:k]) / sum(weights))
    return _split(order[:cut], xy, weights[:k], rng) + _split(order[cut:], xy, weights[k:], rng)


def _contiguous(groups: list[np.ndarray], neighbours: list[np.ndarray]) -> list[np.ndarray]:
    """Move detached pieces of a group to the neighbouring group they touch most."""
    label = {int(m): g for g, members in enumerate(groups) for m in members}
    for _round in range(10):
        moved = False
        for g in range(len(groups)):
            members = [m for m, lab in label.items() if lab == g]
            pieces, seen = [], set()
            for start in members:
                if start in seen:
                    continue
                piece, stack = [], [start]
                seen.add(start)
                while stack:
                    m = stack.pop()
                    piece.append(m)
                    for n in neighbours[m]:
                        if label.get(int(n)) == g and int(n) not in seen:
                            seen.add(int(n))
                            stack.append(int(n))
                pieces.append(piece)
            for piece in sorted(pieces, key=len)[:-1]:
                votes = [label[int(n)] for m in piece for n in neighbours[m]
                         if int(n) in label and label[int(n)] != g]
                if votes:
                    target = max(set(votes), key=votes.count)
                    for m in piece:
                        label[m] = target
                    moved = True
        if not moved:
            break
    return [np.array(sorted(m for m, lab in label.items() if lab == g), dtype=np.int64)
            for g in range(len(groups))]


def _shares(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (at least 1 each)."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [max(1, int(r)) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True):
        if sum(parts) >= total:
            break
        parts[i] += 1
    return parts


def demo_layout(seed: int = 20261122, *, grids: int = 3000, communities: int = 34, work_grids: int = 22,
                roads: int = 40, code_length: int = 14) -> DemoLayout:
    """Generate the demo district in memory (deterministic for a given seed and sizes).

    ``code_length`` is the unit-grid code length (14: CJ/T 213, 15: GB/T 30428.1).
    """
    if communities < len(STREETS) or work_grids < len(STREETS):
        raise ValueError(f"need at least {len(STREETS)} communities and work grids (one per street)")
    if grids / communities > 92:
        raise ValueError("too many grids per community: 14-digit codes allow at most 99 per community")
    rng = np.random.default_rng(seed)
    shape = _district_shape(rng, grids)
    x0, y0, x1, y1 = shape.bounds
    ii, jj = np.meshgrid(np.arange(math.floor(x0 / SPACING_M) - 3, math.ceil(x1 / SPACING_M) + 4),
                         np.arange(math.floor(y0 / SPACING_M) - 3, math.ceil(y1 / SPACING_M) + 4))
    ii, jj = ii.ravel(), jj.ravel()
    seeds = np.column_stack([ii, jj]).astype(float) * SPACING_M
    seeds += rng.uniform(-0.36, 0.36, seeds.shape) * SPACING_M
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=shapely.box(*seeds.min(axis=0), *seeds.max(axis=0)), ordered=True,
    ))
    inside = np.flatnonzero(shapely.contains_xy(shape, seeds[:, 0], seeds[:, 1]))
    xy = seeds[inside]
    radius = math.sqrt(shape.area / math.pi)
    mine = cells[inside]
    left, right = shapely.STRtree(mine).query(mine, predicate="intersects")
    keep = left != right
    neighbours = np.split(right[keep], np.cumsum(np.bincount(left[keep], minlength=len(mine)))[:-1])

    layout = DemoLayout(county_geometry=_to_wgs84(shapely.coverage_union_all(cells[inside])))
    street_groups = _contiguous(_split(np.arange(len(inside)), xy, [s[3] for s in STREETS], rng), neighbours)
    community_counts = _shares(communities, [s[3] for s in STREETS])
    work_counts = _shares(work_grids, [s[4] for s in STREETS])
    grid_street: dict[int, str] = {}
    for (code, name, short, _c, _w), members, n_comm, n_work in zip(
        STREETS, street_groups, community_counts, work_counts, strict=True,
    ):
        layout.streets.append({"code": code, "name": name,
                               "geometry": _to_wgs84(shapely.coverage_union_all(cells[inside[members]]))})
        for k, wmembers in enumerate(_contiguous(_split(members, xy, [1.0] * n_work, rng), neighbours), start=1):
            wcode = f"{code}-{k:02d}"
            layout.work_grids.append({"code": wcode, "name": f"{short}-{k:02d}", "street": code})
            for m in wmembers:
                grid_street[int(m)] = wcode
        names = COMMUNITY_NAMES[code]
        n_village = sum(1 for n in names[:n_comm] if n.endswith("村"))
        for k, cmembers in enumerate(_contiguous(_split(members, xy, [1.0] * n_comm, rng), neighbours)):
            cname = names[k] if k < len(names) else f"{short}第{k + 1}社区"
            village_no = k - (n_comm - n_village) + 1
            ccode = f"{code}{(200 + village_no) if cname.endswith('村') else (k + 1):03d}"
            layout.communities.append({"code": ccode, "name": cname, "street": code, "geometry": _to_wgs84(
                shapely.coverage_union_all(cells[inside[cmembers]]))})
            # Sequence numbers run west -> east, north -> south (lattice row, then column).
            for seq, m in enumerate(sorted(cmembers, key=lambda m: (-jj[inside[m]], ii[inside[m]])), start=1):
                dist = math.hypot(*xy[m]) / radius
                layout.grids.append({
                    "code": format_unit_grid_code(ccode, seq, length=code_length),
                    "name": f"{cname}{seq:02d}号网格",
                    "community": ccode,
                    "work_grid": grid_street[int(m)],
                    "management_level": "1" if dist < 0.35 else "2" if dist < 0.7 else "3",
                    "land_use": LAND_USES[int(rng.integers(len(LAND_USES)))] if dist < 0.8 else "E",
                    "geometry": _to_wgs84(cells[inside[m]]),
                })
    layout.grids.sort(key=lambda g: g["code"])
    index = GridIndex.from_polygons([g["geometry"] for g in layout.grids], range(len(layout.grids)),
                                    [g["code"] for g in layout.grids])
    layout.places = _gazetteer(rng, shape, layout, index, roads)
    return layout


def _road_lines(rng: np.random.Generator, shape: BaseGeometry, count: int) -> list[LineString]:
    """Gently curving east-west and north-south roads clipped to the district (metres)."""
    x0, y0, x1, y1 = shape.bounds
    lines: list[LineString] = []
    n_ew = count // 2
    for k in range(count):
        horizontal = k < n_ew
        n = n_ew if horizontal else count - n_ew
        pos = (k % n_ew if horizontal else k - n_ew) + 0.5
        t = np.linspace(x0 - 100, x1 + 100, 80) if horizontal else np.linspace(y0 - 100, y1 + 100, 80)
        base = (y0 + (y1 - y0) * pos / n) if horizontal else (x0 + (x1 - x0) * pos / n)
        wiggle = base + 60 * np.sin(t / rng.uniform(700, 1400) + rng.uniform(0, 2 * np.pi))
        line = LineString(np.column_stack([t, wiggle] if horizontal else [wiggle, t]))
        clipped = line.intersection(shape)
        parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "LineString"]
        if parts:
            lines.append(max(parts, key=lambda p: p.length))
    return lines


def _door_plates(road: str, line: BaseGeometry, index: GridIndex,
                 grid_community: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Odd numbers on the left, even on the right, numbered from the road's start."""
    places = []
    n_max = int(line.length / DOOR_SPACING_M) * 2
    for number in range(1, n_max + 1):
        d = ((number + 1) // 2) * DOOR_SPACING_M
        if d >= line.length:
            break
        p, q = line.interpolate(d), line.interpolate(min(d + 1.0, line.length))
        dx, dy = q.x - p.x, q.y - p.y
        norm = math.hypot(dx, dy) or 1.0
        side = 1.0 if number % 2 else -1.0
        pos = _to_wgs84(Point(p.x - side * dy / norm * DOOR_OFFSET_M, p.y + side * dx / norm * DOOR_OFFSET_M))
        where = index.locate_idx(pos.x, pos.y)
        if where < 0:
            continue
        places.append({"kind": "door_plate", "name": f"{road}{number}号", "road": road, "number": str(number),
                       "lon": pos.x, "lat": pos.y, **grid_community[where]})
    return places


def _gazetteer(rng: np.random.Generator, shape: BaseGeometry, layout: DemoLayout, index: GridIndex,
               count: int) -> list[dict[str, Any]]:
    grid_community = [{"community": g["community"], "street": g["community"][:9]} for g in layout.grids]
    streets = {s["code"]: s for s in layout.streets}
    lines = _road_lines(rng, shape, count - 1)
    names = list(ROAD_NAMES[: len(lines)])
    # 庆丰路 is the east-west road whose No. 128 lies in 梧桐街道 (the documented example).
    for k, line in enumerate(lines[: count // 2]):
        p = _to_wgs84(line.interpolate(64 * DOOR_SPACING_M))
        where = index.locate_idx(p.x, p.y)
        if where >= 0 and grid_community[where]["street"] == STREETS[0][0]:
            names[0], names[k] = names[k], names[0]
            break
    roads: list[tuple[str, BaseGeometry]] = list(zip(names, lines, strict=False))
    # The shared name: one stretch inside 梧桐街道, one inside 濮院镇, each numbered from 1.
    to_m = np.array([M_PER_DEG_LON, M_PER_DEG_LAT])
    for street_code in (STREETS[0][0], STREETS[4][0]):
        street_m = shapely.transform(streets[street_code]["geometry"], lambda xy: (xy - [LON0, LAT0]) * to_m)
        c = street_m.representative_point()
        line = LineString([(c.x - 2000, c.y + 35), (c.x + 2000, c.y - 35)]).intersection(street_m)
        parts = [p for p in shapely.get_parts(line) if p.geom_type == "LineString"]
        if parts:
            roads.append((SHARED_ROAD_NAME, max(parts, key=lambda p: p.length)))

    places: list[dict[str, Any]] = []
    for name, line in roads:
        door_plates = _door_plates(name, line, index, grid_community)
        places += door_plates
        by_street: dict[str, list[dict[str, Any]]] = {}
        for d in door_plates:
            by_street.setdefault(d["street"], []).append(d)
        for plates in by_street.values():
            mid = plates[len(plates) // 2]
            places.append({"kind": "road", "name": name, "road": name, "number": "", "lon": mid["lon"],
                           "lat": mid["lat"], "community": mid["community"], "street": mid["street"]})
    grid_centroids = shapely.get_coordinates(shapely.point_on_surface([g["geometry"] for g in layout.grids]))
    for name, aliases, street_code in LANDMARKS:
        candidates = [k for k, gc in enumerate(grid_community) if not street_code or gc["street"] == street_code]
        k = candidates[int(rng.integers(len(candidates)))]
        lon, lat = grid_centroids[k]
        places.append({"kind": "landmark", "name": name, "road": "", "number": "", "aliases": aliases,
                       "lon": float(lon), "lat": float(lat), **grid_community[k]})
    return places


def build_demo_geography(seed: int = 20261122, *, grids: int = 3000, communities: int = 34, work_grids: int = 22,
                         roads: int = 40) -> dict[str, int]:
    """Create the demo district in the database; return counts per kind.

    Divisions and grids go through :func:`~urbangrid.geo.actions.load_divisions` and
    :func:`~urbangrid.geo.actions.load_grids` (same validation as an upload); the
    gazetteer is replaced. Work grids are created without collectors.
    """
    from django.db import transaction

    from .actions import load_divisions, load_grids
    from .codes import grid_code_length
    from .models import AdminDivision, Place, WorkGrid
    from .signals import bulk_changes

    layout = demo_layout(seed, grids=grids, communities=communities, work_grids=work_grids, roads=roads,
                         code_length=grid_code_length())
    with transaction.atomic(), bulk_changes():
        report = load_divisions(layout.division_rows())
        if report.errors:
            raise ValueError(report.as_text())
        divisions = dict(AdminDivision.objects.values_list("code", "pk"))
        for w in layout.work_grids:
            WorkGrid.objects.update_or_create(code=w["code"], defaults={
                "name": w["name"], "street_id": divisions[w["street"]]})
        report = load_grids(layout.feature_collection())
        if report.errors:
            raise ValueError(report.as_text())
        Place.objects.all().delete()
        Place.objects.bulk_create([
            Place(kind=p["kind"], name=p["name"], road=p["road"], number=p["number"],
                  aliases=p.get("aliases", ""), lon=p["lon"], lat=p["lat"],
                  street_id=divisions[p["street"]], community_id=divisions[p["community"]])
            for p in layout.places
        ], batch_size=2000)
    kinds = [p["kind"] for p in layout.places]
    return {
        "streets": len(layout.streets), "communities": len(layout.communities),
        "work_grids": len(layout.work_grids), "unit_grids": len(layout.grids),
        "roads": kinds.count("road"), "door_plates": kinds.count("door_plate"),
        "landmarks": kinds.count("landmark"),
    }
