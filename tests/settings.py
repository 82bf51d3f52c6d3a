"""Settings of the test suite: the product's, plus the engine's toy app (tests/workflow/toy)."""

from urbangrid.settings import *  # noqa: F403
from urbangrid.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.workflow.toy"]
