"""Hotline intake (candidates, never the first match), dispatch desk (suggestion first,
instructions, time-limit override with reason, select all), merge candidates, close confirmation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cases.test_loop import op, report, to_handling
from urbangrid.cases.models import Case
from urbangrid.geo.geocoding import invalidate_geocoder
from urbangrid.workflow.clock import add_time
from urbangrid.workflow.errors import Invalid
from urbangrid.workflow.models import History


def _landmark(world, name="人民公园", i=1):
    from urbangrid.geo.models import Place

    lon, lat = world.point(i)
    Place.objects.create(kind="landmark", name=name, lon=lon, lat=lat, street=world.street)
    invalidate_geocoder()
    return lon, lat


def _intake_form(world, **extra):
    return {
        "caller_name": "王五",
        "caller_phone": "13700000000",
        "category": world.garbage.pk,
        "description": "垃圾",
        "address": "人民公园",
        **extra,
    }


def test_intake_button_files_a_report_and_page_has_the_map(world, as_user):
    body = as_user(world.operator).get("/intake/").content.decode()
    assert 'data-testid="intake-submit"' in body and "File the report" in body and "Register the case" not in body
    assert 'data-testid="intake-map"' in body and "vendor/leaflet/leaflet.js" in body


def test_intake_never_takes_the_first_match_silently(world, as_user):
    lon, lat = _landmark(world)
    c = as_user(world.operator)
    r = c.post("/intake/", _intake_form(world))
    assert r.status_code == 400 and Case.objects.count() == 0
    body = r.content.decode()
    assert 'data-testid="error-address"' in body and 'data-testid="candidate-pick"' in body
    # choosing a candidate (no JavaScript needed) files the report at that point
    pick = f"{lon:.7f},{lat:.7f}"
    assert f'value="{pick}"' in body
    r = c.post("/intake/", _intake_form(world, pick=pick))
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.state == "reported" and case.unit_grid == world.grids[1]
    assert abs(case.lon - lon) < 1e-6 and abs(case.lat - lat) < 1e-6


def test_intake_pinned_point_is_used_and_unknown_address_asks_for_a_pin(world, as_user):
    c = as_user(world.operator)
    r = c.post("/intake/", _intake_form(world, address="不存在的地方xyz"))
    assert r.status_code == 400 and b'data-testid="candidate-pick"' not in r.content
    lon, lat = world.point(2)
    r = c.post("/intake/", _intake_form(world, address="不存在的地方xyz 北侧", lon=lon, lat=lat))
    assert r.status_code == 302
    assert Case.objects.get().unit_grid == world.grids[2]


def test_intake_geocode_json_lists_all_candidates(world, as_user):
    _landmark(world, "人民公园", 1)
    _landmark(world, "人民公园东门", 2)
    found = as_user(world.operator).get("/intake/geocode.json", {"q": "人民公园"}).json()["results"]
    assert len(found) >= 2


# --- dispatch desk ------------------------------------------------------------------------


def _registered(world, i=0):
    case = report(world, i=i)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    case.refresh_from_db()
    return case


def test_desk_lists_suggested_department_first_with_instructions_and_limit_fields(world, as_user):
    case = _registered(world)
    case.suggested_department = world.municipal
    case.save(update_fields=["suggested_department"])
    body = as_user(world.dispatcher).get("/dispatch/").content.decode()
    select = body[body.index(f'name="department_{case.pk}"') :]
    select = select[: select.index("</select>")]
    first = select[select.index("<option") :]
    assert first.startswith(f'<option value="{world.municipal.pk}" selected>')
    assert f'name="instructions_{case.pk}"' in body
    assert f'name="limit_amount_{case.pk}"' in body and f'name="limit_unit_{case.pk}"' in body
    assert f'name="limit_reason_{case.pk}"' in body
    assert 'data-testid="select-all"' in body and "web/dispatch.js" in body


def test_desk_dispatch_with_instructions_and_time_limit(world, as_user):
    case = _registered(world)
    c = as_user(world.dispatcher)
    data = {
        f"version_{case.pk}": case.version,
        f"department_{case.pk}": world.sanitation.pk,
        f"instructions_{case.pk}": "今天处理完",
        f"limit_amount_{case.pk}": "4",
        f"limit_unit_{case.pk}": "hours",
    }
    # a limit without a reason is refused
    r = c.post("/dispatch/", {**data, "one": case.pk}, follow=True)
    assert Case.objects.get(pk=case.pk).state == "registered" and "msg-error" in r.content.decode()
    r = c.post("/dispatch/", {**data, f"limit_reason_{case.pk}": "领导交办", "one": case.pk}, follow=True)
    case.refresh_from_db()
    assert case.state == "handling" and case.department == world.sanitation
    entry = History.objects.filter(object_id=case.pk, action="dispatch").get()
    assert entry.payload["instructions"] == "今天处理完"
    assert entry.payload["limit_amount"] == "4" and entry.payload["limit_unit"] == "hours"
    assert entry.payload["limit_reason"] == "领导交办"
    expected, _p = add_time(entry.created_at, Decimal(4), "hours")
    assert case.deadline == expected


def test_dispatch_rule_limit_needs_reason_and_default_keeps_category_limit(world):
    case = _registered(world)
    with pytest.raises(Invalid) as exc:
        op(case, "dispatch", world.dispatcher, department=world.sanitation.pk, limit_amount="2")
    assert "limit_reason" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        op(case, "dispatch", world.dispatcher, department=world.sanitation.pk, limit_amount="-1", limit_reason="x")
    assert "limit_amount" in exc.value.fields
    op(case, "dispatch", world.dispatcher, department=world.sanitation.pk)
    entry = History.objects.filter(object_id=case.pk, action="dispatch").get()
    assert "limit_amount" not in entry.payload
    amount, unit = case.stage_limit_amount, case.stage_limit_unit
    assert case.deadline == add_time(entry.created_at, amount, unit)[0]


def test_dispatch_limit_in_working_days_is_shown_in_the_timeline(world, as_user):
    case = _registered(world)
    op(case, "dispatch", world.dispatcher, department=world.sanitation.pk, limit_amount="2", limit_reason="专项整治")
    entry = History.objects.filter(object_id=case.pk, action="dispatch").get()
    assert entry.payload["limit_unit"] == "working_days"
    assert case.deadline == add_time(entry.created_at, Decimal(2), "working_days")[0]
    body = as_user(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert "专项整治" in body


# --- merging -------------------------------------------------------------------------------


def test_case_page_offers_nearby_open_cases_of_the_same_category_to_merge_into(world, as_user):
    near = report(world, i=0)
    far = report(world, i=3)
    other_category = report(world, i=0, category=world.flyer)
    case = report(world, i=0)
    c = as_user(world.operator)
    body = c.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="merge-candidates"' in body and 'data-testid="merge-map"' in body
    section = body[body.index('data-testid="merge-candidates"') :]
    section = section[: section.index("</section>")]
    assert f'data-number="{near.number}"' in section
    assert f'data-number="{other_category.number}"' not in section
    from urbangrid.web.desk import _distance_m

    if _distance_m(case.lon, case.lat, far.lon, far.lat) > 200:
        assert f'data-number="{far.number}"' not in section
    assert f'data-number="{case.number}"' not in section
    assert " m</td>" in section
    # the target is chosen from the list: its form merges into it
    r = c.post(f"/cases/{case.pk}/op/merge/", {"merge-version": case.version, "merge-target": near.number})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "merged" and case.merged_into == near


def test_merge_section_only_when_merging_is_open(world, as_user):
    report(world, i=0)
    case = report(world, i=0)
    body = as_user(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="merge-candidates"' not in body


# --- closing -------------------------------------------------------------------------------


def test_close_asks_for_confirmation_and_version_is_not_shown(world, as_user):
    case = to_handling(world, report(world))
    op(case, "feedback", world.handler, result="ok", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    body = as_user(world.shift).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="op-close"' in body
    assert 'id="confirm-texts"' in body and "data-close=" in body and "web/case_desk.js" in body
    import re

    visible = re.sub(r"<input[^>]*>", "", body)
    assert not re.search(r"(?i)version\s*\d", visible) and f"v{case.version}<" not in visible
