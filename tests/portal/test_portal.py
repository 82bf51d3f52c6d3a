"""Citizen portal (server side): report, receipt, tracking, rating and disputes; return visits API."""

from __future__ import annotations

import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.open311.conftest import jpeg_with_exif
from urbangrid.cases.models import Case, CitizenRating, Dispute, Source, State
from urbangrid.open311.models import ServiceRequest


def form_data(world, **extra):
    lon, lat = world.point(1)
    return {
        "service_code": "0102",
        "lat": f"{lat:.6f}",
        "long": f"{lon:.6f}",
        "address": "",
        "description": "<b>路口</b>有垃圾",
        "name": "李雷",
        "phone": "13900001111",
        "email": "",
        "form_token": "tok-1",
        **extra,
    }


def submit(client, world, **extra):
    r = client.post("/portal/report/", form_data(world, **extra))
    assert r.status_code == 302, r.content.decode()[:2000]
    receipt = client.get(r["Location"])
    html = receipt.content.decode()
    number = re.search(r'id="tracking-number">([^<]+)<', html).group(1)
    code = re.search(r'id="rating-code">([^<]+)<', html)
    return number, code.group(1) if code else ""


def test_home_and_form_render(client, world):
    home = client.get("/portal/")
    assert home.status_code == 200 and 'id="track-form"' in home.content.decode()
    page = client.get("/portal/report/").content.decode()
    for name in ("service_code", "lat", "long", "address", "photo", "description", "name", "phone", "email"):
        assert f'name="{name}"' in page
    assert '<optgroup label="市容环境">' in page and 'value="0102"' in page
    assert 'id="map"' in page and "vendor/leaflet/leaflet.js" in page
    outlines = client.get("/portal/map.json").json()
    assert outlines["type"] == "FeatureCollection" and len(outlines["features"]) == 4


def test_report_creates_a_citizen_case_with_a_clean_photo(client, world):
    photo = SimpleUploadedFile("IMG.jpg", jpeg_with_exif(), content_type="image/jpeg")
    number, code = submit(client, world, photo=photo)
    case = Case.objects.get(number=number)
    assert case.source == Source.CITIZEN and case.state == State.REPORTED and case.unit_grid == world.grids[1]
    assert case.description == "路口有垃圾" and case.reporter_name == "李雷" and case.reporter_phone == "13900001111"
    assert len(code) == 8 and case.channel == {"channel": "portal"}
    req = ServiceRequest.objects.get(case=case)
    assert req.application is None and req.rating_code_hash and code not in req.rating_code_hash
    page = client.get(f"/portal/track/{number}/").content.decode()
    assert 'data-status="open"' in page and "李雷" not in page and "13900001111" not in page
    src = re.search(r'<img src="([^"]+)"', page).group(1)
    body = b"".join(client.get(src.removeprefix("http://testserver")).streaming_content)
    assert b"SecretCamMaker" not in body


def test_double_submit_is_one_case(client, world):
    first, code = submit(client, world)
    again, code_again = submit(client, world)
    assert first == again and code_again == code and Case.objects.count() == 1


def test_form_errors_are_shown(client, world):
    r = client.post("/portal/report/", form_data(world, lat="", long="", address=""))
    assert r.status_code == 400 and 'id="form-errors"' in r.content.decode()
    r = client.post("/portal/report/", form_data(world, lat="39.9", long="116.4"))
    assert r.status_code == 400
    pdf = SimpleUploadedFile("x.pdf", b"%PDF-1.4")
    assert client.post("/portal/report/", form_data(world, photo=pdf)).status_code == 415
    assert client.post("/portal/report/", form_data(world, description="")).status_code == 400
    assert Case.objects.count() == 0


def test_report_by_address(client, world):
    from urbangrid.geo.geocoding import invalidate_geocoder
    from urbangrid.geo.models import Place

    lon, lat = world.point(2)
    Place.objects.create(kind="landmark", name="人民公园", lon=lon, lat=lat)
    invalidate_geocoder()
    number, _code = submit(client, world, lat="", long="", address="人民公园")
    case = Case.objects.get(number=number)
    assert case.unit_grid == world.grids[2] and case.address == "人民公园"


def test_portal_is_rate_limited(client, world, settings, one_rate_window):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_ADDRESS_RATE_LIMIT": 1}
    submit(client, world)
    r = client.post("/portal/report/", form_data(world, form_token="tok-2"))
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1


