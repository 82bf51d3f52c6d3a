"""Cohort counts (按上报日的批次计数): for each local day of report, street, community, work grid
and charged department, what became of the cases reported that day, now: collected, closed on
the spot, dispatched, closed, closed after dispatch, closed on time. In total and broken down by
source, category and reporting collector (one row per key of each dimension).

They are a function of the case facts alone (`contributions(fact)`), so they stay exactly equal
to the history: the hook applies the difference between a case's fact before and after its new
entry (`apply`), `rebuild()` recomputes them from `CaseFact` with one GROUP BY per dimension, and
`check()` compares the stored rows with that GROUP BY. The dashboards read them instead of the
million fact rows of a busy month (docs/evaluation.md, "Dashboards: pre-aggregates")."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncDate

from urbangrid.cases.models import State

from .models import COHORT_COUNTERS, CaseFact, CohortCount

#: the states of a case that has been dispatched to a department (and not fixed on the spot)
DISPATCHED_STATES = (
    State.HANDLING,
    State.RETURN_REQUESTED,
    State.SUSPENDED,
    State.FEEDBACK,
    State.CHECKING,
    State.PENDING_CLOSE,
    State.RECHECKING,
    State.CLOSED,
)
#: dimension → the fact field that is its key ("t": the row of the totals, key "")
DIMENSIONS = {"t": None, "o": "source", "k": "category_id", "r": "reporter_id"}
#: the columns of a row's key
KEY_FIELDS = ("dim", "day", "street_id", "community_id", "work_grid_id", "department_id", "key")

Key = tuple[Any, ...]  # values of KEY_FIELDS


def counters(fact: dict[str, Any]) -> tuple[int, ...]:
    """The case's contribution to each counter of `COHORT_COUNTERS`, from its fact."""
    closed = fact["state"] == State.CLOSED
    fixed = fact["self_fixed_at"] is not None
    closed_dispatched = closed and not fixed
    on_time = closed_dispatched and not fact["handled_late"]
    return (
        1,
        int(closed and fixed),
        int(fact["state"] in DISPATCHED_STATES and not fixed),
        int(closed),
        int(closed_dispatched),
        int(on_time),
        int(on_time and not fact["extensions"]),
    )


def _key(fact: dict[str, Any], dim: str) -> str | None:
    field = DIMENSIONS[dim]
    if field is None:
        return ""
    if dim == "r" and fact["source"] != "collector":
        return None  # collectors' own reports only
    value = fact[field]
    return None if value is None else str(value)


def contributions(fact: dict[str, Any] | None) -> dict[Key, tuple[int, ...]]:
    """{(dim, day, street, community, work grid, department, key): counters} of one case's fact."""
    if fact is None:
        return {}
    from .facts import local_day

    where = (
        local_day(fact["reported_at"]),
        fact["street_id"],
        fact["community_id"],
        fact["work_grid_id"] or 0,
        fact["department_id"] or 0,
    )
    values = counters(fact)
    out = {}
    for dim in DIMENSIONS:
        key = _key(fact, dim)
        if key is not None:
            out[(dim, *where, key)] = values
    return out


