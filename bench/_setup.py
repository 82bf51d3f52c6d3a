"""Shared set-up for benchmarks: a database of the chosen kind with the demo base data, and the
synthetic case load (`fill`) the list, page and Open311 benchmarks are timed on.

`fill(n)` inserts `n` cases with their whole history, as the loop would have written it:

* every case follows a path through the real loop definition (report, verification of public
  reports, accept, register, dispatch, task acknowledged, feedback, send for check, check,
  close; some with a rework round, an extension requested and approved, a suspension and
  resumption, or a return to the dispatcher and a second dispatch); closed cases have 8 to 12
  entries, open cases the entries up to their state; a few are rejected, merged or voided;
* each entry has its actor (a real demo user of the right role: the grid's collector, the
  department's handler, …), role, actor's department, payload, stage clock figures (stage,
  limit, time used, overdue, deadline before/after, computed with the working calendar as the
  engine does), `seq` 1..n and `from_state`/`to_state` that chain; the case's `version` is its
  number of entries and its fields (state, department, stage clock, deadline, light, counters,
  milestones, pending request) are those the last entry left;
* the hash chain is filled: `prev_hash` is the previous entry's `hash`, `hash` is
  `History.compute_hash()` of the entry;
* exactly 15 % of the cases are open (`OPEN_PER_10000`; deterministic, not sampled): 60 % of the
  newest fifth, 3.75 % of the older cases;
* citizen and partner reports (published through Open311) get their `ServiceRequest` row.

Rows are generated in Python in batches of `BATCH` cases and written with `executemany`
(SQLite) or `COPY` (PostgreSQL): the ORM's bulk_create costs several times more per row, and
History refuses update/delete anyway, so nothing is written twice.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("URBANGRID_DEMO", "1")  # the public demo SECRET_KEY is fine for benchmarks

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://urbangrid:urbangrid@127.0.0.1:5432/urbangrid_bench")
#: the database the list, page and Open311 benchmarks share (built once, reused with --reuse)
CASES_DB = "urbangrid_bench_cases"
SEED = 20261128
BATCH = 20_000
SECONDS_APART = 63  # 1,000,000 reports over two years


def setup(db: str, *, fresh: bool = True, name: str | None = None) -> str:
    """Point Django at a benchmark database ("sqlite" or "postgres"), migrate it; return its URL.

    `name` chooses another database than the default (PostgreSQL: that database on BENCH_PG_URL's
    server; SQLite: <tmp>/<name>.sqlite3)."""
    if db == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{name or 'urbangrid_bench'}.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = PG_URL if name is None else PG_URL.rsplit("/", 1)[0] + "/" + name
        if fresh:
            _recreate_pg(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    os.environ.setdefault("URBANGRID_DATA_DIR", tempfile.gettempdir())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return url


def _recreate_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def cases_database(db: str, count: int, *, reuse: bool, name: str = CASES_DB, follow: bool = False) -> str:
    """The shared benchmark database with the demo base data and `count` synthetic cases:
    reused when `reuse` and it already holds cases, otherwise built afresh."""
    url = setup(db, fresh=not reuse, name=name)
    from urbangrid.cases.models import Case

    if reuse and Case.objects.exists():
        print(f"database {_where(url)}: reusing {Case.objects.count():,} cases")
        return url
    from urbangrid.demo.builder import build_demo

    t0 = time.perf_counter()
    build_demo(components=0, cases=0)
    print(f"database {_where(url)}: demo base data in {time.perf_counter() - t0:.1f} s")
    fill(count, follow=follow)
    return url


def _where(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


# --- the synthetic case load ---------------------------------------------------------------

#: open cases per 10,000 (the newest fifth, the rest): 0.2 * 60 % + 0.8 * 3.75 % = 15 %
OPEN_PER_10000 = (6000, 375)
#: weights of the open states (a pending extension or suspension request is `handling+request`)
OPEN_STATES = [
    ("reported", 7),
    ("verifying", 3),
    ("accepted", 3),
    ("registered", 6),
    ("handling", 42),
    ("handling+request", 8),
    ("return_requested", 2),
    ("suspended", 5),
    ("feedback", 7),
    ("checking", 7),
    ("pending_close", 6),
    ("rechecking", 4),
]
FINAL_STATES = [("closed", 945), ("not_accepted", 20), ("rejected", 10), ("voided", 10), ("merged", 15)]
SOURCES = [("collector", 70), ("hotline", 13), ("citizen", 8), ("partner", 7), ("leader", 1), ("video", 1)]
#: per closed path: chance of each optional part
P_ACK, P_EXTENSION, P_SUSPENSION, P_RETURN, P_REWORK = 0.9, 0.12, 0.04, 0.05, 0.12
MAX_ENTRIES_CLOSED = 12

#: gaps before each operation, in minutes (min, max)
GAPS = {
    "send_verify": (3, 20),
    "verify": (20, 120),
    "accept": (5, 40),
    "reject": (5, 40),
    "merge": (5, 40),
    "register": (5, 30),
    "dispatch": (5, 40),
    "accept_task": (10, 120),
    "request_return": (30, 600),
    "approve_return": (10, 120),
    "request_extension": (60, 1440),
    "approve_extension": (10, 120),
    "request_suspension": (60, 1440),
    "approve_suspension": (10, 120),
    "resume": (1440, 14400),
    "feedback": (60, 4320),
    "send_check": (5, 60),
    "check_pass": (30, 240),
    "check_fail": (30, 240),
    "close": (10, 60),
    "request_void": (60, 1440),
    "approve_void": (10, 120),
    "dispute": (1440, 28800),
}
# the stage-clock operation of each step (workflow.definition: timer → start, explicit clock,
# same state → keep, other state → clear) and the timer it starts
CLOCK = {
    "report": ("start", "accept"),
    "send_verify": ("start", "verify"),
    "verify": ("start", "accept"),
    "accept": ("start", "register"),
    "reject": ("clear", None),
    "merge": ("clear", None),
    "register": ("keep", None),  # the registration + dispatch limit runs on from acceptance
    "dispatch": ("start", "handle"),
    "accept_task": ("keep", None),
    "request_return": ("pause", None),
    "approve_return": ("start", "register"),
    "request_extension": ("keep", None),
    "approve_extension": ("extend", None),
    "request_suspension": ("keep", None),
    "approve_suspension": ("pause", None),
    "resume": ("resume", None),
    "feedback": ("start", "send_check"),
    "send_check": ("start", "check"),
    "check_pass": ("start", "close"),
    "check_fail": ("start", "rework"),
    "close": ("clear", None),
    "request_void": ("keep", None),
    "approve_void": ("clear", None),
    "dispute": ("start", "check"),
}
FINAL = {"closed", "not_accepted", "rejected", "voided", "merged"}


def _pick(rng: random.Random, table: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in table)
    x = rng.randrange(total)
    for value, w in table:
        if x < w:
            return value
        x -= w
    raise AssertionError


def _clock_functions():
    """add_time and minutes_between as `workflow.clock` defines them, on the calendar object
    itself (built once, before the worker processes fork: they never ask the database)."""
    from urbangrid.core.calendar import get_calendar

    cal = get_calendar()
    add, between = cal.add, cal.working_minutes_between

    def add_time(start: datetime, amount, unit: str) -> tuple[datetime, bool]:
        d = add(start, amount, unit)
        return d.at, d.provisional

    def minutes_between(start: datetime, end: datetime, unit: str) -> int:
        if unit in ("hours", "days"):
            return int((end - start).total_seconds() // 60)
        return between(start, end)

    return add_time, minutes_between


@dataclass
class _People:
    ids: dict[str, int]  # username → id
    dept: dict[int, int | None]  # user id → department id
    handler_of: dict[int, int]  # department id → a handler's user id
    collector_of: dict[int, int]  # work grid id → its collector's user id


class _Entry:
    """What History.compute_hash() reads, without a model instance per entry (10M of them)."""

    __slots__ = (
        "action",
        "actor_id",
        "attachments",
        "content_type_id",
        "created_at",
        "deadline_after",
        "deadline_before",
        "department_id",
        "from_state",
        "hash",
        "object_id",
        "overdue",
        "payload",
        "prev_hash",
        "reason",
        "role",
        "seq",
        "stage",
        "stage_limit",
        "time_used_minutes",
        "to_state",
    )


class _Generator:
    def __init__(self, total: int, seed: int, now: datetime) -> None:
        from django.contrib.contenttypes.models import ContentType

        from urbangrid.cases.models import Case, StageLimit
        from urbangrid.catalog.models import Category
        from urbangrid.core.models import Department, User
        from urbangrid.geo.models import UnitGrid, WorkGrid
        from urbangrid.workflow.models import History

        self.total, self.now, self.rng = total, now, random.Random(seed)
        self.first = now - timedelta(seconds=SECONDS_APART * total)
        self.ct = ContentType.objects.get_for_model(Case).pk
        self.add_time, self.minutes_between = _clock_functions()
        self.compute_hash = getattr(History, "compute_hash", None)
        self.hashed = self.compute_hash is not None and any(f.name == "hash" for f in History._meta.fields)
        # (not the Open311 applications' service users: their names are random)
        users = list(
            User.objects.exclude(username__startswith="open311-").values_list("pk", "username", "department_id")
        )
        handlers = User.objects.filter(roles__code="handler").order_by("pk").values_list("pk", "department_id")
        collectors = WorkGrid.collectors.through.objects.values_list("workgrid_id", "user_id").order_by("user_id")
        self.people = _People(
            ids={u: pk for pk, u, _d in users},
            dept={pk: d for pk, _u, d in users},
            handler_of={d: pk for pk, d in handlers if d},
            collector_of={},
        )
        for wg, user in collectors:
            self.people.collector_of.setdefault(wg, user)
        self.dept_names = dict(Department.objects.values_list("pk", "name"))
        self.handler_depts = sorted(self.people.handler_of)
        self.grids = [
            (pk, wg, comm, street, (x0 + x1) / 2, (y0 + y1) / 2, resp, code)
            for pk, wg, comm, street, x0, y0, x1, y1, resp, code in UnitGrid.objects.filter(work_grid__isnull=False)
            .order_by("pk")
            .values_list(
                "pk",
                "work_grid_id",
                "community_id",
                "community__parent_id",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
                "responsible_department_id",
                "code",
            )
            if wg in self.people.collector_of
        ]
        self.cats = list(
            Category.objects.filter(parent__isnull=False, active=True, kind="event")
            .order_by("pk")
            .values_list(
                "pk",
                "name",
                "urgency",
                "default_department_id",
                "dispatch_limit_hours",
                "handle_limit",
                "handle_unit",
                "urgent_handle_limit",
                "urgent_handle_unit",
            )
        )
        self.limits = {
            (stage, urgency): (amount, unit)
            for stage, urgency, amount, unit in StageLimit.objects.filter(area__in=("", "urban"))
            .order_by("area")  # an urban row wins over an any-area row, as for a case in town
            .values_list("stage", "urgency", "amount", "unit")
        }

    def fingerprint(self) -> str:
        """Everything from the database the generated rows depend on."""
        return repr(
            (
                self.ct,
                sorted(self.people.ids.items()),
                sorted(self.people.dept.items()),
                self.people.handler_of,
                self.people.collector_of,
                sorted(self.dept_names.items()),
                self.grids,
                self.cats,
                sorted(self.limits.items()),
                self.hashed,
            )
        )

    # --- timers, as cases.loop defines them ----------------------------------------------

    def _configured(self, stage: str, urgency: str):
        return self.limits.get((stage, urgency)) or self.limits.get((stage, ""))

    def timer(self, name: str, c: dict[str, Any], cat) -> tuple[Decimal, str]:
        defaults = {
            "accept": ("0.5", "working_hours"),
            "verify": ("1", "working_hours"),
            "register": ("0.5", "working_hours"),
            "send_check": ("0.5", "working_hours"),
            "check": ("1", "working_hours"),
            "close": ("1", "working_hours"),
            "approve": ("1", "working_hours"),
        }
        if name in defaults:
            amount, unit = self._configured(name, c["urgency"]) or defaults[name]
            return Decimal(str(amount)), unit
        if name == "register":  # the combined registration + dispatch limit (立案派遣时限)
            got = self._configured("dispatch", c["urgency"])
            return got if got else (Decimal(str(cat[4] or 1)), "working_hours")
        # handle / rework: the category's handling limit (urgent variant for urgent cases)
        if c["urgency"] == "urgent" and cat[7] and cat[8]:
            return Decimal(str(cat[7])), cat[8]
        if cat[5] and cat[6]:
            return Decimal(str(cat[5])), cat[6]
        return Decimal(1), "working_days"

    # --- one case -------------------------------------------------------------------------

    def plan(self, state: str, source: str) -> list[str]:
        """The operations that bring a new case of `source` to `state`."""
        rng = self.rng
        head = ["report"] + (["send_verify", "verify"] if source != "collector" else [])
        if state == "reported":
            return head if source == "collector" or rng.random() < 0.7 else ["report"]
        if state == "verifying":
            return ["report", "send_verify"] if source != "collector" else ["report"]
        if state == "merged":
            return ["report", "merge"]
        if state == "not_accepted":
            return [*head, "reject"]
        if state == "rejected":
            return [*head, "accept", "not_register"]
        if state == "accepted":
            return [*head, "accept"]
        if state == "registered":
            return [*head, "accept", "register"]
        want_return = state == "return_requested" or rng.random() < P_RETURN
        want_suspension = state == "suspended" or rng.random() < P_SUSPENSION
        want_extension = rng.random() < P_EXTENSION
        want_rework = rng.random() < P_REWORK
        if state == "handling+request":
            want_extension, want_suspension = (True, False) if rng.random() < 0.7 else (False, True)
        ack = rng.random() < P_ACK
        if state in ("closed", "rechecking"):  # closed paths have at most MAX_ENTRIES_CLOSED entries
            base = len(head) + 7 + ack
            extra = [
                ("return", 3 + ack, want_return),
                ("suspension", 3, want_suspension),
                ("rework", 3, want_rework),
                ("extension", 2, want_extension),
            ]
            size = base + sum(n for _k, n, on in extra if on)
            for kind, n, on in extra:
                if on and size > MAX_ENTRIES_CLOSED:
                    size -= n
                    want_return = want_return and kind != "return"
                    want_suspension = want_suspension and kind != "suspension"
                    want_rework = want_rework and kind != "rework"
                    want_extension = want_extension and kind != "extension"
        ops = head + ["accept", "register", "dispatch"] + (["accept_task"] if ack else [])
        cut: dict[str, int] = {}  # open state → index after which the path may stop
        if want_return:
            ops += ["request_return"]
            cut["return_requested"] = len(ops)
            ops += ["approve_return", "dispatch"] + (["accept_task"] if ack else [])
        cut["handling"] = len(ops)
        if state == "voided":
            return [*ops, "request_void", "approve_void"]
        if want_extension:
            ops += ["request_extension"]
            cut["handling+request"] = len(ops)
            ops += ["approve_extension"]
            cut["handling"] = len(ops) if rng.random() < 0.5 else cut["handling"]
        if want_suspension:
            ops += ["request_suspension"]
            if state == "handling+request" and "handling+request" not in cut:
                cut["handling+request"] = len(ops)
            ops += ["approve_suspension"]
            cut["suspended"] = len(ops)
            ops += ["resume"]
        ops += ["feedback"]
        cut["feedback"] = len(ops)
        ops += ["send_check"]
        cut["checking"] = len(ops)
        if want_rework:
            ops += ["check_fail"]
            cut["handling"] = len(ops) if rng.random() < 0.5 else cut["handling"]
            ops += ["feedback", "send_check"]
            cut["feedback"], cut["checking"] = len(ops) - 1, len(ops)
        ops += ["check_pass"]
        cut["pending_close"] = len(ops)
        ops += ["close"]
        if state == "rechecking":
            return [*ops, "dispute"]
        if state == "closed":
            return ops
        return ops[: cut[state]]

    def case(self, k: int, case_id: int, open_: bool) -> tuple[dict[str, Any], list[_Entry]]:
        rng, people = self.rng, self.people
        state = _pick(rng, OPEN_STATES if open_ else FINAL_STATES)
        source = _pick(rng, SOURCES)
        if state == "merged" and k < 5:
            state = "not_accepted"
        if state == "verifying" and source == "collector":  # only public reports are verified
            source = "hotline"
        grid = self.grids[(k * 2654435761) % len(self.grids)]
        cat = self.cats[(k * 40503 + k // 7) % len(self.cats)]
        created = self.first + timedelta(seconds=SECONDS_APART * k + rng.randrange(SECONDS_APART))
        collector = people.collector_of[grid[1]]
        suggested = cat[3] or grid[6]
        c: dict[str, Any] = {
            "id": case_id,
            "_k": k,
            "workflow": "urban_case",
            "number": f"B{k:012d}",
            "source": source,
            "category_id": cat[0],
            "description": f"{cat[1]}（合成案件 {k}）",
            "address": grid[7],
            "lon": grid[4],
            "lat": grid[5],
            "unit_grid_id": grid[0],
            "work_grid_id": grid[1],
            "community_id": grid[2],
            "street_id": grid[3],
            "urgency": cat[2] or "normal",
            "suggested_department_id": suggested,
            "created_at": created,
            "verified": True if source == "collector" else None,
            "version": 0,
            "state": "",
            "department_id": None,
            "stage": "",
            "stage_started_at": None,
            "stage_limit_amount": None,
            "stage_limit_unit": "",
            "deadline": None,
            "deadline_provisional": False,
            "warn_at": None,
            "paused_remaining_minutes": None,
            "pending_request": "",
            "pending_data": {},
            "pending_approver": "",
            "rework_count": 0,
            "return_count": 0,
            "extension_count": 0,
        }
        reporter = {
            "collector": collector,
            "hotline": people.ids["operator"],
            "citizen": people.ids.get("citizen"),
            "partner": None,
            "leader": people.ids["leader"],
            "video": people.ids["operator"],
        }[source]
        c["reported_by_id"] = reporter
        if source in ("hotline", "citizen"):
            c["reporter_name"], c["reporter_phone"] = "市民", f"138{k % 100_000_000:08d}"
        ops = self.plan(state, source)
        gaps = [0] + [rng.randint(*GAPS.get(op, (5, 60))) * 60 + rng.randrange(60) for op in ops[1:]]
        room = (self.now - created).total_seconds() - 60
        if sum(gaps) > room:  # the newest cases: squeeze the path into the time since the report
            f = max(room, 0) / sum(gaps)
            gaps = [int(g * f) for g in gaps]
        c["_wrong_first"] = "request_return" in ops
        entries: list[_Entry] = []
        t = created
        for op, gap in zip(ops, gaps, strict=True):
            t = t + timedelta(seconds=gap)
            entries.append(self.step(c, cat, op, t, reporter, collector, source))
        c["light"] = self.light(c)
        return c, entries

    def step(self, c, cat, op, t, reporter, collector, source) -> _Entry:
        p = self.people
        dispatcher, operator, shift = p.ids["dispatcher"], p.ids["operator"], p.ids["shiftleader"]
        handler = p.handler_of.get(c["department_id"] or 0)
        payload: dict[str, Any] = {}
        reason = ""
        actor, role, to = operator, "operator", c["state"]
        if op == "report":
            actor, to = reporter, "reported"
            role = {"collector": "collector", "citizen": "citizen", "partner": "", "leader": "leader"}.get(
                source, "operator"
            )
        elif op == "send_verify":
            to = "verifying"
        elif op == "verify":
            actor, role, to = collector, "collector", "reported"
            c["verified"] = True
            payload["exists"] = True
        elif op == "accept":
            to = "accepted"
        elif op == "reject":
            to, reason = "not_accepted", "不属于城市管理问题"
        elif op == "merge":
            to = "merged"
            c["merged_into_id"] = c["id"] - 5
            payload["merged_into"] = f"B{c['_k'] - 5:012d}"
        elif op == "not_register":
            actor, role, to, reason = shift, "shift_leader", "rejected", "不符合立案条件"
        elif op == "register":
            actor, role, to = shift, "shift_leader", "registered"
            c["registered_at"] = t
            payload["urgency"] = c["urgency"]
        elif op == "dispatch":
            actor, role, to = dispatcher, "dispatcher", "handling"
            dept = c["suggested_department_id"]
            if dept not in p.handler_of:
                dept = self.handler_depts[c["id"] % len(self.handler_depts)]
            if c.pop("_wrong_first", False):  # dispatched to the wrong department, then returned
                others = [d for d in self.handler_depts if d != dept]
                dept = others[c["id"] % len(others)]
            c["department_id"], c["signed_at"] = dept, None
            c.setdefault("dispatched_at", t)
            payload.update(
                department=c["department_id"],
                department_name=self.dept_names[c["department_id"]],
                suggested=c["department_id"] == c["suggested_department_id"],
            )
        elif op == "accept_task":
            actor, role = handler, "handler"
            c["signed_at"] = t
        elif op == "request_return":
            actor, role, to, reason = handler, "handler", "return_requested", "不属于本部门职责"
        elif op == "approve_return":
            actor, role, to = dispatcher, "dispatcher", "registered"
            c["return_count"] += 1
            payload["returned_department"] = c["department_id"]
            c["department_id"], c["signed_at"] = None, None
        elif op in ("request_extension", "request_suspension", "request_void"):
            kind = op.split("_", 1)[1]
            if op == "request_void":
                actor, role, approver, reason = dispatcher, "dispatcher", "shift_leader", "重复派遣，申请作废"
            else:
                actor, role, approver = handler, "handler", "dispatcher"
                reason = "需协调多部门，申请延期" if kind == "extension" else "需等待施工条件，申请挂账"
            data = {"reason": reason}
            if kind == "extension":
                data = {"amount": "2", "unit": "working_days", "reason": reason}
            c["pending_request"], c["pending_data"], c["pending_approver"] = kind, data, approver
            payload.update(data, approver=approver)
        elif op in ("approve_extension", "approve_suspension", "approve_void"):
            actor, role = (shift, "shift_leader") if op == "approve_void" else (dispatcher, "dispatcher")
            to = {"approve_suspension": "suspended", "approve_void": "voided"}.get(op, to)
            payload["request"] = c["pending_request"]
            c["pending_request"], c["pending_data"], c["pending_approver"] = "", {}, ""
        elif op == "resume":
            actor, role, to = dispatcher, "dispatcher", "handling"
        elif op == "feedback":
            actor, role, to = handler, "handler", "feedback"
            c["handled_at"] = t
            payload["result"] = "已按要求处置完毕"
        elif op == "send_check":
            to = "checking"
        elif op == "check_pass":
            actor, role, to = collector, "collector", "pending_close"
        elif op == "check_fail":
            actor, role, to, reason = collector, "collector", "handling", "现场核查未处置到位"
            c["rework_count"] += 1
            c["handled_at"] = None
            payload["rework_count"] = c["rework_count"]
        elif op == "close":
            actor, role, to = shift, "shift_leader", "closed"
            c["closed_at"] = t
        elif op == "dispute":
            actor, role, to, reason = p.ids.get("citizen"), "citizen", "rechecking", "问题仍未解决"
            c["closed_at"] = None
            payload.update(channel="portal", department=c["department_id"])
        else:
            raise ValueError(op)
        # the stage clock, as workflow.clock applies it
        deadline_before = c["deadline"]
        info: dict[str, Any] = {}
        clock_op, timer = CLOCK.get(op, ("keep", None) if to == c["state"] else ("clear", None))
        if clock_op in ("start", "clear", "pause"):
            info = self.end_stage(c, t)
        if clock_op == "start":
            amount, unit = self.timer(timer, c, cat)
            c["stage"], c["stage_started_at"], c["paused_remaining_minutes"] = timer, t, None
            c["stage_limit_amount"], c["stage_limit_unit"] = amount, unit
            self.set_deadline(c, t, *self.add_time(t, amount, unit))
        elif clock_op == "clear":
            c["stage"], c["stage_started_at"], c["stage_limit_amount"], c["stage_limit_unit"] = "", None, None, ""
            self.set_deadline(c, t, None, False)
            c["paused_remaining_minutes"] = None
        elif clock_op == "pause":
            unit = c["stage_limit_unit"] or "working_hours"
            if c["deadline"] is not None:
                c["paused_remaining_minutes"] = self.remaining(c["deadline"], t, unit)
            self.set_deadline(c, t, None, False)
            c["stage_started_at"] = None
        elif clock_op == "resume":
            c["stage_started_at"] = t
            left = c["paused_remaining_minutes"]
            if left is not None:
                unit = "hours" if c["stage_limit_unit"] in ("hours", "days") else "working_hours"
                rest = Decimal(max(left, 0)) / 60
                c["stage_limit_amount"], c["stage_limit_unit"] = rest.quantize(Decimal("0.01")), unit
                self.set_deadline(c, t, *self.add_time(t, rest, unit))
                if left < 0:
                    self.set_deadline(c, t, t, False)
            c["paused_remaining_minutes"] = None
        elif clock_op == "extend":
            at, provisional = self.add_time(c["deadline"] or t, Decimal(2), "working_days")
            self.set_deadline(c, t, at, provisional)
            c["extension_count"] += 1
            payload.update(amount="2", unit="working_days", new_deadline=at.isoformat())
        c["version"] += 1
        e = _Entry()
        e.content_type_id, e.object_id, e.seq, e.action = self.ct, c["id"], c["version"], op
        e.from_state, e.to_state, e.actor_id, e.role = c["state"], to, actor, role
        e.department_id = p.dept.get(actor) if actor else None
        e.reason, e.payload, e.attachments = reason, payload, []
        e.stage, e.stage_limit = info.get("stage", ""), info.get("stage_limit", "")
        e.time_used_minutes, e.overdue = info.get("time_used_minutes"), info.get("overdue", False)
        e.deadline_before, e.deadline_after, e.created_at = deadline_before, c["deadline"], t
        e.prev_hash = e.hash = ""
        c["state"] = to
        return e

    def end_stage(self, c, t) -> dict[str, Any]:
        if not c["stage"] or c["stage_started_at"] is None:
            return {}
        unit = c["stage_limit_unit"] or "working_hours"
        info: dict[str, Any] = {
            "stage": c["stage"],
            "time_used_minutes": self.minutes_between(c["stage_started_at"], t, unit),
            "overdue": bool(c["deadline"] and t > c["deadline"]),
        }
        if c["stage_limit_amount"] is not None:
            info["stage_limit"] = f"{c['stage_limit_amount'].normalize():f} {unit}"
        return info

    def remaining(self, deadline, t, unit) -> int:
        if deadline >= t:
            return self.minutes_between(t, deadline, unit)
        return -self.minutes_between(deadline, t, unit)

    @staticmethod
    def set_deadline(c, start, at, provisional) -> None:
        c["deadline"] = at
        c["deadline_provisional"] = provisional if at else False
        c["warn_at"] = start + (at - start) * 0.75 if at and at > start else at

    def light(self, c) -> str:
        if c["state"] in FINAL or c["deadline"] is None:
            return "green"
        if self.now > c["deadline"]:
            return "red"
        if c["warn_at"] is not None and self.now >= c["warn_at"]:
            return "yellow"
        return "green"

    def chain(self, entries: list[_Entry]) -> None:
        if not self.hashed:
            return
        prev = ""
        for e in entries:
            e.prev_hash = prev
            e.hash = prev = self.compute_hash(e)


def _is_open(k: int, total: int) -> bool:
    recent, older = OPEN_PER_10000
    return (k * 7919) % 10000 < (recent if k >= total - total // 5 else older)


def _columns(model, values: dict[str, Any]) -> tuple[list[str], list[str], dict[str, Any]]:
    """Column names, attnames and the default values of `model` for a bulk insert."""
    cols, names, defaults = [], [], {}
    for f in model._meta.concrete_fields:
        if f.primary_key and f.attname not in values:
            continue
        cols.append(f.column)
        names.append(f.attname)
        if f.has_default():
            defaults[f.attname] = f.default() if callable(f.default) else f.default
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    return cols, names, defaults


def _db_value(v: Any) -> Any:
    """A value as both databases take it from executemany and COPY: JSON as text, Decimal as
    text, datetimes as naive UTC text (Django's SQLite format; PostgreSQL reads it in the
    connection's UTC time zone)."""
    if isinstance(v, datetime):
        return str(v.astimezone(UTC).replace(tzinfo=None))
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Decimal):
        return str(v)
    return v


