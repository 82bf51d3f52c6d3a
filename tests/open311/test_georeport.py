"""GeoReport v2 endpoints: discovery, services, POST and GET requests, tokens, every error path."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from urbangrid.cases.models import Case, Source, State
from urbangrid.core.models import User
from urbangrid.open311.models import (
    Application,
    AttributeValue,
    Datatype,
    RequestStatus,
    Service,
    ServiceAttribute,
    ServiceRequest,
    ServiceType,
)
from urbangrid.workflow.models import History

from .conftest import jpeg_with_exif

BASE = "/open311/v2/"
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def post(client, key: str | None, fmt: str = "json", headers: dict | None = None, address: str = "127.0.0.1", **data):
    if key is not None:
        data.setdefault("api_key", key)
    return client.post(f"{BASE}requests.{fmt}", data, headers=headers or {}, REMOTE_ADDR=address)


def report(client, world, key, i: int = 0, **data):
    lon, lat = world.point(i)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "路边有垃圾堆", **data}
    r = post(client, key, **data)
    assert r.status_code == 200, r.content
    return r.json()[0]["service_request_id"]


def case_attachments(case):
    """The attachments claimed by a case (generic attachments of the workflow engine)."""
    from django.contrib.contenttypes.models import ContentType

    from urbangrid.cases.models import Attachment

    return Attachment.objects.filter(content_type=ContentType.objects.get_for_model(Case), object_id=case.pk)


def errors(r) -> list[str]:
    if r["Content-Type"].startswith("application/json"):
        body = r.json()
        assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body)
        assert all(e["code"] == r.status_code for e in body)
        return [e["description"] for e in body]
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and all(e.tag == "error" for e in root)
    return [e.findtext("description") for e in root]


@pytest.fixture
def attributes(world):
    """0102 with one attribute of every datatype."""
    svc = Service.objects.create(category=world.garbage, keywords="垃圾,rubbish")
    specs = [
        ("size", Datatype.SINGLEVALUELIST, True),
        ("kinds", Datatype.MULTIVALUELIST, False),
        ("count", Datatype.NUMBER, False),
        ("seen_at", Datatype.DATETIME, False),
        ("plate", Datatype.STRING, False),
        ("details", Datatype.TEXT, False),
    ]
    for order, (code, datatype, required) in enumerate(specs, start=1):
        attr = ServiceAttribute.objects.create(
            service=svc, code=code, datatype=datatype, required=required, order=order, description=f"问题 {code}"
        )
        if datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST):
            AttributeValue.objects.create(attribute=attr, key="a", name="甲", order=1)
            AttributeValue.objects.create(attribute=attr, key="b", name="乙", order=2)
    ServiceAttribute.objects.create(service=svc, code="note", variable=False, order=7, description="请注意安全")
    return svc


# --- transport, discovery, services --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(client, world, fmt):
    r = client.get(f"{BASE}discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        assert r["Content-Type"] == "application/json; charset=utf-8"
        doc = r.json()
        endpoint = doc["endpoints"][0]
        assert endpoint["formats"] == ["text/xml", "application/json"]
    else:
        assert r["Content-Type"] == "text/xml; charset=utf-8"
        assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(r.content)
        assert root.tag == "discovery"
        doc = {c.tag: c.text for c in root if c.tag != "endpoints"}
        node = root.find("endpoints/endpoint")
        endpoint = {c.tag: c.text for c in node}
        assert [f.text for f in node.find("formats")] == ["text/xml", "application/json"]
    assert doc["contact"] and doc["key_service"] and W3C.match(doc["changeset"])
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/" and endpoint["type"] == "production"
    assert W3C.match(endpoint["changeset"]) and endpoint["changeset"] <= timezone.localtime().isoformat()
    assert client.get("/open311/discovery.json").status_code == 200


def test_changeset_advances_when_a_definition_changes(client, world):
    before = client.get(f"{BASE}discovery.json").json()["changeset"]
    from urbangrid.open311.models import Changeset

    Changeset.objects.filter(pk=1).update(changed_at=timezone.now() - timedelta(days=1))
    older = client.get(f"{BASE}discovery.json").json()["changeset"]
    Service.objects.create(category=world.flyer)
    newer = client.get(f"{BASE}discovery.json").json()["changeset"]
    assert older < before <= newer


def test_service_list_json(client, world, attributes):
    from urbangrid.catalog.models import CategorySynonym

    CategorySynonym.objects.create(category=world.garbage, name="垃圾堆")
    services = client.get(f"{BASE}services.json").json()
    assert [s["service_code"] for s in services] == ["0102", "0201"]  # public minor events only
    garbage = services[0]
    assert garbage == {
        "service_code": "0102",
        "service_name": "暴露垃圾",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "垃圾,rubbish,垃圾堆",
        "group": "市容环境",
    }
    assert services[1]["metadata"] is False and services[1]["keywords"] == ""
    world.flyer.is_public = False
    world.flyer.save()
    assert [s["service_code"] for s in client.get(f"{BASE}services.json").json()] == ["0102"]


def test_service_list_xml_and_english_locale(client, world):
    world.garbage.name_en = "Exposed garbage"
    world.garbage.save()
    root = ET.fromstring(client.get(f"{BASE}services.xml", {"locale": "en"}).content)
    assert root.tag == "services" and [s.tag for s in root] == ["service", "service"]
    first = {c.tag: c.text for c in root[0]}
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert first["service_name"] == "Exposed garbage" and first["metadata"] == "false"


def test_service_definition_every_datatype(client, world, attributes):
    doc = client.get(f"{BASE}services/0102.json").json()
    assert doc["service_code"] == "0102"
    attrs = doc["attributes"]
    assert [a["order"] for a in attrs] == [1, 2, 3, 4, 5, 6, 7]
    assert {a["datatype"] for a in attrs} == {
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    }
    size = attrs[0]
    assert size["values"] == [{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}]
    assert size["required"] is True and size["variable"] is True and size["code"] == "size"
    assert "values" not in attrs[2] and attrs[6]["variable"] is False
    root = ET.fromstring(client.get(f"{BASE}services/0102.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "0102"
    assert [v.findtext("key") for v in root.find("attributes/attribute/values")] == ["a", "b"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_definition_404(client, world, fmt):
    r = client.get(f"{BASE}services/9999.{fmt}")
    assert r.status_code == 404 and "9999" in errors(r)[0]


def test_format_method_and_path_errors(client, world):
    r = client.get(f"{BASE}services.yaml")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/xml") and errors(r)
    r = client.get(f"{BASE}services")  # no suffix: XML
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    r = client.put(f"{BASE}requests.json")
    assert r.status_code == 405 and errors(r) and "POST" in r["Allow"]
    r = client.get(f"{BASE}nothing-here.json")
    assert r.status_code == 404 and errors(r)


# --- jurisdiction_id -------------------------------------------------------------------------


def test_jurisdiction_id_checked_everywhere(client, world, key, settings):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_JURISDICTION_ID": "tongxiang.gov.cn"}
    for good in ("", "330483", "tongxiang.gov.cn"):
        assert client.get(f"{BASE}services.json", {"jurisdiction_id": good}).status_code == 200
    for url in ("services.json", "services/0102.json", "requests.json", "discovery.json", "tokens/x.json"):
        r = client.get(BASE + url, {"jurisdiction_id": "sfgov.org"})
        assert r.status_code == 404 and "jurisdiction_id" in errors(r)[0], url
    lon, lat = world.point(0)
    base = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    assert post(client, key, jurisdiction_id="sfgov.org", **base).status_code == 404
    assert post(client, key, jurisdiction_id="330483", **base).status_code == 200
    assert Case.objects.count() == 1


# --- POST ----------------------------------------------------------------------------------


def test_post_creates_a_partner_case_waiting_for_verification(client, world, partner):
    app, key = partner
    lon, lat = world.point(2)
    r = post(
        client,
        key,
        service_code="0102",
        lat=lat,
        long=lon,
        description="桥下有垃圾\n第二行",
        email="zhang@example.cn",
        first_name="伟",
        last_name="张",
        phone="13812345678",
        device_id="dev-1",
        account_id="acc-9",
        address_string="庆丰路桥下",
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    (record,) = r.json()
    assert set(record) == {"service_request_id", "service_notice", "account_id"} and record["account_id"] == "acc-9"
    case = Case.objects.get(number=record["service_request_id"])
    assert (case.source, case.state, case.category, case.unit_grid) == (
        Source.PARTNER,
        State.REPORTED,
        world.garbage,
        world.grids[2],
    )
    assert (case.reporter_name, case.reporter_phone, case.reporter_email) == ("张伟", "13812345678", "zhang@example.cn")
    assert case.description == "桥下有垃圾\n第二行" and case.address == "庆丰路桥下"
    assert case.reported_by == app.user and case.channel["application"] == "测试伙伴"
    req = ServiceRequest.objects.get(case=case)
    assert (req.application, req.device_id, req.account_id) == (app, "dev-1", "acc-9")


def test_post_xml_and_key_in_query_string(client, world, key):
    lon, lat = world.point(0)
    r = client.post(
        f"{BASE}requests.xml?api_key={key}", {"service_code": "0201", "lat": lat, "long": lon, "description": "小广告"}
    )
    assert r.status_code == 200 and r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert Case.objects.filter(number=root[0].findtext("service_request_id")).exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_api_key_missing_invalid_or_inactive_403(client, world, partner, fmt):
    app, key = partner
    lon, lat = world.point(0)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    assert post(client, None, fmt, **data).status_code == 403
    r = post(client, "wrong-key", fmt, **data)
    assert r.status_code == 403 and "api_key" in errors(r)[0]
    Application.objects.filter(pk=app.pk).update(is_active=False)
    from urbangrid.open311 import actions

    actions._key_cache.clear()
    assert post(client, key, fmt, **data).status_code == 403
    assert Case.objects.count() == 0 and ServiceRequest.objects.count() == 0


def test_service_code_missing_400_unknown_404(client, world, key):
    lon, lat = world.point(0)
    r = post(client, key, lat=lat, long=lon, description="x")
    assert r.status_code == 400 and "service_code" in errors(r)[0]
    r = post(client, key, service_code="9999", lat=lat, long=lon, description="x")
    assert r.status_code == 404
    r = post(client, key, service_code="0102", lat=lat, long=lon, description="x", fmt="xml")
    assert r.status_code == 200
    # component classes are not services
    assert post(client, key, service_code="0102", lat=lat, long=lon, description="x").status_code == 200
    assert not Case.objects.filter(category=world.cover).exists()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "location is required"),
        ({"lat": "30.6304"}, "together"),
        ({"long": "120.5504"}, "together"),
        ({"lat": "north", "long": "120.5"}, "decimal degrees"),
        ({"lat": "95", "long": "120.5"}, "between"),
        ({"lat": "30", "long": "-190"}, "between"),
        ({"lat": "39.9", "long": "116.4"}, "outside the jurisdiction"),
        ({"address_id": "987654"}, "address_id"),
        ({"address_string": "不存在的路999号"}, "not found"),
    ],
)
def test_bad_locations_400(client, world, key, data, fragment):
    r = post(client, key, service_code="0102", description="x", **data)
    assert r.status_code == 400 and fragment in " ".join(errors(r)), errors(r)
    assert Case.objects.count() == 0


def test_address_string_and_address_id_locate_the_case(client, world, key):
    from urbangrid.geo.geocoding import invalidate_geocoder
    from urbangrid.geo.models import Place

    lon, lat = world.point(3)
    place = Place.objects.create(kind="door_plate", name="庆丰路128号", road="庆丰路", number="128", lon=lon, lat=lat)
    invalidate_geocoder()
    by_text = report_without_point(client, key, address_string="庆丰路128号")
    by_id = report_without_point(client, key, address_id=str(place.pk))
    for number in (by_text, by_id):
        case = Case.objects.get(number=number)
        assert case.unit_grid == world.grids[3] and case.address == "庆丰路128号"
    assert ServiceRequest.objects.get(case__number=by_id).address_id == str(place.pk)
    record = client.get(f"{BASE}requests/{by_id}.json").json()[0]
    assert record["address_id"] == str(place.pk) and record["address"] == "庆丰路128号"


def report_without_point(client, key, **data) -> str:
    r = post(client, key, service_code="0102", description="门口垃圾", **data)
    assert r.status_code == 200, r.content
    return r.json()[0]["service_request_id"]


def test_description_rules(client, world, key):
    lon, lat = world.point(0)
    base = {"service_code": "0102", "lat": lat, "long": lon}
    assert post(client, key, description="字" * 4000, **base).status_code == 200
    r = post(client, key, description="字" * 4001, **base)
    assert r.status_code == 400 and "4000" in errors(r)[0]
    assert post(client, key, description="  ", **base).status_code == 400
    r = post(client, key, description="x", email="not-an-email", media_url="ftp://x", **base)
    assert r.status_code == 400 and len(errors(r)) == 2


def test_attributes_accepted(client, world, key, attributes):
    lon, lat = world.point(0)
    r = client.post(
        f"{BASE}requests.json",
        {
            "api_key": key,
            "service_code": "0102",
            "lat": lat,
            "long": lon,
            "description": "x",
            "attribute[size]": "a",
            "attribute[kinds][]": ["a", "b"],
            "attribute[count]": "-12.5",
            "attribute[seen_at]": "2026-05-17T09:30:00+08:00",
            "attribute[plate]": "浙F12345",
            "attribute[details]": "第一行\n第二行",
            "attribute[note]": "ignored",
            "attribute[unknown]": "ignored too",
        },
    )
    assert r.status_code == 200, r.content
    req = ServiceRequest.objects.get()
    assert req.attributes == {
        "size": "a",
        "kinds": ["a", "b"],
        "count": "-12.5",
        "seen_at": "2026-05-17T09:30:00+08:00",
        "plate": "浙F12345",
        "details": "第一行\n第二行",
    }
    assert req.case.channel["attributes"]["size"] == "a"


@pytest.mark.parametrize(
    ("code", "value", "fragment"),
    [
        ("size", ["c"], "unknown value"),
        ("size", ["a", "b"], "one value"),
        ("kinds", ["a", "z"], "unknown value"),
        ("count", ["12,5"], "decimal number"),
        ("count", ["1e5"], "decimal number"),
        ("seen_at", ["2026-05-17"], "date and time"),
        ("seen_at", ["yesterday"], "date and time"),
        ("plate", ["two\nlines"], "one line"),
        ("details", ["x" * 4001], "longer than"),
    ],
)
def test_bad_attribute_values_400(client, world, key, attributes, code, value, fragment):
    lon, lat = world.point(0)
    data = {"api_key": key, "service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    data["attribute[size]"] = "a"
    data[f"attribute[{code}]"] = value
    r = client.post(f"{BASE}requests.json", data)
    assert r.status_code == 400 and fragment in errors(r)[0] and code in errors(r)[0]


def test_missing_required_attribute_and_several_errors_together(client, world, key, attributes):
    _lon, lat = world.point(0)
    r = client.post(
        f"{BASE}requests.json",
        {"api_key": key, "service_code": "0102", "lat": lat, "description": "x", "attribute[count]": "many"},
    )
    assert r.status_code == 400
    messages = errors(r)
    assert len(messages) == 3  # location, required size, bad number
    assert any("attribute[size] is required" in m for m in messages)
    attributes.strict_attributes = True
    attributes.save()
    long_ = world.point(0)[0]
    r = client.post(
        f"{BASE}requests.json",
        {"api_key": key, "service_code": "0102", "lat": lat, "long": long_, "description": "x"}
        | {"attribute[size]": "a", "attribute[colour]": "red"},
    )
    assert r.status_code == 400 and "colour" in errors(r)[0]


# --- media ---------------------------------------------------------------------------------


def test_media_upload_published_without_exif(client, world, key):
    lon, lat = world.point(0)
    raw = jpeg_with_exif()
    assert b"SecretCamMaker" in raw
    photo = SimpleUploadedFile("IMG_0001.jpg", raw, content_type="image/jpeg")
    r = post(client, key, service_code="0102", lat=lat, long=lon, description="x", media=photo)
    assert r.status_code == 200, r.content
    number = r.json()[0]["service_request_id"]
    record = client.get(f"{BASE}requests/{number}.json", {"extensions": "true"}).json()[0]
    assert record["media_url"].startswith("http://testserver/open311/v2/media/")
    assert record["extended_attributes"]["media_urls"] == [record["media_url"]]
    image = client.get(record["media_url"].removeprefix("http://testserver"))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    body = b"".join(image.streaming_content)
    assert body.startswith(b"\xff\xd8") and b"SecretCamMaker" not in body and b"Exif" not in body
    # the stored file itself is clean: the original is never kept
    case = Case.objects.get(number=number)
    with case_attachments(case).get().file.open("rb") as f:
        assert b"SecretCamMaker" not in f.read()


def test_staff_photos_are_not_published(client, world, key):
    from urbangrid.cases import actions

    number = report(client, world, key)
    case = Case.objects.get(number=number)
    token = world.photo(world.operator)
    actions.perform(case, "send_verify", world.operator, version=case.version)
    case.refresh_from_db()
    actions.perform(
        case,
        "verify",
        world.collector,
        version=case.version,
        data={"exists": True, "photos": [world.photo(world.collector)]},
    )
    record = client.get(f"{BASE}requests/{number}.json", {"extensions": "true"}).json()[0]
    assert record["media_url"] is None and record["extended_attributes"]["media_urls"] == []
    staff = case_attachments(case).get()
    assert client.get(f"{BASE}media/{staff.token}.jpg").status_code == 404
    assert client.get(f"{BASE}media/{token}.jpg").status_code == 404


def test_media_limits(client, world, key, settings):
    lon, lat = world.point(0)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    r = post(client, key, media=SimpleUploadedFile("a.pdf", b"%PDF-1.4 not a photo"), **data)
    assert r.status_code == 415 and errors(r)
    gif = SimpleUploadedFile("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    assert post(client, key, media=gif, **data).status_code == 415
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_MAX_MEDIA_BYTES": 2000}
    big = SimpleUploadedFile("big.jpg", jpeg_with_exif() + b"\0" * 3000)
    r = post(client, key, fmt="xml", media=big, **data)
    assert r.status_code == 413 and r["Content-Type"].startswith("text/xml") and errors(r)
    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"\0" * 20_000)
    assert post(client, key, media=huge, **data).status_code == 413  # whole body over the limit
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_MAX_MEDIA_BYTES": 8 * 2**20}
    four = [SimpleUploadedFile(f"{i}.jpg", jpeg_with_exif()) for i in range(4)]
    assert post(client, key, media=four, **data).status_code == 413
    assert Case.objects.count() == 0


# --- abuse: rate limits and idempotency ------------------------------------------------------


def test_rate_limit_per_key_answers_429_with_retry_after(client, world, one_rate_window):
    from urbangrid.open311.actions import issue_application

    _app, key = issue_application("小伙伴", rate_limit=2, address_rate_limit=100)
    lon, lat = world.point(0)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    assert [post(client, key, **data).status_code for _ in range(2)] == [200, 200]
    r = post(client, key, fmt="xml", **data)
    assert r.status_code == 429 and int(r["Retry-After"]) == 30  # the pinned clock is mid-window
    assert "try again" in errors(r)[0]
    assert Case.objects.count() == 2
    _other, other_key = issue_application("另一个", rate_limit=100, address_rate_limit=100)
    assert post(client, other_key, **data).status_code == 200  # counted per key


def test_rate_limit_per_client_address(client, world, settings, one_rate_window):
    from urbangrid.open311.actions import issue_application

    _app, key = issue_application("伙伴", rate_limit=100, address_rate_limit=1)
    lon, lat = world.point(0)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    assert post(client, key, **data).status_code == 200
    assert post(client, key, **data).status_code == 429
    assert post(client, key, address="10.0.0.9", **data).status_code == 200  # another address
    # key guessing from one address is throttled too
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_ADDRESS_RATE_LIMIT": 2}
    codes = [post(client, f"guess-{i}", address="10.0.0.7", **data).status_code for i in range(3)]
    assert codes == [403, 403, 429]


def test_idempotency_key_replays_the_original(client, world, key):
    lon, lat = world.point(0)
    data = {"service_code": "0102", "lat": lat, "long": lon, "description": "x"}
    first = post(client, key, headers={"Idempotency-Key": "abc-1"}, **data)
    again = post(client, key, headers={"Idempotency-Key": "abc-1"}, **data)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert Case.objects.count() == 1
    other = post(client, key, headers={"Idempotency-Key": "abc-2"}, **data)
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert post(client, key, headers={"Idempotency-Key": "k" * 129}, **data).status_code == 400


def test_idempotency_race_returns_the_winner(world, partner):
    """Two workers with the same key: the loser's insert fails and it replays the winner."""
    from urbangrid.open311.actions import submit
    from urbangrid.open311.validation import Submission

    app, _key = partner
    lon, lat = world.point(0)
    sub = Submission(world.garbage, None, lon, lat, "", "", "x", {"name": "", "phone": "", "email": ""})
    first = submit(sub, actor=app.user, application=app, idempotency_key="same")
    second = submit(sub, actor=app.user, application=app, idempotency_key="same")
    assert first.pk == second.pk and Case.objects.count() == 1


