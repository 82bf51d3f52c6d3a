"""Guards, inputs, effects and timers of the urban case loop (see loop.py for the table)."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from urbangrid.catalog.models import Category, condition_list
from urbangrid.core.cache import ProcessCache
from urbangrid.core.models import Department, User
from urbangrid.core.roles import RoleCode as R
from urbangrid.core.scope import department_ids_for, scope_q
from urbangrid.workflow import kit
from urbangrid.workflow.clock import add_time, minutes_between
from urbangrid.workflow.definition import SYSTEM, Context
from urbangrid.workflow.errors import Invalid, NotAllowed

from .models import OPEN_STATES, Case, CitizenRating, DispatchRule, Dispute, Satisfaction, Source, StageLimit

# --- scope ----------------------------------------------------------------------------------


def case_scope(user) -> Q:
    return scope_q(user, department="department", grid="unit_grid", grid_code="unit_grid__code")


in_scope = kit.in_scope(case_scope, _("This case is outside your area of responsibility."))


def own_grid(ctx: Context) -> None:
    """Collectors act only inside the work grids assigned to them."""
    case: Case = ctx.obj
    if case.work_grid_id is None or not case.work_grid.collectors.filter(pk=ctx.actor.pk).exists():
        raise NotAllowed(_("This case is not in one of your grids."))


def _ancestors(dept_id: int) -> set[int]:
    ids, current = set(), Department.objects.filter(pk=dept_id).values_list("parent_id", flat=True).first()
    while current and current not in ids:
        ids.add(current)
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return ids | {dept_id}


def assigned_department(ctx: Context) -> None:
    """Only the department the case is dispatched to (or one of its sub-units) may act."""
    case: Case = ctx.obj
    if case.department_id is None or (
        case.department_id not in department_ids_for(ctx.actor)
        and not (ctx.actor.department_id and case.department_id in _ancestors(ctx.actor.department_id))
    ):
        raise NotAllowed(_("This case is not assigned to your department."))


def scope_or_reporter(ctx: Context) -> None:
    """Staff act within their scope; a citizen account only on cases it reported itself."""
    if ctx.role == R.CITIZEN:
        if ctx.obj.reported_by_id != ctx.actor.pk:
            raise NotAllowed(_("Only the reporter may do this."))
    else:
        in_scope(ctx)


# --- business conditions ----------------------------------------------------------------------


def verified_if_public(ctx: Context) -> None:
    """Reports that did not come from a collector must be verified on site first (核实)."""
    case: Case = ctx.obj
    if case.source != Source.COLLECTOR and case.verified is not True:
        raise Invalid(_("Reports from the public must be verified on site by the grid's collector first."))


def self_fix_allowed(ctx: Context) -> None:
    if not ctx.obj.category.self_fix_allowed:
        raise Invalid(_("Category “%(cat)s” cannot be fixed on the spot by a collector.") % {"cat": ctx.obj.category})


def before_deadline(ctx: Context) -> None:
    if ctx.obj.deadline and ctx.now > ctx.obj.deadline:
        raise Invalid(_("An extension must be requested before the deadline."))


def not_signed(ctx: Context) -> None:
    """签收 happens once per dispatch."""
    if ctx.obj.signed_at is not None:
        raise Invalid(_("The task was already signed for."))


def has_contact(ctx: Context) -> None:
    if not (ctx.obj.reporter_phone or ctx.obj.reporter_email):
        raise Invalid(_("The reporter left no contact data; there is nobody to call back."))


#: How often one case may be disputed; after that the reporter is referred to the hotline.
MAX_DISPUTES = 3


def handled_by_department(ctx: Context) -> None:
    case: Case = ctx.obj
    if case.department_id is None:
        raise Invalid(_("No department handled this case; report the problem again as a new case."))
    if Dispute.objects.filter(case=case).count() >= MAX_DISPUTES:
        raise Invalid(_("This case was already re-checked %(n)d times; call the hotline.") % {"n": MAX_DISPUTES})


def not_rated_yet(ctx: Context) -> None:
    if CitizenRating.objects.filter(case=ctx.obj, closed_at=ctx.obj.closed_at).exists():
        raise Invalid(_("The result of this case has already been rated."))


# --- inputs: lookups, choices and validators -----------------------------------------------------

active_departments = ProcessCache(
    "active_departments", lambda: {d.pk: d for d in Department.objects.filter(is_active=True)}, models=[Department]
)


def department_choices(obj: Any = None) -> list[tuple[str, str]]:
    rows = sorted(active_departments().values(), key=lambda d: d.code)
    return [(str(d.pk), d.name) for d in rows]


def lookup_department(ctx: Context, raw: Any) -> Department | None:
    """An active department by key (read inside the transaction: a department deactivated a moment
    ago is refused)."""
    try:
        pk = int(str(raw).strip()) if str(raw).strip().isascii() else 0
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    return Department.objects.filter(pk=pk, is_active=True).first()


active_categories = ProcessCache(
    "active_minor_categories",
    lambda: [
        (f"{c.kind}:{c.code}", f"{c.code} {c.name}")
        for c in Category.objects.filter(parent__isnull=False, active=True).order_by("kind", "code")
    ],
    models=[Category],
)


def category_choices(obj: Any = None) -> list[tuple[str, str]]:
    """Active minor categories as "kind:code" with their code and name (the register form)."""
    return active_categories()


def lookup_category(ctx: Context, raw: Any) -> Category | None:
    from .actions import resolve_category

    try:
        return resolve_category(raw)
    except Invalid:
        return None


def lookup_merge_target(ctx: Context, raw: Any) -> Case | None:
    """Another open case, looked up within the actor's scope (absent and out of scope answer alike)."""
    text = str(raw).strip()
    visible = Case.objects.filter(case_scope(ctx.actor))
    target = visible.filter(number=text).first()
    if target is None and text.isascii() and text.isdigit() and len(text) < 16:
        target = visible.filter(pk=int(text)).first()
    if target is None or target.pk == ctx.obj.pk or target.state not in OPEN_STATES:
        return None
    return target


