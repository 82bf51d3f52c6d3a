"""The case loop through the actions layer: every operation, branch and refusal."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from urbangrid.cases import actions
from urbangrid.cases.models import Case, Light, Notification, State
from urbangrid.workflow import kit
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.errors import Conflict, Invalid, NotAllowed, WrongState
from urbangrid.workflow.models import History


def report(world, *, by=None, source="collector", category=None, i=0, **kw):
    lon, lat = world.point(i)
    return actions.create_case(
        by or world.collector,
        source=source,
        category=category or world.garbage,
        description="路边有垃圾堆",
        lon=lon,
        lat=lat,
        photos=[world.photo(by or world.collector)],
        **kw,
    )


def op(case, name, who, **data):
    entry = actions.perform(case, name, who, version=case.version, data=data)
    case.refresh_from_db()
    return entry


def to_handling(world, case):
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    op(case, "dispatch", world.dispatcher, department=case.suggested_department_id)
    return case


def test_report_resolves_grid_number_and_suggestion(world):
    case = report(world, i=2)
    assert case.state == State.REPORTED
    assert case.unit_grid == world.grids[2]
    assert case.work_grid == world.wg2
    assert case.community == world.community and case.street == world.street
    assert case.number.startswith("330483" + timezone.localtime(case.created_at).strftime("%Y%m%d"))
    assert case.suggested_department == world.sanitation
    assert kit.attachments_of(case).get().kind == "before"
    first = history_for(case).get()
    assert (first.seq, first.action, first.to_state, first.actor) == (1, "report", State.REPORTED, world.collector)
    assert case.deadline is not None and case.stage == "accept"


def test_case_numbers_are_sequential_per_day(world):
    a, b = report(world), report(world)
    assert int(b.number[-5:]) == int(a.number[-5:]) + 1


def test_full_loop_history_complete_and_in_order(world):
    case = to_handling(world, report(world))
    assert case.department == world.sanitation and case.stage == "handle"
    op(case, "accept_task", world.crew_handler)  # a sub-unit of the department may act
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    op(case, "close", world.shift)
    assert case.state == State.CLOSED and case.closed_at is not None and case.deadline is None
    entries = list(history_for(case))
    assert [e.action for e in entries] == [
        "report",
        "accept",
        "register",
        "dispatch",
        "accept_task",
        "feedback",
        "send_check",
        "check_pass",
        "close",
    ]
    assert [e.seq for e in entries] == list(range(1, 10))
    assert all(a.to_state == b.from_state for a, b in itertools.pairwise(entries))
    assert entries[3].role == "dispatcher" and entries[3].payload["department"] == world.sanitation.pk
    assert entries[5].stage == "handle" and entries[5].time_used_minutes is not None
    assert entries[5].attachments and entries[5].attachments[0]["kind"] == "after"
    assert case.version == 9


def test_loop_with_rework_extension_and_suspension(world):
    case = to_handling(world, report(world))
    deadline = case.deadline
    op(case, "request_extension", world.handler, reason="需要采购设备", amount=2, unit="working_days")
    assert case.pending_request == "extension" and case.deadline == deadline
    op(case, "approve_extension", world.dispatcher)
    assert case.deadline > deadline and case.extension_count == 1 and case.pending_request == ""
    op(case, "request_suspension", world.handler, reason="等待汛期结束")
    op(case, "approve_suspension", world.leader)
    assert case.state == State.SUSPENDED and case.deadline is None and case.paused_remaining_minutes > 0
    op(case, "resume", world.dispatcher)
    assert case.state == State.HANDLING and case.deadline is not None
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_fail", world.collector, reason="仍有垃圾", photos=[world.photo(world.collector)])
    assert case.state == State.HANDLING and case.rework_count == 1 and case.department == world.sanitation
    assert case.stage == "rework"
    op(case, "feedback", world.handler, result="已彻底清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    op(case, "close", world.shift)
    actions_seen = [e.action for e in history_for(case)]
    assert actions_seen == [
        "report",
        "accept",
        "register",
        "dispatch",
        "request_extension",
        "approve_extension",
        "request_suspension",
        "approve_suspension",
        "resume",
        "feedback",
        "send_check",
        "check_fail",
        "feedback",
        "send_check",
        "check_pass",
        "close",
    ]
    ext = history_for(case).get(action="approve_extension")
    assert ext.deadline_after > ext.deadline_before


def test_public_report_needs_verification_by_the_grids_collector(world):
    case = report(world, by=world.operator, source="hotline", reporter={"name": "张三", "phone": "13800000000"})
    with pytest.raises(Invalid, match="verified"):
        op(case, "accept", world.operator)
    op(case, "send_verify", world.operator)
    assert case.state == State.VERIFYING
    with pytest.raises(NotAllowed, match="grids"):
        op(case, "verify", world.collector2, exists=True, photos=[world.photo(world.collector2)])
    with pytest.raises(Invalid) as err:
        op(case, "verify", world.collector, exists=True)
    assert "photos" in err.value.fields
    op(case, "verify", world.collector, exists=True, photos=[world.photo(world.collector)])
    assert case.state == State.REPORTED and case.verified is True
    op(case, "accept", world.operator)
    assert case.state == State.ACCEPTED


def test_verification_not_found_then_rejected(world):
    case = report(world, by=world.operator, source="hotline")
    op(case, "send_verify", world.operator)
    op(case, "verify", world.collector, exists=False, photos=[world.photo(world.collector)])
    assert case.verified is False
    with pytest.raises(Invalid):
        op(case, "reject", world.operator)
    op(case, "reject", world.operator, reason="现场核实不存在")
    assert case.state == State.NOT_ACCEPTED and case.deadline is None  # 不予受理, not 不予立案


def test_self_fix_only_for_whitelisted_categories_inside_own_grids(world):
    flyer = report(world, category=world.flyer)
    op(flyer, "self_fix", world.collector, photos=[world.photo(world.collector)])
    assert flyer.state == State.SELF_HANDLED and flyer.self_handled and flyer.closed_at is None
    op(flyer, "confirm_self_fix", world.operator)
    assert flyer.state == State.CLOSED and flyer.closed_at is not None and flyer.registered_at is None
    garbage = report(world)
    with pytest.raises(Invalid, match="cannot be fixed on the spot"):
        op(garbage, "self_fix", world.collector, photos=[world.photo(world.collector)])
    other = report(world, category=world.flyer, i=3, by=world.collector2)
    with pytest.raises(NotAllowed):
        op(other, "self_fix", world.collector, photos=[world.photo(world.collector)])


def test_not_register_and_send_back_need_reasons(world):
    case = report(world)
    op(case, "accept", world.operator)
    with pytest.raises(Invalid):
        op(case, "not_register", world.shift)
    op(case, "send_back", world.shift, reason="类别不对")
    assert case.state == State.REPORTED
    op(case, "accept", world.operator)
    op(case, "not_register", world.shift, reason="不符合立案条件")
    assert case.state == State.REJECTED  # 不予立案


def test_register_sets_urgency_and_the_combined_register_dispatch_limit(world):
    case = report(world, category=world.cover)
    op(case, "accept", world.operator)
    accepted_at = case.stage_started_at
    with pytest.raises(Invalid):
        op(case, "register", world.shift, urgency="sometime")
    op(case, "register", world.shift, urgency="urgent")
    # one limit for 立案 + 派遣, running from acceptance (not a second limit added after registering)
    assert case.urgency == "urgent" and case.stage == "register" and case.stage_started_at == accepted_at
    assert str(case.stage_limit_amount) == "0.17" and case.stage_limit_unit == "working_hours"
    op(case, "dispatch", world.dispatcher, department=world.municipal.pk)
    assert case.stage_limit_unit == "hours"
    assert case.deadline - case.stage_started_at == timedelta(hours=2)


def test_operation_in_wrong_state(world):
    case = report(world)
    with pytest.raises(WrongState, match="not possible"):
        op(case, "close", world.shift)
    with pytest.raises(Invalid, match="Unknown operation"):
        op(case, "teleport", world.shift)


def test_stale_version_conflicts_and_never_overwrites(world):
    case = report(world)
    stale = case.version
    op(case, "accept", world.operator)
    with pytest.raises(Conflict, match="changed by someone else"):
        actions.perform(case, "reject", world.operator, version=stale, data={"reason": "x"})
    case.refresh_from_db()
    assert case.state == State.ACCEPTED


def test_stale_copy_with_the_callers_version_conflicts_and_never_overwrites(world):
    """Two people load the case at version 1 and act: the second, deciding on its own copy of the
    row, is refused with a conflict instead of writing over the first."""
    case = report(world)
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    actions.perform(first, "accept", world.operator, version=1)
    with pytest.raises(Conflict, match=r"version 2, you had 1"):
        actions.perform(second, "reject", world.operator, version=1, data={"reason": "重复"})
    assert (second.state, second.version) == (State.REPORTED, 1)  # the caller's copy is left as it was
    case.refresh_from_db()
    assert (case.state, case.version) == (State.ACCEPTED, 2)
    assert list(history_for(case).values_list("action", flat=True)) == ["report", "accept"]


def test_refused_operation_leaves_the_callers_copy_unchanged(world):
    case = to_handling(world, report(world))
    world.municipal.is_active = False
    world.municipal.save()
    before = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}
    for department in ("abc", 10**30, -1, 10**9, world.municipal.pk):
        with pytest.raises(Invalid, match="Unknown department"):
            actions.perform(
                case, "reassign", world.dispatcher, version=case.version, data={"department": department, "reason": "x"}
            )
        assert {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields} == before


def test_department_deactivated_elsewhere_is_refused_despite_the_cache(world):
    """Another process deactivates a department (no signal reaches this one): the cached
    department passes the check, but the database refuses the write and the operation is
    decided again on fresh data."""
    from urbangrid.core.models import Department

    first = to_handling(world, report(world))
    op(first, "reassign", world.dispatcher, department=world.municipal.pk, reason="改由市政处置")  # cache warm
    case = to_handling(world, report(world, i=1))
    Department.objects.filter(pk=world.municipal.pk).update(is_active=False)
    before = (case.state, case.version, case.department_id, History.objects.count())
    with pytest.raises(Invalid, match="Unknown department"):
        op(case, "reassign", world.dispatcher, department=world.municipal.pk, reason="改由市政处置")
    case.refresh_from_db()
    assert (case.state, case.version, case.department_id, History.objects.count()) == before


def test_an_effect_that_fails_leaves_nothing_behind(world, monkeypatch):
    """Effects run in the step's transaction: what they wrote is undone when the step fails."""
    import dataclasses

    def writes_then_fails(ctx):
        Notification.objects.create(user=ctx.actor, subject=ctx.obj, kind="x", message="x")
        raise Invalid("refused after writing")

    wf = world_case_workflow()
    monkeypatch.setitem(wf.by_name, "accept", dataclasses.replace(wf.get("accept"), effects=(writes_then_fails,)))
    case = report(world)
    with pytest.raises(Invalid, match="refused after writing"):
        op(case, "accept", world.operator)
    case.refresh_from_db()
    assert (case.state, case.version, Notification.objects.filter(kind="x").count()) == (State.REPORTED, 1, 0)