@dataclass
class _Layout:
    """The columns written per table and how a row is made from the generator's values."""

    case_cols: list[str]
    case_names: list[str]
    case_defaults: dict[str, Any]
    hist_cols: list[str]
    hist_names: list[str]
    req_table: str
    req_cols: list[str]
    req_names: list[str]
    req_defaults: dict[str, Any]
    app_id: int | None


def _layout(sample: dict[str, Any]) -> _Layout:
    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    case_cols, case_names, case_defaults = _columns(Case, sample)
    hist_cols, hist_names = [], []
    for f in History._meta.concrete_fields:
        if f.attname in _Entry.__slots__:
            hist_cols.append(f.column)
            hist_names.append(f.attname)
    req = ("", [], [], {}, None)
    try:
        from urbangrid.open311.models import Application, ServiceRequest

        app = Application.objects.order_by("pk").values_list("pk", flat=True).first()
        req = (ServiceRequest._meta.db_table, *_columns(ServiceRequest, {}), app)
    except ImportError:
        pass
    return _Layout(case_cols, case_names, case_defaults, hist_cols, hist_names, *req)


_WORK: dict[str, Any] = {}  # the generator and layout, set before the worker processes fork


def _converter(names: list[str], model) -> Any:
    """A function turning the values of `names` (a tuple) into database values: only the
    datetime, JSON and decimal columns are converted (by position; the rest pass as they are)."""
    from django.db import models

    kinds = {f.attname: f for f in model._meta.concrete_fields}
    dts = [i for i, n in enumerate(names) if isinstance(kinds[n], models.DateTimeField)]
    other = [i for i, n in enumerate(names) if isinstance(kinds[n], (models.JSONField, models.DecimalField))]
    utc = UTC

    def convert(values: tuple, memo: dict) -> tuple:
        row = list(values)
        for i in dts:
            v = row[i]
            if v is not None:
                text = memo.get(v)
                if text is None:
                    text = memo[v] = str(v.astimezone(utc).replace(tzinfo=None))
                row[i] = text
        for i in other:
            row[i] = _db_value(row[i])
        return tuple(row)

    return convert


