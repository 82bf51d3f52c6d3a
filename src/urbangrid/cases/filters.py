"""The one case filter: the API list, the staff web lists and the Excel export read the same
parameters the same way (`filter_cases`).

Parameters (all optional; a mapping such as `request.GET`, a dict or a schema's `dict()`):

* `state`: one or more states (repeated, a list, or comma-separated);
* `grid` / `work_grid`: a unit grid or work grid code;
* `street` / `community`: a street or community code (the case's location when reported);
* `department`: a department id;
* `category`: a category id, "kind:code" ("event:0102") or a code unique across kinds; a major
  class selects its minor classes;
* `source`, `light` ("red", "yellow", "green": the live light, as lists show it), `overdue`;
* `created_from` / `created_to`: a date or a date and time. A date "to" includes that whole day;
  a date and time "to" is exclusive. "from" is always inclusive. Times without an offset are
  in the current time zone;
* `mine`: only the user's to-do (待办); `number`: one case number;
* `self_handled`: true: fixed on the spot by the collector (快速处置), false: not;
* `reported_by`: the id of the staff user who reported the case (a collector's patrol reports).

Bad values raise `Invalid` with a message per field (a 400, never a 500): unknown states,
codes and ids, non-ASCII digits, numbers out of range, unparsable dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from urbangrid.catalog.models import Category, CategoryKind
from urbangrid.core.models import Department
from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid
from urbangrid.workflow.errors import Invalid

from .models import Case, Source, State
from .queries import todo_q, visible_cases

#: the parameters `filter_cases` reads; anything else in the mapping is ignored (cursor, sort …)
PARAMETERS = (
    "state",
    "grid",
    "work_grid",
    "department",
    "category",
    "source",
    "light",
    "overdue",
    "created_from",
    "created_to",
    "mine",
    "number",
    "street",
    "community",
    "self_handled",
    "reported_by",
)
LIGHTS = ("red", "yellow", "green")
MAX_CODE = 40
MAX_ID = 2**63 - 1
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class CaseFilter:
    """Checked filter values; `apply` narrows a queryset of cases."""

    states: tuple[str, ...] = ()
    grid: str = ""
    work_grid: str = ""
    department: int | None = None
    category: Category | None = None
    source: str = ""
    light: str = ""
    overdue: bool = False
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    mine: bool = False
    number: str = ""
    street: str = ""
    community: str = ""
    self_handled: bool | None = None
    reported_by: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> CaseFilter:
        """Read and check `params`; Invalid with a message per bad field."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        readers = {
            "state": _states,
            "grid": _grid,
            "work_grid": _work_grid,
            "department": _department,
            "category": _category,
            "source": _source,
            "light": _light,
            "overdue": _bool,
            "created_from": _from,
            "created_to": _to,
            "mine": _bool,
            "number": _number,
            "street": _street,
            "community": _community,
            "self_handled": _bool,
            "reported_by": _id,
        }
        for name, read in readers.items():
            raw = _many(params, name) if name == "state" else _one(params, name)
            if _empty(raw):
                continue
            try:
                values[name] = read(raw)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise Invalid(
                _("Check the filters: %(fields)s.") % {"fields": ", ".join(errors)},
                fields=errors,
            )
        return cls(
            states=values.get("state", ()),
            grid=values.get("grid", ""),
            work_grid=values.get("work_grid", ""),
            department=values.get("department"),
            category=values.get("category"),
            source=values.get("source", ""),
            light=values.get("light", ""),
            overdue=values.get("overdue", False),
            created_from=values.get("created_from"),
            created_before=values.get("created_to"),
            mine=values.get("mine", False),
            number=values.get("number", ""),
            street=values.get("street", ""),
            community=values.get("community", ""),
            self_handled=values.get("self_handled"),
            reported_by=values.get("reported_by"),
        )

    def apply(self, qs: QuerySet[Case], user: Any, now: datetime | None = None) -> QuerySet[Case]:
        now = now or timezone.now()
        if self.mine:
            qs = qs.filter(todo_q(user))
        if self.number:
            qs = qs.filter(number=self.number)
        if self.states:
            qs = qs.filter(state__in=self.states)
        if self.grid:
            qs = qs.filter(unit_grid__code=self.grid)
        if self.work_grid:
            qs = qs.filter(work_grid__code=self.work_grid)
        if self.street:
            qs = qs.filter(street__code=self.street)
        if self.community:
            qs = qs.filter(community__code=self.community)
        if self.self_handled is not None:
            qs = qs.filter(self_handled=self.self_handled)
        if self.reported_by is not None:
            qs = qs.filter(reported_by_id=self.reported_by)
        if self.department is not None:
            qs = qs.filter(department_id=self.department)
        if self.category is not None:
            if self.category.parent_id is None:
                qs = qs.filter(category__parent=self.category)
            else:
                qs = qs.filter(category=self.category)
        if self.source:
            qs = qs.filter(source=self.source)
        if self.overdue:
            qs = qs.filter(deadline__lt=now)
        if self.light:
            qs = qs.filter(light_q(self.light, now))
        if self.created_from is not None:
            qs = qs.filter(created_at__gte=self.created_from)
        if self.created_before is not None:
            qs = qs.filter(created_at__lt=self.created_before)
        return qs


