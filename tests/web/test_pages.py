"""Sign-in, lock-out, workbenches, scope, photos, intake, dispatch desk, map, export and the phone app."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from tests.cases.test_loop import op, report, to_handling
from tests.factories import PNG_1PX
from tests.factories import user as make_user
from urbangrid.cases.models import Case
from urbangrid.geo.geocoding import invalidate_geocoder
from urbangrid.mobile.models import MobileSubmission
from urbangrid.web import lists
from urbangrid.workflow import kit

PASSWORD = "Demo-pass-2026"


def test_sign_in_lands_on_the_role_workbench(world):
    for user, landing in ((world.operator, "/todo/"), (world.dispatcher, "/todo/"), (world.collector, "/m/")):
        c = Client()
        assert c.get("/todo/").status_code == 302  # sign in first
        r = c.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
        assert r.redirect_chain[-1][0] == landing, user
        assert c.post("/logout/").status_code == 302
        assert c.get("/todo/").status_code == 302


def test_lockout_after_repeated_failures(world, settings):
    c = Client()
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        r = c.post("/login/", {"username": world.operator.username, "password": "wrong-password"})
        # the form answers until the limit is reached; the failure that reaches it locks
        assert r.status_code == (429 if attempt == settings.AXES_FAILURE_LIMIT else 200), attempt
    r = c.post("/login/", {"username": world.operator.username, "password": PASSWORD})
    assert r.status_code == 429 and b'data-testid="locked"' in r.content
    assert "_auth_user_id" not in c.session


def test_password_change_enforces_the_policy(world, as_user):
    c = as_user(world.operator)
    r = c.post("/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert r.status_code == 200 and b"field-error" in r.content


def test_citizens_do_not_get_the_staff_web(world, as_user):
    citizen = make_user("citizen")
    assert as_user(citizen).get("/todo/").status_code == 403


def test_todo_counts_lights_and_done(world, as_user):
    a, b = report(world), report(world, i=1)
    op(a, "accept", world.operator)
    Case.objects.filter(pk=b.pk).update(deadline=b.created_at)  # overdue
    c = as_user(world.operator)
    body = c.get("/todo/").content.decode()
    assert 'data-testid="count-total">1<' in body and 'data-testid="count-red">1<' in body
    assert b.number in body and a.number not in body
    done = c.get("/done/").content.decode()
    assert a.number in done and b.number not in done
    assert a.number in as_user(world.shift).get("/todo/").content.decode()


def test_search_filters_and_keyset_pages(world, as_user):
    cases = [report(world, i=i % 4) for i in range(5)]
    flyer = report(world, category=world.flyer)
    c = as_user(world.operator)
    body = c.get("/cases/", {"category": world.flyer.pk}).content.decode()
    assert flyer.number in body and cases[0].number not in body
    assert cases[0].number in c.get("/cases/", {"grid": world.grids[0].code}).content.decode()
    qs = lists.base_queryset(world.operator, "search")
    first = lists.paginate(qs, "-id", limit=4)
    second = lists.paginate(qs, "-id", first.next_cursor, limit=4)
    assert [x.pk for x in first.items + second.items] == sorted((x.pk for x in [*cases, flyer]), reverse=True)
    assert second.next_cursor is None
    by_deadline = lists.paginate(qs, "deadline", limit=3)
    rest = lists.paginate(qs, "deadline", by_deadline.next_cursor, limit=10)
    assert len({x.pk for x in by_deadline.items + rest.items}) == 6
    assert c.get("/cases/", {"cursor": "bogus"}).status_code == 400


def test_scope_other_department_cannot_open_the_case_or_its_photos(world, as_user):
    case = to_handling(world, report(world))
    photo = kit.attachments_of(case).get()
    assert as_user(world.handler).get(f"/cases/{case.pk}/").status_code == 200
    assert as_user(world.handler).get(f"/attachments/{photo.token}/").status_code == 200
    other = as_user(world.other_handler)
    assert other.get(f"/cases/{case.pk}/").status_code == 404
    assert other.get(f"/attachments/{photo.token}/").status_code == 404
    assert other.get("/attachments/nothing/").status_code == 404
    # an uploaded photo not used yet: only its uploader reads it
    unused = world.photo(world.handler)
    assert as_user(world.handler).get(f"/attachments/{unused}/").status_code == 200
    assert as_user(world.operator).get(f"/attachments/{unused}/").status_code == 404
    assert other.post(f"/cases/{case.pk}/op/feedback/", {"feedback-version": case.version}).status_code == 404
    assert as_user(world.collector2).get(f"/cases/{case.pk}/").status_code == 404


def test_case_page_shows_fields_photos_timeline_and_reporter_only_to_center(world, as_user):
    case = report(world, by=world.operator, source="hotline", reporter={"name": "李四", "phone": "13900000000"})
    body = as_user(world.operator).get(f"/cases/{case.pk}/").content.decode()
    for text in (
        case.number,
        case.description,
        world.grids[0].code,
        "李四",
        'data-testid="photo-before"',
        'data-testid="history-report"',
        'id="case-map-data"',
    ):
        assert text in body
    op(case, "send_verify", world.operator)
    assert "李四" not in as_user(world.collector).get(f"/cases/{case.pk}/").content.decode()


def test_export_has_the_columns_on_screen(world, as_user):
    case = report(world)
    r = as_user(world.operator).get("/export/todo.xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [str(col.label) for col in lists.EXPORT_COLUMNS]
    assert rows[1][0] == case.number and len(rows) == 2
    assert as_user(world.operator).get("/export/nothing.xlsx").status_code == 404


def test_intake_geocodes_warns_about_duplicates_and_creates_a_hotline_case(world, as_user):
    from urbangrid.geo.models import Place

    lon, lat = world.point(1)
    Place.objects.create(kind="landmark", name="人民公园", lon=lon, lat=lat, street=world.street)
    invalidate_geocoder()
    c = as_user(world.operator)
    found = c.get("/intake/geocode.json", {"q": "人民公园"}).json()["results"]
    assert found[0]["grid"] == world.grids[1].code
    form = {
        "caller_name": "王五",
        "caller_phone": "13700000000",
        "category": world.garbage.pk,
        "description": "垃圾",
        "address": "人民公园",
        "lon": lon,  # the operator chooses the point (a candidate or a pin): never the first match
        "lat": lat,
    }
    r = c.post("/intake/", {**form, "photos": SimpleUploadedFile("a.png", PNG_1PX, "image/png")})
    assert r.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.unit_grid, case.reporter_phone) == ("hotline", world.grids[1], "13700000000")
    assert kit.attachments_of(case).count() == 1
    dup = c.get("/intake/duplicates.json", {"category": world.garbage.pk, "lon": lon, "lat": lat}).json()
    assert dup["results"][0]["number"] == case.number
    r = c.post("/intake/", form)
    assert r.status_code == 400 and b'data-testid="duplicates"' in r.content and Case.objects.count() == 1
    assert c.post("/intake/", {**form, "ignore_duplicates": "on"}).status_code == 302
    assert Case.objects.count() == 2
    assert as_user(world.dispatcher).get("/intake/").status_code == 403


def test_dispatch_desk_one_and_batch_with_failures_reported(world, as_user):
    cases = []
    for i in range(3):
        case = report(world, i=i)
        op(case, "accept", world.operator)
        op(case, "register", world.shift)
        cases.append(case)
    c = as_user(world.dispatcher)
    body = c.get("/dispatch/").content.decode()
    assert all(x.number in body for x in cases)
    data = {f"version_{x.pk}": x.version for x in cases} | {f"department_{x.pk}": world.sanitation.pk for x in cases}
    r = c.post("/dispatch/", {**data, "one": cases[0].pk}, follow=True)
    assert Case.objects.get(pk=cases[0].pk).state == "handling"
    data[f"version_{cases[2].pk}"] = 1  # stale
    r = c.post("/dispatch/", {**data, "case": [cases[1].pk, cases[2].pk], "batch": "1"}, follow=True)
    body = r.content.decode()
    assert Case.objects.get(pk=cases[1].pk).state == "handling"
    assert Case.objects.get(pk=cases[2].pk).state == "registered"
    assert cases[2].number in body and "msg-error" in body
    assert as_user(world.operator).get("/dispatch/").status_code == 403


def test_map_layers_and_cases(world, as_user, settings):
    report(world)
    c = as_user(world.leader)
    grids = json.loads(c.get("/map/grids.geojson").content)
    assert len(grids["features"]) == 4
    work_grids = json.loads(c.get("/map/workgrids.geojson").content)["features"]
    assert {f["properties"]["code"] for f in work_grids} == {"WG1", "WG2"}
    cases = c.get("/map/cases.geojson").json()
    assert len(cases["features"]) == 1 and not cases["clustered"]
    assert c.get("/map/cases.geojson", {"state": "closed"}).json()["features"] == []
    assert as_user(world.other_handler).get("/map/cases.geojson").json()["features"] == []


def test_map_clusters_per_grid_when_dense(world, as_user, monkeypatch):
    from urbangrid.web import maps

    monkeypatch.setattr(maps, "MAP_POINTS", 2)
    for i in range(3):
        report(world, i=i)
    data = as_user(world.leader).get("/map/cases.geojson").json()
    assert data["clustered"] and sum(f["properties"]["count"] for f in data["features"]) == 3


def test_phone_report_is_idempotent(world, as_user):
    c = as_user(world.collector)
    lon, lat = world.point()
    cid = str(uuid.uuid4())
    data = {"client_id": cid, "category": world.garbage.pk, "description": "垃圾", "lon": lon, "lat": lat}
    first = c.post(
        "/m/report/",
        {**data, "photos": SimpleUploadedFile("a.png", PNG_1PX, "image/png")},
        HTTP_ACCEPT="application/json",
    )
    again = c.post(
        "/m/report/",
        {**data, "photos": SimpleUploadedFile("a.png", PNG_1PX, "image/png")},
        HTTP_ACCEPT="application/json",
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and not again.json()["created"]
    case = Case.objects.get()
    assert case.channel["client_id"] == cid and case.source == "collector"
    assert kit.attachments_of(case).count() == 1
    assert MobileSubmission.objects.get().case == case
    stolen = as_user(world.collector2).post("/m/report/", data, HTTP_ACCEPT="application/json")
    assert stolen.status_code == 400 and Case.objects.count() == 1


def test_phone_pages_and_pwa(world, as_user):
    c = as_user(world.collector)
    assert c.get("/m/").status_code == 200
    manifest = c.get("/m/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json" and manifest.json()["scope"] == "/m/"
    sw = c.get("/m/sw.js")
    assert sw["Content-Type"].startswith("application/javascript") and sw["Service-Worker-Allowed"] == "/m/"
    assert len(c.get("/m/grids.geojson").json()["features"]) == 2
    elsewhere = as_user(world.operator).get("/m/")  # roles with nothing on the phone: where to go
    assert elsewhere.status_code == 200 and 'data-testid="elsewhere"' in elsewhere.content.decode()
    body = c.get("/m/report/").content.decode()
    assert 'capture="environment"' in body and 'accept="image/*"' in body


@pytest.mark.parametrize("path", ["/todo/", "/cases/", "/map/"])
def test_english_switch(world, as_user, path):
    c = as_user(world.operator)
    c.post("/i18n/setlang/", {"language": "en", "next": path})
    assert '<html lang="en">' in c.get(path).content.decode()
