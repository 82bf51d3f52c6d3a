"""Monthly scores and rankings, and publishing them (发布): a published month is frozen as a
`PublishedMonth` — the rule version and its definition, the counting rules, the input indicator
values, the scores, ranks, levels and money — and is read from that snapshot, never recomputed.
A correction is a new version with a reason (the older versions stay; the newest is current).
`recompute(pm)` applies the stored definition to the stored inputs: it gives the stored results.
Every publish and correction is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.core.audit import audit

from .indicators import Counts, evaluate
from .models import SCORED_TYPES, PublishedMonth, ScoringRule
from .periods import Period, parse_period, parse_scope
from .rules import rules as counting_rules
from .scoring import rule_definition, rule_for, score_rows


class ScoringError(ValueError):
    pass


def month(period: str | Period) -> Period:
    p = parse_period(period) if isinstance(period, str) else period
    if p.kind != "month":
        raise ScoringError(_("Scores are published per month (e.g. 2026-11)."))
    return p


def scored_type(object_type: str) -> str:
    if object_type not in dict(SCORED_TYPES):
        raise ScoringError(_("Unknown object type “%(t)s”.") % {"t": object_type})
    return object_type


def is_over(p: Period, today: date | None = None) -> bool:
    """The month has ended (local days): only then may it be published."""
    return p.last < (today or timezone.localdate())


def ensure_over(p: Period, today: date | None = None) -> None:
    if not is_over(p, today):
        raise ScoringError(
            _("%(p)s is not over yet: a month is published after its last day (%(d)s).")
            % {"p": p.label, "d": p.last.isoformat()}
        )


def ensure_not_future(p: Period, today: date | None = None) -> None:
    if p.first > (today or timezone.localdate()):
        raise ScoringError(_("%(p)s is in the future: there are no scores yet.") % {"p": p.label})


def _rule(object_type: str, p: Period) -> ScoringRule:
    rule = rule_for(object_type, p.first)
    if rule is None:
        raise ScoringError(
            _("No scoring rule for %(t)s is valid on %(d)s.") % {"t": object_type, "d": p.first.isoformat()}
        )
    return rule


def live_inputs(object_type: str, p: Period, scope: str = "city", counts: Counts | None = None) -> list[dict[str, Any]]:
    """Today's indicator values of the month; `counts` shares the database reads with the other
    object types of one report (see `indicators.Counts`)."""
    rows = evaluate(object_type, p, parse_scope(scope), counts=counts)
    return [{"object": row["object"], "values": row["values"]} for row in rows]


def compute(
    period: str | Period, object_type: str, scope: str = "city", counts: Counts | None = None
) -> dict[str, Any]:
    """The month's scores from the live indicator values and the rule version in force (not frozen)."""
    p = month(period)
    rule = _rule(object_type, p)
    defn = rule_definition(rule)
    inputs = live_inputs(object_type, p, scope, counts)
    return {"rule": defn, "inputs": inputs, "results": score_rows(defn, inputs)}


def current(period: str, object_type: str, scope: str = "city") -> PublishedMonth | None:
    return (
        PublishedMonth.objects.filter(period=month(period).label, object_type=object_type, scope=scope)
        .order_by("-version")
        .first()
    )


def _freeze(p: Period, object_type: str, scope: str, actor, *, version: int, reason: str, adjustments=None):
    rule = _rule(object_type, p)
    defn = rule_definition(rule)
    inputs = live_inputs(object_type, p, scope)
    adjustments = {str(k): v for k, v in (adjustments or {}).items()}
    unknown = set(adjustments) - {str(row["object"]["id"]) for row in inputs}
    if unknown:
        raise ScoringError(_("No object with id %(ids)s to adjust.") % {"ids": ", ".join(sorted(unknown))})
    for row in inputs:
        for code, value in adjustments.get(str(row["object"]["id"]), {}).items():
            if code not in row["values"]:
                raise ScoringError(_("Unknown indicator “%(c)s” in the adjustments.") % {"c": code})
            row["values"][code] = value
    r = counting_rules()
    return PublishedMonth.objects.create(
        period=p.label,
        object_type=object_type,
        scope=scope,
        version=version,
        rule=rule,
        rule_definition=defn,
        counting_rules={k: list(v) if isinstance(v, tuple) else v for k, v in r.items()},
        inputs=inputs,
        results=score_rows(defn, inputs),
        adjustments=adjustments,
        reason=reason,
        published_by=actor if actor is not None and actor.pk else None,
    )


def publish_month(
    period: str | Period, object_type: str, actor, *, scope: str = "city", via: str = ""
) -> PublishedMonth:
    """Freeze the month (version 1). A month already published is changed by `correct_month`.
    `via` (page, api, command) is written to the audit record."""
    p = month(period)
    with transaction.atomic():
        if PublishedMonth.objects.select_for_update().filter(period=p.label, object_type=object_type, scope=scope):
            raise ScoringError(_("%(p)s is already published: publish a correction with a reason.") % {"p": p.label})
        pm = _freeze(p, object_type, scope, actor, version=1, reason="")
        audit(
            actor,
            "evaluation.publish",
            pm,
            summary=f"{p.label} {object_type} {scope} v1",
            rule=pm.rule_id,
            rule_version=pm.rule.version,
            via=via,
        )
    return pm


