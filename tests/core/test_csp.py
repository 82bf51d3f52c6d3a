"""A strict Content-Security-Policy on every response, and templates that need nothing more
(Hardening item 2). The browser tests (tests/browser) also fail on any CSP violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests import factories

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "urbangrid"


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.mark.parametrize(
    "url",
    [
        "/login/",
        "/portal/",
        "/admin/login/",
        "/api/v1/docs",
        "/open311/v2/discovery.json",
        "/m/sw.js",
        "/no-such-page/",
    ],
)
def test_every_response_carries_a_strict_policy(db, url):
    r = Client().get(url)
    p = policy(r)
    assert p["default-src"] == ["'self'"]
    assert p["script-src"] == ["'self'"] and p["style-src"] == ["'self'"]
    assert p["object-src"] == ["'none'"] and p["frame-ancestors"] == ["'none'"]
    assert p["base-uri"] == ["'self'"] and p["form-action"] == ["'self'"]
    assert {"'self'", "data:", "blob:"} <= set(p["img-src"])
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in r.headers["Content-Security-Policy"]


def test_signed_in_pages_carry_the_policy(db):
    c = Client()
    c.force_login(factories.user("operator"))
    for url in ("/todo/", "/map/", "/intake/"):
        r = c.get(url)
        assert r.status_code == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"], url


def test_tile_server_host_is_allowed_for_images(db, settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "img-src": ["'self'", "data:", "blob:", "https://*.tianditu.gov.cn"],
        }
    }
    assert "https://*.tianditu.gov.cn" in policy(Client().get("/login/"))["img-src"]


def test_api_docs_are_served_from_static_files():
    """With `ninja` installed, the Swagger UI comes from /static/, not a CDN with an inline script."""
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    assert b"cdn.jsdelivr.net" not in r.content and b"/static/ninja/swagger-ui-init.js" in r.content


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
_JS_URL = re.compile(r"""href=["']\s*javascript:""", re.I)


def test_templates_have_no_inline_script_style_or_handler():
    offenders = []
    for path in sorted(TEMPLATES.glob("*/templates/**/*.html")):
        if path.parent.name == "pdf":
            # documents rendered only into PDF by headless Chromium, with a CSP of their own
            # (default-src 'none'); never served to a browser under the site's policy
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in (
            ("inline script", _INLINE_SCRIPT),
            ("inline style", _INLINE_STYLE),
            ("event handler", _HANDLER),
            ("javascript: URL", _JS_URL),
        ):
            for m in pattern.finditer(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {name}: {m.group(0)!r}")
    assert not offenders, "\n".join(offenders)
