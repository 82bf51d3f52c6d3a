"""axe-core on every staff and phone page (both languages), keyboard use and the lock-out page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_case_loop import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from tests.cases.test_loop import op, report
    from tests.factories import World

    settings.MEDIA_ROOT = tmp_path / "media"
    w = World()
    waiting = report(w)
    op(waiting, "accept", w.operator)
    op(waiting, "register", w.shift)
    report(w, i=2)
    return w


def sign_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.press("#id_password", "Enter")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_staff_pages(world, new_page, axe_check, screenshot, language):
    from urbangrid.cases.models import Case

    case = Case.objects.order_by("pk").first()
    for user, urls in (
        (world.operator, ["/todo/", "/done/", "/cases/?state=reported", "/password/", "/intake/", "/map/"]),
        (world.dispatcher, ["/todo/", "/dispatch/", f"/cases/{case.pk}/"]),
        (world.leader, ["/cases/", f"/cases/{case.pk}/"]),
    ):
        page = new_page()
        sign_in(page, user)
        if language == "en":
            page.select_option("[data-testid=language]", "en")
            with page.expect_navigation():
                page.click("[data-testid=language-submit]")
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            axe_check(page)
            screenshot(page, f"{user.username}-{url.strip('/').replace('/', '-').replace('?', '-') or 'home'}")


def test_phone_pages(world, new_page, axe_check, screenshot):
    lon, lat = world.point(0)
    page = new_page(PHONE, geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    sign_in(page, world.collector)
    from urbangrid.cases.models import Case

    for url in ["/m/", "/m/report/", f"/m/cases/{Case.objects.order_by('pk').first().pk}/"]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        axe_check(page)
        screenshot(page, url.strip("/").replace("/", "-"))
    # one-handed: the report button is in the bottom bar, at least 48 px high, within 375 px
    box = page.locator("[data-testid=m-report]").bounding_box()
    assert box["height"] >= 48 and box["x"] + box["width"] <= 375


def test_keyboard_only_sign_in_and_skip_link(world, new_page):
    page = new_page()
    page.goto("/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#id_username")
    page.keyboard.type(world.operator.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/todo/")


def test_lockout_page(world, new_page, axe_check, screenshot, settings):
    page = new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/login/")
        page.fill("#id_username", world.operator.username)
        page.fill("#id_password", "wrong-password")
        with page.expect_navigation():
            page.click("[data-testid=login-submit]")
    page.goto("/login/")
    page.fill("#id_username", world.operator.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    assert page.locator("[data-testid=locked]").count() == 1
    axe_check(page)
    screenshot(page, "locked")