def positive_extension(ctx: Context, amount: Decimal) -> Decimal:
    if amount <= 0 or amount > 1000:
        raise Invalid(_("The extension must be a positive amount."), fields={"amount": _("Enter a positive number.")})
    return amount


def positive_limit(ctx: Context, amount: Decimal) -> Decimal:
    if amount <= 0 or amount > 1000:
        raise Invalid(
            _("The time limit must be a positive amount."), fields={"limit_amount": _("Enter a positive number.")}
        )
    return amount


def current_unit(obj: Any) -> str:
    return (obj.stage_limit_unit if obj is not None else "") or "working_days"


UNITS = [
    ("working_days", _("working days")),
    ("working_hours", _("working hours")),
    ("hours", _("natural hours")),
    ("days", _("calendar days (紧急工作日)")),
]
URGENCIES = [("normal", _("normal")), ("urgent", _("urgent"))]
SATISFACTION = list(Satisfaction.choices)
DISPUTE_CHANNELS = [("portal", _("citizen portal")), ("return_visit", _("return visit")), ("api", _("API"))]


# --- effects ----------------------------------------------------------------------------------


def record_verification(ctx: Context) -> None:
    ctx.obj.verified = ctx.data["exists"]
    ctx.payload["exists"] = ctx.data["exists"]


