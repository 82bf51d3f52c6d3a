"""The engine's checks and errors: state 409, role 403, guards 403/400, inputs 400 with per-field
messages, stale versions 409 with nothing changed, creation-only operations, `available()`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import user
from tests.workflow.toy.models import Ticket
from tests.workflow.util import actions, at, exactly, step
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import engine
from urbangrid.workflow.definition import SYSTEM
from urbangrid.workflow.errors import Conflict, Invalid, NotAllowed, WorkflowError, WrongState
from urbangrid.workflow.models import History

MON = at(2026, 10, 12, 9)


def general(people, dispatch=True) -> Ticket:
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "暴露垃圾"}, now=MON)
    if dispatch:
        step(t, "dispatch", people.dispatcher, MON, department=people.dept.pk)
    return t


def test_error_classes_map_to_http_statuses():
    assert (Invalid.status, Invalid.code) == (400, "invalid")
    assert (WrongState.status, WrongState.code) == (409, "wrong_state")
    assert (NotAllowed.status, NotAllowed.code) == (403, "not_allowed")
    assert (Conflict.status, Conflict.code) == (409, "conflict")
    assert issubclass(WrongState, Invalid)
    e = WorkflowError("m", fields={"a": 1})
    assert (e.message, e.fields, str(e), e.status) == ("m", {"a": "1"}, "m", 400)
    assert WorkflowError("m").fields == {}


def test_create_writes_state_version_and_first_history_entry(people):
    t = Ticket(kind="general")
    entry = engine.create(t, "report", people.collector, data={"title": " 暴露垃圾 ", "extra": "dropped"}, now=MON)
    t.refresh_from_db()
    assert (t.workflow, t.state, t.version, t.title) == ("toy_general", "registered", 1, "暴露垃圾")
    assert (entry.seq, entry.action, entry.from_state, entry.to_state) == (1, "report", "", "registered")
    assert (entry.actor, entry.role, entry.department_id) == (people.collector, R.COLLECTOR, None)
    assert entry.created_at == MON and entry.deadline_before is None
    assert entry.deadline_after == at(2026, 10, 12, 9, 30)
    assert list(History.objects.filter(object_id=t.pk).values_list("action", flat=True)) == ["report"]


def test_transition_records_actor_role_department_and_reason(people):
    t = general(people)
    entry = step(t, "suspend", people.handler, at(2026, 10, 12, 10), reason="  等待材料 ")
    assert (entry.seq, entry.action, entry.from_state, entry.to_state) == (3, "suspend", "handling", "suspended")
    assert (entry.actor, entry.role, entry.department_id, entry.reason) == (
        people.handler,
        R.HANDLER,
        people.dept.pk,
        "等待材料",
    )
    entry = step(t, "resume", people.handler, at(2026, 10, 12, 11))
    assert entry.reason == ""
    entry = step(t, "urge", people.leader, at(2026, 10, 12, 11), note="快")
    assert (entry.reason, entry.from_state, entry.to_state) == ("快", "handling", "handling")
    assert t.version == 5
    t.refresh_from_db()
    assert t.version == 5
    assert actions(t) == ["report", "dispatch", "suspend", "resume", "urge"]


def test_unknown_operation_is_400(people):
    t = general(people)
    with pytest.raises(Invalid) as exc:
        step(t, "nope", people.handler, MON)
    assert exc.value.status == 400
    assert exc.value.message == "Unknown operation “nope”."
    with pytest.raises(Invalid, match=exactly("Unknown operation “nope”.")):
        engine.create(Ticket(kind="general"), "nope", people.collector, now=MON)


def test_wrong_state_is_409_and_changes_nothing(people):
    t = general(people)
    with pytest.raises(WrongState) as exc:
        step(t, "dispatch", people.dispatcher, MON, department=people.dept.pk)
    assert exc.value.status == 409
    assert exc.value.message == "“Dispatch” is not possible while the state is “Handling”."
    t.refresh_from_db()
    assert (t.state, t.version) == ("handling", 2)


def test_role_is_403(people):
    t = general(people, dispatch=False)
    with pytest.raises(NotAllowed) as exc:
        step(t, "dispatch", people.collector, MON, department=people.dept.pk)
    assert exc.value.status == 403
    assert exc.value.message == "Your role does not allow “Dispatch”."
    with pytest.raises(NotAllowed, match=exactly("Your role does not allow “Report”.")):
        engine.create(Ticket(kind="general"), "report", people.handler, data={"title": "x"}, now=MON)
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("who", ["none", "anonymous", "inactive"])
def test_signed_out_or_inactive_actor_is_403(people, who):
    t = general(people, dispatch=False)
    actor = {"none": None, "anonymous": AnonymousUser(), "inactive": people.dispatcher}[who]
    if who == "inactive":
        actor.is_active = False
        actor.save()
    with pytest.raises(NotAllowed, match=exactly("Sign in first.")):
        step(t, "dispatch", actor, MON, department=people.dept.pk)
    assert engine.available(t, actor) == []


def test_system_steps_only_by_the_system_and_the_system_only_its_own(people):
    t = general(people)
    step(t, "finish", people.handler, MON, result="ok", photos=[_upload(people.handler, "a1")])
    with pytest.raises(NotAllowed, match=exactly("“Close automatically” is not yours to perform.")):
        step(t, "auto_close", people.shift, MON)
    with pytest.raises(NotAllowed, match=exactly("“Close” is not yours to perform.")):
        step(t, "close", SYSTEM, MON)
    entry = step(t, "auto_close", SYSTEM, at(2026, 10, 13, 9))
    assert (entry.actor_id, entry.role, entry.department_id, t.state) == (None, "system", None, "closed")
    assert str(SYSTEM) == "system" and SYSTEM.has_role("system") and not SYSTEM.has_role(R.LEADER)


def _upload(who, token):
    from urbangrid.workflow.models import Attachment

    Attachment.objects.create(
        token=token,
        file=f"x/{token}.png",
        extension=".png",
        mime_type="image/png",
        size=1,
        uploaded_by=who,
        uploaded_at=MON,
    )
    return token


def test_scope_guard_is_403_before_inputs_are_checked(people):
    t = general(people)
    with pytest.raises(NotAllowed) as exc:
        step(t, "suspend", people.other_handler, MON)  # no reason either: the guard speaks first
    assert exc.value.message == "This record is outside your area of responsibility."
    with pytest.raises(NotAllowed, match=exactly("Not your department's ticket.")):
        step(t, "finish", people.other_handler, MON, result="x", photos=["p"])
    step(t, "suspend", people.handler, MON, reason="r")
    assert t.state == "suspended"


def test_scope_guard_lets_city_wide_staff_through(people):
    t = general(people)
    boss = user(R.HANDLER, scope_city=True)
    step(t, "suspend", boss, MON, reason="r")
    assert t.state == "suspended"


def test_missing_inputs_are_400_with_per_field_messages(people):
    t = general(people, dispatch=False)
    with pytest.raises(Invalid) as exc:
        step(t, "dispatch", people.dispatcher, MON, department="  ")
    assert exc.value.status == 400
    assert exc.value.message == "Missing input for “Dispatch”: department."
    assert exc.value.fields == {"department": "This field is required for “Dispatch”."}
    t.refresh_from_db()
    assert (t.state, t.version) == ("registered", 1)


def test_invalid_inputs_are_400_with_per_field_messages(people):
    t = general(people)
    with pytest.raises(Invalid) as exc:
        step(t, "extend", people.shift, MON, until="2026-10-20T17:30", provisional="maybe")
    assert exc.value.message == (
        "Check the input of “Extend”: until: Give the time with its offset, e.g. 2026-11-28T09:30+08:00; "
        "provisional: Answer true or false."
    )
    assert exc.value.fields == {
        "until": "Give the time with its offset, e.g. 2026-11-28T09:30+08:00.",
        "provisional": "Answer true or false.",
    }
    with pytest.raises(Invalid) as exc:
        step(t, "finish", people.handler, MON, photos=[""])
    assert exc.value.message == (
        "Check the input of “Finish”: result: This field is required for “Finish”; "
        "photos: List the tokens of uploaded photos."
    )
    assert exc.value.fields == {
        "result": "This field is required for “Finish”.",
        "photos": "List the tokens of uploaded photos.",
    }
    with pytest.raises(Invalid) as exc:
        engine.create(Ticket(kind="general"), "report", people.collector, data={"title": "x" * 21}, now=MON)
    assert exc.value.fields == {"title": "At most 20 characters."}
    assert Ticket.objects.count() == 1


def test_ref_input_is_resolved_and_refused_when_not_found(people):
    t = general(people, dispatch=False)
    with pytest.raises(Invalid) as exc:
        step(t, "dispatch", people.dispatcher, MON, department="999999")
    assert exc.value.fields == {"department": "Not found, or outside your area of responsibility."}
    step(t, "dispatch", people.dispatcher, MON, department=str(people.other_dept.pk))
    assert t.department == people.other_dept


def test_stale_version_is_409_and_nothing_changes(people):
    t = general(people)
    other = Ticket.objects.get(pk=t.pk)
    step(other, "urge", people.leader, MON, note="1")
    before = History.objects.filter(object_id=t.pk).count()
    with pytest.raises(Conflict) as exc:
        engine.transition(t, "suspend", people.handler, version=2, data={"reason": "r"}, now=MON)
    assert exc.value.status == 409
    assert exc.value.message == (
        "This record was changed by someone else (version 3, you had 2). Reload it and try again."
    )
    assert (t.state, t.version, t.paused_remaining_minutes) == ("handling", 2, None)  # the caller's copy too
    t.refresh_from_db()
    assert (t.state, t.version, t.deadline) == ("handling", 3, at(2026, 10, 13, 9))
    assert History.objects.filter(object_id=t.pk).count() == before


def test_stale_copy_with_the_current_version_is_decided_on_the_database_row(people):
    t = general(people)
    other = Ticket.objects.get(pk=t.pk)
    step(other, "urge", people.leader, MON, note="1")
    entry = engine.transition(t, "suspend", people.handler, version=3, data={"reason": "r"}, now=MON)
    assert entry.seq == 4
    assert (t.state, t.version) == ("suspended", 4)  # the caller's copy is refreshed


def test_stale_copy_is_refused_when_the_row_moved_on_behind_it(people):
    t = general(people)
    Ticket.objects.filter(pk=t.pk).update(version=7, note="changed elsewhere")
    with pytest.raises(
        Conflict,
        match=exactly("This record was changed by someone else (version 7, you had 2). Reload it and try again."),
    ):
        step(t, "suspend", people.handler, MON, reason="r")
    assert (t.state, t.version, t.note, t.deadline) == ("handling", 2, "", at(2026, 10, 13, 9))
    assert t.stage_started_at == MON and t.paused_remaining_minutes is None


def test_errors_are_decided_again_on_the_database_row(people):
    """A step refused on the caller's copy is decided again on what the database holds."""
    t = general(people)
    t.state = "review"  # the caller's copy is wrong, its version is right
    entry = step(t, "suspend", people.handler, MON, reason="r")
    assert (entry.from_state, entry.to_state, t.state, t.version) == ("handling", "suspended", "suspended", 3)


