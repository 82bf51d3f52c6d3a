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
from .periods import Period, parse_period, parse_scope

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


def may_publish(user) -> bool:
    return bool(user.is_superuser or user.has_role(*PUBLISH_ROLES))


def scores_only(user) -> set[int] | None:
    """Whose scores a user may see: None — every object (leaders, administrators, center
    posts and other staff of center departments); a set of department ids — a department's
    handlers see their own department's row (and sub-units); anyone else (collectors, citizens
    …) gets PermissionDenied."""
    if user.is_superuser or user.has_role(*CENTER_ROLES):
        return None
    if user.has_role(R.HANDLER):
        if user.department_id and user.department.kind in CENTER_KINDS:
            return None
        ids = department_ids_for(user)
        if ids:
            return ids
    elif user.role_codes - {R.COLLECTOR, R.CITIZEN} and _sees_all(user):
        return None
    raise PermissionDenied(_("Monthly scores are for leaders, administrators, center staff and departments."))


def scores_type_allowed(only: set[int] | None, object_type: str) -> None:
    if only is not None and object_type != "department":
        raise PermissionDenied(_("A department's staff see the department scores only."))


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
    from .publish import ScoringError, scored_type

    try:
        scored_type(object_type)
    except ScoringError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


def _scores_request(request: HttpRequest, q: ScoresQuery) -> tuple[set[int] | None, Period]:
    """(the department rows the user may see, or None for all; the period) of a scores request."""
    only = scores_only(request.user)
    _scored_type(q.object_type)
    scores_type_allowed(only, q.object_type)
    return only, _period(q.period)


@router.get("/scores", summary="Monthly scores and ranking")
def scores(request: HttpRequest, q: Query[ScoresQuery]):
    """The month's scores, levels, money, ranks and term breakdown under the rule version in
    force — the figures of the page /evaluation/scores/: the current published version if the
    month is published (`published` gives version, time, by, reason), else computed live
    (`published`: null). A department's handlers get their own department's row only (its
    rank among all departments)."""
    from . import publish

    only, p = _scores_request(request, q)
    try:
        publish.ensure_not_future(publish.month(p))
        return publish.scores(p, q.object_type, q.scope, only=only)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"period": str(exc)}) from None


@router.get("/scores/versions", summary="Published versions of a month")
def score_versions(request: HttpRequest, q: Query[ScoresQuery]):
    from . import publish

    _only, p = _scores_request(request, q)
    try:
        return publish.versions(p, q.object_type, q.scope)
    except ValueError as exc:
        raise ApiError(400, "invalid", str(exc), {"period": str(exc)}) from None


class PublishIn(Schema):
    period: str
    object_type: str
    scope: str = "city"
    reason: str = ""
    adjustments: dict[str, dict[str, float | int | None]] = {}


@router.post("/scores/publish", summary="Publish a month, or a correction of it")
def publish_scores(request: HttpRequest, data: PublishIn):
    """Leaders and administrators. The first publication freezes a month that is over;
    publishing again needs a `reason` (409 without) and creates a new version (optional
    `adjustments`: {object id: {indicator: value}})."""
    from . import publish

    user = request.user
    if not may_publish(user):
        raise PermissionDenied(_("Only leaders and administrators publish evaluation results."))
    _scored_type(data.object_type)
    p = _period(data.period)
    try:
        pm = publish.publish_or_correct(
            p, data.object_type, user, data.reason, scope=data.scope, adjustments=data.adjustments, via="api"
        )
    except publish.NeedsReason as exc:
        raise ApiError(409, "conflict", str(exc), {"reason": "required"}) from None
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
