"""Named clocks (Timer rows, statutory limits): started from a date input (counting from the next
day), working days vs calendar days vs natural hours, paused and resumed independently of the
stage clock, stopped; lights through `sweep.sweep(now=...)`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.workflow.toy import flows
from tests.workflow.toy.models import Permit, Ticket
from tests.workflow.util import at, exactly, history, step
from urbangrid.workflow import clock, engine, sweep
from urbangrid.workflow.definition import Context, pause_clock, resume_clock, start_clock, stop_clock
from urbangrid.workflow.errors import Invalid
from urbangrid.workflow.models import Notification, Timer

APPLIED = at(2026, 9, 30, 10)  # Wednesday before National Day


def apply(people, served_on="2026-09-29", now=APPLIED) -> Permit:
    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": served_on, "amount": "800"}, now=now)
    return p


def timers(p) -> dict[str, Timer]:
    return {t.name: t for t in Timer.objects.filter(object_id=p.pk).order_by("name")}


def test_start_from_a_date_counts_from_the_next_day(people):
    p = apply(people)
    got = timers(p)
    assert sorted(got) == ["decide", "notice", "pay"]
    decide, notice, pay = got["decide"], got["notice"], got["pay"]
    # 20 working days from 09-30 00:00: 09-30, 10-08, 10-09, Saturday 10-10, ..., 11-02 is the 20th
    assert (decide.amount, decide.unit, decide.started_at) == (Decimal(20), "working_days", at(2026, 9, 30))
    assert (decide.deadline, decide.deadline_provisional) == (at(2026, 11, 2, 17, 30), False)
    assert decide.warn_at == at(2026, 10, 25, 7, 7, 30)
    # 48 natural hours from the moment of the step
    assert (notice.amount, notice.unit, notice.started_at, notice.deadline) == (
        Decimal(48),
        "hours",
        APPLIED,
        at(2026, 10, 2, 10),
    )
    assert notice.warn_at == at(2026, 10, 1, 22)
    # 15 calendar days (the limit given by a function) from the day after service, holidays included
    assert (pay.amount, pay.unit, pay.started_at, pay.deadline) == (
        Decimal(15),
        "days",
        at(2026, 9, 30),
        at(2026, 10, 15),
    )
    assert all(t.light == "green" and t.running for t in got.values())
    assert all((t.paused_at, t.remaining_minutes, t.stopped_at) == (None, None, None) for t in got.values())
    # the stage clock runs beside them: 5 working days from 09-30 10:00
    assert (p.stage, p.deadline) == ("review", at(2026, 10, 13, 10))


def test_pause_and_resume_independently_of_the_stage_clock(people):
    p = apply(people)
    stage = (p.stage, p.stage_started_at, p.deadline, p.warn_at)
    entry = step(p, "hearing", people.operator, at(2026, 10, 12, 10))
    decide = timers(p)["decide"]
    left = 330 + 15 * 420  # rest of 10-12, then 10-13 .. 11-02
    assert (decide.paused_at, decide.remaining_minutes, decide.deadline, decide.warn_at, decide.light) == (
        at(2026, 10, 12, 10),
        left,
        None,
        None,
        "green",
    )
    assert not decide.running
    assert entry.payload == {"clocks": [{"clock": "decide", "op": "pause", "remaining_minutes": left}]}
    assert (p.stage, p.stage_started_at, p.deadline, p.warn_at) == stage  # the stage clock runs on
    assert timers(p)["notice"].running and timers(p)["pay"].deadline == at(2026, 10, 15)

    entry = step(p, "heard", people.operator, at(2026, 10, 14, 9))
    decide = timers(p)["decide"]
    # exactly the rest, in working hours, from the moment of resuming
    assert (decide.deadline, decide.paused_at, decide.remaining_minutes) == (at(2026, 11, 4, 16, 30), None, None)
    assert decide.warn_at == at(2026, 10, 14, 9) + (at(2026, 11, 4, 16, 30) - at(2026, 10, 14, 9)) * 0.75
    assert decide.started_at == at(2026, 9, 30) and decide.running
    assert entry.payload == {"clocks": [{"clock": "decide", "op": "resume", "deadline": "2026-11-04T16:30:00+08:00"}]}
    assert (p.stage, p.stage_started_at, p.deadline, p.warn_at) == stage


def test_the_stage_clock_pauses_while_named_clocks_run(people):
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"}, now=at(2026, 10, 12, 9))
    step(t, "dispatch", people.dispatcher, at(2026, 10, 12, 9), department=people.dept.pk)
    step(t, "suspend", people.handler, at(2026, 10, 12, 10), reason="r")
    assert Timer.objects.count() == 0  # no named clock is touched by the stage clock


def test_stop(people):
    p = apply(people)
    entry = step(p, "refuse", people.leader, at(2026, 10, 12, 9))
    got = timers(p)
    assert got["decide"].stopped_at == at(2026, 10, 12, 9) and got["notice"].stopped_at == at(2026, 10, 12, 9)
    assert got["pay"].stopped_at is None
    assert got["decide"].deadline == at(2026, 11, 2, 17, 30)  # kept for the record
    assert entry.payload == {
        "clocks": [
            {"clock": "decide", "op": "stop", "overdue": False},
            {"clock": "notice", "op": "stop", "overdue": True},
        ]
    }
    assert (p.state, p.stage, p.deadline) == ("refused", "", None)


def test_stopping_at_the_deadline_is_not_overdue(people):
    p = apply(people)
    entry = step(p, "grant", people.leader, at(2026, 11, 2, 17, 30))
    assert entry.payload["clocks"] == [{"clock": "decide", "op": "stop", "overdue": False}]


def test_stopping_a_paused_clock(people):
    p = apply(people)
    step(p, "hearing", people.operator, at(2026, 10, 12, 10))
    entry = step(p, "grant", people.leader, at(2026, 12, 1, 9))
    assert entry.payload["clocks"] == [{"clock": "decide", "op": "stop", "overdue": False}]


def test_restart_reuses_the_clock(people):
    p = apply(people)
    step(p, "hearing", people.operator, at(2026, 10, 12, 10))
    step(p, "heard", people.operator, at(2026, 10, 12, 11))
    entry = step(p, "restart", people.operator, at(2026, 10, 16, 9), served_on="2026-10-16")
    decide = timers(p)["decide"]
    # 10 working days counted from Saturday 10-17 00:00: 10-19 .. 10-30
    assert (decide.amount, decide.started_at, decide.deadline) == (
        Decimal(10),
        at(2026, 10, 17),
        at(2026, 10, 30, 17, 30),
    )
    assert (decide.paused_at, decide.remaining_minutes, decide.stopped_at, decide.light) == (None, None, None, "green")
    assert Timer.objects.filter(object_id=p.pk, name="decide").count() == 1
    assert entry.payload == {
        "clocks": [
            {
                "clock": "decide",
                "op": "start",
                "from": "2026-10-17T00:00:00+08:00",
                "deadline": "2026-10-30T17:30:00+08:00",
            }
        ]
    }


def test_a_late_start_is_red_at_once(people):
    p = apply(people, served_on="2026-09-01", now=at(2026, 9, 30, 10))
    assert timers(p)["pay"].light == "red"  # 09-02 + 15 days = 09-17
    assert timers(p)["pay"].deadline == at(2026, 9, 17)


def _ctx(p, ops_now, **data):
    t = flows.PERMIT.get("hearing")
    return Context(obj=p, actor=None, role="", data=data, transition=t, now=ops_now, workflow=flows.PERMIT)


def test_clock_operations_are_refused_when_they_make_no_sense(people):
    p = apply(people)
    now = at(2026, 10, 12, 9)
    with pytest.raises(Invalid, match=exactly("The clock “nope” is not running.")):
        clock.apply_named_clocks(_ctx(p, now), (pause_clock("nope"),))
    with pytest.raises(Invalid, match=exactly("The clock “decide” is not paused.")):
        clock.apply_named_clocks(_ctx(p, now), (resume_clock("decide"),))
    clock.apply_named_clocks(_ctx(p, now), (pause_clock("decide"),))
    with pytest.raises(Invalid, match=exactly("The clock “decide” is already paused.")):
        clock.apply_named_clocks(_ctx(p, now), (pause_clock("decide"),))
    clock.apply_named_clocks(_ctx(p, now), (stop_clock("decide"),))
    for op in (pause_clock("decide"), resume_clock("decide")):
        with pytest.raises(Invalid, match=exactly("The clock “decide” is not running.")):
            clock.apply_named_clocks(_ctx(p, now), (op,))
    # stopping a clock that is stopped already, or never ran, changes nothing
    assert clock.apply_named_clocks(_ctx(p, at(2026, 10, 13)), (stop_clock("decide"), stop_clock("nope"))) == []
    assert timers(p)["decide"].stopped_at == now and "nope" not in timers(p)
    from urbangrid.workflow.definition import ClockOp

    with pytest.raises(ValueError, match=exactly("unknown clock operation 'jump'")):
        clock.apply_named_clocks(_ctx(p, now), (ClockOp("jump", "notice"),))


def test_a_clock_paused_when_overdue_stays_overdue(people):
    p = apply(people)
    now = at(2026, 10, 2, 11)
    done = clock.apply_named_clocks(_ctx(p, now), (pause_clock("notice"),))
    assert done == [{"clock": "notice", "op": "pause", "remaining_minutes": -60}]
    done = clock.apply_named_clocks(_ctx(p, at(2026, 10, 5, 9)), (resume_clock("notice"),))
    notice = timers(p)["notice"]
    assert (notice.deadline, notice.light, notice.deadline_provisional) == (at(2026, 10, 5, 9), "yellow", False)
    assert done == [{"clock": "notice", "op": "resume", "deadline": "2026-10-05T09:00:00+08:00"}]


def test_natural_clock_paused_resumes_in_natural_hours(people):
    p = apply(people)
    clock.apply_named_clocks(_ctx(p, at(2026, 10, 1, 10)), (pause_clock("notice"),))
    assert timers(p)["notice"].remaining_minutes == 24 * 60
    clock.apply_named_clocks(_ctx(p, at(2026, 10, 3, 9, 15)), (resume_clock("notice"),))
    notice = timers(p)["notice"]
    assert (notice.deadline, notice.light) == (at(2026, 10, 4, 9, 15), "green")
    assert notice.warn_at == at(2026, 10, 4, 3, 15)


def test_start_from_a_datetime_counts_from_that_moment(people):
    p = apply(people)
    op = start_clock("answer", (2, "working_hours"), from_input="answered_at")
    done = clock.apply_named_clocks(_ctx(p, at(2026, 10, 12, 9), answered_at=at(2026, 10, 9, 17)), (op,))
    assert done == [
        {"clock": "answer", "op": "start", "from": "2026-10-09T17:00:00+08:00", "deadline": "2026-10-10T10:00:00+08:00"}
    ]
    op = start_clock("late", (1, "days"), from_input="missing")
    clock.apply_named_clocks(_ctx(p, at(2026, 10, 12, 9)), (op,))
    assert timers(p)["late"].started_at == at(2026, 10, 12, 9)  # no value: from now


def test_count_from():
    from datetime import date

    now = at(2026, 10, 12, 9)
    assert clock.count_from(None, now) == now
    assert clock.count_from(at(2026, 10, 1, 8), now) == at(2026, 10, 1, 8)
    assert clock.count_from(date(2026, 12, 31), now) == at(2027, 1, 1)
    with pytest.raises(TypeError, match=exactly("a clock cannot count from '2026-10-01'")):
        clock.count_from("2026-10-01", now)


# --- lights -------------------------------------------------------------------------------


def test_sweep_sets_the_lights_of_named_clocks(people):
    p = apply(people)
    assert sweep.sweep(now=at(2026, 10, 1, 21, 59)) == {"red": 0, "yellow": 0, "notifications": 0, "clocks": 0}
    # notice turns yellow at 75 % (10-01 22:00), red after its deadline (10-02 10:00)
    totals = sweep.sweep(now=at(2026, 10, 2, 10))
    assert totals == {"red": 0, "yellow": 0, "notifications": 1, "clocks": 1}
    assert {n: t.light for n, t in timers(p).items()} == {"decide": "green", "notice": "yellow", "pay": "green"}
    note = Notification.objects.get()
    assert (note.user, note.kind, note.message) == (
        people.operator,
        "clock_due_soon",
        f"{p}: clock “notice” is due soon.",
    )
    assert sweep.sweep(now=at(2026, 10, 2, 10)) == {"red": 0, "yellow": 0, "notifications": 0, "clocks": 0}
    totals = sweep.sweep(now=at(2026, 10, 2, 10, 1))
    assert totals == {"red": 0, "yellow": 0, "notifications": 1, "clocks": 1}
    assert timers(p)["notice"].light == "red"
    assert Notification.objects.filter(kind="clock_overdue").count() == 1
    # pay warns from 10-11 06:00, the stage clock (review, due 10-13 10:00) from 10-10 04:00
    totals = sweep.sweep(now=at(2026, 10, 12, 12))
    assert totals == {"red": 0, "yellow": 1, "notifications": 2, "clocks": 1}
    assert {n: t.light for n, t in timers(p).items()} == {"decide": "green", "notice": "red", "pay": "yellow"}
    p.refresh_from_db()
    assert p.light == "yellow"


def test_sweep_skips_paused_and_stopped_clocks(people):
    p = apply(people)
    step(p, "hearing", people.operator, at(2026, 10, 1, 9))
    clock.apply_named_clocks(_ctx(p, at(2026, 10, 1, 9)), (stop_clock("notice"),))
    totals = sweep.sweep(now=at(2026, 12, 31))
    assert totals["clocks"] == 1  # only "pay"
    assert {n: t.light for n, t in timers(p).items()} == {"decide": "green", "notice": "green", "pay": "red"}


def test_sweep_stage_lights_notify_holders_and_escalate(people):
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"}, now=at(2026, 10, 12, 9))
    step(t, "dispatch", people.dispatcher, at(2026, 10, 12, 9), department=people.dept.pk)
    done = Ticket(kind="simple")
    engine.create(done, "open", people.collector, data={"title": "y"}, now=at(2026, 10, 12, 9))
    step(done, "finish", people.handler, at(2026, 10, 12, 9))
    other = Ticket(kind="simple")
    engine.create(other, "open", people.collector, data={"title": "z"}, now=at(2026, 10, 14, 9))
    # t: due 10-13 09:00, warn 10-12 + 18 h = 10-13 03:00
    assert sweep.sweep(now=at(2026, 10, 13, 2, 59))["yellow"] == 0
    totals = sweep.sweep(now=at(2026, 10, 13, 3))
    assert totals == {"red": 0, "yellow": 1, "notifications": 2, "clocks": 0}
    assert sorted(Notification.objects.exclude(kind="assigned").values_list("user__username", "kind")) == sorted(
        [(people.handler.username, "due_soon"), (people.handler2.username, "due_soon")]
    )
    totals = sweep.sweep(now=at(2026, 10, 13, 9, 1))
    assert totals == {"red": 1, "yellow": 0, "notifications": 3, "clocks": 0}
    assert Notification.objects.filter(kind="escalated").get().user == people.leader
    assert Notification.objects.filter(kind="overdue").count() == 2
    t.refresh_from_db()
    assert t.light == "red"
    # an extension turns it green again at the next sweep
    step(t, "extend", people.shift, at(2026, 10, 13, 10), until="2026-10-20T17:00+08:00")
    totals = sweep.sweep(now=at(2026, 10, 13, 10))
    assert totals == {"red": 0, "yellow": 0, "notifications": 0, "clocks": 0}
    t.refresh_from_db()
    assert t.light == "green"
    other.refresh_from_db()
    assert other.light == "green"  # the simple ticket opened 10-14 is not due yet
    assert [h.action for h in history(t)] == ["report", "dispatch", "extend"]


def test_sweep_resets_a_final_or_untimed_object_to_green(people):
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"}, now=at(2026, 10, 12, 9))
    Ticket.objects.filter(pk=t.pk).update(light="red", deadline=None)
    s = Ticket(kind="simple")
    engine.create(s, "open", people.collector, data={"title": "y"}, now=at(2026, 10, 12, 9))
    Ticket.objects.filter(pk=s.pk).update(light="yellow", state="done")
    sweep.sweep(now=at(2026, 10, 12, 9, 1))
    assert set(Ticket.objects.values_list("light", flat=True)) == {"green"}


def test_sweep_leaves_a_yellow_object_yellow_until_its_deadline(people):
    s = Ticket(kind="simple")
    engine.create(s, "open", people.collector, data={"title": "y"}, now=at(2026, 10, 12, 9))
    # due 10-12 15:00 (3 working hours in the morning, 1 after lunch), warn at 13:30
    assert sweep.sweep(now=at(2026, 10, 12, 13, 29))["yellow"] == 0
    assert sweep.sweep(now=at(2026, 10, 12, 13, 30))["yellow"] == 1
    assert sweep.sweep(now=at(2026, 10, 12, 15)) == {"red": 0, "yellow": 0, "notifications": 0, "clocks": 0}
    s.refresh_from_db()
    assert (s.deadline, s.light) == (at(2026, 10, 12, 15), "yellow")
    assert sweep.sweep(now=at(2026, 10, 12, 15, 0, 1))["red"] == 1


def test_sweep_ignores_clocks_of_deleted_objects(people):
    p = apply(people)
    Permit.objects.filter(pk=p.pk).delete()
    assert sweep.sweep(now=at(2026, 12, 31)) == {"red": 0, "yellow": 0, "notifications": 0, "clocks": 3}
