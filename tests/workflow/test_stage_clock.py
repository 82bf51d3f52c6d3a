"""The stage clock on the working calendar: START, PAUSE, RESUME, CLEAR, KEEP and deadline
overrides, to the minute across weekends, National Day 2026 (10-01..07, make-up Saturday 10-10),
Mid-Autumn (09-25, make-up Sunday 09-20) and office hours 08:30-12:00, 14:00-17:30."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.workflow.toy.models import Ticket
from tests.workflow.util import at, history, step
from urbangrid.workflow import clock, engine


def open_simple(people, now) -> Ticket:
    t = Ticket(kind="simple")
    engine.create(t, "open", people.collector, data={"title": "x"}, now=now)
    return t


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        # 4 working hours: lunch break skipped
        (at(2026, 10, 12, 11), at(2026, 10, 12, 17)),
        # Thursday 16:00: 90 minutes left, then Mid-Autumn Friday and the weekend
        (at(2026, 9, 24, 16), at(2026, 9, 28, 11)),
        # Saturday before the make-up Sunday 09-20 counts from that Sunday
        (at(2026, 9, 19, 10), at(2026, 9, 20, 14, 30)),
        # the day before National Day: 30 minutes on 09-30, the rest on 10-08
        (at(2026, 9, 30, 17), at(2026, 10, 8, 12)),
        # Friday 10-09 evening: the make-up Saturday 10-10 is a working day
        (at(2026, 10, 9, 18), at(2026, 10, 10, 14, 30)),
        # exactly at the end of a morning window
        (at(2026, 10, 12, 8, 30), at(2026, 10, 12, 14, 30)),
    ],
)
def test_start_counts_working_hours(people, start, deadline):
    t = open_simple(people, start)
    t.refresh_from_db()
    assert (t.stage, t.stage_started_at, t.deadline) == ("fix", start, deadline)
    assert (t.stage_limit_amount, t.stage_limit_unit, t.deadline_provisional) == (Decimal(4), "working_hours", False)
    assert t.warn_at == start + (deadline - start) * 0.75


def general(people, now) -> Ticket:
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"}, now=now)
    return t


def test_start_pause_resume_clear_to_the_minute(people):
    t = general(people, at(2026, 9, 28, 9))
    assert t.deadline == at(2026, 9, 28, 9, 30)  # half a working hour
    assert t.warn_at == at(2026, 9, 28, 9, 22, 30)

    # START: dispatching ends "register" (late) and starts "handle": 1 working day, inside office
    # hours → the same time on the next working day, after National Day
    entry = step(t, "dispatch", people.dispatcher, at(2026, 9, 30, 16), department=people.dept.pk)
    assert (t.stage, t.stage_started_at, t.deadline) == ("handle", at(2026, 9, 30, 16), at(2026, 10, 8, 16))
    assert t.warn_at == at(2026, 10, 6, 16)  # 75 % of 8 calendar days
    assert (t.stage_limit_amount, t.stage_limit_unit) == (Decimal(1), "working_days")
    assert (entry.stage, entry.stage_limit, entry.overdue) == ("register", "0.5 working_hours", True)
    assert entry.time_used_minutes == 390 + 420 + 330  # 09-28 from 09:00, 09-29, 09-30 until 16:00
    assert (entry.deadline_before, entry.deadline_after) == (at(2026, 9, 28, 9, 30), at(2026, 10, 8, 16))

    # PAUSE on the evening before the holiday: 30 minutes of 09-30 and 6 hours of 10-08 are left
    entry = step(t, "suspend", people.handler, at(2026, 9, 30, 17), reason="材料")
    assert t.paused_remaining_minutes == 30 + 210 + 120
    assert (t.deadline, t.warn_at, t.stage_started_at, t.deadline_provisional) == (None, None, None, False)
    assert (t.stage, t.stage_limit_amount, t.stage_limit_unit) == ("handle", Decimal(1), "working_days")
    assert (entry.stage, entry.stage_limit, entry.time_used_minutes, entry.overdue) == (
        "handle",
        "1 working_days",
        60,
        False,
    )
    assert (entry.deadline_before, entry.deadline_after) == (at(2026, 10, 8, 16), None)

    # RESUME on Friday 10-09 15:00 with exactly the 6 hours left: 2.5 h on Friday, 3.5 h on the
    # make-up Saturday 10-10
    entry = step(t, "resume", people.handler, at(2026, 10, 9, 15))
    assert (t.stage_started_at, t.deadline) == (at(2026, 10, 9, 15), at(2026, 10, 10, 12))
    assert (t.stage_limit_amount, t.stage_limit_unit, t.paused_remaining_minutes) == (
        Decimal("6.00"),
        "working_hours",
        None,
    )
    assert t.warn_at == at(2026, 10, 10, 6, 45)
    assert (entry.stage, entry.time_used_minutes, entry.deadline_before) == ("", None, None)
    assert clock.remaining(t.deadline, at(2026, 10, 9, 15), "working_hours") == 360

    # CLEAR: finishing on Monday ends the (overdue) stage and starts none
    photo = _upload(people.handler)
    entry = step(t, "finish", people.handler, at(2026, 10, 12, 9), result="ok", photos=[photo])
    assert (entry.stage, entry.stage_limit, entry.overdue) == ("handle", "6 working_hours", True)
    assert entry.time_used_minutes == 150 + 420 + 30
    assert (t.stage, t.stage_started_at, t.stage_limit_amount, t.stage_limit_unit) == ("", None, None, "")
    assert (t.deadline, t.warn_at, t.paused_remaining_minutes) == (None, None, None)
    t.refresh_from_db()
    assert (t.deadline, t.stage, t.paused_remaining_minutes) == (None, "", None)
    assert [h.deadline_after for h in history(t)] == [
        at(2026, 9, 28, 9, 30),
        at(2026, 10, 8, 16),
        None,
        at(2026, 10, 10, 12),
        None,
    ]


def _upload(who, token="f1"):
    from urbangrid.workflow.models import Attachment

    Attachment.objects.create(
        token=token,
        file="x.png",
        extension=".png",
        mime_type="image/png",
        size=1,
        uploaded_by=who,
        uploaded_at=at(2026, 9, 1),
    )
    return token


def test_paused_when_overdue_stays_overdue_when_resumed(people):
    t = general(people, at(2026, 10, 12, 9))
    step(t, "dispatch", people.dispatcher, at(2026, 10, 12, 9), department=people.dept.pk)
    assert t.deadline == at(2026, 10, 13, 9)
    step(t, "suspend", people.handler, at(2026, 10, 13, 10), reason="r")
    assert t.paused_remaining_minutes == -60
    step(t, "resume", people.handler, at(2026, 10, 14, 9))
    assert (t.deadline, t.deadline_provisional, t.stage_limit_amount) == (at(2026, 10, 14, 9), False, Decimal(0))
    assert t.warn_at == at(2026, 10, 14, 9)


def test_pause_in_natural_units_and_resume_in_natural_hours(people):
    t = general(people, at(2026, 10, 1, 10))  # a holiday: natural hours do not care
    t.stage_limit_unit, t.stage_limit_amount = "hours", Decimal(2)
    t.deadline = at(2026, 10, 1, 12)
    Ticket.objects.filter(pk=t.pk).update(stage_limit_unit="hours", stage_limit_amount=2, deadline=t.deadline)
    step(t, "dispatch", people.dispatcher, at(2026, 10, 1, 10), department=people.dept.pk)
    # dispatch started "handle" (1 working day from a holiday: the end of 10-08)
    assert t.deadline == at(2026, 10, 8, 17, 30)
    t.stage_limit_unit = "days"
    Ticket.objects.filter(pk=t.pk).update(stage_limit_unit="days", deadline=at(2026, 10, 2, 10))
    t.deadline = at(2026, 10, 2, 10)
    step(t, "suspend", people.handler, at(2026, 10, 1, 22, 30), reason="r")
    assert t.paused_remaining_minutes == 11 * 60 + 30  # natural minutes
    step(t, "resume", people.handler, at(2026, 10, 3, 8))
    assert (t.deadline, t.stage_limit_unit, t.stage_limit_amount) == (
        at(2026, 10, 3, 19, 30),
        "hours",
        Decimal("11.50"),
    )


def test_deadline_override_keeps_the_stage_and_moves_the_deadline(people):
    t = general(people, at(2026, 10, 12, 9))
    step(t, "dispatch", people.dispatcher, at(2026, 10, 12, 9), department=people.dept.pk)
    entry = step(t, "extend", people.shift, at(2026, 10, 12, 10), until="2026-10-20T17:30+08:00", provisional="1")
    assert (t.stage, t.stage_started_at, t.stage_limit_amount) == ("handle", at(2026, 10, 12, 9), Decimal(1))
    assert (t.deadline, t.deadline_provisional) == (at(2026, 10, 20, 17, 30), True)
    assert t.warn_at == at(2026, 10, 18, 15, 37, 30)  # 75 % from the moment of the extension
    assert (entry.deadline_before, entry.deadline_after, entry.stage, entry.time_used_minutes) == (
        at(2026, 10, 13, 9),
        at(2026, 10, 20, 17, 30),
        "",
        None,
    )
    t.refresh_from_db()
    assert (t.deadline, t.deadline_provisional) == (at(2026, 10, 20, 17, 30), True)


def test_keep_changes_no_clock(people):
    t = general(people, at(2026, 10, 12, 9))
    step(t, "dispatch", people.dispatcher, at(2026, 10, 12, 9), department=people.dept.pk)
    before = (t.stage, t.stage_started_at, t.deadline, t.warn_at, t.stage_limit_amount)
    entry = step(t, "urge", people.leader, at(2026, 10, 13, 11), note="快")
    assert (t.stage, t.stage_started_at, t.deadline, t.warn_at, t.stage_limit_amount) == before
    assert (entry.stage, entry.deadline_before, entry.deadline_after) == ("", at(2026, 10, 13, 9), at(2026, 10, 13, 9))


def test_a_final_state_turns_the_light_green(people):
    t = open_simple(people, at(2026, 10, 12, 9))
    Ticket.objects.filter(pk=t.pk).update(light="red")
    t.light = "red"
    step(t, "finish", people.handler, at(2026, 10, 14, 9))
    t.refresh_from_db()
    assert (t.state, t.light, t.deadline) == ("done", "green", None)


def test_untimed_stage_and_helpers():
    from types import SimpleNamespace

    from urbangrid.workflow.definition import Workflow

    wf = Workflow("w", {"a": "A"}, [], timers={"none": lambda o: None})
    obj = SimpleNamespace(paused_remaining_minutes=5)
    clock.start_stage(obj, wf, "none", at(2026, 10, 12, 9))
    assert (obj.stage, obj.stage_started_at, obj.stage_limit_amount, obj.stage_limit_unit) == (
        "none",
        at(2026, 10, 12, 9),
        None,
        "",
    )
    assert (obj.deadline, obj.warn_at, obj.deadline_provisional, obj.paused_remaining_minutes) == (
        None,
        None,
        False,
        None,
    )
    assert clock.end_stage(obj, at(2026, 10, 12, 10)) == {"stage": "none", "time_used_minutes": 60, "overdue": False}
    assert clock.end_stage(SimpleNamespace(stage="", stage_started_at=None), at(2026, 10, 12)) == {}
    assert clock.end_stage(SimpleNamespace(stage="x", stage_started_at=None), at(2026, 10, 12)) == {}
    assert clock.light_of(None, None, at(2026, 1, 5)) == "green"
    d, w = at(2026, 10, 12, 17), at(2026, 10, 12, 15)
    assert [clock.light_of(d, w, n) for n in (at(2026, 10, 12, 14, 59), w, d, at(2026, 10, 12, 17, 0, 1))] == [
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    assert clock.light_of(d, None, d) == "green"
    assert clock.warn_at(at(2026, 10, 12, 9), at(2026, 10, 12, 13)) == at(2026, 10, 12, 12)
    assert clock.warn_at(at(2026, 10, 12, 9), at(2026, 10, 12, 9)) == at(2026, 10, 12, 9)
    assert clock.warn_at(at(2026, 10, 12, 9), at(2026, 10, 12, 8)) == at(2026, 10, 12, 8)
    assert clock.warn_at(at(2026, 10, 12, 9), None) is None
    assert clock.remaining(at(2026, 10, 12, 9), at(2026, 10, 9, 17), "working_hours") == 30 + 420 + 30
    assert clock.remaining(at(2026, 10, 9, 17), at(2026, 10, 12, 9), "working_hours") == -(30 + 420 + 30)
    assert clock.remaining(at(2026, 10, 9, 17), at(2026, 10, 9, 17), "days") == 0
    assert clock.remaining(at(2026, 10, 12, 9), at(2026, 10, 9, 17), "days") == 60 * 64
    assert clock.minutes_between(at(2026, 10, 1), at(2026, 10, 1, 0, 1, 59), "hours") == 1
    assert clock.minutes_between(at(2026, 10, 1), at(2026, 10, 8, 9), "working_days") == 30
    assert [clock.rest_unit(u) for u in ("hours", "days", "working_hours", "working_days", "")] == [
        "hours",
        "hours",
        "working_hours",
        "working_hours",
        "working_hours",
    ]
    assert clock.add_time(at(2026, 9, 30, 17), Decimal("0.5"), "working_hours") == (at(2026, 9, 30, 17, 30), False)
    assert clock.add_time(at(2026, 9, 30, 17), Decimal("0.75"), "working_hours") == (at(2026, 10, 8, 8, 45), False)
    assert clock.add_time(at(2027, 1, 4, 9), 1, "working_hours") == (at(2027, 1, 4, 10), True)  # 2027 unknown yet
