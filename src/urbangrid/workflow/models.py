"""The engine's tables: the opt-in base for workflow objects, the append-only history (with a
hash chain per object), named clocks, links between objects, and attachments."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Light(models.TextChoices):
    GREEN = "green", _("on time")
    YELLOW = "yellow", _("due soon")
    RED = "red", _("overdue")


class WorkflowObject(models.Model):
    """Abstract base for any model the engine runs (cases, later penalty and inspection cases).

    The engine owns these fields: only `workflow.engine` changes them. A model opts in by
    deriving from this class and registering its definitions (`workflow.registry.register`)."""

    #: the name of the definition this object follows (chosen per object when it is created)
    workflow = models.CharField(_("workflow"), max_length=32, blank=True)
    # Subclasses index state and deadline together with what their lists filter on.
    state = models.CharField(_("state"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    # --- the running stage clock (环节计时) ----------------------------------------------
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
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.GREEN)
    # --- a pending request (申请) and who must decide it ---------------------------------
    pending_request = models.CharField(_("pending request"), max_length=16, blank=True)
    pending_data = models.JSONField(_("pending request data"), default=dict, blank=True)
    pending_approver = models.CharField(_("approver of the pending request"), max_length=32, blank=True)
    #: the hash of the object's latest history entry (the next entry's `prev_hash`), written in the
    #: same UPDATE that bumps `version`; empty after creation and on rows written before the field
    #: existed (the next step then reads it from the history)
    last_hash = models.CharField(_("hash of the latest history entry"), max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True

    def get_workflow(self):
        from .registry import workflow_for

        return workflow_for(self)


class HistoryQuerySet(models.QuerySet):
    """History rows are never changed or removed through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("workflow history is append-only")

    def delete(self):
        raise RuntimeError("workflow history is append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise RuntimeError("workflow history is append-only")

    def update_or_create(self, *args: Any, **kwargs: Any):
        raise RuntimeError("workflow history is append-only")

    _raw_delete = delete


class History(models.Model):
    """One append-only history entry per step (流转记录). Never updated or deleted.

    Each entry holds the hash of the previous entry of the same object (`prev_hash`) and its
    own (`hash`, over its content and `prev_hash`): `urbangrid verify_history` recomputes every
    chain and reports the first broken link."""

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
    prev_hash = models.CharField(_("hash of the previous entry"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    objects = HistoryQuerySet.as_manager()

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

    def compute_hash(self) -> str:
        """SHA-256 over the entry's content and the previous entry's hash."""
        return entry_hash(self)


def entry_hash(e: Any) -> str:
    """The hash of a history entry (any object with History's attributes: migrations use it)."""
    content = {
        "ct": e.content_type_id,
        "obj": e.object_id,
        "seq": e.seq,
        "action": e.action,
        "from": e.from_state,
        "to": e.to_state,
        "actor": e.actor_id,
        "role": e.role,
        "dept": e.department_id,
        "reason": e.reason,
        "payload": e.payload,
        "attachments": e.attachments,
        "stage": e.stage,
        "limit": e.stage_limit,
        "used": e.time_used_minutes,
        "overdue": bool(e.overdue),
        "before": _ts(e.deadline_before),
        "after": _ts(e.deadline_after),
        "at": _ts(e.created_at),
        "prev": e.prev_hash,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _ts(value) -> str | None:
    """A timestamp as an integer count of microseconds (independent of time zone and driver)."""
    if value is None:
        return None
    return str(int(value.timestamp() * 1_000_000))


class Timer(models.Model):
    """A named clock of a workflow object (法定期限 and other clocks beside the stage clock):
    e.g. "decide within 90 days of the filing". Started, paused, resumed and stopped by
    transitions; the sweep sets its light."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    name = models.CharField(_("clock"), max_length=32)
    amount = models.DecimalField(_("limit"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=16)
    started_at = models.DateTimeField(_("counts from"))
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("deadline provisional"), default=False)
    warn_at = models.DateTimeField(_("due soon from"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    remaining_minutes = models.IntegerField(_("minutes left when paused"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.GREEN)

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id", "name"], name="timer_unique")]
        indexes = [models.Index(fields=["deadline"], condition=models.Q(stopped_at__isnull=True), name="timer_open")]

    def __str__(self) -> str:
        return f"{self.name}: {self.deadline}"

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None


class Link(models.Model):
    """A link between two workflow objects (关联): a child spawned by its parent, a case that
    became a penalty case, a related record. Shown on both sides and in both histories."""

    class Kind(models.TextChoices):
        CHILD = "child", _("child")  # source spawned target (an inspection → its hazards)
        BECAME = "became", _("became")  # source was turned into target (a case → a penalty case)
        RELATED = "related", _("related")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    source_id = models.BigIntegerField()
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    target_id = models.BigIntegerField()
    created_at = models.DateTimeField(_("linked at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        indexes = [
            models.Index(fields=["source_type", "source_id", "kind"], name="link_source"),
            models.Index(fields=["target_type", "target_id", "kind"], name="link_target"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "target_type", "target_id"], name="link_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_type_id}:{self.source_id} {self.kind} {self.target_type_id}:{self.target_id}"


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("before")
    AFTER = "after", _("after")
    VERIFY = "verify", _("verification")
    CHECK = "check", _("check")
    DOCUMENT = "document", _("document")
    OTHER = "other", _("other")


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.uploaded_at:%Y/%m}/{instance.token}{instance.extension}"


class Attachment(models.Model):
    """A photo or document uploaded by staff and claimed by the operation that uses it, on any
    workflow object. Evidence that history refers to cannot be deleted."""

    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200, blank=True)
    extension = models.CharField(max_length=8)
    mime_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices, blank=True)
    history_seq = models.PositiveIntegerField(_("history entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_subject")]

    def __str__(self) -> str:
        return f"{self.kind or 'file'} {self.token}"

    @property
    def is_evidence(self) -> bool:
        """Claimed by an operation: history refers to it."""
        return self.object_id is not None

    def delete(self, *args, **kwargs):
        if self.is_evidence:
            raise RuntimeError("an attachment that history refers to cannot be deleted")
        return super().delete(*args, **kwargs)


class Notification(models.Model):
    """A message to a person about a workflow object (work arrived, due soon, overdue, urged)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.BigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message
