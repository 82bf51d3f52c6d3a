"""Admin pages for geography: divisions and unit grids (boundaries edited on a map), work grids
(their unit grids on a read-only map), gazetteer.

The map (``widgets.PolygonMapWidget``) only edits the GeoJSON text the form posts; the forms'
``clean()`` stays the judge: a valid polygon (Shapely's explanation otherwise), inside the
parent division, no overlap with the neighbouring unit grids or sibling divisions (codes and
overlapping area in m²). Saving recomputes a grid's area and bounding box; the model signals
bump ``GridRevision`` so every process rebuilds its point-to-grid index, and each save or
deletion writes an audit record next to the admin's own change log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from urbangrid.core.audit import audit

from .actions import MIN_REPORTED_AREA_M2, geodesic_area_m2, parse_polygon
from .codes import validate_division_code, validate_unit_grid_code
from .index import invalidate_index
from .models import AdminDivision, DivisionLevel, Place, UnitGrid, WorkGrid
from .widgets import NEIGHBOUR, PARENT, READONLY_MAP_MEDIA, ContextLayer, PolygonMapWidget, feature, readonly_map

#: Neighbouring grids shown (and checked) around an edited grid: ~200 m around its box.
_NEIGHBOUR_MARGIN_DEG = 0.002
_NEIGHBOUR_LIMIT = 150
_MEMBER_LIMIT = 1500
#: Overlaps listed one by one in the form error; the rest are counted.
_OVERLAPS_LISTED = 10
MEMBER = "member"


# --- geometry checks --------------------------------------------------------------------


def _as_shape(geometry: Any) -> BaseGeometry | None:
    """A stored GeoJSON polygon as a valid Shapely geometry, None when unusable."""
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, shapely.errors.GEOSException):
        return None
    if geom.is_empty:
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def _polygonal_area_m2(geom: BaseGeometry) -> float:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return sum(geodesic_area_m2(p) for p in parts)


def _outside_parent(geom: BaseGeometry, parent: AdminDivision | None) -> str | None:
    """The error when the polygon reaches more than MIN_REPORTED_AREA_M2 outside ``parent``."""
    boundary = _as_shape(parent.geometry) if parent is not None and parent.geometry else None
    if boundary is None:
        return None
    try:
        outside = geom.difference(boundary)
    except shapely.errors.GEOSException:
        return None
    area = _polygonal_area_m2(outside) if not outside.is_empty else 0.0
    if area <= MIN_REPORTED_AREA_M2:
        return None
    p = outside.representative_point()
    return gettext("The polygon extends %(area).1f m² outside %(parent)s (near %(lon).6f, %(lat).6f).") % {
        "area": area,
        "parent": parent,
        "lon": p.x,
        "lat": p.y,
    }


def _overlaps(geom: BaseGeometry, candidates: Iterable[tuple[Any, Any]]) -> list[tuple[Any, float]]:
    """(label, overlapping area in m²) of the candidates whose interior the polygon overlaps."""
    shapely.prepare(geom)
    found = []
    for label, geometry in candidates:
        other = _as_shape(geometry)
        if other is None or not geom.intersects(other) or not shapely.relate_pattern(geom, other, "T********"):
            continue
        try:
            area = _polygonal_area_m2(geom.intersection(other))
        except shapely.errors.GEOSException:
            continue
        if area > MIN_REPORTED_AREA_M2:
            found.append((label, area))
    return sorted(found, key=lambda item: -item[1])


def _overlap_errors(found: list[tuple[Any, float]], template: str) -> list[str]:
    errors = [template % {"other": label, "area": area} for label, area in found[:_OVERLAPS_LISTED]]
    if len(found) > _OVERLAPS_LISTED:
        errors.append(gettext("… and %(n)d more overlapping neighbours.") % {"n": len(found) - _OVERLAPS_LISTED})
    return errors


def _box_filter(bounds: tuple[float, float, float, float], margin: float = 0.0) -> Q:
    x0, y0, x1, y1 = bounds
    return Q(min_lon__lte=x1 + margin, max_lon__gte=x0 - margin, min_lat__lte=y1 + margin, max_lat__gte=y0 - margin)


def _current() -> Q:
    return Q(valid_to__isnull=True) | Q(valid_to__gte=timezone.localdate())


def _district_center() -> tuple[float, float] | None:
    box = UnitGrid.objects.aggregate(x0=Min("min_lon"), y0=Min("min_lat"), x1=Max("max_lon"), y1=Max("max_lat"))
    if box["x0"] is None:
        return None
    return ((box["x0"] + box["x1"]) / 2, (box["y0"] + box["y1"]) / 2)


def _bound_division(form: forms.ModelForm, name: str, level: str | None = None) -> AdminDivision | None:
    """The division chosen in field ``name``: posted, else initial (``?parent=``), else the instance's."""
    value = form.data.get(form.add_prefix(name)) if form.is_bound else form.initial.get(name)
    if value is None and not form.is_bound:
        return getattr(form.instance, name, None) if getattr(form.instance, f"{name}_id", None) else None
    if isinstance(value, AdminDivision):
        return value
    if not str(value or "").isdigit():
        return None
    qs = AdminDivision.objects.filter(pk=int(value))
    return (qs.filter(level=level) if level else qs).first()


