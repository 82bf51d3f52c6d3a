from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Case, DispatchRule, PendingRequest, StageLimit, State
from .rules import URGENCIES


class _ChoicesFilter(admin.SimpleListFilter):
    """A filter on a field without choices (generic in the engine's base), by its labels."""

    choices_class: type = State

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in self.choices_class.choices if value]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class StateFilter(_ChoicesFilter):
    title = _("state")
    parameter_name = "state"
    choices_class = State


class UrgencyFilter(_ChoicesFilter):
    title = _("urgency")
    parameter_name = "urgency"

    def lookups(self, request, model_admin):
        return URGENCIES


class PendingRequestFilter(_ChoicesFilter):
    title = _("pending request")
    parameter_name = "pending_request"
    choices_class = PendingRequest


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are changed only through their operations (the workflow engine); the admin shows them.

    `state` and `pending_request` have no choices (generic fields of the engine's base): they are
    shown by their labels in the case's workflow, never as codes."""

    list_display = (
        "number",
        "state_label",
        "category",
        "source_label",
        "street",
        "department",
        "deadline",
        "light_label",
        "pending_request_label",
        "urgency_label",
        "created_at",
    )
    list_filter = (
        StateFilter,
        "source",
        "light",
        PendingRequestFilter,
        UrgencyFilter,
        "category__kind",
        "street",
        "department",
    )
    exclude = ("state", "pending_request", "urgency")
    readonly_fields = ("state_label", "pending_request_label", "urgency_label")
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

    @admin.display(description=_("state"), ordering="state")
    def state_label(self, obj: Case) -> str:
        return obj.get_workflow().state_label(obj.state)

    @admin.display(description=_("source"), ordering="source")
    def source_label(self, obj: Case) -> str:
        return str(obj.get_source_display())

    @admin.display(description=_("light"), ordering="light")
    def light_label(self, obj: Case) -> str:
        return str(obj.get_light_display())

    @admin.display(description=_("urgency"), ordering="urgency")
    def urgency_label(self, obj: Case) -> str:
        return str(dict(URGENCIES).get(obj.urgency, obj.urgency))

    @admin.display(description=_("pending request"), ordering="pending_request")
    def pending_request_label(self, obj: Case) -> str:
        if not obj.pending_request:
            return ""
        return str(dict(PendingRequest.choices).get(obj.pending_request, obj.pending_request))


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
