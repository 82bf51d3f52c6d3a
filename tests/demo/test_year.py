"""The demo year: a small year built through the engine has the shape of a real city's year."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from urbangrid.cases.models import FINAL_STATES, Case, ReturnVisit
from urbangrid.cases.models import State as S
from urbangrid.demo.builder import build_demo, year_to_finish
from urbangrid.demo.live import Live
from urbangrid.demo.year import build_older_days, missing_days
from urbangrid.workflow.integrity import verify_chains
from urbangrid.workflow.models import History

pytestmark = pytest.mark.django_db(transaction=False)

YEAR = 400
#: a smaller district than the demo's (400 unit grids, 5 work grids): quicker to build
SMALL = {"grids": 400, "communities": 5, "work_grids": 5, "roads": 12}


def test_a_small_year_has_the_shape_of_a_real_one():
    now = timezone.now()
    # the last 90 days first (as `urbangrid demo` does before serving), then the older days
    build_demo(components=0, cases=YEAR, recent_days=90, now=now, geography=SMALL)
    plan = year_to_finish()
    assert plan is not None and plan["count"] == YEAR
    stats = build_older_days(plan["count"], seed=plan["seed"], now=plan["now"], log=lambda s: None, pause=0)
    assert not stats.errors, stats.messages
    assert missing_days(now, YEAR) == [] and year_to_finish() is None

    cases = list(Case.objects.all())
    total = len(cases)
    assert YEAR * 0.95 <= total <= YEAR  # reports after `now` today are not made yet
    assert min(c.created_at for c in cases) > now - timedelta(days=366)

    self_fixed = [c for c in cases if c.self_handled and c.state == S.CLOSED]
    assert 0.13 <= len(self_fixed) / total <= 0.31  # about 22 %

    ct = ContentType.objects.get_for_model(Case)
    seqs: dict[int, list[int]] = {}
    actions: dict[int, list[str]] = {}
    for oid, seq, action in (
        History.objects.filter(content_type=ct).order_by("object_id", "seq").values_list("object_id", "seq", "action")
    ):
        seqs.setdefault(oid, []).append(seq)
        actions.setdefault(oid, []).append(action)
    for c in cases:  # every case: a complete history whose seq runs 1..version
        assert seqs[c.pk] == list(range(1, c.version + 1)), c.number
    closed_dispatched = [c for c in cases if c.state == S.CLOSED and c.dispatched_at is not None]
    assert len(closed_dispatched) > total * 0.4
    for c in closed_dispatched:
        done = actions[c.pk]
        assert done[0] == "report" and "close" in done, (c.number, done)
        for op in ("register", "dispatch", "accept_task", "feedback", "send_check", "check_pass"):
            assert op in done, (c.number, op, done)
    assert verify_chains().broken is None

    # dispatched more than 40 days ago: (nearly) all closed; nothing stuck in an odd state
    old = [c for c in cases if c.dispatched_at and c.dispatched_at < now - timedelta(days=40)]
    finished = [c for c in old if c.state in FINAL_STATES or c.state == S.SUSPENDED]
    assert len(finished) / len(old) >= 0.97
    stuck = [c for c in cases if c.state not in FINAL_STATES and c.state != S.SUSPENDED
             and c.created_at < now - timedelta(days=40)]  # fmt: skip
    assert stuck == []
    states = Counter(c.state for c in cases)
    assert states[S.CLOSED] > total * 0.8 and states[S.NOT_ACCEPTED] + states[S.REJECTED] > 0

    overdue = set(History.objects.filter(content_type=ct, overdue=True).values_list("object_id", flat=True))
    assert 0 < len(overdue) / total < 0.12  # a few %
    assert ReturnVisit.objects.exists()
    some = {a for done in actions.values() for a in done}
    assert {"send_verify", "verify", "self_fix", "confirm_self_fix", "accept_task", "return_visit"} <= some

    # history times are real: no step before the report, none after `now`
    first = History.objects.filter(content_type=ct).order_by("created_at").first()
    last = History.objects.filter(content_type=ct).order_by("-created_at").first()
    assert first.created_at > now - timedelta(days=366) and last.created_at <= now
    try:  # the evaluation facts, rebuilt after the deferred batch, equal the history
        from urbangrid.evaluation import facts
    except ImportError:
        return
    assert facts.check() == []


def test_a_live_tick_moves_the_city_through_the_engine():
    build_demo(components=0, cases=120, geography=SMALL)
    live = Live(seed=7, acts=4)
    before = (History.objects.count(), Case.objects.count())
    events = []
    for _ in range(3):
        events += live.tick()
    after = (History.objects.count(), Case.objects.count())
    assert events and after[0] > before[0]
    assert not live.sim.stats.errors, live.sim.stats.messages
    ct = ContentType.objects.get_for_model(Case)
    for c in Case.objects.all():  # every change went through the engine: one history entry per version
        assert History.objects.filter(content_type=ct, object_id=c.pk).count() == c.version
