"""The strict Content-Security-Policy in a real browser, on the pages the other browser tests do
not visit: the admin (with its widgets), the API docs and the collector app's language switch.
(`new_page` fails a test on any reported CSP violation; this test also asserts it explicitly.)"""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import PHONE
from tests.browser.test_case_loop import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user, url: str = "/login/") -> None:
    page.goto(url)
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.press("#id_password", "Enter")


def test_admin_and_api_docs_under_the_policy(transactional_db, new_page):
    admin = factories.user("administrator", is_staff=True, is_superuser=True)
    page = new_page()
    response = page.goto("/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, admin, "/admin/login/?next=/admin/")
    for url in ("/admin/", f"/admin/core/user/{admin.pk}/change/", "/admin/core/apitoken/add/"):
        page.goto(url)
        page.wait_for_load_state("load")
    # filter_horizontal widgets are built by the admin's static scripts
    assert page.goto(f"/admin/core/user/{admin.pk}/change/").ok
    page.wait_for_selector("#id_roles_from")
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info")
    assert not new_page.csp_violations()


def test_collector_language_switch_without_inline_handler(transactional_db, new_page):
    collector = factories.user("collector")
    page = new_page(viewport=PHONE)
    sign_in(page, collector)
    page.goto("/m/")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert not new_page.csp_violations()
