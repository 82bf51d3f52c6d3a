from __future__ import annotations

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://...")
    for item in items:
        if "pg" in item.keywords and not on_pg:
            item.add_marker(skip_pg)


@pytest.fixture
def as_user():
    """`as_user(u)` → a test client signed in as `u`."""
    from django.test import Client

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_messages_in_tests(settings):
    """Tests speak English unless they say otherwise (the product's default is zh-Hans): actions
    called directly and requests without Accept-Language both get English messages."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def one_rate_window(monkeypatch):
    """Rate limits count per minute: pin the clock mid-window, so that a test's requests never
    straddle two windows (which would reset the count and make the test flaky)."""
    from types import SimpleNamespace

    from urbangrid.open311 import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture(autouse=True, scope="session")
def _flush_history_in_maintenance():
    """Transactional tests empty every table after each test (Django's flush); the history table
    refuses that outside deliberate maintenance (database triggers), so the flush runs in it."""
    from django.core.management.commands import flush

    from urbangrid.workflow.maintenance import history_maintenance

    original = flush.Command.handle

    def handle(self, **options):
        with history_maintenance(options.get("database") or "default"):
            return original(self, **options)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original
