"""Clocks on the working calendar (计时): the stage clock on the object row and any number of
named clocks (`Timer` rows: statutory limits) per object.

Units: working hours and working days on the official calendar, natural hours (`hours`) and
continuous calendar days (`days`, 紧急工作日). A clock turns yellow at WARN_FRACTION of its
time to the deadline and red after the deadline. Pausing remembers what is left (in working
minutes for working units, natural minutes otherwise); resuming restarts with that rest.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .definition import Clock, ClockOp, Context, Workflow

WARN_FRACTION = 0.75


def _calendar():
    from urbangrid.core.calendar import get_calendar

    return get_calendar()


def is_natural(unit: str) -> bool:
    return unit in ("hours", "days")


def minutes_between(start: datetime, end: datetime, unit: str) -> int:
    """Minutes from start to end as the unit counts them: natural or working minutes."""
    if is_natural(unit):
        return int((end - start).total_seconds() // 60)
    return _calendar().working_minutes_between(start, end)


def add_time(start: datetime, amount: Decimal | float, unit: str) -> tuple[datetime, bool]:
    """(deadline, provisional) `amount` `unit` after `start`."""
    deadline = _calendar().add(start, amount, unit)
    return deadline.at, deadline.provisional


def rest_unit(unit: str) -> str:
    """The unit in which a paused remainder is counted again."""
    return "hours" if is_natural(unit) else "working_hours"


def warn_at(start: datetime, at: datetime | None) -> datetime | None:
    return start + (at - start) * WARN_FRACTION if at and at > start else at


def light_of(deadline: datetime | None, warn: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "green"
    if now > deadline:
        return "red"
    if warn is not None and now >= warn:
        return "yellow"
    return "green"


def count_from(value: Any, now: datetime) -> datetime:
    """Where a clock started by an event counts from: a date counts from the start of the next
    day (the day of the event is not counted, as statutory periods are), a time from itself."""
    if value is None:
        return now
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        tz = timezone.get_current_timezone()
        return datetime.combine(value + timedelta(days=1), time.min, tzinfo=tz)
    raise TypeError(f"a clock cannot count from {value!r}")


# --- the stage clock on the object row ------------------------------------------------------


def set_deadline(obj: Any, start: datetime, at: datetime | None, provisional: bool) -> None:
    obj.deadline = at
    obj.deadline_provisional = provisional if at else False
    obj.warn_at = warn_at(start, at)


def end_stage(obj: Any, now: datetime) -> dict[str, Any]:
    """Close the running stage and return what the history entry records about it."""
    if not obj.stage or obj.stage_started_at is None:
        return {}
    unit = obj.stage_limit_unit or "working_hours"
    info: dict[str, Any] = {
        "stage": obj.stage,
        "time_used_minutes": minutes_between(obj.stage_started_at, now, unit),
        "overdue": bool(obj.deadline and now > obj.deadline),
    }
    if obj.stage_limit_amount is not None:
        info["stage_limit"] = f"{obj.stage_limit_amount.normalize():f} {unit}"
    return info


def start_stage(obj: Any, wf: Workflow, name: str, now: datetime) -> None:
    spec = wf.timers[name](obj)
    obj.stage = name
    obj.stage_started_at = now
    obj.paused_remaining_minutes = None
    if spec is None:
        obj.stage_limit_amount = None
        obj.stage_limit_unit = ""
        set_deadline(obj, now, None, False)
        return
    amount, unit = spec
    obj.stage_limit_amount = Decimal(str(amount))
    obj.stage_limit_unit = unit
    set_deadline(obj, now, *add_time(now, obj.stage_limit_amount, unit))


def clear_stage(obj: Any, now: datetime) -> None:
    obj.stage = ""
    obj.stage_started_at = None
    obj.stage_limit_amount = None
    obj.stage_limit_unit = ""
    set_deadline(obj, now, None, False)
    obj.paused_remaining_minutes = None


def remaining(deadline: datetime, now: datetime, unit: str) -> int:
    """Minutes left until the deadline (negative when already past it)."""
    if deadline >= now:
        return minutes_between(now, deadline, unit)
    return -minutes_between(deadline, now, unit)


def apply_stage_clock(ctx: Context, op: Clock) -> dict[str, Any]:
    """Apply the transition's stage-clock operation to ctx.obj; return the history's stage info."""
    obj, now = ctx.obj, ctx.now
    info: dict[str, Any] = {}
    if op is Clock.PAUSE:
        info = end_stage(obj, now)
        if obj.deadline is not None:
            obj.paused_remaining_minutes = remaining(obj.deadline, now, obj.stage_limit_unit or "working_hours")
        set_deadline(obj, now, None, False)
        obj.stage_started_at = None
    elif op is Clock.RESUME:
        # The resumed stage is timed by what was left: the stage limit becomes the rest, so
        # that the deadline can always be recomputed from (stage_started_at, limit).
        obj.stage_started_at = now
        left = obj.paused_remaining_minutes
        if left is not None:
            unit = rest_unit(obj.stage_limit_unit)
            rest = Decimal(max(left, 0)) / 60
            obj.stage_limit_amount, obj.stage_limit_unit = rest.quantize(Decimal("0.01")), unit
            set_deadline(obj, now, *add_time(now, rest, unit))
            if left < 0:  # already overdue when paused: it stays overdue
                set_deadline(obj, now, now, False)
        obj.paused_remaining_minutes = None
    elif op is Clock.START:
        info = end_stage(obj, now)
        start_stage(obj, ctx.workflow, ctx.transition.timer or "", now)
    elif op is Clock.CLEAR:
        info = end_stage(obj, now)
        clear_stage(obj, now)
    if ctx.limit_override is not None and obj.stage_started_at is not None:
        obj.stage_limit_amount, obj.stage_limit_unit = ctx.limit_override
        set_deadline(obj, obj.stage_started_at, *add_time(obj.stage_started_at, *ctx.limit_override))
    if ctx.deadline_override is not None:
        set_deadline(obj, now, *ctx.deadline_override)
    return info


def recomputed_deadline(obj: Any, extensions: list[tuple[Decimal, str]]) -> tuple[datetime, bool]:
    """The deadline of the running stage from its start, its limit and the extensions approved
    since it started (what a calendar change must recompute)."""
    at, provisional = add_time(obj.stage_started_at, obj.stage_limit_amount, obj.stage_limit_unit)
    for amount, unit in extensions:
        at, p2 = add_time(at, amount, unit)
        provisional = provisional or p2
    return at, provisional


# --- named clocks (Timer rows) --------------------------------------------------------------


def apply_named_clocks(ctx: Context, ops: tuple[ClockOp, ...]) -> list[dict[str, Any]]:
    """Start, pause, resume or stop named clocks of ctx.obj (rows written now: call inside the
    transition's transaction). Returns what the history entry records."""
    from django.contrib.contenttypes.models import ContentType

    from .errors import Invalid
    from .models import Timer

    obj, now = ctx.obj, ctx.now
    ct = ContentType.objects.get_for_model(type(obj))
    done: list[dict[str, Any]] = []
    for op in ops:
        timer = Timer.objects.select_for_update().filter(content_type=ct, object_id=obj.pk, name=op.name).first()
        if op.op == "start":
            amount, unit = op.limit(ctx) if callable(op.limit) else op.limit  # type: ignore[misc]
            amount = Decimal(str(amount))
            start = count_from(ctx.data.get(op.from_input) if op.from_input else None, now)
            at, provisional = add_time(start, amount, unit)
            timer = timer or Timer(content_type=ct, object_id=obj.pk, name=op.name)
            timer.amount, timer.unit, timer.started_at = amount, unit, start
            timer.deadline, timer.deadline_provisional, timer.warn_at = at, provisional, warn_at(start, at)
            timer.paused_at = timer.remaining_minutes = timer.stopped_at = None
            timer.light = light_of(at, timer.warn_at, now)
            timer.save()
            done.append({"clock": op.name, "op": "start", "from": start.isoformat(), "deadline": at.isoformat()})
            continue
        if timer is None or timer.stopped_at is not None:
            if op.op == "stop":  # stopping a clock that never ran (or already stopped) is no change
                continue
            raise Invalid(_("The clock “%(c)s” is not running.") % {"c": op.name})
        if op.op == "pause":
            if timer.paused_at is not None:
                raise Invalid(_("The clock “%(c)s” is already paused.") % {"c": op.name})
            timer.remaining_minutes = remaining(timer.deadline, now, timer.unit)
            timer.paused_at, timer.deadline, timer.warn_at = now, None, None
            timer.light = "green"
            done.append({"clock": op.name, "op": "pause", "remaining_minutes": timer.remaining_minutes})
        elif op.op == "resume":
            if timer.paused_at is None:
                raise Invalid(_("The clock “%(c)s” is not paused.") % {"c": op.name})
            left = timer.remaining_minutes or 0
            at, provisional = add_time(now, Decimal(max(left, 0)) / 60, rest_unit(timer.unit))
            if left < 0:
                at, provisional = now, False
            timer.deadline, timer.deadline_provisional, timer.warn_at = at, provisional, warn_at(now, at)
            timer.paused_at = timer.remaining_minutes = None
            timer.light = light_of(at, timer.warn_at, now)
            done.append({"clock": op.name, "op": "resume", "deadline": at.isoformat()})
        elif op.op == "stop":
            timer.stopped_at = now
            overdue = timer.deadline is not None and now > timer.deadline
            done.append({"clock": op.name, "op": "stop", "overdue": overdue})
        else:
            raise ValueError(f"unknown clock operation {op.op!r}")
        timer.save()
    return done