def _parent_layer(parent: AdminDivision | None) -> list[ContextLayer]:
    if parent is None or not parent.geometry:
        return []
    return [
        ContextLayer(
            PARENT, gettext("boundary of %(division)s") % {"division": parent}, [feature(parent.geometry, str(parent))]
        )
    ]


# --- divisions --------------------------------------------------------------------------


class _BoundaryForm(forms.ModelForm):
    """A form whose `geometry` is edited on the map, with the form's `_context_layers()` (read-only
    neighbours to snap to) around it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "geometry" in self.fields:
            widget = self.fields["geometry"].widget
            widget.layers = self._context_layers()
            widget.center = None if any(layer.features for layer in widget.layers) else _district_center()

    def _context_layers(self) -> list[ContextLayer]:
        raise NotImplementedError


class AdminDivisionForm(_BoundaryForm):
    class Meta:
        model = AdminDivision
        fields = ["code", "name", "level", "parent", "geometry", "valid_from", "valid_to"]
        widgets = {"geometry": PolygonMapWidget()}

    def _context_layers(self) -> list[ContextLayer]:
        parent = _bound_division(self, "parent")
        siblings = AdminDivision.objects.filter(parent=parent, geometry__isnull=False)
        if self.instance.pk:
            siblings = siblings.filter(level=self.instance.level).exclude(pk=self.instance.pk)
        layers = _parent_layer(parent)
        layers.append(
            ContextLayer(
                NEIGHBOUR,
                gettext("neighbouring divisions (same parent)"),
                [feature(d.geometry, str(d), code=d.code) for d in siblings.only("code", "name", "geometry")[:200]],
            )
        )
        if self.instance.pk and self.instance.level == DivisionLevel.COMMUNITY:
            grids = UnitGrid.objects.filter(community=self.instance).values_list("code", "geometry")[:_MEMBER_LIMIT]
            layers.append(
                ContextLayer(
                    MEMBER, gettext("unit grids of this community"), [feature(g, code, code=code) for code, g in grids]
                )
            )
        return layers

    def clean(self):
        data = super().clean()
        code, parent = data.get("code"), data.get("parent")
        if code:
            try:
                data["level"] = validate_division_code(code, parent.code if parent else None)
            except ValidationError as exc:
                self.add_error("code", exc)
        if data.get("geometry"):
            try:
                geom = parse_polygon(data["geometry"])
            except ValidationError as exc:
                self.add_error("geometry", exc)
                return data
            data["geometry"] = mapping(geom)
            if self.instance.pk is None or {"geometry", "parent", "code"} & set(self.changed_data):
                for message in self._boundary_errors(geom, parent, data.get("level") or self.instance.level):
                    self.add_error("geometry", message)
        return data

    def _boundary_errors(self, geom: BaseGeometry, parent: AdminDivision | None, level: str) -> list[str]:
        errors = [e for e in [_outside_parent(geom, parent)] if e]
        siblings = AdminDivision.objects.filter(parent=parent, level=level, geometry__isnull=False)
        if self.instance.pk:
            siblings = siblings.exclude(pk=self.instance.pk)
        found = _overlaps(geom, ((str(d), d.geometry) for d in siblings.only("code", "name", "geometry")))
        return errors + _overlap_errors(found, gettext("The boundary overlaps %(other)s by %(area).1f m²."))


class _AuditedGeoAdmin(admin.ModelAdmin):
    """Writes an audit record for every save and deletion (the admin's LogEntry stays too) and
    drops this process's grid index once the transaction commits (the model signals have
    already bumped GridRevision for the other processes)."""

    audit_name = ""

    def _audit(self, request, verb: str, obj: Any, **data: Any) -> None:
        summary = {
            "add": gettext("%(object)s added in the admin"),
            "change": gettext("%(object)s changed in the admin"),
            "delete": gettext("%(object)s deleted in the admin"),
        }[verb] % {"object": obj}
        audit(request.user, f"geo.{verb}_{self.audit_name}", obj, summary=summary, **data)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(invalidate_index)
        self._audit(
            request, "change" if change else "add", obj, fields=list(form.changed_data), **self.audit_data(obj, form)
        )

    def audit_data(self, obj, form) -> dict[str, Any]:
        return {}

    def delete_model(self, request, obj) -> None:
        self._audit(request, "delete", obj, code=obj.code)
        super().delete_model(request, obj)
        transaction.on_commit(invalidate_index)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self._audit(request, "delete", obj, code=obj.code)
        super().delete_queryset(request, queryset)
        transaction.on_commit(invalidate_index)


@admin.register(AdminDivision)
class AdminDivisionAdmin(_AuditedGeoAdmin):
    form = AdminDivisionForm
    audit_name = "division"
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]

    def audit_data(self, obj: AdminDivision, form) -> dict[str, Any]:
        if "geometry" not in form.changed_data or not obj.geometry:
            return {}
        return {"area_m2": round(geodesic_area_m2(parse_polygon(obj.geometry)), 1)}


# --- work grids -------------------------------------------------------------------------


@admin.register(WorkGrid)
class WorkGridAdmin(_AuditedGeoAdmin):
    audit_name = "work_grid"
    list_display = ["code", "name", "street", "unit_grid_count"]
    list_filter = ["street"]
    search_fields = ["code", "name"]
    filter_horizontal = ["collectors"]
    readonly_fields = ["grid_map"]

    @property
    def media(self) -> forms.Media:
        return super().media + READONLY_MAP_MEDIA

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("street").annotate(n_grids=Count("unit_grids"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = AdminDivision.objects.filter(level=DivisionLevel.STREET)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("unit grids"), ordering="n_grids")
    def unit_grid_count(self, obj: WorkGrid) -> int:
        return obj.n_grids

    @admin.display(description=_("map of its unit grids"))
    def grid_map(self, obj: WorkGrid) -> str:
        if not obj.pk:
            return "-"
        grids = obj.unit_grids.values_list("code", "geometry")[:_MEMBER_LIMIT]
        layers = _parent_layer(obj.street)
        layers.append(
            ContextLayer(
                MEMBER, gettext("unit grids of this work grid"), [feature(g, code, code=code) for code, g in grids]
            )
        )
        return readonly_map(
            layers,
            label=gettext("Map of the unit grids of work grid %(code)s") % {"code": obj.code},
            testid="work-grid-map",
            center=_district_center(),
        )


# --- unit grids -------------------------------------------------------------------------


class StreetFilter(admin.SimpleListFilter):
    title = _("street")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        return AdminDivision.objects.filter(level=DivisionLevel.STREET).values_list("pk", "name")

    def queryset(self, request, queryset):
        return queryset.filter(community__parent_id=self.value()) if self.value() else queryset


class UnitGridForm(_BoundaryForm):
    class Meta:
        model = UnitGrid
        fields = [
            "code",
            "name",
            "community",
            "work_grid",
            "geometry",
            "management_level",
            "land_use",
            "responsible_department",
            "valid_from",
            "valid_to",
        ]
        widgets = {"geometry": PolygonMapWidget()}

    def _context_layers(self) -> list[ContextLayer]:
        community = _bound_division(self, "community", DivisionLevel.COMMUNITY)
        grids = UnitGrid.objects.filter(_current())
        if self.instance.pk:
            grids = grids.exclude(pk=self.instance.pk)
            area = (self.instance.min_lon, self.instance.min_lat, self.instance.max_lon, self.instance.max_lat)
            grids = grids.filter(_box_filter(area, _NEIGHBOUR_MARGIN_DEG))
        elif community is not None:
            boundary = _as_shape(community.geometry) if community.geometry else None
            grids = (
                grids.filter(_box_filter(boundary.bounds, _NEIGHBOUR_MARGIN_DEG))
                if boundary is not None
                else grids.filter(community=community)
            )
        else:
            grids = grids.none()
        neighbours = grids.values_list("code", "name", "geometry")[:_NEIGHBOUR_LIMIT]
        return [
            *_parent_layer(community),
            ContextLayer(
                NEIGHBOUR,
                gettext("neighbouring unit grids"),
                [feature(g, f"{code} {name}".strip(), code=code) for code, name, g in neighbours],
            ),
        ]

    def clean(self):
        data = super().clean()
        code, community = data.get("code"), data.get("community")
        if code and community:
            try:
                validate_unit_grid_code(code, community.code)
            except ValidationError as exc:
                self.add_error("code", exc)
        if data.get("geometry") is not None:
            try:
                geom = parse_polygon(data["geometry"])
            except ValidationError as exc:
                self.add_error("geometry", exc)
                return data
            data["geometry"] = mapping(geom)
            if self.instance.pk is None or {"geometry", "community", "valid_to"} & set(self.changed_data):
                for message in self._boundary_errors(geom, community):
                    self.add_error("geometry", message)
        return data

    def _boundary_errors(self, geom: BaseGeometry, community: AdminDivision | None) -> list[str]:
        errors = [e for e in [_outside_parent(geom, community)] if e]
        others = UnitGrid.objects.filter(_current(), _box_filter(geom.bounds))
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        found = _overlaps(geom, others.values_list("code", "geometry"))
        return errors + _overlap_errors(found, gettext("The polygon overlaps unit grid %(other)s by %(area).1f m²."))


@admin.register(UnitGrid)
class UnitGridAdmin(_AuditedGeoAdmin):
    form = UnitGridForm
    audit_name = "unit_grid"
    list_display = ["code", "name", "community", "work_grid", "area", "management_level"]
    list_filter = ["management_level", StreetFilter, "work_grid"]
    list_select_related = ["community", "work_grid"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["community"]
    readonly_fields = ["area", "bounds"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = AdminDivision.objects.filter(level=DivisionLevel.COMMUNITY)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("area (m²)"), ordering="area_m2")
    def area(self, obj: UnitGrid) -> str:
        return "-" if obj.area_m2 is None else f"{obj.area_m2:,.0f}"

    @admin.display(description=_("bounding box (WGS-84)"))
    def bounds(self, obj: UnitGrid) -> str:
        if obj.min_lon is None:
            return "-"
        return _("longitude %(x0).6f–%(x1).6f, latitude %(y0).6f–%(y1).6f") % {
            "x0": obj.min_lon,
            "x1": obj.max_lon,
            "y0": obj.min_lat,
            "y1": obj.max_lat,
        }

    def save_model(self, request, obj: UnitGrid, form, change) -> None:
        obj._previous_area_m2 = (
            UnitGrid.objects.filter(pk=obj.pk).values_list("area_m2", flat=True).first() if change else None
        )
        geom = parse_polygon(obj.geometry)  # the form has cleaned it: this cannot fail
        obj.area_m2 = geodesic_area_m2(geom)
        obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat = geom.bounds
        super().save_model(request, obj, form, change)

    def audit_data(self, obj: UnitGrid, form) -> dict[str, Any]:
        previous = getattr(obj, "_previous_area_m2", None)
        return {"area_m2": round(obj.area_m2, 1), "previous_area_m2": None if previous is None else round(previous, 1)}


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "road", "number", "street", "community"]
    list_filter = ["kind"]
    list_select_related = ["street", "community"]
    search_fields = ["name", "road", "aliases"]
    raw_id_fields = ["street", "community"]
