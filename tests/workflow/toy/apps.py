from django.apps import AppConfig


class ToyConfig(AppConfig):
    """Small workflow objects that exercise the engine alone (tests only)."""

    name = "tests.workflow.toy"
    label = "toy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import flows

        flows.register_all()
