"""Facts derived from the append-only history: one `CaseFact` per case and the `DailyCount`
counters, both a pure function of (history entries, snapshot) — `derive()`.

* The History post_save hook (`on_history_saved`, connected in apps.py) recomputes the case's
  fact and applies the difference its new entry makes to the daily counters, inside the step's
  transaction.
* `rebuild()` recomputes everything from history (`urbangrid rebuild_facts`).
* `check()` recomputes everything and compares it with the stored rows (`urbangrid check_facts`):
  the pre-aggregates stay exactly equal to the history.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from . import cohorts
from .models import CaseFact, CaseSnapshot, DailyCount

#: the History columns derive() reads, in this order
ENTRY_FIELDS = (
    "object_id",
    "seq",
    "action",
    "to_state",
    "actor_id",
    "overdue",
    "deadline_after",
    "created_at",
    "payload",
)

CHECK_DONE = frozenset({"check_pass", "check_fail", "recheck_confirm", "recheck_reject"})
REWORK = frozenset({"check_fail", "reopen", "recheck_confirm"})
DISPATCH = frozenset({"dispatch", "auto_dispatch", "reassign"})

#: CaseFact fields written by derive() (all but the key)
FACT_FIELDS = [f.attname for f in CaseFact._meta.concrete_fields if f.attname != "case_id"]


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    action: str
    to_state: str
    actor_id: int | None
    overdue: bool
    deadline_after: datetime | None
    created_at: datetime
    payload: Any


@dataclass(frozen=True, slots=True)
class Snapshot:
    source: str
    reported_category_id: int
    registered_category_id: int | None
    urgency: str
    unit_grid_id: int
    work_grid_id: int | None
    community_id: int
    street_id: int


@functools.cache
def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: datetime) -> date:
    return at.astimezone(_tz()).date()


def _payload(e: Entry) -> dict[str, Any]:
    p = e.payload
    if isinstance(p, str):
        import json

        p = json.loads(p or "{}")
    return p or {}


def derive(case_id: int, entries: list[Entry], snap: Snapshot) -> tuple[dict[str, Any], Counter]:
    """The case's fact (a dict of CaseFact fields) and its contributions to the daily counters
    ({(day, dim, key, counter): n}) from its history `entries` (in seq order) and snapshot."""
    c: Counter = Counter()

    def add(day: date, dim: str, key: Any, counter: str) -> None:
        if key is not None:
            c[(day, dim, key, counter)] += 1

    first = entries[0]
    reporter = first.actor_id
    rday = local_day(first.created_at)
    public = snap.source != "collector"
    urgency = snap.urgency
    registered_at = None
    registration = None  # (shift leader, day) of the standing registration
    first_registered_day = None
    accepted = False
    voided_at = None
    self_fixer = None
    self_fixed_at = None
    dept = dispatched_at = due = handled_at = None
    late = False
    reworks = extensions = suspensions = returns = 0
    dispatch_by = None  # (dispatcher, day) of the current assignment's dispatch
    closed_at = None
    pending_verify = pending_check = None
    for e in entries:
        a = e.action
        day = local_day(e.created_at)
        if a == "send_verify":
            add(day, "u", e.actor_id, "verify_sent")
            if not e.overdue:
                add(day, "u", e.actor_id, "verify_sent_on_time")
            pending_verify = day
        elif a == "verify":
            add(day, "u", e.actor_id, "verify_done")
            if not e.overdue:
                add(day, "u", e.actor_id, "verify_on_time")
        elif a in ("accept", "reject"):
            add(day, "u", e.actor_id, "accepted")
            if not e.overdue:
                add(day, "u", e.actor_id, "accepted_on_time")
            accepted = accepted or a == "accept"
        elif a == "register":
            registered_at = e.created_at
            registration = (e.actor_id, day)
            first_registered_day = first_registered_day or day
            add(day, "u", e.actor_id, "registered")
            if e.deadline_after is None or e.created_at <= e.deadline_after:
                add(day, "u", e.actor_id, "registered_on_time")
            urgency = _payload(e).get("urgency", urgency)
        elif a == "return_to_shift":
            registered_at = registration = None
        elif a in DISPATCH:
            if a == "dispatch":
                add(day, "u", e.actor_id, "dispatched")
                if not e.overdue:
                    add(day, "u", e.actor_id, "dispatched_on_time")
            elif a == "reassign" and dispatch_by is not None:
                add(dispatch_by[1], "u", dispatch_by[0], "dispatch_wrong")
            dispatch_by = (e.actor_id, day) if a == "dispatch" else None
            dept = _payload(e).get("department")
            dispatched_at, due, handled_at, late = e.created_at, None, None, False
            reworks = extensions = suspensions = 0
        elif a == "approve_return":
            returns += 1
            add(day, "d", _payload(e).get("returned_department", dept), "returned")
            if dispatch_by is not None:
                add(dispatch_by[1], "u", dispatch_by[0], "dispatch_wrong")
            dispatch_by = dept = dispatched_at = due = handled_at = None
            late = False
            reworks = extensions = suspensions = 0
        elif a == "approve_extension":
            extensions += 1
        elif a == "approve_suspension":
            suspensions += 1
        elif a == "feedback":
            handled_at = e.created_at
            late = late or e.overdue
        elif a == "send_check":
            add(day, "u", e.actor_id, "check_sent")
            if not e.overdue:
                add(day, "u", e.actor_id, "check_sent_on_time")
            pending_check = day
        elif a == "dispute":
            pending_check, closed_at = day, None
        elif a == "close":
            closed_at = e.created_at
            add(day, "u", e.actor_id, "close_due")
            if not e.overdue:
                add(day, "u", e.actor_id, "closed_on_time")
        elif a == "self_fix":
            self_fixer = e.actor_id
        elif a == "refuse_self_fix":
            self_fixer = None
        elif a == "confirm_self_fix":
            self_fixed_at = closed_at = e.created_at
            add(day, "u", self_fixer, "self_fixes")
        elif a == "approve_void":
            voided_at = e.created_at
        elif a in ("return_visit", "rate"):
            p = _payload(e)
            what, outcome = ("visits", p.get("outcome")) if a == "return_visit" else ("ratings", p.get("rating"))
            for dim, key in (("d", dept), ("s", snap.street_id), ("c", snap.community_id)):
                add(day, dim, key, what)
                if outcome:
                    add(day, dim, key, f"{what}_{outcome}")
        if a in CHECK_DONE:
            add(day, "u", e.actor_id, "check_done")
            if not e.overdue:
                add(day, "u", e.actor_id, "check_on_time")
            if a == "recheck_reject":
                closed_at = e.created_at
        if a in REWORK:
            reworks += 1
            handled_at = None
            if a == "reopen":
                add(day, "u", e.actor_id, "close_due")
        if e.to_state == "handling" and e.deadline_after is not None and dept is not None:
            due = e.deadline_after
        if e.to_state != "verifying":
            pending_verify = None
        if e.to_state not in ("checking", "rechecking"):
            pending_check = None

    voided = voided_at is not None
    registered = first_registered_day is not None
    if not public and reporter is not None:
        add(rday, "u", reporter, "reports")
        if registered:
            add(rday, "u", reporter, "reports_registered")
            if not voided:
                add(rday, "u", reporter, "reports_valid")
        if accepted:
            add(rday, "u", reporter, "reports_accepted")
        if self_fixed_at is not None:
            add(rday, "u", reporter, "reports_self_fixed")
    if public and registered:
        add(first_registered_day, "g", snap.work_grid_id, "missed_registered")
        if not voided:
            add(first_registered_day, "g", snap.work_grid_id, "missed_valid")
    if voided and registration is not None:
        add(registration[1], "u", registration[0], "registered_voided")
    if pending_verify is not None:
        add(pending_verify, "g", snap.work_grid_id, "verify_unanswered")
    if pending_check is not None:
        add(pending_check, "g", snap.work_grid_id, "check_unanswered")

    fact = {
        "last_seq": entries[-1].seq,
        "state": entries[-1].to_state,
        "source": snap.source,
        "public": public,
        "reporter_id": reporter,
        "category_id": (snap.registered_category_id if registered else None) or snap.reported_category_id,
        "urgency": urgency or "",
        "unit_grid_id": snap.unit_grid_id,
        "work_grid_id": snap.work_grid_id,
        "community_id": snap.community_id,
        "street_id": snap.street_id,
        "reported_at": first.created_at,
        "registered_at": registered_at,
        "self_fixed_at": self_fixed_at,
        "voided_at": voided_at,
        "department_id": dept,
        "dispatched_at": dispatched_at,
        "due_at": due,
        "handled_at": handled_at,
        "handled_late": late,
        "closed_at": closed_at,
        "reworks": reworks,
        "extensions": extensions,
        "suspensions": suspensions,
        "returns": returns,
    }
    return fact, c


# --- reading history and snapshots --------------------------------------------------------------


@functools.cache
def case_content_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    from urbangrid.cases.models import Case

    return ContentType.objects.get_for_model(Case).pk


def entries_of(case_id: int) -> list[Entry]:
    """The case's history entries in seq order (one plain statement: the hook runs on every step)."""
    return [entry for _case, entry in _history_rows("object_id = %s", [case_id])]


