"""One row per notification and sender: the outbox (待发送) with its retry state."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        "workflow.Notification", on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    #: the name of the sender (URBANGRID_NOTIFY_SENDERS) that delivers it
    sender = models.CharField(_("sender"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_try = models.DateTimeField(_("next try"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_try"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.sender} #{self.notification_id}: {self.status}"
