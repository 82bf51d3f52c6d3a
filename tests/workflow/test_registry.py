"""Registrations: several definitions per model chosen per object, unregistered models, and the
checks a definition makes of itself."""

from __future__ import annotations

import pytest

from tests.workflow.toy import flows
from tests.workflow.toy.models import Hazard, Inspection, Orphan, Permit, Ticket
from tests.workflow.util import at, exactly, step
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import engine, registry
from urbangrid.workflow.definition import Approval, Clock, Hold, I, T, Workflow
from urbangrid.workflow.errors import Invalid

NOW = at(2026, 10, 12, 9)


@pytest.fixture
def saved_registry():
    by_model, by_name = dict(registry._BY_MODEL), dict(registry._BY_NAME)
    yield
    registry._BY_MODEL.clear()
    registry._BY_MODEL.update(by_model)
    registry._BY_NAME.clear()
    registry._BY_NAME.update(by_name)


def test_two_definitions_for_one_model_chosen_per_object(people):
    simple, general = Ticket(kind="simple"), Ticket(kind="general")
    engine.create(simple, "open", people.collector, data={"title": "a"}, now=NOW)
    engine.create(general, "report", people.collector, data={"title": "b"}, now=NOW)
    simple.refresh_from_db()
    general.refresh_from_db()
    assert (simple.workflow, simple.state, simple.get_workflow()) == ("toy_simple", "open", flows.SIMPLE)
    assert (general.workflow, general.state, general.get_workflow()) == ("toy_general", "registered", flows.GENERAL)
    # each object follows its own definition: "finish" differs between them
    step(simple, "finish", people.handler, NOW)
    assert simple.state == "done"
    with pytest.raises(Invalid, match=exactly("Unknown operation “dispatch”.")):
        step(simple, "dispatch", people.dispatcher, NOW, department=people.dept.pk)
    with pytest.raises(Invalid, match=exactly("Unknown operation “report”.")):
        engine.create(Ticket(kind="simple"), "report", people.collector, data={"title": "c"}, now=NOW)


def test_a_preset_workflow_wins_over_the_chooser(people):
    t = Ticket(kind="simple", workflow="toy_general")
    engine.create(t, "report", people.collector, data={"title": "a"}, now=NOW)
    assert (t.workflow, t.state) == ("toy_general", "registered")
    with pytest.raises(LookupError, match=exactly("Ticket has no workflow 'nope'")):
        engine.create(Ticket(workflow="nope"), "open", people.collector, data={"title": "a"}, now=NOW)
    with pytest.raises(LookupError, match=exactly("Ticket has no workflow 'toy_permit'")):
        registry.choose(Ticket(workflow="toy_permit"))


def test_without_a_chooser_the_first_definition_is_followed(saved_registry):
    registry.register(Ticket, flows.GENERAL, flows.SIMPLE)
    assert registry.choose(Ticket(kind="simple")) is flows.GENERAL
    assert registry.registration(Ticket).default is flows.GENERAL
    assert registry.visible_objects(Ticket, None).count() == 0  # registered without `visible`


def test_an_existing_object_follows_its_stored_definition_or_the_default():
    assert registry.workflow_for(Ticket(workflow="toy_general")) is flows.GENERAL
    assert registry.workflow_for(Ticket(workflow="toy_simple")) is flows.SIMPLE
    assert registry.workflow_for(Ticket(workflow="")) is flows.SIMPLE
    assert registry.workflow_for(Ticket(workflow="gone")) is flows.SIMPLE


def test_unregistered_model(people):
    with pytest.raises(LookupError, match=exactly("Orphan runs no registered workflow")):
        engine.create(Orphan(), "start", people.inspector, now=NOW)
    with pytest.raises(LookupError, match=exactly("Orphan runs no registered workflow")):
        registry.workflows(Orphan)
    with pytest.raises(LookupError):
        Orphan(workflow="toy_simple").get_workflow()
    assert Orphan.objects.count() == 0


def test_registry_lookups():
    assert registry.get("toy_permit") is flows.PERMIT
    assert registry.workflows(Ticket) == [flows.SIMPLE, flows.GENERAL]
    assert {Ticket, Inspection, Hazard, Permit} <= set(registry.models())
    assert Orphan not in registry.models()
    reg = registry.registration(Ticket)
    assert (reg.model, list(reg.workflows)) == (Ticket, ["toy_simple", "toy_general"])


