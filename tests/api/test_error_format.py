"""Every answer under /api/v1/ is in the error format, whatever goes wrong before a view runs:
no credentials, an unknown path or method, a body too large or unreadable, text that cannot be
stored. (The schemathesis run in test_schemathesis.py finds these; these tests pin them down.)"""

from __future__ import annotations

import json

import pytest

from urbangrid.api.main import api
from urbangrid.core.middleware import json_has_lone_surrogate
from urbangrid.core.models import ApiToken


def assert_error(res, status: int, code: str | None = None) -> dict:
    assert res.status_code == status, res.content
    assert res["Content-Type"].startswith("application/json"), res["Content-Type"]
    err = res.json()["error"]
    assert set(err) == {"code", "message", "fields"} and err["message"]
    if code:
        assert err["code"] == code
    return err


@pytest.fixture
def bearer(world):
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(world.operator, 'test')}"}


def _operations():
    spec = api.get_openapi_schema()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield method, path, op


@pytest.mark.parametrize(("method", "path", "op"), list(_operations()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_declares_its_errors_and_answers_401_without_credentials(client, world, method, path, op):
    assert {"400", "401", "403", "404", "409", "413", "422"} <= {str(s) for s in op["responses"]}, path
    url = path.replace("{case_id}", "1").replace("{token}", "x")
    res = client.generic(method.upper(), url, "{}", content_type="application/json")
    assert_error(res, 401, "unauthenticated")


def test_unknown_paths_and_methods_answer_in_the_error_format(client, world, bearer):
    assert_error(client.get("/api/v1/nothing/here", **bearer), 404, "not_found")
    assert_error(client.get("/api/v1/cases/-1", **bearer), 404, "not_found")
    assert_error(client.post("/api/v1/nothing", "{}", content_type="application/json"), 404, "not_found")
    res = client.delete("/api/v1/cases", **bearer)
    assert_error(res, 405, "method_not_allowed")
    assert set(res["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert_error(client.get("/api/v1/cases/1/accept", **bearer), 405, "method_not_allowed")


def test_bodies_too_large_or_unreadable_answer_in_the_error_format(client, world, bearer, settings):
    res = client.post("/api/v1/cases/attachments", b"xx", content_type="multipart/form-data", **bearer)
    assert_error(res, 400, "invalid")
    many = "&".join(f"f{i}=1" for i in range(1200))
    res = client.post("/api/v1/cases", many, content_type="application/x-www-form-urlencoded", **bearer)
    assert_error(res, 400, "invalid")
    res = client.post("/api/v1/cases", "{nope", content_type="application/json", **bearer)
    assert_error(res, 400, "invalid")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = json.dumps({"description": "x" * 2000})
    assert_error(client.post("/api/v1/cases", big, content_type="application/json", **bearer), 413, "too_large")


def test_text_that_cannot_be_stored_is_refused(client, world, bearer):
    lon, lat = world.point()
    body = {"category": "event:0102", "description": "\udc00", "lon": lon, "lat": lat}
    res = client.post("/api/v1/cases", json.dumps(body), content_type="application/json", **bearer)
    assert_error(res, 400, "invalid")
    body["channel"] = {"note": "\ud800"}
    body["description"] = "ok"
    res = client.post("/api/v1/cases", json.dumps(body), content_type="application/json", **bearer)
    assert_error(res, 400, "invalid")
    body["channel"] = {"note": "😀"}  # a surrogate pair, escaped by json.dumps: fine
    res = client.post("/api/v1/cases", json.dumps(body), content_type="application/json", **bearer)
    assert res.status_code == 201, res.content


def test_lone_surrogate_detection():
    assert json_has_lone_surrogate(b'{"a": "\\udc00"}') and json_has_lone_surrogate(b'[{"\\uD800x": 1}]')
    assert not json_has_lone_surrogate(b'{"a": "\\ud83d\\ude00"}')  # a pair
    assert not json_has_lone_surrogate(b'{"a": "\\\\ud800"}')  # an escaped backslash, then text
    assert not json_has_lone_surrogate(b'{"a": "\\ud800')  # unparseable: left to the view


def test_basically_satisfied_return_visit(client, world):
    """Found by the fuzzer: counter names longer than their column were a 500 on PostgreSQL."""
    from urbangrid.cases import actions

    lon, lat = world.point()
    case = actions.create_case(
        world.operator, source="hotline", category="event:0102", description="垃圾", lon=lon, lat=lat,
        reporter={"name": "张三", "phone": "13800000000"},
    )
    world.close_public(case)
    case.refresh_from_db()
    client.force_login(world.operator)
    body = {"version": case.version, "outcome": "basically_satisfied"}
    res = client.post(f"/api/v1/return-visits/{case.pk}", json.dumps(body), content_type="application/json")
    assert res.status_code == 200, res.content
