"""Hotline intake (candidates on a map, choose or pin) and the dispatch desk (suggestion first,
instructions, time limit, select all) in a real browser; the merge section and the print view."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from tests.factories import World

    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


def login(new_page, user):
    page = new_page()
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    return page


def test_intake_candidates_on_a_map_choose_or_pin(world, new_page, screenshot, axe_check):
    from urbangrid.cases.models import Case
    from urbangrid.geo.geocoding import invalidate_geocoder
    from urbangrid.geo.models import Place

    for i, name in ((1, "人民公园"), (2, "人民公园东门")):
        lon, lat = world.point(i)
        Place.objects.create(kind="landmark", name=name, lon=lon, lat=lat, street=world.street)
    invalidate_geocoder()
    page = login(new_page, world.operator)
    page.goto("/intake/")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_category", str(world.garbage.pk))
    page.fill("#id_description", "公园门口垃圾满溢")
    page.fill("#id_address", "人民公园")
    page.click("[data-testid=geocode]")
    page.wait_for_selector("[data-testid=geocode-choice]")
    assert page.locator("[data-testid=geocode-choice]").count() >= 2
    assert page.locator(".candidate-marker").count() >= 2
    # nothing is chosen for the operator
    assert page.input_value("[name=lon]") == ""
    axe_check(page)
    screenshot(page, "intake-candidates")
    # pin the point by clicking the map
    box = page.locator("#intake-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    assert page.input_value("[name=lon]") != ""
    pinned = page.input_value("[name=lon]")
    screenshot(page, "intake-pinned")
    # or choose a candidate from the list
    page.locator("[data-testid=geocode-choice]").nth(1).click()
    assert page.input_value("[name=lon]") not in ("", pinned)
    assert abs(float(page.input_value("[name=lon]")) - world.point(2)[0]) < 1e-6
    screenshot(page, "intake-chosen")
    with page.expect_navigation():
        page.click("[data-testid=intake-submit]")
    page.wait_for_load_state("networkidle")
    case = Case.objects.get()
    assert case.state == "reported" and case.unit_grid == world.grids[2]
    screenshot(page, "intake-filed")


def test_dispatch_desk_select_all_instructions_and_limit(world, new_page, screenshot, axe_check):
    from tests.cases.test_loop import op, report
    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    cases = []
    for i in range(3):
        case = report(world, i=i)
        op(case, "accept", world.operator)
        op(case, "register", world.shift)
        cases.append(case)
    Case.objects.filter(pk=cases[0].pk).update(suggested_department=world.municipal)
    page = login(new_page, world.dispatcher)
    page.goto("/dispatch/")
    page.wait_for_load_state("networkidle")
    first = page.locator(f"#dept-{cases[0].pk} option").first
    assert first.get_attribute("value") == str(world.municipal.pk)
    assert page.input_value(f"#dept-{cases[0].pk}") == str(world.municipal.pk)
    page.check("[data-testid=select-all]")
    assert page.locator("input.select-case:checked").count() == 3
    page.uncheck(f"#sel-{cases[2].pk}")
    assert page.evaluate("document.getElementById('select-all').indeterminate")
    row = page.locator(f"[data-testid=dispatch-extra][data-number='{cases[1].number}']")
    row.locator("[data-testid=dispatch-more] summary").click()
    page.fill(f"#instr-{cases[1].pk}", "请今天内处理")
    page.fill(f"#limit-{cases[1].pk}", "4")
    page.select_option(f"#unit-{cases[1].pk}", "hours")
    page.fill(f"#reason-{cases[1].pk}", "领导交办")
    axe_check(page)
    screenshot(page, "dispatch-desk")
    with page.expect_navigation():
        page.click("[data-testid=dispatch-batch]")
    page.wait_for_load_state("networkidle")
    states = {c.pk: Case.objects.get(pk=c.pk).state for c in cases}
    assert states == {cases[0].pk: "handling", cases[1].pk: "handling", cases[2].pk: "registered"}
    assert Case.objects.get(pk=cases[0].pk).department == world.municipal
    payload = History.objects.get(object_id=cases[1].pk, action="dispatch").payload
    assert payload["instructions"] == "请今天内处理" and payload["limit_reason"] == "领导交办"
    screenshot(page, "dispatch-done")
    # the dispatch slip, ready to print
    page.goto(f"/cases/{cases[1].pk}/print/slip/")
    page.wait_for_load_state("networkidle")
    assert "请今天内处理" in page.inner_text("[data-testid=print-instructions]")
    screenshot(page, "dispatch-slip")


def test_merge_section_on_the_case_page(world, new_page, screenshot, axe_check):
    from tests.cases.test_loop import report

    near = report(world, i=0)
    case = report(world, i=0)
    page = login(new_page, world.operator)
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"[data-testid=merge-candidate][data-number='{near.number}']").count() == 1
    assert page.locator("#merge-map .merge-marker").count() >= 1
    axe_check(page)
    screenshot(page, "merge-candidates")
    with page.expect_navigation():
        page.locator("[data-testid=merge-into]").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=case-state]", "data-state") == "merged"
