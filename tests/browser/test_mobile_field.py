"""The phone app at 375 px for field roles: a department handler signs for a task and reports the
fix with a photo; a collector reports through the category picker (cascade and search) with a
photo preview and sees the warning when the pin lies outside the work grids. Screenshots go to
test-artifacts/; every page is checked with axe-core and under the strict CSP."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from tests.factories import World
    from urbangrid.catalog.models import CategorySynonym
    from urbangrid.core.cache import clear_all

    settings.MEDIA_ROOT = tmp_path / "media"
    clear_all()
    w = World()
    CategorySynonym.objects.create(category=w.cover, name="不明井盖")
    return w


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "after.png"
    Image.new("RGB", (640, 480), "#81c784").save(path)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    out = []
    for i, colour in enumerate(("#8d6e63", "#64b5f6")):
        path = tmp_path / f"p{i}.png"
        Image.new("RGB", (640, 480), colour).save(path)
        out.append(path)
    return out


def login(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_handler_signs_and_reports_the_fix_on_the_phone(world, new_page, screenshot, axe_check, photo):
    from tests.cases.test_loop import report, to_handling
    from urbangrid.cases.models import Case
    from urbangrid.workflow import kit

    case = to_handling(world, report(world))
    page = new_page(PHONE)
    login(page, world.handler)
    page.goto("/m/")
    page.wait_for_load_state("networkidle")
    axe_check(page)
    no_horizontal_scroll(page)
    screenshot(page, "handler-todo")
    assert page.locator("[data-testid=m-report]").count() == 0
    with page.expect_navigation():
        page.click(f"[data-testid=task][data-number='{case.number}']")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=photos-before] [data-testid=photo-before]").count() == 1
    axe_check(page)
    screenshot(page, "handler-case")

    with page.expect_navigation():
        page.click("[data-testid=submit-accept_task]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=op-accept_task]").count() == 0
    screenshot(page, "handler-signed")

    op = page.locator("[data-testid=op-feedback]")
    op.locator("[data-testid=open-feedback]").click()
    page.fill("[name='feedback-result']", "已清运完毕，路面已冲洗")
    page.set_input_files("[name='feedback-photos']", str(photo))
    previews = op.locator("[data-testid=photo-preview] img")
    previews.first.wait_for()
    assert previews.count() == 1 and previews.first.get_attribute("src").startswith("blob:")
    page.wait_for_function("() => document.querySelector('[data-testid=photo-preview] img').naturalWidth > 0")
    axe_check(page)
    no_horizontal_scroll(page)
    screenshot(page, "handler-feedback-form")

    # offline: the step is not lost in a browser error page
    page.context.set_offline(True)
    op.locator("[data-testid=submit-feedback]").click()
    page.wait_for_selector("[data-testid=offline-op]:not([hidden])")
    screenshot(page, "handler-feedback-offline")
    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=offline-op]", state="hidden")

    with page.expect_navigation():
        op.locator("[data-testid=submit-feedback]").click()
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=case-state]", "data-state") == "feedback"
    assert "已清运完毕" in page.inner_text("[data-testid=handling-result]")
    assert page.locator("[data-testid=photos-after] [data-testid=photo-after]").count() == 1
    axe_check(page)
    screenshot(page, "handler-feedback-done")
    case = Case.objects.get(pk=case.pk)
    assert case.state == "feedback" and case.signed_at is not None
    assert sorted(kit.attachments_of(case).values_list("kind", flat=True)) == ["after", "before"]


def test_collector_reports_with_picker_preview_and_grid_warning(world, new_page, screenshot, axe_check, photos):
    from tests.cases.test_loop import report
    from urbangrid.cases.models import Case

    report(world, category=world.flyer)  # a recent choice
    inside = world.point(0)
    outside = world.point(3)  # collector2's grid
    page = new_page(PHONE, geolocation={"longitude": outside[0], "latitude": outside[1]}, permissions=["geolocation"])
    login(page, world.collector)
    # the grids arrive after the position (the order that once left the pin out of view)
    page.route(re.compile(r".*/m/grids.*"), lambda route: (time.sleep(0.6), route.continue_()))
    page.goto("/m/report/")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#cat-picker[data-ready='1']")

    # the GPS point lies outside the collector's grids: the warning shows and the pin comes into
    # view (the map pans to it with an animation: waited for, not sampled once)
    page.wait_for_selector("[data-testid=outside-grid]:not([hidden])")
    page.wait_for_function(
        """() => { const m = document.querySelector('#pin-map .leaflet-marker-icon');
                   if (!m) return false;
                   const r = m.getBoundingClientRect(), b = document.getElementById('pin-map').getBoundingClientRect();
                   return r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom; }""",
        timeout=5000,
    )
    screenshot(page, "collector-outside-grid")

    # recent choices first
    recent = page.locator("[data-testid=cat-recent-choice]")
    assert recent.count() == 1 and recent.first.get_attribute("data-id") == str(world.flyer.pk)

    # the cascade: component → major → minor
    page.check("[data-testid=kind-component]")
    majors = page.locator("#cat-major option").evaluate_all("os => os.map(o => o.value)")
    assert majors == ["", str(world.cover.parent_id)]
    page.select_option("#cat-major", str(world.cover.parent_id))
    minors = page.locator("#id_category option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert minors == [str(world.cover.pk)]
    page.check("[data-testid=kind-event]")
    minors = page.locator("#id_category option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert minors == [str(world.garbage.pk), str(world.flyer.pk)]

    # search by synonym, by code, by pinyin initials; keyboard to pick
    page.fill("#cat-search", "不明")
    assert page.locator("[data-testid=cat-result]").evaluate_all("bs => bs.map(b => b.dataset.id)") == [
        str(world.cover.pk)
    ]
    page.fill("#cat-search", "0102")
    assert set(page.locator("[data-testid=cat-result]").evaluate_all("bs => bs.map(b => b.dataset.id)")) == {
        str(world.garbage.pk),
        str(world.cover.pk),
    }
    page.fill("#cat-search", "bllj")
    assert page.locator("[data-testid=cat-result]").evaluate_all("bs => bs.map(b => b.dataset.id)") == [
        str(world.garbage.pk)
    ]
    axe_check(page)
    no_horizontal_scroll(page)
    screenshot(page, "collector-picker-search")
    page.focus("#cat-search")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.dataset.id") == str(world.garbage.pk)
    page.keyboard.press("Enter")
    assert page.input_value("#id_category") == str(world.garbage.pk)
    assert page.input_value("#cat-major") == str(world.garbage.parent_id)
    assert "暴露垃圾" in page.inner_text("[data-testid=cat-chosen]")

    # photos: two previews, remove one
    page.set_input_files("#id_photos", [str(p) for p in photos])
    page.wait_for_function("() => document.querySelectorAll('[data-testid=photo-preview] img').length === 2")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=photo-preview] img')].every(i => i.naturalWidth > 0)"
    )
    assert page.evaluate("() => document.getElementById('id_photos').files.length") == 2
    page.fill("#id_description", "人行道上有一堆建筑垃圾")
    axe_check(page)
    no_horizontal_scroll(page)
    screenshot(page, "collector-report-preview")
    page.locator("[data-testid=photo-remove]").first.click()
    assert page.locator("[data-testid=photo-preview]").count() == 1
    assert page.evaluate("() => document.getElementById('id_photos').files.length") == 1

    # the pin moved into the own grid: the warning goes, the report is accepted
    page.context.set_geolocation({"longitude": inside[0], "latitude": inside[1]})
    page.click("[data-testid=locate]")
    page.wait_for_selector("[data-testid=outside-grid]", state="hidden")
    screenshot(page, "collector-inside-grid")
    with page.expect_navigation(url=re.compile(r"/m/cases/\d+/")):
        page.click("[data-testid=report-submit]")
    page.wait_for_load_state("networkidle")
    axe_check(page)
    screenshot(page, "collector-reported")
    case = Case.objects.order_by("-pk").first()
    assert case.category == world.garbage and case.unit_grid == world.grids[0]
    from urbangrid.workflow import kit

    assert kit.attachments_of(case).count() == 1
    assert page.locator("[data-testid=photos-before] [data-testid=photo-before]").count() == 1


def test_dispatcher_opening_the_phone_app_is_told_where_to_go(world, new_page, screenshot, axe_check):
    page = new_page(PHONE)
    login(page, world.dispatcher)
    resp = page.goto("/m/")
    assert resp.status == 200
    page.wait_for_selector("[data-testid=elsewhere]")
    axe_check(page)
    screenshot(page, "dispatcher-where-to-go")
    with page.expect_navigation():
        page.click("[data-testid=go-staff]")
    assert page.url.endswith("/todo/")