def register(ctx: Context) -> None:
    """立案: the shift leader confirms or corrects the category (which fixes the time limits), the
    urgency and the responsible department, naming the registration condition the case meets."""
    case: Case = ctx.obj
    category: Category = ctx.data.get("category") or case.category
    conditions = condition_list(category)
    condition = ctx.data.get("condition", "")
    if conditions and condition not in conditions:
        raise Invalid(
            _("Name the registration condition the case meets (立案条件)."),
            fields={"condition": _("Choose one of: %(v)s.") % {"v": " / ".join(conditions)}},
        )
    if category.pk != case.category_id:
        ctx.payload["previous_category"] = case.category.code
        ctx.payload["category"] = category.code
        case.category = category
    urgency = ctx.data.get("urgency") or case.urgency
    if urgency != case.urgency:
        ctx.payload["previous_urgency"] = case.urgency
    case.urgency = urgency
    ctx.payload["urgency"] = urgency
    if condition:
        ctx.payload["condition"] = condition
    department = ctx.data.get("department")
    if department is not None:
        case.suggested_department = department
        ctx.payload["suggested_department"] = department.pk
    case.registered_at = ctx.now
    # the combined registration + dispatch limit (立案派遣时限) runs from acceptance: bind it to the
    # final category and urgency
    if case.stage_started_at is not None:
        amount, unit = register_dispatch_timer(case)
        case.stage_limit_amount, case.stage_limit_unit = Decimal(str(amount)), unit
        at, provisional = add_time(case.stage_started_at, case.stage_limit_amount, unit)
        ctx.set_deadline(at, provisional)
    ctx.after_write.append(lambda entry: auto_dispatch(case))


def dispatch(ctx: Context) -> None:
    case: Case = ctx.obj
    dept: Department = ctx.data["department"]
    if case.department_id and case.department_id != dept.pk:
        ctx.payload["previous_department"] = case.department_id
    case.department = dept
    case.dispatched_at = case.dispatched_at or ctx.now
    case.signed_at = None
    ctx.payload["department"] = dept.pk
    ctx.payload["department_name"] = dept.name
    ctx.payload["suggested"] = case.suggested_department_id == dept.pk
    if ctx.data.get("instructions"):
        ctx.payload["instructions"] = ctx.data["instructions"]
    amount = ctx.data.get("limit_amount")
    if amount is not None:
        # a time limit set by the dispatcher instead of the category's, from the dispatch time
        reason = str(ctx.data.get("limit_reason") or "").strip()
        if not reason:
            raise Invalid(
                _("Give a reason for the time limit."),
                fields={"limit_reason": _("A reason is required when a time limit is given.")},
            )
        unit = ctx.data.get("limit_unit") or "working_days"
        ctx.override_limit(Decimal(str(amount)), unit)
        at, _provisional = add_time(ctx.now, Decimal(str(amount)), unit)
        ctx.payload.update(
            {"limit_amount": str(amount), "limit_unit": unit, "limit_reason": reason, "new_deadline": at.isoformat()}
        )


def sign(ctx: Context) -> None:
    ctx.obj.signed_at = ctx.now


def feedback(ctx: Context) -> None:
    ctx.obj.handled_at = ctx.now
    ctx.payload["result"] = str(ctx.data.get("result", ""))
    if auto_send_check_enabled():
        case = ctx.obj
        ctx.after_write.append(lambda entry: auto_send_check(case))


def rework(ctx: Context) -> None:
    ctx.obj.rework_count += 1
    ctx.obj.handled_at = None
    ctx.payload["rework_count"] = ctx.obj.rework_count


def count_return(ctx: Context) -> None:
    ctx.obj.return_count += 1
    ctx.payload["returned_department"] = ctx.obj.department_id


def clear_department(ctx: Context) -> None:
    ctx.obj.department = None
    ctx.obj.signed_at = None


def clear_registration(ctx: Context) -> None:
    """Sent back to the shift leader: the registration is taken back."""
    ctx.obj.registered_at = None


def extend(ctx: Context) -> None:
    case: Case = ctx.obj
    req = case.pending_data
    amount = Decimal(str(req.get("amount")))
    unit = req.get("unit") or case.stage_limit_unit or "working_days"
    at = ctx.extend(amount, unit, add_time)
    case.extension_count += 1
    ctx.payload.update({"amount": str(amount), "unit": unit, "new_deadline": at.isoformat()})


