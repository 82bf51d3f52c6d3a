"""The indicator registry (指标库): every indicator defined once — code, names, object type,
formula, unit, direction and computation — and `evaluate()`, which aggregates the counters in
the database (GROUP BY over `CaseFact` and `DailyCount`) and applies the formulas per object.

Counts come from the database; rates and composites are the registry's arithmetic on those
counts for each object. Rates are in % (two decimals), None when the denominator is 0; in a
composite a rate without a denominator scores 100 (nothing to hold against the object).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from .models import CaseFact, DailyCount
from .periods import Period, Scope
from .rules import rules as current_rules

POSTS = ("collector", "operator", "shift_leader", "dispatcher")
OBJECT_TYPES = (*POSTS, "department", "region")
#: what the API's {object_type} may be, and the registry part it uses
TARGETS = {
    **{p: p for p in POSTS},
    "department": "department",
    **{k: "region" for k in ("district", "street", "community", "work_grid", "unit_grid", "category")},
}


@dataclass(frozen=True)
class Indicator:
    code: str
    object_type: str
    name_zh: str
    name_en: Any
    formula: str
    unit: str  # count, %, score, per_km2, per_grid
    direction: str  # higher, lower, neutral
    compute: Callable[[dict[str, Any], dict[str, Any]], Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "object_type": self.object_type,
            "name_zh": self.name_zh,
            "name_en": str(self.name_en),
            "formula": self.formula,
            "unit": self.unit,
            "direction": self.direction,
        }


REGISTRY: list[Indicator] = []


def _def(code, obj, zh, en, formula, unit, direction, compute) -> None:
    REGISTRY.append(Indicator(code, obj, zh, en, formula, unit, direction, compute))


def rate(a, b) -> float | None:
    return round(100.0 * a / b, 2) if b else None


def score(r: float | None) -> float:
    return 100.0 if r is None else r


def inverse_score(r: float | None) -> float:
    return 100.0 if r is None else 100.0 - r


def band_volume(n: int) -> int:
    """受理数/派遣数分值: > 2000 → 100; 1201–2000 → 90; 501–1200 → 75; 301–500 → 60; 101–300 → 40; ≤ 100 → 0."""
    for floor, pts in ((2000, 100), (1200, 90), (500, 75), (300, 60), (100, 40)):
        if n > floor:
            return pts
    return 0


def band_department(n: int) -> int:
    """部门立案数分值: 0–50 → 100; 51–100 → 90; 101–200 → 75; 201–500 → 60; 501–1000 → 40; > 1000 → 0."""
    for ceiling, pts in ((50, 100), (100, 90), (200, 75), (500, 60), (1000, 40)):
        if n <= ceiling:
            return pts
    return 0


def band_grid(n: int, level: str) -> int:
    """Per unit grid 立案数分值: 一类区域 0 → 100; 1–2 → 90; 3–4 → 75; 5–6 → 60; 7–8 → 40; ≥ 9 → 0;
    二类 (and 三类) 0 → 100; 1–3 → 90; 4–5 → 75; 6–7 → 60; 8–9 → 40; ≥ 10 → 0."""
    ceilings = (0, 2, 4, 6, 8) if level == "1" else (0, 3, 5, 7, 9)
    for ceiling, pts in zip(ceilings, (100, 90, 75, 60, 40), strict=True):
        if n <= ceiling:
            return pts
    return 0


def _composite(*parts: tuple[float, float]) -> float:
    return round(sum(s * w for s, w in parts), 2)


# --- 监督员 collectors ------------------------------------------------------------------------

C = "collector"


def _valid(v, r):
    base = {
        "registered_not_voided": "reports_valid",
        "registered": "reports_registered",
        "accepted": "reports_accepted",
    }
    return v[base[r["VALID_REPORT"]]] + (v["reports_self_fixed"] if r["SELF_FIX_VALID"] else 0)


def _missed(v, r):
    return v["missed_valid"] if r["VALID_REPORT"] == "registered_not_voided" else v["missed_registered"]


_def(
    "collector_reports",
    C,
    "监督员上报数",
    _("reports"),
    "cases reported by the collector from patrol (by report day)",
    "count",
    "higher",
    lambda v, r: v["reports"],
)
_def(
    "collector_valid_reports",
    C,
    "有效上报数",
    _("valid reports"),
    "reports registered and never voided (rule VALID_REPORT), plus confirmed on-the-spot fixes (SELF_FIX_VALID)",
    "count",
    "higher",
    _valid,
)
_def(
    "collector_valid_rate",
    C,
    "有效上报率",
    _("valid report rate"),
    "有效上报数 ÷ 上报数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["collector_valid_reports"], v["collector_reports"]),
)
_def(
    "collector_missed",
    C,
    "漏报数",
    _("missed reports"),
    "public reports registered (and not voided) in the collector's work grids (by first registration day)",
    "count",
    "lower",
    _missed,
)
_def(
    "collector_registered",
    C,
    "立案数（岗位）",
    _("registered in the area"),
    "有效上报数 + 漏报数",
    "count",
    "neutral",
    lambda v, r: v["collector_valid_reports"] + v["collector_missed"],
)
_def(
    "collector_missed_rate",
    C,
    "漏报率",
    _("missed report rate"),
    "漏报数 ÷ (有效上报数 + 漏报数) × 100 %",
    "%",
    "lower",
    lambda v, r: rate(v["collector_missed"], v["collector_registered"]),
)
_def(
    "collector_verify_due",
    C,
    "应核实数",
    _("verifications due"),
    "verifications the collector answered + verification tasks of their work grids still unanswered (by day sent)",
    "count",
    "neutral",
    lambda v, r: v["verify_done"] + v["verify_unanswered"],
)
_def(
    "collector_verify_on_time",
    C,
    "按时核实数",
    _("verifications on time"),
    "verifications answered within the verification limit",
    "count",
    "higher",
    lambda v, r: v["verify_on_time"],
)
_def(
    "collector_verify_rate",
    C,
    "按时核实率",
    _("on-time verification rate"),
    "按时核实数 ÷ 应核实数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["collector_verify_on_time"], v["collector_verify_due"]),
)
_def(
    "collector_check_due",
    C,
    "应核查数",
    _("checks due"),
    "checks and re-checks the collector answered + check tasks of their work grids still unanswered",
    "count",
    "neutral",
    lambda v, r: v["check_done"] + v["check_unanswered"],
)
_def(
    "collector_check_on_time",
    C,
    "按时核查数",
    _("checks on time"),
    "checks answered within the check limit",
    "count",
    "higher",
    lambda v, r: v["check_on_time"],
)
_def(
    "collector_check_rate",
    C,
    "按时核查率",
    _("on-time check rate"),
    "按时核查数 ÷ 应核查数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["collector_check_on_time"], v["collector_check_due"]),
)
_def(
    "collector_self_fixes",
    C,
    "自行处置数",
    _("on-the-spot fixes"),
    "the collector's on-the-spot fixes confirmed by the operator (by confirmation day)",
    "count",
    "higher",
    lambda v, r: v["self_fixes"],
)
_def(
    "collector_composite",
    C,
    "监督员综合指标值",
    _("collector composite"),
    "有效上报率 × 40 % + (100 − 漏报率) × 20 % + 按时核实率 × 20 % + 按时核查率 × 20 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (score(v["collector_valid_rate"]), 0.4),
        (inverse_score(v["collector_missed_rate"]), 0.2),
        (score(v["collector_verify_rate"]), 0.2),
        (score(v["collector_check_rate"]), 0.2),
    ),
)

# --- 受理员 operators -----------------------------------------------------------------------------

OP = "operator"
_def(
    "operator_accepted",
    OP,
    "受理数",
    _("reports processed"),
    "reports accepted or refused (不予受理) by the operator",
    "count",
    "higher",
    lambda v, r: v["accepted"],
)
_def(
    "operator_accepted_score",
    OP,
    "受理数分值",
    _("processed volume score"),
    "> 2000 → 100; 1201–2000 → 90; 501–1200 → 75; 301–500 → 60; 101–300 → 40; ≤ 100 → 0",
    "score",
    "higher",
    lambda v, r: band_volume(v["operator_accepted"]),
)
_def(
    "operator_verify_sent",
    OP,
    "核实应派发数",
    _("verification tasks sent"),
    "verification tasks the operator sent",
    "count",
    "neutral",
    lambda v, r: v["verify_sent"],
)
_def(
    "operator_verify_sent_on_time",
    OP,
    "核实按时派发数",
    _("verification tasks sent on time"),
    "sent within the acceptance limit",
    "count",
    "higher",
    lambda v, r: v["verify_sent_on_time"],
)
_def(
    "operator_verify_sent_rate",
    OP,
    "核实按时派发率",
    _("on-time verification dispatch rate"),
    "核实按时派发数 ÷ 核实应派发数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["operator_verify_sent_on_time"], v["operator_verify_sent"]),
)
_def(
    "operator_check_sent",
    OP,
    "核查应派发数",
    _("check tasks sent"),
    "check tasks the operator sent after feedback",
    "count",
    "neutral",
    lambda v, r: v["check_sent"],
)
_def(
    "operator_check_sent_on_time",
    OP,
    "核查按时派发数",
    _("check tasks sent on time"),
    "sent within the send-check limit",
    "count",
    "higher",
    lambda v, r: v["check_sent_on_time"],
)
_def(
    "operator_check_sent_rate",
    OP,
    "核查按时派发率",
    _("on-time check dispatch rate"),
    "核查按时派发数 ÷ 核查应派发数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["operator_check_sent_on_time"], v["operator_check_sent"]),
)
_def(
    "operator_composite",
    OP,
    "受理员综合指标值",
    _("operator composite"),
    "受理数分值 × 25 % + 核实按时派发率 × 40 % + 核查按时派发率 × 35 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (v["operator_accepted_score"], 0.25),
        (score(v["operator_verify_sent_rate"]), 0.4),
        (score(v["operator_check_sent_rate"]), 0.35),
    ),
)

# --- 值班长 shift leaders --------------------------------------------------------------------------

S = "shift_leader"
_def(
    "shift_registered",
    S,
    "立案数",
    _("registered"),
    "cases the shift leader registered",
    "count",
    "neutral",
    lambda v, r: v["registered"],
)
_def(
    "shift_registered_on_time",
    S,
    "按时立案数",
    _("registered on time"),
    "registered before the registration-and-dispatch deadline (立案派遣时限)",
    "count",
    "higher",
    lambda v, r: v["registered_on_time"],
)
_def(
    "shift_registered_rate",
    S,
    "按时立案率",
    _("on-time registration rate"),
    "按时立案数 ÷ 立案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["shift_registered_on_time"], v["shift_registered"]),
)
_def(
    "shift_accurate",
    S,
    "准确立案数",
    _("accurate registrations"),
    "立案数 − registrations later voided (作废)",
    "count",
    "higher",
    lambda v, r: v["shift_registered"] - v["registered_voided"],
)
_def(
    "shift_accurate_rate",
    S,
    "准确立案率",
    _("registration accuracy"),
    "准确立案数 ÷ 立案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["shift_accurate"], v["shift_registered"]),
)
_def(
    "shift_close_due",
    S,
    "应结案数",
    _("closings due"),
    "closing decisions the shift leader took (closed or sent back for rework)",
    "count",
    "neutral",
    lambda v, r: v["close_due"],
)
_def(
    "shift_closed_on_time",
    S,
    "按时结案数",
    _("closed on time"),
    "closed within the closing limit",
    "count",
    "higher",
    lambda v, r: v["closed_on_time"],
)
_def(
    "shift_closed_rate",
    S,
    "按时结案率",
    _("on-time closing rate"),
    "按时结案数 ÷ 应结案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["shift_closed_on_time"], v["shift_close_due"]),
)
_def(
    "shift_composite",
    S,
    "值班长综合指标值",
    _("shift leader composite"),
    "按时立案率 × 25 % + 准确立案率 × 40 % + 按时结案率 × 35 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (score(v["shift_registered_rate"]), 0.25),
        (score(v["shift_accurate_rate"]), 0.4),
        (score(v["shift_closed_rate"]), 0.35),
    ),
)

# --- 派遣员 dispatchers ----------------------------------------------------------------------------

D = "dispatcher"
_def(
    "dispatcher_dispatched",
    D,
    "派遣数（应派遣数）",
    _("dispatched"),
    "cases the dispatcher dispatched (automatic dispatches count for nobody)",
    "count",
    "higher",
    lambda v, r: v["dispatched"],
)
_def(
    "dispatcher_dispatched_score",
    D,
    "派遣数分值",
    _("dispatch volume score"),
    "same bands as 受理数分值",
    "score",
    "higher",
    lambda v, r: band_volume(v["dispatcher_dispatched"]),
)
_def(
    "dispatcher_on_time",
    D,
    "按时派遣数",
    _("dispatched on time"),
    "dispatched before the registration-and-dispatch deadline",
    "count",
    "higher",
    lambda v, r: v["dispatched_on_time"],
)
_def(
    "dispatcher_on_time_rate",
    D,
    "按时派遣率",
    _("on-time dispatch rate"),
    "按时派遣数 ÷ 应派遣数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["dispatcher_on_time"], v["dispatcher_dispatched"]),
)
_def(
    "dispatcher_accurate",
    D,
    "准确派遣数",
    _("accurate dispatches"),
    "派遣数 − dispatches ended by an approved return or a reassignment (二次派遣)",
    "count",
    "higher",
    lambda v, r: v["dispatcher_dispatched"] - v["dispatch_wrong"],
)
_def(
    "dispatcher_accurate_rate",
    D,
    "准确派遣率",
    _("dispatch accuracy"),
    "准确派遣数 ÷ 应派遣数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["dispatcher_accurate"], v["dispatcher_dispatched"]),
)
_def(
    "dispatcher_composite",
    D,
    "派遣员综合指标值",
    _("dispatcher composite"),
    "派遣数分值 × 20 % + 按时派遣率 × 40 % + 准确派遣率 × 40 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (v["dispatcher_dispatched_score"], 0.2),
        (score(v["dispatcher_on_time_rate"]), 0.4),
        (score(v["dispatcher_accurate_rate"]), 0.4),
    ),
)

# --- 专业部门 departments --------------------------------------------------------------------------

DEPT = "department"
_def(
    "dept_should",
    DEPT,
    "应处置数（应结案数）",
    _("should handle"),
    "cases charged to the department in the period (rule DEPARTMENT_PERIOD: due in the period plus carry-overs; "
    "voided and self-fixed cases out; suspended cases per rule SUSPENDED)",
    "count",
    "neutral",
    lambda v, r: v["should"],
)
_def(
    "dept_registered_score",
    DEPT,
    "立案数分值",
    _("case volume score"),
    "0–50 → 100; 51–100 → 90; 101–200 → 75; 201–500 → 60; 501–1000 → 40; > 1000 → 0",
    "score",
    "higher",
    lambda v, r: band_department(v["dept_should"]),
)
_def(
    "dept_handled",
    DEPT,
    "处置数",
    _("handled"),
    "of those, feedback given by the period's end",
    "count",
    "higher",
    lambda v, r: v["handled"],
)
_def(
    "dept_handled_on_time",
    DEPT,
    "按期处置数",
    _("handled on time"),
    "handled with every feedback before its effective deadline (extensions added, suspended time left out; "
    "rule EXTENDED)",
    "count",
    "higher",
    lambda v, r: v["handled_on_time"],
)
_def(
    "dept_handled_late",
    DEPT,
    "超期处置数",
    _("handled late"),
    "处置数 − 按期处置数",
    "count",
    "lower",
    lambda v, r: v["dept_handled"] - v["dept_handled_on_time"],
)
_def(
    "dept_overdue_open",
    DEPT,
    "超期未处置数",
    _("overdue, not handled"),
    "not handled by the period's end and past the deadline",
    "count",
    "lower",
    lambda v, r: v["overdue_open"],
)
_def(
    "dept_closed",
    DEPT,
    "结案数",
    _("closed"),
    "closed by the period's end",
    "count",
    "higher",
    lambda v, r: v["closed"],
)
_def(
    "dept_closed_on_time",
    DEPT,
    "按期结案数",
    _("closed on time"),
    "closed, with on-time handling",
    "count",
    "higher",
    lambda v, r: v["closed_on_time"],
)
_def(
    "dept_returned",
    DEPT,
    "回退数",
    _("returned"),
    "returns of the department approved in the period",
    "count",
    "lower",
    lambda v, r: v["returned"],
)
_def(
    "dept_reworked",
    DEPT,
    "返工数",
    _("reworked"),
    "cases sent back at least once after a failed check",
    "count",
    "lower",
    lambda v, r: v["reworked"],
)
_def(
    "dept_rework_events",
    DEPT,
    "返工次数",
    _("rework rounds"),
    "failed checks and reopenings, summed",
    "count",
    "lower",
    lambda v, r: v["rework_events"] or 0,
)
_def(
    "dept_extended",
    DEPT,
    "延期数",
    _("extended"),
    "cases with an approved extension",
    "count",
    "lower",
    lambda v, r: v["extended"],
)
_def(
    "dept_suspended",
    DEPT,
    "挂账数",
    _("suspended"),
    "cases suspended (挂账/缓办) at least once",
    "count",
    "lower",
    lambda v, r: v["suspended"],
)
_def(
    "dept_closure_rate",
    DEPT,
    "结案率",
    _("closure rate"),
    "结案数 ÷ 应结案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["dept_closed"], v["dept_should"]),
)
_def(
    "dept_on_time_closure_rate",
    DEPT,
    "按期结案率",
    _("on-time closure rate"),
    "按期结案数 ÷ 应结案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["dept_closed_on_time"], v["dept_should"]),
)
_def(
    "dept_on_time_handling_rate",
    DEPT,
    "按期处置率",
    _("on-time handling rate"),
    "按期处置数 ÷ 应处置数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["dept_handled_on_time"], v["dept_should"]),
)
_def(
    "dept_rework_rate",
    DEPT,
    "返工率",
    _("rework rate"),
    "返工数 ÷ 处置数 × 100 % (rule REWORK_DENOMINATOR: or ÷ 应结案数)",
    "%",
    "lower",
    lambda v, r: rate(
        v["dept_reworked"], v["dept_handled"] if r["REWORK_DENOMINATOR"] == "handled" else v["dept_should"]
    ),
)
_def(
    "dept_composite",
    DEPT,
    "部门综合指标值",
    _("department composite"),
    "立案数分值 × 10 % + 结案率 × 30 % + 按期处置率 × 30 % + (100 − 返工率) × 30 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (v["dept_registered_score"], 0.1),
        (score(v["dept_closure_rate"]), 0.3),
        (score(v["dept_on_time_handling_rate"]), 0.3),
        (inverse_score(v["dept_rework_rate"]), 0.3),
    ),
)


def _satisfaction(obj: str, prefix: str) -> None:
    _def(
        f"{prefix}_visits",
        obj,
        "回访数",
        _("return visits"),
        "return visits recorded in the period",
        "count",
        "neutral",
        lambda v, r: v["visits"],
    )
    _def(
        f"{prefix}_visit_satisfaction",
        obj,
        "回访满意率",
        _("return-visit satisfaction"),
        "visits satisfied or basically satisfied (rule SATISFIED) ÷ 回访数 × 100 %",
        "%",
        "higher",
        lambda v, r: rate(sum(v[f"visits_{o}"] for o in r["SATISFIED"]), v["visits"]),
    )
    _def(
        f"{prefix}_ratings",
        obj,
        "市民评价数",
        _("portal ratings"),
        "reporters' ratings given in the period",
        "count",
        "neutral",
        lambda v, r: v["ratings"],
    )
    _def(
        f"{prefix}_rating_satisfaction",
        obj,
        "市民评价满意率",
        _("rating satisfaction"),
        "ratings satisfied or basically satisfied (rule SATISFIED) ÷ 市民评价数 × 100 %",
        "%",
        "higher",
        lambda v, r: rate(sum(v[f"ratings_{o}"] for o in r["SATISFIED"]), v["ratings"]),
    )


_satisfaction(DEPT, "dept")

# --- 区域 regions and grids --------------------------------------------------------------------------

R = "region"
_def(
    "region_reported",
    R,
    "上报数",
    _("reports"),
    "cases reported in the area in the period (all sources)",
    "count",
    "lower",
    lambda v, r: v["reported"],
)
_def(
    "region_public_reported",
    R,
    "公众举报数",
    _("public reports"),
    "of those, not from collectors' patrols",
    "count",
    "lower",
    lambda v, r: v["public_reported"],
)
_def(
    "region_registered",
    R,
    "立案数",
    _("registered"),
    "cases registered in the period (category at registration), not voided",
    "count",
    "lower",
    lambda v, r: v["registered"],
)
_def(
    "region_public_registered",
    R,
    "监督举报核实数",
    _("public reports registered"),
    "public reports verified and registered in the period",
    "count",
    "lower",
    lambda v, r: v["public_registered"],
)
_def(
    "region_public_rate",
    R,
    "监督举报率",
    _("public report rate"),
    "监督举报核实数 ÷ 立案数 × 100 %",
    "%",
    "lower",
    lambda v, r: rate(v["region_public_registered"], v["region_registered"]),
)
_def(
    "region_self_fixed",
    R,
    "自行处置数",
    _("fixed on the spot"),
    "collectors' fixes confirmed in the period",
    "count",
    "neutral",
    lambda v, r: v["self_fixed"],
)
_def(
    "region_grids",
    R,
    "单元网格数",
    _("unit grids"),
    "unit grids in the area",
    "count",
    "neutral",
    lambda v, r: v["grids"],
)
_def(
    "region_per_grid",
    R,
    "网格均立案数",
    _("registered per grid"),
    "立案数 ÷ 单元网格数",
    "per_grid",
    "lower",
    lambda v, r: round(v["region_registered"] / v["grids"], 3) if v["grids"] else None,
)
_def(
    "region_per_km2",
    R,
    "每平方公里立案数",
    _("registered per km²"),
    "立案数 ÷ (Σ unit grid area ÷ 10⁶ m²)",
    "per_km2",
    "lower",
    lambda v, r: round(v["region_registered"] * 1e6 / v["area_m2"], 3) if v["area_m2"] else None,
)
_def(
    "region_hotspots",
    R,
    "反复发案点数",
    _("recurring hot spots"),
    "unit grids with at least HOTSPOT_MIN registered cases of one category in the period (grid × category pairs)",
    "count",
    "lower",
    lambda v, r: v["hotspots"],
)
_def(
    "region_should_close",
    R,
    "应结案数",
    _("should close"),
    "as for departments, over the area's cases",
    "count",
    "neutral",
    lambda v, r: v["should"],
)
_def(
    "region_closed", R, "结案数", _("closed"), "closed by the period's end", "count", "higher", lambda v, r: v["closed"]
)
_def(
    "region_closed_on_time",
    R,
    "按期结案数",
    _("closed on time"),
    "closed with on-time handling",
    "count",
    "higher",
    lambda v, r: v["closed_on_time"],
)
_def(
    "region_closure_rate",
    R,
    "结案率",
    _("closure rate"),
    "结案数 ÷ 应结案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["region_closed"], v["region_should_close"]),
)
_def(
    "region_on_time_closure_rate",
    R,
    "按期结案率",
    _("on-time closure rate"),
    "按期结案数 ÷ 应结案数 × 100 %",
    "%",
    "higher",
    lambda v, r: rate(v["region_closed_on_time"], v["region_should_close"]),
)
_def(
    "region_grid_score",
    R,
    "立案数分值",
    _("case volume score"),
    "mean over the area's unit grids of the per-grid band (一类区域: 0 → 100 … ≥ 9 → 0; 二类: 0 → 100 … ≥ 10 → 0)",
    "score",
    "higher",
    lambda v, r: round(v["grid_score_sum"] / v["grids"], 2) if v["grids"] else None,
)
_def(
    "region_composite",
    R,
    "区域综合指标值",
    _("region composite"),
    "(100 − 监督举报率) × 10 % + 立案数分值 × 20 % + 结案率 × 30 % + 按期结案率 × 40 %",
    "score",
    "higher",
    lambda v, r: _composite(
        (inverse_score(v["region_public_rate"]), 0.1),
        (score(v["region_grid_score"]), 0.2),
        (score(v["region_closure_rate"]), 0.3),
        (score(v["region_on_time_closure_rate"]), 0.4),
    ),
)
_satisfaction(R, "region")


def registry(object_type: str | None = None) -> list[Indicator]:
    return [i for i in REGISTRY if object_type in (None, i.object_type)]


# --- base counters from the database ----------------------------------------------------------------


def _should_parts(p: Period, r: dict[str, Any]) -> list[Q]:
    """Disjoint filters whose union is `should_q`, each answered by one index range (due in the
    period; carried over and handled after its start; carried over and unhandled)."""
    start, end = p.start, p.end
    if r["DEPARTMENT_PERIOD"] == "due":
        parts = [
            Q(due_at__gte=start, due_at__lt=end),
            Q(due_at__lt=start, handled_at__gte=start),
            Q(due_at__lt=start, handled_at__isnull=True),
        ]
    else:
        parts = [Q(dispatched_at__gte=start, dispatched_at__lt=end)]
    common = Q(department_id__isnull=False, voided_at__isnull=True)
    if r["SUSPENDED"] == "exclude":
        common &= Q(suspensions=0) | Q(handled_at__lt=end)
    return [part & common for part in parts]


def should_q(p: Period, r: dict[str, Any]) -> Q:
    """The cases a department (or an area) should have handled and closed in the period."""
    parts = _should_parts(p, r)
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def _on_time_q(r: dict[str, Any]) -> Q:
    q = Q(handled_late=False)
    return q & Q(extensions=0) if r["EXTENDED"] == "late" else q


Key = tuple[Any, ...]


#: what a family counts: counter name → None (every row), a Q (rows matching it) or a column name (its sum)
Spec = dict[str, "Q | str | None"]


class Counts:
    """The base counters of one period, counting rules and scope, read from the database and
    kept for the other object types evaluated with the same `Counts` (`evaluate_all`): the
    department and the area figures share the "should handle" counts.

    Every family is read over one index range of `CaseFact` (reported, registered, self-fixed,
    due / carried over), never an OR across them, and the indexes cover the columns read, so the
    database reads the index alone. PostgreSQL groups and counts (hash aggregation). SQLite has
    no hash aggregation: its GROUP BY sorts every row of the range, several times slower than
    reading them, so there the database evaluates each counter's condition per row (0/1) and
    the rows are tallied here (`collections.Counter`, one entry per distinct combination).
    Both give the same numbers (tested on both databases, `tally` forces either way).
    `DailyCount` gives the post counters."""

    def __init__(self, p: Period, r: dict[str, Any], scope: Scope, *, tally: bool | None = None) -> None:
        self.p, self.r, self.scope = p, r, scope
        self.tally = connection.vendor == "sqlite" if tally is None else tally
        self._memo: dict[Any, Any] = {}

    def _rows(self, name: str, q: Q, group: tuple[str, ...], spec: Spec) -> dict[Key, dict[str, int]]:
        key = (name, group)
        if key not in self._memo:
            out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            parts = _should_parts(self.p, self.r) if name == "should" else [q]
            for part in parts:
                qs = CaseFact.objects.filter(part & self.scope.fact_q()).order_by()
                if self.tally:
                    self._tally(qs, group, spec, out)
                else:
                    self._group(qs, group, spec, out)
            self._memo[key] = out
        return self._memo[key]

    @staticmethod
    def _group(qs, group: tuple[str, ...], spec: Spec, out) -> None:
        aggs = {
            counter: Sum(how) if isinstance(how, str) else Count(Value(1), filter=how) for counter, how in spec.items()
        }
        for row in qs.values(*group).annotate(**aggs):
            counters = out[tuple(row.pop(g) for g in group)]
            for counter, n in row.items():
                if n:
                    counters[counter] += n

    @staticmethod
    def _tally(qs, group: tuple[str, ...], spec: Spec, out) -> None:
        flags = {
            f"t_{counter}": F(how) if isinstance(how, str) else Case(When(how, then=1), default=0)
            for counter, how in spec.items()
            if how is not None
        }
        names = [counter for counter, how in spec.items() if how is not None]
        every = [counter for counter, how in spec.items() if how is None]
        sql, params = qs.annotate(**flags).values_list(*group, *flags).query.sql_with_params()
        width = len(group)
        tallied: Counter = Counter()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            while rows := cur.fetchmany(50_000):
                tallied.update(rows)
        for row, times in tallied.items():
            counters = out[tuple(row[:width])]
            for counter in every:
                counters[counter] += times
            for counter, v in zip(names, row[width:], strict=True):
                if v:
                    counters[counter] += times * v

    def should(self, group: tuple[str, ...]) -> dict[Key, dict[str, int]]:
        """Department counters of the cases to be handled in the period, per `group`."""
        end = self.p.end
        on_time = _on_time_q(self.r)
        handled = Q(handled_at__lt=end)
        spec: Spec = {
            "should": None,
            "handled": handled,
            "handled_on_time": handled & on_time,
            "overdue_open": (Q(handled_at__isnull=True) | Q(handled_at__gte=end)) & Q(due_at__lt=end),
            "closed": Q(closed_at__lt=end),
            "closed_on_time": Q(closed_at__lt=end) & on_time,
            "reworked": Q(reworks__gt=0),
            "rework_events": "reworks",
            "extended": Q(extensions__gt=0),
            "suspended": Q(suspensions__gt=0),
        }
        return self._rows("should", Q(), group, spec)

    def reported(self, group: tuple[str, ...]) -> dict[Key, dict[str, int]]:
        q = Q(reported_at__gte=self.p.start, reported_at__lt=self.p.end)
        return self._rows("reported", q, group, {"reported": None, "public_reported": Q(public=True)})

    def self_fixed(self, group: tuple[str, ...]) -> dict[Key, dict[str, int]]:
        q = Q(self_fixed_at__gte=self.p.start, self_fixed_at__lt=self.p.end)
        return self._rows("self_fixed", q, group, {"self_fixed": None})

    def registered(self, group: tuple[str, ...]) -> dict[Key, dict[str, int]]:
        """Registered (立案, not voided) in the period, per `group`."""
        if self.tally and group in (("unit_grid_id",), ("category_id",)):
            return self._registered_tally()[group[0]]
        spec: Spec = {"registered": None, "public_registered": Q(public=True)}
        return self._rows("registered", self._registered_q(), group, spec)

    def _registered_q(self) -> Q:
        return Q(registered_at__gte=self.p.start, registered_at__lt=self.p.end, voided_at__isnull=True)

    def _registered_tally(self) -> dict[str, Any]:
        """The registered rows tallied per (unit grid, category, public): nearly one entry per
        case, so rolled up in one plain loop into the counts per unit grid, per category and per
        (unit grid, category) pair (the hot spots)."""
        key = ("registered", "tally")
        if key not in self._memo:
            qs = CaseFact.objects.filter(self._registered_q() & self.scope.fact_q()).order_by()
            sql, params = qs.values_list("unit_grid_id", "category_id", "public").query.sql_with_params()
            tallied: Counter = Counter()
            with connection.cursor() as cur:
                cur.execute(sql, params)
                while rows := cur.fetchmany(50_000):
                    tallied.update(rows)
            grid, grid_public, cat, cat_public, pair = Counter(), Counter(), Counter(), Counter(), Counter()
            for (g, c, public), n in tallied.items():
                grid[g] += n
                cat[c] += n
                pair[(g, c)] += n
                if public:
                    grid_public[g] += n
                    cat_public[c] += n
            self._memo[key] = {
                "unit_grid_id": {(k,): {"registered": n, "public_registered": grid_public[k]} for k, n in grid.items()},
                "category_id": {(k,): {"registered": n, "public_registered": cat_public[k]} for k, n in cat.items()},
                "pairs": pair,
            }
            for rows in (self._memo[key]["unit_grid_id"], self._memo[key]["category_id"]):
                for counters in rows.values():
                    if not counters["public_registered"]:
                        del counters["public_registered"]
        return self._memo[key]

    def hotspots(self) -> list[tuple[int, int, int]]:
        """(unit grid, category, registered cases) with at least HOTSPOT_MIN registered cases
        in the period."""
        least = self.r["HOTSPOT_MIN"]
        if self.tally:
            return [(g, c, n) for (g, c), n in self._registered_tally()["pairs"].items() if n >= least]
        key = ("hotspots",)
        if key not in self._memo:  # only the pairs at or above the threshold leave the database
            self._memo[key] = list(
                CaseFact.objects.filter(self._registered_q() & self.scope.fact_q())
                .values_list("unit_grid_id", "category_id")
                .annotate(n=Count(Value(1)))
                .filter(n__gte=least)
                .order_by()
            )
        return self._memo[key]

    def daily(self, dims: tuple[str, ...]) -> dict[tuple[str, int], dict[str, int]]:
        key = ("daily", dims)
        if key not in self._memo:
            self._memo[key] = daily_counts(self.p, dims)
        return self._memo[key]


def daily_counts(p: Period, dims: tuple[str, ...]) -> dict[tuple[str, int], dict[str, int]]:
    rows = (
        DailyCount.objects.filter(day__gte=p.first, day__lte=p.last, dim__in=dims)
        .values_list("dim", "key", "counter")
        .annotate(total=Sum("value"))
    )
    out: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for dim, key, counter, total in rows:
        out[(dim, key)][counter] += total
    return out


def hotspots(p: Period, r: dict[str, Any], scope: Scope) -> list[tuple[int, int, int]]:
    """(unit grid, category, registered cases) with at least HOTSPOT_MIN cases in the period."""
    return Counts(p, r, scope).hotspots()


# --- evaluation ------------------------------------------------------------------------------------


def _apply(object_type: str, base: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = defaultdict(int, base)
    out: dict[str, Any] = {}
    for ind in registry(object_type):
        v[ind.code] = out[ind.code] = ind.compute(v, r)
    return out


def _ref(kind: str, pk: Any, code: str = "", name: str = "") -> dict[str, Any]:
    return {"type": kind, "id": pk, "code": code, "name": name}


def _post_users(post: str, scope: Scope):
    from urbangrid.core.models import User
    from urbangrid.geo.models import WorkGrid

    users = User.objects.filter(roles__code=post).distinct()
    if post == "collector" and scope.kind != "city":
        grids = WorkGrid.objects.filter(unit_grids__in=scope.unit_grids()).distinct()
        users = users.filter(work_grids__in=grids).distinct()
    return users


def evaluate_posts(post: str, counts: Counts) -> list[dict[str, Any]]:
    from urbangrid.geo.models import WorkGrid

    daily = counts.daily(("u", "g") if post == "collector" else ("u",))
    users = list(_post_users(post, counts.scope).order_by("username"))
    grids_of: dict[int, list[int]] = defaultdict(list)
    if post == "collector":
        for wg_id, user_id in WorkGrid.collectors.through.objects.values_list("workgrid_id", "user_id"):
            grids_of[user_id].append(wg_id)
    result = []
    for u in users:
        base: dict[str, int] = defaultdict(int, daily.get(("u", u.pk), {}))
        for wg in grids_of.get(u.pk, ()):
            for k, n in daily.get(("g", wg), {}).items():
                base[k] += n
        result.append(
            {
                "object": _ref(post, u.pk, u.username, u.get_full_name() or u.username),
                "values": _apply(post, base, counts.r),
            }
        )
    return result


def evaluate_departments(counts: Counts, only: set[int] | None = None) -> list[dict[str, Any]]:
    from urbangrid.core.models import Department

    per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (dept, _street), row in counts.should(("department_id", "street_id")).items():
        for k, n in row.items():
            per[dept][k] += n
    daily = counts.daily(("d",))
    ids = set(per) | {k for (_d, k) in daily}
    depts = Department.objects.filter(Q(pk__in=ids) | Q(kind__in=["professional", "company", "street_office"]))
    if only is not None:
        depts = depts.filter(pk__in=only)
    result = []
    for d in depts.order_by("code"):
        base = {**daily.get(("d", d.pk), {}), **per.get(d.pk, {})}
        result.append({"object": _ref("department", d.pk, d.code, d.name), "values": _apply(DEPT, base, counts.r)})
    return result


#: the counters of the "should handle" family that area indicators use
_AREA_SHOULD = ("should", "closed", "closed_on_time")


def evaluate_regions(kind: str, counts: Counts) -> list[dict[str, Any]]:
    from urbangrid.catalog.models import Category
    from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

    r = counts.r
    grids = list(
        counts.scope.unit_grids().values_list(
            "pk",
            "code",
            "area_m2",
            "management_level",
            "community_id",
            "community__parent_id",
            "community__parent__parent_id",
            "work_grid_id",
        )
    )
    hot_grid: dict[int, int] = defaultdict(int)
    hot_category: dict[int, int] = defaultdict(int)
    for grid_id, cat_id, _n in counts.hotspots():
        hot_grid[grid_id] += 1
        hot_category[cat_id] += 1
    bases: dict[Any, dict[str, Any]] = defaultdict(lambda: defaultdict(int))

    def add(key: Any, row: dict[str, int], only: tuple[str, ...] | None = None) -> None:
        if key in bases:
            for k, n in row.items():
                if only is None or k in only:
                    bases[key][k] += n

    if kind == "category":
        registered = counts.registered(("category_id",))
        reported = counts.reported(("category_id",))
        fixed = counts.self_fixed(("category_id",))
        should = counts.should(("category_id", "street_id"))
        for cat_id, *_rest in (*registered, *reported, *fixed, *should):
            bases[cat_id]["hotspots"] = hot_category[cat_id]
        for (cat_id, *_rest), row in (*registered.items(), *reported.items(), *fixed.items()):
            add(cat_id, row)
        for (cat_id, _street), row in should.items():
            add(cat_id, row, _AREA_SHOULD)
        total_area = sum(g[2] or 0 for g in grids)
        for b in bases.values():
            b["grids"], b["area_m2"] = len(grids), total_area
        objects = {c.pk: (c.code, c.name) for c in Category.objects.filter(pk__in=list(bases))}
    else:
        idx = {"unit_grid": 0, "community": 4, "street": 5, "district": 6, "work_grid": 7}[kind]
        reg_grid = {k[0]: v for k, v in counts.registered(("unit_grid_id",)).items()}
        for g in grids:
            if g[idx] is None:
                continue
            b = bases[g[idx]]
            for k, n in reg_grid.get(g[0], {}).items():
                b[k] += n
            b["hotspots"] += hot_grid.get(g[0], 0)
            b["grids"] += 1
            b["area_m2"] += g[2] or 0
            b["grid_score_sum"] += band_grid(reg_grid.get(g[0], {}).get("registered", 0), g[3])
        if kind in ("street", "district"):  # counted per street (the case's location when reported)
            column = "street_id"
            key_of = {g[5]: g[idx] for g in grids}
        else:
            column = "unit_grid_id"
            key_of = {g[0]: g[idx] for g in grids}
        for family in (counts.reported((column,)), counts.self_fixed((column,))):
            for (place,), row in family.items():
                add(key_of.get(place), row)
        for (_dept, place), row in counts.should(("department_id", column)).items():
            add(key_of.get(place), row, _AREA_SHOULD)
        if kind in ("street", "community", "district"):
            dim = "c" if kind == "community" else "s"
            parent = {g[5]: g[6] for g in grids} if kind == "district" else None
            for (_dim, key), row in counts.daily((dim,)).items():
                add(parent.get(key) if parent is not None else key, row)
        model = {"unit_grid": UnitGrid, "work_grid": WorkGrid}.get(kind, AdminDivision)
        objects = {o.pk: (o.code, getattr(o, "name", "")) for o in model.objects.filter(pk__in=list(bases))}
    result = []
    for key in sorted(bases, key=lambda k: objects.get(k, ("", ""))[0]):
        code, name = objects.get(key, ("", ""))
        result.append({"object": _ref(kind, key, code, name), "values": _apply(R, bases[key], r)})
    return result


def _evaluate(target: str, counts: Counts, only: set[int] | None = None) -> list[dict[str, Any]]:
    if target not in TARGETS:
        raise ValueError(f"unknown object type {target!r}")
    if target in POSTS:
        return evaluate_posts(target, counts)
    if target == "department":
        return evaluate_departments(counts, only)
    return evaluate_regions(target, counts)


def evaluate(
    target: str,
    period: Period,
    scope: Scope | None = None,
    *,
    only: set[int] | None = None,
    counts: Counts | None = None,
    **rule_overrides: Any,
) -> list[dict[str, Any]]:
    """Indicator values for every object of `target` (a post, "department", or a region kind:
    district, street, community, work_grid, unit_grid, category) in `period` within `scope`.
    `counts`: the counts of this period, rules and scope already read for other object types."""
    if target not in TARGETS:
        raise ValueError(f"unknown object type {target!r}")
    scope = scope or Scope("city")
    if counts is None:
        counts = Counts(period, current_rules(**rule_overrides), scope)
    elif (counts.p, counts.scope) != (period, scope) or rule_overrides:
        raise ValueError("the counts given are of another period, scope or rules")
    return _evaluate(target, counts, only)


def evaluate_all(
    targets: Iterable[str], period: Period, scope: Scope | None = None, **rule_overrides: Any
) -> dict[str, list[dict[str, Any]]]:
    """`evaluate` for several object types of one period and scope, reading each family of
    counts from the database once (e.g. the monthly evaluation of all posts, departments and
    streets)."""
    counts = Counts(period, current_rules(**rule_overrides), scope or Scope("city"))
    return {target: _evaluate(target, counts) for target in targets}
