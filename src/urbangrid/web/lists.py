"""Case lists for the staff web: to-do, done and search, with filters, keyset pagination and
the columns shown on screen (the Excel export uses the same columns).

Lists never COUNT the case table: pages are fetched by a cursor (id, or deadline + id) and
only the to-do buckets are counted, on the indexed state/deadline columns of the small
to-do set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from urbangrid.cases.models import OPEN_STATES, Case, Source, State
from urbangrid.cases.queries import todo_q, visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import Department, User
from urbangrid.core.scope import visible_departments
from urbangrid.workflow.models import History

from .widgets import FastSelect

PAGE_SIZE = 50
#: The export streams at most this many rows (the list's order and filters apply).
EXPORT_LIMIT = 20_000


def light_of(case: Case, now: datetime | None = None) -> str:
    """ "red" (overdue), "yellow" (due soon), "green" or "" (no running deadline), live."""
    if case.deadline is None:
        return ""
    now = now or timezone.now()
    if case.deadline < now:
        return "red"
    if case.warn_at is not None and case.warn_at <= now:
        return "yellow"
    return "green"


def state_label(case: Case) -> str:
    return str(case.get_workflow().state_label(case.state))


LIGHT_LABELS = {"red": _("overdue"), "yellow": _("due soon"), "green": _("on time"), "": ""}


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    value: Callable[[Case], Any]


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


COLUMNS: list[Column] = [
    Column("number", _("case number"), lambda c: c.number),
    Column("state", _("state"), state_label),
    Column("category", _("category"), lambda c: c.category.name),
    Column("address", _("address"), lambda c: c.address or c.unit_grid.code),
    Column("grid", _("unit grid"), lambda c: c.unit_grid.code),
    Column("department", _("department"), lambda c: c.department.name if c.department_id else ""),
    Column("source", _("source"), lambda c: c.get_source_display()),
    Column("created_at", _("reported at"), lambda c: _local(c.created_at)),
    Column("deadline", _("deadline"), lambda c: _local(c.deadline)),
    Column("light", _("time status"), lambda c: str(LIGHT_LABELS[light_of(c)])),
]


# --- filters ------------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    """Search filters (GET). Every field is optional."""

    number = forms.CharField(label=_("Case number"), required=False, max_length=24)
    state = forms.ChoiceField(label=_("State"), required=False, widget=FastSelect)
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.none(), widget=FastSelect
    )
    grid = forms.CharField(label=_("Unit grid code"), required=False, max_length=15)
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.none(), widget=FastSelect
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    created_from = forms.DateField(
        label=_("Reported from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(label=_("Reported to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("-id", _("newest first")), ("deadline", _("deadline first"))],
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_ = [("", _("any"))]
        self.fields["state"].choices = any_ + list(State.choices)
        self.fields["source"].choices = any_ + list(Source.choices)
        cat = self.fields["category"]
        cat.queryset = Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
        cat.empty_label = _("any")
        dept = self.fields["department"]
        dept.queryset = visible_departments(user).filter(is_active=True)
        dept.empty_label = _("any")

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if not self.is_valid():
            return qs
        f = self.cleaned_data
        if f["number"]:
            qs = qs.filter(number=f["number"].strip())
        if f["state"]:
            qs = qs.filter(state=f["state"])
        if f["category"]:
            qs = qs.filter(category=f["category"])
        if f["grid"]:
            qs = qs.filter(unit_grid__code=f["grid"].strip())
        if f["department"]:
            qs = qs.filter(department=f["department"])
        if f["source"]:
            qs = qs.filter(source=f["source"])
        tz = timezone.get_current_timezone()
        if f["created_from"]:
            qs = qs.filter(created_at__gte=datetime.combine(f["created_from"], time.min, tz))
        if f["created_to"]:
            qs = qs.filter(created_at__lt=datetime.combine(f["created_to"] + timedelta(days=1), time.min, tz))
        if f["overdue"]:
            qs = qs.filter(deadline__lt=timezone.now())
        return qs

    @property
    def order(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or ""


# --- the lists ----------------------------------------------------------------------------

LIST_KINDS = ("todo", "done", "search")


def base_queryset(user: User, kind: str) -> QuerySet[Case]:
    """The cases of one list before filters: to-do (待办), done (已办) or everything visible."""
    qs = visible_cases(user)
    if kind == "todo":
        return qs.filter(todo_q(user))
    if kind == "done":
        ct = ContentType.objects.get_for_model(Case)
        return qs.filter(pk__in=History.objects.filter(actor=user, content_type=ct).values("object_id"))
    return qs


def default_sort(kind: str) -> str:
    return "deadline" if kind == "todo" else "-id"


@dataclass
class Page:
    items: list[Case]
    next_cursor: str | None


def _encode(case: Case, sort: str) -> str:
    if sort == "deadline":
        return f"d|{case.deadline.isoformat()}|{case.pk}" if case.deadline else f"n|{case.pk}"
    return f"i|{case.pk}"


class BadCursor(ValueError):
    pass


def _decode(cursor: str) -> tuple[str, datetime | None, int]:
    parts = cursor.split("|")
    try:
        if parts[0] == "d" and len(parts) == 3:
            at = parse_datetime(parts[1])
            if at is None:
                raise BadCursor(cursor)
            return "d", at, int(parts[2])
        if parts[0] in ("n", "i") and len(parts) == 2:
            return parts[0], None, int(parts[1])
    except ValueError:
        pass
    raise BadCursor(cursor)


def _dedupe(rows: list[Case]) -> list[Case]:
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.pk not in seen:
            seen.add(row.pk)
            out.append(row)
    return out


def paginate(
    qs: QuerySet[Case], sort: str, cursor: str = "", limit: int = PAGE_SIZE, states: Iterable[str] = OPEN_STATES
) -> Page:
    """One page by keyset: "-id" (newest first) or "deadline" (earliest first, no deadline last).

    Only open cases have a running deadline, so the deadline part reads the (state, deadline)
    index once per open state in `states` and merges: no sort over the whole set.
    """
    mode, at, last_id = _decode(cursor) if cursor else ("", None, 0)
    rows: list[Case] = []
    if sort == "deadline":
        if mode in ("", "d"):
            part = qs.filter(deadline__isnull=False)
            if mode == "d":
                part = part.filter(Q(deadline__gt=at) | Q(deadline=at, pk__gt=last_id))
            for state in [s for s in OPEN_STATES if s in set(states)]:
                rows += part.filter(state=state).order_by("deadline", "pk")[: limit + 1]
            rows = sorted(rows, key=lambda c: (c.deadline, c.pk))[: limit + 1]
        if len(rows) <= limit:
            part = qs.filter(deadline__isnull=True)
            if mode == "n":
                part = part.filter(pk__gt=last_id)
            rows += list(part.order_by("pk")[: limit + 1 - len(rows)])
    else:
        part = qs.filter(pk__lt=last_id) if mode == "i" else qs
        rows = list(part.order_by("-pk")[: limit + 1])
    rows = _dedupe(rows)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1], sort) if more and rows else None)


def iterate_all(qs: QuerySet[Case], sort: str, limit: int = EXPORT_LIMIT):
    """Every row of a list in its order, page by page (for the export)."""
    cursor, sent = "", 0
    while sent < limit:
        page = paginate(qs, sort, cursor, min(500, limit - sent))
        yield from page.items
        sent += len(page.items)
        if not page.next_cursor:
            return
        cursor = page.next_cursor


@dataclass
class Bucket:
    state: str
    label: str
    count: int


def todo_counts(user: User) -> dict[str, Any]:
    """Counts of the to-do list per state and per light (small set, indexed columns)."""
    qs = base_queryset(user, "todo").order_by()
    now = timezone.now()
    per_state: dict[str, int] = {}
    lights = {"red": 0, "yellow": 0}
    for state in OPEN_STATES:  # one (state, deadline) index range per state
        row = qs.filter(state=state).aggregate(
            n=Count("pk", distinct=True),
            red=Count("pk", distinct=True, filter=Q(deadline__lt=now)),
            yellow=Count("pk", distinct=True, filter=Q(deadline__gte=now, warn_at__lte=now)),
        )
        if row["n"]:
            per_state[state] = row["n"]
            lights["red"] += row["red"]
            lights["yellow"] += row["yellow"]
    labels = dict(State.choices)
    buckets = [Bucket(s, str(labels.get(s, s)), n) for s, n in sorted(per_state.items(), key=lambda kv: kv[0])]
    return {"buckets": buckets, "total": sum(per_state.values()), **lights}
