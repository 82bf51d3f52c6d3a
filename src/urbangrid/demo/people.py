"""The simulated people of the demo city (演示人员) and what each of them does next.

`decide()` looks at one case and its `Plan` (the fate drawn for it when it was reported) and
returns the next operation, the demo user who performs it (the right role, department or
grid) and its input. The year builder (`year.py`) and the live mode (`live.py`) both act
through it, and every step goes through `cases.actions` and so through the workflow engine:
nothing here writes a case or a history row itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from urbangrid.cases.models import Case, PendingRequest, Satisfaction, Source
from urbangrid.cases.models import State as S
from urbangrid.core.models import Department, DepartmentKind, User

#: shares of a year, after what real bureaus of a county-level city publish
#: (../shared/domain/practice-figures.md: 24,595 collected, 5,519 closed on the spot, 99.5 % of
#: dispatched cases closed).
SOURCES = [(Source.COLLECTOR, 0.80), (Source.HOTLINE, 0.13), (Source.CITIZEN, 0.05), (Source.PARTNER, 0.02)]
SELF_FIX_SHARE = 0.22  # of all reports
NOT_ACCEPTED = 0.015  # 不予受理 by the operator (besides public reports found not to exist)
NOT_EXISTING = 0.07  # public reports the collector does not find on site
MERGED = 0.12  # public reports that duplicate an open case nearby (merged into it)
NOT_REGISTERED = 0.015  # 不予立案 by the shift leader
RETURNED = 0.025  # 回退: the department asks to return it
RETURN_REFUSED = 0.2
EXTENDED = 0.03  # 延期申请
EXTENSION_REFUSED = 0.2
SUSPENDED = 0.006  # 挂账
URGED = 0.03
SUPERVISED = 0.01
VOIDED = 0.004
REWORKED = 0.04  # 核查不通过 → 返工
REOPENED = 0.005  # the shift leader sends it back for rework
LATE = 0.03  # one stage of the case done after its deadline
SELF_FIX_REFUSED = 0.02
VISITED = 0.75  # public reports called back after closing (回访)
SATISFACTION = [
    (Satisfaction.SATISFIED, 0.87),
    (Satisfaction.BASICALLY_SATISFIED, 0.10),
    (Satisfaction.DISSATISFIED, 0.03),
]
RATED = 0.4  # citizen-account reports rated on the portal
DISPUTE_UPHELD = 0.3  # re-check after a dissatisfied call: really not fixed

REASONS = {
    "reject": ["不属于城市管理范围", "信息不全，无法定位", "重复上报"],
    "reject_missing": ["现场核实问题不存在"],
    "not_register": ["不符合立案条件", "非本辖区管辖", "问题已自行消失"],
    "request_return": ["非本单位职责，请改派", "位置不在本单位养护范围"],
    "reject_return": ["经核实属于贵单位职责，请继续处置"],
    "request_extension": ["需协调施工单位，申请延期", "材料采购中，申请延期", "天气原因无法施工"],
    "reject_extension": ["不符合延期条件，请按期处置"],
    "request_suspension": ["涉及规划调整，短期内无法处置", "待资金下达后处置"],
    "urge": ["请抓紧处置", "群众反映强烈，请尽快处置"],
    "supervise": ["中心督办：请限期处置", "领导交办，限期处置"],
    "request_void": ["重复立案", "立案信息有误"],
    "check_fail": ["现场问题仍存在", "处置不彻底"],
    "reopen": ["处置结果不符合结案条件"],
    "refuse_self_fix": ["照片显示问题仍存在"],
    "recheck_confirm": ["复核：问题确未解决"],
}
RESULTS = ["已清理完毕", "已修复", "已整改到位", "已拆除", "已更换", "已疏通", "已劝离并清理"]
DETAILS = {
    Source.COLLECTOR: ["巡查发现", "日常巡查发现", "专项普查发现"],
    Source.HOTLINE: ["市民来电反映", "12345转办", "12319热线来电"],
    Source.CITIZEN: ["市民网上举报", "市民通过公众号反映"],
    Source.PARTNER: ["合作平台转来"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


def tiny_jpeg() -> bytes:
    """One small valid JPEG (16×16, a few hundred bytes), reused for every demo photo."""
    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (16, 16), (120, 140, 160)).save(buf, "JPEG", quality=40)
    return buf.getvalue()


def pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    x, acc = rng.random() * sum(w for _v, w in weighted), 0.0
    for value, weight in weighted:
        acc += weight
        if x < acc:
            return value
    return weighted[-1][0]


@dataclass
class Plan:
    """The fate of one case, drawn when it is reported; flags are used up as they happen."""

    self_fix: bool = False
    refuse_self_fix: bool = False
    reject: bool = False
    exists: bool = True
    merge_into: Case | None = None
    not_register: bool = False
    returns: bool = False
    refuse_return: bool = False
    extend: bool = False
    refuse_extension: bool = False
    suspend: bool = False
    resume_days: float = 10.0
    urge: bool = False
    supervise: bool = False
    void: bool = False
    rework: int = 0
    reopen: bool = False
    visit: bool = False
    outcome: str = Satisfaction.SATISFIED
    upheld: bool = False
    rate: bool = False
    late: str = ""  # the stage done late ("handle", "accept", …)
    returned_from: int | None = None  # the department that returned the case
    done: set[str] = field(default_factory=set)


def draw_plan(rng: random.Random, source: str, self_fixable: bool, self_fix_rate: float) -> Plan:
    """A fate for a new report; `self_fix_rate` is the chance a collector fixes a self-fixable
    problem on the spot (chosen so that about SELF_FIX_SHARE of all reports are self-fixes)."""
    p = Plan()
    public = source != Source.COLLECTOR
    p.self_fix = not public and self_fixable and rng.random() < self_fix_rate
    p.refuse_self_fix = p.self_fix and rng.random() < SELF_FIX_REFUSED
    p.reject = rng.random() < NOT_ACCEPTED
    p.exists = not (public and rng.random() < NOT_EXISTING)
    p.not_register = rng.random() < NOT_REGISTERED
    p.returns = rng.random() < RETURNED
    p.refuse_return = rng.random() < RETURN_REFUSED
    p.extend = rng.random() < EXTENDED
    p.refuse_extension = rng.random() < EXTENSION_REFUSED
    p.suspend = rng.random() < SUSPENDED
    p.resume_days = rng.uniform(3, 45)
    p.urge = rng.random() < URGED
    p.supervise = rng.random() < SUPERVISED
    p.void = rng.random() < VOIDED
    p.rework = 1 if rng.random() < REWORKED else 0
    if p.rework and rng.random() < 0.15:
        p.rework = 2
    p.reopen = rng.random() < REOPENED
    p.visit = public and rng.random() < VISITED
    p.outcome = pick(rng, SATISFACTION)
    p.upheld = rng.random() < DISPUTE_UPHELD
    p.rate = source == Source.CITIZEN and rng.random() < RATED
    if rng.random() < LATE:
        p.late = pick(rng, [("handle", 0.7), ("accept", 0.06), ("register", 0.06), ("check", 0.06),
                            ("send_check", 0.06), ("close", 0.06)])  # fmt: skip
    if p.refuse_extension:  # refused: the department then finishes late now and then
        p.late = p.late or ("handle" if rng.random() < 0.3 else "")
    return p


@dataclass
class Step:
    op: str
    actor: User
    data: dict[str, Any]
    photos: int = 0  # photos the actor uploads first (tokens go into data["photos"])
    visit: bool = False  # through actions.record_return_visit (may dispute the case)
    fraction: tuple[float, float] = (0.1, 0.6)  # when, as a share of what is left of the stage
    minutes: tuple[float, float] | None = None  # when, in natural minutes (stages without a clock)


class Cast:
    """The demo users who act, looked up once (roles cached on each user)."""

    def __init__(self) -> None:
        users = {
            u.username: u
            for u in User.objects.filter(is_active=True)
            .select_related("department")
            .prefetch_related("roles", "scope_departments")
        }
        self.operators = [users["operator"], users["operator2"]]
        self.shift = users["shiftleader"]
        self.dispatcher = users["dispatcher"]
        self.leader = users["leader"]
        self.citizen = users["citizen"]
        self.partner = next((u for n, u in users.items() if n.startswith("open311-")), self.operators[0])
        self.handlers: dict[int, User] = {}
        for u in users.values():
            if u.username.startswith("handler-") and u.department_id:
                self.handlers.setdefault(u.department_id, u)
        from urbangrid.geo.models import WorkGrid

        self.collectors: dict[int, User] = {}
        for wg in WorkGrid.objects.prefetch_related("collectors"):
            found = [c for c in wg.collectors.all() if c.is_active]
            if found:
                self.collectors[wg.pk] = users.get(found[0].username, found[0])
        for u in [*users.values()]:
            _ = u.role_codes  # cached on the instance: no role query per step
        offices = Department.objects.filter(kind=DepartmentKind.STREET_OFFICE, is_active=True)
        by_code = {d.division_code: d.pk for d in offices}
        from urbangrid.geo.models import AdminDivision

        self.street_office = {
            pk: by_code[code] for pk, code in AdminDivision.objects.values_list("pk", "code") if code in by_code
        }
        self.enforcement = Department.objects.filter(code="ZF").values_list("pk", flat=True).first()

    def operator(self, rng: random.Random) -> User:
        return self.operators[0] if rng.random() < 0.6 else self.operators[1]

    def collector(self, case: Case) -> User | None:
        return self.collectors.get(case.work_grid_id)

    def handler(self, case: Case) -> User | None:
        return self.handlers.get(case.department_id)

    def other_department(self, case: Case, previous: int | None) -> int | None:
        """Where a returned case goes: the street office of its street (属地), or the
        enforcement bureau when the street office itself returned it."""
        office = self.street_office.get(case.street_id)
        return office if office and office != previous else self.enforcement


def _reason(rng: random.Random, op: str) -> str:
    return rng.choice(REASONS[op])


def decide(case: Case, plan: Plan, cast: Cast, rng: random.Random) -> Step | None:
    """The next step of `case`, or None when nobody has anything left to do with it."""
    state = case.state
    op_ = cast.operator(rng)
    collector = cast.collector(case)
    if state == S.REPORTED:
        if plan.self_fix and "self_fix" not in plan.done and collector and case.category.self_fix_allowed:
            return Step("self_fix", collector, {"reason": "现场已处置"}, photos=1, fraction=(0.05, 0.5))
        if plan.merge_into is not None and "merge" not in plan.done:
            target = plan.merge_into
            if target.state in (S.REPORTED, S.VERIFYING, S.ACCEPTED, S.REGISTERED, S.HANDLING, S.FEEDBACK):
                return Step("merge", op_, {"target": target.number}, fraction=(0.1, 0.6))
            plan.merge_into = None
        if case.source != Source.COLLECTOR and case.verified is False:
            return Step("reject", op_, {"reason": _reason(rng, "reject_missing")}, fraction=(0.1, 0.6))
        if plan.reject and "reject" not in plan.done:
            return Step("reject", op_, {"reason": _reason(rng, "reject")}, fraction=(0.1, 0.6))
        if case.source != Source.COLLECTOR and case.verified is not True:
            return Step("send_verify", op_, {}, fraction=(0.05, 0.4))
        return Step("accept", op_, {}, fraction=(0.05, 0.5))
    if state == S.VERIFYING:
        if collector is None:
            return None
        return Step("verify", collector, {"exists": plan.exists, "reason": "现场核实"}, photos=1, fraction=(0.1, 0.7))
    if state == S.SELF_HANDLED:
        if plan.refuse_self_fix and "refuse_self_fix" not in plan.done:
            plan.self_fix = False
            return Step("refuse_self_fix", op_, {"reason": _reason(rng, "refuse_self_fix")}, fraction=(0.1, 0.6))
        return Step("confirm_self_fix", op_, {}, fraction=(0.05, 0.6))
    if state == S.ACCEPTED:
        if plan.not_register and "not_register" not in plan.done:
            return Step("not_register", cast.shift, {"reason": _reason(rng, "not_register")}, fraction=(0.1, 0.4))
        return Step("register", cast.shift, {}, fraction=(0.1, 0.4))
    if state == S.REGISTERED:
        dept = case.suggested_department_id or cast.street_office.get(case.street_id) or cast.enforcement
        if case.return_count and dept == (plan.returned_from or dept):
            dept = cast.other_department(case, dept)
        data = {"department": dept}
        if plan.supervise and rng.random() < 0.5:
            data["instructions"] = "请优先处置"
        return Step("dispatch", cast.dispatcher, data, fraction=(0.2, 0.8))
    if state == S.HANDLING:
        return _handling(case, plan, cast, rng)
    if state == S.RETURN_REQUESTED:
        if plan.refuse_return:
            plan.refuse_return = False
            return Step("reject_return", cast.dispatcher, {"reason": _reason(rng, "reject_return")}, minutes=(10, 90))
        return Step("approve_return", cast.dispatcher, {}, minutes=(10, 120))
    if state == S.SUSPENDED:
        return Step("resume", cast.dispatcher, {}, minutes=(plan.resume_days * 1440, plan.resume_days * 1440 + 60))
    if state == S.FEEDBACK:
        return Step("send_check", op_, {}, fraction=(0.05, 0.6))
    if state == S.CHECKING:
        if collector is None:
            return None
        if plan.rework > 0:
            plan.rework -= 1
            return Step("check_fail", collector, {"reason": _reason(rng, "check_fail")}, photos=1, fraction=(0.1, 0.7))
        return Step("check_pass", collector, {"reason": "核查通过"}, photos=1, fraction=(0.1, 0.7))
    if state == S.PENDING_CLOSE:
        if plan.reopen and "reopen" not in plan.done:
            return Step("reopen", cast.shift, {"reason": _reason(rng, "reopen")}, fraction=(0.1, 0.6))
        return Step("close", cast.shift, {}, fraction=(0.05, 0.6))
    if state == S.RECHECKING:
        if collector is None:
            return None
        if plan.upheld and "recheck_confirm" not in plan.done:
            return Step("recheck_confirm", collector, {"reason": _reason(rng, "recheck_confirm")}, photos=1,
                        fraction=(0.1, 0.7))  # fmt: skip
        return Step("recheck_reject", collector, {"reason": "复核：已处置到位"}, photos=1, fraction=(0.1, 0.7))
    if state == S.CLOSED:
        if plan.visit and "return_visit" not in plan.done and (case.reporter_phone or case.reporter_email):
            outcome = plan.outcome if "dispute" not in plan.done else Satisfaction.SATISFIED
            data = {"outcome": outcome, "note": "电话回访"}
            return Step("return_visit", op_, data, visit=True, minutes=(60, 3 * 1440))
        if plan.rate and "rate" not in plan.done and case.reported_by_id == cast.citizen.pk:
            rating = Satisfaction.SATISFIED if plan.outcome != Satisfaction.DISSATISFIED else plan.outcome
            return Step("rate", cast.citizen, {"rating": rating, "comment": ""}, minutes=(30, 2 * 1440))
    return None


def _handling(case: Case, plan: Plan, cast: Cast, rng: random.Random) -> Step | None:
    handler = cast.handler(case)
    pending = case.pending_request
    if pending == PendingRequest.EXTENSION:
        approver = cast.leader if case.pending_approver == "leader" else cast.dispatcher
        if plan.refuse_extension:
            return Step(
                "reject_extension", approver, {"reason": _reason(rng, "reject_extension")}, fraction=(0.02, 0.1)
            )
        return Step("approve_extension", approver, {}, fraction=(0.02, 0.1))
    if pending == PendingRequest.SUSPENSION:
        return Step("approve_suspension", cast.dispatcher, {}, fraction=(0.02, 0.1))
    if pending == PendingRequest.VOID:
        return Step("approve_void", cast.shift, {}, minutes=(10, 120))
    if handler is None:
        return None
    done = plan.done
    if plan.returns and "request_return" not in done and case.signed_at is None:
        return Step("request_return", handler, {"reason": _reason(rng, "request_return")}, fraction=(0.02, 0.15))
    if case.signed_at is None:
        return Step("accept_task", handler, {}, fraction=(0.01, 0.1))
    if plan.void and "request_void" not in done:
        return Step("request_void", cast.dispatcher, {"reason": _reason(rng, "request_void")}, fraction=(0.05, 0.2))
    if plan.suspend and "request_suspension" not in done:
        return Step("request_suspension", handler, {"reason": _reason(rng, "request_suspension")}, fraction=(0.1, 0.3))
    if plan.supervise and "supervise" not in done:
        data = {"reason": _reason(rng, "supervise"), "within": 3, "unit": "working_days"}
        return Step("supervise", cast.leader, data, fraction=(0.05, 0.3))
    if plan.extend and "request_extension" not in done and case.extension_count == 0:
        amount = case.stage_limit_amount or 1
        data = {"reason": _reason(rng, "request_extension"), "amount": str(amount), "unit": case.stage_limit_unit}
        return Step("request_extension", handler, data, fraction=(0.4, 0.8))
    if plan.urge and "urge" not in done:
        return Step("urge", cast.dispatcher, {"reason": _reason(rng, "urge")}, fraction=(0.5, 0.85))
    result = f"{rng.choice(RESULTS)}（{case.category.name}）"
    lo, hi = (0.15, 0.9) if not plan.extend else (0.3, 0.95)
    return Step("feedback", handler, {"result": result}, photos=1, fraction=(lo, hi))


def reporter(rng: random.Random) -> dict[str, str]:
    return {"name": f"{rng.choice(SURNAMES)}先生" if rng.random() < 0.5 else f"{rng.choice(SURNAMES)}女士",
            "phone": f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"}  # fmt: skip