def _parse_dt(value: Any) -> datetime | None:
    """A timestamp as the driver returns it (PostgreSQL: aware; SQLite: naive, or text, in the
    connection's time zone)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=connection.timezone)


def _history_rows(where: str, params: list[Any]) -> Iterator[tuple[int, Entry]]:
    """(case id, entry) of the case history rows matching `where`, by case and seq. A plain
    cursor: the ORM's per-row converters would triple the time of a rebuild, and the hook runs
    on every step."""
    from urbangrid.workflow.models import History

    table = connection.ops.quote_name(History._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in ENTRY_FIELDS)
    sql = f"SELECT {cols} FROM {table} WHERE content_type_id = %s AND {where} ORDER BY object_id, seq"
    sqlite = connection.vendor == "sqlite"
    with connection.cursor() as cur:
        cur.execute(sql, [case_content_type_id(), *params])
        while rows := cur.fetchmany(20000):
            for oid, seq, action, to_state, actor, overdue, dl_after, at, payload in rows:
                if sqlite:
                    dl_after, at = _parse_dt(dl_after), _parse_dt(at)
                yield oid, Entry(seq, action, to_state, actor, bool(overdue), dl_after, at, payload)


def iter_histories(lo: int, hi: int) -> Iterator[tuple[int, list[Entry]]]:
    """(case id, entries) for the cases with lo <= id < hi, in id order."""
    current, bucket = None, []
    for oid, entry in _history_rows("object_id >= %s AND object_id < %s", [lo, hi]):
        if oid != current:
            if bucket:
                yield current, bucket
            current, bucket = oid, []
        bucket.append(entry)
    if bucket:
        yield current, bucket


def _snap(s: CaseSnapshot) -> Snapshot:
    return Snapshot(
        s.source,
        s.reported_category_id,
        s.registered_category_id,
        s.urgency,
        s.unit_grid_id,
        s.work_grid_id,
        s.community_id,
        s.street_id,
    )


#: the CaseSnapshot fields of a `Snapshot`, in its order
SNAPSHOT_FIELDS = (
    "source",
    "reported_category_id",
    "registered_category_id",
    "urgency",
    "unit_grid_id",
    "work_grid_id",
    "community_id",
    "street_id",
)


def _snapshot_of(case_id: int) -> Snapshot | None:
    qn = connection.ops.quote_name
    cols = ", ".join(qn(CaseSnapshot._meta.get_field(f).column) for f in SNAPSHOT_FIELDS)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {qn(CaseSnapshot._meta.db_table)} WHERE case_id = %s", [case_id])
        row = cur.fetchone()
    return Snapshot(*row) if row is not None else None


def snapshot_from_case(case) -> CaseSnapshot:
    """The snapshot of a case reported before evaluation was installed (or by a bulk load),
    taken from the case row: location and source never change after the report, and only
    registration changes the category (its payload names the category it replaced)."""
    from urbangrid.catalog.models import Category
    from urbangrid.workflow.models import History

    reported = case.category_id
    registered = None
    regs = History.objects.filter(
        content_type_id=case_content_type_id(), object_id=case.pk, action="register"
    ).order_by("seq")
    first = regs.first()
    if first is not None:
        registered = case.category_id
        previous = (first.payload or {}).get("previous_category")
        if previous:
            kind = getattr(case.category, "kind", None)
            qs = Category.objects.filter(code=previous).order_by("-kind" if kind == "event" else "kind")
            reported = qs.values_list("pk", flat=True).first() or reported
    return CaseSnapshot(
        case_id=case.pk,
        source=case.source,
        reported_category_id=reported,
        registered_category_id=registered,
        urgency=case.urgency,
        unit_grid_id=case.unit_grid_id,
        work_grid_id=case.work_grid_id,
        community_id=case.community_id,
        street_id=case.street_id,
        category_code=case.category.code,
        category_kind=case.category.kind,
    )


def backfill_snapshots(batch: int = 5000) -> int:
    """Snapshots for cases that have none (see `snapshot_from_case`); bulk loads take the fast
    path: cases never corrected at registration."""
    from urbangrid.cases.models import Case

    made = 0
    last = 0
    while True:
        ids = list(Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return made
        last = ids[-1]
        have = set(CaseSnapshot.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
        missing = [i for i in ids if i not in have]
        if not missing:
            continue
        corrected = set(
            _history()
            .filter(object_id__in=missing, action="register", payload__has_key="previous_category")
            .values_list("object_id", flat=True)
        )
        rows = []
        registered = set(
            _history().filter(object_id__in=missing, action="register").values_list("object_id", flat=True)
        )
        for case in Case.objects.filter(pk__in=missing).select_related("category"):
            if case.pk in corrected:
                rows.append(snapshot_from_case(case))
                continue
            rows.append(
                CaseSnapshot(
                    case_id=case.pk,
                    source=case.source,
                    reported_category_id=case.category_id,
                    registered_category_id=case.category_id if case.pk in registered else None,
                    urgency=case.urgency,
                    unit_grid_id=case.unit_grid_id,
                    work_grid_id=case.work_grid_id,
                    community_id=case.community_id,
                    street_id=case.street_id,
                )
            )
        CaseSnapshot.objects.bulk_create(rows, batch_size=2000)
        made += len(rows)


def _history():
    from urbangrid.workflow.models import History

    return History.objects.filter(content_type_id=case_content_type_id())


# --- the hook ----------------------------------------------------------------------------------


def on_history_saved(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    if raw or not created or instance.content_type_id != case_content_type_id():
        return
    refresh_case(instance.object_id, instance.action)


def _take_snapshot(case_id: int, action: str) -> CaseSnapshot | None:
    from urbangrid.cases.models import Case

    if action == "report":  # one read of the new case row: nothing to look up in its history yet
        row = (
            Case.objects.filter(pk=case_id)
            .values(
                "source",
                "category_id",
                "urgency",
                "unit_grid_id",
                "work_grid_id",
                "community_id",
                "street_id",
                "category__code",
                "category__kind",
            )
            .first()
        )
        if row is None:
            return None
        snap = CaseSnapshot(
            case_id=case_id,
            source=row["source"],
            reported_category_id=row["category_id"],
            registered_category_id=None,
            urgency=row["urgency"],
            unit_grid_id=row["unit_grid_id"],
            work_grid_id=row["work_grid_id"],
            community_id=row["community_id"],
            street_id=row["street_id"],
            category_code=row["category__code"],
            category_kind=row["category__kind"],
        )
        snap.save(force_insert=True)
        return snap
    case = Case.objects.select_related("category").filter(pk=case_id).first()
    if case is None:
        return None
    snap = CaseSnapshot.objects.filter(case_id=case_id).first()
    if snap is None:
        snap = snapshot_from_case(case)
        snap.save(force_insert=True)
    elif action == "register":  # the category confirmed or corrected at registration (立案)
        snap.registered_category_id = case.category_id
        snap.category_code, snap.category_kind = case.category.code, case.category.kind
        CaseSnapshot.objects.filter(case_id=case_id).update(
            registered_category_id=case.category_id,
            category_code=case.category.code,
            category_kind=case.category.kind,
        )
    return snap


def refresh_case(case_id: int, action: str = "") -> None:
    """Recompute the case's fact and apply its new entry's difference to the daily counters."""
    snap = None if action in ("report", "register") else _snapshot_of(case_id)
    if snap is None:
        row = _take_snapshot(case_id, action)
        if row is None:
            return
        snap = _snap(row)
    entries = entries_of(case_id)
    if not entries:
        return
    fact, new = derive(case_id, entries, snap)
    if len(entries) > 1:
        # the fact before this entry: only the fields the entry changed are written (the covering
        # indexes of the other fields are left alone)
        before, old = derive(case_id, entries[:-1], snap)
        changed = {k: v for k, v in fact.items() if before.get(k) != v}
        if not CaseFact.objects.filter(case_id=case_id).update(**changed):
            CaseFact(case_id=case_id, **fact).save(force_insert=True)  # a case older than its fact
            before = None
    else:
        before, old = None, Counter()
        CaseFact(case_id=case_id, **fact).save(force_insert=action == "report")
    delta = Counter(new)
    delta.subtract(old)
    apply_counts({k: v for k, v in delta.items() if v})
    cohorts.apply(cohorts.difference(before, fact))


def apply_counts(delta: dict[tuple, int]) -> None:
    """Add `delta` ({(day, dim, key, counter): n}) to the daily counters: one INSERT … ON CONFLICT
    DO UPDATE statement for all of them (both databases), rows in a fixed order so that two
    concurrent steps lock them in the same order."""
    items = sorted(((k, n) for k, n in delta.items() if n), key=lambda kv: tuple(map(str, kv[0])))
    if not items:
        return
    qn = connection.ops.quote_name
    table = qn(DailyCount._meta.db_table)
    cols = [qn(DailyCount._meta.get_field(n).column) for n in ("day", "dim", "key", "counter", "value")]
    value = cols[4]
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(items))
    params: list[Any] = []
    for (day, dim, key, counter), n in items:
        params += [connection.ops.adapt_datefield_value(day), dim, key, counter, n]
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {rows} "
        f"ON CONFLICT ({', '.join(cols[:4])}) DO UPDATE SET {value} = {table}.{value} + excluded.{value}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)


# --- rebuild and check ---------------------------------------------------------------------------


def _id_ranges(step: int) -> Iterable[tuple[int, int]]:
    from urbangrid.cases.models import Case

    top = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for lo in range(0, top + 1, step):
        yield lo, lo + step


def recompute(step: int = 20000) -> Iterator[tuple[list[CaseFact], Counter]]:
    """Everything derived again from history, chunk by chunk of case ids."""
    for lo, hi in _id_ranges(step):
        snaps = {s.case_id: _snap(s) for s in CaseSnapshot.objects.filter(case_id__gte=lo, case_id__lt=hi)}
        facts: list[CaseFact] = []
        counts: Counter = Counter()
        for case_id, entries in iter_histories(lo, hi):
            snap = snaps.get(case_id)
            if snap is None:
                continue
            fact, contrib = derive(case_id, entries, snap)
            facts.append(CaseFact(case_id=case_id, **fact))
            counts.update(contrib)
        yield facts, counts


def _clear(model) -> None:
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def rebuild(*, step: int = 20000, log=None) -> dict[str, int]:
    """Recompute every CaseFact, DailyCount and CohortCount from history (in one transaction)."""
    with transaction.atomic():
        made = backfill_snapshots()
        _clear(CaseFact)
        _clear(DailyCount)
        totals: Counter = Counter()
        n = 0
        for facts, counts in recompute(step):
            CaseFact.objects.bulk_create(facts, batch_size=5000)
            totals.update(counts)
            n += len(facts)
            if log and facts:
                log(f"  {n:,} case facts")
        rows = [DailyCount(day=d, dim=dim, key=k, counter=cn, value=v) for (d, dim, k, cn), v in totals.items() if v]
        DailyCount.objects.bulk_create(rows, batch_size=5000)
        cohort_rows = cohorts.rebuild()
    return {"snapshots_made": made, "facts": n, "daily_counts": len(rows), "cohort_counts": cohort_rows}


def check(*, step: int = 20000, limit: int = 20) -> list[str]:
    """Differences between the stored facts and counters (daily and cohort) and a recomputation
    from history (empty: they are exactly equal)."""
    problems: list[str] = []
    totals: Counter = Counter()
    seen = 0
    for facts, counts in recompute(step):
        totals.update(counts)
        if not facts:
            continue
        ids = [f.case_id for f in facts]
        stored = {f.case_id: f for f in CaseFact.objects.filter(case_id__in=ids)}
        seen += len(stored)
        for f in facts:
            s = stored.get(f.case_id)
            if s is None:
                problems.append(f"case {f.case_id}: no stored fact")
                continue
            for name in FACT_FIELDS:
                if getattr(s, name) != getattr(f, name):
                    problems.append(
                        f"case {f.case_id}: {name} stored {getattr(s, name)!r}, history {getattr(f, name)!r}"
                    )
        if len(problems) >= limit:
            return problems[:limit]
    extra = CaseFact.objects.count() - seen
    if extra:
        problems.append(f"{extra} stored facts of cases without history")
    stored_counts = {
        (r.day, r.dim, r.key, r.counter): r.value
        for r in DailyCount.objects.exclude(value=0).iterator(chunk_size=20000)
    }
    want = {k: v for k, v in totals.items() if v}
    for k in sorted(set(stored_counts) | set(want), key=lambda k: tuple(map(str, k))):
        if stored_counts.get(k, 0) != want.get(k, 0):
            problems.append(f"daily count {k}: stored {stored_counts.get(k, 0)}, history {want.get(k, 0)}")
            if len(problems) >= limit:
                break
    if len(problems) < limit:  # the cohort counts against the stored facts (their own differences are above)
        problems += cohorts.check(limit - len(problems))
    return problems[:limit]
