from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "urbangrid.notify"
    label = "notify"
    verbose_name = _("Notification delivery")

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from urbangrid.workflow.holders import notified

        from . import outbox

        notified.connect(outbox.on_notified, dispatch_uid="urbangrid_notify_outbox")
        # the worker's periodic deadline sweep also sweeps due retries (a lost retry task is harmless)
        task_finished.connect(outbox.after_task, dispatch_uid="urbangrid_notify_after_task")
