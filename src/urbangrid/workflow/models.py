"""The engine's tables: the opt-in base for workflow objects and the append-only history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkflowObject(models.Model):
    """Abstract base for any model the engine runs (cases, later penalty and inspection cases).

    The engine owns these fields: only `workflow.engine.transition` changes them.
    """

    # Subclasses index state and deadline together with what their lists filter on.
    state = models.CharField(_("state"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    # --- the running stage timer (环节计时) ----------------------------------------------
    stage = models.CharField(_("timed stage"), max_length=32, blank=True)
    stage_started_at = models.DateTimeField(_("stage started"), null=True, blank=True)
    stage_limit_amount = models.DecimalField(_("stage limit"), max_digits=8, decimal_places=2, null=True, blank=True)
    stage_limit_unit = models.CharField(_("stage limit unit"), max_length=16, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("deadline provisional"), default=False)
    #: when the stage turns "due soon" (yellow light): 75 % of the time to the deadline
    warn_at = models.DateTimeField(_("due soon from"), null=True, blank=True)
    #: working (or natural) minutes left when the clock was paused (suspension, return request)
    paused_remaining_minutes = models.IntegerField(_("minutes left when paused"), null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def get_workflow(cls):  # pragma: no cover - each subclass returns its definition
        raise NotImplementedError


class History(models.Model):
    """One append-only history entry per state change (流转记录). Never updated or deleted."""

    # (content_type, object_id, seq) is unique and indexed: no separate indexes needed
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    seq = models.PositiveIntegerField(_("sequence"))
    action = models.CharField(_("operation"), max_length=32)
    from_state = models.CharField(_("from state"), max_length=32, blank=True)
    to_state = models.CharField(_("to state"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by the (actor, created_at) index
    )
    role = models.CharField(_("role"), max_length=32, blank=True)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("actor's department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reason = models.TextField(_("reason / note"), blank=True)
    payload = models.JSONField(_("data"), default=dict, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    stage = models.CharField(_("stage ended"), max_length=32, blank=True)
    stage_limit = models.CharField(_("stage limit"), max_length=32, blank=True)
    time_used_minutes = models.IntegerField(_("time used (minutes)"), null=True, blank=True)
    deadline_before = models.DateTimeField(_("deadline before"), null=True, blank=True)
    deadline_after = models.DateTimeField(_("deadline after"), null=True, blank=True)
    overdue = models.BooleanField(_("stage overdue"), default=False)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["content_type_id", "object_id", "seq"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "seq"], name="history_unique_seq"),
        ]
        indexes = [models.Index(fields=["action", "created_at"]), models.Index(fields=["actor", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("workflow history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("workflow history is append-only")
