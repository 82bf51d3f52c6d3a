"""`urbangrid demo` creates a demo Open311 application and prints its key with the logins."""

from __future__ import annotations

from urbangrid.demo.builder import DEMO_OPEN311_KEY, build_demo, print_logins
from urbangrid.open311.actions import application_for


def test_demo_prints_the_open311_key(db, capsys):
    build_demo(components=0, cases=0)
    app = application_for(DEMO_OPEN311_KEY)
    assert app is not None and app.user.has_role("citizen")
    print_logins("http://127.0.0.1:8000")
    out = capsys.readouterr().out
    assert f"api_key: {DEMO_OPEN311_KEY}" in out and "/open311/v2/" in out and "operator" in out


def test_demo_has_an_attribute_service_and_a_batch_service(db, client, settings, tmp_path):
    """The demo city offers a service asking an attribute of every GeoReport datatype and a
    batch service, and a client can submit to both with the demo key."""
    from urbangrid.geo.index import get_index
    from urbangrid.geo.models import UnitGrid
    from urbangrid.open311 import public
    from urbangrid.open311.demo import ATTRIBUTES_SERVICE, BATCH_SERVICE

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    build_demo(components=0, cases=0)
    public.clear_service_cache()
    services = {s["service_code"]: s for s in client.get("/open311/v2/services.json").json()}
    assert services[ATTRIBUTES_SERVICE]["metadata"] is True and services[BATCH_SERVICE]["type"] == "batch"
    definition = client.get(f"/open311/v2/services/{ATTRIBUTES_SERVICE}.json").json()
    kinds = {a["datatype"] for a in definition["attributes"]}
    assert kinds == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    grid = next(g for g in UnitGrid.objects.all() if _inside(get_index(), g))
    lon, lat = (grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2
    base = {"api_key": DEMO_OPEN311_KEY, "lat": lat, "long": lon, "description": "路边僵尸车"}
    answers = {
        "attribute[plate]": "浙F12345",
        "attribute[vehicle]": "car",
        "attribute[condition][]": ["rusty", "flat"],
        "attribute[days]": "12",
        "attribute[first_seen]": "2026-05-17T09:30+08:00",
        "attribute[details]": "第一行\n第二行",
    }
    r = client.post("/open311/v2/requests.json", {**base, "service_code": ATTRIBUTES_SERVICE, **answers})
    assert r.status_code == 200, r.content
    assert r.json()[0]["service_request_id"]
    r = client.post("/open311/v2/requests.json", {**base, "service_code": ATTRIBUTES_SERVICE})
    assert r.status_code == 400  # the vehicle kind is required
    r = client.post("/open311/v2/requests.json", {**base, "service_code": BATCH_SERVICE, "description": "小广告"})
    assert r.status_code == 200 and r.json()[0]["token"]


def _inside(index, grid) -> bool:
    try:
        index.locate((grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2)
    except ValueError:
        return False
    return True
