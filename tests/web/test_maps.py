"""The staff map's data: offline base map, tile configuration, cases by period with legend groups
and lights, heat map, components; scope, bad input (400 JSON), and the browser's GCJ-02 shift."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.factories import report_at
from tests.factories import user as make_user
from urbangrid.catalog.models import Category, Component
from urbangrid.geo import crs
from urbangrid.geo.basemap import build_basemap, centre_lines
from urbangrid.geo.models import Place

MAP_JS = Path(__file__).resolve().parents[2] / "src/urbangrid/web/static/web/map.js"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def plates(world, road="庆丰路", n=20, lon0=120.5502, lat=30.6305):
    """Door plates on both sides of an east-west road: odd north, even south, 20 m apart."""
    step = 20 / 96_000  # about 20 m of longitude at 30.6°N
    rows = []
    for number in range(1, n + 1):
        k = (number + 1) // 2
        rows.append(
            Place(
                kind="door_plate",
                name=f"{road}{number}号",
                road=road,
                number=str(number),
                lon=lon0 + k * step,
                lat=lat + (0.00016 if number % 2 else -0.00016),
                street=world.street,
                community=world.community,
            )
        )
    Place.objects.bulk_create(rows)


# --- base map -------------------------------------------------------------------------------------


def test_centre_line_from_door_plates_pairs_and_breaks_at_gaps():
    rows = [(n, 120.0 + ((n + 1) // 2) * 0.0002, 30.0 + (0.0001 if n % 2 else -0.0001)) for n in range(1, 11)]
    rows += [(n, 120.02 + ((n + 1) // 2) * 0.0002, 30.0 + (0.0001 if n % 2 else -0.0001)) for n in range(11, 15)]
    lines = centre_lines(rows)
    assert len(lines) == 2  # the jump of about 2 km starts a new line
    assert all(abs(lat - 30.0) < 1e-9 for line in lines for _lon, lat in line)  # the midpoints of each pair
    assert [len(line) for line in lines] == [5, 2]


def test_base_layer_for_whatever_city_is_loaded(world, as_user):
    plates(world)
    Place.objects.create(kind="landmark", name="振兴广场", lon=120.551, lat=30.6305, street=world.street)
    data = build_basemap()
    layers = {}
    for f in data["features"]:
        layers.setdefault(f["properties"]["layer"], []).append(f)
    # divisions without a boundary get the union of their unit grids
    assert {f["properties"]["name"] for f in layers["street"]} == {"梧桐街道"}
    assert layers["community"][0]["geometry"]["type"] == "Polygon"
    (road,) = layers["road"]
    assert road["properties"]["name"] == "庆丰路"
    coords = road["geometry"]["coordinates"]
    assert len(coords) >= 2 and all(abs(lat - 30.6305) < 1e-6 for _lon, lat in coords)
    labels = {(f["properties"]["kind"], f["properties"]["text"]) for f in layers["label"]}
    assert {("street", "梧桐街道"), ("community", "庆丰社区"), ("road", "庆丰路"), ("landmark", "振兴广场")} <= labels
    by_kind = {f["properties"]["kind"]: f["properties"] for f in layers["label"]}
    assert by_kind["road"]["minzoom"] > by_kind["street"]["minzoom"]
    assert len(data["bbox"]) == 4

    c = as_user(world.collector)
    r = c.get("/map/base.json", HTTP_ACCEPT_ENCODING="gzip")
    assert r.status_code == 200 and r["Content-Encoding"] == "gzip" and r["ETag"]
    assert json.loads(gzip.decompress(r.content)) == json.loads(json.dumps(data, ensure_ascii=False))
    assert c.get("/map/base.json", HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304
    plain = c.get("/map/base.json")
    assert "Content-Encoding" not in plain and json.loads(plain.content)["type"] == "FeatureCollection"
    # a change to the gazetteer is seen at once
    Place.objects.create(kind="landmark", name="世纪公园", lon=120.552, lat=30.6306, street=world.street)
    assert c.get("/map/base.json", HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 200


def test_map_data_is_for_staff_only(world, client):
    outsider = make_user()
    for path in ("/map/base.json", "/map/tiles.json", "/map/heat.json", "/map/components.json", "/map/cases.geojson"):
        assert client.get(path).status_code == 302, path  # to the sign-in page
        client.force_login(outsider)
        assert client.get(path).status_code == 403, path
        client.logout()


def test_tile_configuration(world, as_user, settings):
    c = as_user(world.leader)
    assert c.get("/map/tiles.json").json() == {"url": "", "attribution": "", "crs": "WGS84", "base": "/map/base.json"}
    settings.URBANGRID_TILE_URL = "https://wprd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=7"
    settings.URBANGRID_TILE_CRS = "GCJ02"
    assert c.get("/map/tiles.json").json()["crs"] == "GCJ02"
    page = c.get("/map/").content.decode()
    assert 'data-tile-crs="GCJ02"' in page and 'id="layer-tiles"' in page
    settings.URBANGRID_TILE_CRS = "CGCS2000"  # Tianditu: no shift
    assert c.get("/map/tiles.json").json()["crs"] == "WGS84"


@pytest.mark.parametrize(("setting", "expected"), [("GCJ02", "GCJ02"), ("CGCS2000", "WGS84"), ("WGS84", "WGS84")])
def test_every_map_page_names_the_tile_crs(world, as_user, settings, setting, expected):
    """Map pages carry data-tile-crs, so map.js never draws overlays unshifted on GCJ-02 tiles while
    it would wait for /map/tiles.json: the case page (web and phone), the phone's home and report
    pages, and the big screen."""
    settings.URBANGRID_TILE_URL = (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z} "
        "https://t{s}.tianditu.gov.cn/cva_w/wmts?x={x}&y={y}&l={z}"
    )
    settings.URBANGRID_TILE_CRS = setting
    case = report_at(world, timezone.now())
    attribute = f'data-tile-crs="{expected}"'
    leader = as_user(world.leader)
    for path, element in ((f"/cases/{case.pk}/", 'id="case-map"'), ("/dashboard/screen/", 'id="screen"')):
        page = leader.get(path).content.decode()
        tag = page[page.index(element) :].split(">", 1)[0]
        assert attribute in tag, (path, tag)
    for path, element in (("/intake/", 'data-testid="intake-map"'),):
        page = as_user(world.operator).get(path).content.decode()
        at = page.index(element)
        tag = page[page.rindex("<", 0, at) : at]
        assert attribute in tag, (path, tag)
    collector = as_user(world.collector)
    for path, element in (
        ("/m/", 'id="m-map"'),
        ("/m/report/", 'id="pin-map"'),
        (f"/m/cases/{case.pk}/", 'id="case-map"'),
    ):
        page = collector.get(path).content.decode()
        tag = page[page.index(element) :].split(">", 1)[0]
        assert attribute in tag, (path, tag)


# --- cases: legend groups, lights, period ------------------------------------------------------------


def test_cases_carry_legend_group_and_light(world, as_user):
    from tests.factories import act

    now = timezone.now()
    report_at(world, now)
    late = report_at(world, now - dt.timedelta(days=20), i=1)
    act(late, "accept", world.operator, when=now - dt.timedelta(days=20))
    data = as_user(world.leader).get("/map/cases.geojson").json()
    props = {f["properties"]["number"]: f["properties"] for f in data["features"]}
    assert data["count"] == 2 and not data["clustered"]
    assert props[late.number]["group"] == "new" and props[late.number]["state"] == "accepted"
    assert {p["light"] for p in props.values()} <= {"red", "yellow", "green"}
    assert props[late.number]["light"] == "red"  # 20 days old: past its stage deadline


def test_time_filter_narrows_the_cases(world, as_user):
    now = timezone.now()
    today = timezone.localdate()
    report_at(world, now)
    report_at(world, now - dt.timedelta(days=3), i=1)
    report_at(world, now - dt.timedelta(days=20), i=2)
    report_at(world, now - dt.timedelta(days=60), i=3)
    c = as_user(world.leader)

    def count(**params):
        r = c.get("/map/cases.geojson", params)
        assert r.status_code == 200, r.content
        return r.json()["count"]

    assert count() == 4
    assert count(period="all") == 4
    assert count(period="today") == 1
    assert count(period="7d") == 2
    assert count(period="30d") == 3
    three = (today - dt.timedelta(days=3)).isoformat()
    assert count(period="custom", **{"from": three, "to": three}) == 1
    assert count(period="custom", to=(today - dt.timedelta(days=21)).isoformat()) == 1
    assert count(period="custom") == 4  # no dates: no bound
    assert count(period="month") == sum(
        1 for d in (0, 3, 20, 60) if timezone.localdate(now - dt.timedelta(days=d)) >= today.replace(day=1)
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "week"}, "period"),
        ({"period": "custom", "from": "2026-13-01"}, "from"),
        ({"period": "custom", "from": "yesterday"}, "from"),
        ({"period": "custom", "from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"state": "nonsense"}, "state"),
        ({"category": "event:9999"}, "category"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "120,91,121,92"}, "bbox"),
    ],
)
def test_bad_parameters_are_a_400_json_error(world, as_user, params, field):
    c = as_user(world.leader)
    for path in ("/map/cases.geojson", "/map/heat.json"):
        if path == "/map/heat.json" and field == "state":
            continue
        r = c.get(path, params)
        assert r.status_code == 400, (path, r.content)
        error = r.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"] and error["message"]


def test_cases_scope_and_dense_counts_per_grid(world, as_user, monkeypatch):
    from urbangrid.web import maps

    now = timezone.now()
    for i in range(3):
        report_at(world, now - dt.timedelta(days=10 * i), i=i)
    assert as_user(world.other_handler).get("/map/cases.geojson").json()["count"] == 0
    monkeypatch.setattr(maps, "MAP_POINTS", 2)
    data = as_user(world.leader).get("/map/cases.geojson").json()
    assert data["clustered"] and data["count"] == 3
    for f in data["features"]:
        p = f["properties"]
        assert p["count"] == sum(p["groups"].values()) == p["groups"]["new"] == 1
        assert set(p["groups"]) == {"new", "work", "check", "done"}
    assert sum(f["properties"]["overdue"] for f in data["features"]) >= 1  # the 10- and 20-day-old ones
    assert as_user(world.leader).get("/map/cases.geojson", {"period": "today"}).json()["count"] == 1


# --- heat map --------------------------------------------------------------------------------------


def test_heat_map_sums_reports_per_cell_in_the_period(world, as_user):
    now = timezone.now()
    report_at(world, now, i=0)
    report_at(world, now, i=0)
    report_at(world, now - dt.timedelta(days=3), i=2)
    report_at(world, now - dt.timedelta(days=400), i=3)  # older than the default year
    c = as_user(world.leader)
    data = c.get("/map/heat.json").json()
    assert data["count"] == 3 and data["max"] == 2
    assert sorted(p[2] for p in data["points"]) == [1, 2]
    lat, lon, _n = max(data["points"], key=lambda p: p[2])
    wlon, wlat = world.point(0)
    assert abs(lat - wlat) < 0.0005 and abs(lon - wlon) < 0.0005
    assert c.get("/map/heat.json", {"period": "today"}).json()["count"] == 2
    assert c.get("/map/heat.json", {"category": "event:0201"}).json()["count"] == 0
    assert as_user(world.other_handler).get("/map/heat.json").json()["count"] == 0


# --- components ----------------------------------------------------------------------------------


def components(world, n=6):
    parks = Category.objects.create(kind="component", code="04", name="园林绿化")
    tree = Category.objects.create(kind="component", code="0401", name="行道树", parent=parks)
    rows = []
    for i in range(n):
        lon, lat = world.point(i % 4)
        rows.append(
            Component(
                obj_id=f"33048301{i:09d}",
                category=world.cover if i % 2 else tree,
                state="damaged" if i % 3 == 0 else "intact",
                lon=lon + i * 1e-5,
                lat=lat,
            )
        )
    Component.objects.bulk_create(rows)
    return rows


def decode(data):
    s, o, k = data["stride"], data["origin"], data["scale"]
    items = data["items"]
    return [
        {
            "lon": o[0] + items[i] / k,
            "lat": o[1] + items[i + 1] / k,
            "category": data["categories"][items[i + 2]],
            "state": data["states"][items[i + 3]],
            "id": items[i + 4],
        }
        for i in range(0, len(items), s)
    ]


def test_components_compact_and_filtered(world, as_user):
    rows = components(world)
    c = as_user(world.collector)
    r = c.get("/map/components.json")
    assert r.status_code == 200 and r["ETag"]
    data = r.json()
    assert data["count"] == 6 and {k["code"] for k in data["kinds"]} == {"01", "04"}
    items = {d["id"]: d for d in decode(data)}
    for comp in Component.objects.all():
        d = items[comp.pk]
        assert abs(d["lon"] - comp.lon) < 1e-5 and abs(d["lat"] - comp.lat) < 1e-5
        assert d["state"] == comp.state and d["category"]["code"] == comp.category.code
    assert all(isinstance(v, int) for v in data["items"])
    assert c.get("/map/components.json", HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304

    trees = c.get("/map/components.json", {"kind": "04"}).json()
    assert trees["count"] == 3 and {d["category"]["code"] for d in decode(trees)} == {"0401"}
    damaged = decode(c.get("/map/components.json", {"state": "damaged"}).json())
    assert {d["id"] for d in damaged} == {r.pk for i, r in enumerate(rows) if i % 3 == 0}
    assert c.get("/map/components.json", {"kind": "04", "state": "lost"}).json()["count"] == 0

    for bad in ({"kind": "99"}, {"state": "broken"}, {"kind": "<script>"}):
        r = c.get("/map/components.json", bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    one = c.get(f"/map/components/{rows[0].pk}.json").json()
    assert one["obj_id"] == rows[0].obj_id and one["state"] == "damaged"
    assert c.get("/map/components/999999.json").status_code == 404


def test_map_page_has_layers_legend_and_time_filter(world, as_user):
    page = as_user(world.leader).get("/map/").content.decode()
    for needle in (
        'id="layer-components"',
        'id="layer-heat"',
        'id="map-period"',
        'name="from"',
        'data-legend-group="new"',
        'id="map-config"',
        "vendor/heat/leaflet-heat.js",
        'data-tile-crs="WGS84"',
    ):
        assert needle in page, needle


# --- GCJ-02 in the browser's coordinate helper ----------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_browser_gcj02_shift_agrees_with_geo_crs():
    points = [(120.55, 30.63), (121.4737, 31.2304), (114.0579, 22.5431), (116.3912, 39.9073), (2.35, 48.85)]
    stub = (
        "global.window = {}; global.document = {addEventListener() {}};"
        "global.L = {Layer: {extend() { return function () {}; }}};"
    )
    script = (
        stub
        + MAP_JS.read_text(encoding="utf-8")
        + f"\nconst pts = {json.dumps(points)};"
        + "console.log(JSON.stringify(pts.map(p => [window.urbangridCoords.wgs84ToGcj02(p[0], p[1]),"
        + " window.urbangridCoords.gcj02ToWgs84(...window.urbangridCoords.wgs84ToGcj02(p[0], p[1]))])));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True).stdout
    for (lon, lat), (gcj, back) in zip(points, json.loads(out), strict=True):
        elon, elat = crs.from_wgs84(lon, lat, "GCJ02")
        assert abs(gcj[0] - elon) < 1e-9 and abs(gcj[1] - elat) < 1e-9
        assert abs(back[0] - lon) < 1e-8 and abs(back[1] - lat) < 1e-8
    # in the demo district the shift is several hundred metres: worth doing
    glon, glat = crs.from_wgs84(120.55, 30.63, "GCJ02")
    assert 0.002 < abs(glon - 120.55) + abs(glat - 30.63) < 0.01
