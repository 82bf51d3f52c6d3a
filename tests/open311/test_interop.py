"""The `georeport` client (PyPI) against a live server; every record checked against the spec."""

from __future__ import annotations

import re

import pytest
import requests
from georeport import GeoReport

from .conftest import jpeg_with_exif

W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
SERVICE = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE = {"variable", "code", "datatype", "required", "datatype_description", "order", "description"}
REQUEST = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def as_list(value) -> list:
    """xmltodict turns a single repeated element into an object; clients compensate like this."""
    return value if isinstance(value, list) else [value]


def check_service(s: dict, xml: bool) -> None:
    assert set(s) == SERVICE
    assert s["service_code"] and s["service_name"]
    assert s["type"] in ("realtime", "batch", "blackbox")
    if xml:
        assert s["metadata"] in ("true", "false")
    else:
        assert isinstance(s["metadata"], bool) and isinstance(s["service_code"], str)
        assert all(isinstance(s[k], str) for k in ("description", "keywords", "group"))


def check_definition(d: dict, xml: bool) -> None:
    assert set(d) == {"service_code", "attributes"}
    attrs = as_list(d["attributes"]["attribute"]) if xml else d["attributes"]
    orders = []
    for a in attrs:
        assert ATTRIBUTE <= set(a) <= ATTRIBUTE | {"values"}
        lists = a["datatype"] in ("singlevaluelist", "multivaluelist")
        assert a["datatype"] in ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
        assert ("values" in a) == lists
        if lists:
            values = as_list(a["values"]["value"]) if xml else a["values"]
            assert values and all(set(v) == {"key", "name"} for v in values)
            assert len({v["key"] for v in values}) == len(values)
        if not xml:
            assert isinstance(a["variable"], bool) and isinstance(a["required"], bool) and isinstance(a["order"], int)
        orders.append(int(a["order"]))
    assert len(set(orders)) == len(orders) and min(orders) >= 1


def check_request(r: dict, xml: bool) -> None:
    assert set(r) == REQUEST
    assert r["status"] in ("open", "closed")
    assert W3C.match(r["requested_datetime"]) and W3C.match(r["updated_datetime"])
    assert r["expected_datetime"] is None or W3C.match(r["expected_datetime"])
    if xml:
        float(r["lat"]), float(r["long"])
    else:
        assert isinstance(r["service_request_id"], str) and isinstance(r["service_code"], str)
        assert isinstance(r["lat"], float) and isinstance(r["long"], float)
        for k in REQUEST - {"lat", "long"}:
            assert r[k] is None or isinstance(r[k], str), k
    for secret in ("Wei", "13812345678", "wei@example.cn", "dev-77"):
        assert secret not in str(r)


@pytest.fixture
def server(live_server, transactional_db, world, key):
    from urbangrid.open311.models import AttributeValue, Datatype, Service, ServiceAttribute

    svc = Service.objects.create(category=world.garbage, keywords="垃圾")
    for order, dt in enumerate(Datatype.values, start=1):
        attr = ServiceAttribute.objects.create(
            service=svc, code=f"q{order}", datatype=dt, order=order, description=f"问题{order}"
        )
        if dt in ("singlevaluelist", "multivaluelist"):
            AttributeValue.objects.create(attribute=attr, key="a", name="甲")
    base = f"{live_server.url}/open311/v2"
    ids = []
    for i, fmt in enumerate(("json", "xml", "json")):
        lon, lat = world.point(i)
        data = {
            "api_key": key,
            "jurisdiction_id": "330483",
            "service_code": "0102",
            "lat": lat,
            "long": lon,
            "description": f"第{i}处垃圾",
            "first_name": "Wei",
            "phone": "13812345678",
            "email": "wei@example.cn",
            "device_id": "dev-77",
            "attribute[q5]": "a",
        }
        files = {"media": ("p.jpg", jpeg_with_exif(), "image/jpeg")} if i == 0 else None
        r = requests.post(f"{base}/requests.{fmt}", data=data, files=files, timeout=10)
        assert r.status_code == 200, r.text
        ids.append(
            r.json()[0]["service_request_id"] if fmt == "json" else re.search(r"<service_request_id>(\d+)<", r.text)[1]
        )
    return base, ids


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client(server, fmt):
    base, ids = server
    client = GeoReport(base, jurisdiction="330483", output_format=fmt)
    xml = fmt == "xml"
    services = as_list(client.get_service_list())
    assert [s["service_code"] for s in services] == ["0102", "0201"]
    for s in services:
        check_service(s, xml)
    definition = client.get_service_definition("0102")
    check_definition(definition, xml)
    found = as_list(client.get_service_requests())
    assert [r["service_request_id"] for r in found] == ids[::-1]
    for r in found:
        check_request(r, xml)
    some = as_list(client.get_service_requests(service_request_id=",".join(ids[:2])))
    assert sorted(r["service_request_id"] for r in some) == sorted(ids[:2])
    if not xml:  # the client cannot read an empty XML list (`<service_requests/>` parses to None)
        assert client.get_service_requests(status="closed") == []
    assert len(as_list(client.get_service_requests(service_code="0102", status="open"))) == 3
    one = client.get_service_request(ids[0])
    check_request(one, xml)
    assert one["service_request_id"] == ids[0] and one["media_url"].startswith(base + "/media/")
    photo = requests.get(one["media_url"], timeout=10)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert b"SecretCamMaker" not in photo.content


def test_error_bodies_over_http(server):
    base, _ids = server
    client = GeoReport(base, jurisdiction="elsewhere.gov")
    with pytest.raises(requests.HTTPError) as exc:
        client.get_service_list()
    assert exc.value.response.status_code == 404
    assert exc.value.response.json()[0]["code"] == 404
    r = requests.post(f"{base}/requests.xml", data={"service_code": "0102"}, timeout=10)
    assert r.status_code == 403 and r.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "<errors><error><code>403</code>" in r.text
