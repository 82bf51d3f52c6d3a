"""Settings of the test suite: the product's, plus the engine's toy app (tests/workflow/toy)."""

import os

from urbangrid.settings import *  # noqa: F403
from urbangrid.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.workflow.toy"]


class _NoMigrations(dict):
    """Every app's tables created from its models, without running migrations."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


if os.environ.get("URBANGRID_TEST_NO_MIGRATIONS"):
    # Mutation runs (docs/testing.md) set up a test database per mutant: creating the tables
    # straight from the models is much faster than running every migration. The database
    # triggers that migrations add are then absent; the engine's tests do not rely on them.
    MIGRATION_MODULES = _NoMigrations()
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
        # a file, kept between runs with `pytest --reuse-db`
        DATA_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
        DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_workflow.sqlite3")}  # noqa: F405
