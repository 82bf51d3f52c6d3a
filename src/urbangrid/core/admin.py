"""Admin for the organisation: departments, roles, users (with scope), tokens and the audit log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, AuditLog, Department, Role, User


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "division_code", "phone", "is_active", "member_count")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "credit_code")
    autocomplete_fields = ("parent",)

    @admin.display(description=_("members"))
    def member_count(self, obj: Department) -> int:
        return obj.members.count()


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    filter_horizontal = ("permissions",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "department", "role_list", "scope_city", "is_active", "last_login")
    list_filter = ("roles", "department__kind", "scope_city", "is_active", "is_staff")
    search_fields = ("username", "display_name", "phone", "department__name")
    autocomplete_fields = ("department",)
    filter_horizontal = ("roles", "scope_departments", "groups", "user_permissions")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Organisation and scope"),
            {
                "fields": (
                    "display_name",
                    "phone",
                    "department",
                    "roles",
                    "scope_city",
                    "scope_departments",
                    "scope_division_codes",
                )
            },
        ),
    )

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(str(r) for r in obj.roles.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department").prefetch_related("roles")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Adding a token generates its key, stores only the hash and shows the key once, in the
    message after saving. An existing token can be renamed or revoked, never shown again."""

    list_display = ("name", "user", "created_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)

    def get_fields(self, request, obj=None):
        return ("user", "name") if obj is None else ("user", "name", "created_at", "revoked")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "created_at")

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        from .audit import audit

        if not change:
            request._urbangrid_new_token_key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        if not change:
            audit(request.user, "api_token.issue", obj, summary=str(obj), user=obj.user.get_username())
        elif "revoked" in form.changed_data and obj.revoked:
            audit(request.user, "api_token.revoke", obj, summary=str(obj), user=obj.user.get_username())

    def response_add(self, request, obj: ApiToken, post_url_continue=None):
        key = getattr(request, "_urbangrid_new_token_key", None)
        if key:
            self.message_user(
                request,
                format_html(
                    gettext("The key of the API token “{name}” is {key} — copy it now: it is shown only this once."),
                    name=obj.name,
                    key=format_html('<code data-testid="new-token-key">{}</code>', key),
                ),
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("summary", "object_id", "actor__username")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from . import admin_calendar  # noqa: E402, F401  (registers the working-calendar admin)
