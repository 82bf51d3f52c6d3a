from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "urbangrid.workflow"
    label = "workflow"
    verbose_name = _("Workflow")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .maintenance import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="urbangrid_history_maintenance")