def world_case_workflow():
    from urbangrid.cases.loop import URBAN_LOOP

    return URBAN_LOOP


def test_other_department_cannot_handle(world):
    case = to_handling(world, report(world))
    with pytest.raises(NotAllowed, match="not assigned to your department"):
        op(case, "feedback", world.other_handler, result="done", photos=[world.photo(world.other_handler)])
    with pytest.raises(Invalid) as err:
        op(case, "feedback", world.handler, result="done")
    assert set(err.value.fields) == {"photos"}


def test_photos_must_be_uploaded_by_the_actor_and_used_once(world):
    case = to_handling(world, report(world))
    foreign = world.photo(world.collector)
    with pytest.raises(Invalid, match="Unknown or already used photo"):
        op(case, "feedback", world.handler, result="done", photos=[foreign])
    with pytest.raises(Invalid, match="not a JPEG"):
        actions.upload_attachment(world.handler, b"%PDF-1.4 not an image", "x.pdf")


def test_return_approved_then_redispatched(world):
    case = to_handling(world, report(world))
    op(case, "request_return", world.handler, reason="不属于我单位职责")
    assert case.state == State.RETURN_REQUESTED and case.deadline is None
    op(case, "approve_return", world.dispatcher)
    assert case.state == State.REGISTERED and case.department is None and case.return_count == 1
    op(case, "dispatch", world.dispatcher, department=world.office.pk)
    assert case.department == world.office
    with pytest.raises(Invalid, match="Unknown department"):
        op(case, "reassign", world.dispatcher, department="999999", reason="x")


