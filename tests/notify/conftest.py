from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.URBANGRID_NOTIFY_SENDERS = ["log"]
    return World()


@pytest.fixture
def as_user():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
