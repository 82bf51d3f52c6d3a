from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    from urbangrid.mobile.picker import categories_cache

    settings.MEDIA_ROOT = tmp_path / "media"
    categories_cache.clear()
    return World()


@pytest.fixture
def as_user():
    """`as_user(u)` → a test client signed in as `u`."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