def extension_needs_leader(ctx: Context) -> bool:
    """Extensions longer than URBANGRID["EXTENSION_LEADER_ABOVE_HOURS"] (in working or natural
    hours, default 24 = three 8-hour working days) need a leader's approval."""
    limit = Decimal(str(settings.URBANGRID.get("EXTENSION_LEADER_ABOVE_HOURS", 24)))
    amount, unit = ctx.data["amount"], ctx.data.get("unit") or current_unit(ctx.obj)
    start = ctx.obj.deadline or ctx.now
    end, _p = add_time(start, amount, unit)
    return Decimal(minutes_between(start, end, unit)) / 60 > limit


def urge(ctx: Context) -> None:
    ctx.obj.urged_count += 1
    ctx.payload["urged_count"] = ctx.obj.urged_count
    _notify_department(ctx, "urged", _("Case %(n)s was urged: %(r)s"))


def supervise(ctx: Context) -> None:
    ctx.obj.supervised = True
    ctx.payload["supervision_limit"] = f"{ctx.data['within']} {ctx.data.get('unit') or 'working_days'}"
    _notify_department(ctx, "supervised", _("Case %(n)s is now supervised: %(r)s"))


def supervision_limit(ctx: Context) -> tuple[Decimal, str]:
    return ctx.data["within"], ctx.data.get("unit") or "working_days"


def _notify_department(ctx: Context, kind: str, template: Any) -> None:
    from .actions import notify_department

    case = ctx.obj
    notify_department(case, kind, template % {"n": case.number, "r": ctx.data.get("reason", "")})


def close(ctx: Context) -> None:
    ctx.obj.closed_at = ctx.now


def self_fix(ctx: Context) -> None:
    """The collector fixed it on the spot: the operator confirms (no registration time is set)."""
    ctx.obj.self_handled = True
    ctx.obj.verified = True
    ctx.obj.handled_at = ctx.now


def confirm_self_fix(ctx: Context) -> None:
    ctx.obj.closed_at = ctx.now


def refuse_self_fix(ctx: Context) -> None:
    """Turned into a normal case: it waits for acceptance like any report."""
    ctx.obj.self_handled = False
    ctx.obj.handled_at = None


def merge(ctx: Context) -> None:
    target: Case = ctx.data["target"]
    ctx.obj.merged_into = target
    ctx.payload["merged_into"] = target.number


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


def record_rating(ctx: Context) -> None:
    CitizenRating.objects.create(
        case=ctx.obj,
        rating=ctx.data["rating"],
        comment=str(ctx.data.get("comment", "")),
        closed_at=ctx.obj.closed_at,
        rated_at=ctx.now,
    )
    ctx.payload["rating"] = ctx.data["rating"]


def open_dispute(ctx: Context) -> None:
    from urbangrid.workflow.holders import notify

    case: Case = ctx.obj
    channel = str(ctx.data.get("channel") or ("portal" if ctx.role == R.CITIZEN else "return_visit"))
    Dispute.objects.create(
        case=case, channel=channel, reason=str(ctx.data["reason"]), department_id=case.department_id, raised_at=ctx.now
    )
    case.closed_at = None
    ctx.payload.update({"channel": channel, "department": case.department_id})
    if case.work_grid_id:
        text = _("Case %(n)s: the reporter says it is not fixed. Re-check it on site.") % {"n": case.number}
        notify(case.work_grid.collectors.filter(is_active=True), case, "recheck", text)


def decide_dispute(outcome: str):
    def effect(ctx: Context) -> None:
        Dispute.objects.filter(case=ctx.obj, outcome="").update(outcome=outcome, decided_at=ctx.now)
        ctx.payload["dispute"] = outcome

    effect.__name__ = f"dispute_{outcome}"
    return effect


# --- automatic dispatch (自动派遣) -----------------------------------------------------------------


