import datetime as dt

import pytest

from tests.factories import World


@pytest.fixture(autouse=True)
def _no_dashboard_cache(settings):
    settings.URBANGRID_DASHBOARD_CACHE_SECONDS = 0


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


UTC = dt.UTC


def at(day: int, hour: int = 10, month: int = 11, year: int = 2026) -> dt.datetime:
    """A local (UTC+8) time as UTC."""
    return dt.datetime(year, month, day, hour, 0, tzinfo=UTC) - dt.timedelta(hours=8)