def _make_batch(args: tuple[int, int]) -> tuple[int, list[tuple], list[tuple], list[tuple]]:
    """Cases `start` … `start + n - 1` and their history and Open311 rows, ready to insert.
    Each batch draws from its own random stream, so any process may make any batch."""
    from operator import attrgetter

    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    start, n = args
    gen: _Generator = _WORK["gen"]
    lay: _Layout = _WORK["layout"]
    base, total, seed = _WORK["base"], gen.total, _WORK["seed"]
    gen.rng = random.Random(seed * 1_000_003 + start)
    case_row = _converter(lay.case_names, Case)
    hist_row = _converter(lay.hist_names, History)
    hist_values = attrgetter(*lay.hist_names)
    defaults = [(name, lay.case_defaults[name]) for name in lay.case_names]
    cases, hist, reqs = [], [], []
    for k in range(start, start + n):
        c, entries = gen.case(k, base + k, _is_open(k, total))
        gen.chain(entries)
        memo: dict = {}
        cases.append(case_row(tuple(c.get(name, d) for name, d in defaults), memo))
        hist.extend(hist_row(hist_values(e), memo) for e in entries)
        if lay.req_table and c["source"] in ("citizen", "partner"):
            r = dict(lay.req_defaults)
            r.update(case_id=c["id"], created_at=c["created_at"], status="created", token=None)
            r["application_id"] = lay.app_id if c["source"] == "partner" else None
            reqs.append(tuple(_db_value(r[name]) for name in lay.req_names))
    return start, cases, hist, reqs


