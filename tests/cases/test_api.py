"""The cases REST API: create, operate, read with history, list with filters; every refusal."""

from __future__ import annotations

import json

import pytest

from tests.factories import PNG_1PX
from urbangrid.cases.models import Case, State
from urbangrid.core.models import ApiToken


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def create(api, world, who=None, **extra):
    lon, lat = world.point()
    body = {"source": "collector", "category": "event:0102", "description": "路边垃圾", "lon": lon, "lat": lat, **extra}
    return post(api(who or world.collector), "/api/v1/cases", body)


def test_create_and_read_with_history(api, world):
    res = create(api, world)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["state"] == State.REPORTED and body["unit_grid"] == world.grids[0].code and body["version"] == 1
    assert isinstance(body["id"], str)
    detail = api(world.operator).get(f"/api/v1/cases/{body['id']}").json()
    assert [h["action"] for h in detail["history"]] == ["report"]
    assert "accept" in detail["operations"] and "reject" in detail["operations"]


def test_operations_drive_the_loop(api, world):
    case_id = create(api, world).json()["id"]
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/accept", {"version": 1})
    assert res.status_code == 200 and res.json()["state"] == State.ACCEPTED
    res = post(api(world.shift), f"/api/v1/cases/{case_id}/register", {"version": 2, "urgency": "urgent"})
    assert res.json()["urgency"] == "urgent"
    res = post(
        api(world.dispatcher),
        f"/api/v1/cases/{case_id}/dispatch",
        {"version": 3, "department": str(world.sanitation.pk)},
    )
    assert res.status_code == 200 and res.json()["department"]["name"] == "环卫部门"
    up = api(world.handler).post("/api/v1/cases/attachments", {"file": _file()})
    assert up.status_code == 201
    res = post(
        api(world.handler),
        f"/api/v1/cases/{case_id}/feedback",
        {"version": 4, "result": "已清理", "photos": [up.json()["id"]]},
    )
    assert res.status_code == 200 and res.json()["state"] == State.FEEDBACK


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("after.png", PNG_1PX, content_type="image/png")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"category": "event:9999"}, 400, "invalid", "category"),
        ({"category": "0102"}, 400, "invalid", "category"),  # ambiguous: component and event
        ({"lon": 121.9, "lat": 31.9}, 422, "outside_jurisdiction", "lon"),
        ({"crs": "MARS"}, 400, "invalid", "crs"),
        ({"lon": "east"}, 400, "invalid", "lon"),
        ({"source": "pigeon"}, 400, "invalid", "source"),
    ],
)
def test_bad_create_is_refused_in_the_error_format(api, world, body, status, code, field):
    res = create(api, world, **body)
    assert res.status_code == status, res.content
    err = res.json()["error"]
    assert err["code"] == code and err["message"] and field in err["fields"]
    assert Case.objects.count() == 0


def test_refusals_map_to_statuses_and_change_nothing(api, world):
    case_id = create(api, world).json()["id"]
    # outside the user's scope: the case does not exist for them
    res = post(api(world.handler), f"/api/v1/cases/{case_id}/accept", {"version": 1})
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    # in scope, wrong role
    res = post(api(world.shift), f"/api/v1/cases/{case_id}/accept", {"version": 1})
    assert res.status_code == 403 and res.json()["error"]["code"] == "not_allowed"
    # wrong state
    res = post(api(world.shift), f"/api/v1/cases/{case_id}/close", {"version": 1})
    assert res.status_code == 409 and res.json()["error"]["code"] == "wrong_state"
    # missing reason
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/reject", {"version": 1})
    assert res.status_code == 400 and "reason" in res.json()["error"]["fields"]
    # stale version
    post(api(world.operator), f"/api/v1/cases/{case_id}/accept", {"version": 1})
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/reject", {"version": 1, "reason": "x"})
    assert res.status_code == 409 and res.json()["error"]["code"] == "conflict"
    # unknown operation, missing version
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/teleport", {"version": 2})
    assert res.status_code == 404 and res.json()["error"]["fields"] == {"operation": "Unknown operation."}
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/accept", {})
    assert res.status_code == 400 and "version" in res.json()["error"]["fields"]
    assert Case.objects.get(pk=case_id).state == State.ACCEPTED


def test_scope_hides_other_departments_cases(api, world):
    case_id = create(api, world).json()["id"]
    assert api(world.handler).get(f"/api/v1/cases/{case_id}").status_code == 404
    assert api(world.handler).get("/api/v1/cases").json()["items"] == []
    assert api(world.collector2).get(f"/api/v1/cases/{case_id}").status_code == 404
    assert api(world.collector).get(f"/api/v1/cases/{case_id}").status_code == 200


