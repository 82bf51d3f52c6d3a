"""The working calendar (工作日历 / 计时方案): deadlines in working hours, working days or hours.

``get_calendar()`` returns the process-wide :class:`WorkingCalendar`. It answers "add N working
hours / working days / natural hours to *t*" and "how many working minutes lie between *a* and
*b*" from precomputed per-year tables, so each call costs a few microseconds.

Where a day's status comes from, highest precedence first:

1. rows an administrator entered (``CalendarDay``); a ``CalendarYear`` with
   ``official_schedule_entered`` marks that year's official schedule as complete;
2. the bundled ``chinese_calendar`` package for the years it knows (State Council schedule,
   with make-up working days, 调休);
3. statutory holidays from ``holidays.China`` (no make-up working days) plus weekends —
   *provisional*;
4. weekends only — *provisional*.

A year is provisional when neither the package nor an administrator supplied its official
schedule; deadlines that consume or cross such a year carry ``provisional=True``. See
docs/calendar.md.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.dispatch import Signal, receiver
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "SOURCE_OFFICIAL",
    "SOURCE_PACKAGE",
    "SOURCE_STATUTORY",
    "SOURCE_WEEKENDS",
    "UNITS",
    "Deadline",
    "WorkingCalendar",
    "calendar_changed",
    "get_calendar",
    "invalidate_calendar",
    "notify_calendar_changed",
    "package_knows",
    "package_year_range",
    "parse_office_hours",
]

#: Units accepted by :meth:`WorkingCalendar.add`: 工作时, 工作日, 紧急工作时 (continuous hours)
#: and 紧急工作日 (continuous calendar days).
UNITS = ("working_hours", "working_days", "hours", "days")
DEFAULT_OFFICE_HOURS = "08:30-12:00,14:00-17:30"

SOURCE_PACKAGE = "package"  # chinese_calendar knows the year (official, with 调休)
SOURCE_OFFICIAL = "official"  # an administrator entered the year's official schedule
SOURCE_STATUTORY = "statutory"  # holidays.China statutory days + weekends (provisional)
SOURCE_WEEKENDS = "weekends"  # weekends only (provisional)

#: Sent after calendar data changed, with ``years`` (set of affected years) and ``all_years``
#: (True when every year is affected, e.g. the office hours changed; ``years`` is then empty).
#: The case app listens to recompute open deadlines.
calendar_changed = Signal()

_MIN_YEAR, _MAX_YEAR = 1, 9999


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline; ``provisional`` when a day consumed or crossed lies in a
    provisional year (its official holiday schedule is not known yet)."""

    at: datetime
    provisional: bool


# --- configuration ---------------------------------------------------------------------

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_office_hours(spec: str) -> tuple[tuple[int, int], ...]:
    """Parse ``"08:30-12:00,14:00-17:30"`` into minute windows ``((510, 720), (840, 1050))``.

    Windows must be ordered, must not overlap and must lie within 00:00–24:00.
    Raises ``ValueError`` with a readable message otherwise.
    """
    windows: list[tuple[int, int]] = []
    parts = [p for p in re.split(r"[,;，；]", spec or "") if p.strip()]
    if not parts:
        raise ValueError(_("Office hours are empty; expected e.g. “08:30-12:00,14:00-17:30”."))
    for part in parts:
        m = _WINDOW_RE.match(part)
        if not m:
            raise ValueError(
                _("Invalid office-hours window “%(part)s”; expected HH:MM-HH:MM.") % {"part": part.strip()}
            )
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or start >= end:
            raise ValueError(
                _("Invalid office-hours window “%(part)s”: the start must be before the end, within 00:00-24:00.")
                % {"part": part.strip()}
            )
        if windows and start < windows[-1][1]:
            raise ValueError(_("Office-hours windows must be in order and must not overlap."))
        windows.append((start, end))
    return tuple(windows)


def _settings_office_hours() -> str:
    return str(getattr(settings, "URBANGRID", {}).get("OFFICE_HOURS", DEFAULT_OFFICE_HOURS))


def _recheck_seconds() -> float:
    return float(getattr(settings, "URBANGRID", {}).get("CALENDAR_RECHECK_SECONDS", 5))


# --- data sources ----------------------------------------------------------------------


