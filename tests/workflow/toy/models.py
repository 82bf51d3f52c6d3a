"""Tiny workflow objects for the engine's own tests (no migrations: the test database syncs them)."""

from django.db import models

from urbangrid.workflow.models import WorkflowObject


class Ticket(WorkflowObject):
    """Two definitions: "simple" or "general", chosen per object by `kind`."""

    title = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=16, default="simple")
    # no database constraint: an app without migrations is created before the migrated apps'
    # tables (PostgreSQL would refuse a foreign key to core_department then)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    note = models.CharField(max_length=100, blank=True)

    #: read with the row when the engine locks it (`store.lock`)
    workflow_related = ("department",)

    def __str__(self) -> str:
        return f"T{self.pk}"


class Inspection(WorkflowObject):
    title = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"I{self.pk}"


class Hazard(WorkflowObject):
    title = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"H{self.pk}"


class Permit(WorkflowObject):
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    waived = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return f"P{self.pk}"


class Orphan(WorkflowObject):
    """Runs no registered workflow."""

    def __str__(self) -> str:
        return f"O{self.pk}"
