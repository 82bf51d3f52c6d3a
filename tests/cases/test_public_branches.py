"""The public's side of the loop: return visits, citizen ratings and disputed fixes (re-check)."""

from __future__ import annotations

import pytest

from urbangrid.cases import actions
from urbangrid.cases.models import Case, CitizenRating, Dispute, Notification, ReturnVisit, State
from urbangrid.core.roles import RoleCode
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.errors import Invalid, NotAllowed, WrongState


@pytest.fixture
def citizen(world):
    from tests.factories import user

    return user(RoleCode.CITIZEN, username="portal-test")


def closed_case(world, reporter, *, phone="13812345678"):
    lon, lat = world.point(0)
    case = actions.create_case(
        reporter,
        source="citizen",
        category=world.garbage,
        description="路边有垃圾堆",
        lon=lon,
        lat=lat,
        reporter={"name": "张伟", "phone": phone},
    )
    world.close_public(case)
    assert case.state == State.CLOSED
    return case


def op(case, name, who, **data):
    entry = actions.perform(case, name, who, version=case.version, data=data)
    case.refresh_from_db()
    return entry


def test_return_visit_satisfied_is_recorded_in_the_history(world, citizen):
    case = closed_case(world, citizen)
    assert list(actions.return_visit_queue(world.operator)) == [case]
    visit, dispute = actions.record_return_visit(
        case, world.operator, version=case.version, outcome="satisfied", note="市民表示满意"
    )
    assert dispute is None and visit.action == "return_visit" and visit.payload["outcome"] == "satisfied"
    assert case.state == State.CLOSED and case.closed_at is not None
    row = ReturnVisit.objects.get()
    assert (row.outcome, row.note, row.visited_by, row.history_seq) == (
        "satisfied",
        "市民表示满意",
        world.operator,
        visit.seq,
    )
    assert list(actions.return_visit_queue(world.operator)) == []


def test_dissatisfied_return_visit_reopens_for_a_recheck(world, citizen):
    case = closed_case(world, citizen)
    _visit, dispute = actions.record_return_visit(
        case, world.operator, version=case.version, outcome="dissatisfied", note="垃圾又堆起来了"
    )
    assert dispute is not None and dispute.action == "dispute"
    assert case.state == State.RECHECKING and case.closed_at is None and case.stage == "check"
    d = Dispute.objects.get()
    assert (d.channel, d.department, d.outcome, d.reason) == ("return_visit", world.sanitation, "", "垃圾又堆起来了")
    task = Notification.objects.get(kind="recheck")
    assert task.user == world.collector and case.number in task.message
    assert case in Case.objects.filter(state=State.RECHECKING, work_grid__collectors=world.collector)


def test_dissatisfied_keeps_the_case_closed_when_configured(world, citizen, settings):
    settings.URBANGRID = {**settings.URBANGRID, "REOPEN_ON_DISSATISFIED": False}
    case = closed_case(world, citizen)
    _visit, dispute = actions.record_return_visit(case, world.operator, version=case.version, outcome="dissatisfied")
    assert dispute is None and case.state == State.CLOSED
    # "not fixed" always starts a re-check
    case = closed_case(world, citizen)
    _visit, dispute = actions.record_return_visit(
        case, world.operator, version=case.version, outcome="basically_satisfied", not_fixed=True
    )
    assert dispute is not None and case.state == State.RECHECKING