def test_a_failing_effect_rolls_everything_back(people):
    t = general(people)
    snapshot = {f.attname: getattr(t, f.attname) for f in Ticket._meta.concrete_fields}
    with pytest.raises(Invalid) as exc:
        step(t, "finish", people.handler, MON, result="ok", photos=["missing"])
    assert exc.value.message == "Unknown or already used photo: missing. Upload the photo first."
    assert exc.value.fields == {"photos": "Unknown photo."}
    assert {f.attname: getattr(t, f.attname) for f in Ticket._meta.concrete_fields} == snapshot
    t.refresh_from_db()
    assert (t.state, t.version) == ("handling", 2)
    assert actions(t) == ["report", "dispatch"]


def test_creation_only_operations(people):
    t = general(people)
    with pytest.raises(Invalid) as exc:
        step(t, "report", people.collector, MON, title="x")
    assert exc.value.message == "“Report” creates a new record; it cannot be applied to an existing one."
    with pytest.raises(Invalid) as exc:
        engine.create(Ticket(kind="general"), "dispatch", people.dispatcher, data={"department": 1}, now=MON)
    assert exc.value.message == "“Dispatch” does not create a record."
    assert Ticket.objects.count() == 1


def test_available_lists_what_state_role_and_guards_allow(people):
    t = general(people)

    def names(actor):
        return [op.name for op in engine.available(t, actor)]

    assert names(people.handler) == ["suspend", "finish"]
    assert names(people.other_handler) == []  # both are guarded by scope
    assert names(people.shift) == ["extend"]
    assert names(people.leader) == ["urge"]
    assert names(people.dispatcher) == []
    assert names(SYSTEM) == []
    step(t, "finish", people.handler, MON, result="ok", photos=[_upload(people.handler, "a2")])
    assert names(people.shift) == ["close"]
    assert names(SYSTEM) == []  # system steps are never offered


def test_available_skips_operations_whose_guard_refuses_with_400(people):
    from tests.workflow.toy.models import Permit

    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "100"}, now=MON)
    assert [op.name for op in engine.available(p, people.reviewer)] == []  # nothing pending
    step(p, "request_waiver", people.operator, MON, amount=Decimal(5))
    assert [op.name for op in engine.available(p, people.reviewer)] == ["approve_waiver", "refuse_waiver"]
    assert "request_waiver" not in [op.name for op in engine.available(p, people.operator)]
