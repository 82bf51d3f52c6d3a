"""The dashboard and the big screen in a real browser, under the strict CSP: drill-down from the
city to a street and its community with ECharts drawn; the 1920×1080 screen updating itself
(polling, no reload) when a new case is reported. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from django.contrib.contenttypes.models import ContentType

    from tests.factories import World
    from urbangrid.evaluation import facts

    # a transactional test's flush recreates content types: forget the ids cached by an earlier test
    ContentType.objects.clear_cache()
    facts.case_content_type_id.cache_clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.URBANGRID_DASHBOARD_CACHE_SECONDS = 0
    return World()


def sign_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def report(world, when, i=0, by=None):
    from urbangrid.cases import actions

    lon, lat = world.point(i)
    who = by or world.collector
    return actions.create_case(
        who,
        source="collector",
        category=world.garbage,
        description="路边有垃圾堆",
        lon=lon,
        lat=lat,
        photos=[world.photo(who)],
        now=when,
        reporter={"phone": "13800000000"},
    )


def test_dashboard_drill_down(world, new_page, screenshot, axe_check):
    from django.utils import timezone

    now = timezone.now()
    for i in range(3):
        report(world, now - dt.timedelta(hours=i), i=i)
    page = new_page((1600, 1000))
    sign_in(page, world.leader)
    page.click("[data-testid=nav-dashboard]")
    page.wait_for_selector("#dashboard[data-ready='1']")
    assert page.locator("[data-testid=kpi-collected-value]").inner_text() == "3"
    assert page.locator("#chart-trend canvas").count() == 1
    # the department evaluation is the stored one (evaluation/stored.py), and says of when
    assert page.locator("[data-testid=evaluated-at]").inner_text().startswith("考评指标截至")
    screenshot(page, "city")
    axe_check(page)
    page.click("[data-testid=drill-330483001]")
    page.wait_for_selector("#dashboard[data-ready='1']")
    assert page.locator("[data-testid=crumb-current]").inner_text() == "梧桐街道"
    screenshot(page, "street")
    page.click("[data-testid=drill-330483001001]")
    page.wait_for_selector("#dashboard[data-ready='1']")
    assert page.locator("[data-testid=crumb-current]").inner_text() == "庆丰社区"
    assert page.locator("[data-testid=child-WG1-collected]").inner_text() == "2"
    screenshot(page, "community")
    # a number leads to the cases behind it
    with page.expect_navigation():
        page.click("[data-testid=child-WG1-collected]")
    assert page.locator("table tbody tr").count() == 2
    screenshot(page, "cases-of-wg1")


def test_big_screen_updates_itself(world, new_page, screenshot):
    from django.utils import timezone

    first = report(world, timezone.now() - dt.timedelta(minutes=5))
    page = new_page((1920, 1080))
    sign_in(page, world.leader)
    page.goto("/dashboard/screen/")
    page.wait_for_selector("#screen[data-ready='1']")
    page.evaluate("() => { window.__notReloaded = true; }")
    page.wait_for_function("() => document.querySelector('[data-testid=today-collected]').textContent === '1'")
    page.wait_for_function(f"() => document.querySelector('#screen').dataset.lastCase === '{first.pk}'")
    page.wait_for_selector("#screen[data-density-max='1']")
    page.wait_for_selector("#screen[data-collectors='1']")
    screenshot(page, "screen-before")
    newer = report(world, timezone.now(), i=2, by=world.collector2)
    page.wait_for_selector(f"[data-testid=feed] li[data-case-id='{newer.pk}']", timeout=20_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=today-collected]').textContent === '2'", timeout=20_000
    )
    assert page.evaluate("() => window.__notReloaded === true")
    assert page.locator("[data-testid=feed] li").count() == 2
    assert page.locator("#scr-chart-depts canvas").count() == 1
    screenshot(page, "screen-after-new-case")
