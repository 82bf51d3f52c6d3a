"""The urban-management case loop (七步闭环) as one workflow definition.

信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查结案 (→ 综合评价 reads the history).
Read the table `URBAN_LOOP` top to bottom: each row is one operation with the role that
may perform it, the states it starts from and leads to, its required inputs, its guards
(scope and business rules), its effects and the stage timer it starts.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from urbangrid.core.models import Department
from urbangrid.core.roles import RoleCode as R
from urbangrid.core.scope import department_ids_for, scope_q
from urbangrid.workflow.engine import Clock, Context, T, Workflow, fetch, writes
from urbangrid.workflow.errors import Invalid, NotAllowed

from .models import (
    OPEN_STATES,
    Case,
    CitizenRating,
    Dispute,
    Notification,
    PendingRequest,
    Satisfaction,
    Source,
    StageLimit,
)
from .models import State as S

#: states from which a registered case may be voided (作废): registered and later, still open
VOIDABLE = [s for s in OPEN_STATES if s not in (S.REPORTED, S.VERIFYING)]

# --- guards -----------------------------------------------------------------------------


def in_scope(ctx: Context) -> None:
    """Center staff act only on cases inside their scope (city-wide, division or department)."""
    q = scope_q(ctx.actor, department="department", grid="unit_grid", grid_code="unit_grid__code")
    if q and not Case.objects.filter(q, pk=ctx.obj.pk).exists():
        raise NotAllowed(_("This case is outside your area of responsibility."))


def own_grid(ctx: Context) -> None:
    """Collectors act only inside the work grids assigned to them."""
    case: Case = ctx.obj
    if case.work_grid_id is None or not case.work_grid.collectors.filter(pk=ctx.actor.pk).exists():
        raise NotAllowed(_("This case is not in one of your grids."))


def assigned_department(ctx: Context) -> None:
    """Only the department the case is dispatched to (or one of its sub-units) may act."""
    case: Case = ctx.obj
    if case.department_id is None or (
        case.department_id not in department_ids_for(ctx.actor)
        and not (ctx.actor.department_id and case.department_id in _ancestors(ctx.actor.department_id))
    ):
        raise NotAllowed(_("This case is not assigned to your department."))


def _ancestors(dept_id: int) -> set[int]:
    ids, current = set(), Department.objects.filter(pk=dept_id).values_list("parent_id", flat=True).first()
    while current and current not in ids:
        ids.add(current)
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return ids | {dept_id}


def verified_if_public(ctx: Context) -> None:
    """Reports that did not come from a collector must be verified on site first (核实)."""
    case: Case = ctx.obj
    if case.source != Source.COLLECTOR and case.verified is not True:
        raise Invalid(_("Reports from the public must be verified on site by the grid's collector first."))


def self_fix_allowed(ctx: Context) -> None:
    if not ctx.obj.category.self_fix_allowed:
        raise Invalid(_("Category “%(cat)s” cannot be fixed on the spot by a collector.") % {"cat": ctx.obj.category})


def no_pending(ctx: Context) -> None:
    if ctx.obj.pending_request:
        raise Invalid(
            _("There is already a pending request (%(req)s); wait for its decision.")
            % {"req": PendingRequest(ctx.obj.pending_request).label}
        )


def pending(kind: str):
    def guard(ctx: Context) -> None:
        if ctx.obj.pending_request != kind:
            raise Invalid(_("There is no pending %(req)s to decide.") % {"req": PendingRequest(kind).label})

    guard.__name__ = f"pending_{kind}"
    return guard


def before_deadline(ctx: Context) -> None:
    if ctx.obj.deadline and ctx.now > ctx.obj.deadline:
        raise Invalid(_("An extension must be requested before the deadline."))


_DEPARTMENTS: dict[str, Any] = {"rows": None, "at": 0.0}
DEPARTMENT_TTL = 60.0


def _active_departments() -> dict[int, Department]:
    """Active departments by key, cached per process for DEPARTMENT_TTL seconds (cleared when a
    department is saved here); every use is checked again by the database when it writes."""
    now = time.monotonic()
    rows = _DEPARTMENTS["rows"]
    if rows is None or now - _DEPARTMENTS["at"] > DEPARTMENT_TTL:
        rows = {d.pk: d for d in Department.objects.filter(is_active=True)}
        _DEPARTMENTS.update(rows=rows, at=now)
    return rows


def clear_department_cache(**kwargs) -> None:
    _DEPARTMENTS["rows"] = None


def valid_department(ctx: Context) -> None:
    raw = ctx.data.get("department")
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        pk = 0
    dept = None if ctx.fresh else _active_departments().get(pk)
    if dept is not None:
        # the cache may be a minute old: the write happens only if the department is still active
        ctx.require(f"EXISTS (SELECT 1 FROM {Department._meta.db_table} WHERE id = %s AND is_active)", [pk])
    elif 0 < pk < 2**63:
        dept = fetch(Department, pk, is_active=True)
    if dept is None:
        raise Invalid(_("Unknown department “%(d)s”.") % {"d": raw}, fields={"department": _("Unknown department.")})
    ctx.data["department"] = dept


def valid_extension(ctx: Context) -> None:
    try:
        amount = Decimal(str(ctx.data.get("amount")))
    except ArithmeticError:
        amount = Decimal(0)
    if amount <= 0 or amount > 1000:
        raise Invalid(_("The extension must be a positive amount."), fields={"amount": _("Enter a positive number.")})
    unit = ctx.data.get("unit") or ctx.obj.stage_limit_unit or "working_days"
    if unit not in {"working_hours", "working_days", "hours"}:
        raise Invalid(_("Unknown time unit “%(u)s”.") % {"u": unit}, fields={"unit": _("Unknown unit.")})
    ctx.data["amount"], ctx.data["unit"] = amount, unit


def valid_merge_target(ctx: Context) -> None:
    raw = ctx.data.get("target")
    target = Case.objects.filter(number=str(raw)).first()
    if target is None and str(raw).isdigit() and len(str(raw)) < 16:
        target = Case.objects.filter(pk=int(raw)).first()
    if target is None or target.pk == ctx.obj.pk:
        raise Invalid(_("Choose another existing case to merge into."), fields={"target": _("Unknown case.")})
    if target.state not in OPEN_STATES:
        raise Invalid(_("Case %(n)s is already finished; it cannot take duplicates.") % {"n": target.number})
    ctx.data["target"] = target


def verify_result_given(ctx: Context) -> None:
    if ctx.data.get("exists") not in (True, False, "true", "false", "1", "0", 1, 0):
        raise Invalid(_("Say whether the problem exists on site."), fields={"exists": _("Required: true or false.")})
    ctx.data["exists"] = ctx.data["exists"] in (True, "true", "1", 1)


# --- effects ----------------------------------------------------------------------------


def photos(kind: str):
    """Claim the uploaded attachments named in data['photos'] for this operation."""

    @writes
    def effect(ctx: Context) -> None:
        from .actions import claim_attachments

        ctx.attachments = claim_attachments(ctx.obj, ctx.actor, ctx.data.get("photos") or [], kind, ctx.obj.version + 1)

    effect.__name__ = f"photos_{kind}"
    return effect


def record_verification(ctx: Context) -> None:
    ctx.obj.verified = ctx.data["exists"]
    ctx.payload["exists"] = ctx.data["exists"]


def register(ctx: Context) -> None:
    case: Case = ctx.obj
    urgency = ctx.data.get("urgency") or case.urgency
    if urgency not in {"urgent", "normal"}:
        raise Invalid(_("Urgency must be “urgent” or “normal”."), fields={"urgency": _("Unknown urgency.")})
    case.urgency = urgency
    case.registered_at = ctx.now
    ctx.payload["urgency"] = urgency


def dispatch(ctx: Context) -> None:
    case: Case = ctx.obj
    dept: Department = ctx.data["department"]
    if case.department_id and case.department_id != dept.pk:
        ctx.payload["previous_department"] = case.department_id
    case.department = dept
    case.dispatched_at = case.dispatched_at or ctx.now
    ctx.payload["department"] = dept.pk
    ctx.payload["department_name"] = dept.name
    ctx.payload["suggested"] = case.suggested_department_id == dept.pk


def feedback(ctx: Context) -> None:
    ctx.obj.handled_at = ctx.now
    ctx.payload["result"] = str(ctx.data.get("result", ""))


def rework(ctx: Context) -> None:
    ctx.obj.rework_count += 1
    ctx.obj.handled_at = None
    ctx.payload["rework_count"] = ctx.obj.rework_count


def count_return(ctx: Context) -> None:
    ctx.obj.return_count += 1
    ctx.payload["returned_department"] = ctx.obj.department_id


def clear_department(ctx: Context) -> None:
    ctx.obj.department = None


def request(kind: str):
    def effect(ctx: Context) -> None:
        ctx.obj.pending_request = kind
        data = {k: str(v) for k, v in ctx.data.items() if k in {"amount", "unit", "reason"}}
        ctx.obj.pending_data = data
        ctx.payload.update(data)

    effect.__name__ = f"request_{kind}"
    return effect


def clear_request(ctx: Context) -> None:
    ctx.payload["request"] = ctx.obj.pending_request
    ctx.obj.pending_request = ""
    ctx.obj.pending_data = {}


def extend(ctx: Context) -> None:
    from urbangrid.workflow.engine import add_time

    case: Case = ctx.obj
    req = case.pending_data
    amount = Decimal(str(ctx.data.get("amount") or req.get("amount")))
    unit = ctx.data.get("unit") or req.get("unit") or case.stage_limit_unit or "working_days"
    base = case.deadline or ctx.now
    at, provisional = add_time(base, amount, unit)
    ctx.set_deadline(at, provisional)
    case.extension_count += 1
    ctx.payload.update({"amount": str(amount), "unit": unit, "new_deadline": at.isoformat()})
    clear_request(ctx)


@writes
def urge(ctx: Context) -> None:
    ctx.obj.urged_count += 1
    ctx.payload["urged_count"] = ctx.obj.urged_count
    _notify_department(ctx, "urged", _("Case %(n)s was urged: %(r)s"))


@writes
def supervise(ctx: Context) -> None:
    ctx.obj.supervised = True
    _notify_department(ctx, "supervised", _("Case %(n)s is now supervised: %(r)s"))


def _notify_department(ctx: Context, kind: str, template: str) -> None:
    from .actions import notify_department

    case = ctx.obj
    notify_department(case, kind, template % {"n": case.number, "r": ctx.data.get("reason", "")})


def close(ctx: Context) -> None:
    ctx.obj.closed_at = ctx.now


def self_fix(ctx: Context) -> None:
    ctx.obj.self_handled = True
    ctx.obj.verified = True
    ctx.obj.registered_at = ctx.obj.closed_at = ctx.obj.handled_at = ctx.now


def merge(ctx: Context) -> None:
    target: Case = ctx.data["target"]
    ctx.obj.merged_into = target
    ctx.payload["merged_into"] = target.number


# --- timers -------------------------------------------------------------------------------


_STAGE_LIMITS: dict[str, object] = {"rows": None, "at": 0.0}
STAGE_LIMIT_TTL = 30.0


def _stage_limit_rows() -> dict[tuple[str, str], tuple[Decimal, str]]:
    """Stage limits by (stage, urgency), cached per process; cleared when a row is saved here,
    and re-read at least every STAGE_LIMIT_TTL seconds for changes made in other processes."""
    now = time.monotonic()
    rows = _STAGE_LIMITS["rows"]
    if rows is None or now - float(_STAGE_LIMITS["at"]) > STAGE_LIMIT_TTL:
        rows = {(r.stage, r.urgency): (r.amount, r.unit) for r in StageLimit.objects.all()}
        _STAGE_LIMITS.update(rows=rows, at=now)
    return rows  # type: ignore[return-value]


def clear_stage_limit_cache(**kwargs) -> None:
    _STAGE_LIMITS["rows"] = None


def _configured(stage: str, urgency: str) -> tuple[Decimal, str] | None:
    rows = _stage_limit_rows()
    return rows.get((stage, urgency)) or rows.get((stage, ""))


def stage_limit(stage: str, default: tuple[str, str]):
    def timer(case: Case):
        return _configured(stage, case.urgency) or (Decimal(default[0]), default[1])

    return timer


def dispatch_timer(case: Case):
    return _configured("dispatch", case.urgency) or (case.category.dispatch_limit_hours, "working_hours")


def handle_timer(case: Case):
    """The category's handling limit (处置时限), its urgent variant for urgent cases."""
    cat = case.category
    if case.urgency == "urgent" and cat.urgent_handle_limit and cat.urgent_handle_unit:
        return cat.urgent_handle_limit, cat.urgent_handle_unit
    if cat.handle_limit and cat.handle_unit:
        return cat.handle_limit, cat.handle_unit
    return Decimal(1), "working_days"


