import pytest

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


@pytest.fixture(autouse=True)
def _without_shipped_rules(request):
    """Migration 0005 ships a default scoring rule per object type; the evaluation tests build
    their own rules (version numbers, rules in force), so they start without the shipped ones.
    Tests of the shipped rules reinstall them (tests/evaluation/test_scores_page.py)."""
    names = set(request.fixturenames)
    if not names & {"db", "transactional_db", "world"}:
        yield
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from urbangrid.evaluation.models import ScoringRule

    ScoringRule.objects.filter(published_months__isnull=True).delete()
    yield