@cache
def package_knows(year: int) -> bool:
    """True when the installed ``chinese_calendar`` has the official schedule of *year*.

    The package raises ``NotImplementedError`` for years it does not know (2027 in 1.11.0);
    any error counts as "unknown", so a package upgrade extends the range automatically.
    """
    if not 1900 <= year <= _MAX_YEAR:
        return False
    try:
        import chinese_calendar

        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except Exception:  # NotImplementedError for unknown years; anything else: unusable
        return False
    return True


def package_year_range() -> tuple[int, int] | None:
    """First and last year (within 1900–2100) the installed ``chinese_calendar`` knows."""
    years = [y for y in range(1900, 2101) if package_knows(y)]
    return (years[0], years[-1]) if years else None


def _package_flags(year: int, first: int, n: int) -> bytearray | None:
    try:
        import chinese_calendar

        is_workday = chinese_calendar.is_workday
        return bytearray(1 if is_workday(date.fromordinal(first + i)) else 0 for i in range(n))
    except Exception:
        log.warning("chinese_calendar failed for %s; falling back to statutory holidays", year)
        return None


@lru_cache(maxsize=256)
def _statutory_days(year: int) -> frozenset[date] | None:
    """Statutory holidays (incl. 补假 for holidays on weekends) from ``holidays.China``, or None
    when the package does not cover *year*."""
    try:
        import holidays

        cls = holidays.China
        lo = getattr(cls, "start_year", 1950)
        hi = getattr(cls, "end_year", 2100)
        if not lo <= year <= hi:
            return None
        days = frozenset(d for d in cls(years=year) if d.year == year)
    except Exception:
        log.warning("holidays.China failed for %s; using weekends only", year, exc_info=True)
        return None
    return days or None


# --- the calendar ----------------------------------------------------------------------


@dataclass(slots=True)
class _Year:
    year: int
    first: int  # ordinal of 1 January
    flags: bytearray  # 1 = working day
    cum: list[int]  # working seconds before day i (len n + 1)
    workdays: int
    provisional: bool
    source: str

    @property
    def total(self) -> int:
        return self.cum[-1]


def _to_decimal(amount: Any) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise ValueError(_("The time-limit amount must be a number, not %(type)s.") % {"type": type(amount).__name__})
    if isinstance(amount, Decimal):
        d = amount
    else:
        try:
            d = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
        except InvalidOperation as exc:  # pragma: no cover - repr of a float is always valid
            raise ValueError(_("Invalid time-limit amount %(amount)r.") % {"amount": amount}) from exc
    if not d.is_finite() or d < 0:
        raise ValueError(_("The time-limit amount must be a finite number ≥ 0, got %(amount)s.") % {"amount": amount})
    return d


def _round_minutes(d: Decimal) -> int:
    return int(d.to_integral_value(rounding=ROUND_HALF_UP))


