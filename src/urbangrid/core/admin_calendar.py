"""Admin for the working calendar (工作日历): exception days, year markers and office hours.

Saving or deleting through these pages fires the model signals, which rebuild the cached
calendar and send ``calendar_changed`` (open deadlines are recomputed by the case app).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .calendar import get_calendar, notify_calendar_changed
from .models_calendar import CalendarDay, CalendarDayKind, CalendarYear, WorkCalendarConfig


def _audit(request: HttpRequest, action: str, obj: Any, **data: Any) -> None:
    from .audit import audit

    audit(getattr(request, "user", None), action, obj, summary="" if obj is None else str(obj), **data)


class _AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit(request, "calendar.change" if change else "calendar.add", obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        _audit(request, "calendar.delete", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            _audit(request, "calendar.delete", obj)
        super().delete_queryset(request, queryset)


class YearListFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class CalendarDayAdmin(_AuditedAdmin):
    list_display = ("date", "weekday", "is_working_day", "kind", "note")
    list_filter = ("kind", YearListFilter, "is_working_day")
    date_hierarchy = "date"
    search_fields = ("note",)
    ordering = ("-date",)
    fields = ("date", "is_working_day", "kind", "note")

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
        return str(names[obj.date.weekday()])


class CalendarYearAdmin(_AuditedAdmin):
    list_display = ("year", "official_schedule_entered", "source", "provisional", "days_entered", "note")
    list_filter = ("official_schedule_entered",)
    ordering = ("-year",)
    actions = ("copy_exceptions",)

    @admin.display(description=_("source"))
    def source(self, obj: CalendarYear) -> str:
        labels = {
            "package": _("official (bundled package)"),
            "official": _("official (entered here)"),
            "statutory": _("estimate: statutory holidays, no make-up days"),
            "weekends": _("estimate: weekends only"),
        }
        return str(labels.get(get_calendar().year_source(obj.year), ""))

    @admin.display(description=_("provisional"), boolean=True)
    def provisional(self, obj: CalendarYear) -> bool:
        return get_calendar().is_provisional(obj.year)

    @admin.display(description=_("days entered"))
    def days_entered(self, obj: CalendarYear) -> int:
        return CalendarDay.objects.filter(date__year=obj.year).count()

    @admin.action(description=_("Copy the current holidays and make-up days into editable calendar days"))
    def copy_exceptions(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Start a year's schedule from the current estimate (or package data): one row per
        weekday off and per weekend working day, which the administrator then corrects."""
        cal = get_calendar()
        created: list[CalendarDay] = []
        years: set[int] = set()
        for marker in queryset:
            existing = set(CalendarDay.objects.filter(date__year=marker.year).values_list("date", flat=True))
            for d, working in cal.exceptions(marker.year):
                if d in existing:
                    continue
                created.append(
                    CalendarDay(
                        date=d,
                        is_working_day=working,
                        kind=CalendarDayKind.MAKEUP_WORKDAY if working else CalendarDayKind.OFFICIAL_HOLIDAY,
                        note=gettext("copied from: %(source)s") % {"source": cal.year_source(marker.year)},
                    )
                )
                years.add(marker.year)
        with transaction.atomic():
            CalendarDay.objects.bulk_create(created, ignore_conflicts=True)
            if years:
                notify_calendar_changed(years, sender=CalendarDay)
                _audit(request, "calendar.copy", None, object_type="core.calendarday", years=sorted(years))
        self.message_user(
            request,
            ngettext("%(n)d calendar day created.", "%(n)d calendar days created.", len(created)) % {"n": len(created)},
            messages.SUCCESS,
        )


class WorkCalendarConfigAdmin(_AuditedAdmin):
    list_display = ("__str__", "office_hours", "updated_at")
    fields = ("office_hours", "effective")
    readonly_fields = ("effective",)

    @admin.display(description=_("effective office hours"))
    def effective(self, obj: WorkCalendarConfig) -> str:
        return obj.effective_office_hours() if obj.pk else WorkCalendarConfig().effective_office_hours()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not WorkCalendarConfig.objects.exists()


admin.site.register(CalendarDay, CalendarDayAdmin)
admin.site.register(CalendarYear, CalendarYearAdmin)
admin.site.register(WorkCalendarConfig, WorkCalendarConfigAdmin)
