"""REST API for urban-management cases under /api/v1/cases (thin: it calls actions)."""

from __future__ import annotations

from datetime import datetime

from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from urbangrid.api.errors import ApiError
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.errors import WorkflowError

from . import actions
from .models import Attachment, Case
from .queries import may_see_reporter, todo_q, visible_cases
from .schemas import AttachmentOut, CaseDetailOut, CaseIn, CaseListOut, CaseOut, OperationIn

router = Router(tags=["cases"])


def _raise(exc: WorkflowError) -> None:
    raise ApiError(exc.status, exc.code, exc.message, exc.fields) from exc


def _ref(obj) -> dict | None:
    if obj is None:
        return None
    return {"id": str(obj.pk), "code": getattr(obj, "code", ""), "name": str(getattr(obj, "name", obj))}


def serialize(case: Case, user) -> dict:
    data = {
        "id": str(case.pk),
        "number": case.number,
        "version": case.version,
        "state": case.state,
        "state_label": str(case.get_workflow().state_label(case.state)),
        "source": case.source,
        "category": _ref(case.category),
        "kind": case.category.kind,
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "unit_grid": case.unit_grid.code,
        "work_grid": case.work_grid.code if case.work_grid_id else None,
        "community": case.community.name,
        "street": case.street.name,
        "urgency": case.urgency,
        "department": _ref(case.department),
        "suggested_department": _ref(case.suggested_department),
        "merged_into": case.merged_into.number if case.merged_into_id else None,
    }
    for f in (
        "stage deadline deadline_provisional light supervised urged_count rework_count return_count "
        "extension_count pending_request verified self_handled created_at registered_at dispatched_at closed_at"
    ).split():
        data[f] = getattr(case, f)
    if may_see_reporter(user):
        data["reporter"] = {"name": case.reporter_name, "phone": case.reporter_phone, "email": case.reporter_email}
    return data


def _get_case(request: HttpRequest, case_id: int) -> Case:
    case = visible_cases(request.user).select_related("suggested_department", "merged_into").filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case, or it is outside your scope.")
    return case


class CaseFilters(Schema):
    mine: bool = False
    state: list[str] | None = None
    grid: str | None = None
    work_grid: str | None = None
    department: int | None = None
    category: str | None = None
    source: str | None = None
    overdue: bool | None = None
    light: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 50
    cursor: str | None = None


@router.get("", response=CaseListOut, summary="List cases (filtered, paginated by cursor)")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    qs = visible_cases(request.user)
    f = filters
    if f.mine:
        qs = qs.filter(todo_q(request.user))
    if f.state:
        qs = qs.filter(state__in=f.state)
    if f.grid:
        qs = qs.filter(unit_grid__code=f.grid)
    if f.work_grid:
        qs = qs.filter(work_grid__code=f.work_grid)
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.category:
        qs = qs.filter(category__code=f.category.split(":")[-1])
    if f.source:
        qs = qs.filter(source=f.source)
    if f.overdue is True:
        qs = qs.filter(deadline__lt=timezone.now())
    if f.light:
        qs = qs.filter(light=f.light)
    if f.created_from:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__lt=f.created_to)
    if f.cursor:
        if not f.cursor.isdigit():
            raise ApiError(
                400, "invalid", "The cursor is not valid.", {"cursor": "Use next_cursor from the last page."}
            )
        qs = qs.filter(pk__lt=int(f.cursor))
    limit = max(1, min(f.limit, 200))
    page = list(qs.order_by("-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [serialize(c, request.user) for c in page],
        "next_cursor": str(page[-1].pk) if more and page else None,
    }


@router.post("", response={201: CaseOut}, summary="Report a problem (create a case)")
def create_case(request: HttpRequest, payload: CaseIn):
    try:
        case = actions.create_case(
            request.user,
            source=payload.source,
            category=payload.category,
            description=payload.description,
            lon=payload.lon,
            lat=payload.lat,
            crs=payload.crs,
            address=payload.address,
            component=payload.component,
            urgency=payload.urgency,
            reporter=payload.reporter.dict() if payload.reporter else None,
            channel=payload.channel,
            photos=payload.photos,
        )
    except WorkflowError as exc:
        _raise(exc)
    return Status(201, serialize(Case.objects.select_related().get(pk=case.pk), request.user))


@router.post("/attachments", response={201: AttachmentOut}, summary="Upload a photo for a later operation")
def upload(request: HttpRequest, file: File[UploadedFile]):
    if file.size and file.size > actions.MAX_ATTACHMENT_BYTES:
        raise ApiError(400, "invalid", "The file is larger than 10 MB.", {"file": "Too large."})
    try:
        att = actions.upload_attachment(request.user, file.read(), file.name or "")
    except WorkflowError as exc:
        _raise(exc)
    return Status(201, {"id": att.token, "type": att.mime_type, "size": att.size})


@router.get("/attachments/{token}", summary="Download a photo (only within the caller's scope)")
def download(request: HttpRequest, token: str):
    att = Attachment.objects.filter(token=token).first()
    if att is None or not (
        att.uploaded_by_id == request.user.pk
        or (att.case_id and visible_cases(request.user).filter(pk=att.case_id).exists())
    ):
        raise Http404("No such attachment, or it is outside your scope.")
    return FileResponse(att.file.open("rb"), content_type=att.mime_type)


@router.get("/{int:case_id}", response=CaseDetailOut, summary="A case with its full history")
def get_case(request: HttpRequest, case_id: int):
    case = _get_case(request, case_id)
    data = serialize(case, request.user)
    data["history"] = [
        {
            **{
                f: getattr(h, f)
                for f in "seq action from_state to_state role reason payload attachments stage stage_limit "
                "time_used_minutes overdue deadline_before deadline_after created_at".split()
            },
            "actor": str(h.actor) if h.actor_id else None,
        }
        for h in history_for(case)
    ]
    data["operations"] = [t.name for t in actions.available_operations(case, request.user)]
    data["attachments"] = [
        {
            "id": a.token,
            "kind": a.kind,
            "type": a.mime_type,
            "url": reverse("api-v1:download", kwargs={"token": a.token}),
            "seq": a.history_seq,
        }
        for a in case.attachments.all()
    ]
    return data


@router.post("/{int:case_id}/{operation}", response=CaseOut, summary="Perform an operation on a case")
def operate(request: HttpRequest, case_id: int, operation: str, payload: OperationIn):
    case = _get_case(request, case_id)
    data = payload.dict(exclude_none=True)
    version = data.pop("version")
    if not data.get("photos"):
        data.pop("photos", None)
    try:
        actions.perform(case, operation, request.user, version=version, data=data)
    except WorkflowError as exc:
        _raise(exc)
    return serialize(_get_case(request, case_id), request.user)
