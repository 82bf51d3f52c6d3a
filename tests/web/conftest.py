from __future__ import annotations

import pytest

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()