def test_register_checks_and_replaces(saved_registry):
    with pytest.raises(ValueError, match=exactly("register at least one workflow")):
        registry.register(Orphan)
    with pytest.raises(ValueError, match=exactly("workflow toy_simple is already registered for Ticket")):
        registry.register(Orphan, flows.SIMPLE)
    assert Orphan not in registry.models()
    # registering again replaces: the old definitions' names are free again
    registry.register(Ticket, flows.GENERAL)
    assert registry.workflows(Ticket) == [flows.GENERAL]
    registry.register(Orphan, flows.SIMPLE)
    assert registry.get("toy_simple") is flows.SIMPLE and registry.workflows(Orphan) == [flows.SIMPLE]
    registry.unregister(Orphan)
    assert Orphan not in registry.models()
    with pytest.raises(KeyError):
        registry.get("toy_simple")
    registry.unregister(Orphan)  # twice: nothing to do
    assert registry.get("toy_general") is flows.GENERAL


def _wf(**kw):
    base = {"name": "w", "states": {"a": "A", "b": "B"}, "transitions": [T("go", "a", "b", roles="x", label="Go")]}
    return Workflow(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"final": ["z"]}, "w: unknown final state z"),
        ({"transitions": [T("go", "a", "b", roles="x", label="Go")] * 2}, "w: duplicate transition go"),
        ({"transitions": [T("go", "a", "z", roles="x", label="Go")]}, "w.go: unknown state z"),
        ({"transitions": [T("go", "z", None, roles="x", label="Go")]}, "w.go: unknown state z"),
        ({"transitions": [T("go", "a", "b", roles="x", label="Go", timer="t")]}, "w.go: unknown timer t"),
        ({"transitions": [T("go", "a", "b", roles="x", label="Go", decides="k")]}, "w.go: unknown approval k"),
        (
            {"transitions": [T("go", "a", "b", roles="x", label="Go", inputs=[I("n", "N"), I("n", "N")])]},
            "w.go: duplicate or reserved input name",
        ),
        (
            {"transitions": [T("go", "a", "b", roles="x", label="Go", inputs=[I("version", "V")])]},
            "w.go: duplicate or reserved input name",
        ),
        ({"holders": {"z": [Hold("x")]}}, "w: holders for unknown state z"),
    ],
)
def test_a_definition_checks_itself(kw, message):
    with pytest.raises(ValueError) as exc:
        _wf(**kw)
    assert str(exc.value) == message


def test_a_valid_definition_with_everything():
    wf = _wf(
        transitions=[
            T("new", (), "a", roles=["x", "y"], label="New", timer="t"),
            T("go", "a", "b", roles="x", label="Go", decides="k", inputs=[I("n", "N")]),
        ],
        timers={"t": lambda o: None},
        approvals=[Approval("k", "K", approver="x")],
        holders={"a": [Hold("x")]},
        final=["b"],
    )
    assert wf.final == frozenset({"b"})
    assert wf.open_states == ["a"]
    assert wf.approval_by_kind == {"k": wf.approvals[0]}
    assert [t.name for t in wf.operations()] == ["go"]
    assert wf.get("new").roles == ("x", "y") and wf.get("go").roles == ("x",)
    assert wf.state_label("a") == "A" and wf.state_label("zz") == "zz"


def test_transition_shorthand_and_clock_defaults():
    t = T("go", ["a", "b"], None, roles="x", label="Go", inputs=[I("n", "N"), I("m", "M", "int")])
    assert t.sources == ("a", "b") and t.roles == ("x",)
    assert t.clock_op is Clock.KEEP and not t.is_creation
    assert t.input("m").type == "int" and t.input("zz") is None
    assert T("go", "a", "b", roles="x", label="Go").clock_op is Clock.CLEAR
    assert T("go", "a", "b", roles="x", label="Go", timer="t").clock_op is Clock.START
    assert T("go", "a", None, roles="x", label="Go", timer="t").clock_op is Clock.START
    assert T("go", "a", "b", roles="x", label="Go", timer="t", clock=Clock.PAUSE).clock_op is Clock.PAUSE
    assert T("go", "a", None, roles="x", label="Go", clock=Clock.RESUME).clock_op is Clock.RESUME
    assert T("new", (), "a", roles="x", label="New").is_creation
    t = T("go", "a", "b", roles=("x", "y"), label="Go", guards=[print], effects=[len], system=True, help="h")
    assert (t.guards, t.effects, t.system, t.help, t.decides, t.clocks) == ((print,), (len,), True, "h", "", ())


def test_role_choice_takes_the_first_role_the_actor_has(people):
    from urbangrid.workflow.definition import pick_role

    t = T("go", "a", "b", roles=(R.LEADER, R.OPERATOR, R.DISPATCHER), label="Go")
    assert pick_role(people.operator, t) == R.OPERATOR
    both = people.operator
    both.roles.add(*people.leader.roles.all())
    both._role_codes = None
    assert pick_role(both, t) == R.LEADER
    assert pick_role(people.collector, t, raise_=False) is None
    assert pick_role(None, t, raise_=False) is None
