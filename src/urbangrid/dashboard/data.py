"""What the dashboards show, computed from the evaluation app's cohort counts (pre-aggregated per
reported day, work grid, department and key; kept exactly equal to the per-case facts by the
history hook: never a scan of the history), from a unit grid's facts, from the stored evaluation
of the period (department rates and composites, evaluation.stored) and, for what is live (overdue
now, the newest cases), from the indexed case table.

Every count is of cases the case list can select with its filter parameters
(`cases.filters`), and each comes with that list's URL (`links`): the number on the dashboard
equals the number of rows the list shows. The cohort of a period is the cases reported in it
(list: created_from/created_to); what became of them is their state now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.cases.models import OPEN_STATES, Case, Source, State
from urbangrid.evaluation import cohorts, stored
from urbangrid.evaluation.cohorts import DISPATCHED_STATES
from urbangrid.evaluation.models import CaseFact
from urbangrid.evaluation.periods import Period, Scope, parse_period, parse_scope
from urbangrid.evaluation.rules import rules as current_rules

from .access import Viewer

#: drill-down: the next level below each scope kind, the CaseFact column and the list parameter
CHILD = {
    "city": "street",
    "district": "street",
    "street": "community",
    "community": "work_grid",
    "work_grid": "unit_grid",
}
FACT_COLUMN = {
    "street": "street_id",
    "community": "community_id",
    "work_grid": "work_grid_id",
    "unit_grid": "unit_grid_id",
}
LIST_PARAM = {"street": "street", "community": "community", "work_grid": "work_grid", "unit_grid": "grid"}
TOP_N = 10
OVERDUE_ROWS = 20


def cache_seconds() -> int:
    return int(getattr(settings, "URBANGRID_DASHBOARD_CACHE_SECONDS", 30))


# --- periods ---------------------------------------------------------------------------------------


def default_period(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return parse_period(f"{today:%Y-%m}")


def read_period(text: str | None) -> Period:
    """ValueError for a bad period; empty: the current month."""
    return parse_period(text) if (text or "").strip() else default_period()


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def previous_period(p: Period) -> Period:
    """The period before: the previous month, quarter, year or week; for a day or a custom
    range, as many days just before."""
    if p.kind == "month":
        last = p.first - timedelta(days=1)
        return parse_period(f"{last:%Y-%m}")
    if p.kind == "quarter":
        last = p.first - timedelta(days=1)
        return parse_period(f"{last.year}-Q{(last.month - 1) // 3 + 1}")
    if p.kind == "year":
        return parse_period(str(p.first.year - 1))
    days = (p.last - p.first).days + 1
    first, last = p.first - timedelta(days=days), p.first - timedelta(days=1)
    if p.kind == "week":
        y, w, _d = first.isocalendar()
        return parse_period(f"{y}-W{w:02d}")
    return Period(f"{first}..{last}", "custom", first, last)


def same_period_last_year(p: Period) -> Period:
    if p.kind == "month":
        return parse_period(f"{p.first.year - 1}-{p.first.month:02d}")
    if p.kind == "quarter":
        return parse_period(f"{p.first.year - 1}-Q{(p.first.month - 1) // 3 + 1}")
    if p.kind == "year":
        return parse_period(str(p.first.year - 1))
    first, last = _minus_year(p.first), _minus_year(p.last)
    return Period(f"{first}..{last}", "custom", first, last)


# --- scopes ------------------------------------------------------------------------------------------


def read_scope(text: str | None) -> Scope:
    return parse_scope(text or "city")


def scope_object(scope: Scope):
    from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

    model = {"work_grid": WorkGrid, "unit_grid": UnitGrid}.get(scope.kind, AdminDivision)
    return None if scope.kind == "city" else model.objects.filter(pk=scope.obj_id).first()


def _name(obj) -> str:
    return getattr(obj, "name", "") or obj.code


def breadcrumbs(scope: Scope) -> list[dict[str, str]]:
    """city → street → community → work grid → unit grid, each with its scope text."""
    crumbs: list[dict[str, str]] = []
    obj = scope_object(scope)
    kind = scope.kind
    while obj is not None and kind != "city":
        crumbs.append({"kind": kind, "scope": f"{kind}:{obj.code}", "name": _name(obj)})
        if kind == "unit_grid":
            obj, kind = (obj.work_grid, "work_grid") if obj.work_grid_id else (obj.community, "community")
        elif kind == "work_grid":
            grid = obj.unit_grids.select_related("community").first()
            obj, kind = (grid.community, "community") if grid else (obj.street, "street")
        elif kind == "community":
            obj, kind = obj.parent, "street"
        else:
            obj, kind = None, "city"
    crumbs.append({"kind": "city", "scope": "city", "name": str(_("City"))})
    return crumbs[::-1]


def scope_params(scope: Scope) -> dict[str, str]:
    """The case-list parameters selecting the scope's cases."""
    if scope.kind in LIST_PARAM:
        return {LIST_PARAM[scope.kind]: scope.code}
    return {}


