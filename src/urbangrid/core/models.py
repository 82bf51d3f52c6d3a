"""Shared kernel: departments, roles, users and their scope, and the audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import RoleCode


class DepartmentKind(models.TextChoices):
    SUPERVISION_CENTER = "supervision_center", _("supervision center")  # 监督中心
    COMMAND_CENTER = "command_center", _("command center")  # 指挥中心
    SUB_CENTER = "sub_center", _("district sub-center")  # 区级分中心
    STREET_OFFICE = "street_office", _("street office")  # 街道办事处 (属地)
    PROFESSIONAL = "professional", _("professional department")  # 专业部门
    COMPANY = "company", _("company")  # 企业 / 公司 (处置单位)
    ENFORCEMENT = "enforcement", _("enforcement squad")  # 执法队
    OTHER = "other", _("other")


class Department(models.Model):
    """A department or company in the organisation tree (部门)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    #: GB/T 2260 / street / community code prefix of the territory this department answers
    #: for (属地), empty for city-wide departments.
    division_code = models.CharField(_("division code"), max_length=12, blank=True, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> set[int]:
        """Ids of this department and every department below it."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return ids


class Role(models.Model):
    """A role (岗位) is a named permission set; users may hold several."""

    code = models.CharField(_("code"), max_length=32, unique=True, choices=RoleCode.choices)
    name = models.CharField(_("name"), max_length=64)
    permissions = models.ManyToManyField(Permission, verbose_name=_("permissions"), blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: staff of the centers and departments, or a citizen."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    # --- scope: where the user acts, as data (see core.scope) ---------------------------
    scope_city = models.BooleanField(
        _("city-wide scope"),
        default=False,
        help_text=_("Sees and acts on the whole jurisdiction (center staff, leaders)."),
    )
    scope_departments = models.ManyToManyField(
        Department,
        verbose_name=_("department scope"),
        blank=True,
        related_name="scoped_users",
        help_text=_("Departments whose work this user sees, besides their own and its sub-units."),
    )
    scope_division_codes = models.CharField(
        _("division scope"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated district, street or community codes the user covers."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_codes(self) -> frozenset[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("code", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    def division_prefixes(self) -> list[str]:
        return [c.strip() for c in self.scope_division_codes.split(",") if c.strip()]


class AuditLog(models.Model):
    """Append-only record of every change made to base data and configuration (审计日志).

    Case state changes have their own history in the workflow engine; this log covers the
    rest (imports, grid loads, user and configuration changes).
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"


class ApiToken(models.Model):
    """A bearer token for machine clients acting as a user (only the hash is stored)."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        import secrets

        return secrets.token_urlsafe(32)

    def set_new_key(self) -> str:
        """Give this (unsaved) token a fresh key; return the clear-text key, which is not kept."""
        key = self.new_key()
        self.key_hash = self.hash(key)
        return key

    @classmethod
    def issue(cls, user: User, name: str) -> str:
        """Create a token and return its clear-text key (shown once)."""
        token = cls(user=user, name=name)
        key = token.set_new_key()
        token.save()
        return key

    @classmethod
    def user_for(cls, key: str) -> User | None:
        token = cls.objects.select_related("user").filter(key_hash=cls.hash(key), revoked=False).first()
        if token is None or not token.user.is_active:
            return None
        return token.user

from .models_calendar import *  # noqa: E402, F403