def test_reporter_data_only_for_center_staff(api, world):
    lon, lat = world.point()
    res = post(
        api(world.operator),
        "/api/v1/cases",
        {
            "source": "hotline",
            "category": "event:0102",
            "description": "垃圾",
            "lon": lon,
            "lat": lat,
            "reporter": {"name": "张三", "phone": "13800000000"},
        },
    )
    case = Case.objects.get(pk=res.json()["id"])
    assert res.json()["reporter"]["phone"] == "13800000000"
    case.department = world.sanitation
    Case.objects.filter(pk=case.pk).update(department=world.sanitation)
    body = api(world.handler).get(f"/api/v1/cases/{case.pk}").json()
    assert "reporter" not in body or body["reporter"] is None
    assert "13800000000" not in json.dumps(body)


def test_list_filters_and_cursor_pagination(api, world):
    ids = [create(api, world).json()["id"] for _ in range(5)]
    client = api(world.operator)
    page1 = client.get("/api/v1/cases", {"limit": 2}).json()
    assert [c["id"] for c in page1["items"]] == ids[::-1][:2]
    page2 = client.get("/api/v1/cases", {"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert [c["id"] for c in page2["items"]] == ids[::-1][2:4]
    post(client, f"/api/v1/cases/{ids[0]}/accept", {"version": 1})
    assert [c["id"] for c in client.get("/api/v1/cases", {"state": "accepted"}).json()["items"]] == [ids[0]]
    assert len(client.get("/api/v1/cases", {"mine": True}).json()["items"]) == 4
    assert client.get("/api/v1/cases", {"grid": world.grids[1].code}).json()["items"] == []
    assert client.get("/api/v1/cases", {"cursor": "abc"}).status_code == 400


def test_token_authentication_and_unauthenticated(client, world):
    lon, lat = world.point()
    body = {"source": "video", "category": "event:0102", "description": "视频发现垃圾", "lon": lon, "lat": lat}
    res = post(client, "/api/v1/cases", body)
    assert res.status_code == 401 and res.json()["error"]["code"] == "unauthenticated"
    key = ApiToken.issue(world.operator, "video platform")
    res = client.post(
        "/api/v1/cases", data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert res.status_code == 201
    res = client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer wrong")
    assert res.status_code == 401


def test_upload_rejects_non_images(api, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    res = api(world.collector).post("/api/v1/cases/attachments", {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00")})
    assert res.status_code == 400 and "file" in res.json()["error"]["fields"]


@pytest.mark.django_db
def test_openapi_has_one_path_and_one_schema_per_operation(client):
    from urbangrid.cases.loop import URBAN_LOOP

    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases/{case_id}/{operation}" not in spec["paths"]
    schemas = spec["components"]["schemas"]
    for t in URBAN_LOOP.operations():
        post = spec["paths"][f"/api/v1/cases/{{case_id}}/{t.name}"]["post"]
        assert post["operationId"] == f"case_{t.name}"
        assert set(post["responses"]) >= {"200", "400", "403", "404", "409", "422"}
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        body = schemas[ref]
        assert set(body["properties"]) == {"version", *(i.name for i in t.inputs)}, t.name
        assert set(body.get("required", [])) == {"version", *(i.name for i in t.inputs if i.required)}, t.name
        assert body["additionalProperties"] is False
    assert "auto_dispatch" not in {p.rsplit("/", 1)[-1] for p in spec["paths"]}  # system steps are not offered
    dispatch = schemas["UrbanCaseDispatchIn"]["properties"]
    assert "department" in dispatch and "instructions" in dispatch and "amount" not in dispatch
    errors = spec["components"]["schemas"]["ErrorOut"]
    assert errors["properties"]["error"]["$ref"].endswith("ErrorDetail")


def test_messages_are_chinese_by_default_and_english_on_request(api, world, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    case_id = create(api, world).json()["id"]
    res = post(api(world.shift), f"/api/v1/cases/{case_id}/close", {"version": 1})
    assert "不能执行" in res.json()["error"]["message"]
    res = api(world.shift).post(
        f"/api/v1/cases/{case_id}/close",
        data=json.dumps({"version": 1}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "not possible" in res.json()["error"]["message"]


def test_photos_are_served_only_within_scope(api, world):
    lon, lat = world.point()
    token = world.photo(world.collector)
    body = {
        "source": "collector",
        "category": "event:0102",
        "description": "垃圾",
        "lon": lon,
        "lat": lat,
        "photos": [token],
    }
    case_id = post(api(world.collector), "/api/v1/cases", body).json()["id"]
    url = api(world.operator).get(f"/api/v1/cases/{case_id}").json()["attachments"][0]["url"]
    assert url == f"/api/v1/cases/attachments/{token}"
    res = api(world.operator).get(url)
    assert res.status_code == 200 and b"".join(res.streaming_content).startswith(b"\x89PNG")
    assert api(world.other_handler).get(url).status_code == 404
    assert api(world.collector2).get(url).status_code == 404
