"""Case lists for the staff web: to-do, done and search, with the filters of `cases.filters`,
keyset pages (`shared.paging`) and the columns shown on screen (the Excel export uses the same
columns).

Lists never COUNT the case table: only the to-do buckets are counted, on the indexed
state/deadline columns of the small to-do set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from urbangrid.cases.filters import filter_cases
from urbangrid.cases.models import OPEN_STATES, Case, Source, State
from urbangrid.cases.queries import todo_q, visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import User
from urbangrid.core.scope import visible_departments
from urbangrid.workflow.errors import Invalid
from urbangrid.workflow.models import History

from .shared.errors import apply_error
from .shared.labels import LIGHT_LABELS, light_of, state_label
from .shared.operations import RawField
from .shared.paging import EXPORT_LIMIT, PAGE_SIZE, BadCursor, Page, iterate_all, paginate
from .shared.widgets import FastSelect

__all__ = [
    "COLUMNS",
    "EXPORT_LIMIT",
    "LIST_KINDS",
    "PAGE_SIZE",
    "BadCursor",
    "CaseFilterForm",
    "Page",
    "base_queryset",
    "default_sort",
    "iterate_all",
    "light_of",
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
