"""The toy definitions: small, but using every feature of the engine."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import kit
from urbangrid.workflow.definition import (
    Approval,
    Clock,
    Hold,
    I,
    T,
    Workflow,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)
from urbangrid.workflow.registry import register


def late(factory, *args):
    """`factory(*args)` built anew at each call: the kit's guards and effects are then built while
    a test runs, not when this module is imported (mutation testing sees their code run)."""

    def run(ctx):
        return factory(*args)(ctx)

    run.__name__ = factory.__name__
    return run


def dept_scope(user) -> Q:
    """City-wide staff see everything (an empty Q), the others their department's tickets."""
    return Q() if user.scope_city else Q(department_id=user.department_id)


def visible_tickets(user):
    from .models import Ticket

    return Ticket.objects.filter(dept_scope(user))


def set_title(ctx) -> None:
    ctx.obj.title = ctx.data["title"]


def set_department(ctx) -> None:
    ctx.obj.department = ctx.data["department"]


def find_department(ctx, value):
    from urbangrid.core.models import Department

    return Department.objects.filter(pk=value).first() if str(value).isdigit() else None


def extend(ctx) -> None:
    ctx.set_deadline(ctx.data["until"], provisional=ctx.data.get("provisional", False))


def handlers_of(ticket):
    from urbangrid.core.models import User

    return User.objects.filter(department_id=ticket.department_id, roles__code=R.HANDLER).order_by("pk")


SIMPLE = Workflow(
    name="toy_simple",
    label="Simple ticket",
    states={"open": "Open", "done": "Done"},
    transitions=[
        T(
            "open",
            (),
            "open",
            roles=R.COLLECTOR,
            label="Open",
            inputs=[I("title", "Title", required=True)],
            effects=[set_title],
            timer="fix",
        ),
        T("finish", "open", "done", roles=R.HANDLER, label="Finish"),
    ],
    final=["done"],
    timers={"fix": lambda obj: (4, "working_hours")},
    holders={"open": [Hold(R.HANDLER)]},
)

GENERAL = Workflow(
    name="toy_general",
    label="General ticket",
    states={
        "registered": "Registered",
        "handling": "Handling",
        "suspended": "Suspended",
        "review": "Review",
        "closed": "Closed",
    },
    transitions=[
        T(
            "report",
            (),
            "registered",
            roles=(R.COLLECTOR, R.OPERATOR),
            label="Report",
            inputs=[I("title", "Title", required=True, max_length=20)],
            effects=[set_title],
            timer="register",
        ),
        T(
            "dispatch",
            "registered",
            "handling",
            roles=R.DISPATCHER,
            label="Dispatch",
            inputs=[I("department", "Department", "ref", required=True, lookup=find_department)],
            effects=[set_department],
            timer="handle",
        ),
        T(
            "suspend",
            "handling",
            "suspended",
            roles=R.HANDLER,
            label="Suspend",
            inputs=[I("reason", "Reason", "textarea", required=True)],
            guards=[late(kit.in_scope, dept_scope)],
            clock=Clock.PAUSE,
        ),
        T(
            "resume",
            "suspended",
            "handling",
            roles=R.HANDLER,
            label="Resume",
            guards=[late(kit.in_scope, dept_scope)],
            clock=Clock.RESUME,
        ),
        T(
            "extend",
            "handling",
            None,
            roles=R.SHIFT_LEADER,
            label="Extend",
            inputs=[I("until", "Until", "datetime", required=True), I("provisional", "Provisional", "bool")],
            effects=[extend],
        ),
        T("urge", ("registered", "handling"), None, roles=R.LEADER, label="Urge", inputs=[I("note", "Note")]),
        T(
            "finish",
            "handling",
            "review",
            roles=R.HANDLER,
            label="Finish",
            inputs=[I("result", "Result", "textarea", required=True), I("photos", "Photos", "photos", required=True)],
            guards=[late(kit.in_scope, dept_scope, "Not your department's ticket.")],
            effects=[late(kit.photos, "after")],
        ),
        T("close", "review", "closed", roles=R.SHIFT_LEADER, label="Close"),
        T("auto_close", "review", "closed", roles=(), label="Close automatically", system=True),
    ],
    final=["closed"],
    timers={"register": lambda obj: (Decimal("0.5"), "working_hours"), "handle": lambda obj: (1, "working_days")},
    holders={
        "registered": [Hold(R.DISPATCHER)],
        "handling": [
            Hold(
                R.HANDLER,
                where=lambda u: Q(department_id=u.department_id) if u.department_id else None,
                users=handlers_of,
            ),
        ],
        "suspended": [Hold(R.SHIFT_LEADER)],
        "review": [Hold(R.SHIFT_LEADER)],
    },
    escalate={"handling": R.LEADER},
)


def spawn_hazards(ctx):
    from .models import Hazard

    return [(Hazard(), "raise", {"title": f"hazard {i + 1}"}) for i in range(ctx.data["hazards"])]


def hazard_title(ctx) -> None:
    ctx.obj.title = ctx.data.get("title", "")


