"""Scoring rules a bureau edits in the admin (考核办法): per object type, dated versions of terms
over the indicator registry — weighted sums, band tables, deductions per count, points per
percentage point above / below a target, and money (奖惩) per percentage point above / below a
target — giving each object a score, a level (§8.6), a rank and an amount of money.

Everything here is a pure function of (rule definition, indicator values): a rule version is
turned into a plain definition (`rule_definition`) and `score_rows` applies it. A published month
stores both (publish.py), so recomputing it later gives the same figures. Arithmetic is decimal;
scores and money are rounded half up to 0.01 at the end, term points shown rounded to 0.01.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from .indicators import TARGETS, registry
from .models import ScoringRule, TermKind

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
#: in a money term, the rule's total score instead of an indicator
SCORE = "score"


def dec(x: Any) -> Decimal | None:
    if x is None or x == "":
        return None
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(str(x))


def _round(x: Decimal) -> float:
    return float(x.quantize(CENT, rounding=ROUND_HALF_UP))


def indicator_codes(object_type: str) -> set[str]:
    return {i.code for i in registry(TARGETS[object_type])}


def validate_term(t: dict[str, Any], object_type: str | None) -> dict[str, str]:
    """Errors per field of one term (a dict as in `ScoringTerm.as_dict`)."""
    errors: dict[str, str] = {}
    kind = t.get("kind")
    if kind not in TermKind.values:
        errors["kind"] = _("Unknown term kind.")
    if object_type:
        allowed = indicator_codes(object_type) | ({SCORE} if kind == TermKind.MONEY else set())
        if t.get("indicator") not in allowed:
            errors["indicator"] = _("“%(c)s” is not an indicator of this object type (see docs/indicators.md).") % {
                "c": t.get("indicator")
            }
    if kind in (TermKind.TARGET, TermKind.MONEY) and t.get("target") is None:
        errors["target"] = _("Target and money terms need a target.")
    if kind == TermKind.BAND:
        bands = t.get("bands")
        try:
            ok = bool(bands) and all(len(b) == 2 and dec(b[0]) is not None and dec(b[1]) is not None for b in bands)
        except (TypeError, InvalidOperation):
            ok = False
        if not ok:
            errors["bands"] = _("A band table is a list of [bound, points] pairs, e.g. [[95, 30], [90, 25], [0, 0]].")
    return errors


def rule_definition(rule: ScoringRule) -> dict[str, Any]:
    """The rule version as plain data (what a published month stores)."""
    return {
        "id": rule.pk,
        "object_type": rule.object_type,
        "name": rule.name,
        "version": rule.version,
        "valid_from": rule.valid_from.isoformat(),
        "base_points": str(rule.base_points),
        "levels": rule.levels,
        "terms": [t.as_dict() for t in rule.terms.order_by("order", "pk")],
    }


def rule_for(object_type: str, day: date) -> ScoringRule | None:
    """The version in force on `day`: latest valid_from on or before it, then highest version."""
    return (
        ScoringRule.objects.filter(object_type=object_type, active=True, valid_from__lte=day)
        .order_by("-valid_from", "-version")
        .first()
    )


def _value(t: dict[str, Any], values: dict[str, Any]) -> Decimal | None:
    v = dec(values.get(t["indicator"]))
    if v is None:
        v = dec(t.get("missing_value"))
    if v is not None and t.get("invert"):
        v = HUNDRED - v
    return v


def _band(t: dict[str, Any], v: Decimal) -> Decimal:
    bands = sorted(((dec(b), dec(p)) for b, p in t["bands"]), reverse=t.get("band_mode") != "at_most")
    for bound, pts in bands:
        if (v >= bound) if t.get("band_mode") != "at_most" else (v <= bound):
            return pts
    return Decimal(0)


def term_points(t: dict[str, Any], v: Decimal | None) -> Decimal:
    """Points one (non-money) term gives for value `v` (None: no value, 0 points)."""
    if v is None:
        return Decimal(0)
    kind = t["kind"]
    weight = dec(t.get("weight"))
    weight = Decimal(1) if weight is None else weight
    cap = dec(t.get("cap"))
    if kind == TermKind.WEIGHTED:
        return v * weight
    if kind == TermKind.BAND:
        return _band(t, v) * weight
    if kind == TermKind.DEDUCTION:
        off = v * (dec(t.get("per_unit")) or 0)
        return -(min(off, cap) if cap is not None else off)
    if kind == TermKind.TARGET:
        target, full = dec(t["target"]), dec(t.get("full_points")) or Decimal(0)
        if v >= target:
            pts = full + (v - target) * (dec(t.get("above")) or 0)
        else:
            pts = full - (target - v) * (dec(t.get("below")) or 0)
        pts = max(pts, Decimal(0))
        return min(pts, cap) if cap is not None else pts
    raise ValueError(f"not a points term: {kind}")


def term_money(t: dict[str, Any], v: Decimal | None) -> Decimal:
    """Yuan: + `above` per percentage point above the target, − `below` per point below."""
    if v is None:
        return Decimal(0)
    diff = v - dec(t["target"])
    money = diff * (dec(t.get("above")) or 0) if diff >= 0 else diff * (dec(t.get("below")) or 0)
    cap = dec(t.get("cap"))
    if cap is not None:
        money = max(-cap, min(cap, money))
    return money


def level_for(levels: list, score: float) -> str:
    for threshold, name in sorted(levels or [], key=lambda x: -float(x[0])):
        if score >= float(threshold):
            return str(name)
    return ""


def score_object(defn: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    total = dec(defn.get("base_points")) or Decimal(0)
    terms: list[dict[str, Any]] = []
    money_terms = []
    for t in defn["terms"]:
        if t["kind"] == TermKind.MONEY:
            money_terms.append(t)
            continue
        v = _value(t, values)
        pts = term_points(t, v)
        total += pts
        terms.append(
            {
                "indicator": t["indicator"],
                "label": t.get("label", ""),
                "value": values.get(t["indicator"]),
                "points": _round(pts),
            }
        )
    score = _round(total)
    money = Decimal(0)
    for t in money_terms:
        v = dec(score) if t["indicator"] == SCORE else _value(t, values)
        m = term_money(t, v)
        money += m
        terms.append(
            {
                "indicator": t["indicator"],
                "label": t.get("label", ""),
                "value": score if t["indicator"] == SCORE else values.get(t["indicator"]),
                "money": _round(m),
            }
        )
    return {"score": score, "level": level_for(defn.get("levels"), score), "money": _round(money), "terms": terms}


def score_rows(defn: dict[str, Any], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scores, levels, money and ranks (1, 2, 2, 4 …: ties share a rank) of every object, best
    first (ties by code)."""
    rows = [{"object": row["object"], **score_object(defn, row["values"])} for row in inputs]
    rows.sort(key=lambda r: (-r["score"], str(r["object"].get("code", "")), str(r["object"].get("id", ""))))
    for i, row in enumerate(rows):
        row["rank"] = rows[i - 1]["rank"] if i and rows[i - 1]["score"] == row["score"] else i + 1
    return rows
