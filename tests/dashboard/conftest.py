import datetime as dt

import pytest

from tests.factories import World


@pytest.fixture(autouse=True)
def _no_dashboard_cache(settings):
    """Every request counts anew (the stored evaluations have tests of their own:
    tests/evaluation/test_cohorts.py)."""
    settings.URBANGRID_DASHBOARD_CACHE_SECONDS = 0
    settings.URBANGRID_EVALUATION_MAX_AGE = 0


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


UTC = dt.UTC


def at(day: int, hour: int = 10, month: int = 11, year: int = 2026) -> dt.datetime:
    """A local (UTC+8) time as UTC."""
    return dt.datetime(year, month, day, hour, 0, tzinfo=UTC) - dt.timedelta(hours=8)
