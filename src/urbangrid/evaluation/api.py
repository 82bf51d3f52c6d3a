"""REST API under /api/v1/evaluation: the indicator registry, indicator values per object, the
period report (the figures of the report page, Excel and PDF), monthly scores and rankings, and
publishing a month (or a correction of it).

Leaders, administrators and center staff (operators, shift leaders, dispatchers, center
departments) see every object; a department's staff see their own department's row only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from urbangrid.core.api_errors import ApiError
from urbangrid.core.models import DepartmentKind
from urbangrid.core.roles import RoleCode as R
from urbangrid.core.scope import department_ids_for

from .indicators import TARGETS, evaluate, registry
from .periods import parse_period, parse_scope

router = Router(tags=["evaluation"])

CENTER_ROLES = (R.LEADER, R.ADMINISTRATOR, R.OPERATOR, R.SHIFT_LEADER, R.DISPATCHER)
CENTER_KINDS = (DepartmentKind.SUPERVISION_CENTER, DepartmentKind.COMMAND_CENTER, DepartmentKind.SUB_CENTER)


def _sees_all(user) -> bool:
    return bool(
        user.is_superuser
        or user.has_role(*CENTER_ROLES)
        or (user.department_id and user.department.kind in CENTER_KINDS)
    )


sees_all = _sees_all
PUBLISH_ROLES = (R.LEADER, R.ADMINISTRATOR)


def _require_all(user) -> None:
    if not _sees_all(user):
        raise PermissionDenied(_("Evaluation is for leaders, administrators and center staff."))


def _period(text: str):
    try:
        return parse_period(text)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"period": str(exc)}) from None


class ReportQuery(Schema):
    period: str
    scope: str = "city"


@router.get("/report", summary="The period report's figures")
def report(request: HttpRequest, q: Query[ReportQuery]):
    """The figures of the report page, its Excel workbook and PDF: summary (collected, of which
    closed on the spot, registered, dispatched, closed, closure rate, due / closed on time),
    by source, top categories, hot spots and (for a month) the rankings."""
    from .reports import figures

    _require_all(request.user)
    p = _period(q.period)
    try:
        return figures(p, q.scope)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"scope": str(exc)}) from None


class ScoresQuery(Schema):
    period: str
    object_type: str
    scope: str = "city"


def _scored_type(object_type: str) -> None:
    from .models import SCORED_TYPES

    if object_type not in dict(SCORED_TYPES):
        raise ApiError(404, "not_found", _("Unknown object type “%(t)s”.") % {"t": object_type})


@router.get("/scores", summary="Monthly scores and ranking")
def scores(request: HttpRequest, q: Query[ScoresQuery]):
    """The month's scores, levels, money and ranks under the rule version in force: the current
    published version if the month is published (`published` gives version, time, reason), else
    computed live (`published`: null)."""
    from . import publish

    _require_all(request.user)
    _scored_type(q.object_type)
    try:
        return publish.scores(q.period, q.object_type, q.scope)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"period": str(exc)}) from None


@router.get("/scores/versions", summary="Published versions of a month")
def score_versions(request: HttpRequest, q: Query[ScoresQuery]):
    from .models import PublishedMonth

    _require_all(request.user)
    _scored_type(q.object_type)
    rows = PublishedMonth.objects.filter(period=_period(q.period).label, object_type=q.object_type, scope=q.scope)
    return [
        {
            "version": pm.version,
            "published_at": pm.published_at,
            "published_by": pm.published_by.username if pm.published_by else "",
            "reason": pm.reason,
            "rule": {"id": pm.rule_id, "version": pm.rule_definition["version"]},
            "adjustments": pm.adjustments,
        }
        for pm in rows.select_related("published_by").order_by("version")
    ]


class PublishIn(Schema):
    period: str
    object_type: str
    scope: str = "city"
    reason: str = ""
    adjustments: dict[str, dict[str, float | int | None]] = {}


@router.post("/scores/publish", summary="Publish a month, or a correction of it")
def publish_scores(request: HttpRequest, data: PublishIn):
    """Leaders and administrators. The first publication freezes the month; publishing again
    needs a `reason` and creates a new version (optional `adjustments`: {object id: {indicator:
    value}})."""
    from . import publish

    user = request.user
    if not (user.is_superuser or user.has_role(*PUBLISH_ROLES)):
        raise PermissionDenied(_("Only leaders and administrators publish evaluation results."))
    _scored_type(data.object_type)
    try:
        if publish.current(data.period, data.object_type, data.scope) is None:
            if data.adjustments:
                raise publish.ScoringError(_("Adjustments are made by a correction, with a reason."))
            pm = publish.publish_month(data.period, data.object_type, user, scope=data.scope)
        elif not data.reason.strip():
            raise ApiError(
                409, "conflict", _("Already published: a correction needs a reason."), {"reason": "required"}
            )
        else:
            pm = publish.correct_month(
                data.period, data.object_type, user, data.reason, scope=data.scope, adjustments=data.adjustments
            )
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc)) from None
    return publish.scores(pm.period, pm.object_type, pm.scope)


@router.get("/indicators", summary="The indicator registry")
def indicators(request: HttpRequest, object_type: str | None = None):
    """Every indicator: code, Chinese and English name, object type, formula, unit and direction."""
    return [i.as_dict() for i in registry(TARGETS.get(object_type) if object_type else None)]


class EvalQuery(Schema):
    period: str
    scope: str = "city"


@router.get("/{object_type}", summary="Indicator values per object")
def values(request: HttpRequest, object_type: str, q: Query[EvalQuery]):
    """object_type: collector, operator, shift_leader, dispatcher, department, district, street,
    community, work_grid, unit_grid or category; period: 2026-11-05, 2026-W45, 2026-11, 2026-Q4,
    2026 or 2026-11-01..2026-11-15; scope: city, district:<code>, street:<code>, community:<code>,
    work_grid:<code> or unit_grid:<code>."""
    user = request.user
    if object_type not in TARGETS:
        raise ApiError(404, "not_found", _("Unknown object type “%(t)s”.") % {"t": object_type})
    only = None
    if not _sees_all(user):
        if object_type != "department" or not department_ids_for(user):
            raise PermissionDenied(_("Evaluation is for leaders, administrators and center staff."))
        only = department_ids_for(user)
    try:
        period, scope = parse_period(q.period), parse_scope(q.scope)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"period": str(exc)}) from None
    return {
        "object_type": object_type,
        "period": {"label": period.label, "kind": period.kind, "first": period.first, "last": period.last},
        "scope": q.scope,
        "results": evaluate(object_type, period, scope, only=only),
    }