def test_tracking(client, world):
    number, _code = submit(client, world)
    r = client.get("/portal/track/", {"number": number})
    assert r.status_code == 302 and r["Location"] == f"/portal/track/{number}/"
    r = client.get("/portal/track/", {"number": "123"})
    assert r.status_code == 404 and 'id="track-error"' in r.content.decode()
    assert client.get("/portal/track/123/").status_code == 404
    page = client.get(f"/portal/track/{number}/").content.decode()
    assert 'data-type="report"' in page and 'id="rate-form"' not in page


def test_rating_after_closure_and_dispute(client, world):
    number, code = submit(client, world)
    case = Case.objects.get(number=number)
    world.close_public(case)
    page = client.get(f"/portal/track/{number}/").content.decode()
    assert 'data-status="closed"' in page and 'id="rate-form"' in page
    url = f"/portal/track/{number}/rate/"
    wrong = client.post(url, {"code": "WRONG123", "rating": "satisfied"})
    assert wrong.status_code == 403 and 'id="rate-errors"' in wrong.content.decode()
    r = client.post(url, {"code": code.lower(), "rating": "dissatisfied", "not_fixed": "on", "comment": "没清干净"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.RECHECKING and CitizenRating.objects.get().rating == "dissatisfied"
    assert Dispute.objects.get().channel == "portal"
    page = client.get(f"/portal/track/{number}/").content.decode()
    assert 'data-status="open"' in page and 'data-type="dispute"' in page and 'id="rate-form"' not in page
    again = client.post(url, {"code": code, "rating": "satisfied"})
    assert again.status_code == 400  # not closed any more


def test_partner_cases_cannot_be_rated_in_the_portal(client, world, key):
    lon, lat = world.point(0)
    data = {"api_key": key, "service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    r = client.post("/open311/v2/requests.json", data)
    number = r.json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    world.close_public(case)
    assert 'id="rate-form"' not in client.get(f"/portal/track/{number}/").content.decode()
    assert client.post(f"/portal/track/{number}/rate/", {"code": "AAAA2222", "rating": "satisfied"}).status_code == 403


# --- return visits API ------------------------------------------------------------------------


def test_return_visit_api(client, world):
    number, _code = submit(client, world)
    case = Case.objects.get(number=number)
    world.close_public(case)
    client.force_login(world.handler)
    assert client.get("/api/v1/return-visits").status_code == 403
    client.force_login(world.operator)
    due = client.get("/api/v1/return-visits").json()
    assert [d["number"] for d in due] == [number]
    assert due[0]["reporter"] == {"name": "李雷", "phone": "13900001111", "email": ""}
    body = {"version": due[0]["version"], "outcome": "dissatisfied", "note": "说没清干净"}
    r = client.post(f"/api/v1/return-visits/{case.pk}", json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json() == {"number": number, "state": "rechecking", "version": case.version + 2, "reopened": True}
    assert client.get("/api/v1/return-visits").json() == []
    again = client.post(f"/api/v1/return-visits/{case.pk}", json.dumps(body), content_type="application/json")
    assert again.status_code == 404
    bad = {"version": 1, "outcome": "meh"}
    r = client.post(f"/api/v1/return-visits/{case.pk}", json.dumps(bad), content_type="application/json")
    assert r.status_code == 400


# --- hardening: lookups throttled, idempotent form bound to its content -------------------------


def test_tracking_lookups_are_throttled_per_address(client, world, settings, one_rate_window):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_LOOKUP_RATE_LIMIT": 4}
    number, _code = submit(client, world)
    codes = [client.get("/portal/track/", {"number": str(int(number) + i)}).status_code for i in range(4)]
    assert codes == [302, 404, 404, 404]
    r = client.get("/portal/track/", {"number": number})
    assert r.status_code == 429 and r["Retry-After"] and 'id="track-error"' in r.content.decode()
    assert client.get(f"/portal/track/{number}/").status_code == 429
    assert client.get(f"/portal/track/{number}/", REMOTE_ADDR="10.2.2.2").status_code == 200


def test_same_form_token_with_other_content_is_refused(client, world):
    first, _code = submit(client, world)
    r = client.post("/portal/report/", form_data(world, description="完全不同的问题"))
    assert r.status_code == 409 and 'id="form-errors"' in r.content.decode()
    assert Case.objects.count() == 1 and Case.objects.get().number == first


def test_nul_in_the_form_is_a_plain_400(client, world):
    r = client.post("/portal/report/", form_data(world, description="垃圾\x00"))
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    assert Case.objects.count() == 0