class WorkingCalendar:
    """Working days and office-hour windows, with deadline arithmetic.

    Pure: built from plain data (no database access after construction); per-year tables are
    computed lazily and cached. Instances are safe to share between threads.

    Times: aware datetimes in any zone are accepted; naive datetimes are taken as local wall
    time in ``settings.TIME_ZONE``. Results are aware datetimes in that zone. Working time is
    wall-clock time inside the office-hour windows of working days.
    """

    def __init__(
        self,
        *,
        office_hours: str | Sequence[tuple[int, int]] | None = None,
        overrides: Mapping[date, bool] | None = None,
        official_years: Iterable[int] = (),
        tz: str | tzinfo | None = None,
    ) -> None:
        if office_hours is None:
            office_hours = _settings_office_hours()
        minutes = parse_office_hours(office_hours) if isinstance(office_hours, str) else tuple(office_hours)
        if not minutes:
            raise ValueError(_("At least one office-hours window is required."))
        self.windows: tuple[tuple[int, int], ...] = minutes  # minutes after midnight
        self._win = tuple((s * 60, e * 60) for s, e in minutes)  # seconds
        acc, wcum = 0, []
        for s, e in self._win:
            wcum.append(acc)
            acc += e - s
        self._wcum = tuple(wcum)
        self._W = acc  # working seconds per working day
        self._first_start = self._win[0][0]
        self._last_end = self._win[-1][1]
        tz = tz or settings.TIME_ZONE
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._overrides: dict[int, list[tuple[date, bool]]] = {}
        for d, working in (overrides or {}).items():
            self._overrides.setdefault(d.year, []).append((d, bool(working)))
        self.official_years = frozenset(official_years)
        self._years: dict[int, _Year] = {}

    # -- public helpers ------------------------------------------------------------------

    @property
    def day_minutes(self) -> int:
        """Working minutes in one working day (420 for the default office hours)."""
        return self._W // 60

    def year_source(self, year: int) -> str:
        """Where *year*'s days come from: ``package``, ``official``, ``statutory`` or ``weekends``."""
        return self._year(year).source

    def is_provisional(self, year: int) -> bool:
        """True when *year*'s official schedule is known neither from the package nor the admin."""
        if package_knows(year) or year in self.official_years:
            return False
        return True

    def is_working_day(self, d: date) -> bool:
        y = self._year(d.year)
        return bool(y.flags[d.toordinal() - y.first])

    def exceptions(self, year: int) -> list[tuple[date, bool]]:
        """Days of *year* whose status differs from the plain Monday–Friday rule."""
        y = self._year(year)
        out = []
        for i, flag in enumerate(y.flags):
            d = date.fromordinal(y.first + i)
            if bool(flag) != (d.weekday() < 5):
                out.append((d, bool(flag)))
        return out

    def next_working_instant(self, t: datetime) -> datetime:
        """*t* itself when it lies inside working time, else the start of the next window."""
        lt = self._local(t)
        y = self._year(lt.year)
        i = lt.toordinal() - y.first
        s = lt.hour * 3600 + lt.minute * 60 + lt.second
        if y.flags[i]:
            for ws, we in self._win:
                if s < ws:
                    return self._make(y.first + i, ws)
                if s < we:
                    return lt
        k = bisect.bisect_right(y.cum, y.cum[i + 1])
        while k > len(y.flags):  # no further working day this year
            y = self._year(y.year + 1)
            k = bisect.bisect_right(y.cum, 0)
        return self._make(y.first + k - 1, self._first_start)

    # -- deadline arithmetic -------------------------------------------------------------

    def add(self, start: datetime, amount: int | float | Decimal, unit: str) -> Deadline:
        """Deadline *amount* *unit* after *start* (domain reference §7.6).

        - ``working_hours`` (工作时): consume amount×60 working minutes (rounded to the minute).
        - ``working_days`` (工作日): inside working time (a working day between the first
          window's start and the last window's end, lunch break included) → the same clock time
          N working days later; otherwise → the end of the N-th working day, counting from the
          next working day whose working time has not begun (so before office hours on a working
          day, that day is the first). A fractional part is added as working minutes
          (fraction × working minutes per day).
        - ``hours`` (紧急工作时) / ``days`` (紧急工作日): continuous elapsed time, 24×7.
        """
        if unit not in UNITS:
            raise ValueError(
                _("Unknown time-limit unit %(unit)r; expected one of: %(units)s.")
                % {"unit": unit, "units": ", ".join(UNITS)}
            )
        if unit == "working_hours":
            if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0:
                minutes = amount * 60
            else:
                minutes = _round_minutes(_to_decimal(amount) * 60)
            return self._add_seconds(self._local(start), minutes * 60)
        if unit == "working_days":
            return self._add_days(self._local(start), amount)
        factor = 60 if unit == "hours" else 1440
        minutes = _round_minutes(_to_decimal(amount) * factor)
        utc = start.replace(tzinfo=self.tz) if start.tzinfo is None else start
        try:
            at = (utc.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.tz)
        except OverflowError as exc:
            raise ValueError(_("The deadline falls outside the supported date range.")) from exc
        return Deadline(at, False)

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        """Working minutes from *a* to *b* (negative when *b* < *a*; truncated toward zero)."""
        la, lb = self._local(a), self._local(b)
        sign = 1
        if lb < la:
            la, lb, sign = lb, la, -1
        ya = self._year(la.year)
        pa = self._pos(ya, la)
        if la.year == lb.year:
            diff = self._pos(ya, lb) - pa
        else:
            diff = ya.total - pa
            for year in range(la.year + 1, lb.year):
                diff += self._year(year).total
            yb = self._year(lb.year)
            diff += self._pos(yb, lb)
        return sign * (diff // 60)

    # -- internals -----------------------------------------------------------------------

    def _local(self, t: datetime) -> datetime:
        tz = t.tzinfo
        if tz is self.tz:
            return t
        if tz is None or t.utcoffset() is None:
            return t.replace(tzinfo=self.tz)  # naive: local wall time
        return t.astimezone(self.tz)

    def _make(self, ordinal: int, sec: int) -> datetime:
        d = date.fromordinal(ordinal)
        if sec >= 86400:
            d, sec = d + timedelta(days=1), sec - 86400
        h, rem = divmod(sec, 3600)
        mi, s = divmod(rem, 60)
        return datetime(d.year, d.month, d.day, h, mi, s, tzinfo=self.tz)

    def _within(self, s: int) -> int:
        """Working seconds of a working day before second-of-day *s*."""
        acc = 0
        for ws, we in self._win:
            if s <= ws:
                return acc
            if s < we:
                return acc + s - ws
            acc += we - ws
        return acc

    def _pos(self, y: _Year, lt: datetime) -> int:
        i = lt.toordinal() - y.first
        if y.flags[i]:
            return y.cum[i] + self._within(lt.hour * 3600 + lt.minute * 60 + lt.second)
        return y.cum[i]

    def _at(self, y: _Year, p: int) -> datetime:
        """Earliest instant of year *y* at working position *p* (0 < p ≤ y.total)."""
        k = bisect.bisect_left(y.cum, p)
        i = k - 1
        r = p - y.cum[i]
        for (ws, we), c in zip(self._win, self._wcum, strict=True):
            if r <= c + we - ws:
                return self._make(y.first + i, ws + r - c)
        raise AssertionError("unreachable")  # pragma: no cover

    def _add_seconds(self, lt: datetime, seconds: int) -> Deadline:
        y = self._year(lt.year)
        if seconds == 0:
            return Deadline(lt, y.provisional)
        if seconds > (_MAX_YEAR - y.year + 1) * 366 * self._W:
            raise ValueError(_("The deadline falls outside the supported date range."))
        prov = y.provisional
        p = self._pos(y, lt) + seconds
        while p > y.total:
            p -= y.total
            y = self._year(y.year + 1)
            prov = prov or y.provisional
        return Deadline(self._at(y, p), prov)

    def _add_days(self, lt: datetime, amount: int | float | Decimal) -> Deadline:
        if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0:
            whole, extra = amount, 0
        else:
            d = _to_decimal(amount)
            whole = int(d)
            extra = _round_minutes((d - whole) * self.day_minutes) * 60
        y = self._year(lt.year)
        i = lt.toordinal() - y.first
        s = lt.hour * 3600 + lt.minute * 60 + lt.second
        if y.flags[i] and self._first_start <= s <= self._last_end:
            # inside working time: the same clock time `whole` working days later
            if whole > (_MAX_YEAR - y.year + 1) * 366:
                raise ValueError(_("The deadline falls outside the supported date range."))
            prov = y.provisional
            idx = y.cum[i] // self._W + whole  # 0-based working-day index within the year
            while idx >= y.workdays:
                idx -= y.workdays
                y = self._year(y.year + 1)
                prov = prov or y.provisional
            j = bisect.bisect_right(y.cum, idx * self._W) - 1
            d = date.fromordinal(y.first + j)
            at = datetime.combine(d, lt.time(), tzinfo=self.tz)
            if extra:
                more = self._add_seconds(at, extra)
                return Deadline(more.at, prov or more.provisional)
            return Deadline(at, prov)
        # outside working time: the end of the whole-th working day (plus the fraction)
        return self._add_seconds(lt, whole * self._W + extra)

    def _year(self, year: int) -> _Year:
        y = self._years.get(year)
        if y is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise ValueError(_("The deadline falls outside the supported date range."))
            y = self._build_year(year)
            self._years[year] = y
        return y

    def _build_year(self, year: int) -> _Year:
        first = date(year, 1, 1).toordinal()
        n = date(year, 12, 31).toordinal() - first + 1
        wd0 = date(year, 1, 1).weekday()
        flags: bytearray | None = None
        if package_knows(year):
            flags = _package_flags(year, first, n)
            source, provisional = SOURCE_PACKAGE, False
        if flags is None:
            flags = bytearray(1 if (wd0 + i) % 7 < 5 else 0 for i in range(n))
            if year in self.official_years:
                source, provisional = SOURCE_OFFICIAL, False
            else:
                provisional = True
                stat = _statutory_days(year)
                source = SOURCE_STATUTORY if stat else SOURCE_WEEKENDS
                for d in stat or ():
                    flags[d.toordinal() - first] = 0
        for d, working in self._overrides.get(year, ()):
            flags[d.toordinal() - first] = 1 if working else 0
        cum = [0] * (n + 1)
        acc, W = 0, self._W
        for i in range(n):
            if flags[i]:
                acc += W
            cum[i + 1] = acc
        return _Year(year, first, flags, cum, acc // W, provisional, source)


# --- the process-wide instance ---------------------------------------------------------


class _Cache:
    calendar: WorkingCalendar | None = None
    token: tuple | None = None
    next_check: float = 0.0
    #: atomic blocks open when this process changed calendar data inside a transaction: when
    #: one of them ends (commit or rollback) the cached calendar is rebuilt.
    watch: list | None = None


_cache = _Cache()
_lock = threading.Lock()


def _db_token() -> tuple | None:
    """A cheap fingerprint of the calendar tables (row counts and last change times)."""
    from .models_calendar import CalendarDay, CalendarYear, WorkCalendarConfig

    q = connection.ops.quote_name
    parts = []
    for model in (CalendarDay, CalendarYear, WorkCalendarConfig):
        t = q(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {t}), (SELECT MAX({q('updated_at')}) FROM {t})")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts))
            return tuple(cursor.fetchone())
    except (DatabaseError, RuntimeError):  # no table yet, or database access blocked (tests)
        return None


def _load() -> WorkingCalendar:
    from .models_calendar import CalendarDay, CalendarYear, WorkCalendarConfig

    try:
        overrides = dict(CalendarDay.objects.values_list("date", "is_working_day"))
        official = set(CalendarYear.objects.filter(official_schedule_entered=True).values_list("year", flat=True))
        hours = WorkCalendarConfig.objects.filter(pk=1).values_list("office_hours", flat=True).first()
    except (DatabaseError, RuntimeError) as exc:
        log.debug("working calendar: database unavailable (%s); using settings only", exc)
        return _from_settings()
    if hours and hours.strip():
        try:
            return WorkingCalendar(office_hours=hours, overrides=overrides, official_years=official)
        except ValueError:
            log.error("working calendar: invalid office hours %r in the database; using settings", hours)
    try:
        return WorkingCalendar(overrides=overrides, official_years=official)
    except ValueError as exc:
        raise ImproperlyConfigured(f"URBANGRID['OFFICE_HOURS']: {exc}") from exc


def _from_settings() -> WorkingCalendar:
    try:
        return WorkingCalendar()
    except ValueError as exc:
        raise ImproperlyConfigured(f"URBANGRID['OFFICE_HOURS']: {exc}") from exc


def _watch_ended() -> bool:
    watch = _cache.watch
    if watch is None:
        return False
    blocks = getattr(connection, "atomic_blocks", [])
    alive = 0
    for w, b in zip(watch, blocks, strict=False):
        if w is not b:
            break
        alive += 1
    if alive == len(watch):
        return False
    _cache.watch = watch[:alive] or None
    return True


def get_calendar() -> WorkingCalendar:
    """The process-wide working calendar (cached).

    Rebuilt after local changes (signals), after a transaction holding such changes ends, and
    when a cheap fingerprint of the calendar tables changes (checked at most every
    ``URBANGRID["CALENDAR_RECHECK_SECONDS"]`` seconds, default 5, for other processes' edits).
    """
    cal = _cache.calendar
    if cal is not None:
        if _cache.watch is not None and _watch_ended():
            pass  # a transaction that changed the calendar ended: rebuild
        elif time.monotonic() < _cache.next_check:
            return cal
        else:
            token = _db_token()
            _cache.next_check = time.monotonic() + _recheck_seconds()
            if token is None or token == _cache.token:
                return cal
    with _lock:
        token = _db_token()
        cal = _load()
        _cache.calendar, _cache.token = cal, token
        _cache.next_check = time.monotonic() + _recheck_seconds()
    return cal


def invalidate_calendar() -> None:
    """Drop the cached calendar; the next :func:`get_calendar` rebuilds it."""
    _cache.calendar = None


def notify_calendar_changed(years: Iterable[int] = (), *, all_years: bool = False, sender: Any = None) -> None:
    """Invalidate the cache and send :data:`calendar_changed` (called by the model signals;
    call it yourself after ``bulk_create``/``update`` on calendar tables)."""
    invalidate_calendar()
    if connection.in_atomic_block:
        _cache.watch = list(getattr(connection, "atomic_blocks", [])) or None
    calendar_changed.send(
        sender=sender or WorkingCalendar, years=set() if all_years else set(years), all_years=all_years
    )


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting in {"URBANGRID", "TIME_ZONE"}:
        invalidate_calendar()
