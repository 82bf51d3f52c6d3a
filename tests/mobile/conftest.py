from __future__ import annotations

import pytest

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    from urbangrid.mobile.picker import categories_cache

    settings.MEDIA_ROOT = tmp_path / "media"
    categories_cache.clear()
    return World()
