"""REST API for urban-management cases under /api/v1/cases (thin: it calls actions)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import translation
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from urbangrid.core.api_errors import ERRORS, ApiError, ErrorOut, raise_workflow_error
from urbangrid.workflow import kit
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.errors import WorkflowError
from urbangrid.workflow.models import Attachment
from urbangrid.workflow.schema import request_schema

from . import actions
from .filters import filter_cases
from .models import Case
from .queries import may_see_reporter, visible_cases
from .schemas import AttachmentOut, CaseDetailOut, CaseIn, CaseListOut, CaseOut

router = Router(tags=["cases"])


_raise = raise_workflow_error


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
    """The same filter as the web lists and the export (cases/filters.py checks every value)."""

    mine: bool = False
    state: list[str] | None = None
    grid: str | None = None
    work_grid: str | None = None
    department: str | None = None
    category: str | None = None
    source: str | None = None
    overdue: bool | None = None
    light: str | None = None
    created_from: str | None = Field(None, description="A date (inclusive) or a time with offset")
    created_to: str | None = Field(None, description="A date (the whole day included) or a time (exclusive)")
    limit: int = 50
    cursor: str | None = None


@router.get("", response={200: CaseListOut, **ERRORS}, summary="List cases (filtered, paginated by cursor)")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    f = filters
    params = f.dict(exclude={"limit", "cursor"})
    try:
        qs = filter_cases(request.user, params).select_related("suggested_department", "merged_into")
    except WorkflowError as exc:
        _raise(exc)
    if f.cursor:
        if not (f.cursor.isascii() and f.cursor.isdigit() and len(f.cursor) < 19):
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


@router.post("", response={201: CaseOut, **ERRORS}, summary="Report a problem (create a case)")
def create_case(request: HttpRequest, payload: CaseIn):
    try:
        case = actions.create_case(
            request.user,
            source=actions.reporting_source(request.user, payload.source),
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


@router.post("/attachments", response={201: AttachmentOut, **ERRORS}, summary="Upload a photo for a later operation")
def upload(request: HttpRequest, file: File[UploadedFile]):
    if file.size and file.size > actions.MAX_ATTACHMENT_BYTES:
        raise ApiError(400, "invalid", "The file is larger than 10 MB.", {"file": "Too large."})
    try:
        att = actions.upload_attachment(request.user, file.read(), file.name or "")
    except WorkflowError as exc:
        _raise(exc)
    return Status(201, {"id": att.token, "type": att.mime_type, "size": att.size})


_BINARY = {"type": "string", "format": "binary"}


@router.get(
    "/attachments/{token}",
    response={200: None, **ERRORS},
    summary="Download a photo (only within the caller's scope)",
    openapi_extra={"responses": {200: {"description": "The photo", "content": {"image/*": {"schema": _BINARY}}}}},
)
def download(request: HttpRequest, token: str):
    att = Attachment.objects.filter(token=token).first()
    if att is None or not kit.may_read(att, request.user):
        raise Http404("No such attachment, or it is outside your scope.")
    return FileResponse(att.file.open("rb"), content_type=att.mime_type)


@router.get("/{int:case_id}", response={200: CaseDetailOut, **ERRORS}, summary="A case with its full history")
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
    data["links"] = [
        {"kind": link.kind, "direction": direction, "type": other_type, "id": str(other_id)}
        for direction, rows in (("to", kit.links(case, direction="out")), ("from", kit.links(case, direction="in")))
        for link in rows.select_related("source_type", "target_type")
        for other_type, other_id in [
            (f"{link.target_type.app_label}.{link.target_type.model}", link.target_id)
            if direction == "to"
            else (f"{link.source_type.app_label}.{link.source_type.model}", link.source_id)
        ]
    ]
    data["attachments"] = [
        {
            "id": a.token,
            "kind": a.kind,
            "type": a.mime_type,
            "url": reverse("api-v1:download", kwargs={"token": a.token}),
            "seq": a.history_seq,
        }
        for a in kit.attachments_of(case)
    ]
    return data


def _operate(request: HttpRequest, case_id: int, operation: str, payload: Schema):
    case = _get_case(request, case_id)
    data = payload.dict(exclude_none=True)
    version = data.pop("version")
    try:
        actions.perform(case, operation, request.user, version=version, data=data)
    except WorkflowError as exc:
        _raise(exc)
    return serialize(_get_case(request, case_id), request.user)


def _add_operation(wf, t) -> None:
    """`POST /cases/{id}/<operation>` with the operation's own request schema."""
    body = request_schema(wf, t)

    def operate(request: HttpRequest, case_id: int, payload):
        return _operate(request, case_id, t.name, payload)

    # real annotations (this module uses postponed ones): ninja reads them for the schema
    operate.__annotations__ = {"request": HttpRequest, "case_id": int, "payload": body}
    operate.__name__ = f"case_{t.name}"
    with translation.override("en"):
        roles = ", ".join(t.roles)
        summary = str(t.label).capitalize()
        description = (
            f"{summary} ({t.name}). From: {', '.join(t.sources)}; to: {t.target or 'the same state'}. "
            f"Roles: {roles}. {t.help or ''}".strip()
        )
    router.post(
        f"/{{int:case_id}}/{t.name}",
        response={200: CaseOut, **ERRORS},
        summary=summary,
        description=description,
        operation_id=f"case_{t.name}",
        url_name=f"case-{t.name.replace('_', '-')}",
    )(operate)


def _register_operations() -> None:
    from urbangrid.cases.loop import URBAN_LOOP

    for t in URBAN_LOOP.operations():
        _add_operation(URBAN_LOOP, t)

    @router.post(
        "/{int:case_id}/{operation}", response={404: ErrorOut}, include_in_schema=False, url_name="case-unknown-op"
    )
    def unknown_operation(request: HttpRequest, case_id: int, operation: str):
        _get_case(request, case_id)
        raise ApiError(404, "not_found", f"Unknown operation “{operation}”.", {"operation": "Unknown operation."})


_register_operations()
