from tests.cases.test_loop import report


def test_pages_render(world, as_user):
    case = report(world)
    c = as_user(world.operator)
    for url in ["/todo/", "/done/", "/cases/", f"/cases/{case.pk}/", "/intake/", "/map/", "/map/grids.geojson",
                "/map/workgrids.geojson", "/map/cases.geojson", "/export/todo.xlsx"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
    r = as_user(world.dispatcher).get("/dispatch/")
    assert r.status_code == 200


def test_mobile(world, as_user):
    import uuid
    c = as_user(world.collector)
    for url in ["/m/", "/m/report/", "/m/grids.geojson", "/m/manifest.webmanifest", "/m/sw.js"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
    from tests.factories import PNG_1PX
    from django.core.files.uploadedfile import SimpleUploadedFile
    lon, lat = world.point()
    cid = str(uuid.uuid4())
    for _ in range(2):
        r = c.post("/m/report/", {"client_id": cid, "category": world.garbage.pk, "description": "x", "lon": lon, "lat": lat,
                                  "photos": SimpleUploadedFile("a.png", PNG_1PX, "image/png")}, HTTP_ACCEPT="application/json")
        assert r.status_code in (200, 201), r.content
    r = c.get(r.json()["url"])
    assert r.status_code == 200, r.content[:2000]
    print(r.content.decode()[-3000:])