def test_return_refused_resumes_clock(world):
    case = to_handling(world, report(world))
    op(case, "request_return", world.handler, reason="不属于我单位职责")
    op(case, "reject_return", world.dispatcher, reason="属于你单位")
    assert case.state == State.HANDLING and case.deadline is not None and case.department == world.sanitation


def test_extension_must_come_before_the_deadline(world):
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    past = timezone.now() - timedelta(days=10)
    Case.objects.filter(pk=case.pk).update(state=State.REGISTERED)
    actions.perform(
        case, "dispatch", world.dispatcher, version=case.version, data={"department": world.sanitation.pk}, now=past
    )
    case.refresh_from_db()
    with pytest.raises(Invalid, match="before the deadline"):
        op(case, "request_extension", world.handler, reason="x", amount=1)
    with pytest.raises(Invalid, match="no pending"):
        op(case, "approve_extension", world.dispatcher)


def test_extension_refused(world):
    case = to_handling(world, report(world))
    with pytest.raises(Invalid, match="positive"):
        op(case, "request_extension", world.handler, reason="x", amount=-1)
    op(case, "request_extension", world.handler, reason="x", amount=1, unit="working_days")
    with pytest.raises(Invalid, match="already a pending request"):
        op(case, "request_suspension", world.handler, reason="y")
    deadline = case.deadline
    op(case, "reject_extension", world.dispatcher, reason="普通案件不予延期")
    assert case.deadline == deadline and case.pending_request == ""


