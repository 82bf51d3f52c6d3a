"""REST API under /api/v1/evaluation: the indicator registry and indicator values per object.

Leaders, administrators and center staff (operators, shift leaders, dispatchers, center
departments) see every object; a department's staff see their own department's row only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from urbangrid.api.errors import ApiError
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
