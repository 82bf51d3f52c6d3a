"""Open311 configuration: keys of settings.URBANGRID, with their defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Domain-style jurisdiction_id accepted besides JURISDICTION_CODE (e.g. "tongxiang.gov.cn").
    "OPEN311_JURISDICTION_ID": "",
    # Discovery document.
    "OPEN311_CONTACT": "数字城管监督中心 / Digital urban management center",
    "OPEN311_KEY_SERVICE": "Ask the digital urban management center for an application key.",
    "OPEN311_ENDPOINT_TYPE": "production",  # or "test"
    # POSTs per minute from one client address without a valid key (portal, bad keys).
    "OPEN311_ADDRESS_RATE_LIMIT": 30,
    # Media uploads: bytes per file, files per request; longest side of published photos.
    "OPEN311_MAX_MEDIA_BYTES": 8 * 1024 * 1024,
    "OPEN311_MAX_MEDIA_FILES": 3,
    "OPEN311_PHOTO_MAX_SIDE": 2048,
    # Decoded pixels per photo and per request (JPEGs count at their reduced decoding scale).
    "OPEN311_MAX_PHOTO_PIXELS": 24_000_000,
    "OPEN311_MAX_REQUEST_PIXELS": 40_000_000,
    # Lookups by id (requests/{id}, service_request_id=…, tokens, portal tracking) per minute
    # from one client address; each id asked for counts. Ids per GET requests call.
    "OPEN311_LOOKUP_RATE_LIMIT": 120,
    "OPEN311_MAX_IDS": 50,
    # Case sources published through Open311 and the portal: reports the public sent itself.
    # Add e.g. "collector" or "hotline" to publish staff-entered reports too.
    "OPEN311_PUBLIC_SOURCES": ("citizen", "partner"),
    # Request header with the client address when behind a proxy, e.g. "HTTP_X_REAL_IP".
    "CLIENT_ADDRESS_HEADER": "",
}


def conf(name: str) -> Any:
    return settings.URBANGRID.get(name, DEFAULTS[name])


def body_limit() -> int:
    """Largest POST body accepted on /open311/ (photos plus 1 MB of form fields)."""
    return conf("OPEN311_MAX_MEDIA_BYTES") * conf("OPEN311_MAX_MEDIA_FILES") + 2**20


def jurisdiction_ids() -> set[str]:
    return {v for v in (settings.URBANGRID["JURISDICTION_CODE"], conf("OPEN311_JURISDICTION_ID")) if v}
