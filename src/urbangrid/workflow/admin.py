from django.contrib import admin

from .models import History


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
