"""The staff web's own small tables."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CommonPhrase(models.Model):
    """A common phrase (常用语) that fills an operation's reason in one click."""

    text = models.CharField(_("text"), max_length=200)
    operation = models.CharField(
        _("operation"),
        max_length=32,
        blank=True,
        db_index=True,
        help_text=_("Name of the operation (e.g. reject, check_fail); empty: offered for every operation."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("common phrase")
        verbose_name_plural = _("common phrases")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text
