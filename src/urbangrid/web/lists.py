"""Case lists for the staff web: to-do, done and search, with the filters of `cases.filters`,
keyset pages (`shared.paging`) and the columns shown on screen (the Excel export uses the same
columns, plus the description).

The to-do buckets are counted on the indexed state/deadline columns of the small to-do set. The
search and done lists count their total up to `COUNT_CAP` rows (a LIMITed index-only count;
"10,000+" beyond) and number their first `NUMBERED_PAGES` pages (offset pages with links);
deeper pages go on by keyset ("next page" with a cursor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from urbangrid.cases.filters import filter_cases
from urbangrid.cases.models import OPEN_STATES, Case, Source, State
from urbangrid.cases.queries import todo_q, todo_states, visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import User
from urbangrid.core.scope import visible_departments
from urbangrid.workflow.errors import Invalid
from urbangrid.workflow.models import History

from .shared.errors import apply_error
from .shared.labels import LIGHT_LABELS, light_of, state_label
from .shared.operations import RawField
from .shared.paging import EXPORT_LIMIT, PAGE_SIZE, BadCursor, Page, _dedupe, _encode, iterate_all, paginate
from .shared.widgets import FastSelect

__all__ = [
    "COLUMNS",
    "COUNT_CAP",
    "EXPORT_COLUMNS",
    "EXPORT_LIMIT",
    "LIST_KINDS",
    "NUMBERED_PAGES",
    "PAGE_SIZE",
    "BadCursor",
    "CaseFilterForm",
    "Page",
    "base_queryset",
    "count_total",
    "default_sort",
    "iterate_all",
    "light_of",
    "page_links",
    "page_number",
    "page_of",
    "paginate",
    "state_label",
    "todo_counts",
]


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
#: The Excel export: the columns on screen and the description (case numbers are written as text).
EXPORT_COLUMNS: list[Column] = [*COLUMNS, Column("description", _("description"), lambda c: c.description)]


# --- filters ------------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    """Search filters (GET), shown as a form; `cases.filters` reads and checks them (the same
    parameters as the API list and the export). Every field is optional."""

    number = RawField(label=_("Case number"), widget=forms.TextInput(attrs={"maxlength": "24"}))
    state = RawField(label=_("State"), widget=FastSelect)
    category = RawField(label=_("Category"), widget=FastSelect)
    grid = RawField(label=_("Unit grid code"), widget=forms.TextInput(attrs={"maxlength": "15"}))
    department = RawField(label=_("Department"), widget=FastSelect)
    source = RawField(label=_("Source"), widget=FastSelect)
    light = RawField(label=_("time status"), widget=FastSelect)
    created_from = RawField(label=_("Reported from"), widget=forms.DateInput(attrs={"type": "date"}))
    created_to = RawField(label=_("Reported to"), widget=forms.DateInput(attrs={"type": "date"}))
    overdue = RawField(label=_("Overdue only"), widget=forms.CheckboxInput)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("-id", _("newest first")), ("deadline", _("deadline first"))],
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        any_ = [("", _("any"))]
        self.fields["state"].widget.choices = any_ + list(State.choices)
        self.fields["source"].widget.choices = any_ + list(Source.choices)
        self.fields["light"].widget.choices = any_ + [(k, v) for k, v in LIGHT_LABELS.items() if k]
        categories = Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
        self.fields["category"].widget.choices = any_ + [
            (f"{c.kind}:{c.code}", f"{c.code} {c.name}") for c in categories.only("kind", "code", "name")
        ]
        departments = visible_departments(user).filter(is_active=True).order_by("code")
        self.fields["department"].widget.choices = any_ + list(departments.values_list("pk", "name"))
        self.invalid = False

    def filter(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """`qs` narrowed by the filters (`cases.filters`); bad values land on their fields and
        nothing is listed."""
        if not self.is_bound:
            return qs
        try:
            return filter_cases(self.user, self.data, qs)
        except Invalid as exc:
            apply_error(self, exc)
            self.invalid = True
            return qs.none()

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
    for state in todo_states(user):  # one (state, deadline) index range per state the user may hold
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


# --- totals and numbered pages (search and done) --------------------------------------------

#: Totals are counted up to this many cases; beyond, the list says "more than 10,000".
COUNT_CAP = 10_000
#: Pages 1..NUMBERED_PAGES are offset pages with links; deeper pages go on by keyset only.
NUMBERED_PAGES = 20


@dataclass
class Total:
    count: int  # at most the cap
    capped: bool  # more cases than counted

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // PAGE_SIZE))

    @property
    def text(self) -> str:
        if self.capped:
            return pgettext("case list total", "more than %(n)s cases") % {"n": f"{self.count:,}"}
        return ngettext("%(n)s case", "%(n)s cases", self.count) % {"n": f"{self.count:,}"}


def count_total(qs: QuerySet[Case], cap: int = COUNT_CAP) -> Total:
    """How many cases the list holds, counted up to `cap` (a LIMITed count of ids: the filters'
    indexes, never the whole table)."""
    n = qs.order_by().values("pk").distinct()[: cap + 1].count()
    return Total(min(n, cap), n > cap)


def page_number(text: str, cursor: str = "") -> int:
    """The `page` parameter: 1.. (numbered pages without a cursor only up to NUMBERED_PAGES)."""
    if not text:
        return 1
    if not (text.isascii() and text.isdigit() and len(text) < 7) or int(text) < 1:
        raise BadCursor(text)
    number = int(text)
    if not cursor and number > NUMBERED_PAGES:
        raise BadCursor(text)
    return number


def _order(sort: str) -> tuple[Any, ...]:
    # the keyset order of `paginate`: earliest deadline first (none last), or newest first
    return (F("deadline").asc(nulls_last=True), "pk") if sort == "deadline" else ("-pk",)


def page_of(
    qs: QuerySet[Case],
    sort: str,
    number: int = 1,
    cursor: str = "",
    limit: int = PAGE_SIZE,
    states: Iterable[str] = OPEN_STATES,
) -> Page:
    """Page `number` by offset (numbered pages), or the page after `cursor` by keyset. Both give
    a cursor for the next page, so "next page" always continues by keyset. `states`: the open
    states the rows can be in (a to-do holds only some)."""
    if cursor or number == 1:
        return paginate(qs, sort, cursor, limit, states)
    start = (number - 1) * limit
    rows = _dedupe(list(qs.order_by(*_order(sort))[start : start + limit + 1]))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1], sort) if more and rows else None)


@dataclass
class PageLink:
    number: int
    url: str = ""
    current: bool = False
    gap: bool = False


def page_links(params: QueryDict, number: int, total: Total, window: int = 2) -> list[PageLink]:
    """Links to the numbered pages around `number` (first and last numbered page always), with
    gaps; `params` are the list's filters (without cursor and page)."""
    last = min(total.pages, NUMBERED_PAGES)
    if last <= 1 and number <= 1:
        return []
    wanted = {1, last, *range(max(1, number - window), min(last, number + window) + 1)}
    links: list[PageLink] = []
    previous = 0
    for n in sorted(wanted):
        if n - previous > 1:
            links.append(PageLink(0, gap=True))
        q = params.copy()
        if n > 1:
            q["page"] = str(n)
        links.append(PageLink(n, "?" + q.urlencode(), current=n == number))
        previous = n
    if number > last:  # a deep keyset page
        links.append(PageLink(0, gap=True))
        links.append(PageLink(number, current=True))
    return links
