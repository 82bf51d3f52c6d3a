"""Live work in a real browser: a collector's to-do page shows the check task the operator sends
from another browser, within 10 seconds and without a reload; the header badge counts it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from tests.factories import World

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.URBANGRID_NOTIFY_SENDERS = ["log"]
    return World()


def login(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def case_in_feedback(world):
    from urbangrid.cases import actions

    lon, lat = world.point(0)
    case = actions.create_case(
        world.collector,
        source="collector",
        category=world.garbage,
        description="人行道上有一堆建筑垃圾",
        lon=lon,
        lat=lat,
        photos=[world.photo(world.collector)],
    )
    steps = [
        ("accept", world.operator, {}),
        ("register", world.shift, {}),
        ("dispatch", world.dispatcher, {"department": world.sanitation.pk}),
        ("feedback", world.handler, {"result": "已清运", "photos": [world.photo(world.handler)]}),
    ]
    for name, who, data in steps:
        actions.perform(case, name, who, version=case.version, data=data)
    return case


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_check_task_arrives_without_reload(world, new_page, screenshot, axe_check, viewport):
    case = case_in_feedback(world)

    collector = new_page(viewport)
    login(collector, world.collector)
    collector.goto("/todo/")
    collector.wait_for_selector("[data-testid=live-count]", state="visible")  # the first poll answered
    assert collector.locator("[data-testid=live-count]").inner_text() == "0"
    assert collector.locator(f"[data-testid=case-row][data-number='{case.number}']").count() == 0
    collector.evaluate("() => { window.__notReloaded = true; }")
    screenshot(collector, "collector-todo-before")

    operator = new_page(DESKTOP)
    login(operator, world.operator)
    operator.goto(f"/cases/{case.pk}/")
    op = operator.locator("[data-testid=op-send_check]")
    opener = op.locator("[data-testid=open-send_check]")
    if opener.count() and not op.locator("details").evaluate("d => d.open"):
        opener.click()
    with operator.expect_navigation():
        op.locator("[data-testid=submit-send_check]").click()
    assert operator.get_attribute("[data-testid=case-state]", "data-state") == "checking"
    screenshot(operator, "operator-sent-check")

    row = collector.locator(f"[data-testid=case-row][data-number='{case.number}']")
    row.wait_for(state="visible", timeout=10_000)  # polled every 5 s
    collector.wait_for_function(
        "() => document.querySelector('[data-testid=live-count]').textContent === '1'", timeout=10_000
    )
    assert collector.evaluate("() => window.__notReloaded === true")  # updated in place
    assert collector.locator("[data-testid=live-unread-count]").inner_text() == "1"
    assert collector.locator("[data-testid=count-total]").inner_text() == "1"  # the page's counts too
    assert collector.title().startswith("(1) ")
    axe_check(collector)
    screenshot(collector, "collector-todo-after")

    # the badge's panel: the checking bucket and the new message, linking to the case
    collector.click("[data-testid=live] summary")
    buckets = collector.locator("[data-testid=live-buckets] a")
    assert buckets.count() == 1 and buckets.first.get_attribute("href") == "/todo/?state=checking"
    note = collector.locator("[data-testid=live-notes] a").first
    assert note.get_attribute("href") == f"/cases/{case.pk}/" and case.number in note.inner_text()
    sound = collector.locator("[data-testid=live-sound]")
    assert sound.get_attribute("aria-pressed") == "false"
    sound.click()
    assert sound.get_attribute("aria-pressed") == "true"
    assert collector.evaluate("() => localStorage.getItem('urbangrid.live.sound')") == "1"
    axe_check(collector)
    screenshot(collector, "collector-badge-open")

    # opening the case marks its message read
    with collector.expect_navigation():
        note.click()
    collector.wait_for_function(
        "() => { const u = document.querySelector('[data-testid=live-unread]'); return u && u.hidden; }",
        timeout=10_000,
    )
    if viewport == PHONE:  # the phone app shows the badge too
        collector.goto("/m/")
        badge = collector.locator("[data-testid=live-badge]")
        badge.wait_for(state="visible", timeout=10_000)
        assert badge.locator("[data-testid=live-count]").inner_text() == "1"
        screenshot(collector, "collector-phone-app-badge")
