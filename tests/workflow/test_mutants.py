"""Tests written to kill mutants that survived the first mutation run (docs/testing.md): each
pins a detail the behaviour tests above left open."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.utils import timezone

from tests.factories import user
from tests.workflow.toy import flows
from tests.workflow.toy.models import Hazard, Inspection, Permit, Ticket
from tests.workflow.util import at, history, step
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import engine, holders, kit, registry
from urbangrid.workflow.definition import Context, I, T, start_clock
from urbangrid.workflow.errors import Invalid, NotAllowed
from urbangrid.workflow.models import Attachment, Link

NOW = at(2026, 10, 12, 9)


def test_shorthands_keep_every_argument():
    assert I("reason", "Reason").label == "Reason"
    t = T("urge", "open", None, roles="leader", label="Urge")
    assert (t.sources, t.roles, t.help, t.clocks, t.decides) == (("open",), ("leader",), "", (), "")
    op = start_clock("decide", (1, "days"))
    t = T("ask", ["open"], None, roles=["leader"], label="Ask", clocks=[op], decides="waiver")
    assert (t.sources, t.roles, t.clocks, t.decides) == (("open",), ("leader",), (op,), "waiver")


def test_set_deadline_is_final_unless_said_otherwise():
    ctx = Context(obj=None, actor=None, role="", data={}, transition=None, now=NOW, workflow=None)
    ctx.set_deadline(NOW)
    assert ctx.deadline_override == (NOW, False)
    ctx.set_deadline(NOW, provisional=True)
    assert ctx.deadline_override == (NOW, True)


def test_kit_names_its_guards_and_effects():
    assert kit.in_scope(lambda u: None).__name__ == "in_scope"
    assert kit.photos("after").__name__ == "photos_after"
    assert kit.request("waiver").__name__ == "request_waiver"
    assert kit.pending("waiver").__name__ == "pending_waiver"
    assert kit.children_finished().__name__ == "children_finished"
    assert kit.spawn(list).__name__ == "spawn"


def _upload(who, token):
    Attachment.objects.create(
        token=token, file="a.png", extension=".png", mime_type="image/png", size=1, uploaded_by=who, uploaded_at=NOW
    )
    return token


def test_attachments_of_one_object_only(people):
    h = Hazard()
    engine.create(h, "raise", people.inspector, now=NOW)
    i = Inspection(pk=h.pk)
    i.save()
    kit.claim(h, people.inspector, [_upload(people.inspector, "h")], "check", 1)
    kit.claim(i, people.inspector, [_upload(people.inspector, "i")], "check", 1)
    kit.claim(Hazard(pk=h.pk + 1), people.inspector, [_upload(people.inspector, "h2")], "check", 1)
    assert [a.token for a in kit.attachments_of(h)] == ["h"]


def test_may_read_a_half_claimed_file(people):
    a = Attachment.objects.get(token=_upload(people.inspector, "x"))
    a.object_id = 5  # no content type: belongs to nothing known
    assert not kit.may_read(a, people.operator)


def test_links_of_one_object_only(people):
    a, b, c = Hazard(), Hazard(), Hazard()
    for h in (a, b, c):
        engine.create(h, "raise", people.inspector, now=NOW)
    ab = engine.link_objects(a, b, "related", people.inspector, now=NOW)
    engine.link_objects(b, c, "related", people.inspector, now=NOW)
    assert list(kit.links(a)) == [ab]
    assert list(kit.links(b, direction="in")) == [ab]


def test_children_are_child_links_of_every_model(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    step(i, "find", people.inspector, NOW, hazards=1)
    t = Ticket(kind="simple")
    engine.create(t, "open", people.collector, data={"title": "x"}, now=NOW)
    engine.link_objects(i, t, Link.Kind.CHILD, people.inspector, now=NOW)
    other = Hazard()
    engine.create(other, "raise", people.inspector, now=NOW)
    engine.link_objects(i, other, Link.Kind.RELATED, people.inspector, now=NOW)
    hazard = Hazard.objects.order_by("pk").first()
    assert {(type(c), c.pk) for c in kit.children(i)} == {(Hazard, hazard.pk), (Ticket, t.pk)}
    assert kit.children(i, Ticket) == [t]


def test_children_finished_names_five_open_children(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    hazards = []
    for _ in range(6):
        h = Hazard()
        engine.create(h, "raise", people.inspector, now=NOW)
        engine.link_objects(i, h, Link.Kind.CHILD, people.inspector, now=NOW)
        hazards.append(h)
    with pytest.raises(Invalid) as exc:
        step(i, "close", people.inspector, NOW)
    assert exc.value.message == "6 linked record(s) are still open: " + ", ".join(str(h) for h in hazards[:5]) + "."


def test_spawned_children_are_linked_by_the_actor_at_the_step_time(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    step(i, "find", people.inspector, at(2026, 10, 12, 11), hazards=1)
    link = Link.objects.get()
    assert (link.created_by, link.created_at) == (people.inspector, at(2026, 10, 12, 11))
    for entry in (history(i)[-1], history(Hazard.objects.get())[-1]):
        assert (entry.action, entry.actor, entry.role, entry.created_at) == (
            "link",
            people.inspector,
            R.INSPECTOR,
            at(2026, 10, 12, 11),
        )


def _ticket(people, state="handling", kind="general"):
    t = Ticket(kind=kind)
    if kind == "simple":
        engine.create(t, "open", people.collector, data={"title": "x"}, now=NOW)
        return t
    engine.create(t, "report", people.collector, data={"title": "x"}, now=NOW)
    step(t, "dispatch", people.dispatcher, NOW, department=people.dept.pk)
    if state == "suspended":
        step(t, "suspend", people.handler, NOW, reason="r")
    return t


def test_todo_is_per_definition_when_a_model_has_several(people):
    simple = _ticket(people, kind="simple")
    general = _ticket(people)
    Ticket.objects.filter(pk=general.pk).update(state="open")  # "open" is a state of the simple definition
    assert set(Ticket.objects.filter(holders.todo_q(Ticket, people.handler))) == {simple}


def test_todo_of_a_single_definition_ignores_the_workflow_field(people):
    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
    step(p, "request_waiver", people.operator, NOW, amount="5")
    Permit.objects.filter(pk=p.pk).update(workflow="")
    assert list(Permit.objects.filter(holders.todo_q(Permit, people.operator))) == [p]
    assert list(Permit.objects.filter(holders.todo_q(Permit, people.reviewer))) == [p]


def test_todo_of_one_hold_over_several_states(people):
    suspended = _ticket(people, state="suspended")
    handling = _ticket(people)
    assert set(Ticket.objects.filter(holders.todo_q(Ticket, people.shift))) == {suspended}
    assert handling.state == "handling"


def test_todo_goes_on_after_a_hold_that_selects_nothing(people):
    t = _ticket(people, state="suspended")
    both = user(R.HANDLER, R.SHIFT_LEADER)  # no department: the handler's Hold selects nothing
    assert set(Ticket.objects.filter(holders.todo_q(Ticket, both))) == {t}


def test_todo_of_approvals_needs_a_pending_request(people):
    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
    Permit.objects.filter(pk=p.pk).update(pending_approver=R.LEGAL_REVIEWER)  # left over, nothing pending
    assert list(Permit.objects.filter(holders.todo_q(Permit, people.reviewer))) == []


def test_todo_of_approvals_per_definition(people, monkeypatch):
    by_model, by_name = dict(registry._BY_MODEL), dict(registry._BY_NAME)
    try:
        second = replace(flows.PERMIT, name="toy_permit2", holders={})
        registry.register(Permit, flows.PERMIT, second, visible=flows.visible_permits)
        p = Permit()
        engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
        q = Permit(workflow="toy_permit2")
        engine.create(q, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
        assert set(Permit.objects.filter(holders.todo_q(Permit, people.reviewer))) == set()
        step(q, "request_waiver", people.operator, NOW, amount="5")
        assert set(Permit.objects.filter(holders.todo_q(Permit, people.reviewer))) == {q}
        assert set(Permit.objects.filter(holders.todo_q(Permit, people.operator))) == {p}
    finally:
        registry._BY_MODEL.clear()
        registry._BY_MODEL.update(by_model)
        registry._BY_NAME.clear()
        registry._BY_NAME.update(by_name)


def test_available_gives_guards_a_full_context(people, monkeypatch):
    seen = []

    def record(ctx):
        seen.append((ctx.role, ctx.transition.name, ctx.data, ctx.workflow.name, ctx.actor, ctx.obj))
        assert abs((timezone.now() - ctx.now).total_seconds()) < 60

    def refuse(ctx):
        raise NotAllowed("no")

    wf = flows.GENERAL
    monkeypatch.setattr(
        wf, "transitions", [replace(x, guards=(record,)) if x.name == "urge" else x for x in wf.transitions]
    )
    t = _ticket(people)
    assert [op.name for op in engine.available(t, people.leader)] == ["urge"]
    assert seen == [(R.LEADER, "urge", {}, "toy_general", people.leader, t)]
    monkeypatch.setattr(
        wf, "transitions", [replace(x, guards=(refuse,)) if x.name == "suspend" else x for x in wf.transitions]
    )
    assert [op.name for op in engine.available(t, people.handler)] == ["finish"]


def test_registration_keeps_model_chooser_and_scope(people, monkeypatch):
    by_model, by_name = dict(registry._BY_MODEL), dict(registry._BY_NAME)
    try:
        registry.register(
            Ticket,
            flows.SIMPLE,
            flows.GENERAL,
            choose=lambda o: "toy_general",
            visible=lambda u: Ticket.objects.filter(title="seen"),
        )
        reg = registry.registration(Ticket)
        assert reg.model is Ticket
        assert registry.choose(Ticket(kind="simple")) is flows.GENERAL
        seen = Ticket.objects.create(title="seen", state="open")
        Ticket.objects.create(title="hidden", state="open")
        assert list(registry.visible_objects(Ticket, people.handler)) == [seen]
    finally:
        registry._BY_MODEL.clear()
        registry._BY_MODEL.update(by_model)
        registry._BY_NAME.clear()
        registry._BY_NAME.update(by_name)


def test_link_and_record_keep_actor_department_role_and_time(people):
    a, b = Hazard(), Hazard()
    for h in (a, b):
        engine.create(h, "raise", people.inspector, now=NOW)
    engine.link_objects(a, b, "related", people.handler, now=at(2026, 10, 12, 10))
    for entry in (history(a)[-1], history(b)[-1]):
        assert (entry.actor, entry.department_id, entry.role, entry.created_at) == (
            people.handler,
            people.dept.pk,
            "",
            at(2026, 10, 12, 10),
        )
    entry = engine.record(a, "note", people.handler, payload={"n": 1}, now=NOW)
    assert (entry.role, entry.payload, entry.seq, a.version) == ("", {"n": 1}, 3, 3)


def test_link_without_an_actor(people):
    a, b = Hazard(), Hazard()
    for h in (a, b):
        engine.create(h, "raise", people.inspector, now=NOW)
    made = engine.link_objects(a, b, "related", None, now=NOW)
    assert made.created_by is None
    assert (history(a)[-1].actor, history(a)[-1].department_id) == (None, None)


def test_lock_reads_the_row_with_its_related_rows(people, django_assert_num_queries):
    from django.db import transaction

    from urbangrid.workflow import store

    t = _ticket(people)
    with transaction.atomic():
        locked = store.lock(Ticket, t.pk)
    with django_assert_num_queries(0):
        assert locked.department == people.dept
    assert (locked.pk, locked.version) == (t.pk, 2)


def test_each_object_has_its_own_chain(people):
    """Entries are chained per object: not to another model's object with the same id, nor to
    another object of the same model."""
    i, h, h2 = Inspection(pk=500), Hazard(pk=500), Hazard(pk=501)
    engine.create(i, "start", people.inspector, now=NOW)
    for obj in (h, h2):
        engine.create(obj, "raise", people.inspector, data={"title": str(obj.pk)}, now=NOW)
    step(h2, "fix", people.handler, NOW)
    step(h, "fix", people.handler, NOW)
    step(i, "close", people.inspector, NOW)
    for obj in (i, h, h2):
        first, second = history(obj)
        assert (first.prev_hash, second.prev_hash) == ("", first.hash)


def test_creating_over_an_existing_row_is_refused(people):
    from django.db import IntegrityError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    h = Hazard()
    engine.create(h, "raise", people.inspector, data={"title": "first"}, now=NOW)
    with CaptureQueriesContext(connection) as queries, pytest.raises(IntegrityError), transaction.atomic():
        engine.create(Hazard(pk=h.pk), "raise", people.inspector, data={"title": "second"}, now=NOW)
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert Hazard.objects.get().title == "first"


def test_a_stage_ended_exactly_at_its_deadline_is_not_overdue(people):
    t = _ticket(people, kind="simple")  # due 10-12 15:00
    entry = step(t, "finish", people.handler, at(2026, 10, 12, 15))
    assert (entry.overdue, entry.time_used_minutes) == (False, 240)


def test_no_deadline_is_never_provisional():
    from types import SimpleNamespace

    from urbangrid.workflow import clock

    obj = SimpleNamespace()
    clock.set_deadline(obj, NOW, None, True)
    assert (obj.deadline, obj.deadline_provisional, obj.warn_at) == (None, False, None)
    clock.set_deadline(obj, NOW, at(2026, 10, 12, 13), True)
    assert (obj.deadline, obj.deadline_provisional, obj.warn_at) == (at(2026, 10, 12, 13), True, at(2026, 10, 12, 12))