# --- the public's side: return visits, ratings and disputed fixes (回访 / 评价 / 复核) ---------

#: How often one case may be disputed; after that the reporter is referred to the hotline.
MAX_DISPUTES = 3


def scope_or_reporter(ctx: Context) -> None:
    """Staff act within their scope; a citizen account only on cases it reported itself."""
    if ctx.role == R.CITIZEN:
        if ctx.obj.reported_by_id != ctx.actor.pk:
            raise NotAllowed(_("Only the reporter may do this."))
    else:
        in_scope(ctx)


def has_contact(ctx: Context) -> None:
    if not (ctx.obj.reporter_phone or ctx.obj.reporter_email):
        raise Invalid(_("The reporter left no contact data; there is nobody to call back."))


def handled_by_department(ctx: Context) -> None:
    case: Case = ctx.obj
    if case.department_id is None:
        raise Invalid(_("No department handled this case; report the problem again as a new case."))
    if Dispute.objects.filter(case=case).count() >= MAX_DISPUTES:
        raise Invalid(_("This case was already re-checked %(n)d times; call the hotline.") % {"n": MAX_DISPUTES})


def satisfaction(name: str):
    def check(ctx: Context) -> None:
        if ctx.data.get(name) not in Satisfaction.values:
            raise Invalid(
                _("Choose one of: %(v)s.") % {"v": ", ".join(Satisfaction.values)},
                fields={name: _("Unknown value.")},
            )

    check.__name__ = f"valid_{name}"
    return check


