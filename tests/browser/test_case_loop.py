"""The complete case loop in a real browser, one signed-in user per role.

A collector reports with a photo on a phone-sized screen, the operator accepts, the shift
leader registers, the dispatcher dispatches, the department handles with an after-photo,
the collector checks, the shift leader closes; plus rework, extension and an offline report.
Every step saves a screenshot to test-artifacts/ and every page is checked with axe-core.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Demo-pass-2026"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    from tests.factories import World
    from urbangrid.web.models import CommonPhrase

    settings.MEDIA_ROOT = tmp_path / "media"
    w = World()
    CommonPhrase.objects.create(text="现场仍有垃圾未清理", operation="check_fail")
    CommonPhrase.objects.create(text="需协调其他部门配合", operation="request_extension")
    return w


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, colour in (("before", "#8d6e63"), ("after", "#81c784"), ("check", "#64b5f6")):
        img = Image.new("RGB", (640, 480), colour)
        draw = ImageDraw.Draw(img)
        draw.rectangle([200, 150, 440, 330], outline="#ffffff", width=8)
        path = tmp_path / f"{name}.png"
        img.save(path)
        out[name] = path
    return out


class Actor:
    """One signed-in browser session."""

    def __init__(self, page: Any, shot, axe_check) -> None:
        self.page, self.shot, self.axe = page, shot, axe_check

    def login(self, user) -> Actor:
        self.page.goto("/login/")
        self.axe(self.page)
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("[data-testid=login-submit]")
        return self

    def open_case(self, case_id: int, mobile: bool = False) -> None:
        self.page.goto(f"/m/cases/{case_id}/" if mobile else f"/cases/{case_id}/")
        self.page.wait_for_load_state("networkidle")

    def do(self, name: str, step: str, **fields: Any) -> None:
        """Fill and submit the form of operation `name`; checks the page first."""
        page = self.page
        op = page.locator(f"[data-testid=op-{name}]")
        opener = op.locator(f"[data-testid=open-{name}]")
        if opener.count() and not op.locator("details").evaluate("d => d.open"):
            opener.click()
        for key, value in fields.items():
            sel = f"[name='{name}-{key}']"
            if key == "photos":
                page.set_input_files(sel, [str(v) for v in value])
            elif key == "exists":
                page.check(f"{sel}[value='{value}']")
            elif page.locator(sel).evaluate("e => e.tagName") == "SELECT":
                page.select_option(sel, str(value))
            else:
                page.fill(sel, str(value))
        self.axe(page)
        self.shot(page, f"{step}-form")
        with page.expect_navigation():
            op.locator(f"[data-testid=submit-{name}]").click()
        page.wait_for_load_state("networkidle")
        self.axe(page)
        self.shot(page, f"{step}-done")

    def state(self) -> str:
        return self.page.get_attribute("[data-testid=case-state]", "data-state") or ""


@pytest.fixture
def actor(new_page, screenshot, axe_check):
    def make(user, viewport=(1366, 900), **options) -> Actor:
        return Actor(new_page(viewport, **options), screenshot, axe_check).login(user)

    return make


def collector_report(world, actor, photos, screenshot) -> tuple[Actor, int]:
    lon, lat = world.point(0)
    col = actor(world.collector, PHONE, geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    page = col.page
    assert page.url.endswith("/m/")  # collectors land on the phone app
    page.wait_for_load_state("networkidle")
    col.axe(page)
    screenshot(page, "collector-home")
    page.click("[data-testid=m-report]")
    page.wait_for_function("() => document.querySelector('[name=lon]').value !== ''")
    page.set_input_files("#id_photos", str(photos["before"]))
    page.select_option("#id_category", str(world.garbage.pk))
    page.fill("#id_description", "人行道上有一堆建筑垃圾")
    page.fill("#id_address", "庆丰路128号")
    col.axe(page)
    screenshot(page, "collector-report-form")
    with page.expect_navigation(url=re.compile(r"/m/cases/\d+/")):
        page.click("[data-testid=report-submit]")
    page.wait_for_load_state("networkidle")
    col.axe(page)
    screenshot(page, "collector-reported")
    case_id = int(re.search(r"/m/cases/(\d+)/", page.url).group(1))
    return col, case_id


def to_handling(world, actor, case_id: int) -> None:
    op = actor(world.operator)
    op.page.wait_for_load_state("networkidle")
    op.axe(op.page)
    op.shot(op.page, "operator-todo")
    op.page.click("[data-testid=case-link]")
    op.page.wait_for_load_state("networkidle")
    op.do("accept", "operator-accept")
    assert op.state() == "accepted"

    shift = actor(world.shift)
    shift.open_case(case_id)
    shift.do("register", "shift-register", urgency="normal")
    assert shift.state() == "registered"

    disp = actor(world.dispatcher)
    disp.page.goto("/dispatch/")
    disp.axe(disp.page)
    row = disp.page.locator("[data-testid=dispatch-row]").first
    assert row.locator("select").input_value() == str(world.sanitation.pk)  # suggested department preselected
    disp.shot(disp.page, "dispatcher-desk")
    with disp.page.expect_navigation():
        row.locator("[data-testid=dispatch-one]").click()
    disp.axe(disp.page)
    disp.shot(disp.page, "dispatcher-dispatched")
    disp.open_case(case_id)
    assert disp.state() == "handling"


def test_complete_loop(world, actor, photos, screenshot):
    from urbangrid.cases.models import Case

    col, case_id = collector_report(world, actor, photos, screenshot)
    to_handling(world, actor, case_id)

    handler = actor(world.handler)
    handler.axe(handler.page)
    handler.shot(handler.page, "handler-todo")
    handler.open_case(case_id)
    handler.do("accept_task", "handler-acknowledge")
    handler.do("feedback", "handler-feedback", result="已清运完毕", photos=[photos["after"]])
    assert handler.state() == "feedback"

    op = actor(world.operator)
    op.open_case(case_id)
    op.do("send_check", "operator-send-check")

    col.page.goto("/m/")
    col.page.wait_for_load_state("networkidle")
    screenshot(col.page, "collector-tasks")
    col.page.click("[data-testid=task]")
    col.page.wait_for_load_state("networkidle")
    col.do("check_pass", "collector-check-pass", photos=[photos["check"]])
    assert col.state() == "pending_close"

    shift = actor(world.shift)
    shift.open_case(case_id)
    shift.page.once("dialog", lambda d: d.accept())  # closing asks for confirmation
    shift.do("close", "shift-close")
    assert shift.state() == "closed"
    # the closed case shows before and after photos, and the whole timeline
    page = shift.page
    assert page.locator("[data-testid=photo-before]").count() == 1
    assert page.locator("[data-testid=photo-after]").count() == 1
    page.locator("[data-testid=photo-after]").click()
    page.wait_for_selector("#photo-dialog[open]")
    screenshot(page, "photo-full-size")
    page.keyboard.press("Escape")
    steps = page.locator("[data-testid=timeline] > li").evaluate_all("els => els.map(e => e.dataset.testid)")
    loop = ("report", "accept", "register", "dispatch", "accept_task", "feedback", "send_check", "check_pass", "close")
    assert steps == [f"history-{a}" for a in loop]
    case = Case.objects.get(pk=case_id)
    assert case.state == "closed" and case.source == "collector" and case.department == world.sanitation


def test_rework_path(world, actor, photos, screenshot):
    from urbangrid.cases.models import Case

    col, case_id = collector_report(world, actor, photos, screenshot)
    to_handling(world, actor, case_id)
    handler = actor(world.handler)
    handler.open_case(case_id)
    handler.do("feedback", "handler-feedback", result="已清运", photos=[photos["after"]])
    op = actor(world.operator)
    op.open_case(case_id)
    op.do("send_check", "operator-send-check")

    col.open_case(case_id, mobile=True)
    col.page.locator("[data-testid=op-check_fail] [data-testid=open-check_fail]").click()
    col.page.locator("[data-testid=op-check_fail] [data-testid=phrase]").first.click()  # 常用语 fills the reason
    assert col.page.input_value("[name='check_fail-reason']") == "现场仍有垃圾未清理"
    col.do("check_fail", "collector-check-fail", photos=[photos["check"]])
    assert col.state() == "handling"
    case = Case.objects.get(pk=case_id)
    assert case.rework_count == 1 and case.department == world.sanitation

    handler.open_case(case_id)
    handler.do("feedback", "handler-feedback-again", result="已彻底清运", photos=[photos["after"]])
    assert handler.state() == "feedback"


def test_extension_path_and_field_errors(world, actor, photos, screenshot):
    from urbangrid.cases.models import Case

    _col, case_id = collector_report(world, actor, photos, screenshot)
    to_handling(world, actor, case_id)
    before = Case.objects.get(pk=case_id).deadline
    handler = actor(world.handler)
    handler.open_case(case_id)
    # the engine's field errors appear next to the field; nothing changes
    handler.do("request_extension", "handler-extension-invalid", reason="需要采购设备", amount="-1")
    assert handler.page.locator("[data-testid=error-amount]").count() == 1
    assert Case.objects.get(pk=case_id).pending_request == ""
    handler.do("request_extension", "handler-extension", reason="需要采购设备", amount="2", unit="working_days")
    assert handler.page.locator("[data-testid=pending]").count() == 1

    disp = actor(world.dispatcher)
    disp.open_case(case_id)
    disp.do("approve_extension", "dispatcher-approve-extension")
    case = Case.objects.get(pk=case_id)
    assert case.extension_count == 1 and case.deadline > before and case.pending_request == ""


def test_stale_page_gets_the_conflict_message(world, actor, photos, screenshot):
    _col, case_id = collector_report(world, actor, photos, screenshot)
    op1, op2 = actor(world.operator), actor(world.operator)
    op1.open_case(case_id)
    op2.open_case(case_id)
    op1.do("accept", "first-operator-accepts")
    op2.do("reject", "second-operator-stale", reason="重复")
    assert op2.page.locator("[data-testid=op-reject] [data-testid=op-message]").count() == 1
    assert op2.state() == "accepted"


def test_offline_report_is_sent_exactly_once(world, actor, photos, screenshot):
    from urbangrid.cases.models import Case
    from urbangrid.mobile.models import MobileSubmission
    from urbangrid.workflow import kit

    lon, lat = world.point(1)
    col = actor(world.collector, PHONE, geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    page = col.page
    page.goto("/m/report/")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => document.querySelector('[name=lon]').value !== ''")
    page.context.set_offline(True)
    page.set_input_files("#id_photos", str(photos["before"]))
    page.select_option("#id_category", str(world.flyer.pk))
    page.fill("#id_description", "电线杆上贴满小广告")
    page.click("[data-testid=report-submit]")
    page.wait_for_selector("#report-result.queued")
    page.wait_for_function("() => document.getElementById('queue-status').dataset.pending === '1'")
    screenshot(page, "offline-queued")
    assert Case.objects.count() == 0

    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('queue-status').dataset.pending === '0'", timeout=20_000)
    screenshot(page, "online-sent")
    page.reload()
    page.wait_for_load_state("networkidle")
    page.evaluate("() => window.urbangridFlush()")
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert case.source == "collector" and kit.attachments_of(case).count() == 1
    assert MobileSubmission.objects.get().case == case
    assert case.channel["client_id"] == str(MobileSubmission.objects.get().client_id)


def test_intake_map_search_and_language(world, actor, screenshot):
    from urbangrid.cases.models import Case
    from urbangrid.geo.models import Place

    Place.objects.create(
        kind="door_plate",
        name="庆丰路12号",
        road="庆丰路",
        number="12",
        street=world.street,
        community=world.community,
        lon=world.point(2)[0],
        lat=world.point(2)[1],
    )
    op = actor(world.operator)
    page = op.page
    page.click("[data-testid=nav-intake]")
    page.wait_for_load_state("networkidle")
    page.fill("#id_caller_name", "张先生")
    page.fill("#id_caller_phone", "13800000000")
    page.select_option("#id_category", str(world.garbage.pk))
    page.fill("#id_description", "小区门口垃圾堆放")
    page.fill("#id_address", "庆丰路12号")
    page.click("[data-testid=geocode]")
    page.click("[data-testid=geocode-choice]")  # the operator chooses the candidate (never taken silently)
    page.wait_for_function("() => document.querySelector('[data-testid=position-info]').dataset.grid")
    assert page.get_attribute("[data-testid=position-info]", "data-grid") == world.grids[2].code
    op.axe(page)
    screenshot(page, "intake-form")
    with page.expect_navigation():
        page.click("[data-testid=intake-submit]")
    case = Case.objects.get()
    assert case.source == "hotline" and case.reporter_name == "张先生" and case.unit_grid == world.grids[2]
    screenshot(page, "intake-created")

    # a second call about the same problem warns about the duplicate
    page.goto("/intake/")
    page.select_option("#id_category", str(world.garbage.pk))
    page.fill("#id_address", "庆丰路12号")
    page.click("[data-testid=geocode]")
    page.click("[data-testid=geocode-choice]")
    page.wait_for_selector("[data-testid=duplicate-warning]:not([hidden])")
    screenshot(page, "intake-duplicate-warning")

    page.on("console", lambda m: print("CONSOLE", m.text))
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    page.goto("/map/")
    page.wait_for_function("() => document.getElementById('big-map').dataset.loaded === '1'")
    page.wait_for_timeout(300)
    op.axe(page)
    screenshot(page, "map")
    page.locator(".case-marker").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+/"))

    page.goto("/cases/")
    op.axe(page)
    screenshot(page, "search-zh")
    page.select_option("[data-testid=language]", "en")
    with page.expect_navigation():
        page.click("[data-testid=language-submit]")
    assert page.get_attribute("html", "lang") == "en"
    screenshot(page, "search-en")
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    assert download.value.suggested_filename.endswith(".xlsx")
