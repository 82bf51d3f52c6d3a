"""Categories (CJ/T 214 event/component dictionary) and the component inventory (部件)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("component")  # 部件
    EVENT = "event", _("event")  # 事件


class Urgency(models.TextChoices):
    URGENT = "urgent", _("urgent")  # 紧急
    NORMAL = "normal", _("normal")  # 一般


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")  # 工作时
    WORKING_DAYS = "working_days", _("working days")  # 工作日
    HOURS = "hours", _("natural hours")  # 紧急工作时 (continuous)


class Category(models.Model):
    """A major (大类) or minor (小类) class of the active classification scheme."""

    scheme = models.CharField(_("scheme"), max_length=32, default="CJT214_2007")
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    code = models.CharField(_("code"), max_length=5)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("major class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_local = models.BooleanField(_("local extension"), default=False)
    is_public = models.BooleanField(_("open to public reports"), default=True)
    default_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("default responsible department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    default_department_name = models.CharField(_("typical department"), max_length=100, blank=True)
    urgency = models.CharField(_("default urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    dispatch_limit_hours = models.DecimalField(
        _("register + dispatch limit (working hours)"),
        max_digits=6,
        decimal_places=2,
        default=0.5,
    )
    register_conditions = models.TextField(
        _("registration conditions (立案条件)"),
        blank=True,
        help_text=_("One per line. When given, the shift leader registers a case by naming the condition it meets."),
    )
    handle_limit = models.DecimalField(_("handling limit"), max_digits=7, decimal_places=2, null=True, blank=True)
    handle_unit = models.CharField(_("handling limit unit"), max_length=16, choices=TimeUnit.choices, blank=True)
    urgent_handle_limit = models.DecimalField(
        _("handling limit when urgent"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Used for cases registered as urgent; empty: the normal handling limit applies."),
    )
    urgent_handle_unit = models.CharField(
        _("unit of the urgent handling limit"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    self_fix_allowed = models.BooleanField(_("quick self-fix allowed"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "kind", "code"], name="category_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None


class ComponentState(models.TextChoices):
    INTACT = "intact", _("intact")  # 完好
    DAMAGED = "damaged", _("damaged")  # 破损
    LOST = "lost", _("lost")  # 丢失
    OCCUPIED = "occupied", _("occupied")  # 占用
    ABANDONED = "abandoned", _("abandoned")  # 废弃
    REMOVED = "removed", _("removed")  # 移除


class Component(models.Model):
    """A managed component (管理部件) with its CJ/T 214 identifier (标识码)."""

    obj_id = models.CharField(_("identifier"), max_length=17, unique=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="components",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=ComponentState.choices, default=ComponentState.INTACT)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    unit_grid = models.ForeignKey(
        "geo.UnitGrid",
        verbose_name=_("unit grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="components",
    )
    owner_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_components",
    )
    maintainer_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("maintainer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="maintained_components",
    )
    authority_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("supervising authority"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_components",
    )
    address = models.CharField(_("location description"), max_length=200, blank=True)
    initial_date = models.DateField(_("survey date"), null=True, blank=True)
    change_date = models.DateField(_("change date"), null=True, blank=True)
    data_source = models.CharField(_("data source"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("component")
        verbose_name_plural = _("components")
        ordering = ["obj_id"]
        indexes = [models.Index(fields=["category", "state"])]

    def __str__(self) -> str:
        return self.obj_id


def condition_list(category: Category) -> list[str]:
    """The registration conditions of a category (立案条件), one per line of its text."""
    return [line.strip() for line in (category.register_conditions or "").splitlines() if line.strip()]


class CategorySynonym(models.Model):
    """A local name (别名) under which a class appears in city exports, e.g. 不明井盖 for 无主井盖."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="synonyms",
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("category synonym")
        verbose_name_plural = _("category synonyms")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="category_synonym_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ComponentSequence(models.Model):
    """Last sequence number issued per (county, class) for component identifiers (标识码顺序号).

    Only ever increases, so numbers of deleted components are never issued again.
    """

    admin_code = models.CharField(_("county code"), max_length=6)
    class_code = models.CharField(_("class code"), max_length=5)
    last = models.PositiveIntegerField(_("last issued sequence number"), default=0)

    class Meta:
        verbose_name = _("component sequence")
        verbose_name_plural = _("component sequences")
        constraints = [
            models.UniqueConstraint(fields=["admin_code", "class_code"], name="component_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.admin_code}{self.class_code}: {self.last:06d}"