def difference(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[Key, tuple[int, ...]]:
    """What a case's change of fact changes in the cohort counts (nothing for most steps: the
    counters move only when the case is dispatched, closed, reopened, reassigned …)."""
    old, new = contributions(before), contributions(after)
    if old == new:
        return {}
    delta = {}
    for k in old.keys() | new.keys():
        a, b = old.get(k), new.get(k)
        d = tuple(y - x for x, y in zip(a or (0,) * len(b), b or (0,) * len(a), strict=True))
        if any(d):
            delta[k] = d
    return delta


def apply(delta: dict[Key, tuple[int, ...]]) -> None:
    """Add `delta` to the stored counts: one INSERT … ON CONFLICT DO UPDATE (both databases),
    rows in a fixed order so that concurrent steps lock them in the same order."""
    if not delta:
        return
    qn = connection.ops.quote_name
    table = qn(CohortCount._meta.db_table)
    keys = [qn(CohortCount._meta.get_field(n).column) for n in KEY_FIELDS]
    values = [qn(n) for n in COHORT_COUNTERS]
    items = sorted(delta.items(), key=lambda kv: tuple(map(str, kv[0])))
    row = "(" + ", ".join(["%s"] * (len(keys) + len(values))) + ")"
    params: list[Any] = []
    for (dim, day, *where), d in items:
        params += [dim, connection.ops.adapt_datefield_value(day), *where, *d]
    update = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values)
    sql = (
        f"INSERT INTO {table} ({', '.join(keys + values)}) VALUES {', '.join([row] * len(items))} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)


# --- rebuild and check: the same counts as a GROUP BY over the facts -------------------------------


def aggregates(counters: tuple[str, ...] = COHORT_COUNTERS) -> dict[str, Any]:
    """`counters()` as aggregates over CaseFact rows (those named, in the order of COHORT_COUNTERS)."""
    closed = Q(state=State.CLOSED)
    closed_dispatched = closed & Q(self_fixed_at__isnull=True)
    on_time = closed_dispatched & Q(handled_late=False)
    filters = (
        None,
        closed & Q(self_fixed_at__isnull=False),
        Q(state__in=DISPATCHED_STATES, self_fixed_at__isnull=True),
        closed,
        closed_dispatched,
        on_time,
        on_time & Q(extensions=0),
    )
    return {
        name: Count(Value(1), filter=q) for name, q in zip(COHORT_COUNTERS, filters, strict=True) if name in counters
    }


def facts_of(dim: str, qs: QuerySet | None = None) -> QuerySet:
    """The facts (of `qs`, else all) that count in dimension `dim`, with `c_day` (the local day of
    report) and `c_key` (the dimension's key) annotated."""
    from .facts import _tz

    field = DIMENSIONS[dim]
    qs = CaseFact.objects.all() if qs is None else qs
    if field is not None:
        qs = qs.filter(**{f"{field}__isnull": False})
    if dim == "r":
        qs = qs.filter(source="collector")  # collectors' own reports only
    key = (
        Value("")
        if field is None
        else (F(field) if dim == "o" else Cast(field, output_field=CohortCount._meta.get_field("key")))
    )
    return qs.annotate(c_day=TruncDate("reported_at", tzinfo=_tz()), c_key=key)


def grouped(dim: str) -> QuerySet:
    """The cohort counts of one dimension computed from `CaseFact` (rows like CohortCount's)."""
    return (
        facts_of(dim)
        .annotate(c_work_grid=Coalesce("work_grid_id", 0), c_department=Coalesce("department_id", 0))
        .values("c_day", "street_id", "community_id", "c_work_grid", "c_department", "c_key")
        .annotate(**aggregates())
        .order_by()
    )


def rebuild(batch: int = 5000) -> int:
    """Replace every stored cohort count with a recomputation from the facts; the rows made."""
    CohortCount.objects.all().delete()
    made = 0
    for dim in DIMENSIONS:
        rows: list[CohortCount] = []
        # in day order, as the hook adds them day by day: a period's rows lie together
        for r in grouped(dim).order_by("c_day").iterator(chunk_size=batch):
            rows.append(
                CohortCount(
                    dim=dim,
                    day=r["c_day"],
                    street_id=r["street_id"],
                    community_id=r["community_id"],
                    work_grid_id=r["c_work_grid"],
                    department_id=r["c_department"],
                    key=r["c_key"],
                    **{n: r[n] for n in COHORT_COUNTERS},
                )
            )
            if len(rows) == batch:
                CohortCount.objects.bulk_create(rows)
                made, rows = made + len(rows), []
        CohortCount.objects.bulk_create(rows)
        made += len(rows)
    return made


def check(limit: int = 20) -> list[str]:
    """Differences between the stored cohort counts and a GROUP BY over the facts (empty: equal)."""
    problems: list[str] = []
    for dim in DIMENSIONS:
        names = ("c_day", "street_id", "community_id", "c_work_grid", "c_department", "c_key")
        want = {tuple(r[n] for n in names): tuple(r[n] for n in COHORT_COUNTERS) for r in grouped(dim)}
        zero = (0,) * len(COHORT_COUNTERS)
        width = len(KEY_FIELDS) - 1
        stored = {
            tuple(row[:width]): tuple(row[width:])
            for row in CohortCount.objects.filter(dim=dim).values_list(*KEY_FIELDS[1:], *COHORT_COUNTERS)
        }
        for k in sorted(want.keys() | stored.keys(), key=lambda k: tuple(map(str, k))):
            if want.get(k, zero) != stored.get(k, zero):
                problems.append(f"cohort count {dim} {k}: stored {stored.get(k, zero)}, facts {want.get(k, zero)}")
                if len(problems) >= limit:
                    return problems
    return problems


# --- reading ------------------------------------------------------------------------------------------


def totals(
    q: Q, group: tuple[str, ...], dim: str = "t", counters: tuple[str, ...] = COHORT_COUNTERS
) -> dict[Key, dict[str, int]]:
    """The `counters` summed over the rows of `dim` matching `q`, per `group` (CohortCount
    fields; empty: one total, key ()); only keys with cases when "collected" is asked for."""
    qs = CohortCount.objects.filter(q & Q(dim=dim))
    sums = {n: Sum(n) for n in counters}
    if not group:
        row = qs.aggregate(**sums)
        return {} if row.get("collected", 1) is None else {(): {n: row[n] or 0 for n in counters}}
    out: dict[Key, dict[str, int]] = {}
    for row in qs.values(*group).annotate(**sums).order_by():
        out[tuple(row.pop(g) for g in group)] = row
    return out
