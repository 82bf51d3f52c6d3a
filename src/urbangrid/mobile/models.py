"""The collector app's own table: one row per report sent from a phone (idempotency)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MobileSubmission(models.Model):
    """A report from the phone app, keyed by the UUID the phone generated for it.

    A report queued offline may reach the server more than once; the unique `client_id`
    makes the replay return the case created the first time.
    """

    client_id = models.UUIDField(_("client id"), unique=True)
    case = models.OneToOneField("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("mobile submission")
        verbose_name_plural = _("mobile submissions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(self.client_id)
