"""Admin pages for geography: divisions, work grids, unit grids (with a map preview), gazetteer."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping

from .actions import geodesic_area_m2, parse_polygon
from .codes import validate_division_code, validate_unit_grid_code
from .models import AdminDivision, DivisionLevel, Place, UnitGrid, WorkGrid
from .preview import svg_map

_NEIGHBOUR_MARGIN_DEG = 0.002  # ~200 m around the grid
_NEIGHBOUR_LIMIT = 80


class AdminDivisionForm(forms.ModelForm):
    class Meta:
        model = AdminDivision
        fields = ["code", "name", "level", "parent", "geometry", "valid_from", "valid_to"]

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
                data["geometry"] = mapping(parse_polygon(data["geometry"]))
            except ValidationError as exc:
                self.add_error("geometry", exc)
        return data


@admin.register(AdminDivision)
class AdminDivisionAdmin(admin.ModelAdmin):
    form = AdminDivisionForm
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["map_preview"]

    @admin.display(description=_("map"))
    def map_preview(self, obj: AdminDivision) -> str:
        if not obj.pk or not obj.geometry:
            return "-"
        return mark_safe(svg_map([obj.geometry], highlight=0))  # svg_map escapes its text


@admin.register(WorkGrid)
class WorkGridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "street", "unit_grid_count"]
    list_filter = ["street"]
    search_fields = ["code", "name"]
    filter_horizontal = ["collectors"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("street").annotate(n_grids=Count("unit_grids"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = AdminDivision.objects.filter(level=DivisionLevel.STREET)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("unit grids"), ordering="n_grids")
    def unit_grid_count(self, obj: WorkGrid) -> int:
        return obj.n_grids


class StreetFilter(admin.SimpleListFilter):
    title = _("street")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        return AdminDivision.objects.filter(level=DivisionLevel.STREET).values_list("pk", "name")

    def queryset(self, request, queryset):
        return queryset.filter(community__parent_id=self.value()) if self.value() else queryset


class UnitGridForm(forms.ModelForm):
    class Meta:
        model = UnitGrid
        fields = ["code", "name", "community", "work_grid", "geometry", "management_level", "land_use",
                  "responsible_department", "valid_from", "valid_to"]

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
                data["geometry"] = mapping(parse_polygon(data["geometry"]))
            except ValidationError as exc:
                self.add_error("geometry", exc)
        return data


@admin.register(UnitGrid)
class UnitGridAdmin(admin.ModelAdmin):
    form = UnitGridForm
    list_display = ["code", "name", "community", "work_grid", "area", "management_level"]
    list_filter = ["management_level", StreetFilter, "work_grid"]
    list_select_related = ["community", "work_grid"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["community"]
    readonly_fields = ["map_preview", "area_m2", "min_lon", "min_lat", "max_lon", "max_lat"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = AdminDivision.objects.filter(level=DivisionLevel.COMMUNITY)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("area (m²)"), ordering="area_m2")
    def area(self, obj: UnitGrid) -> str:
        return f"{obj.area_m2:,.0f}"

    @admin.display(description=_("map (grid and neighbours)"))
    def map_preview(self, obj: UnitGrid) -> str:
        if not obj.pk:
            return "-"
        m = _NEIGHBOUR_MARGIN_DEG
        neighbours = list(
            UnitGrid.objects.filter(min_lon__lte=obj.max_lon + m, max_lon__gte=obj.min_lon - m,
                                    min_lat__lte=obj.max_lat + m, max_lat__gte=obj.min_lat - m)
            .exclude(pk=obj.pk).values_list("code", "geometry")[:_NEIGHBOUR_LIMIT]
        )
        features = [{"type": "Feature", "geometry": obj.geometry, "properties": {"code": obj.code}}]
        features += [{"type": "Feature", "geometry": g, "properties": {"code": c}} for c, g in neighbours]
        return mark_safe(svg_map(features, highlight=0))  # svg_map escapes its text

    def save_model(self, request, obj: UnitGrid, form, change) -> None:
        geom = parse_polygon(obj.geometry)
        obj.area_m2 = geodesic_area_m2(geom)
        obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat = geom.bounds
        super().save_model(request, obj, form, change)


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "road", "number", "street", "community"]
    list_filter = ["kind"]
    list_select_related = ["street", "community"]
    search_fields = ["name", "road", "aliases"]
    raw_id_fields = ["street", "community"]