def test_urge_and_supervise_notify_the_department(world):
    case = to_handling(world, report(world))
    op(case, "urge", world.leader, reason="尽快处理")
    op(case, "urge", world.dispatcher, reason="再次催办")
    op(case, "supervise", world.leader, reason="领导督办", within="2", unit="working_days")
    assert case.urged_count == 2 and case.supervised and case.state == State.HANDLING
    with pytest.raises(NotAllowed):
        op(case, "supervise", world.dispatcher, reason="x", within="1")
    notes = Notification.objects.filter(user=world.handler, object_id=case.pk)
    assert notes.filter(kind="urged").count() == 2 and notes.filter(kind="supervised").count() == 1


def test_void_needs_request_and_shift_leader_approval(world):
    case = to_handling(world, report(world))
    with pytest.raises(Invalid, match="no pending"):
        op(case, "approve_void", world.shift)
    op(case, "request_void", world.dispatcher, reason="重复立案")
    op(case, "approve_void", world.shift)
    assert case.state == State.VOIDED


def test_merge_duplicate_into_original(world):
    original, duplicate = report(world), report(world)
    op(duplicate, "merge", world.operator, target=original.number)
    assert duplicate.state == State.MERGED and duplicate.merged_into == original
    with pytest.raises(Invalid):
        op(original, "merge", world.operator, target=original.pk)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": "event:9999"}, "category"),
        ({"lon": 121.9, "lat": 31.9}, "lon"),
        ({"lon": 500, "lat": 30.6}, "lon"),
        ({"crs": "MARS"}, "crs"),
        ({"description": " "}, "description"),
        ({"source": "pigeon"}, "source"),
    ],
)
def test_bad_reports_are_refused_and_create_nothing(world, kwargs, field):
    lon, lat = world.point()
    args = {"source": "collector", "category": world.garbage, "description": "垃圾", "lon": lon, "lat": lat, **kwargs}
    with pytest.raises(Invalid) as err:
        actions.create_case(world.collector, **args)
    assert field in err.value.fields
    assert Case.objects.count() == 0 and History.objects.count() == 0


def test_outside_jurisdiction_is_422(world):
    with pytest.raises(actions.OutsideJurisdiction) as err:
        actions.create_case(
            world.collector, source="collector", category=world.garbage, description="x", lon=121.9, lat=31.9
        )
    assert err.value.status == 422


def test_gcj02_position_is_stored_as_wgs84(world):
    from urbangrid.geo.crs import from_wgs84

    lon, lat = world.point(1)
    glon, glat = from_wgs84(lon, lat, "GCJ02")
    case = actions.create_case(
        world.collector, source="collector", category=world.garbage, description="x", lon=glon, lat=glat, crs="GCJ02"
    )
    assert abs(case.lon - lon) < 1e-6 and abs(case.lat - lat) < 1e-6 and case.unit_grid == world.grids[1]


def test_history_is_append_only(world):
    entry = history_for(report(world)).get()
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_available_operations_follow_role_and_state(world):
    case = to_handling(world, report(world))
    names = lambda who: {t.name for t in actions.available_operations(case, who)}  # noqa: E731
    assert {"feedback", "request_extension", "request_return", "accept_task"} <= names(world.handler)
    assert names(world.other_handler) == set()
    assert "dispatch" not in names(world.dispatcher) and "reassign" in names(world.dispatcher)
    assert names(world.collector) == set()


def test_sweep_sets_lights_and_notifies(world):
    case = to_handling(world, report(world))
    later = case.deadline + timedelta(minutes=1)
    result = actions.sweep_deadlines(now=later)
    case.refresh_from_db()
    assert case.light == Light.RED and result["red"] == 1
    assert Notification.objects.filter(user=world.handler, kind="overdue").exists()
    assert Notification.objects.filter(user=world.leader, kind="escalated").exists()
    assert actions.sweep_deadlines(now=later)["red"] == 0  # no repeated notifications
    soon = case.warn_at + timedelta(seconds=1)
    actions.sweep_deadlines(now=soon)
    case.refresh_from_db()
    assert case.light == Light.YELLOW


