"""Tests aimed at faults an outside review planted in a copy of the code and the suites missed:
clock arithmetic to the minute, guards that must refuse, roles refused for their role only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import act
from urbangrid.cases import actions
from urbangrid.cases.models import State
from urbangrid.workflow.errors import Invalid, NotAllowed
from urbangrid.workflow.models import History

from .test_loop import op, report

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of Mon 2026-11-23 (all working days; office hours 08:30-12:00, 14:00-17:30)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def dispatched_tuesday_9(world):
    case = report(world)
    act(case, "accept", world.operator, at(24, 8, 40))
    act(case, "register", world.shift, at(24, 8, 50))
    act(case, "dispatch", world.dispatcher, at(24, 9), department=world.sanitation.pk)
    assert case.deadline == at(25, 9)  # 1 working day: the same clock time on the next working day
    return case


def test_suspension_keeps_the_exact_remainder_and_resume_grants_it(world):
    case = dispatched_tuesday_9(world)
    act(case, "request_suspension", world.handler, at(24, 10), reason="等待材料")
    act(case, "approve_suspension", world.dispatcher, at(24, 11))
    # Tue 11:00-12:00 (60) + 14:00-17:30 (210) + Wed 08:30-09:00 (30) working minutes were left
    assert case.paused_remaining_minutes == 300 and case.deadline is None
    act(case, "resume", world.dispatcher, at(26, 15))
    # 300 working minutes from Thu 15:00: Thu 15:00-17:30 (150), Fri 08:30-11:00 (150)
    assert case.deadline == at(27, 11)
    assert (str(case.stage_limit_amount), case.stage_limit_unit) == ("5.00", "working_hours")


def test_a_refused_return_resumes_with_the_exact_remainder(world):
    case = dispatched_tuesday_9(world)
    act(case, "request_return", world.handler, at(24, 16), reason="不属于我单位")
    assert case.paused_remaining_minutes == 90 + 30  # Tue 16:00-17:30, Wed 08:30-09:00
    act(case, "reject_return", world.dispatcher, at(25, 10), reason="属于你单位")
    assert case.deadline == at(25, 12)  # 120 working minutes from Wed 10:00


def test_an_extension_counts_from_the_deadline_not_from_now(world):
    case = dispatched_tuesday_9(world)
    act(case, "request_extension", world.handler, at(24, 16), reason="需要采购", amount="1", unit="working_days")
    act(case, "approve_extension", world.dispatcher, at(24, 16, 30))
    assert case.deadline == at(26, 9)  # Wed 09:00 + 1 working day, not Tue 16:30 + 1 day


def test_feedback_is_refused_while_a_request_is_pending(world):
    case = dispatched_tuesday_9(world)
    act(case, "request_extension", world.handler, at(24, 10), reason="x", amount="1", unit="working_days")
    with pytest.raises(Invalid, match="pending request"):
        act(case, "feedback", world.handler, at(24, 11), result="已处理", photos=[world.photo(world.handler)])
    assert case.state == State.HANDLING


def test_approving_a_suspension_needs_one_pending(world):
    case = dispatched_tuesday_9(world)
    with pytest.raises(Invalid, match="no pending"):
        act(case, "approve_suspension", world.dispatcher, at(24, 10))
    act(case, "request_extension", world.handler, at(24, 10), reason="x", amount="1", unit="working_days")
    with pytest.raises(Invalid, match="no pending"):  # another kind is pending
        act(case, "approve_suspension", world.dispatcher, at(24, 11))
    assert case.state == State.HANDLING and case.pending_request == "extension"


def handled(world):
    case = dispatched_tuesday_9(world)
    act(case, "feedback", world.handler, at(24, 11), result="已处理", photos=[world.photo(world.handler)])
    act(case, "send_check", world.operator, at(24, 11, 10))
    return case


def test_only_the_grids_collector_checks_the_fix(world):
    case = handled(world)
    assert case.work_grid_id != world.collector2.work_grids.get().pk
    for name in ("check_pass", "check_fail"):
        with pytest.raises(NotAllowed, match="not in one of your grids"):
            act(case, name, world.collector2, at(24, 11, 30), reason="x", photos=[world.photo(world.collector2)])
    assert case.state == State.CHECKING


def test_recheck_reject_is_refused_to_others_and_in_other_states(world):
    case = handled(world)
    act(case, "check_pass", world.collector, at(24, 11, 30), photos=[world.photo(world.collector)])
    act(case, "close", world.shift, at(24, 11, 40))
    with pytest.raises(Invalid, match="not possible"):
        act(case, "recheck_reject", world.collector, at(24, 12), photos=[world.photo(world.collector)])
    act(case, "dispute", world.operator, at(24, 14), reason="市民称未修好")
    with pytest.raises(NotAllowed, match="not in one of your grids"):
        act(case, "recheck_reject", world.collector2, at(24, 15), photos=[world.photo(world.collector2)])
    with pytest.raises(NotAllowed, match="role"):
        act(case, "recheck_reject", world.operator, at(24, 15), photos=[world.photo(world.operator)])
    with pytest.raises(Invalid, match="photos"):
        act(case, "recheck_reject", world.collector, at(24, 15))
    assert case.state == State.RECHECKING


def test_center_staff_act_only_inside_their_scope(world):
    from tests.factories import user

    outsider = user("operator", username="grid0_operator", scope_division_codes=world.grids[0].code)
    inside, outside = report(world, i=0), report(world, i=2)
    act(inside, "accept", outsider, at(24, 9))
    assert inside.state == State.ACCEPTED
    assert "accept" not in [t.name for t in actions.available_operations(outside, outsider)]
    with pytest.raises(NotAllowed, match="outside your area"):
        act(outside, "accept", outsider, at(24, 9))


@pytest.mark.parametrize(
    ("who", "name", "steps"),
    [
        ("handler", "dispatch", ["accept", "register"]),
        ("collector", "register", ["accept"]),
        ("dispatcher", "register", ["accept"]),
        ("operator", "close", None),
        ("handler", "approve_extension", "extension"),
    ],
)
def test_a_wrong_role_is_refused_for_its_role(world, who, name, steps):
    """In the state where the operation is possible, so that the refusal is the role's."""
    if steps is None:
        case = handled(world)
        act(case, "check_pass", world.collector, at(24, 11, 30), photos=[world.photo(world.collector)])
    elif steps == "extension":
        case = dispatched_tuesday_9(world)
        act(case, "request_extension", world.handler, at(24, 10), reason="x", amount="1", unit="working_days")
    else:
        case = report(world)
        for step, role in zip(steps, ("operator", "shift"), strict=False):
            op(case, step, getattr(world, role))
    before = (case.state, case.version, History.objects.count())
    with pytest.raises(NotAllowed, match="role"):
        actions.perform(case, name, getattr(world, who), version=case.version, data={"department": world.sanitation.pk})
    case.refresh_from_db()
    assert (case.state, case.version, History.objects.count()) == before


def test_a_calendar_change_recomputes_limit_overrides_and_extensions(world):
    """The dispatcher's own limit and an approved extension survive a recomputation."""
    import datetime as dt

    from urbangrid.core.models_calendar import CalendarDay

    case = report(world)
    act(case, "accept", world.operator, at(24, 8, 40))
    act(case, "register", world.shift, at(24, 8, 50))
    act(
        case, "dispatch", world.dispatcher, at(24, 9), department=world.sanitation.pk,
        limit_amount="2", limit_unit="working_days", limit_reason="大件垃圾需调车",
    )
    assert case.deadline == at(26, 9)
    assert (str(case.stage_limit_amount), case.stage_limit_unit) == ("2.00", "working_days")
    act(case, "request_extension", world.handler, at(24, 10), reason="等车", amount="1", unit="working_days")
    act(case, "approve_extension", world.dispatcher, at(24, 11))
    assert case.deadline == at(27, 9)
    # the bureau gives Wednesday 25 off: 2 working days from Tue 09:00 end Fri 09:00, +1 → Mon 30 09:00
    CalendarDay.objects.create(date=dt.date(2026, 11, 25), is_working_day=False, kind="local_day_off", note="停电")
    case.refresh_from_db()
    assert case.deadline == at(30, 9)
