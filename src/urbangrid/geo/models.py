"""Geography (基础数据, 地理编码): divisions, unit grids, work grids and the gazetteer.

Geometry is stored as GeoJSON in WGS-84 (EPSG:4326) with a bounding box for coarse
filtering; the spatial index (geo.index) holds Shapely geometry in memory.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("province")  # 省 (GB/T 2260, 2 significant digits)
    CITY = "city", _("city")  # 市 (GB/T 2260, 4 significant digits)
    COUNTY = "county", _("county / district")  # 区县 (GB/T 2260, 6 digits)
    STREET = "street", _("street / township")  # 街道 / 乡镇 (GB/T 10114, +3 digits)
    COMMUNITY = "community", _("community / village")  # 社区 / 村 (+3 digits)


class AdminDivision(models.Model):
    """An administrative division (行政区划): GB/T 2260 down to county, then street and community."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    #: urban or rural area (城区 / 农村): some stage limits (on-site verification and check) differ
    area_class = models.CharField(
        _("area class"),
        max_length=8,
        blank=True,
        choices=[("urban", _("urban area")), ("rural", _("rural area"))],
        help_text=_("Empty: as the parent division (a city's default is urban)."),
    )
    geometry = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class WorkGrid(models.Model):
    """A work grid (工作网格 / 责任网格): unit grids patrolled by assigned collectors."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    street = models.ForeignKey(
        AdminDivision, verbose_name=_("street"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="work_grids",
    )
    collectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collectors"), blank=True, related_name="work_grids",
    )

    class Meta:
        verbose_name = _("work grid")
        verbose_name_plural = _("work grids")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ManagementLevel(models.TextChoices):
    CLASS_1 = "1", _("class 1 (core / commercial)")  # 一类区域
    CLASS_2 = "2", _("class 2 (general)")  # 二类区域
    CLASS_3 = "3", _("class 3 (fringe / rural)")  # 三类区域


class UnitGrid(models.Model):
    """A unit grid (单元网格), CJ/T 213 / GB/T 30428.1 code, about one hectare."""

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    community = models.ForeignKey(
        AdminDivision, verbose_name=_("community"), on_delete=models.PROTECT, related_name="unit_grids",
    )
    work_grid = models.ForeignKey(
        WorkGrid, verbose_name=_("work grid"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="unit_grids",
    )
    geometry = models.JSONField(_("polygon (GeoJSON, WGS-84)"))
    area_m2 = models.FloatField(_("area (m²)"))
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    management_level = models.CharField(
        _("management level"), max_length=2, choices=ManagementLevel.choices, default=ManagementLevel.CLASS_1,
    )
    land_use = models.CharField(_("land use"), max_length=32, blank=True)
    responsible_department = models.ForeignKey(
        "core.Department", verbose_name=_("responsible department (属地)"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="unit_grids",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit grid")
        verbose_name_plural = _("unit grids")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class PlaceKind(models.TextChoices):
    ROAD = "road", _("road")  # 道路
    DOOR_PLATE = "door_plate", _("door plate")  # 门牌
    LANDMARK = "landmark", _("landmark")  # 地标 / 兴趣点


class Place(models.Model):
    """A gazetteer entry (地名地址): road, door plate or landmark with a position (CJ/T 215)."""

    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    road = models.CharField(_("road"), max_length=100, blank=True, db_index=True)
    number = models.CharField(_("door number"), max_length=20, blank=True)
    aliases = models.CharField(_("aliases"), max_length=300, blank=True)
    street = models.ForeignKey(
        AdminDivision, verbose_name=_("street"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        AdminDivision, verbose_name=_("community"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("gazetteer")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class GridRevision(models.Model):
    """Change counters (版本号) for the in-memory grid index and gazetteer, one row (pk=1).

    Every change to grids, divisions or places bumps a counter; each process compares the
    counter with the one its in-memory index was built from and rebuilds when it moved,
    so changes made by other processes (workers, management commands) are noticed.
    """

    grids = models.BigIntegerField(_("grid revision"), default=0)
    places = models.BigIntegerField(_("gazetteer revision"), default=0)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("geography revision")
        verbose_name_plural = _("geography revisions")

    def __str__(self) -> str:
        return f"grids r{self.grids}, places r{self.places}"

    @classmethod
    def current(cls) -> tuple[int, int]:
        """(grids, places) counters; (0, 0) before anything was loaded."""
        row = cls.objects.filter(pk=1).values_list("grids", "places").first()
        return row if row is not None else (0, 0)

    @classmethod
    def bump(cls, *, grids: bool = False, places: bool = False) -> None:
        """Increment the chosen counters (creating the row on first use)."""
        changes = {}
        if grids:
            changes["grids"] = models.F("grids") + 1
        if places:
            changes["places"] = models.F("places") + 1
        if not changes:
            return
        if cls.objects.filter(pk=1).update(**changes, changed_at=timezone.now()):
            return
        _row, created = cls.objects.get_or_create(pk=1, defaults={"grids": int(grids), "places": int(places)})
        if not created:  # another process created the row meanwhile
            cls.objects.filter(pk=1).update(**changes, changed_at=timezone.now())
