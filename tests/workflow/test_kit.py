"""The kit: approvals, child flows, links, attachments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import user
from tests.workflow.toy.models import Hazard, Inspection, Orphan, Permit, Ticket
from tests.workflow.util import actions, at, exactly, history, step
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import engine, kit
from urbangrid.workflow.errors import Invalid, NotAllowed
from urbangrid.workflow.models import Attachment, Link

NOW = at(2026, 10, 12, 9)


def permit(people) -> Permit:
    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "800"}, now=NOW)
    return p


# --- approvals -------------------------------------------------------------------------------


def test_request_records_the_approver(people):
    p = permit(people)
    entry = step(p, "request_waiver", people.operator, NOW, amount="5000", reason="困难")
    assert (p.pending_request, p.pending_approver, p.pending_data) == (
        "waiver",
        R.LEGAL_REVIEWER,
        {"amount": "5000", "reason": "困难"},
    )
    assert entry.payload == {"amount": "5000", "reason": "困难", "approver": R.LEGAL_REVIEWER}
    p.refresh_from_db()
    assert (p.pending_request, p.pending_approver) == ("waiver", R.LEGAL_REVIEWER)


@pytest.mark.parametrize(("amount", "approver"), [("10000", R.LEGAL_REVIEWER), ("10000.01", R.LEADER)])
def test_the_higher_approver_above_the_amount(people, amount, approver):
    p = permit(people)
    step(p, "request_waiver", people.operator, NOW, amount=amount)
    assert (p.pending_approver, p.pending_data) == (approver, {"amount": amount})


def test_only_one_pending_request(people):
    p = permit(people)
    step(p, "request_waiver", people.operator, NOW, amount="5")
    with pytest.raises(Invalid) as exc:
        step(p, "request_waiver", people.operator, NOW, amount="6")
    assert exc.value.message == "There is already a pending request (Waiver); wait for its decision."
    p.refresh_from_db()
    assert p.pending_data == {"amount": "5"}


def test_no_pending_names_an_unknown_request_by_its_code(people):
    p = permit(people)
    Permit.objects.filter(pk=p.pk).update(pending_request="other")
    p.refresh_from_db()
    with pytest.raises(Invalid, match=exactly("There is already a pending request (other); wait for its decision.")):
        step(p, "request_waiver", people.operator, NOW, amount="6")


def test_deciding_with_nothing_pending_is_refused(people):
    p = permit(people)
    for action in ("approve_waiver", "refuse_waiver"):
        with pytest.raises(Invalid) as exc:
            step(p, action, people.reviewer, NOW)
        assert exc.value.message == "There is no pending Waiver to decide."


def test_the_wrong_approver_is_refused(people):
    p = permit(people)
    step(p, "request_waiver", people.operator, NOW, amount="20000")
    with pytest.raises(NotAllowed) as exc:
        step(p, "approve_waiver", people.reviewer, NOW)
    assert exc.value.message == "This request must be decided by a higher approver."
    with pytest.raises(NotAllowed, match=exactly("Your role does not allow “Approve the waiver”.")):
        step(p, "approve_waiver", people.operator, NOW)
    assert p.pending_request == "waiver"
    entry = step(p, "approve_waiver", people.leader, NOW)
    assert (entry.role, p.waived, p.pending_request) == (R.LEADER, Decimal(20000), "")


def test_the_higher_approver_may_decide_a_lower_request(people):
    p = permit(people)
    step(p, "request_waiver", people.operator, NOW, amount="50")
    entry = step(p, "approve_waiver", people.leader, NOW)
    assert (entry.role, p.waived) == (R.LEADER, Decimal(50))


def test_the_role_recorded_is_the_approver_role(people):
    p = permit(people)
    both = user(R.LEGAL_REVIEWER, R.LEADER)
    step(p, "request_waiver", people.operator, NOW, amount="50")
    assert step(p, "approve_waiver", both, NOW).role == R.LEGAL_REVIEWER
    step(p, "request_waiver", people.operator, NOW, amount="50000")
    assert step(p, "approve_waiver", both, NOW).role == R.LEADER


def test_approve_and_refuse_clear_the_request(people):
    p = permit(people)
    step(p, "request_waiver", people.operator, NOW, amount="300", reason="r")
    entry = step(p, "refuse_waiver", people.reviewer, NOW)
    assert (p.pending_request, p.pending_data, p.pending_approver, p.waived) == ("", {}, "", None)
    assert entry.payload == {"request": "waiver"} and entry.role == R.LEGAL_REVIEWER
    p.refresh_from_db()
    assert (p.pending_request, p.pending_data, p.pending_approver) == ("", {}, "")
    step(p, "request_waiver", people.operator, NOW, amount="300")
    step(p, "approve_waiver", people.reviewer, NOW)
    p.refresh_from_db()
    assert (p.pending_request, p.waived) == ("", Decimal(300))
    assert actions(p) == ["apply", "request_waiver", "refuse_waiver", "request_waiver", "approve_waiver"]


def test_a_request_without_a_higher_approver(people):
    from urbangrid.workflow.definition import Approval, Context, T, Workflow

    t = T("ask", "a", None, roles=R.INSPECTOR, label="Ask")
    wf = Workflow(
        "w", {"a": "A"}, [t], approvals=[Approval("k", "K", approver=R.INSPECTOR, needs_higher=lambda c: True)]
    )
    obj = Permit(pending_request="")
    ctx = Context(
        obj=obj,
        actor=None,
        role=R.INSPECTOR,
        data={"amount": 1, "unit": "days", "other": 2},
        transition=t,
        now=NOW,
        workflow=wf,
    )
    kit.request("k")(ctx)
    assert (obj.pending_request, obj.pending_approver, obj.pending_data) == (
        "k",
        R.INSPECTOR,
        {"amount": "1", "unit": "days"},
    )
    kit.request("k", keep=("other",))(ctx)
    assert obj.pending_data == {"other": "2"}
    # the approver alone decides; a user with another role is refused
    ctx.actor = people.leader
    with pytest.raises(NotAllowed):
        kit.pending("k")(ctx)
    obj.pending_approver = ""  # an old request without a recorded approver: the approval's
    ctx.actor = user(R.INSPECTOR)
    kit.pending("k")(ctx)
    assert ctx.role == R.INSPECTOR


# --- child flows and links ---------------------------------------------------------------------


def test_spawn_creates_children_linked_in_both_histories(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    entry = step(i, "find", people.inspector, NOW, hazards="2")
    hazards = list(Hazard.objects.order_by("pk"))
    assert [(h.workflow, h.state, h.title, h.version) for h in hazards] == [
        ("toy_hazard", "open", "hazard 1", 2),
        ("toy_hazard", "open", "hazard 2", 2),
    ]
    assert kit.children(i) == hazards and kit.children(i, Hazard) == hazards and kit.children(i, Ticket) == []
    assert entry.seq == 2
    assert (i.version, Inspection.objects.get().version) == (4, 4)
    assert actions(i) == ["start", "find", "link", "link"]
    notes = [h.payload for h in history(i)[2:]]
    assert notes == [
        {"link": "child", "direction": "to", "type": "toy.hazard", "id": h.pk, "ref": str(h)} for h in hazards
    ]
    for h in hazards:
        assert actions(h) == ["raise", "link"]
        assert history(h)[1].payload == {
            "link": "child",
            "direction": "from",
            "type": "toy.inspection",
            "id": i.pk,
            "ref": str(i),
        }
        assert history(h)[0].actor == people.inspector and history(h)[0].created_at == NOW
        assert list(kit.links(h, direction="in").values_list("kind", "source_id")) == [("child", i.pk)]
    assert Link.objects.filter(kind="child", source_id=i.pk).count() == 2


def test_children_finished_blocks_closing_while_a_child_is_open(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    step(i, "find", people.inspector, NOW, hazards=2)
    h1, h2 = Hazard.objects.order_by("pk")
    with pytest.raises(Invalid) as exc:
        step(i, "close", people.inspector, NOW)
    assert exc.value.message == f"2 linked record(s) are still open: {h1}, {h2}."
    step(h1, "fix", people.handler, NOW)
    with pytest.raises(Invalid) as exc:
        step(i, "close", people.inspector, NOW)
    assert exc.value.message == f"1 linked record(s) are still open: {h2}."
    assert [t.name for t in engine.available(i, people.inspector)] == ["find"]
    step(h2, "fix", people.handler, NOW)
    step(i, "close", people.inspector, NOW)
    assert i.state == "closed"


def test_children_finished_with_a_message_and_without_children(people):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    step(i, "close", people.inspector, NOW)  # no children: nothing blocks
    assert i.state == "closed"
    j = Inspection()
    engine.create(j, "start", people.inspector, now=NOW)
    step(j, "find", people.inspector, NOW, hazards=1)
    from urbangrid.workflow.definition import Context

    ctx = Context(obj=j, actor=people.inspector, role="", data={}, transition=None, now=NOW, workflow=None)
    with pytest.raises(Invalid, match=exactly("Fix the hazards first.")):
        kit.children_finished("Fix the hazards first.")(ctx)


def test_a_failing_spawn_rolls_the_parent_back(people, monkeypatch):
    i = Inspection()
    engine.create(i, "start", people.inspector, now=NOW)
    from dataclasses import replace

    from tests.workflow.toy import flows

    find = replace(flows.INSPECTION.get("find"), effects=(kit.spawn(lambda ctx: [(Orphan(), "start", {})]),))
    monkeypatch.setitem(flows.INSPECTION.by_name, "find", find)
    with pytest.raises(LookupError, match=exactly("Orphan runs no registered workflow")):
        step(i, "find", people.inspector, NOW, hazards=1)
    i.refresh_from_db()
    assert (i.version, actions(i), Orphan.objects.count(), Link.objects.count()) == (1, ["start"], 0, 0)


def test_link_objects_shows_on_both_sides_and_in_both_histories(people):
    t = Ticket(kind="simple")
    engine.create(t, "open", people.collector, data={"title": "x"}, now=NOW)
    p = permit(people)
    made = engine.link_objects(t, p, Link.Kind.RELATED, people.operator, role=R.OPERATOR, now=NOW)
    assert (made.kind, made.source_id, made.target_id, made.created_by, made.created_at) == (
        "related",
        t.pk,
        p.pk,
        people.operator,
        NOW,
    )
    assert list(kit.links(t)) == [made] and list(kit.links(t, direction="in")) == []
    assert list(kit.links(p, direction="in")) == [made] and list(kit.links(p)) == []
    assert list(kit.links(t, "related")) == [made] and list(kit.links(t, "child")) == []
    assert (t.version, p.version) == (2, 2)
    te, pe = history(t)[-1], history(p)[-1]
    assert (te.action, te.seq, te.role, te.actor, te.from_state, te.to_state) == (
        "link",
        2,
        R.OPERATOR,
        people.operator,
        "open",
        "open",
    )
    assert te.payload == {"link": "related", "direction": "to", "type": "toy.permit", "id": p.pk, "ref": str(p)}
    assert pe.payload == {"link": "related", "direction": "from", "type": "toy.ticket", "id": t.pk, "ref": str(t)}
    assert (te.deadline_before, te.deadline_after) == (t.deadline, t.deadline)
    assert te.department_id is None and pe.created_at == NOW
    # the version moved on: a step with the old version is stale
    from urbangrid.workflow.errors import Conflict

    with pytest.raises(Conflict):
        engine.transition(t, "finish", people.handler, version=1, now=NOW)


def test_link_by_the_system_has_no_actor(people):
    from urbangrid.workflow.definition import SYSTEM

    a, b = Hazard(), Hazard()
    engine.create(a, "raise", people.inspector, now=NOW)
    engine.create(b, "raise", people.inspector, now=NOW)
    made = engine.link_objects(a, b, "related", SYSTEM, now=NOW)
    assert made.created_by is None and history(a)[-1].actor is None and history(a)[-1].role == ""


# --- attachments -------------------------------------------------------------------------------


def upload(who, token) -> str:
    Attachment.objects.create(
        token=token,
        file=f"a/{token}.png",
        extension=".png",
        mime_type="image/png",
        size=1,
        uploaded_by=who,
        uploaded_at=NOW,
    )
    return token


def handling(people) -> Ticket:
    t = Ticket(kind="general")
    engine.create(t, "report", people.collector, data={"title": "x"}, now=NOW)
    step(t, "dispatch", people.dispatcher, NOW, department=people.dept.pk)
    return t


def test_claim_attaches_own_unused_uploads_to_the_step(people):
    t = handling(people)
    upload(people.handler, "mine1")
    upload(people.handler, "mine2")
    entry = step(t, "finish", people.handler, NOW, result="ok", photos=["mine2", "mine1"])
    assert sorted(entry.attachments, key=lambda a: a["id"]) == [
        {"id": "mine1", "kind": "after", "type": "image/png"},
        {"id": "mine2", "kind": "after", "type": "image/png"},
    ]
    got = {a.token: a for a in kit.attachments_of(t)}
    assert sorted(got) == ["mine1", "mine2"]
    assert all((a.object_id, a.kind, a.history_seq, a.is_evidence) == (t.pk, "after", 3, True) for a in got.values())
    with pytest.raises(RuntimeError, match=exactly("an attachment that history refers to cannot be deleted")):
        got["mine1"].delete()


@pytest.mark.parametrize("whose", ["someone else's", "already used"])
def test_claim_refuses_others_and_used_uploads(people, whose):
    t = handling(people)
    if whose == "someone else's":
        upload(people.handler2, "tok")
    else:
        upload(people.handler, "tok")
        kit.claim(Hazard(pk=99), people.handler, ["tok"], "before", 1)
    upload(people.handler, "fine")
    with pytest.raises(Invalid) as exc:
        step(t, "finish", people.handler, NOW, result="ok", photos=["fine", "tok"])
    assert exc.value.message == "Unknown or already used photo: tok. Upload the photo first."
    assert Attachment.objects.get(token="fine").object_id is None  # nothing claimed
    assert t.state == "handling"


def test_claim_nothing():
    assert kit.claim(None, None, [], "after", 1) == []


def test_may_read(people):
    t = handling(people)
    upload(people.handler, "t1")
    step(t, "finish", people.handler, NOW, result="ok", photos=["t1"])
    a = Attachment.objects.get(token="t1")
    assert kit.may_read(a, people.handler)  # uploader
    assert kit.may_read(a, people.handler2)  # same department sees the ticket
    assert kit.may_read(a, people.operator)  # city-wide
    assert not kit.may_read(a, people.other_handler)
    assert not kit.may_read(a, AnonymousUser())
    assert not kit.may_read(a, None)
    # an unclaimed upload: only its uploader
    b = Attachment.objects.get(token=upload(people.handler, "t2"))
    assert kit.may_read(b, people.handler) and not kit.may_read(b, people.operator)
    # a model registered without `visible`: only the uploader
    h = Hazard()
    engine.create(h, "raise", people.inspector, now=NOW)
    c = Attachment.objects.get(token=upload(people.inspector, "t3"))
    kit.claim(h, people.inspector, ["t3"], "check", 1)
    c.refresh_from_db()
    assert kit.may_read(c, people.inspector) and not kit.may_read(c, people.operator)
    # a model that runs no workflow: only the uploader
    d = Attachment.objects.get(token=upload(people.inspector, "t4"))
    kit.claim(Orphan(pk=5), people.inspector, ["t4"], "check", 1)
    d.refresh_from_db()
    assert kit.may_read(d, people.inspector) and not kit.may_read(d, people.operator)
    # a permit: whoever the registration lets see permits
    p = permit(people)
    e = Attachment.objects.get(token=upload(people.operator, "t5"))
    kit.claim(p, people.operator, ["t5"], "document", 1)
    e.refresh_from_db()
    assert kit.may_read(e, people.reviewer) and not kit.may_read(e, people.handler)