INSPECTION = Workflow(
    name="toy_inspection",
    states={"open": "Open", "closed": "Closed"},
    transitions=[
        T("start", (), "open", roles=R.INSPECTOR, label="Start"),
        T(
            "find",
            "open",
            None,
            roles=R.INSPECTOR,
            label="Find hazards",
            inputs=[I("hazards", "Hazards", "int", required=True, min_value=1, max_value=3)],
            effects=[late(kit.spawn, spawn_hazards)],
        ),
        T("close", "open", "closed", roles=R.INSPECTOR, label="Close", guards=[late(kit.children_finished)]),
    ],
    final=["closed"],
)

HAZARD = Workflow(
    name="toy_hazard",
    states={"open": "Open", "fixed": "Fixed"},
    transitions=[
        T("raise", (), "open", roles=R.INSPECTOR, label="Raise", inputs=[I("title", "Title")], effects=[hazard_title]),
        T("fix", "open", "fixed", roles=R.HANDLER, label="Fix"),
    ],
    final=["fixed"],
)


def set_amount(ctx) -> None:
    ctx.obj.amount = ctx.data["amount"]


def apply_waiver(ctx) -> None:
    ctx.obj.waived = Decimal(ctx.obj.pending_data["amount"])


PERMIT = Workflow(
    name="toy_permit",
    states={"applied": "Applied", "hearing": "Hearing", "granted": "Granted", "refused": "Refused"},
    approvals=[
        Approval(
            "waiver",
            "Waiver",
            approver=R.LEGAL_REVIEWER,
            higher=R.LEADER,
            needs_higher=lambda ctx: ctx.data["amount"] > Decimal(10000),
        ),
    ],
    transitions=[
        T(
            "apply",
            (),
            "applied",
            roles=R.OPERATOR,
            label="Apply",
            inputs=[
                I("served_on", "Served on", "date", required=True),
                I("amount", "Amount", "decimal", required=True, min_value=0),
            ],
            effects=[set_amount],
            timer="review",
            clocks=[
                start_clock("decide", (20, "working_days"), from_input="served_on"),
                start_clock("notice", (48, "hours")),
                start_clock("pay", lambda ctx: (15, "days"), from_input="served_on"),
            ],
        ),
        T(
            "request_waiver",
            "applied",
            None,
            roles=R.OPERATOR,
            label="Request a waiver",
            inputs=[I("amount", "Amount", "decimal", required=True), I("reason", "Reason", "textarea")],
            guards=[kit.no_pending],
            effects=[late(kit.request, "waiver")],
        ),
        T(
            "approve_waiver",
            "applied",
            None,
            roles=(R.LEGAL_REVIEWER, R.LEADER),
            label="Approve the waiver",
            guards=[late(kit.pending, "waiver")],
            effects=[apply_waiver, kit.clear_request],
            decides="waiver",
        ),
        T(
            "refuse_waiver",
            "applied",
            None,
            roles=(R.LEGAL_REVIEWER, R.LEADER),
            label="Refuse the waiver",
            guards=[late(kit.pending, "waiver")],
            effects=[kit.clear_request],
            decides="waiver",
        ),
        T(
            "hearing",
            "applied",
            "hearing",
            roles=R.OPERATOR,
            label="Hold a hearing",
            clock=Clock.KEEP,
            clocks=[pause_clock("decide")],
        ),
        T(
            "heard",
            "hearing",
            "applied",
            roles=R.OPERATOR,
            label="Hearing held",
            clock=Clock.KEEP,
            clocks=[resume_clock("decide")],
        ),
        T(
            "restart",
            "applied",
            None,
            roles=R.OPERATOR,
            label="Serve again",
            inputs=[I("served_on", "Served on", "date", required=True)],
            clocks=[start_clock("decide", (10, "working_days"), from_input="served_on")],
        ),
        T("grant", ("applied", "hearing"), "granted", roles=R.LEADER, label="Grant", clocks=[stop_clock("decide")]),
        T(
            "refuse",
            "applied",
            "refused",
            roles=R.LEADER,
            label="Refuse",
            clocks=[stop_clock("decide"), stop_clock("notice")],
        ),
    ],
    final=["granted", "refused"],
    timers={"review": lambda obj: (5, "working_days")},
    holders={"applied": [Hold(R.OPERATOR)]},
)


def visible_permits(user):
    from .models import Permit

    if user.has_role(R.OPERATOR, R.LEGAL_REVIEWER, R.LEADER):
        return Permit.objects.all()
    return Permit.objects.none()


def register_all() -> None:
    from .models import Hazard, Inspection, Permit, Ticket

    register(
        Ticket,
        SIMPLE,
        GENERAL,
        choose=lambda t: "toy_general" if t.kind == "general" else "toy_simple",
        visible=visible_tickets,
    )
    register(Inspection, INSPECTION, visible=lambda u: Inspection.objects.all())
    register(Hazard, HAZARD)  # no `visible`: nobody but the uploader reads a hazard's files
    register(Permit, PERMIT, visible=visible_permits)
