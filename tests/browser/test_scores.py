"""The monthly scores page (月度考核) in a real browser, under the strict CSP: a leader opens it
from the navigation at desktop width and at 375 px, opens a term breakdown, publishes the month
through the confirmation step and sees the published badge. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_dashboard import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from django.contrib.contenttypes.models import ContentType

    from tests.factories import World
    from urbangrid.evaluation import facts

    ContentType.objects.clear_cache()
    facts.case_content_type_id.cache_clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


def last_month() -> str:
    from django.utils import timezone

    first = timezone.localdate().replace(day=1)
    prev = first - dt.timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def cases_in(world, period: str) -> None:
    """Two collector reports in the month, dispatched to sanitation: one closed, one left open."""
    from tests.evaluation.test_indicators import finish
    from tests.factories import act, report_at

    y, m = map(int, period.split("-"))
    for day, close in ((3, True), (4, False)):
        when = dt.datetime(y, m, day, 2, 0, tzinfo=dt.UTC)  # 10:00 local
        case = report_at(world, when)
        act(case, "accept", world.operator, when + dt.timedelta(minutes=10))
        act(case, "register", world.shift, when + dt.timedelta(minutes=20))
        act(case, "dispatch", world.dispatcher, when + dt.timedelta(minutes=30), department=world.sanitation.pk)
        if close:
            finish(world, case, when + dt.timedelta(hours=2))


def test_leader_publishes_a_month(world, new_page, screenshot, axe_check):
    import importlib

    from urbangrid.evaluation.models import PublishedMonth, ScoringRule, ScoringTerm

    # a transactional test's flush removed the rules migration 0005 ships: install them again
    shipped = importlib.import_module("urbangrid.evaluation.migrations.0005_default_scoring_rules")
    shipped.install(ScoringRule, ScoringTerm)
    period = last_month()
    cases_in(world, period)

    page = new_page()
    sign_in(page, world.leader)
    page.click("[data-testid=nav-scores]")
    page.wait_for_selector("[data-testid=scores-table]")
    page.fill("[data-testid=scores-period]", period)
    page.select_option("[data-testid=scores-type]", "department")
    with page.expect_navigation():
        page.click("[data-testid=scores-form] button[type=submit]")
    assert page.locator("[data-testid=scores-not-published]").is_visible()
    row = page.locator("[data-testid=scores-row-HW]")
    assert row.locator("[data-testid=rank]").inner_text().strip() != ""
    terms = page.locator("[data-testid=scores-terms-HW]")
    terms.locator("details summary").click()
    assert terms.locator(".sc-term-table tbody tr").count() == 5  # the default department rule's terms
    screenshot(page, "desktop")
    axe_check(page)

    # publish through the confirmation step
    with page.expect_navigation():
        page.click("[data-testid=scores-publish]")
    assert page.locator("[data-testid=publish-period]").inner_text() == period
    screenshot(page, "confirm")
    with page.expect_navigation():
        page.click("[data-testid=publish-confirm]")
    page.wait_for_selector("[data-testid=scores-published]")
    assert page.locator("[data-testid=scores-correct]").is_visible()
    assert page.locator("[data-testid=scores-publish]").count() == 0
    screenshot(page, "published")
    assert PublishedMonth.objects.filter(period=period, object_type="department", version=1).exists()

    # the phone width: no horizontal overflow of the page itself, the table scrolls in its box
    phone = new_page((375, 812))
    sign_in(phone, world.leader)
    phone.goto(f"/evaluation/scores/?period={period}&type=department")
    phone.wait_for_selector("[data-testid=scores-published]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    phone.locator("[data-testid=scores-terms-HW] details summary").click()
    screenshot(phone, "phone")
    axe_check(phone)