def _write(connection, table: str, cols: list[str], rows: list[tuple]) -> None:
    """executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(cols))
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


def _cache_dir(fingerprint: str) -> Path:
    return Path(tempfile.gettempdir()) / f"urbangrid_bench_rows_{fingerprint[:16]}"


def fill(
    total: int, *, seed: int = SEED, batch: int = BATCH, procs: int = 2, cache: bool = True, follow: bool = False
) -> dict[str, Any]:
    """Insert `total` synthetic cases with their histories (see the module docstring).

    Batches are made by `procs` worker processes while this one writes. With `cache`, the rows
    are also kept in a directory under <tmp> named after a fingerprint of everything they
    depend on (the ids of users, grids, categories, departments, the content type, the stage
    limits, `total` and `seed`): building the other database kind from the same demo base data
    then loads them instead of generating them again. With `follow`, it loads them while another
    process is still making them (each batch once the next one is on disk)."""
    import hashlib
    import multiprocessing as mp
    import pickle

    from django.db import connection, connections, transaction
    from django.utils import timezone

    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    now = timezone.now().replace(microsecond=0)
    gen = _Generator(total, seed, now)
    base = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    sample, _entries = gen.case(0, base, False)
    layout = _layout(sample)
    key = repr((total, seed, batch, base, gen.fingerprint(), layout.case_cols, layout.hist_cols, layout.req_cols))
    folder = _cache_dir(hashlib.sha256(key.encode()).hexdigest())
    cached = cache and ((folder / "done").exists() or (follow and folder.exists()))
    if follow and not cached:
        raise SystemExit(f"--follow: no rows being made for this base data ({folder} does not exist)")
    _WORK.update(gen=gen, layout=layout, base=base, seed=seed)
    jobs = [(start, min(batch, total - start)) for start in range(0, total, batch)]
    if cached:
        print(f"loading the rows made earlier for this base data from {folder}")

        def batches():
            for i, (start, _n) in enumerate(jobs):
                after = folder / (f"{jobs[i + 1][0]:09d}.pickle" if i + 1 < len(jobs) else "done")
                while not (after.exists() or (folder / "done").exists()):
                    time.sleep(1)
                with open(folder / f"{start:09d}.pickle", "rb") as fh:
                    yield pickle.load(fh)

        source = batches()
        pool = None
    else:
        if cache:
            folder.mkdir(exist_ok=True)
        connections.close_all()  # the workers fork: they must not share this connection
        pool = mp.get_context("fork").Pool(procs)
        source = pool.imap(_make_batch, jobs)
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA synchronous = OFF")
        else:
            cur.execute("SET synchronous_commit TO OFF")
    started = time.perf_counter()
    write_s = 0.0
    n_entries = 0
    try:
        for start, cases, hist, reqs in source:
            if cache and not cached:
                with open(folder / f"{start:09d}.pickle", "wb") as fh:
                    pickle.dump((start, cases, hist, reqs), fh, protocol=pickle.HIGHEST_PROTOCOL)
            t0 = time.perf_counter()
            with transaction.atomic():
                _write(connection, Case._meta.db_table, layout.case_cols, cases)
                _write(connection, History._meta.db_table, layout.hist_cols, hist)
                _write(connection, layout.req_table, layout.req_cols, reqs)
            write_s += time.perf_counter() - t0
            n_entries += len(hist)
            done = start + len(cases)
            if done % 100_000 == 0 or done == total:
                print(
                    f"  {done:>9,} cases, {n_entries:>10,} history entries, {time.perf_counter() - started:6.1f} s",
                    flush=True,
                )
    finally:
        if pool is not None:
            pool.terminate()
    if cache and not cached:
        (folder / "done").write_text(key)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            table = Case._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        t0 = time.perf_counter()
        cur.execute("ANALYZE")
        analyze_s = time.perf_counter() - t0
    elapsed = time.perf_counter() - started
    how = "loaded from the row cache" if cached else f"made by {procs} processes"
    print(
        f"filled {total:,} cases and {n_entries:,} history entries in {elapsed:.1f} s ({how}; "
        f"waiting for rows {elapsed - write_s - analyze_s:.1f} s, writing {write_s:.1f} s, ANALYZE {analyze_s:.1f} s)"
        + ("" if gen.hashed else "; NO hash chain (this History has no hash fields)")
    )
    shape = data_shape()
    return {"seconds": elapsed, "entries": n_entries, **shape}


def data_shape() -> dict[str, Any]:
    """The shape of the stored load, measured from the database (printed and returned)."""
    from django.db import connection

    from urbangrid.cases.models import OPEN_STATES as OPEN
    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    ct = Case._meta.db_table
    ht = History._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT state, count(*) FROM {ct} GROUP BY state ORDER BY 2 DESC")
        states = dict(cur.fetchall())
        cur.execute(f"SELECT count(*), min(version), max(version), avg(version) FROM {ct} WHERE state = 'closed'")
        n_closed, vmin, vmax, vavg = cur.fetchone()
        cur.execute(f"SELECT count(*) FROM {ht}")
        (entries,) = cur.fetchone()
        cur.execute(
            f"SELECT light, count(*) FROM {ct} WHERE state IN ({', '.join(['%s'] * len(OPEN))}) GROUP BY light", OPEN
        )
        lights = dict(cur.fetchall())
    total = sum(states.values())
    n_open = sum(n for s, n in states.items() if s in OPEN)
    shape = {
        "cases": total,
        "open": n_open,
        "open_share": n_open / total if total else 0.0,
        "states": states,
        "history_entries": entries,
        "closed_versions": (vmin, vmax, float(vavg or 0)),
        "open_lights": lights,
    }
    print(
        f"data: {total:,} cases, {n_open:,} open ({shape['open_share']:.2%}), {entries:,} history entries "
        f"({entries / max(total, 1):.2f} per case); closed cases: {n_closed:,} with {vmin}–{vmax} entries "
        f"(mean {float(vavg or 0):.2f}); open cases by light: {lights}"
    )
    print("states: " + ", ".join(f"{s} {n:,}" for s, n in states.items()))
    return shape


def verify_chains(sample: int = 200, seed: int = 1) -> int:
    """Recompute the hash chain of `sample` random cases from the stored rows; returns the
    number of broken links (0 expected)."""
    from django.contrib.contenttypes.models import ContentType

    from urbangrid.cases.models import Case
    from urbangrid.workflow.models import History

    if not any(f.name == "hash" for f in History._meta.fields):
        print("history has no hash chain in this version of the code")
        return 0
    ct = ContentType.objects.get_for_model(Case)
    top = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(seed)
    broken = 0
    checked = 0
    for pk in {rng.randint(1, top) for _ in range(sample)}:
        prev = ""
        for h in History.objects.filter(content_type=ct, object_id=pk).order_by("seq"):
            checked += 1
            if h.prev_hash != prev or h.compute_hash() != h.hash:
                broken += 1
            prev = h.hash
    print(f"hash chains: {checked:,} entries of {sample} random cases recomputed, {broken} broken links")
    return broken


def main() -> None:
    """Build (or, with --reuse, inspect) the shared benchmark database of cases."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already holds cases")
    parser.add_argument("--name", default=CASES_DB, help="database name (SQLite: <tmp>/<name>.sqlite3)")
    parser.add_argument("--follow", action="store_true", help="load the rows another build is making now")
    args = parser.parse_args()
    t0 = time.perf_counter()
    cases_database(args.db, args.cases, reuse=args.reuse, name=args.name, follow=args.follow)
    print(f"ready in {time.perf_counter() - t0:.1f} s")
    data_shape()
    verify_chains()


if __name__ == "__main__":
    main()
