"""Open311 GeoReport v2: partner applications and their keys, service configuration
(attributes per public category), the requests received, and shared rate-limit counters."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Application(models.Model):
    """A partner system allowed to POST requests (one API key each; only its hash is stored)."""

    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit = models.PositiveIntegerField(
        _("requests per minute (key)"), default=120, help_text=_("POSTs per minute for this key.")
    )
    address_rate_limit = models.PositiveIntegerField(
        _("requests per minute (client address)"),
        default=60,
        help_text=_("POSTs per minute from one client address using this key."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service account"),
        on_delete=models.PROTECT,
        related_name="open311_application",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 application")
        verbose_name_plural = _("Open311 applications")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def set_new_key(self) -> str:
        """Give the application a new key and return it in clear text (shown once)."""
        key = secrets.token_urlsafe(24)
        self.key_prefix = key[:8]
        self.key_hash = hash_key(key)
        return key


class ServiceType(models.TextChoices):
    REALTIME = "realtime", _("realtime: the request id is returned at once")
    BATCH = "batch", _("batch: a token is returned; the case is created by the worker")


class Service(models.Model):
    """Open311 settings of one public event category (a GeoReport "service")."""

    category = models.OneToOneField(
        "catalog.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="open311_service",
        limit_choices_to={"kind": "event", "parent__isnull": False},
    )
    type = models.CharField(_("type"), max_length=16, choices=ServiceType.choices, default=ServiceType.REALTIME)
    description = models.CharField(_("description"), max_length=300, blank=True)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Comma-separated; category synonyms are added.")
    )
    strict_attributes = models.BooleanField(
        _("reject unknown attributes"), default=False, help_text=_("Answer 400 to attribute codes not defined here.")
    )

    class Meta:
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")
        ordering = ["category__code"]

    def __str__(self) -> str:
        return str(self.category)


class Datatype(models.TextChoices):
    STRING = "string", _("string (one line)")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("text (several lines)")
    SINGLEVALUELIST = "singlevaluelist", _("one value from a list")
    MULTIVALUELIST = "multivaluelist", _("several values from a list")


LIST_TYPES = (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)


class ServiceAttribute(models.Model):
    """An extra question asked when reporting under a service (service definition attribute)."""

    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(_("code"), max_length=50)
    variable = models.BooleanField(_("asks for a value"), default=True, help_text=_("Off: display-only text."))
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("format hint"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=300)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["service", "order"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="open311_attribute_code"),
            models.UniqueConstraint(fields=["service", "order"], name="open311_attribute_order"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.code}"


class AttributeValue(models.Model):
    """One choice of a list attribute: `key` is submitted, `name` is shown."""

    attribute = models.ForeignKey(
        ServiceAttribute, verbose_name=_("attribute"), on_delete=models.CASCADE, related_name="values"
    )
    key = models.CharField(_("key"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        ordering = ["attribute", "order", "key"]
        constraints = [models.UniqueConstraint(fields=["attribute", "key"], name="open311_value_key")]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"


class Changeset(models.Model):
    """When the service list or a service definition last changed (one row, pk=1); the
    discovery document publishes it so that clients refresh their caches."""

    changed_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("service changeset")
        verbose_name_plural = _("service changesets")

    def __str__(self) -> str:
        return self.changed_at.isoformat()


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the worker")
    CREATED = "created", _("case created")
    FAILED = "failed", _("could not be created")


class ServiceRequest(models.Model):
    """What came in through Open311 or the citizen portal, besides the case itself.

    Holds the data the case has no field for (device and account ids, attribute answers,
    published photos), the idempotency key and, for batch services, the pending input.
    Personal data here is never published.
    """

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.CASCADE, related_name="open311"
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        help_text=_("Empty: the citizen portal."),
    )
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.CREATED)
    token = models.CharField(_("token"), max_length=40, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    #: SHA-256 of the submitted content (actions.fingerprint): a key sent again with another
    #: content is refused
    request_hash = models.CharField(max_length=64, blank=True, editable=False)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    address_id = models.CharField(_("address id"), max_length=40, blank=True)
    media_url = models.URLField(_("media URL given by the client (not published)"), max_length=500, blank=True)
    attributes = models.JSONField(_("attribute answers"), default=dict, blank=True)
    #: attachment tokens of the re-encoded photos that may be published
    photos = models.JSONField(_("published photos"), default=list, blank=True)
    #: batch services: the validated input until the worker creates the case
    pending = models.JSONField(_("pending input"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    #: citizen portal: hash of the personal code that allows rating the result
    rating_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("received request")
        verbose_name_plural = _("received requests")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="open311_idempotency",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(application__isnull=True) & ~models.Q(idempotency_key=""),
                name="portal_idempotency",
            ),
        ]

    def __str__(self) -> str:
        return self.token or str(self.case_id or self.pk)


class RateCounter(models.Model):
    """Fixed-window request counters shared by all worker processes (see ratelimit.py)."""

    key = models.CharField(max_length=80)
    slot = models.BigIntegerField()  # window start, seconds since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="open311_rate_slot")]

    def __str__(self) -> str:
        return f"{self.key}@{self.slot}: {self.count}"
