"""Return visits (回访) under /api/v1/return-visits: the operator's list and the outcome."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from urbangrid.cases import actions
from urbangrid.cases.models import Satisfaction
from urbangrid.cases.queries import may_see_reporter
from urbangrid.core.api_errors import ERRORS, ApiError
from urbangrid.workflow.errors import WorkflowError

router = Router(tags=["return visits"])


class ReporterOut(Schema):
    name: str
    phone: str
    email: str


class DueVisitOut(Schema):
    id: str
    number: str
    version: int
    category: str
    description: str
    address: str
    department: str | None
    closed_at: datetime
    rework_count: int
    reporter: ReporterOut


class VisitIn(Schema):
    version: int = Field(..., description="The case version you read (optimistic locking)")
    outcome: Satisfaction = Field(..., description="satisfied, basically_satisfied or dissatisfied")
    note: str = ""
    not_fixed: bool = Field(False, description="The reporter says the problem is not fixed: start a re-check")


class VisitOut(Schema):
    number: str
    state: str
    version: int
    reopened: bool = Field(..., description="The case went back to the grid's collector for a re-check")


class QueueFilters(Schema):
    limit: int = Field(50, ge=1, le=200)


def _check(request: HttpRequest) -> None:
    if not may_see_reporter(request.user):
        raise PermissionDenied(_("Return visits are made by center operators."))


@router.get(
    "", response={200: list[DueVisitOut], **ERRORS}, summary="Closed cases whose reporter should be called back"
)
def due(request: HttpRequest, filters: Query[QueueFilters]):
    _check(request)
    return [
        {
            "id": str(c.pk),
            "number": c.number,
            "version": c.version,
            "category": str(c.category),
            "description": c.description,
            "address": c.address,
            "department": c.department.name if c.department_id else None,
            "closed_at": c.closed_at,
            "rework_count": c.rework_count,
            "reporter": {"name": c.reporter_name, "phone": c.reporter_phone, "email": c.reporter_email},
        }
        for c in actions.return_visit_queue(request.user)[: filters.limit]
    ]


@router.post("/{int:case_id}", response={200: VisitOut, **ERRORS}, summary="Record the outcome of a return visit")
def record(request: HttpRequest, case_id: int, payload: VisitIn):
    _check(request)
    case = actions.return_visit_queue(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404(_("No closed case waiting for a return visit with this id in your scope."))
    try:
        _visit, dispute = actions.record_return_visit(
            case,
            request.user,
            version=payload.version,
            outcome=payload.outcome,
            note=payload.note,
            not_fixed=payload.not_fixed,
        )
    except WorkflowError as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.fields) from exc
    return {"number": case.number, "state": case.state, "version": case.version, "reopened": dispute is not None}
