"""Working-calendar data (工作日历): days entered by administrators, year markers, office hours.

The arithmetic lives in :mod:`urbangrid.core.calendar`; saving or deleting any of these rows
invalidates the cached calendar and sends ``calendar_changed``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from .calendar import DEFAULT_OFFICE_HOURS, notify_calendar_changed, parse_office_hours

__all__ = ["CalendarDay", "CalendarDayKind", "CalendarYear", "WorkCalendarConfig"]


class CalendarDayKind(models.TextChoices):
    OFFICIAL_HOLIDAY = "official_holiday", _("official holiday")  # 法定节假日 / 放假调休的休息日
    MAKEUP_WORKDAY = "makeup_workday", _("make-up working day")  # 调休上班
    LOCAL_DAY_OFF = "local_day_off", _("local day off")  # 地方性休息日
    OTHER = "other", _("other")


class CalendarDay(models.Model):
    """One day whose status an administrator set (日历例外日); overrides every other source."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"), default=False, help_text=_("Tick for a make-up working day (调休上班).")
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=CalendarDayKind.choices, default=CalendarDayKind.OFFICIAL_HOLIDAY
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> CalendarDay:
        obj = super().from_db(db, field_names, values)
        obj._loaded_year = obj.__dict__.get("date").year if obj.__dict__.get("date") else None
        return obj

    def clean(self) -> None:
        off_kinds = {CalendarDayKind.OFFICIAL_HOLIDAY, CalendarDayKind.LOCAL_DAY_OFF}
        if self.kind in off_kinds and self.is_working_day:
            raise ValidationError({"is_working_day": _("A holiday or day off cannot be a working day.")})
        if self.kind == CalendarDayKind.MAKEUP_WORKDAY and not self.is_working_day:
            raise ValidationError({"is_working_day": _("A make-up working day must be a working day.")})
        if self.date and not 1900 <= self.date.year <= 2100:
            raise ValidationError({"date": _("The calendar covers the years 1900 to 2100.")})


class CalendarYear(models.Model):
    """Publication marker for a year (年度节假日安排): once the State Council's schedule for the
    year is entered as calendar days, tick ``official_schedule_entered`` — deadlines in that year
    stop being provisional."""

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    official_schedule_entered = models.BooleanField(
        _("official schedule entered"),
        default=False,
        help_text=_(
            "Tick after entering every day off and make-up working day of the published schedule. "
            "For years the bundled calendar package does not know, the statutory-holiday estimate "
            "is then no longer used: the year is weekends plus the days entered here."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> CalendarYear:
        obj = super().from_db(db, field_names, values)
        obj._loaded_year = obj.__dict__.get("year")
        return obj


class WorkCalendarConfig(models.Model):
    """Office hours (作息时间) of the working calendar; a single row (pk = 1).

    Empty ``office_hours`` means ``settings.URBANGRID["OFFICE_HOURS"]``
    (default 08:30-12:00,14:00-17:30).
    """

    office_hours = models.CharField(
        _("office hours"),
        max_length=200,
        blank=True,
        help_text=_("Working windows of a working day, e.g. “08:30-12:00,14:00-17:30”. Empty: the site default."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        return self.effective_office_hours()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> WorkCalendarConfig:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def effective_office_hours(self) -> str:
        return self.office_hours.strip() or str(settings.URBANGRID.get("OFFICE_HOURS", DEFAULT_OFFICE_HOURS))

    def clean(self) -> None:
        if self.office_hours.strip():
            try:
                parse_office_hours(self.office_hours)
            except ValueError as exc:
                raise ValidationError({"office_hours": str(exc)}) from exc


# --- signals: keep the cached calendar fresh and tell the case app ---------------------


@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _calendar_day_changed(sender: type[CalendarDay], instance: CalendarDay, **kwargs: Any) -> None:
    years = {instance.date.year}
    old = getattr(instance, "_loaded_year", None)
    if old:
        years.add(old)
    instance._loaded_year = instance.date.year
    notify_calendar_changed(years, sender=sender)


@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarYear)
def _calendar_year_changed(sender: type[CalendarYear], instance: CalendarYear, **kwargs: Any) -> None:
    years = {instance.year}
    old = getattr(instance, "_loaded_year", None)
    if old:
        years.add(old)
    instance._loaded_year = instance.year
    notify_calendar_changed(years, sender=sender)


@receiver(post_save, sender=WorkCalendarConfig)
@receiver(post_delete, sender=WorkCalendarConfig)
def _calendar_config_changed(sender: type[WorkCalendarConfig], **kwargs: Any) -> None:
    notify_calendar_changed(all_years=True, sender=sender)