# --- links to the case list --------------------------------------------------------------------------


def cases_url(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", (), [])}
    return reverse("web:search") + ("?" + urlencode(clean) if clean else "")


def period_params(p: Period) -> dict[str, str]:
    return {"created_from": p.first.isoformat(), "created_to": p.last.isoformat()}


@dataclass(frozen=True)
class Frame:
    """The cases one dashboard counts: a viewer's, in a scope; `base` the list parameters."""

    viewer: Viewer
    scope: Scope

    def fact_q(self) -> Q:
        q = self.scope.fact_q()
        if self.viewer.departments is not None:
            q &= Q(department_id__in=self.viewer.departments)
        return q

    def cohort_q(self) -> Q | None:
        """The filter on the cohort counts (the same street, community and work grid columns as
        the facts), None for a unit grid: its few cases are counted from their facts."""
        if self.scope.kind == "unit_grid":
            return None
        return self.fact_q()

    def case_q(self) -> Q:
        q = Q()
        if self.scope.kind in FACT_COLUMN:
            q &= Q(**{FACT_COLUMN[self.scope.kind]: self.scope.obj_id})
        elif self.scope.kind == "district":
            q &= Q(street__parent_id=self.scope.obj_id)
        if self.viewer.departments is not None:
            q &= Q(department_id__in=self.viewer.departments)
        return q

    def base(self) -> dict[str, str]:
        params = scope_params(self.scope)
        v = self.viewer
        if v.departments is not None and len(v.departments) == 1:
            params["department"] = str(next(iter(v.departments)))
        return params

    def url(self, **params: Any) -> str:
        return cases_url(**{**self.base(), **params})


# --- the counts -------------------------------------------------------------------------------------

#: the counters of a cohort (cases reported in a period, what became of them now)
COUNTERS = ("collected", "self_fixed", "dispatched", "closed", "closed_dispatched", "closed_on_time")


def _reported(p: Period) -> Q:
    return Q(reported_at__gte=p.start, reported_at__lt=p.end)


def cohort(
    frame: Frame,
    p: Period,
    by: str | tuple[str, ...] = (),
    dim: str = "t",
    *,
    counters: tuple[str, ...] = COUNTERS,
    facts: bool = False,
) -> dict[Any, dict[str, int]]:
    """The cohort counters of the frame's cases reported in `p`: in total (`by` empty: key None),
    per one of "day", "street_id", "community_id", "work_grid_id", "department_id", "unit_grid_id"
    (only from the facts) or "key" (the key of `dim`: "o" source, "k" category, "r" reporting
    collector; ints but for sources), or per a tuple of them (tuple keys). Only keys with cases
    (and a work grid, a department when grouped by it); only the `counters` asked for (and
    "collected").

    From the city down to a work grid they are sums of the pre-aggregated cohort counts
    (evaluation.cohorts, about a row per day, work grid, department and key instead of a row per
    case); a unit grid's, those per unit grid (or with `facts`, any) come from the case facts."""
    group = (by,) if isinstance(by, str) else tuple(by)
    q = None if facts or "unit_grid_id" in group else frame.cohort_q()
    wanted = ("collected", *(c for c in counters if c != "collected"))
    rows = _from_facts(frame, p, group, dim, wanted) if q is None else _from_cube(q, p, group, dim, wanted)
    out: dict[Any, dict[str, int]] = {}
    for key, v in rows:
        if not v["collected"] or any(not key[group.index(g)] for g in ("work_grid_id", "department_id") if g in group):
            continue  # nothing reported; no work grid, no department charged
        out[key if len(group) > 1 else (key[0] if group else None)] = v
    return out


def _stored_counters(counters: tuple[str, ...]) -> dict[str, str]:
    """Each counter asked for → the cohort counter that holds it under the counting rules in force
    (closed on time: without extension when extended cases count as late)."""
    strict = current_rules()["EXTENDED"] == "late"
    return {c: "closed_on_time_strict" if c == "closed_on_time" and strict else c for c in counters}


def _from_cube(
    q: Q, p: Period, group: tuple[str, ...], dim: str, counters: tuple[str, ...]
) -> Iterable[tuple[tuple, dict[str, int]]]:
    columns = _stored_counters(counters)
    for key, v in cohorts.totals(q & Q(day__gte=p.first, day__lte=p.last), group, dim, tuple(columns.values())).items():
        yield (
            tuple(int(k) if g == "key" and dim != "o" else k for g, k in zip(group, key, strict=True)),
            {c: v[name] for c, name in columns.items()},
        )


def _from_facts(
    frame: Frame, p: Period, group: tuple[str, ...], dim: str, counters: tuple[str, ...]
) -> Iterable[tuple[tuple, dict[str, int]]]:
    """The same counts as `_from_cube`, from the case facts (the same definitions: evaluation.cohorts)."""
    columns = _stored_counters(counters)
    qs = cohorts.facts_of(dim, CaseFact.objects.filter(_reported(p) & frame.fact_q()))
    names = [{"key": "c_key", "day": "c_day"}.get(g, g) for g in group]
    aggregates = cohorts.aggregates(tuple(columns.values()))
    rows = [qs.aggregate(**aggregates)] if not names else qs.values(*names).annotate(**aggregates).order_by()
    for row in rows:
        key = tuple(row.pop(n) for n in names)
        yield (
            tuple(int(k) if g == "key" and dim != "o" else k for g, k in zip(group, key, strict=True)),
            {c: row[name] for c, name in columns.items()},
        )


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


def _rates(v: dict[str, int]) -> dict[str, Any]:
    def rate(a: int, b: int) -> float | None:
        return round(100.0 * a / b, 1) if b else None

    return {
        "closure_rate": rate(v["closed_dispatched"], v["dispatched"]),
        "on_time_rate": rate(v["closed_on_time"], v["closed_dispatched"]),
    }


def kpis(frame: Frame, p: Period) -> dict[str, Any]:
    v = cohort(frame, p).get(None) or _zero()
    return {**v, **_rates(v)}


def kpi_links(frame: Frame, p: Period) -> dict[str, str]:
    pp = period_params(p)
    dispatched = ",".join(DISPATCHED_STATES)
    return {
        "collected": frame.url(**pp),
        "self_fixed": frame.url(**pp, state=State.CLOSED, self_handled="1"),
        "dispatched": frame.url(**pp, state=dispatched, self_handled="0"),
        "closed": frame.url(**pp, state=State.CLOSED),
        "closed_dispatched": frame.url(**pp, state=State.CLOSED, self_handled="0"),
        "closure_rate": frame.url(**pp, state=State.CLOSED, self_handled="0"),
        "on_time_rate": frame.url(**pp, state=State.CLOSED, self_handled="0"),
    }


def trend(frame: Frame, p: Period) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Per day (periods up to 62 days) or per week: collected and closed; and the period's totals."""
    per_day = cohort(frame, p, "day")
    totals = _zero()
    for row in per_day.values():
        for k in COUNTERS:
            totals[k] += row[k]
    weekly = (p.last - p.first).days >= 62
    buckets: list[dict[str, Any]] = []
    d = p.first
    while d <= p.last:
        end = min(d + timedelta(days=6 - d.weekday()), p.last) if weekly else d
        n = _zero()
        x = d
        while x <= end:
            for k, v in per_day.get(x, {}).items():
                n[k] += v
            x += timedelta(days=1)
        bucket = Period("", "custom", d, end)
        buckets.append(
            {
                "label": f"{d:%m-%d}" if not weekly else f"{d:%m-%d}~{end:%m-%d}",
                "first": d.isoformat(),
                "last": end.isoformat(),
                "collected": n["collected"],
                "closed": n["closed"],
                "url": frame.url(**period_params(bucket)),
                "closed_url": frame.url(**period_params(bucket), state=State.CLOSED),
            }
        )
        d = end + timedelta(days=1)
    return buckets, totals


def by_source(frame: Frame, p: Period) -> list[dict[str, Any]]:
    labels = dict(Source.choices)
    rows = sorted(
        ((v["collected"], k) for k, v in cohort(frame, p, "key", "o", counters=()).items()),
        key=lambda r: (-r[0], r[1]),
    )
    pp = period_params(p)
    return [
        {"key": source, "name": str(labels.get(source, source)), "count": n, "url": frame.url(**pp, source=source)}
        for n, source in rows
    ]


def by_category(frame: Frame, p: Period, top: int = TOP_N) -> list[dict[str, Any]]:
    from urbangrid.catalog.models import Category

    rows = sorted(
        ((v["collected"], k) for k, v in cohort(frame, p, "key", "k", counters=()).items()),
        key=lambda r: (-r[0], r[1]),
    )[:top]
    cats = {c.pk: c for c in Category.objects.filter(pk__in=[pk for _n, pk in rows])}
    pp = period_params(p)
    out = []
    for n, pk in rows:
        c = cats.get(pk)
        if c is None:
            continue
        out.append(
            {
                "key": f"{c.kind}:{c.code}",
                "id": c.pk,
                "name": c.name,
                "count": n,
                "url": frame.url(**pp, category=f"{c.kind}:{c.code}"),
            }
        )
    return out


def children(frame: Frame, p: Period) -> tuple[str | None, list[dict[str, Any]]]:
    """The next level down (streets of the city …): counts, closure rate, drill and list links."""
    from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

    kind = CHILD.get(frame.scope.kind)
    if kind is None:
        return None, []
    rows = cohort(frame, p, FACT_COLUMN[kind])
    model = {"work_grid": WorkGrid, "unit_grid": UnitGrid}.get(kind, AdminDivision)
    objs = model.objects.filter(pk__in=list(rows))
    if kind in ("street", "community") and frame.viewer.departments is None:
        # every division below, with or without cases
        level_q = Q(level=kind)
        if frame.scope.kind in ("street", "district"):
            level_q &= Q(parent_id=frame.scope.obj_id)
        objs = model.objects.filter(Q(pk__in=list(rows)) | level_q)
    pp = period_params(p)
    out = []
    for o in objs.order_by("code"):
        v = rows.get(o.pk) or _zero()
        child_params = {**frame.base(), LIST_PARAM[kind]: o.code}
        out.append(
            {
                "kind": kind,
                "code": o.code,
                "name": _name(o),
                "scope": f"{kind}:{o.code}",
                **v,
                **_rates(v),
                "url": cases_url(**child_params, **pp),
                "closed_url": cases_url(**child_params, **pp, state=State.CLOSED),
            }
        )
    out.sort(key=lambda r: (-r["collected"], r["code"]))
    return kind, out


def departments(frame: Frame, p: Period) -> tuple[list[dict[str, Any]], datetime | None]:
    """Departments charged with the period's cases: their count (a list link), closure and
    on-time rates of those cases, and the evaluation's on-time handling rate and composite
    (stored, `evaluation.stored`: as of the time returned with the rows)."""
    from urbangrid.core.models import Department

    rows = cohort(frame, p, "department_id")
    evaluated, at = stored.evaluation("department", p, frame.scope)
    only = frame.viewer.departments
    evaluation = {r["object"]["id"]: r["values"] for r in evaluated if only is None or r["object"]["id"] in only}
    names = dict(Department.objects.filter(pk__in=list(rows)).values_list("pk", "name"))
    pp = period_params(p)
    out = []
    for pk, v in rows.items():
        ev = evaluation.get(pk, {})
        params = {**scope_params(frame.scope), "department": str(pk), **pp}
        out.append(
            {
                "id": pk,
                "name": names.get(pk, str(pk)),
                "count": v["collected"],
                "closed": v["closed_dispatched"],
                **_rates(v),
                "handling_on_time_rate": ev.get("dept_on_time_handling_rate"),
                "composite": ev.get("dept_composite"),
                "url": cases_url(**params),
                "closed_url": cases_url(**params, state=State.CLOSED),
            }
        )
    out.sort(key=lambda r: (-(r["composite"] or 0), -(r["on_time_rate"] or 0), -r["count"], r["name"]))
    return out, at


def collectors(frame: Frame, p: Period, top: int = 5) -> list[dict[str, Any]]:
    from urbangrid.core.models import User

    rows = sorted(
        (
            (v["collected"], k, v["self_fixed"])
            for k, v in cohort(frame, p, "key", "r", counters=("self_fixed",)).items()
        ),
        key=lambda r: (-r[0], r[1]),
    )[:top]
    users = {u.pk: u for u in User.objects.filter(pk__in=[pk for _n, pk, _f in rows])}
    pp = period_params(p)
    out = []
    for n, pk, fixed in rows:
        u = users.get(pk)
        name = (u.get_full_name() or u.username) if u else str(pk)
        params = {**pp, "source": Source.COLLECTOR, "reported_by": str(pk)}
        out.append(
            {
                "id": pk,
                "name": name,
                "count": n,
                "self_fixed": fixed,
                "url": frame.url(**params),
                "self_fixed_url": frame.url(**params, state=State.CLOSED, self_handled="1"),
            }
        )
    return out


def overdue(frame: Frame, now: datetime, rows: int = OVERDUE_ROWS) -> dict[str, Any]:
    """Open cases past their deadline now (live, from the case table's state/deadline index)."""
    qs = Case.objects.filter(Q(state__in=OPEN_STATES, deadline__lt=now) & frame.case_q())
    count = qs.count()
    labels = dict(State.choices)
    items = [
        {
            "id": c["pk"],
            "number": c["number"],
            "category": c["category__name"],
            "department": c["department__name"] or "",
            "state": str(labels.get(c["state"], c["state"])),
            "deadline": timezone.localtime(c["deadline"]).strftime("%m-%d %H:%M"),
            "hours_over": round((now - c["deadline"]).total_seconds() / 3600, 1),
            "url": reverse("web:case", args=[c["pk"]]),
        }
        for c in qs.order_by("deadline", "pk").values(
            "pk", "number", "category__name", "department__name", "state", "deadline"
        )[:rows]
    ]
    return {
        "count": count,
        "url": frame.url(state=",".join(OPEN_STATES), overdue="1"),
        "items": items,
    }


def _delta(now: Any, before: Any) -> Any:
    if now is None or before is None:
        return None
    return round(now - before, 1)


def summary(viewer: Viewer, period: Period, scope: Scope, now: datetime | None = None) -> dict[str, Any]:
    """Everything /dashboard/ shows, cached for a few seconds per viewer, period and scope."""
    now = now or timezone.now()
    key = f"dashboard:summary:{viewer.key}:{period.label}:{period.first}:{period.last}:{scope.kind}:{scope.code}"
    seconds = cache_seconds()
    if seconds:
        hit = cache.get(key)
        if hit is not None:
            return hit
    frame = Frame(viewer, scope)
    buckets, totals = trend(frame, period)
    current = {**totals, **_rates(totals)}
    prev_p, year_p = previous_period(period), same_period_last_year(period)
    prev, year = kpis(frame, prev_p), kpis(frame, year_p)
    od = overdue(frame, now)
    cards = []
    links, prev_links, year_links = kpi_links(frame, period), kpi_links(frame, prev_p), kpi_links(frame, year_p)
    for code, label, unit in (
        ("collected", _("Collected"), ""),
        ("self_fixed", _("of which closed on the spot"), ""),
        ("dispatched", _("Registered and dispatched"), ""),
        ("closed", _("Closed"), ""),
        ("closure_rate", _("Closure rate"), "%"),
        ("on_time_rate", _("On-time rate"), "%"),
    ):
        cards.append(
            {
                "code": code,
                "label": str(label),
                "unit": unit,
                "value": current[code],
                "url": links[code],
                "previous": prev[code],
                "previous_url": prev_links[code],
                "delta_previous": _delta(current[code], prev[code]),
                "last_year": year[code],
                "last_year_url": year_links[code],
                "delta_last_year": _delta(current[code], year[code]),
            }
        )
    cards.append(
        {
            "code": "overdue",
            "label": str(_("Overdue open now")),
            "unit": "",
            "value": od["count"],
            "url": od["url"],
            "previous": None,
            "last_year": None,
            "delta_previous": None,
            "delta_last_year": None,
        }
    )
    child_kind, child_rows = children(frame, period)
    department_rows, evaluated_at = departments(frame, period)
    data = {
        "period": {
            "label": period.label,
            "kind": period.kind,
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
        },
        "previous_period": {"label": prev_p.label, "first": prev_p.first.isoformat(), "last": prev_p.last.isoformat()},
        "last_year_period": {"label": year_p.label, "first": year_p.first.isoformat(), "last": year_p.last.isoformat()},
        "scope": {
            "kind": scope.kind,
            "code": scope.code,
            "text": scope.text,
        },
        "breadcrumbs": breadcrumbs(scope),
        "kpis": cards,
        "trend": {"granularity": "week" if (period.last - period.first).days >= 62 else "day", "buckets": buckets},
        "sources": by_source(frame, period),
        "categories": by_category(frame, period),
        "children": {"kind": child_kind, "rows": child_rows},
        "departments": department_rows,
        "evaluated_at": timezone.localtime(evaluated_at).isoformat(timespec="seconds") if evaluated_at else None,
        "evaluated_label": f"{timezone.localtime(evaluated_at):%m-%d %H:%M}" if evaluated_at else "",
        "collectors": collectors(frame, period),
        "overdue": od,
        "generated_at": timezone.localtime(now).isoformat(timespec="seconds"),
    }
    if seconds:
        cache.set(key, data, seconds)
    return data


# --- the big screen ------------------------------------------------------------------------------------


def today_period(now: datetime | None = None) -> Period:
    d = timezone.localtime(now or timezone.now()).date()
    return Period(d.isoformat(), "day", d, d)


def screen_summary(viewer: Viewer, now: datetime | None = None) -> dict[str, Any]:
    """Today's counts, the overdue list, departments' on-time ranking (this month) and the
    category trend of the last 14 days (top 5 categories)."""
    now = now or timezone.now()
    key = f"dashboard:screen:{viewer.key}"
    seconds = min(cache_seconds(), 10)
    if seconds and (hit := cache.get(key)) is not None:
        return hit

    frame = Frame(viewer, Scope("city"))
    today = today_period(now)
    counts = kpis(frame, today)
    links = kpi_links(frame, today)
    month = default_period(today.first)
    ranking = [
        {
            "name": d["name"],
            "rate": d["handling_on_time_rate"],
            "composite": d["composite"],
            "count": d["count"],
            "url": d["url"],
        }
        for d in departments(frame, month)[0]
    ]
    ranking.sort(key=lambda r: (-(r["rate"] if r["rate"] is not None else -1), r["name"]))
    span = Period("", "custom", today.first - timedelta(days=13), today.first)
    top = by_category(frame, span, top=5)
    wanted = {t["id"] for t in top}
    grid = {
        (k, d): v["collected"]
        for (d, k), v in cohort(frame, span, ("day", "key"), "k", counters=()).items()
        if k in wanted
    }
    days = [span.first + timedelta(days=i) for i in range(14)]
    series = [{"name": t["name"], "url": t["url"], "data": [grid.get((t["id"], d), 0) for d in days]} for t in top]
    data = {
        "today": {
            "date": today.first.isoformat(),
            "counts": [
                {"code": c, "label": str(label), "value": counts[c], "url": links[c]}
                for c, label in (
                    ("collected", _("Reported today")),
                    ("self_fixed", _("Closed on the spot")),
                    ("dispatched", _("Dispatched")),
                    ("closed", _("Closed")),
                )
            ],
        },
        "overdue": overdue(frame, now, rows=12),
        "departments": ranking[:10],
        "category_trend": {"days": [f"{d:%m-%d}" for d in days], "series": series},
        "generated_at": timezone.localtime(now).isoformat(timespec="seconds"),
    }
    if seconds:
        cache.set(key, data, seconds)
    return data


def feed(viewer: Viewer, after: int = 0, limit: int = 15) -> dict[str, Any]:
    """The newest cases (ids above `after`, or the latest `limit`)."""
    frame = Frame(viewer, Scope("city"))
    qs = Case.objects.filter(frame.case_q())
    if after:
        qs = qs.filter(pk__gt=after)
    labels = dict(Source.choices)
    rows = list(
        qs.order_by("-pk").values(
            "pk", "number", "source", "category__name", "street__name", "community__name", "created_at", "state"
        )[:limit]
    )
    last = rows[0]["pk"] if rows else after
    if not rows and not after:
        last = 0
    return {
        "last_id": last,
        "items": [
            {
                "id": r["pk"],
                "number": r["number"],
                "source": str(labels.get(r["source"], r["source"])),
                "category": r["category__name"],
                "place": f"{r['street__name']} {r['community__name']}",
                "time": timezone.localtime(r["created_at"]).strftime("%H:%M:%S"),
                "url": reverse("web:case", args=[r["pk"]]),
            }
            for r in rows
        ],
    }


def density(viewer: Viewer, now: datetime | None = None, days: int = 7) -> dict[str, Any]:
    """Cases reported per unit grid in the last `days` days (today included)."""
    from urbangrid.geo.models import UnitGrid

    today = today_period(now)
    span = Period("", "custom", today.first - timedelta(days=days - 1), today.first)
    frame = Frame(viewer, Scope("city"))
    rows = dict(
        CaseFact.objects.filter(_reported(span) & frame.fact_q())
        .values("unit_grid_id")
        .annotate(n=Count(Value(1)))
        .order_by()
        .values_list("unit_grid_id", "n")
    )
    codes = dict(UnitGrid.objects.filter(pk__in=list(rows)).values_list("pk", "code"))
    counts = {codes[pk]: n for pk, n in rows.items() if pk in codes}
    return {"days": days, "first": span.first.isoformat(), "counts": counts, "max": max(counts.values(), default=0)}


def collector_positions(viewer: Viewer, now: datetime | None = None) -> dict[str, Any]:
    """Where each collector last reported a case today: there is no GPS tracking, so this is
    the position of their latest report (the legend says so)."""
    from urbangrid.core.models import User

    start = today_period(now).start
    frame = Frame(viewer, Scope("city"))
    latest = (
        Case.objects.filter(
            Q(source=Source.COLLECTOR, created_at__gte=start, reported_by__isnull=False) & frame.case_q()
        )
        .values("reported_by_id")
        .annotate(last=Max("pk"))
        .order_by()
    )
    ids = [r["last"] for r in latest]
    cases = Case.objects.filter(pk__in=ids).values("reported_by_id", "lon", "lat", "created_at")
    users = {u.pk: u for u in User.objects.filter(pk__in=[c["reported_by_id"] for c in cases])}
    out = []
    for c in cases:
        u = users.get(c["reported_by_id"])
        out.append(
            {
                "name": (u.get_full_name() or u.username) if u else "",
                "lon": c["lon"],
                "lat": c["lat"],
                "time": timezone.localtime(c["created_at"]).strftime("%H:%M"),
            }
        )
    return {"source": "last_report", "collectors": sorted(out, key=lambda r: r["name"])}
