"""Bad input found by the outside review answers a clear 4xx in the API's format and changes nothing."""

from __future__ import annotations

import pytest

from urbangrid.cases.models import Case
from urbangrid.workflow.models import History

from .test_api import create, post


@pytest.mark.parametrize(
    "query",
    [
        "department=-1365427226539122713690112",
        "category=" + "9" * 30,
        "category=²",
        "cursor=²",
        "cursor=" + "9" * 40,
        "grid=%00",
    ],
)
def test_list_filters_answer_400_not_500(api, world, query):
    res = api(world.operator).get(f"/api/v1/cases?{query}")
    assert res.status_code == 400, (query, res.content)
    body = res.json()["error"]
    assert body["code"] == "invalid" and body["message"]


@pytest.mark.parametrize("query", ["created_to=0001-01-01", "created_from=9999-12-31T23:59:59%2B14:00"])
def test_extreme_valid_dates_select_nothing(api, world, query):
    create(api, world)
    res = api(world.operator).get(f"/api/v1/cases?{query}")
    assert res.status_code == 200 and res.json()["items"] == []


@pytest.mark.parametrize("target", ["²", "9" * 40, "-1", " "])
def test_merge_with_a_strange_target_is_a_400(api, world, target):
    case_id = create(api, world).json()["id"]
    before = History.objects.count()
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/merge", {"version": 1, "target": target})
    assert res.status_code == 400, res.content
    assert "target" in res.json()["error"]["fields"]
    assert History.objects.count() == before and Case.objects.get(pk=case_id).state == "reported"


def test_a_citizen_cannot_claim_to_be_a_collector(api, world):
    from tests.factories import user

    citizen = user("citizen")
    res = create(api, world, who=citizen, source="collector")
    assert res.status_code == 403 and res.json()["error"]["fields"] == {"source": "Not allowed for your role."}
    assert not Case.objects.exists()
    res = create(api, world, who=citizen, source=None)
    assert res.status_code == 201 and res.json()["source"] == "citizen"
    collector_case = create(api, world, source=None).json()
    assert collector_case["source"] == "collector"
    hotline = create(api, world, who=world.operator, source="hotline").json()
    assert hotline["source"] == "hotline"


def test_an_operation_body_with_unknown_fields_is_refused(api, world):
    case_id = create(api, world).json()["id"]
    res = post(api(world.operator), f"/api/v1/cases/{case_id}/accept", {"version": 1, "department": 3})
    assert res.status_code == 400 and "department" in res.json()["error"]["fields"]


def test_a_category_id_of_four_digits_is_an_id_not_a_code(world):
    """Ids grow past 999 in a real database; digits without a leading zero are an id when one exists."""
    from urbangrid.cases.actions import resolve_category
    from urbangrid.cases.filters import filter_cases
    from urbangrid.catalog.models import Category

    big = Category.objects.create(
        pk=1021, kind="event", code="0999", name="测试类", parent=world.garbage.parent, handle_unit="working_days"
    )
    assert resolve_category("1021") == big and resolve_category("0999") == big
    assert list(filter_cases(world.operator, {"category": "1021"})) == []  # resolves, selects nothing
