"""Evaluation periods (day, week, month, quarter, year, custom) and scopes (city, district,
street, community, work grid, unit grid) as parsed from the API's and commands' text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Period:
    """[first, last] local days; start/end the instants [start, end)."""

    label: str
    kind: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def parse_period(text: str) -> Period:
    """2026-11-05 (day), 2026-W45 (ISO week), 2026-11 (month), 2026-Q4 (quarter), 2026 (year),
    2026-11-01..2026-11-15 (custom, both days included)."""
    t = (text or "").strip()
    try:
        if ".." in t:
            a, b = (date.fromisoformat(x.strip()) for x in t.split("..", 1))
            if b < a:
                raise ValueError
            return Period(t, "custom", a, b)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            d = date.fromisoformat(t)
            return Period(t, "day", d, d)
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", t):
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(t, "week", first, first + timedelta(days=6))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(t, "month", date(y, mo, 1), _month_end(y, mo))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            return Period(t, "quarter", date(y, 3 * q - 2, 1), _month_end(y, 3 * q))
        if re.fullmatch(r"\d{4}", t):
            y = int(t)
            return Period(t, "year", date(y, 1, 1), date(y, 12, 31))
    except ValueError:
        pass
    raise ValueError(
        _("Unknown period “%(p)s”: use 2026-11-05, 2026-W45, 2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-15.")
        % {"p": text}
    )


SCOPE_KINDS = ("city", "district", "street", "community", "work_grid", "unit_grid")


@dataclass(frozen=True)
class Scope:
    kind: str
    code: str = ""
    obj_id: int | None = None

    @property
    def text(self) -> str:
        """As `parse_scope` reads it: "city" or "street:<code>" …"""
        return f"{self.kind}:{self.code}" if self.code else "city"

    def fact_q(self) -> Q:
        """The filter on CaseFact rows (their location snapshot) for this scope."""
        from urbangrid.geo.models import AdminDivision

        if self.kind == "city":
            return Q()
        if self.kind == "district":
            return Q(street_id__in=AdminDivision.objects.filter(parent_id=self.obj_id).values("pk"))
        return Q(**{f"{self.kind}_id": self.obj_id})

    def unit_grids(self):
        from urbangrid.geo.models import UnitGrid

        qs = UnitGrid.objects.all()
        if self.kind == "district":
            return qs.filter(community__parent__parent_id=self.obj_id)
        if self.kind == "street":
            return qs.filter(community__parent_id=self.obj_id)
        if self.kind == "community":
            return qs.filter(community_id=self.obj_id)
        if self.kind == "work_grid":
            return qs.filter(work_grid_id=self.obj_id)
        if self.kind == "unit_grid":
            return qs.filter(pk=self.obj_id)
        return qs


def parse_scope(text: str | None) -> Scope:
    """city, district:<code>, street:<code>, community:<code>, work_grid:<code>, unit_grid:<code>."""
    from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

    t = (text or "city").strip()
    kind, _sep, code = t.partition(":")
    if kind == "city" and not code:
        return Scope("city")
    obj = None
    if kind in ("district", "street", "community"):
        level = "county" if kind == "district" else kind
        obj = AdminDivision.objects.filter(code=code, level__in=[level, kind]).first()
    elif kind == "work_grid":
        obj = WorkGrid.objects.filter(code=code).first()
    elif kind == "unit_grid":
        obj = UnitGrid.objects.filter(code=code).first()
    if obj is None:
        raise ValueError(_("Unknown scope “%(s)s”: use city or street:<code>, community:<code>, …") % {"s": text})
    return Scope(kind, code, obj.pk)
