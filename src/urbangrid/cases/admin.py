from django.contrib import admin

from .models import Case, DispatchRule, StageLimit


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are changed only through their operations (the workflow engine); the admin shows them."""

    list_display = ("number", "state", "category", "source", "street", "department", "deadline", "light", "created_at")
    list_filter = ("state", "source", "light", "urgency", "category__kind", "street", "department")
    search_fields = ("number", "description", "address", "unit_grid__code")
    date_hierarchy = "created_at"
    list_select_related = ("category", "street", "department")
    raw_id_fields = ("component", "unit_grid", "work_grid", "merged_into")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StageLimit)
class StageLimitAdmin(admin.ModelAdmin):
    list_display = ("stage", "urgency", "area", "amount", "unit")
    list_editable = ("amount", "unit")
    list_filter = ("stage", "unit")


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "street", "component_owner", "department", "active")
    list_filter = ("active", "street", "department")
    list_editable = ("active",)
    raw_id_fields = ("category",)
