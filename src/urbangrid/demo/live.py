"""The living demo (`urbangrid demo --live`, `urbangrid live`): every few seconds new reports
come in and the simulated people act on open cases — within their role, department and grid,
through the workflow engine, at the wall-clock time — so lists, maps and dashboards change
while you watch.

Each case gets a fate (`people.Plan`) the first time the simulation touches it; open cases
nearest their deadline are handled first, closed public reports get their return visits.
Deterministic for a given database and `--seed` (only the timestamps differ)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.db import DatabaseError, close_old_connections
from django.db.models import F
from django.utils import timezone

from urbangrid.cases.models import OPEN_STATES, Case, Source
from urbangrid.cases.models import State as S

from . import people
from .people import Plan
from .year import SELF_FIX_RATE, Simulation, World

#: new reports per tick (weights): about 25 an hour at one tick every 3 s would be too many for
#: a city of this size, but a demo is meant to be watched
NEW_REPORTS = [(0, 0.55), (1, 0.35), (2, 0.10)]


class Live:
    def __init__(self, seed: int = 1, *, acts: int = 3) -> None:
        self.world = World()
        self.rng = random.Random(seed)
        self.sim = Simulation(self.world, timezone.now(), seed)
        self.plans: dict[int, Plan] = {}
        self.acts = acts

    def plan_for(self, case: Case) -> Plan:
        plan = self.plans.get(case.pk)
        if plan is None:
            plan = people.draw_plan(self.rng, case.source, False, SELF_FIX_RATE)
            self.plans[case.pk] = plan
        return plan

    def tick(self, now: datetime | None = None) -> list[str]:
        """One round: new reports, then a few people act. Returns what happened, in words."""
        now = now or timezone.now()
        sim, rng, done = self.sim, self.rng, []
        sim.now = now
        before = sim.stats.errors.total()
        for _ in range(people.pick(rng, NEW_REPORTS)):
            report = self.world.report(rng, now)
            case = sim.make_report(report)
            if case is not None:
                self.plans[case.pk] = report.plan
                done.append(f"new {Source(case.source).label} report {case.number} ({case.category.name})")
        for case in self._candidates():
            plan = self.plan_for(case)
            step = people.decide(case, plan, self.world.cast, rng)
            if step is None:
                continue
            if sim.act(case, plan, step, timezone.now()):
                done.append(f"{step.actor.display_name or step.actor.username}: {step.op} {case.number}")
        sim._date_uploads()
        if sim.stats.errors.total() > before:
            done.append(f"({sim.stats.errors.total() - before} step(s) refused: {sim.stats.messages[-1:]})")
        return done

    def _candidates(self) -> list[Case]:
        """A few open cases, most of them close to their deadline, and a closed public report
        waiting for its return visit now and then."""
        rng = self.rng
        open_ = list(
            Case.objects.filter(state__in=OPEN_STATES)
            .exclude(state=S.SUSPENDED)
            .select_related("category")
            .order_by(F("deadline").asc(nulls_last=True), "pk")[:40]
        )
        picked = rng.sample(open_, min(self.acts, len(open_)))
        if rng.random() < 0.3:
            from urbangrid.cases.actions import return_visit_queue

            visit = return_visit_queue(self.world.cast.operators[0]).first()
            if visit is not None:
                self.plan_for(visit).visit = True
                picked.append(visit)
        return picked


def run(
    seed: int = 1,
    *,
    every: float = 3.0,
    minutes: float | None = None,
    out: Callable[[str], None] = print,
) -> Counter:
    """Tick every `every` seconds until Ctrl-C or `minutes` have passed."""
    from urbangrid.workflow.sweep import sweep

    live = Live(seed)
    end = time.monotonic() + minutes * 60 if minutes else None
    totals: Counter = Counter()
    last_sweep = 0.0
    out("live demo: new reports and people at work every few seconds (Ctrl-C to stop)")
    try:
        while end is None or time.monotonic() < end:
            started = time.monotonic()
            try:
                for line in live.tick():
                    out(f"  {timezone.localtime():%H:%M:%S} {line}")
                    totals["events"] += 1
                if started - last_sweep > 30:  # lights, as the worker's sweep would
                    sweep()
                    last_sweep = started
            except DatabaseError as exc:  # e.g. locked a moment too long by the year's builder
                out(f"  {timezone.localtime():%H:%M:%S} (skipped a round: {exc})")
            totals["ticks"] += 1
            close_old_connections()
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        out("live demo stopped")
    return totals
