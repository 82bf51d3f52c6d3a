from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "urbangrid.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from urbangrid.workflow.models import History

        from .facts import on_history_saved

        # The engine appends History with save(force_insert=True) inside the step's transaction:
        # the facts of the case move on in the same transaction (or not at all).
        post_save.connect(on_history_saved, sender=History, dispatch_uid="evaluation_facts")