def not_rated_yet(ctx: Context) -> None:
    if CitizenRating.objects.filter(case=ctx.obj, closed_at=ctx.obj.closed_at).exists():
        raise Invalid(_("The result of this case has already been rated."))


@writes
def record_return_visit(ctx: Context) -> None:
    from .models import ReturnVisit

    visit = ReturnVisit.objects.create(
        case=ctx.obj,
        outcome=ctx.data["outcome"],
        not_fixed=bool(ctx.data.get("not_fixed")),
        note=str(ctx.data.get("note", "")),
        visited_by=ctx.actor,
        visited_at=ctx.now,
        history_seq=ctx.obj.version + 1,
    )
    ctx.payload.update({"outcome": visit.outcome, "not_fixed": visit.not_fixed})


@writes
def record_rating(ctx: Context) -> None:
    CitizenRating.objects.create(
        case=ctx.obj,
        rating=ctx.data["rating"],
        comment=str(ctx.data.get("comment", "")),
        closed_at=ctx.obj.closed_at,
        rated_at=ctx.now,
    )
    ctx.payload["rating"] = ctx.data["rating"]


@writes
def open_dispute(ctx: Context) -> None:
    case: Case = ctx.obj
    channel = str(ctx.data.get("channel") or ("portal" if ctx.role == R.CITIZEN else "return_visit"))
    Dispute.objects.create(
        case=case, channel=channel, reason=str(ctx.data["reason"]), department_id=case.department_id, raised_at=ctx.now
    )
    case.closed_at = None
    ctx.payload.update({"channel": channel, "department": case.department_id})
    if case.work_grid_id:
        text = _("Case %(n)s: the reporter says it is not fixed. Re-check it on site.") % {"n": case.number}
        Notification.objects.bulk_create(
            Notification(user=u, case=case, kind="recheck", message=text[:300])
            for u in case.work_grid.collectors.filter(is_active=True)
        )