# --- batch services and tokens ---------------------------------------------------------------


def test_batch_service_returns_a_token_resolved_later(client, world, key, django_capture_on_commit_callbacks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    Service.objects.create(category=world.flyer, type=ServiceType.BATCH)
    assert client.get(f"{BASE}services.json").json()[1]["type"] == "batch"
    lon, lat = world.point(1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = post(client, key, service_code="0201", lat=lat, long=lon, description="小广告", fmt="xml")
    assert r.status_code == 200 and len(callbacks) == 1
    record = ET.fromstring(r.content)[0]
    token = record.findtext("token")
    assert token and record.find("service_request_id") is None
    pending = client.get(f"{BASE}tokens/{token}.json").json()
    assert pending == [{"service_request_id": None, "token": token}]
    assert Case.objects.count() == 0
    from urbangrid.open311.actions import create_pending

    req = create_pending(ServiceRequest.objects.get(token=token).pk)
    assert req.status == RequestStatus.CREATED and req.case.source == Source.PARTNER
    resolved = client.get(f"{BASE}tokens/{token}.xml")
    assert ET.fromstring(resolved.content)[0].findtext("service_request_id") == req.case.number
    assert client.get(f"{BASE}tokens/nope.json").status_code == 404


def test_batch_task_runs_on_the_immediate_backend(client, world, key, django_capture_on_commit_callbacks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    Service.objects.create(category=world.flyer, type=ServiceType.BATCH)
    lon, lat = world.point(1)
    with django_capture_on_commit_callbacks() as callbacks:
        r = post(client, key, service_code="0201", lat=lat, long=lon, description="小广告")
    (enqueue,) = callbacks
    enqueue()  # outside the capture: the case's own commit hooks stay inside the test transaction
    token = r.json()[0]["token"]
    assert client.get(f"{BASE}tokens/{token}.json").json()[0]["service_request_id"]


# --- GET requests ----------------------------------------------------------------------------


def _age(number: str, days: float) -> None:
    Case.objects.filter(number=number).update(created_at=timezone.now() - timedelta(days=days))


def test_search_defaults_window_order_and_cap(client, world, key, monkeypatch):
    numbers = [report(client, world, key, i=i % 4) for i in range(4)]
    _age(numbers[0], 100)  # outside the default 90 days
    _age(numbers[1], 2)
    listed = [r["service_request_id"] for r in client.get(f"{BASE}requests.json").json()]
    assert listed == [numbers[3], numbers[2], numbers[1]]  # newest first
    from urbangrid.open311 import views

    monkeypatch.setattr(views, "MAX_RESULTS", 2)
    assert len(client.get(f"{BASE}requests.json").json()) == 2
    page2 = client.get(f"{BASE}requests.json", {"page": 2, "page_size": 2}).json()
    assert [r["service_request_id"] for r in page2] == [numbers[1]]
    assert client.get(f"{BASE}requests.json", {"page": 9, "page_size": 2}).json() == []


def test_search_by_ids_overrides_other_filters(client, world, key):
    a, b, _c = (report(client, world, key) for _ in range(3))
    _age(a, 400)
    r = client.get(
        f"{BASE}requests.json", {"service_request_id": f"{a}, {b}", "status": "closed", "service_code": "0201"}
    )
    assert sorted(x["service_request_id"] for x in r.json()) == sorted([a, b])


def test_search_filters(client, world, key):
    from urbangrid.cases import actions

    garbage = report(client, world, key)
    flyer = report(client, world, key, service_code="0201")
    case = Case.objects.get(number=flyer)
    actions.perform(case, "reject", world.operator, version=case.version, data={"reason": "重复"})

    def ids(**params):
        return [x["service_request_id"] for x in client.get(f"{BASE}requests.json", params).json()]

    assert ids(service_code="0201") == [flyer]
    assert ids(service_code="0102,0201") == [flyer, garbage]
    assert ids(service_code="7777") == []
    assert ids(status="open") == [garbage]
    assert ids(status="closed") == [flyer]
    assert ids(status="open,closed", service_code="") == [flyer, garbage]
    now = timezone.localtime()
    assert ids(start_date=(now - timedelta(hours=1)).isoformat(timespec="seconds")) == [flyer, garbage]
    assert ids(end_date=(now - timedelta(hours=1)).isoformat(timespec="seconds")) == []
    # a "+" in the offset arrives as a space when the client did not encode it
    raw = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S") + " 08:00"
    assert client.get(f"{BASE}requests.json?start_date={raw}").status_code == 200
    utc = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=utc) == [flyer, garbage]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"status": "pending"}, "status"),
        ({"start_date": "2026-05-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"start_date": "2026-05-01T00:00:00"}, "start_date"),  # no zone
        ({"start_date": "2026-05-10T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "after"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "90 days"),
        ({"page_size": "5000"}, "page_size"),
        ({"page": "0"}, "page"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_search_parameters_400(client, world, params, fragment, fmt):
    r = client.get(f"{BASE}requests.{fmt}", params)
    assert r.status_code == 400 and fragment in errors(r)[0]


def test_single_request(client, world, key):
    number = report(client, world, key)
    for fmt in ("json", "xml"):
        r = client.get(f"{BASE}requests/{number}.{fmt}")
        assert r.status_code == 200
    root = ET.fromstring(client.get(f"{BASE}requests/{number}.xml").content)
    assert root.tag == "service_requests" and len(root) == 1 and root[0].tag == "request"
    assert [c.tag for c in root[0]][:3] == ["service_request_id", "status", "status_notes"]
    assert len(client.get(f"{BASE}requests/{number}.json").json()) == 1
    for fmt in ("json", "xml"):
        r = client.get(f"{BASE}requests/330483000000000000.{fmt}")
        assert r.status_code == 404 and errors(r)


def test_cases_outside_public_services_are_hidden(client, world):
    from urbangrid.cases import actions

    lon, lat = world.point(0)
    case = actions.create_case(
        world.collector, source="collector", category=world.cover, description="井盖缺失", lon=lon, lat=lat
    )
    assert client.get(f"{BASE}requests/{case.number}.json").status_code == 404
    assert client.get(f"{BASE}requests.json").json() == []


def test_status_follows_the_case(client, world, key):
    from urbangrid.cases import actions

    number = report(client, world, key)
    case = Case.objects.get(number=number)

    def op(name, who, **data):
        actions.perform(case, name, who, version=case.version, data=data)
        case.refresh_from_db()
        return client.get(f"{BASE}requests/{number}.json").json()[0]

    first = client.get(f"{BASE}requests/{number}.json").json()[0]
    assert first["status"] == "open" and first["agency_responsible"] is None and first["expected_datetime"] is None
    op("send_verify", world.operator)
    op("verify", world.collector, exists=True, photos=[world.photo(world.collector)])
    op("accept", world.operator)
    op("register", world.shift)
    handling = op("dispatch", world.dispatcher, department=world.sanitation.pk)
    assert handling["agency_responsible"] == "环卫部门" and "环卫部门" in handling["status_notes"]
    assert handling["expected_datetime"] == timezone.localtime(case.deadline).isoformat(timespec="seconds")
    assert handling["updated_datetime"] >= first["updated_datetime"]
    op("feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    op("send_check", world.operator)
    op("check_pass", world.collector, photos=[world.photo(world.collector)])
    closed = op("close", world.shift)
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["updated_datetime"] == timezone.localtime(case.closed_at).isoformat(timespec="seconds")
    for record in (first, handling, closed):
        assert all(W3C.match(record[f]) for f in ("requested_datetime", "updated_datetime"))


# --- privacy -----------------------------------------------------------------------------------

PERSONAL = ["Zhang", "Wei", "13812345678", "zhang.wei@example.cn", "device-secret", "account-secret"]


def test_no_personal_data_in_any_public_response(client, world, key):
    from urbangrid.cases import actions

    number = report(
        client,
        world,
        key,
        first_name="Wei",
        last_name="Zhang",
        phone="13812345678",
        email="zhang.wei@example.cn",
        device_id="device-secret",
        account_id="account-secret",
        description="<script>alert(1)</script>垃圾 call 138 1234 5678 or zhang.wei@example.cn",
    )
    case = Case.objects.get(number=number)
    User.objects.filter(pk=world.operator.pk).update(display_name="受理员王芳")
    User.objects.filter(pk=world.collector.pk).update(display_name="监督员李强")
    actions.perform(case, "send_verify", world.operator, version=case.version)
    case.refresh_from_db()
    photo = world.photo(world.collector)
    actions.perform(case, "verify", world.collector, version=case.version, data={"exists": True, "photos": [photo]})
    urls = [
        f"{BASE}requests.{{fmt}}",
        f"{BASE}requests.{{fmt}}?extensions=true",
        f"{BASE}requests/{number}.{{fmt}}?extensions=true",
        f"{BASE}requests.{{fmt}}?service_request_id={number}",
    ]
    staff_names = ["受理员王芳", "监督员李强", "col1"]
    for url in urls:
        for fmt in ("json", "xml"):
            body = client.get(url.format(fmt=fmt)).content.decode()
            for secret in PERSONAL + staff_names:
                assert secret not in body, (url, fmt, secret)
            assert "<script>" not in body and "&lt;script" not in body
    record = client.get(f"{BASE}requests/{number}.json").json()[0]
    assert record["description"].startswith("alert(1)垃圾 call ***")


def test_public_history_with_extensions(client, world, key):
    from urbangrid.cases import actions

    number = report(client, world, key)
    case = Case.objects.get(number=number)
    actions.perform(case, "send_verify", world.operator, version=case.version)
    case.refresh_from_db()
    actions.perform(case, "urge", world.leader, version=case.version, data={"reason": "王局长要求今天处理"})
    plain = client.get(f"{BASE}requests/{number}.json").json()[0]
    assert "extended_attributes" not in plain
    record = client.get(f"{BASE}requests/{number}.json", {"extensions": "true"}).json()[0]
    notes = record["extended_attributes"]["notes"]
    assert [n["type"] for n in notes] == ["report", "send_verify"]  # urging is internal
    assert set(notes[0]) == {"datetime", "type", "stage", "description"}
    assert notes[1]["stage"] == "verifying" and W3C.match(notes[1]["datetime"])
    assert History.objects.filter(action="urge").exists()
    assert "王局长" not in client.get(f"{BASE}requests/{number}.xml", {"extensions": "true"}).content.decode()


def test_chinese_text_round_trips(client, world, key):
    number = report(client, world, key, description="人行道上有大量建筑垃圾，影响通行。")
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}requests/{number}.{fmt}").content.decode("utf-8")
        assert "人行道上有大量建筑垃圾，影响通行。" in body
