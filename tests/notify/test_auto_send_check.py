"""URBANGRID["AUTO_SEND_CHECK"]: after the feedback the system sends the case for on-site check."""

from __future__ import annotations

import pytest

from tests.cases.test_loop import op, report, to_handling
from urbangrid.cases.models import State
from urbangrid.workflow import engine
from urbangrid.workflow.engine import available, history_for
from urbangrid.workflow.errors import NotAllowed
from urbangrid.workflow.models import Notification


def feedback(world, case):
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    return case


@pytest.fixture
def auto(settings):
    settings.URBANGRID = {**settings.URBANGRID, "AUTO_SEND_CHECK": True}


def test_off_by_default_the_operator_sends_it(world, monkeypatch):
    monkeypatch.delenv("URBANGRID_AUTO_SEND_CHECK", raising=False)
    case = feedback(world, to_handling(world, report(world)))
    assert case.state == State.FEEDBACK
    assert "send_check" in [t.name for t in available(case, world.operator)]
    assert Notification.objects.filter(object_id=case.pk, user=world.operator, kind="assigned").count() == 2


def test_on_the_system_sends_it_and_the_collector_is_told(world, auto):
    case = feedback(world, to_handling(world, report(world)))
    assert case.state == State.CHECKING and case.stage == "check"
    last, before = list(history_for(case))[-1], list(history_for(case))[-2]
    assert (before.action, last.action, last.actor, last.role) == ("feedback", "auto_send_check", None, "system")
    assert (last.from_state, last.to_state) == (State.FEEDBACK, State.CHECKING)
    told = Notification.objects.filter(object_id=case.pk, kind="assigned").order_by("-id")
    assert told[0].user == world.collector
    assert told.filter(user=world.operator).count() == 1  # only for the report, not for the feedback
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    assert case.state == State.PENDING_CLOSE


def test_the_environment_turns_it_on(world, monkeypatch):
    monkeypatch.setenv("URBANGRID_AUTO_SEND_CHECK", "true")
    case = feedback(world, to_handling(world, report(world)))
    assert case.state == State.CHECKING


def test_without_a_collector_the_operator_still_sends_it(world, auto):
    case = to_handling(world, report(world))
    world.wg1.collectors.clear()
    feedback(world, case)
    assert case.state == State.FEEDBACK


def test_people_cannot_perform_the_system_step(world, settings):
    settings.URBANGRID = {**settings.URBANGRID, "AUTO_SEND_CHECK": False}
    case = feedback(world, to_handling(world, report(world)))
    with pytest.raises(NotAllowed):
        engine.transition(case, "auto_send_check", world.operator, version=case.version)
    assert "auto_send_check" not in [t.name for t in case.get_workflow().operations()]
