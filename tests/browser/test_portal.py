"""Citizen portal in a real browser (phone viewport): report with map pin and photo, track the
case by its number, rate it after closure and say it is not fixed (the case goes to re-check)."""

from __future__ import annotations

import pytest

from tests.open311.conftest import jpeg_with_exif, world
from urbangrid.cases.models import Case, State

__all__ = ["world"]

pytestmark = pytest.mark.browser


def test_report_track_and_dispute_on_a_phone(transactional_db, world, new_page, screenshot, axe_check):
    page = new_page(viewport=(375, 812))
    page.goto("/portal/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    axe_check(page)
    page.click("#start-report")
    page.wait_for_selector("#map[data-ready='true']")
    page.select_option("select[name=service_code]", "0102")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    assert page.locator("#map").get_attribute("data-pinned") == "true"
    assert page.input_value("input[name=lat]") and page.input_value("input[name=long]")
    page.set_input_files(
        "input[name=photo]", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}]
    )
    page.fill("textarea[name=description]", "小区门口垃圾桶满了，垃圾散落一地")
    page.fill("input[name=phone]", "13900002222")
    screenshot(page, "report-form")
    axe_check(page)
    page.click("#submit-report")
    number = page.locator("#tracking-number").inner_text().strip()
    code = page.locator("#rating-code").inner_text().strip()
    screenshot(page, "receipt")
    case = Case.objects.get(number=number)
    assert case.source == "citizen" and case.reporter_phone == "13900002222"

    page.click("#follow-link")
    assert page.locator("#case-status").get_attribute("data-status") == "open"
    # the published (re-encoded) photo loads: wait for it rather than race the network
    page.wait_for_function(
        "() => { const i = document.querySelector('img.photo'); return i && i.complete && i.naturalWidth > 0; }",
        timeout=10_000,
    )
    assert "13900002222" not in page.content()

    world.close_public(case)
    page.goto("/portal/")
    page.fill("#track-number", number)
    page.click("#track-submit")
    assert page.locator("#case-status").get_attribute("data-status") == "closed"
    assert page.locator("#history li[data-type='close']").count() == 1
    axe_check(page)
    page.fill("input[name=code]", code)
    page.check("input[name=rating][value=dissatisfied]")
    page.check("input[name=not_fixed]")
    page.fill("textarea[name=comment]", "垃圾还在")
    screenshot(page, "rating")
    page.click("#rate-submit")
    page.wait_for_selector("#messages")
    assert page.locator("#case-status").get_attribute("data-status") == "open"
    assert page.locator("#history li[data-type='dispute']").count() == 1
    screenshot(page, "disputed")
    case.refresh_from_db()
    assert case.state == State.RECHECKING

    page.select_option("#lang-select", "en")
    page.click("#lang-submit")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
