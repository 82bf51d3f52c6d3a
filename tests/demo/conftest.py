from __future__ import annotations

import pytest

from urbangrid.geo.geocoding import invalidate_geocoder
from urbangrid.geo.index import invalidate_index


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    """Process-wide indexes must not leak between tests; photos go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    invalidate_index()
    invalidate_geocoder()
    yield
    invalidate_index()
    invalidate_geocoder()
