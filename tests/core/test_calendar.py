"""Working calendar (工作日历): deadlines to the minute, provisional years, admin edits."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

import urbangrid.core.admin_calendar  # noqa: F401  (registers the admin pages)
from tests import factories
from urbangrid.core.calendar import (
    Deadline,
    WorkingCalendar,
    calendar_changed,
    get_calendar,
    invalidate_calendar,
    package_knows,
    parse_office_hours,
)
from urbangrid.core.models_calendar import CalendarDay, CalendarDayKind, CalendarYear, WorkCalendarConfig

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    invalidate_calendar()
    yield
    invalidate_calendar()


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    """The default calendar without database rows (08:30-12:00, 14:00-17:30)."""
    return WorkingCalendar()


def wh(cal: WorkingCalendar, start: datetime, amount) -> datetime:
    return cal.add(start, amount, "working_hours").at


# --- the package data these tests rely on ----------------------------------------------


def test_package_data_assumptions():
    import chinese_calendar

    assert package_knows(2026) and not package_knows(2027)
    # 2026 National Day: 1-7 October off, make-up Sundays/Saturdays 20 Sept and 10 Oct.
    assert all(chinese_calendar.is_holiday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and chinese_calendar.is_workday(date(2026, 10, 10))
    # 2026 Spring Festival: 15-23 February off, make-up Saturday 14 February.
    assert all(chinese_calendar.is_holiday(date(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(date(2026, 2, 14))


# --- working hours ------------------------------------------------------------------------


def test_within_one_morning(cal):
    assert wh(cal, at(2026, 3, 9, 9, 0), 2) == at(2026, 3, 9, 11, 0)  # Monday


def test_across_lunch_break(cal):
    assert wh(cal, at(2026, 3, 9, 11, 0), 2) == at(2026, 3, 9, 15, 0)
    # exactly at the end of the morning: the earliest instant (12:00, not 14:00)
    assert wh(cal, at(2026, 3, 9, 11, 0), 1) == at(2026, 3, 9, 12, 0)


def test_start_outside_office_hours(cal):
    assert wh(cal, at(2026, 3, 9, 6, 0), 1) == at(2026, 3, 9, 9, 30)
    assert wh(cal, at(2026, 3, 9, 12, 30), 1) == at(2026, 3, 9, 15, 0)
    assert wh(cal, at(2026, 3, 9, 20, 0), 1) == at(2026, 3, 10, 9, 30)


def test_across_a_weekend(cal):
    # Friday 16:30 + 2 h: 60 min on Friday, 60 min on Monday
    assert wh(cal, at(2026, 3, 13, 16, 30), 2) == at(2026, 3, 16, 9, 30)


def test_across_national_day(cal):
    d = cal.add(at(2026, 9, 30, 16, 0), 3, "working_hours")
    assert d == Deadline(at(2026, 10, 8, 10, 0), False)


def test_across_spring_festival_with_adjusted_saturday(cal):
    # Friday 13 Feb 17:00 + 1 h: 30 min Friday, then Saturday 14 Feb is a make-up working day (调休)
    assert wh(cal, at(2026, 2, 13, 17, 0), 1) == at(2026, 2, 14, 9, 0)
    assert cal.is_working_day(date(2026, 2, 14))
    # Saturday 14 Feb 17:00 + 1 h: 15-23 Feb are off -> Tuesday 24 Feb
    assert wh(cal, at(2026, 2, 14, 17, 0), 1) == at(2026, 2, 24, 9, 0)


def test_adjusted_sunday_counts(cal):
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday, make-up working day
    assert wh(cal, at(2026, 9, 19, 10, 0), 1) == at(2026, 9, 20, 9, 30)


def test_fractional_amounts_round_to_the_minute(cal):
    start = at(2026, 3, 9, 9, 0)
    assert wh(cal, start, 0.17) == at(2026, 3, 9, 9, 10)  # Taiyuan urgent dispatch: 10 min
    assert wh(cal, start, Decimal("0.5")) == at(2026, 3, 9, 9, 30)
    assert wh(cal, start, Decimal(7) / 60) == at(2026, 3, 9, 9, 7)
    assert wh(cal, start, 1.5) == at(2026, 3, 9, 10, 30)


def test_zero_amount_returns_start(cal):
    start = at(2026, 3, 14, 10, 0)  # Saturday
    assert cal.add(start, 0, "working_hours") == Deadline(start, False)


def test_seconds_are_kept(cal):
    assert wh(cal, at(2026, 3, 9, 11, 59, 30), Decimal(1) / 60) == at(2026, 3, 9, 14, 0, 30)


# --- natural (continuous) hours --------------------------------------------------------


def test_natural_hours_ignore_the_holiday(cal):
    assert cal.add(at(2026, 9, 30, 20, 0), 24, "hours") == Deadline(at(2026, 10, 1, 20, 0), False)
    assert cal.add(at(2026, 9, 30, 20, 0), 0.17, "hours").at == at(2026, 9, 30, 20, 10)
    assert cal.add(at(2026, 9, 30, 20, 0), 2, "days").at == at(2026, 10, 2, 20, 0)


def test_utc_input_gives_local_output(cal):
    start = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = cal.add(start, 1, "working_hours").at
    assert result == at(2026, 3, 9, 10, 0)
    assert result.tzinfo == SH
    assert cal.add(start, 1, "hours").at.tzinfo == SH


# --- working days (domain §7.6) ---------------------------------------------------------


def wd(cal: WorkingCalendar, start: datetime, n) -> datetime:
    return cal.add(start, n, "working_days").at


def test_working_days_from_inside_office_hours(cal):
    assert wd(cal, at(2026, 9, 30, 10, 15), 1) == at(2026, 10, 8, 10, 15)  # same clock time
    assert wd(cal, at(2026, 3, 13, 15, 0), 2) == at(2026, 3, 17, 15, 0)  # over the weekend
    assert wd(cal, at(2026, 3, 9, 8, 30), 1) == at(2026, 3, 10, 8, 30)
    assert wd(cal, at(2026, 3, 9, 17, 30), 1) == at(2026, 3, 10, 17, 30)


def test_working_days_from_the_lunch_break_keep_the_clock_time(cal):
    assert wd(cal, at(2026, 3, 16, 12, 30), 1) == at(2026, 3, 17, 12, 30)


def test_working_days_from_outside_office_hours(cal):
    # after hours: end of the N-th working day counted from the next working day
    assert wd(cal, at(2026, 9, 30, 18, 0), 1) == at(2026, 10, 8, 17, 30)
    assert wd(cal, at(2026, 3, 14, 10, 0), 2) == at(2026, 3, 17, 17, 30)  # Saturday
    assert wd(cal, at(2026, 10, 3, 9, 0), 1) == at(2026, 10, 8, 17, 30)  # inside a holiday


def test_working_days_before_office_hours_count_the_same_day(cal):
    # documented choice: the start day's working time has not begun, so it is day 1
    assert wd(cal, at(2026, 3, 16, 7, 0), 1) == at(2026, 3, 16, 17, 30)
    assert wd(cal, at(2026, 3, 16, 7, 0), 3) == at(2026, 3, 18, 17, 30)


def test_fractional_working_days(cal):
    assert wd(cal, at(2026, 3, 9, 10, 0), 0.5) == at(2026, 3, 9, 15, 30)  # 210 working minutes
    assert wd(cal, at(2026, 3, 9, 10, 0), 1.5) == at(2026, 3, 10, 15, 30)
    assert wd(cal, at(2026, 3, 9, 18, 0), 0.5) == at(2026, 3, 10, 12, 0)


def test_working_days_into_the_next_year(cal):
    d = cal.add(at(2026, 12, 30, 10, 0), 3, "working_days")
    # 31 Dec, then 2027: 1 Jan (statutory) and the weekend are skipped -> 4 Jan, 5 Jan
    assert d == Deadline(at(2027, 1, 5, 10, 0), True)


# --- provisional years and administrator entries ----------------------------------------


@pytest.mark.django_db
def test_deadline_into_2027_is_provisional_then_official_after_admin_entry():
    start = at(2026, 12, 31, 16, 0)  # Thursday
    d = get_calendar().add(start, 3, "working_hours")
    # 90 min on 31 Dec; 1 Jan 2027 (New Year, from holidays.China) and the weekend skipped
    assert d == Deadline(at(2027, 1, 4, 10, 0), True)
    assert get_calendar().is_provisional(2027) and not get_calendar().is_provisional(2026)
    assert get_calendar().year_source(2027) == "statutory"

    # A hypothetical published schedule: 1 Jan off, Saturday 2 Jan a make-up working day.
    CalendarDay.objects.create(date=date(2027, 1, 1), is_working_day=False, kind=CalendarDayKind.OFFICIAL_HOLIDAY)
    CalendarDay.objects.create(date=date(2027, 1, 2), is_working_day=True, kind=CalendarDayKind.MAKEUP_WORKDAY)
    CalendarYear.objects.create(year=2027, official_schedule_entered=True)

    d = get_calendar().add(start, 3, "working_hours")
    assert d == Deadline(at(2027, 1, 2, 10, 0), False)
    assert get_calendar().year_source(2027) == "official"
    assert not get_calendar().is_provisional(2027)


@pytest.mark.django_db
def test_official_schedule_replaces_the_statutory_estimate():
    # holidays.China guesses 5 Oct 2027 as an observed day off; once the year is entered,
    # only the administrator's rows count.
    assert not get_calendar().is_working_day(date(2027, 10, 5))
    CalendarYear.objects.create(year=2027, official_schedule_entered=True)
    assert get_calendar().is_working_day(date(2027, 10, 5))
    assert get_calendar().is_working_day(date(2027, 1, 1))  # nothing entered yet


@pytest.mark.django_db
def test_local_day_off_shifts_a_deadline():
    start = at(2026, 3, 13, 16, 30)
    assert get_calendar().add(start, 2, "working_hours").at == at(2026, 3, 16, 9, 30)
    CalendarDay.objects.create(date=date(2026, 3, 16), kind=CalendarDayKind.LOCAL_DAY_OFF, note="暴雨停工")
    assert get_calendar().add(start, 2, "working_hours") == Deadline(at(2026, 3, 17, 9, 30), False)


@pytest.mark.django_db
def test_calendar_changed_signal_carries_the_years():
    received: list[dict] = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    calendar_changed.connect(listener)
    try:
        day = CalendarDay.objects.create(date=date(2027, 5, 6), kind=CalendarDayKind.LOCAL_DAY_OFF)
        day.date = date(2028, 5, 8)
        day.save()
        day.delete()
        WorkCalendarConfig.objects.create(office_hours="09:00-17:00")
    finally:
        calendar_changed.disconnect(listener)
    assert [r["years"] for r in received] == [{2027}, {2027, 2028}, {2028}, set()]
    assert received[-1]["all_years"] is True and received[0]["all_years"] is False


@pytest.mark.django_db
def test_office_hours_from_the_database():
    assert get_calendar().day_minutes == 420
    WorkCalendarConfig.objects.create(office_hours="09:00-12:00,13:00-18:00")
    cal = get_calendar()
    assert cal.day_minutes == 480
    assert wh(cal, at(2026, 3, 9, 11, 0), 2) == at(2026, 3, 9, 14, 0)


def test_office_hours_from_settings():
    with override_settings(URBANGRID={"OFFICE_HOURS": "08:00-16:00"}):
        cal = WorkingCalendar()
        assert cal.day_minutes == 480
        assert wh(cal, at(2026, 3, 9, 15, 0), 2) == at(2026, 3, 10, 9, 0)


def test_parse_office_hours_validation():
    assert parse_office_hours("08:30-12:00, 14:00-17:30") == ((510, 720), (840, 1050))
    for bad in ("", "8-12", "12:00-08:00", "08:00-12:00,11:00-13:00", "08:00-25:00", "08:61-09:00"):
        with pytest.raises(ValueError):
            parse_office_hours(bad)


def test_calendar_day_validation():
    with pytest.raises(ValidationError):
        CalendarDay(date=date(2027, 2, 20), kind=CalendarDayKind.MAKEUP_WORKDAY, is_working_day=False).clean()
    with pytest.raises(ValidationError):
        CalendarDay(date=date(2027, 2, 8), kind=CalendarDayKind.OFFICIAL_HOLIDAY, is_working_day=True).clean()
    with pytest.raises(ValidationError):
        WorkCalendarConfig(office_hours="17:00-08:00").clean()


@pytest.mark.django_db
def test_rolled_back_change_does_not_linger():
    from django.db import transaction

    start = at(2026, 3, 13, 16, 30)
    assert get_calendar().add(start, 2, "working_hours").at == at(2026, 3, 16, 9, 30)
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(date=date(2026, 3, 16), kind=CalendarDayKind.LOCAL_DAY_OFF)
        assert get_calendar().add(start, 2, "working_hours").at == at(2026, 3, 17, 9, 30)
        raise RuntimeError("roll back")
    assert get_calendar().add(start, 2, "working_hours").at == at(2026, 3, 16, 9, 30)


# --- admin --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_entry_triggers_the_signal(client):
    admin_user = factories.user(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    years: list[set[int]] = []

    def listener(sender, **kwargs):
        years.append(kwargs["years"])

    calendar_changed.connect(listener)
    try:
        response = client.post(
            reverse("admin:core_calendarday_add"),
            {"date": "2026-03-16", "is_working_day": "", "kind": "local_day_off", "note": "test"},
        )
    finally:
        calendar_changed.disconnect(listener)
    assert response.status_code == 302, response.content[:2000]
    assert years == [{2026}]
    assert not get_calendar().is_working_day(date(2026, 3, 16))
    for name in ("core_calendarday_changelist", "core_calendaryear_changelist", "core_workcalendarconfig_changelist"):
        assert client.get(reverse(f"admin:{name}")).status_code == 200
    assert client.get(reverse("admin:core_calendarday_changelist") + "?year=2026&kind=local_day_off").status_code == 200


@pytest.mark.django_db
def test_admin_copy_exceptions_action(client):
    client.force_login(factories.user(is_staff=True, is_superuser=True))
    marker = CalendarYear.objects.create(year=2027)
    response = client.post(
        reverse("admin:core_calendaryear_changelist"),
        {"action": "copy_exceptions", "_selected_action": [marker.pk]},
    )
    assert response.status_code == 302
    rows = CalendarDay.objects.filter(date__year=2027)
    assert rows.filter(date=date(2027, 1, 1), is_working_day=False).exists()
    assert not rows.filter(is_working_day=True).exists()  # holidays.China knows no make-up days


# --- between() and robustness ------------------------------------------------------------


def test_between_basic(cal):
    assert cal.working_minutes_between(at(2026, 3, 9, 9, 0), at(2026, 3, 9, 15, 0)) == 240
    assert cal.working_minutes_between(at(2026, 3, 9, 15, 0), at(2026, 3, 9, 9, 0)) == -240
    assert cal.working_minutes_between(at(2026, 9, 30, 16, 0), at(2026, 10, 8, 10, 0)) == 180
    assert cal.working_minutes_between(at(2026, 3, 14, 9, 0), at(2026, 3, 15, 18, 0)) == 0
    assert cal.working_minutes_between(at(2026, 12, 31, 17, 0), at(2027, 1, 4, 9, 0)) == 60


def test_add_then_between_is_the_amount(cal):
    rng = random.Random(20260101)
    base = at(2025, 12, 1)
    for _ in range(2000):
        start = base + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
        minutes = rng.randrange(0, 60 * 60)
        end = cal.add(start, Decimal(minutes) / 60, "working_hours").at
        assert end >= start
        assert cal.working_minutes_between(start, end) == minutes, (start, minutes, end)
        assert cal.working_minutes_between(end, start) == -minutes
        days = rng.randrange(0, 12)
        end = cal.add(start, days, "working_days").at
        assert cal.working_minutes_between(start, end) == days * cal.day_minutes, (start, days, end)


def test_next_working_instant(cal):
    assert cal.next_working_instant(at(2026, 3, 9, 9, 15)) == at(2026, 3, 9, 9, 15)
    assert cal.next_working_instant(at(2026, 3, 9, 12, 0)) == at(2026, 3, 9, 14, 0)
    assert cal.next_working_instant(at(2026, 3, 9, 7, 0)) == at(2026, 3, 9, 8, 30)
    assert cal.next_working_instant(at(2026, 9, 30, 18, 0)) == at(2026, 10, 8, 8, 30)
    assert cal.next_working_instant(at(2026, 12, 31, 18, 0)) == at(2027, 1, 4, 8, 30)


@pytest.mark.parametrize("year", [1900, 1949, 1990, 2003, 2050, 2100])
def test_any_year_works(cal, year):
    start = at(year, 12, 31, 16, 0)
    for unit in ("working_hours", "working_days", "hours"):
        d = cal.add(start, 40, unit)
        assert d.at > start
    assert cal.add(start, 40, "working_hours").provisional is True
    assert cal.working_minutes_between(at(year, 1, 1), at(year + 1, 12, 31)) > 0
    assert cal.is_provisional(year)


def test_year_2100_into_2101_uses_weekends_only(cal):
    assert cal.year_source(2100) == "statutory"
    assert cal.year_source(2101) == "weekends"
    assert cal.add(at(2100, 12, 31, 16, 0), 3, "working_hours").provisional


def test_invalid_unit_and_amount(cal):
    with pytest.raises(ValueError, match=r"Unknown time-limit unit 'weeks'.*working_hours"):
        cal.add(at(2026, 3, 9, 9), 1, "weeks")
    with pytest.raises(ValueError, match="≥ 0"):
        cal.add(at(2026, 3, 9, 9), -1, "working_hours")
    with pytest.raises(ValueError, match="number"):
        cal.add(at(2026, 3, 9, 9), "2", "working_hours")
    with pytest.raises(ValueError):
        cal.add(at(2026, 3, 9, 9), float("nan"), "hours")


def test_naive_datetimes_are_local_time(cal):
    naive = datetime(2026, 3, 9, 9, 0)
    assert cal.add(naive, 2, "working_hours").at == at(2026, 3, 9, 11, 0)
    assert cal.add(naive, 2, "hours").at == at(2026, 3, 9, 11, 0)
    assert cal.working_minutes_between(naive, at(2026, 3, 9, 10, 0)) == 60


def test_absurd_amounts_fail_fast(cal):
    with pytest.raises(ValueError, match="supported date range"):
        cal.add(at(2026, 3, 9, 9), 10**9, "working_hours")
    with pytest.raises(ValueError, match="supported date range"):
        cal.add(at(2026, 3, 9, 9), 10**8, "working_days")
    with pytest.raises(ValueError, match="supported date range"):
        cal.add(at(2026, 3, 9, 9), 10**9, "hours")
