"""Admin: partner applications (keys shown once, only hashes stored) and the Open311
configuration of each public category (type, keywords, attributes and their values)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import actions
from .models import Application, AttributeValue, Service, ServiceAttribute, ServiceRequest


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "is_active", "rate_limit", "address_rate_limit", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact", "key_prefix"]
    readonly_fields = ["key_prefix", "user", "created_at"]
    fields = ["name", "contact", "is_active", "rate_limit", "address_rate_limit", "key_prefix", "user", "created_at"]
    actions = ["issue_new_key"]

    def save_model(self, request, obj: Application, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        limits = {"rate_limit": obj.rate_limit, "address_rate_limit": obj.address_rate_limit}
        app, key = actions.issue_application(obj.name, contact=obj.contact, **limits)
        obj.pk, obj.user, obj.key_prefix = app.pk, app.user, app.key_prefix
        self._show_key(request, app, key)

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request, queryset) -> None:
        for app in queryset:
            self._show_key(request, app, actions.rotate_key(app))

    def _show_key(self, request, app: Application, key: str) -> None:
        text = gettext("API key of “%(app)s”: %(key)s — copy it now, it is not shown again.")
        self.message_user(request, text % {"app": app.name, "key": key}, messages.WARNING)


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0
    show_change_link = True
    fields = ["order", "code", "description", "datatype", "required", "variable", "datatype_description"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["category", "type", "keywords", "strict_attributes"]
    list_filter = ["type"]
    search_fields = ["category__code", "category__name", "keywords"]
    autocomplete_fields = ["category"]
    inlines = [ServiceAttributeInline]


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 1
    fields = ["order", "key", "name"]


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["service", "order", "code", "datatype", "required", "variable"]
    list_filter = ["datatype"]
    search_fields = ["code", "description", "service__category__name"]
    inlines = [AttributeValueInline]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    """Read-only view of what partners and the portal sent (for support and audits)."""

    list_display = ["__str__", "application", "status", "case", "created_at"]
    list_filter = ["status", "application"]
    search_fields = ["token", "case__number", "idempotency_key"]
    list_select_related = ["application", "case"]
    exclude = ["rating_code_hash"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