def filter_cases(user: Any, params: Mapping[str, Any], qs: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases `user` may see (or `qs`, a narrower set of them) filtered by `params`.

    Raises Invalid (status 400, a message per field) for bad values."""
    base = visible_cases(user) if qs is None else qs
    return CaseFilter.parse(params).apply(base, user)


def light_q(light: str, now: datetime) -> Q:
    """The live light (as lists show it): red overdue, yellow due soon, green on time."""
    if light == "red":
        return Q(deadline__lt=now)
    if light == "yellow":
        return Q(deadline__gte=now, warn_at__lte=now)
    return Q(deadline__gte=now) & (Q(warn_at__isnull=True) | Q(warn_at__gt=now))


# --- reading the parameters ---------------------------------------------------------------------


def _one(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        if len(value) > 1:
            return _Several(value)
        return value[0] if value else None
    return value


class _Several(list):
    """More than one value for a parameter that takes one."""


def _many(params: Mapping[str, Any], name: str) -> list[Any]:
    if hasattr(params, "getlist"):
        values: Iterable[Any] = params.getlist(name)
    else:
        value = params.get(name)
        values = value if isinstance(value, (list, tuple, set)) else [] if value is None else [value]
    out: list[Any] = []
    for v in values:
        out += [p for p in str(v).split(",")] if isinstance(v, str) else [v]
    return [v for v in out if not _empty(v)]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == ()


def _text(raw: Any, limit: int = MAX_CODE) -> str:
    if isinstance(raw, _Several) or not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise ValueError(_("Give one value."))
    text = str(raw).strip()
    if len(text) > limit:
        raise ValueError(_("At most %(n)d characters.") % {"n": limit})
    return text


def _id(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = _text(raw)
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            raise ValueError(_("Enter a whole number."))
        value = int(text)
    if not 0 < value <= MAX_ID:
        raise ValueError(_("Enter a whole number."))
    return value


def _states(raw: list[Any]) -> tuple[str, ...]:
    states = []
    for v in raw:
        text = _text(v)
        if text not in State.values:
            raise ValueError(_("Unknown state “%(s)s”.") % {"s": text})
        states.append(text)
    return tuple(dict.fromkeys(states))


def _grid(raw: Any) -> str:
    code = _text(raw)
    if not UnitGrid.objects.filter(code=code).exists():
        raise ValueError(_("Unknown unit grid “%(c)s”.") % {"c": code})
    return code


def _work_grid(raw: Any) -> str:
    code = _text(raw)
    if not WorkGrid.objects.filter(code=code).exists():
        raise ValueError(_("Unknown work grid “%(c)s”.") % {"c": code})
    return code


def _street(raw: Any) -> str:
    code = _text(raw)
    if not AdminDivision.objects.filter(code=code, level="street").exists():
        raise ValueError(_("Unknown street “%(c)s”.") % {"c": code})
    return code


def _community(raw: Any) -> str:
    code = _text(raw)
    if not AdminDivision.objects.filter(code=code, level="community").exists():
        raise ValueError(_("Unknown community “%(c)s”.") % {"c": code})
    return code


def _department(raw: Any) -> int:
    if isinstance(raw, Department):
        return raw.pk
    pk = _id(raw)
    if not Department.objects.filter(pk=pk).exists():
        raise ValueError(_("Unknown department."))
    return pk


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and not text.startswith("0")


def _category(raw: Any) -> Category:
    """An id, "kind:code", or a code unique across kinds. Digits with a leading zero are codes
    ("0102", as CJ/T 214 writes them); other digits are an id, or a (local) code when no category
    has that id."""
    if isinstance(raw, Category):
        return raw
    qs = Category.objects.all()
    if isinstance(raw, int) and not isinstance(raw, bool):
        found = qs.filter(pk=_id(raw)).first()
    else:
        text = _text(raw)
        if ":" in text:
            kind, _sep, code = (p.strip() for p in text.partition(":"))
            if kind not in CategoryKind.values:
                raise ValueError(_("Unknown category kind “%(k)s”.") % {"k": kind})
            found = qs.filter(kind=kind, code=code).first()
        elif _is_id(text) and qs.filter(pk=_id(text)).exists():
            found = qs.filter(pk=_id(text)).first()
        else:
            matches = list(qs.filter(code=text)[:2])
            if len(matches) > 1:
                raise ValueError(
                    _(
                        "Category code “%(c)s” exists for components and events; "
                        "write “component:%(c)s” or “event:%(c)s”."
                    )
                    % {"c": text}
                )
            found = matches[0] if matches else None
    if found is None:
        raise ValueError(_("Unknown category “%(c)s”.") % {"c": raw})
    return found


def _source(raw: Any) -> str:
    text = _text(raw)
    if text not in Source.values:
        raise ValueError(_("Unknown source “%(s)s”.") % {"s": text})
    return text


def _light(raw: Any) -> str:
    text = _text(raw).lower()
    if text not in LIGHTS:
        raise ValueError(_("Choose one of: %(v)s.") % {"v": ", ".join(LIGHTS)})
    return text


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(_("Answer true or false."))


def _number(raw: Any) -> str:
    return _text(raw, 24)


def _moment(raw: Any) -> date | datetime:
    """A date, or an aware date and time (naive ones are in the current time zone)."""
    if isinstance(raw, datetime):
        value: date | datetime = raw
    elif isinstance(raw, date):
        return raw
    else:
        text = _text(raw, 40)
        try:
            value = parse_date(text) or parse_datetime(text)  # type: ignore[assignment]
        except (ValueError, OverflowError):
            value = None  # type: ignore[assignment]
        if value is None:
            raise ValueError(_("Not a valid date or time."))
        if not isinstance(value, datetime):
            return value
    if timezone.is_naive(value):
        try:
            value = timezone.make_aware(value)
        except (ValueError, OverflowError):
            raise ValueError(_("Not a valid date or time.")) from None
    return value


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def _from(raw: Any) -> datetime:
    value = _moment(raw)
    return value if isinstance(value, datetime) else _start_of(value)


def _to(raw: Any) -> datetime | None:
    """The exclusive upper bound: a date includes its whole day."""
    value = _moment(raw)
    if isinstance(value, datetime):
        return value
    if value >= date.max:
        raise ValueError(_("Not a valid date or time."))
    return _start_of(value + timedelta(days=1))