def decide_dispute(outcome: str):
    @writes
    def effect(ctx: Context) -> None:
        Dispute.objects.filter(case=ctx.obj, outcome="").update(outcome=outcome, decided_at=ctx.now)
        ctx.payload["dispute"] = outcome

    effect.__name__ = f"dispute_{outcome}"
    return effect


# --- the definition -----------------------------------------------------------------------

COLLECTOR, OPERATOR, SHIFT, DISPATCHER, HANDLER, LEADER = (
    R.COLLECTOR,
    R.OPERATOR,
    R.SHIFT_LEADER,
    R.DISPATCHER,
    R.HANDLER,
    R.LEADER,
)

URBAN_LOOP = Workflow(
    name="urban_case",
    states=dict(S.choices),
    timers={
        "accept": stage_limit("accept", ("0.5", "working_hours")),
        "verify": stage_limit("verify", ("1", "working_hours")),
        "register": stage_limit("register", ("0.5", "working_hours")),
        "dispatch": dispatch_timer,
        "handle": handle_timer,
        "rework": handle_timer,
        "send_check": stage_limit("send_check", ("0.5", "working_hours")),
        "check": stage_limit("check", ("1", "working_hours")),
        "close": stage_limit("close", ("1", "working_hours")),
        "approve": stage_limit("approve", ("1", "working_hours")),
    },
    transitions=[
        # 1 信息收集: report, verification of public reports, quick self-fix
        T(
            "report",
            (),
            S.REPORTED,
            roles=(COLLECTOR, OPERATOR, SHIFT, LEADER, R.CITIZEN, R.ADMINISTRATOR),
            label=_("report"),
            timer="accept",
        ),
        T(
            "send_verify",
            S.REPORTED,
            S.VERIFYING,
            roles=OPERATOR,
            label=_("send for verification"),
            guards=[in_scope],
            timer="verify",
        ),
        T(
            "verify",
            S.VERIFYING,
            S.REPORTED,
            roles=COLLECTOR,
            label=_("verify on site"),
            needs=["photos"],
            guards=[own_grid],
            validate=[verify_result_given],
            effects=[photos("verify"), record_verification],
            timer="accept",
        ),
        T(
            "self_fix",
            S.REPORTED,
            S.CLOSED,
            roles=COLLECTOR,
            label=_("fix on the spot and close"),
            needs=["photos"],
            guards=[own_grid, self_fix_allowed],
            effects=[photos("after"), self_fix],
        ),
        T(
            "merge",
            (S.REPORTED, S.VERIFYING, S.ACCEPTED),
            S.MERGED,
            roles=(OPERATOR, SHIFT),
            label=_("merge into an earlier case"),
            needs=["target"],
            guards=[in_scope],
            validate=[valid_merge_target],
            effects=[merge],
        ),
        # 2 立案
        T(
            "accept",
            S.REPORTED,
            S.ACCEPTED,
            roles=OPERATOR,
            label=_("accept"),
            guards=[in_scope, verified_if_public],
            timer="register",
        ),
        T(
            "reject",
            S.REPORTED,
            S.REJECTED,
            roles=OPERATOR,
            label=_("do not accept"),
            needs=["reason"],
            guards=[in_scope],
        ),
        T(
            "register",
            S.ACCEPTED,
            S.REGISTERED,
            roles=SHIFT,
            label=_("register"),
            guards=[in_scope],
            effects=[register],
            timer="dispatch",
        ),
        T(
            "not_register",
            S.ACCEPTED,
            S.REJECTED,
            roles=SHIFT,
            label=_("do not register"),
            needs=["reason"],
            guards=[in_scope],
        ),
        T(
            "send_back",
            S.ACCEPTED,
            S.REPORTED,
            roles=SHIFT,
            label=_("send back to the operator"),
            needs=["reason"],
            guards=[in_scope],
            timer="accept",
        ),
        # 3 派遣
        T(
            "dispatch",
            S.REGISTERED,
            S.HANDLING,
            roles=DISPATCHER,
            label=_("dispatch"),
            needs=["department"],
            guards=[in_scope],
            validate=[valid_department],
            effects=[dispatch],
            timer="handle",
        ),
        T(
            "reassign",
            S.HANDLING,
            S.HANDLING,
            roles=DISPATCHER,
            label=_("reassign to another department"),
            needs=["department", "reason"],
            guards=[in_scope, no_pending],
            validate=[valid_department],
            effects=[dispatch],
            timer="handle",
        ),
        # 4 处置 and its branches
        T(
            "accept_task",
            S.HANDLING,
            None,
            roles=HANDLER,
            label=_("acknowledge the task"),
            guards=[assigned_department],
        ),
        T(
            "request_return",
            S.HANDLING,
            S.RETURN_REQUESTED,
            roles=HANDLER,
            label=_("ask to return the case"),
            needs=["reason"],
            guards=[assigned_department, no_pending],
            clock=Clock.PAUSE,
        ),
        T(
            "approve_return",
            S.RETURN_REQUESTED,
            S.REGISTERED,
            roles=DISPATCHER,
            label=_("approve the return"),
            guards=[in_scope],
            effects=[count_return, clear_department],
            timer="dispatch",
        ),
        T(
            "reject_return",
            S.RETURN_REQUESTED,
            S.HANDLING,
            roles=DISPATCHER,
            label=_("refuse the return"),
            needs=["reason"],
            guards=[in_scope],
            clock=Clock.RESUME,
        ),
        T(
            "request_extension",
            S.HANDLING,
            None,
            roles=HANDLER,
            label=_("request an extension"),
            needs=["reason", "amount"],
            guards=[assigned_department, no_pending, before_deadline],
            validate=[valid_extension],
            effects=[request(PendingRequest.EXTENSION)],
        ),
        T(
            "approve_extension",
            S.HANDLING,
            None,
            roles=DISPATCHER,
            label=_("approve the extension"),
            guards=[in_scope, pending(PendingRequest.EXTENSION)],
            effects=[extend],
        ),
        T(
            "reject_extension",
            S.HANDLING,
            None,
            roles=DISPATCHER,
            label=_("refuse the extension"),
            needs=["reason"],
            guards=[in_scope, pending(PendingRequest.EXTENSION)],
            effects=[clear_request],
        ),
        T(
            "request_suspension",
            S.HANDLING,
            None,
            roles=HANDLER,
            label=_("request suspension"),
            needs=["reason"],
            guards=[assigned_department, no_pending],
            effects=[request(PendingRequest.SUSPENSION)],
        ),
        T(
            "approve_suspension",
            S.HANDLING,
            S.SUSPENDED,
            roles=(DISPATCHER, LEADER),
            label=_("approve the suspension"),
            guards=[in_scope, pending(PendingRequest.SUSPENSION)],
            effects=[clear_request],
            clock=Clock.PAUSE,
        ),
        T(
            "reject_suspension",
            S.HANDLING,
            None,
            roles=(DISPATCHER, LEADER),
            label=_("refuse the suspension"),
            needs=["reason"],
            guards=[in_scope, pending(PendingRequest.SUSPENSION)],
            effects=[clear_request],
        ),
        T(
            "resume",
            S.SUSPENDED,
            S.HANDLING,
            roles=(DISPATCHER, LEADER),
            label=_("resume handling"),
            guards=[in_scope],
            clock=Clock.RESUME,
        ),
        # 5 反馈
        T(
            "feedback",
            S.HANDLING,
            S.FEEDBACK,
            roles=HANDLER,
            label=_("report the fix"),
            needs=["result", "photos"],
            guards=[assigned_department, no_pending],
            effects=[photos("after"), feedback],
            timer="send_check",
        ),
        # 6 核查结案
        T(
            "send_check",
            S.FEEDBACK,
            S.CHECKING,
            roles=OPERATOR,
            label=_("send for on-site check"),
            guards=[in_scope],
            timer="check",
        ),
        T(
            "check_pass",
            S.CHECKING,
            S.PENDING_CLOSE,
            roles=COLLECTOR,
            label=_("check passed"),
            needs=["photos"],
            guards=[own_grid],
            effects=[photos("check")],
            timer="close",
        ),
        T(
            "check_fail",
            S.CHECKING,
            S.HANDLING,
            roles=COLLECTOR,
            label=_("check failed: rework"),
            needs=["reason", "photos"],
            guards=[own_grid],
            effects=[photos("check"), rework],
            timer="rework",
        ),
        T("close", S.PENDING_CLOSE, S.CLOSED, roles=SHIFT, label=_("close"), guards=[in_scope], effects=[close]),
        T(
            "reopen",
            S.PENDING_CLOSE,
            S.HANDLING,
            roles=SHIFT,
            label=_("send back for rework"),
            needs=["reason"],
            guards=[in_scope],
            effects=[rework],
            timer="rework",
        ),
        # leaders and exceptional branches
        T(
            "urge",
            OPEN_STATES,
            None,
            roles=(LEADER, DISPATCHER),
            label=_("urge"),
            needs=["reason"],
            guards=[in_scope],
            effects=[urge],
        ),
        T(
            "supervise",
            OPEN_STATES,
            None,
            roles=LEADER,
            label=_("supervise"),
            needs=["reason"],
            guards=[in_scope],
            effects=[supervise],
        ),
        T(
            "request_void",
            VOIDABLE,
            None,
            roles=(OPERATOR, DISPATCHER),
            label=_("request voiding"),
            needs=["reason"],
            guards=[in_scope, no_pending],
            effects=[request(PendingRequest.VOID)],
        ),
        T(
            "approve_void",
            VOIDABLE,
            S.VOIDED,
            roles=SHIFT,
            label=_("approve voiding"),
            guards=[in_scope, pending(PendingRequest.VOID)],
            effects=[clear_request],
        ),
        T(
            "reject_void",
            VOIDABLE,
            None,
            roles=SHIFT,
            label=_("refuse voiding"),
            needs=["reason"],
            guards=[in_scope, pending(PendingRequest.VOID)],
            effects=[clear_request],
        ),
        # the public's side: return visits (回访), ratings (评价) and disputed fixes (复核)
        T(
            "return_visit",
            S.CLOSED,
            None,
            roles=OPERATOR,
            label=_("record a return visit"),
            needs=["outcome"],
            guards=[in_scope, has_contact],
            validate=[satisfaction("outcome")],
            effects=[record_return_visit],
        ),
        T(
            "rate",
            S.CLOSED,
            None,
            roles=R.CITIZEN,
            label=_("rate the result"),
            needs=["rating"],
            guards=[scope_or_reporter, not_rated_yet],
            validate=[satisfaction("rating")],
            effects=[record_rating],
        ),
        T(
            "dispute",
            S.CLOSED,
            S.RECHECKING,
            roles=(R.CITIZEN, OPERATOR),
            label=_("reporter says not fixed: re-check"),
            needs=["reason"],
            guards=[scope_or_reporter, handled_by_department],
            effects=[open_dispute],
            timer="check",
        ),
        T(
            "recheck_confirm",
            S.RECHECKING,
            S.HANDLING,
            roles=COLLECTOR,
            label=_("re-check: not fixed, rework"),
            needs=["reason", "photos"],
            guards=[own_grid],
            effects=[photos("check"), decide_dispute("confirmed"), rework],
            timer="rework",
        ),
        T(
            "recheck_reject",
            S.RECHECKING,
            S.CLOSED,
            roles=COLLECTOR,
            label=_("re-check: fixed, close again"),
            needs=["photos"],
            guards=[own_grid],
            effects=[photos("check"), decide_dispute("rejected"), close],
        ),
    ],
)
