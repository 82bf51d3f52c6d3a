"""A year of the demo city (演示年度), lived through the workflow engine.

Reports arrive over the past 12 months (more on working days and in summer, collectors in
working hours, the hotline from morning to late evening) and every case is driven by the
simulated people of `people.py` through `cases.actions.create_case` / `perform`, each step
with an explicit `now=`: deadlines, lights, overdue flags and time used in the history are
the engine's own. One event queue orders the steps of all cases by time, so a case is merged
only into a case that is open at that moment. Steps that would fall after `now` do not
happen: the cases of the last days stay open in whatever state they have reached, mostly
within their limits.

Each day's reports come from a generator seeded by (seed, day), so the year is the same
whether it is built in one go or day by day (the recent weeks first, the older months in the
background: `build_older_days`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from urbangrid.cases.models import OPEN_STATES, Case, Source
from urbangrid.workflow.clock import add_time, minutes_between, rest_unit
from urbangrid.workflow.errors import WorkflowError

from . import people
from .people import Cast, Plan, Step

YEAR_CASES = 25_000
#: collectors' reports carry a photo of the problem when made in the last this many days (older
#: ones only have the photos their steps require: fewer files in the media directory)
BEFORE_PHOTO_DAYS = 30
YEAR_DAYS = 365
#: chance that a collector fixes a problem of a self-fixable category on the spot
SELF_FIX_RATE = 0.85
#: share of collector reports in self-fixable categories (so that about 22 % of all reports are
#: self-fixes: 0.80 collector share × 0.32 × 0.85 ≈ 0.22)
SELF_FIXABLE_SHARE = 0.32
#: operations that do not end the running stage (a planned late step is the one that does)
KEEPS_STAGE = set(
    "register accept_task urge supervise request_extension approve_extension reject_extension"
    " request_suspension request_void reject_void return_visit rate".split()
)


@dataclass
class Report:
    at: datetime
    source: str
    category: object
    lon: float
    lat: float
    address: str
    street_id: int
    work_grid_id: int
    plan: Plan


@dataclass
class Stats:
    created: int = 0
    steps: int = 0
    photos: int = 0
    errors: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Stats) -> None:
        self.created += other.created
        self.steps += other.steps
        self.photos += other.photos
        self.errors.update(other.errors)
        self.messages += other.messages[: max(0, 10 - len(self.messages))]
        self.seconds += other.seconds


# --- what arrives when -------------------------------------------------------------------------


def year_days(now: datetime, days: int = YEAR_DAYS) -> list[date]:
    today = timezone.localtime(now).date()
    return [today - timedelta(days=i) for i in range(days - 1, -1, -1)]


def day_counts(count: int, days: list[date]) -> dict[date, int]:
    """`count` reports spread over `days`: working days about twice as busy as rest days,
    summer busier than winter; the counts add up to `count` exactly."""
    from urbangrid.core.calendar import get_calendar

    cal = get_calendar()
    weights = []
    for d in days:
        season = 1 + 0.18 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 105) / 365)
        weights.append((1.0 if cal.is_working_day(d) else 0.5) * season)
    total = sum(weights)
    raw = [count * w / total for w in weights]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)[: count - sum(counts)]:
        counts[i] += 1
    return dict(zip(days, counts, strict=True))


class World:
    """What reports are made of: places with a work grid, categories, the cast."""

    def __init__(self) -> None:
        import numpy as np

        from urbangrid.catalog.models import Category
        from urbangrid.geo.index import get_index
        from urbangrid.geo.models import Place, UnitGrid

        self.cast = Cast()
        cats = list(Category.objects.filter(parent__isnull=False, active=True).select_related("parent"))
        self.fixable = [c for c in cats if c.self_fix_allowed]
        self.events = [c for c in cats if c.kind == "event" and not c.self_fix_allowed]
        self.components = [c for c in cats if c.kind == "component" and not c.self_fix_allowed]
        places = list(Place.objects.values_list("name", "lon", "lat"))
        grids = {
            pk: (street, wg)
            for pk, street, wg in UnitGrid.objects.filter(work_grid__isnull=False).values_list(
                "pk", "community__parent_id", "work_grid_id"
            )
        }
        found = get_index().locate_many(np.array([p[1] for p in places]), np.array([p[2] for p in places]))
        self.places = [(p, *grids[int(g)]) for p, g in zip(places, found.tolist(), strict=True) if g and g in grids]
        if not self.places:  # a tiny test geography without a gazetteer: grid centres
            self.places = _grid_centres()
        self.photo = people.tiny_jpeg()

    def category(self, rng: random.Random, source: str):
        if source == Source.COLLECTOR and self.fixable and rng.random() < SELF_FIXABLE_SHARE:
            return rng.choice(self.fixable)
        pool = self.events if rng.random() < 0.65 or not self.components else self.components
        if source != Source.COLLECTOR and self.fixable and rng.random() < 0.2:
            pool = self.fixable
        return rng.choice(pool)

    def reports_of(self, day: date, n: int, seed: int) -> list[Report]:
        rng = random.Random(f"{seed}:{day.isoformat()}")
        working = _is_working(day)
        tz = timezone.get_current_timezone()
        out = []
        for _ in range(n):
            source = people.pick(rng, people.SOURCES)
            if source == Source.COLLECTOR:  # patrols: 8:30–17:30, a lighter shift on rest days
                start, end = (8.5, 17.5) if working else (9.0, 16.0)
                hour = rng.uniform(start, end)
            else:  # the public: 7:00–22:00, most in the morning and the early evening
                hour = min(21.9, max(7.0, rng.gauss(10.5, 2) if rng.random() < 0.6 else rng.gauss(18.5, 2)))
            at = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(hours=hour)
            out.append(self.report(rng, at, source))
        out.sort(key=lambda r: r.at)
        return out

    def report(self, rng: random.Random, at: datetime, source: str | None = None) -> Report:
        """One report made at `at` (its source drawn when not given)."""
        source = source or people.pick(rng, people.SOURCES)
        cat = self.category(rng, source)
        (name, lon, lat), street_id, work_grid_id = rng.choice(self.places)
        plan = people.draw_plan(rng, source, cat.self_fix_allowed, SELF_FIX_RATE)
        return Report(at, source, cat, lon, lat, name, street_id, work_grid_id, plan)


def _is_working(d: date) -> bool:
    from urbangrid.core.calendar import get_calendar

    return get_calendar().is_working_day(d)


def _grid_centres() -> list:
    from urbangrid.geo.index import get_index
    from urbangrid.geo.models import UnitGrid

    index, out = get_index(), []
    for g in UnitGrid.objects.filter(work_grid__isnull=False).select_related("community"):
        lon, lat = (g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2
        try:
            loc = index.locate(lon, lat)
        except ValueError:
            continue
        if loc.work_grid_id:
            out.append(((g.name or g.code, lon, lat), g.community.parent_id, loc.work_grid_id))
    return out


# --- the event queue ---------------------------------------------------------------------------


class Simulation:
    """Run reports and every step that follows them, in time order, up to `now`."""

    def __init__(self, world: World, now: datetime, seed: int) -> None:
        self.world, self.cast, self.now = world, world.cast, now
        self.rng = random.Random(seed)
        self.queue: list = []
        self.counter = itertools.count()
        self.stats = Stats()
        self.recent: dict[int, deque] = defaultdict(lambda: deque(maxlen=30))  # street -> open cases
        self.uploads: list = []

    def run(self, reports: Iterable[Report]) -> Stats:
        started = time.process_time()
        for r in reports:
            if r.at <= self.now:
                heapq.heappush(self.queue, (r.at, next(self.counter), r, None, None))
        while self.queue:
            at, _n, report, case, plan = heapq.heappop(self.queue)
            if at > self.now:
                continue  # not yet: the case waits in its state
            if report is not None:
                case, plan = self.make_report(report), report.plan
                if case is None:
                    continue
            else:
                plan, step = plan
                if not self.act(case, plan, step, at):
                    continue  # the step failed: the case stays where it is (counted in stats.errors)
            self._schedule(case, plan, at)
        self._date_uploads()
        self.stats.seconds = time.process_time() - started
        return self.stats

    def make_report(self, r: Report) -> Case | None:
        from urbangrid.cases.actions import create_case, upload_attachment

        cast, rng = self.cast, self.rng
        actor, contact, photos = cast.operator(rng), people.reporter(rng), []
        if r.source == Source.COLLECTOR:
            actor, contact = cast.collectors.get(r.work_grid_id), None
        elif r.source == Source.CITIZEN:
            actor = cast.citizen
        elif r.source == Source.PARTNER:
            actor = cast.partner
        if actor is None:
            return None
        if r.source == Source.COLLECTOR and r.at > self.now - timedelta(days=BEFORE_PHOTO_DAYS):
            photos = [self._upload(upload_attachment, actor, r.at)]
        detail = rng.choice(people.DETAILS[r.source])
        try:
            case = create_case(
                actor,
                source=r.source,
                category=r.category,
                description=f"{r.address}附近{r.category.name}，{detail}",
                lon=r.lon,
                lat=r.lat,
                address=r.address,
                reporter=contact,
                photos=photos,
                now=r.at,
            )
        except WorkflowError as exc:
            self._error("report", exc)
            return None
        self.stats.created += 1
        case.category = r.category  # the same instance: no query for it on later steps
        if r.source != Source.COLLECTOR and rng.random() < people.MERGED:
            open_ = [
                c
                for c in self.recent[case.street_id]
                if c.state in OPEN_STATES and c.created_at > r.at - timedelta(days=3)
            ]
            if open_:
                r.plan.merge_into = rng.choice(open_)
        self.recent[case.street_id].append(case)
        return case

    def _upload(self, upload, actor, at: datetime) -> str:
        att = upload(actor, self.world.photo, "photo.jpg")
        att.uploaded_at = at
        self.uploads.append(att)
        self.stats.photos += 1
        return att.token

    def _date_uploads(self) -> None:
        """Uploads are stamped with the wall clock; give them the time of their step."""
        from urbangrid.workflow.models import Attachment

        if self.uploads:
            Attachment.objects.bulk_update(self.uploads, ["uploaded_at"], batch_size=500)
            self.uploads = []

    def _schedule(self, case: Case, plan: Plan, at: datetime) -> None:
        step = people.decide(case, plan, self.cast, self.rng)
        if step is None:
            return
        when = self.when(case, plan, step, at)
        heapq.heappush(self.queue, (when, next(self.counter), None, case, (plan, step)))

    def when(self, case: Case, plan: Plan, step: Step, at: datetime) -> datetime:
        rng = self.rng
        if step.minutes is not None:
            return at + timedelta(minutes=rng.uniform(*step.minutes))
        lo, hi = step.fraction
        if plan.late and plan.late == case.stage and step.op not in KEEPS_STAGE:
            lo, hi = 1.1, 2.2
            plan.late = ""
        if case.deadline is None:
            return at + timedelta(minutes=rng.uniform(5, 60))
        unit = case.stage_limit_unit or "working_hours"
        left = minutes_between(at, case.deadline, unit)
        if left <= 0:
            return at + timedelta(minutes=rng.uniform(1, 15))
        minutes = max(1.0, left * rng.uniform(lo, hi))
        later, _provisional = add_time(at, Decimal(round(minutes)) / 60, rest_unit(unit))
        return max(later, at + timedelta(minutes=1))

    def act(self, case: Case, plan: Plan, step: Step, at: datetime) -> bool:
        from urbangrid.cases.actions import perform, record_return_visit, upload_attachment

        data = dict(step.data)
        if step.op == "merge" and (plan.merge_into is None or plan.merge_into.state not in OPEN_STATES):
            plan.merge_into = None  # the earlier case was finished meanwhile: handle this one
            return True
        try:
            if step.photos:
                data["photos"] = [self._upload(upload_attachment, step.actor, at) for _ in range(step.photos)]
            if step.op == "request_return":
                plan.returned_from = case.department_id
            if step.visit:
                _visit, dispute = record_return_visit(
                    case, step.actor, version=case.version, outcome=data["outcome"], note=data.get("note", ""), now=at
                )
                self.stats.steps += 1 + (dispute is not None)
                if dispute is not None:
                    plan.done.add("dispute")
            else:
                perform(case, step.op, step.actor, version=case.version, data=data, now=at)
                self.stats.steps += 1
            plan.done.add(step.op)
        except WorkflowError as exc:
            self._error(step.op, exc, case)
            plan.done.add(step.op)  # do not try the same again
            # a merge target closed meanwhile, a self-fix refused: the case goes on the usual way
            return step.op in ("merge", "self_fix")
        return True

    def _error(self, op: str, exc: Exception, case: Case | None = None) -> None:
        self.stats.errors[op] += 1
        if len(self.stats.messages) < 10:
            self.stats.messages.append(f"{op} on {case.number if case else '-'} ({case.state if case else ''}): {exc}")


# --- building ----------------------------------------------------------------------------------


def build_days(
    days: list[date], counts: dict[date, int], *, seed: int, now: datetime, world: World | None = None
) -> Stats:
    """Reports of `days` and everything that follows them up to `now` (inside the caller's
    transaction)."""
    world = world or World()
    reports: list[Report] = []
    for d in days:
        reports += world.reports_of(d, counts.get(d, 0), seed)
    sim = Simulation(world, now, seed=hash((seed, days[0].toordinal() if days else 0)) & 0xFFFFFFFF)
    return sim.run(reports)


@contextmanager
def facts_deferred():
    """While a batch of history is written in one transaction: the evaluation facts (a History
    post_save hook of `urbangrid.evaluation`, when installed) are rebuilt once at the end instead
    of after every step (that hook costs more than the step itself)."""
    try:
        from urbangrid.evaluation import facts
    except ImportError:
        yield
        return
    from django.db.models.signals import post_save

    from urbangrid.workflow.models import History

    uid = "evaluation_facts"
    was = post_save.disconnect(sender=History, dispatch_uid=uid)
    try:
        yield
    finally:
        if was:
            post_save.connect(facts.on_history_saved, sender=History, dispatch_uid=uid)
    if was:
        facts.rebuild()


def build_year(
    count: int = YEAR_CASES,
    *,
    seed: int,
    now: datetime | None = None,
    recent_days: int | None = None,
    log: Callable[[str], None] | None = None,
) -> Stats:
    """The year up to `now`: all of it, or only its last `recent_days` days (the rest later with
    `build_older_days`). Sets the lights of the open cases as the sweep would."""
    from urbangrid.workflow.sweep import sweep

    now = now or timezone.now()
    days = year_days(now)
    counts = day_counts(count, days)
    wanted = days if recent_days is None else days[-recent_days:]
    with transaction.atomic(), facts_deferred():
        stats = build_days(wanted, counts, seed=seed, now=now)
    sweep(now)
    if log:
        log(f"  {stats.created} cases, {stats.steps} steps in {stats.seconds:.0f} s CPU")
    return stats


def missing_days(now: datetime, count: int) -> list[date]:
    """Days of the year (newest first) that should have reports and have no case yet."""
    days = year_days(now)
    counts = day_counts(count, days)
    # (dates() gives the days in the current time zone)
    have = set(Case.objects.filter(created_at__gte=_start(days[0])).dates("created_at", "day"))
    return [d for d in reversed(days) if counts[d] and d not in have]


def _start(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def build_older_days(
    count: int, *, seed: int, now: datetime, log: Callable[[str], None] = print, pause: float = 0.05
) -> Stats:
    """Build every day of the year that has no case yet, newest first, one transaction per day
    (a server may serve meanwhile: each day holds the write lock for a few seconds at most)."""
    days = year_days(now)
    counts = day_counts(count, days)
    todo = missing_days(now, count)
    world, total = World(), Stats()
    for i, d in enumerate(todo, start=1):
        with transaction.atomic():
            if Case.objects.filter(created_at__gte=_start(d), created_at__lt=_start(d + timedelta(days=1))).exists():
                continue  # another process built it meanwhile
            total.add(build_days([d], counts, seed=seed, now=now, world=world))
        if i % 30 == 0 or i == len(todo):
            log(f"demo year: {i}/{len(todo)} older days built (back to {d}), {total.created} cases")
        time.sleep(pause)
    return total


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