def test_sweep_task_is_enqueued_once(world, settings):
    from django_tasks_db.models import DBTaskResult

    from urbangrid.cases.tasks import enqueue_sweep_unless_pending

    assert enqueue_sweep_unless_pending() is True
    assert enqueue_sweep_unless_pending() is False
    assert DBTaskResult.objects.count() == 1


def test_calendar_change_recomputes_provisional_deadlines(world):
    import datetime as dt

    from urbangrid.core.models_calendar import CalendarDay, CalendarYear

    start = dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)  # Thursday 31 Dec, 24:00 local
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    actions.perform(
        case, "dispatch", world.dispatcher, version=case.version, data={"department": world.sanitation.pk}, now=start
    )
    case.refresh_from_db()
    assert case.deadline_provisional is True  # 1 working day into unpublished 2027
    before = case.deadline
    assert before == dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC)  # New Year's Day skipped: Mon 17:30
    # The State Council publishes 2027: 1 January off and (in this example) Monday 4 January too.
    CalendarYear.objects.create(year=2027, official_schedule_entered=True)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, kind="official_holiday", note="元旦")
    CalendarDay.objects.create(date=dt.date(2027, 1, 4), is_working_day=False, kind="official_holiday", note="调休")
    stale_version = case.version
    case.refresh_from_db()
    assert case.deadline_provisional is False
    assert case.deadline == dt.datetime(2027, 1, 5, 9, 30, tzinfo=dt.UTC)
    # a form opened before the change would decide on the old deadline: it must reload
    assert case.version > stale_version
    from urbangrid.core.models import AuditLog

    assert AuditLog.objects.filter(action="workflow.recompute_deadlines", data__changed=1).exists()


def test_reassign_gives_the_new_department_a_fresh_limit(world):
    case = to_handling(world, report(world))
    with pytest.raises(Invalid):
        op(case, "reassign", world.dispatcher, department=world.municipal.pk)  # reason required
    op(case, "reassign", world.dispatcher, department=world.municipal.pk, reason="改由市政处置")
    assert case.department == world.municipal and case.stage == "handle"
    entry = history_for(case).get(action="reassign")
    assert entry.payload["previous_department"] == world.sanitation.pk
    with pytest.raises(NotAllowed):
        op(case, "feedback", world.handler, result="x", photos=[world.photo(world.handler)])


def test_suspension_refused_keeps_handling(world):
    case = to_handling(world, report(world))
    op(case, "request_suspension", world.handler, reason="资金未到位")
    with pytest.raises(Invalid):
        op(case, "reject_suspension", world.leader)
    op(case, "reject_suspension", world.leader, reason="不符合挂账条件")
    assert case.state == State.HANDLING and case.pending_request == "" and case.deadline is not None


def test_shift_leader_sends_back_for_rework_before_closing(world):
    case = to_handling(world, report(world))
    op(case, "feedback", world.handler, result="已清理", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    op(case, "reopen", world.shift, reason="照片不清晰，重新处置")
    assert case.state == State.HANDLING and case.rework_count == 1 and case.stage == "rework"


def test_void_refused(world):
    case = to_handling(world, report(world))
    op(case, "request_void", world.operator, reason="疑似重复")
    with pytest.raises(NotAllowed):
        op(case, "reject_void", world.dispatcher, reason="x")
    op(case, "reject_void", world.shift, reason="不是重复件")
    assert case.state == State.HANDLING and case.pending_request == ""


def test_urgent_cases_get_the_categorys_urgent_handling_limit(world):
    from decimal import Decimal

    world.garbage.urgent_handle_limit, world.garbage.urgent_handle_unit = Decimal("4"), "hours"
    world.garbage.save()
    urgent, normal = report(world), report(world)
    for case, urgency in ((urgent, "urgent"), (normal, "normal")):
        op(case, "accept", world.operator)
        op(case, "register", world.shift, urgency=urgency)
        op(case, "dispatch", world.dispatcher, department=world.sanitation.pk)
    assert (urgent.stage_limit_amount, urgent.stage_limit_unit) == (Decimal("4"), "hours")
    assert (normal.stage_limit_amount, normal.stage_limit_unit) == (Decimal("1"), "working_days")
