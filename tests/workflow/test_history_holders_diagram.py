"""History is append-only and hash-chained; holders and to-do lists; diagrams."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import user
from tests.workflow.toy import flows
from tests.workflow.toy.models import Permit, Ticket
from tests.workflow.util import at, exactly, history, step
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import diagram, engine, holders
from urbangrid.workflow.models import History, Notification

NOW = at(2026, 10, 12, 9)


def ticket(people, kind="general", state="handling", dept=None) -> Ticket:
    t = Ticket(kind=kind)
    if kind == "simple":
        engine.create(t, "open", people.collector, data={"title": "x"}, now=NOW)
        return t
    engine.create(t, "report", people.collector, data={"title": "x"}, now=NOW)
    if state == "registered":
        return t
    step(t, "dispatch", people.dispatcher, NOW, department=(dept or people.dept).pk)
    if state == "handling":
        return t
    from urbangrid.workflow.models import Attachment

    token = f"p{t.pk}"
    Attachment.objects.create(
        token=token,
        file="a.png",
        extension=".png",
        mime_type="image/png",
        size=1,
        uploaded_by=people.handler,
        uploaded_at=NOW,
    )
    step(t, "finish", people.handler, NOW, result="ok", photos=[token])
    if state == "review":
        return t
    step(t, "close", people.shift, NOW)
    return t


# --- history ----------------------------------------------------------------------------------


def test_history_is_append_only(people):
    t = ticket(people)
    entries = History.objects.filter(object_id=t.pk)
    for attempt in (
        lambda: entries.update(reason="x"),
        lambda: entries.delete(),
        lambda: History.objects.bulk_update(list(entries), ["reason"]),
        lambda: History.objects.update_or_create(pk=entries[0].pk, defaults={"reason": "x"}),
        lambda: entries[0].save(),
        lambda: entries[0].delete(),
    ):
        with pytest.raises(RuntimeError, match=exactly("workflow history is append-only")):
            attempt()
    assert [h.reason for h in history(t)] == ["", ""]
    assert History.objects.filter(object_id=t.pk).count() == 2


def test_hash_chain(people):
    t = ticket(people, state="closed")
    engine.link_objects(t, ticket(people, kind="simple"), "related", people.operator, now=NOW)
    entries = history(t)
    assert [h.seq for h in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == ""
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.hash
    for entry in entries:
        assert len(entry.hash) == 64 and entry.compute_hash() == entry.hash
    # any change of content breaks the entry's hash
    e = entries[2]
    for field, value in (
        ("reason", "forged"),
        ("payload", {"x": 1}),
        ("actor_id", None),
        ("created_at", at(2026, 10, 12, 9, 0, 1)),
        ("prev_hash", "0" * 64),
        ("attachments", []),
        ("to_state", "closed"),
        ("seq", 9),
    ):
        original = getattr(e, field)
        setattr(e, field, value)
        assert e.compute_hash() != e.hash, field
        setattr(e, field, original)
    assert e.compute_hash() == e.hash
    assert str(e) == "#3 finish handling→review"


def test_hash_is_independent_of_the_time_zone(people):
    from datetime import UTC

    t = ticket(people, kind="simple")
    e = history(t)[0]
    e.created_at = e.created_at.astimezone(UTC)
    assert e.compute_hash() == e.hash


# --- holders and to-do ------------------------------------------------------------------------


def test_todo_q_selects_exactly_what_each_person_holds(people):
    simple = ticket(people, kind="simple")
    registered = ticket(people, state="registered")
    mine = ticket(people)
    theirs = ticket(people, dept=people.other_dept)
    review = ticket(people, state="review")
    ticket(people, state="closed")

    def todo(who):
        return set(Ticket.objects.filter(holders.todo_q(Ticket, who)))

    assert todo(people.handler) == {simple, mine}
    assert todo(people.other_handler) == {simple, theirs}
    assert todo(people.dispatcher) == {registered}
    assert todo(people.shift) == {review}
    assert todo(people.leader) == set()
    assert todo(user(R.HANDLER)) == {simple}  # no department: no general ticket is theirs
    assert todo(user(R.HANDLER, R.DISPATCHER, department=people.dept)) == {simple, registered, mine}


def test_todo_q_of_pending_approvals(people):
    def permit(amount=None):
        p = Permit()
        engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
        if amount:
            step(p, "request_waiver", people.operator, NOW, amount=amount)
        return p

    low, high, none = permit("5"), permit("50000"), permit()
    granted = permit()
    step(granted, "grant", people.leader, NOW)

    def todo(who):
        return set(Permit.objects.filter(holders.todo_q(Permit, who)))

    assert todo(people.reviewer) == {low}
    assert todo(people.leader) == {high}
    assert todo(people.operator) == {low, high, none}
    assert todo(people.handler) == set()
    assert len(holders.todo_buckets(Permit, people.reviewer)) == 1
    assert len(holders.todo_buckets(Ticket, people.handler)) == 2


def test_holders(people):
    mine = ticket(people)
    assert set(holders.holders(mine)) == {people.handler, people.handler2}  # by the Hold's `users`
    people.handler2.is_active = False
    people.handler2.save()
    assert holders.holders(mine) == [people.handler]
    registered = ticket(people, state="registered")
    none_scope = user(R.DISPATCHER, department=people.other_dept)  # does not see this ticket
    assert holders.holders(registered) == [people.dispatcher]
    none_scope.scope_city = True
    none_scope.save()
    assert set(holders.holders(registered)) == {people.dispatcher, none_scope}
    assert holders.holders(ticket(people, state="closed")) == []


def test_holders_include_the_pending_approver(people):
    p = Permit()
    engine.create(p, "apply", people.operator, data={"served_on": "2026-10-09", "amount": "1"}, now=NOW)
    assert holders.holders(p) == [people.operator]
    step(p, "request_waiver", people.operator, NOW, amount="5")
    assert set(holders.holders(p)) == {people.operator, people.reviewer}
    inactive = user(R.LEGAL_REVIEWER, is_active=False)
    assert inactive not in holders.holders(p)
    Permit.objects.filter(pk=p.pk).update(pending_approver="")
    p.refresh_from_db()
    assert holders.holders(p) == [people.operator]


def test_notify(people):
    t = ticket(people, kind="simple")
    assert holders.notify([people.handler, people.handler2], t, "urged", "x" * 400) == 2
    n = Notification.objects.filter(user=people.handler).get()
    assert (n.object_id, n.kind, n.message, n.read_at) == (t.pk, "urged", "x" * 300, None)
    assert holders.notify([], t, "urged", "m") == 0


# --- diagram ----------------------------------------------------------------------------------


def test_mermaid_diagram():
    assert diagram.mermaid(flows.INSPECTION).splitlines() == [
        "stateDiagram-v2",
        '    state "Open" as open',
        '    state "Closed" as closed',
        "    [*] --> open: start (inspector)",
        "    open --> open: find (inspector)",
        "    open --> closed: close (inspector)",
        "    closed --> [*]",
    ]
    lines = diagram.mermaid(flows.GENERAL).splitlines()
    assert "    [*] --> registered: report (collector, operator)" in lines
    assert (
        "    registered --> registered: urge (leader)" in lines and "    handling --> handling: urge (leader)" in lines
    )
    assert "    review --> closed: auto_close (system)" in lines
    assert lines[-1] == "    closed --> [*]"
    assert diagram.mermaid(flows.PERMIT).splitlines()[-2:] == ["    granted --> [*]", "    refused --> [*]"]


def test_markdown_document():
    text = diagram.document(flows.HAZARD)
    assert text.startswith("# Workflow `toy_hazard`\n")
    assert "```mermaid\nstateDiagram-v2\n" in text
    assert "| raise | (new) | open | inspector | title (text) |" in text
    assert "| fix | open | fixed | handler | — |" in text
    doc = diagram.document(flows.GENERAL)
    assert "| suspend | handling | suspended | handler | reason* (textarea) |" in doc
    assert "| urge | registered, handling | (same) | leader | note (text) |" in doc
    assert "| auto_close | review | closed | system | — |" in doc


def test_held_states_are_the_states_of_the_users_holds_and_approvals():
    """The case loop: a handler holds cases only in handling; a dispatcher in registered and
    return requested, and wherever an extension/suspension/void request they decide can wait."""
    from urbangrid.cases.loop import URBAN_LOOP
    from urbangrid.cases.models import Case
    from urbangrid.workflow.holders import held_states

    class Person:
        def __init__(self, *roles):
            self.roles = set(roles)

        def has_role(self, *roles):
            return bool(self.roles & set(roles))

    assert held_states(Case, Person("handler")) == ["handling"]
    dispatcher = set(held_states(Case, Person("dispatcher")))
    assert {"registered", "return_requested", "handling"} <= dispatcher
    assert "checking" not in dispatcher and "feedback" not in dispatcher
    decided = {s for t in URBAN_LOOP.transitions if t.decides in ("extension", "suspension") for s in t.sources}
    assert decided <= dispatcher
    assert held_states(Case, Person("citizen")) == []
