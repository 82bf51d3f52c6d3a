"""Admin: scoring rules (dated versions with their terms; a version used by a published month is
locked — add a new version), published months (read only: publish and correct on the scores page
/evaluation/scores/, through the API or `urbangrid publish_month`) and the bulletin template."""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from urbangrid.core.audit import audit

from .models import BulletinTemplate, PublishedMonth, ScoringRule, ScoringTerm
from .reports import default_bulletin


class ScoringTermInline(admin.TabularInline):
    model = ScoringTerm
    extra = 1
    fields = [
        "order",
        "kind",
        "indicator",
        "label",
        "weight",
        "invert",
        "missing_value",
        "bands",
        "band_mode",
        "per_unit",
        "target",
        "full_points",
        "above",
        "below",
        "cap",
    ]

    def _locked(self, obj) -> bool:
        return obj is not None and obj.locked

    def has_add_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "object_type", "version", "valid_from", "active", "is_locked"]
    list_filter = ["object_type", "active"]
    search_fields = ["name"]
    readonly_fields = ["version", "created_at"]
    fields = ["object_type", "name", "version", "valid_from", "active", "base_points", "levels", "note", "created_at"]
    inlines = [ScoringTermInline]
    actions = ["new_version"]

    @admin.display(boolean=True, description=_("locked (published)"))
    def is_locked(self, obj: ScoringRule) -> bool:
        return obj.locked

    def has_change_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.locked) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.locked) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj: ScoringRule, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit(request.user, "evaluation.rule_change" if change else "evaluation.rule_add", obj, summary=str(obj))

    @admin.action(description=_("Copy as a new version valid from the first of next month"))
    def new_version(self, request, queryset) -> None:
        today = date.today()
        first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        for rule in queryset:
            with transaction.atomic():
                terms = list(rule.terms.all())
                copy = ScoringRule.objects.create(
                    object_type=rule.object_type,
                    name=rule.name,
                    valid_from=max(first, rule.valid_from),
                    active=rule.active,
                    base_points=rule.base_points,
                    levels=rule.levels,
                    note=rule.note,
                )
                for t in terms:
                    t.pk, t.rule = None, copy
                    t.save()
                audit(request.user, "evaluation.rule_add", copy, summary=str(copy), copied_from=rule.pk)
            self.message_user(request, gettext("Added %(r)s: edit it before it applies.") % {"r": copy}, messages.INFO)


@admin.register(PublishedMonth)
class PublishedMonthAdmin(admin.ModelAdmin):
    list_display = ["period", "object_type", "scope", "version", "rule", "published_by", "published_at", "reason"]
    list_filter = ["object_type", "period"]

    def view_on_site(self, obj: PublishedMonth) -> str:
        """The version on the scores page."""
        query = {"period": obj.period, "type": obj.object_type, "version": obj.version}
        return reverse("evaluation:scores") + "?" + urlencode(query)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BulletinTemplate)
class BulletinTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "updated_at"]
    fields = ["name", "active", "body"]

    def get_changeform_initial_data(self, request):
        return {"name": "《数字城管》通报", "body": default_bulletin(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj: BulletinTemplate, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit(request.user, "evaluation.bulletin_template", obj, summary=obj.name)
