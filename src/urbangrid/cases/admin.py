from django.contrib import admin

from .models import Attachment, Case, StageLimit


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
    list_display = ("stage", "urgency", "amount", "unit")
    list_editable = ("amount", "unit")
    list_filter = ("stage", "unit")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("token", "kind", "case", "mime_type", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "mime_type")
    raw_id_fields = ("case", "uploaded_by")
    readonly_fields = [f.name for f in Attachment._meta.fields]

    def has_add_permission(self, request):
        return False
