"""Shared fixtures for real-browser tests (Playwright, sync API, Debian's Chromium).

* `browser`: one launched Chromium per session (skips when /usr/bin/chromium is missing);
* `new_page(viewport=(w, h), **context_options)`: a page in a fresh context whose base URL is
  pytest-django's `live_server` (contexts are closed after the test);
* `screenshot(page, name)`: saves test-artifacts/<test>/<nn>-<name>.png;
* `axe_check(page)`: runs axe-core (vendored by scripts/vendor_assets) and fails on serious or
  critical WCAG 2.1 A/AA violations.

Every page opened through `new_page` also fails its test when the browser reports a
Content-Security-Policy violation (a blocked inline script or style, an image from a host the
policy does not allow ...): the pages must work under the strict policy of settings.py.

Select elements by id, name, role or data-testid, never by visible text (the UI is translated).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop in this thread; Django's ORM is still used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("URBANGRID_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE = (375, 812)
DESKTOP = (1366, 900)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # .ci/run installs it: a missing browser must not pass as coverage
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    )
    yield b
    b.close()
    pw.stop()


#: Reports every CSP violation on the console (Chromium also logs its own "Refused to ..." line).
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});"""


def csp_messages(messages: list[str]) -> list[str]:
    return [m for m in messages if "CSP violation" in m or "Content Security Policy" in m]


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []
    console: list[str] = []

    def make(viewport: tuple[int, int] = DESKTOP, **options: Any) -> Any:
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        if viewport[0] <= 480:
            options.setdefault("is_mobile", True)
            options.setdefault("has_touch", True)
            options.setdefault("device_scale_factor", 2)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": viewport[0], "height": viewport[1]}, **options
        )
        context.set_default_timeout(15_000)
        context.add_init_script(script=CSP_LISTENER)
        context.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        contexts.append(context)
        return context.new_page()

    make.csp_violations = lambda: csp_messages(console)  # type: ignore[attr-defined]
    yield make
    for context in contexts:
        context.close()
    violations = csp_messages(console)
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    counter = iter(range(1, 1000))

    def take(page: Any, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations (WCAG 2.1 A and AA rules) on the current page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol: an injected <script> would be blocked by the CSP
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                     resultTypes: ['violations']})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def axe_check() -> Callable[[Any], None]:
    def check(page: Any) -> None:
        found = axe_violations(page)
        assert not found, f"accessibility violations on {page.url}: {found}"

    return check
