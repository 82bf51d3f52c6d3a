"""Work arrived (待办到达): the engine's after-write hook tells the new holders of every step."""

from __future__ import annotations

import pytest

from tests.cases.test_loop import op, report, to_handling
from urbangrid.cases.models import DispatchRule, State
from urbangrid.workflow import engine
from urbangrid.workflow.errors import WrongState
from urbangrid.workflow.holders import ASSIGNED, holders
from urbangrid.workflow.models import Notification


def told(case, kind=ASSIGNED):
    return sorted(Notification.objects.filter(object_id=case.pk, kind=kind).values_list("user__username", flat=True))


def test_each_step_tells_the_next_holders_and_not_the_actor(world):
    case = report(world)  # by the collector: the operator holds the report
    assert told(case) == ["op"]
    note = Notification.objects.get(object_id=case.pk, user=world.operator)
    assert case.number in note.message and "reported" in note.message and note.read_at is None
    op(case, "accept", world.operator)
    assert told(case) == ["op", "shift"]
    op(case, "register", world.shift)
    assert told(case) == ["disp", "op", "shift"]
    op(case, "dispatch", world.dispatcher, department=world.sanitation.pk)
    assert told(case) == ["disp", "hw", "op", "shift"]  # the department's handlers (not its sub-unit)
    op(case, "accept_task", world.handler)  # no new state: nobody is told
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    assert told(case).count("op") == 2
    op(case, "send_check", world.operator)
    assert "col1" in told(case) and "col2" not in told(case)  # only the collector of the case's grid
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    before = len(told(case))
    op(case, "close", world.shift)
    assert len(told(case)) == before  # a final state has no holder


def test_the_operators_own_report_is_not_announced_to_them(world):
    case = report(world, by=world.operator, source="hotline", reporter={"phone": "13800000000"})
    assert told(case) == []


def test_reassign_tells_the_new_department(world):
    case = to_handling(world, report(world))
    op(case, "reassign", world.dispatcher, department=world.municipal.pk, reason="属市政")
    assert "sz" in told(case)


def test_an_extension_request_tells_its_approver(world):
    case = to_handling(world, report(world))
    disp_before = told(case).count("disp")
    op(case, "request_extension", world.handler, reason="需协调", amount="1", unit="working_days")
    assert told(case).count("disp") == disp_before + 1
    assert told(case).count("hw") == 1  # the requester is not told about their own request


def test_an_automatic_step_tells_only_the_holders_of_where_the_case_ends(world):
    DispatchRule.objects.create(category=world.garbage, department=world.sanitation)
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)  # auto-dispatched at once
    assert case.state == State.HANDLING
    assert "disp" not in told(case) and "hw" in told(case)


def test_a_dispute_tells_the_collector_once(world):
    case = report(world)
    world.close_public(case)
    case.refresh_from_db()
    before = Notification.objects.filter(user=world.collector, object_id=case.pk).count()
    op(case, "dispute", world.operator, reason="居民称未清理")
    assert case.state == State.RECHECKING
    new = Notification.objects.filter(user=world.collector, object_id=case.pk).order_by("id")[before:]
    assert [n.kind for n in new] == ["recheck"]  # the effect's message, no second "assigned"


def test_a_refused_step_tells_nobody(world):
    case = report(world)
    count = Notification.objects.count()
    with pytest.raises(WrongState):
        engine.transition(case, "dispatch", world.dispatcher, version=case.version, data={})
    assert Notification.objects.count() == count


def test_generic_for_any_registered_workflow(db):
    from tests.workflow.conftest import People
    from tests.workflow.toy.models import Ticket

    people = People()
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"})

    def assigned():
        return sorted(Notification.objects.filter(kind=ASSIGNED).values_list("user", flat=True))

    assert assigned() == [people.dispatcher.pk] == [u.pk for u in holders(t)]
    engine.transition(t, "dispatch", people.dispatcher, version=t.version, data={"department": people.dept.pk})
    assert assigned() == sorted([people.dispatcher.pk, people.handler.pk, people.handler2.pk])
