"""The loop corrected to practice (engine issue): each correction with a test that fails without it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from urbangrid.cases import actions
from urbangrid.cases.models import DispatchRule, StageLimit, State
from urbangrid.workflow import engine
from urbangrid.workflow.errors import Invalid, NotAllowed
from urbangrid.workflow.integrity import verify_chains
from urbangrid.workflow.maintenance import history_maintenance
from urbangrid.workflow.models import Attachment, History, Timer
from urbangrid.workflow.sweep import sweep

from .test_loop import op, report, to_handling

TZ = ZoneInfo("Asia/Shanghai")
# Tuesday 2026-11-24 09:00 Beijing time: an ordinary working day, inside office hours
TUESDAY_9 = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)


def test_register_corrects_the_category_and_rebinds_the_combined_limit(world):
    case = report(world, category=world.garbage)
    op(case, "accept", world.operator)
    start = case.stage_started_at
    world.cover.register_conditions = "井盖缺失\n井盖破损"
    world.cover.save()
    with pytest.raises(Invalid) as err:
        op(case, "register", world.shift, category=f"{world.cover.kind}:{world.cover.code}")
    assert "condition" in err.value.fields
    entry = op(case, "register", world.shift, category=world.cover.pk, condition="井盖缺失", urgency="urgent")
    assert case.category_id == world.cover.pk and case.urgency == "urgent"
    assert entry.payload["previous_category"] == world.garbage.code and entry.payload["condition"] == "井盖缺失"
    # the cover's 立案派遣 limit (0.17 working hours) counted from acceptance, not from registration
    assert case.stage_started_at == start and str(case.stage_limit_amount) == "0.17"
    assert case.deadline == engine.add_time(start, Decimal("0.17"), "working_hours")[0]


def test_register_names_the_responsible_department(world):
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift, department=world.municipal.pk)
    assert case.suggested_department_id == world.municipal.pk


def test_dispatcher_sends_a_case_back_to_the_shift_leader(world):
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    with pytest.raises(Invalid):
        op(case, "return_to_shift", world.dispatcher)  # a reason is required
    with pytest.raises(NotAllowed):
        op(case, "return_to_shift", world.operator, reason="x")
    op(case, "return_to_shift", world.dispatcher, reason="类别有误，请重新立案")
    assert case.state == State.ACCEPTED and case.registered_at is None
    op(case, "register", world.shift)
    assert case.state == State.REGISTERED


def test_refused_self_fix_becomes_a_normal_case(world):
    flyer = report(world, category=world.flyer)
    op(flyer, "self_fix", world.collector, photos=[world.photo(world.collector)])
    with pytest.raises(NotAllowed):
        op(flyer, "confirm_self_fix", world.collector)
    op(flyer, "refuse_self_fix", world.operator, reason="照片看不出已处理")
    assert flyer.state == State.REPORTED and not flyer.self_handled and flyer.handled_at is None


def test_rural_areas_get_their_own_check_limit(world):
    StageLimit.objects.create(stage="check", area="urban", amount=Decimal("1"), unit="hours")
    StageLimit.objects.create(stage="check", area="rural", amount=Decimal("2"), unit="hours")
    urban, rural = to_handling(world, report(world)), to_handling(world, report(world, i=1))
    for case in (urban, rural):
        op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
        if case is rural:
            world.community.area_class = "rural"
            world.community.save()
        op(case, "send_check", world.operator)
    assert (urban.stage_limit_amount, urban.stage_limit_unit) == (Decimal("1"), "hours")
    assert (rural.stage_limit_amount, rural.stage_limit_unit) == (Decimal("2"), "hours")
    assert rural.deadline - rural.stage_started_at == timedelta(hours=2)


def test_calendar_days_limit(world):
    """紧急工作日: continuous calendar days, weekends included."""
    StageLimit.objects.create(stage="check", amount=Decimal("2"), unit="days")
    case = to_handling(world, report(world))
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    assert case.deadline - case.stage_started_at == timedelta(days=2)


def test_long_extensions_need_a_leader(world, settings):
    settings.URBANGRID = {**settings.URBANGRID, "EXTENSION_LEADER_ABOVE_HOURS": 24}
    case = to_handling(world, report(world))
    op(case, "request_extension", world.handler, reason="需要采购", amount="5", unit="working_days")
    assert case.pending_request == "extension" and case.pending_approver == "leader"
    with pytest.raises(NotAllowed, match="higher approver"):
        op(case, "approve_extension", world.dispatcher)
    deadline = case.deadline
    op(case, "approve_extension", world.leader)
    assert case.deadline == engine.add_time(deadline, Decimal("5"), "working_days")[0]
    assert case.pending_request == "" and case.pending_approver == ""
    op(case, "request_extension", world.handler, reason="再等一天", amount="1", unit="working_days")
    assert case.pending_approver == "dispatcher"
    op(case, "approve_extension", world.dispatcher)
    assert case.extension_count == 2


def test_supervision_has_its_own_deadline_and_light(world):
    case = to_handling(world, report(world))
    op(case, "supervise", world.leader, reason="领导督办", within="3", unit="hours")
    timer = Timer.objects.get(object_id=case.pk, name="supervision")
    assert timer.deadline - timer.started_at == timedelta(hours=3) and timer.light == "green"
    sweep(now=timer.started_at + timedelta(hours=2, minutes=30))
    timer.refresh_from_db()
    assert timer.light == "yellow"
    sweep(now=timer.started_at + timedelta(hours=3, minutes=1))
    timer.refresh_from_db()
    assert timer.light == "red"
    op(case, "feedback", world.handler, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_pass", world.collector, photos=[world.photo(world.collector)])
    op(case, "close", world.shift)
    timer.refresh_from_db()
    assert timer.stopped_at is not None


def test_automatic_dispatch_by_rule_is_done_by_the_system(world):
    DispatchRule.objects.create(category=world.garbage, department=world.sanitation)
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    assert case.state == State.HANDLING and case.department_id == world.sanitation.pk
    last = engine.history_for(case).last()
    assert (last.action, last.actor_id, last.role) == ("auto_dispatch", None, "system")
    # no rule for the category: the dispatcher decides, as before
    uncertain = report(world, category=world.cover)
    op(uncertain, "accept", world.operator)
    op(uncertain, "register", world.shift)
    assert uncertain.state == State.REGISTERED and uncertain.department_id is None
    DispatchRule.objects.create(category=world.flyer, department=world.sanitation)
    DispatchRule.objects.create(category=world.flyer, street=world.street, department=world.municipal)
    DispatchRule.objects.create(category=world.cover, street=world.street, department=world.municipal)
    DispatchRule.objects.create(category=world.cover, component_owner=world.sanitation, department=world.crew)
    flyer = report(world, category=world.flyer)
    op(flyer, "accept", world.operator)
    op(flyer, "register", world.shift)
    assert flyer.department_id == world.municipal.pk  # the more specific rule (street) wins
    cover = report(world, category=world.cover)
    op(cover, "accept", world.operator)
    op(cover, "register", world.shift)
    # no component, so the owner rule does not apply: the street rule is certain
    assert cover.state == State.HANDLING and cover.department_id == world.municipal.pk
    with pytest.raises(NotAllowed):  # nobody performs the system's step by hand
        op(uncertain, "auto_dispatch", world.dispatcher, department=world.crew.pk)


def test_signing_for_a_task_happens_once(world):
    case = to_handling(world, report(world))
    assert "accept_task" in [t.name for t in actions.available_operations(case, world.handler)]
    op(case, "accept_task", world.handler)
    assert case.signed_at is not None
    assert "accept_task" not in [t.name for t in actions.available_operations(case, world.handler)]
    with pytest.raises(Invalid, match="already signed"):
        op(case, "accept_task", world.handler)
    op(case, "reassign", world.dispatcher, department=world.municipal.pk, reason="改派")
    assert case.signed_at is None


def test_merge_target_outside_scope_answers_like_an_absent_one(world):
    from tests.factories import user

    # an operator whose scope is the first unit grid only
    outsider = user("operator", username="outsider", scope_division_codes=world.grids[0].code)
    mine, target = report(world, i=0), report(world, i=2)
    assert target.unit_grid_id != mine.unit_grid_id
    answers = []
    for value in (target.number, "33048320991231999999"):
        with pytest.raises(Invalid) as err:
            op(mine, "merge", outsider, target=value)
        answers.append((err.value.message, err.value.fields))
    assert answers[0] == answers[1]  # out of scope and absent answer alike
    op(mine, "merge", world.operator, target=target.number)  # within scope it works
    assert mine.state == State.MERGED and mine.merged_into_id == target.pk


# --- history: append-only at the database, hash chain, evidence ----------------------------------


def test_history_cannot_be_rewritten_through_the_orm(world):
    report(world)
    with pytest.raises(RuntimeError):
        History.objects.update(reason="x")
    with pytest.raises(RuntimeError):
        History.objects.all().delete()
    with pytest.raises(RuntimeError):
        History.objects.bulk_update(list(History.objects.all()), ["reason"])


def test_history_cannot_be_rewritten_with_raw_sql(world):
    report(world)
    table = History._meta.db_table
    for sql in (f"UPDATE {table} SET reason = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending deferred checks
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"TRUNCATE {table} CASCADE")
    assert History.objects.count() == 1


def test_the_chain_verifier_finds_the_first_tampered_entry(world):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    first = to_handling(world, report(world))
    second = to_handling(world, report(world, i=1))
    assert verify_chains().broken is None and verify_chains().checked == 8
    call_command("verify_history")
    victim = History.objects.get(object_id=second.pk, seq=3)
    with history_maintenance(), connection.cursor() as cur:  # an attacker with database access
        cur.execute(f"UPDATE {History._meta.db_table} SET reason = %s WHERE id = %s", ["篡改", victim.pk])
    result = verify_chains()
    assert (result.broken.object_id, result.broken.seq) == (second.pk, 3)
    assert "content" in result.broken.problem and first.pk != second.pk
    with pytest.raises(CommandError, match=f"object {second.pk}, entry #3"):
        call_command("verify_history")


def test_evidence_cannot_be_deleted(world, admin_client):
    case = report(world)
    att = Attachment.objects.get(object_id=case.pk)
    with pytest.raises(RuntimeError):
        att.delete()
    res = admin_client.post(f"/admin/workflow/attachment/{att.pk}/delete/", {"post": "yes"})
    assert res.status_code == 403
    assert Attachment.objects.filter(pk=att.pk).exists()
