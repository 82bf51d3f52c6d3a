import pytest

from tests.factories import World


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


@pytest.fixture
def api(client, world):
    """A test client signed in as the given user: `api(world.operator).get(...)`."""

    def as_user(user):
        client.force_login(user)
        return client

    return as_user
