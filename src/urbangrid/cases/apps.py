from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "urbangrid.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from urbangrid.workflow.registry import register

        from . import signals  # noqa: F401
        from .loop import URBAN_LOOP
        from .models import Case
        from .queries import visible_cases

        register(Case, URBAN_LOOP, visible=visible_cases)
