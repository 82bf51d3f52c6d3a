"""Admin for the classification dictionary and the component inventory (部件管理)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from urbangrid.geo.index import OutsideJurisdiction, get_index
from urbangrid.geo.models import UnitGrid
from urbangrid.geo.preview import svg_map

from .actions import import_components
from .codes import ComponentIdValidator, jurisdiction_code, next_component_ids
from .models import Category, CategoryKind, CategorySynonym, Component

CRS_CHOICES = [
    ("WGS84", _("WGS-84 (GPS)")),
    ("GCJ02", _("GCJ-02 (Chinese web and phone maps)")),
    ("CGCS2000", _("CGCS2000")),
]


class MajorClassFilter(admin.SimpleListFilter):
    """Filter by major class (大类), for categories (their parent) or components."""

    title = _("major class")
    parameter_name = "major"
    lookup = "parent_id"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[int, str]]:
        majors = Category.objects.filter(parent__isnull=True)
        if self.lookup != "parent_id":
            majors = majors.filter(kind=CategoryKind.COMPONENT)
        return [(c.pk, f"{c.get_kind_display()} {c}") for c in majors]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(**{self.lookup: self.value()})
        return queryset


class ComponentMajorClassFilter(MajorClassFilter):
    lookup = "category__parent_id"


class CategorySynonymInline(admin.TabularInline):
    model = CategorySynonym
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "code", "name", "kind", "parent", "urgency", "dispatch_limit_hours", "handle_limit",
        "handle_unit", "default_department", "active",
    )
    list_display_links = ("code", "name")
    list_editable = ("urgency", "dispatch_limit_hours", "handle_limit", "handle_unit", "active")
    list_filter = ("kind", "urgency", "handle_unit", "is_local", "active", MajorClassFilter)
    list_select_related = ("parent", "default_department")
    search_fields = ("code", "name", "name_en", "synonyms__name")
    inlines = [CategorySynonymInline]


class ComponentForm(forms.ModelForm):
    """Checks the identifier and fills in what can be derived: identifier and unit grid."""

    class Meta:
        model = Component
        fields = (
            "obj_id", "category", "name", "state", "lon", "lat", "unit_grid", "authority_department",
            "owner_department", "maintainer_department", "address", "initial_date", "change_date",
            "data_source", "note",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["obj_id"].required = False
        self.fields["obj_id"].help_text = _("Leave empty to allocate the next free identifier.")
        self.fields["category"].queryset = Category.objects.filter(
            kind=CategoryKind.COMPONENT, parent__isnull=False,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        obj_id, category = data.get("obj_id"), data.get("category")
        if obj_id and (self.instance.pk is None or obj_id != self.instance.obj_id):
            try:
                parsed = ComponentIdValidator()(obj_id)
            except ValidationError as exc:
                self.add_error("obj_id", exc)
            else:
                if category is not None and parsed.class_code != category.code:
                    self.add_error("obj_id", _("The class code in the identifier is not the category's code."))
        lon, lat = data.get("lon"), data.get("lat")
        if not data.get("unit_grid") and lon is not None and lat is not None:
            try:
                data["unit_grid"] = UnitGrid.objects.get(pk=get_index().locate(lon, lat).unit_grid_id)
            except OutsideJurisdiction:
                self.add_error("lon", _("The point lies outside every unit grid of the jurisdiction."))
        return data


class ComponentImportForm(forms.Form):
    file = forms.FileField(label=_("file"), help_text=_("CSV (UTF-8 or GBK), GeoJSON or Excel .xlsx"))
    format = forms.ChoiceField(
        label=_("format"), required=False,
        choices=[("", _("from the file name")), ("csv", "CSV"), ("geojson", "GeoJSON"), ("xlsx", "Excel (.xlsx)")],
    )
    crs = forms.ChoiceField(label=_("coordinate system"), choices=CRS_CHOICES, initial="WGS84")
    atomic = forms.BooleanField(
        label=_("all or nothing"), required=False,
        help_text=_("Write nothing if any row is rejected."),
    )


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    form = ComponentForm
    list_display = ("obj_id", "category", "state", "unit_grid", "owner_department", "maintainer_department")
    list_filter = (
        "state", ComponentMajorClassFilter, ("maintainer_department", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("category", "unit_grid", "owner_department", "maintainer_department")
    search_fields = ("obj_id", "name", "address")
    raw_id_fields = ("unit_grid",)
    readonly_fields = ("map_preview",)

    @admin.display(description=_("map"))
    def map_preview(self, obj: Component) -> SafeString | str:
        if obj.pk is None or obj.unit_grid is None:
            return "—"
        return mark_safe(svg_map([obj.unit_grid.geometry], points=[(obj.lon, obj.lat)], highlight=0))

    def save_model(self, request: HttpRequest, obj: Component, form: forms.ModelForm, change: bool) -> None:
        if not obj.obj_id:
            county = jurisdiction_code()
            if obj.unit_grid is not None:
                county = ComponentIdValidator().county_for(obj.unit_grid.community.code)
            obj.obj_id = next_component_ids(county, obj.category, 1)[0]
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="catalog_component_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a survey file and show the row-by-row error report."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ComponentImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            report = import_components(
                form.cleaned_data["file"], fmt=form.cleaned_data["format"] or None, actor=request.user,
                atomic=form.cleaned_data["atomic"], crs=form.cleaned_data["crs"],
            )
            self.message_user(request, report.summary(), messages.SUCCESS if report.ok else messages.WARNING)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": _("Import components"), "form": form, "report": report,
        }
        return TemplateResponse(request, "admin/catalog/component/import.html", context)
