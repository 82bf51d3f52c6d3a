from django.contrib import admin

from .models import Attachment, History, Timer


@admin.register(History)
class HistoryAdmin(admin.ModelAdmin):
    """Read-only: history is append-only."""

    list_display = (
        "created_at",
        "content_type",
        "object_id",
        "seq",
        "action",
        "from_state",
        "to_state",
        "actor",
        "role",
    )
    list_filter = ("action", "role", "content_type")
    search_fields = ("object_id", "actor__username", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "content_type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Uploads are read-only here; evidence that history refers to can never be deleted."""

    list_display = ("token", "kind", "content_type", "object_id", "mime_type", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "mime_type", "content_type")
    readonly_fields = [f.name for f in Attachment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_evidence:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for att in queryset:
            att.delete()  # refuses evidence


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    list_display = ("content_type", "object_id", "name", "started_at", "deadline", "paused_at", "stopped_at", "light")
    list_filter = ("name", "light", "content_type")
    readonly_fields = [f.name for f in Timer._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