def matching_rule(case: Case) -> DispatchRule | None:
    """The one most specific active rule for the case, or None when none or several tie."""
    owner = case.component.owner_department_id if case.component_id else None
    rules = [
        r
        for r in DispatchRule.objects.filter(active=True, category_id=case.category_id, department__is_active=True)
        if r.street_id in (None, case.street_id) and r.component_owner_id in (None, owner)
    ]
    if not rules:
        return None
    best = max(r.specificity for r in rules)
    top = [r for r in rules if r.specificity == best]
    return top[0] if len({r.department_id for r in top}) == 1 else None


def auto_dispatch(case: Case) -> None:
    """After registration: dispatch without a dispatcher when a rule is certain (same transaction)."""
    from urbangrid.workflow import engine

    rule = matching_rule(case)
    if rule is None:
        return
    with transaction.atomic():
        engine.transition(case, "auto_dispatch", SYSTEM, version=case.version, data={"department": rule.department_id})


# --- automatic send for check (自动派发核查) ------------------------------------------------------


def auto_send_check_enabled() -> bool:
    """URBANGRID["AUTO_SEND_CHECK"] (default False; else the environment's URBANGRID_AUTO_SEND_CHECK)."""
    value = settings.URBANGRID.get("AUTO_SEND_CHECK")
    if value is None:
        value = os.environ.get("URBANGRID_AUTO_SEND_CHECK", "").strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def auto_send_check(case: Case) -> None:
    """After the feedback: hand the case to its grid's collectors for the on-site check, without
    an operator (same transaction); left to the operator when the grid has no collector."""
    from urbangrid.workflow import engine

    if not case.work_grid_id or not case.work_grid.collectors.filter(is_active=True).exists():
        return
    with transaction.atomic():
        engine.transition(case, "auto_send_check", SYSTEM, version=case.version)


# --- timers -------------------------------------------------------------------------------------


def _stage_limit_rows() -> dict[tuple[str, str, str], tuple[Decimal, str]]:
    return {(r.stage, r.urgency, r.area): (r.amount, r.unit) for r in StageLimit.objects.all()}


stage_limits = ProcessCache("stage_limits", _stage_limit_rows, models=[StageLimit])


def area_of(case: Case) -> str:
    """urban or rural, from the community, else its street (default: urban)."""
    for division in (case.community, case.street):
        if division is not None and division.area_class:
            return division.area_class
    return "urban"


def _configured(stage: str, case: Case) -> tuple[Decimal, str] | None:
    rows = stage_limits()
    area = area_of(case) if any(k[2] for k in rows) else ""
    for key in ((stage, case.urgency, area), (stage, "", area), (stage, case.urgency, ""), (stage, "", "")):
        if key in rows:
            return rows[key]
    return None


def stage_limit(stage: str, default: tuple[str, str]):
    def timer(case: Case):
        return _configured(stage, case) or (Decimal(default[0]), default[1])

    timer.__name__ = f"timer_{stage}"
    return timer


def register_dispatch_timer(case: Case):
    """The combined registration + dispatch limit (立案派遣时限) of the category."""
    return _configured("dispatch", case) or (case.category.dispatch_limit_hours, "working_hours")


def handle_timer(case: Case):
    """The category's handling limit (处置时限), its urgent variant for urgent cases."""
    cat = case.category
    if case.urgency == "urgent" and cat.urgent_handle_limit and cat.urgent_handle_unit:
        return cat.urgent_handle_limit, cat.urgent_handle_unit
    if cat.handle_limit and cat.handle_unit:
        return cat.handle_limit, cat.handle_unit
    return Decimal(1), "working_days"


# --- holders (待办) --------------------------------------------------------------------------------


def grid_collectors_where(user: User) -> Q:
    return Q(work_grid__collectors=user)


def grid_collectors(case: Case):
    return case.work_grid.collectors.filter(is_active=True) if case.work_grid_id else []


def department_where(user: User) -> Q | None:
    ids = department_ids_for(user)
    return Q(department_id__in=ids) if ids else None


def department_handlers(case: Case):
    if not case.department_id:
        return []
    return User.objects.filter(department_id=case.department_id, is_active=True, roles__code=R.HANDLER).distinct()