def test_recheck_confirmed_is_rework_counted_against_the_same_department(world, citizen):
    case = closed_case(world, citizen)
    actions.record_return_visit(case, world.operator, version=case.version, outcome="dissatisfied", note="没修好")
    with pytest.raises(NotAllowed):
        op(case, "recheck_confirm", world.collector2, reason="仍有垃圾", photos=[world.photo(world.collector2)])
    op(case, "recheck_confirm", world.collector, reason="仍有垃圾", photos=[world.photo(world.collector)])
    assert case.state == State.HANDLING and case.department == world.sanitation
    assert case.rework_count == 1 and case.stage == "rework" and case.handled_at is None
    assert Dispute.objects.get().outcome == "confirmed"
    op(case, "feedback", world.handler, result="彻底清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    op(case, "close", world.shift)
    assert case.state == State.CLOSED and case.rework_count == 1
    actions_seen = [e.action for e in history_for(case)]
    assert actions_seen[-7:] == [
        "return_visit",
        "dispute",
        "recheck_confirm",
        "feedback",
        "send_check",
        "check_pass",
        "close",
    ]


def test_recheck_rejected_closes_again(world, citizen):
    case = closed_case(world, citizen)
    actions.rate_case(case, citizen, rating="dissatisfied", comment="没修好", not_fixed=True)
    assert case.state == State.RECHECKING and Dispute.objects.get().channel == "portal"
    op(case, "recheck_reject", world.collector, photos=[world.photo(world.collector)])
    assert case.state == State.CLOSED and case.closed_at is not None and case.rework_count == 0
    assert Dispute.objects.get().outcome == "rejected"
    entry = history_for(case).last()
    assert entry.action == "recheck_reject" and entry.attachments[0]["kind"] == "check"


def test_citizen_rating_once_per_closing_by_the_reporter_only(world, citizen):
    from tests.factories import user

    case = closed_case(world, citizen)
    stranger = user(RoleCode.CITIZEN)
    with pytest.raises(NotAllowed):
        actions.rate_case(case, stranger, rating="satisfied")
    with pytest.raises(Invalid):
        actions.rate_case(case, citizen, rating="great")
    (entry,) = actions.rate_case(case, citizen, rating="basically_satisfied", comment="还行")
    assert entry.action == "rate" and entry.role == RoleCode.CITIZEN
    assert CitizenRating.objects.get().rating == "basically_satisfied"
    with pytest.raises(Invalid):
        actions.rate_case(case, citizen, rating="satisfied")


def test_dispute_refusals(world, citizen):
    open_case = actions.create_case(
        citizen,
        source="citizen",
        category=world.flyer,
        description="小广告",
        lon=world.point(1)[0],
        lat=world.point(1)[1],
    )
    with pytest.raises(WrongState):
        actions.perform(open_case, "dispute", citizen, version=open_case.version, data={"reason": "x"})
    # fixed on the spot by a collector: no department to send it back to
    lon, lat = world.point(0)
    quick = actions.create_case(
        world.collector, source="collector", category=world.flyer, description="小广告", lon=lon, lat=lat
    )
    op(quick, "self_fix", world.collector, photos=[world.photo(world.collector)])
    with pytest.raises(Invalid):
        op(quick, "dispute", world.operator, reason="没撕干净")
    # handlers may not dispute
    case = closed_case(world, citizen)
    with pytest.raises(NotAllowed):
        op(case, "dispute", world.handler, reason="x")
    with pytest.raises(Invalid):
        op(case, "dispute", world.operator, reason="")


def test_return_visit_needs_contact_data_and_an_operator(world, citizen):
    case = closed_case(world, citizen, phone="")
    assert list(actions.return_visit_queue(world.operator)) == []
    with pytest.raises(Invalid):
        actions.record_return_visit(case, world.operator, version=case.version, outcome="satisfied")
    case = closed_case(world, citizen)
    with pytest.raises(NotAllowed):
        actions.record_return_visit(case, world.handler, version=case.version, outcome="satisfied")
    with pytest.raises(Invalid):
        actions.record_return_visit(case, world.operator, version=case.version, outcome="so-so")


def test_disputes_are_limited(world, citizen):
    from urbangrid.cases.rules import MAX_DISPUTES

    case = closed_case(world, citizen)
    for _ in range(MAX_DISPUTES):
        op(case, "dispute", world.operator, reason="没修好")
        op(case, "recheck_reject", world.collector, photos=[world.photo(world.collector)])
    with pytest.raises(Invalid):
        op(case, "dispute", world.operator, reason="还是没修好")