def correct_month(
    period: str | Period,
    object_type: str,
    actor,
    reason: str,
    *,
    scope: str = "city",
    adjustments: dict[Any, dict[str, Any]] | None = None,
    via: str = "",
) -> PublishedMonth:
    """A new version of a published month: today's indicator values (with `adjustments`:
    {object id: {indicator: value}}) under the rule version now in force for the month."""
    p = month(period)
    if not (reason or "").strip():
        raise ScoringError(_("A correction needs a reason."))
    with transaction.atomic():
        last = (
            PublishedMonth.objects.select_for_update()
            .filter(period=p.label, object_type=object_type, scope=scope)
            .order_by("-version")
            .first()
        )
        if last is None:
            raise ScoringError(_("%(p)s is not published yet.") % {"p": p.label})
        pm = _freeze(
            p, object_type, scope, actor, version=last.version + 1, reason=reason.strip(), adjustments=adjustments
        )
        audit(
            actor,
            "evaluation.correct",
            pm,
            summary=f"{p.label} {object_type} {scope} v{pm.version}",
            reason=pm.reason,
            previous=last.pk,
            rule=pm.rule_id,
            rule_version=pm.rule.version,
            adjustments=pm.adjustments,
            via=via,
        )
    return pm


def recompute(pm: PublishedMonth, *, from_rule_row: bool = False) -> list[dict[str, Any]]:
    """The results again from the stored inputs and the stored rule definition (or, with
    `from_rule_row`, the rule version's rows as they are now — locked once published)."""
    defn = rule_definition(pm.rule) if from_rule_row else pm.rule_definition
    return score_rows(defn, pm.inputs)


class NeedsReason(ScoringError):
    """The month is already published: publishing again is a correction and needs a reason."""


def publish_or_correct(
    period: str | Period,
    object_type: str,
    actor,
    reason: str = "",
    *,
    scope: str = "city",
    adjustments: dict[Any, dict[str, Any]] | None = None,
    via: str = "",
    today: date | None = None,
) -> PublishedMonth:
    """What the page, the API and the command do: publish a month that is over (version 1), or,
    once published, correct it (a new version; `reason` required)."""
    p = month(period)
    scored_type(object_type)
    if current(p.label, object_type, scope) is None:
        if adjustments:
            raise ScoringError(_("Adjustments are made by a correction, with a reason."))
        ensure_over(p, today)
        return publish_month(p, object_type, actor, scope=scope, via=via)
    if not (reason or "").strip():
        raise NeedsReason(_("%(p)s is already published: a correction needs a reason.") % {"p": p.label})
    return correct_month(p, object_type, actor, reason, scope=scope, adjustments=adjustments, via=via)


def _who(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def versions(period: str | Period, object_type: str, scope: str = "city") -> list[dict[str, Any]]:
    """Every published version of the month, oldest first."""
    p = month(period)
    rows = PublishedMonth.objects.filter(period=p.label, object_type=object_type, scope=scope)
    return [
        {
            "version": pm.version,
            "at": pm.published_at.isoformat(),
            "by": pm.published_by.username if pm.published_by else "",
            "by_name": _who(pm.published_by),
            "reason": pm.reason,
            "rule": {"id": pm.rule_id, "version": pm.rule_definition["version"]},
            "adjustments": pm.adjustments,
        }
        for pm in rows.select_related("published_by").order_by("version")
    ]


def scores(
    period: str | Period,
    object_type: str,
    scope: str = "city",
    *,
    version: int | None = None,
    only: set[int] | None = None,
    counts: Counts | None = None,
) -> dict[str, Any]:
    """The month's scores: the current published version if any (or the published `version`
    asked for), else computed live ("published": None; `counts` shares the database reads
    between object types). `only`: keep the rows of these object
    ids (a department's staff); ranks stay those among all objects."""
    p = month(period)
    if version is not None:
        pm = PublishedMonth.objects.filter(
            period=p.label, object_type=object_type, scope=scope, version=version
        ).first()
        if pm is None:
            raise ScoringError(_("%(p)s has no published version %(v)s.") % {"p": p.label, "v": version})
    else:
        pm = current(p.label, object_type, scope)
    if pm is not None:
        latest = current(p.label, object_type, scope)
        out = {
            "period": p.label,
            "object_type": object_type,
            "scope": scope,
            "published": {
                "version": pm.version,
                "at": pm.published_at.isoformat(),
                "by": pm.published_by.username if pm.published_by else "",
                "by_name": _who(pm.published_by),
                "reason": pm.reason,
                "current": latest is not None and latest.pk == pm.pk,
                "latest_version": latest.version if latest else pm.version,
            },
            "rule": {k: pm.rule_definition[k] for k in ("id", "name", "version", "valid_from")},
            "results": pm.results,
        }
    else:
        live = compute(p, object_type, scope, counts)
        out = {
            "period": p.label,
            "object_type": object_type,
            "scope": scope,
            "published": None,
            "rule": {k: live["rule"][k] for k in ("id", "name", "version", "valid_from")},
            "results": live["results"],
        }
    if only is not None:
        out["results"] = [r for r in out["results"] if r["object"].get("id") in only]
    return out
