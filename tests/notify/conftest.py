from __future__ import annotations

import pytest

from tests.factories import World


@pytest.fixture(autouse=True)
def _no_known_waiting_task():
    """The outbox remembers a waiting delivery task per process (`outbox.wake`); each test's
    rolled-back transaction takes that task away."""
    from urbangrid.notify import outbox

    outbox.forget_waiting_task()
    yield
    outbox.forget_waiting_task()


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.URBANGRID_NOTIFY_SENDERS = ["log"]
    return World()
