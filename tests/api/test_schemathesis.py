"""Fuzzing the whole REST API with schemathesis (in-process, through the WSGI application).

Every operation of the OpenAPI document gets a bounded number of generated requests, valid and
invalid ones, from a fixed seed (the run is the same every time). They are sent as a city-wide
center user (operator, shift leader, dispatcher and leader) with a Bearer token, on a small world
with cases in several states; `{case_id}` mostly names one of them. Each request runs in a
savepoint that is rolled back, so every example sees the same data. The phases are
schemathesis' own (explicit examples, coverage of boundary and invalid values, then fuzzing with
`EXAMPLES` generated requests per operation). Every answer must be:

- no server error (5xx),
- a status code the document declares for the operation,
- of the declared content type,
- valid against the declared response schema (the error format included).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import user
from urbangrid.api.main import api
from urbangrid.core.models import ApiToken

SEED = 20260523
EXAMPLES = 15

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"deterministic": True, "database": "none", "with-security-parameters": False},
        "phases": {"stateful": {"enabled": False}},
    }
)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)


def _app():
    from urbangrid.wsgi import application  # imported late: pytest-django has set Django up

    return application


class Fuzz:
    """The current test's data, for steering generated requests towards real rows."""

    versions: dict[int, int] = {}  # case id -> version
    departments: list[int] = []
    photos: list[str] = []  # tokens of attachments linked to nothing yet
    attachments: list[str] = []  # tokens of attachments of a case
    points: list[tuple[float, float]] = []


def _pick(seed: object, options: list):
    """One of `options`, chosen from a generated value (deterministic), or None one time in four."""
    n = seed if isinstance(seed, int) and not isinstance(seed, bool) else len(str(seed))
    return None if n % 4 == 3 or not options else options[n % len(options)]


def steer(case) -> None:
    """Most generated requests name real rows and the version read, so that they get past the
    first refusal (not found, stale version) into the domain's checks; the others stay as they
    were generated."""
    params = case.path_parameters or {}
    if "case_id" in params:
        real = _pick(params["case_id"], list(Fuzz.versions))
        if real is not None:
            params["case_id"] = real
    if "token" in params:
        token = _pick(params["token"], Fuzz.attachments)
        if token is not None:
            params["token"] = token
    body = case.body
    if not isinstance(body, dict):
        return
    case_id = params.get("case_id")
    if case_id in Fuzz.versions and isinstance(body.get("version"), int) and body["version"] % 4 != 3:
        body["version"] = Fuzz.versions[case_id]
    for name, rows in (("department", Fuzz.departments), ("target", list(Fuzz.versions))):
        if isinstance(body.get(name), str | int) and not isinstance(body.get(name), bool):
            row = _pick(body[name], rows)
            if row is not None:
                body[name] = str(row)
    if isinstance(body.get("photos"), list) and Fuzz.photos and len(body["photos"]) % 3 != 2:
        body["photos"] = Fuzz.photos[: 1 + len(body["photos"]) % len(Fuzz.photos)]
    if case.operation.label == "POST /api/v1/cases":
        if isinstance(body.get("category"), str) and len(body["category"]) % 4 != 3:
            body["category"] = ("event:0102", "event:0201", "component:0102", "0201")[len(body["category"]) % 4]
        if isinstance(body.get("lon"), float | int) and isinstance(body.get("lat"), float | int):
            point = _pick(int(body["lon"]), Fuzz.points)
            if point is not None:
                body["lon"], body["lat"] = point
                body.pop("crs", None)
        if isinstance(body.get("description"), str) and not body["description"].strip():
            body["description"] += "路边垃圾"


@pytest.fixture
def fuzz_world(world):
    """A small world with cases in several states and a Bearer token of a city-wide center user."""
    from urbangrid.cases import actions
    from urbangrid.cases.models import Source
    from urbangrid.workflow import kit

    staff = user("operator", "shift_leader", "dispatcher", "leader", department=world.center, scope_city=True)
    key = ApiToken.issue(staff, "schemathesis")

    def report(i: int, public: bool = False):
        lon, lat = world.point(i)
        return actions.create_case(
            world.operator if public else world.collector,
            source=Source.HOTLINE if public else Source.COLLECTOR,
            category=f"event:{world.garbage.code}",
            description="路边垃圾",
            lon=lon,
            lat=lat,
            reporter={"name": "张三", "phone": "13800000000"} if public else None,
        )

    steps = [
        ("accept", world.operator, {}),
        ("register", world.shift, {}),
        ("dispatch", world.dispatcher, {"department": world.sanitation.pk}),
        ("feedback", world.handler, {"result": "已清运", "photos": [world.photo(world.handler)]}),
    ]
    cases = []
    for depth in range(len(steps) + 1):
        case = report(depth % 2)
        for name, who, data in steps[:depth]:
            actions.perform(case, name, who, version=case.version, data=data)
            case.refresh_from_db()
        cases.append(case)
    closed = report(1, public=True)
    world.close_public(closed)
    cases.append(closed)
    Fuzz.versions = {c.pk: c.version for c in cases}
    Fuzz.departments = [world.sanitation.pk, world.crew.pk, world.municipal.pk, world.office.pk]
    Fuzz.photos = [world.photo(staff), world.photo(staff)]
    Fuzz.attachments = [a.token for a in kit.attachments_of(cases[-1])]
    Fuzz.points = [world.point(i) for i in range(4)]
    yield {"Authorization": f"Bearer {key}"}
    Fuzz.versions, Fuzz.departments, Fuzz.photos, Fuzz.attachments, Fuzz.points = {}, [], [], [], []


@pytest.fixture
def in_process_requests():
    """Requests go through the WSGI application in the test's own transaction: Django must not
    close the connection at the start and end of each request (as its test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # the fixture's data is made once per operation and each example rolls its changes back
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api(case, fuzz_world, in_process_requests):
    steer(case)
    with transaction.atomic():
        case.call_and_validate(app=_app(), headers=fuzz_world, checks=CHECKS)
        transaction.set_rollback(True)
