"""Evaluation's own tables: the snapshot taken when a case is reported and registered, the
per-case facts derived from history, and daily counters (pre-aggregates) derived from history.

`CaseFact` and `DailyCount` are a function of (history, snapshot): `facts.derive` computes them,
the History post_save hook keeps them current, `urbangrid rebuild_facts` recomputes them and
`urbangrid check_facts` proves the stored rows equal a recomputation. They hold no foreign key
constraints (ids only): they are rebuilt in bulk and must not block deleting test data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseSnapshot(models.Model):
    """What the case was when it was reported (location, source, category) and the dictionary
    entry it was registered under (立案 category). Written by the hook at `report` and `register`;
    never changed by anything else. Location and source never change after the report."""

    case_id = models.BigIntegerField(primary_key=True)
    source = models.CharField(_("source"), max_length=16)
    reported_category_id = models.IntegerField(_("category reported"))
    registered_category_id = models.IntegerField(_("category at registration"), null=True)
    category_code = models.CharField(_("category code"), max_length=32, blank=True)
    category_kind = models.CharField(_("category kind"), max_length=16, blank=True)
    urgency = models.CharField(_("urgency reported"), max_length=16, blank=True)
    unit_grid_id = models.IntegerField(_("unit grid"))
    work_grid_id = models.IntegerField(_("work grid"), null=True)
    community_id = models.IntegerField(_("community"))
    street_id = models.IntegerField(_("street"))

    class Meta:
        verbose_name = _("case snapshot")
        verbose_name_plural = _("case snapshots")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"snapshot {self.case_id}"


class CaseFact(models.Model):
    """One row per case: everything the department and region indicators count, derived from
    the case's history and snapshot (`facts.derive`). "Assignment" fields describe the current
    (last) dispatch to a department: the department charged with the case."""

    case_id = models.BigIntegerField(primary_key=True)
    last_seq = models.IntegerField()
    state = models.CharField(max_length=32)
    source = models.CharField(max_length=16)
    public = models.BooleanField()  # not from a collector's patrol
    reporter_id = models.IntegerField(null=True)
    category_id = models.IntegerField()  # at registration (else as reported)
    urgency = models.CharField(max_length=16, blank=True)
    unit_grid_id = models.IntegerField()
    work_grid_id = models.IntegerField(null=True)
    community_id = models.IntegerField()
    street_id = models.IntegerField()
    reported_at = models.DateTimeField()
    registered_at = models.DateTimeField(null=True)  # the standing registration
    self_fixed_at = models.DateTimeField(null=True)  # a collector's fix confirmed (快速处置)
    voided_at = models.DateTimeField(null=True)
    department_id = models.IntegerField(null=True)  # charged department (current assignment)
    dispatched_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True)  # effective handling deadline of the last round
    handled_at = models.DateTimeField(null=True)  # last feedback of the assignment
    handled_late = models.BooleanField(default=False)  # some feedback of the assignment was overdue
    closed_at = models.DateTimeField(null=True)
    reworks = models.SmallIntegerField(default=0)
    extensions = models.SmallIntegerField(default=0)
    suspensions = models.SmallIntegerField(default=0)
    returns = models.SmallIntegerField(default=0)

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["due_at"], name="fact_due"),
            models.Index(fields=["handled_at"], name="fact_handled"),
            models.Index(fields=["due_at"], condition=models.Q(handled_at__isnull=True), name="fact_unhandled_due"),
            models.Index(fields=["reported_at"], name="fact_reported"),
            models.Index(fields=["registered_at"], name="fact_registered"),
            models.Index(fields=["dispatched_at"], name="fact_dispatched"),
            models.Index(fields=["self_fixed_at"], name="fact_self_fixed"),
        ]

    def __str__(self) -> str:
        return f"fact {self.case_id}"


class DailyCount(models.Model):
    """A counter per day (local date), dimension and key, summed over all cases' histories:
    dim "u" user (posts), "g" work grid, "d" department, "s" street, "c" community.
    Each case contributes `facts.contributions(history, snapshot)`; the hook applies the
    difference a new entry makes."""

    day = models.DateField()
    dim = models.CharField(max_length=1)
    key = models.BigIntegerField()
    counter = models.CharField(max_length=24)
    value = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["day", "dim", "key", "counter"], name="dailycount_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.dim}{self.key} {self.counter}={self.value}"
