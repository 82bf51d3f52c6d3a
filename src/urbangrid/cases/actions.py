"""Domain actions for urban-management cases: what views, the API, commands and tasks call.

Every state change goes through `urbangrid.workflow.engine`; these functions add the
business steps around it (input validation, grid resolution, numbering, attachments).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.catalog.models import Category, Component
from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode
from urbangrid.workflow import engine, kit
from urbangrid.workflow.definition import Transition
from urbangrid.workflow.errors import Invalid, NotAllowed
from urbangrid.workflow.holders import notify
from urbangrid.workflow.models import Attachment, History

from .models import (
    Case,
    CaseCounter,
    ReturnVisit,
    Satisfaction,
    Source,
    State,
)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": (".jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": (".png", "image/png"),
    b"GIF87a": (".gif", "image/gif"),
    b"GIF89a": (".gif", "image/gif"),
}


class OutsideJurisdiction(Invalid):
    status = 422
    code = "outside_jurisdiction"


# --- attachments ------------------------------------------------------------------------


def _sniff(head: bytes) -> tuple[str, str] | None:
    for sig, kind in _IMAGE_SIGNATURES.items():
        if head.startswith(sig):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return None


def upload_attachment(actor: User, content: bytes, filename: str = "") -> Attachment:
    """Store an uploaded photo (JPEG, PNG, WebP or GIF, at most 10 MB) for a later operation."""
    if not content:
        raise Invalid(_("The file is empty."), fields={"file": _("Empty file.")})
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise Invalid(_("The file is larger than 10 MB."), fields={"file": _("Too large.")})
    kind = _sniff(content[:16])
    if kind is None:
        raise Invalid(
            _("“%(name)s” is not a JPEG, PNG, WebP or GIF image.") % {"name": filename or "file"},
            fields={"file": _("Unsupported file type.")},
        )
    ext, mime = kind
    att = Attachment(
        token=secrets.token_hex(16),
        extension=ext,
        mime_type=mime,
        size=len(content),
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    att.file.save(f"{att.token}{ext}", ContentFile(content), save=False)
    try:
        att.save()
    except BaseException:
        att.file.storage.delete(att.file.name)
        raise
    from urbangrid.core.files import delete_on_rollback

    delete_on_rollback(att.file)  # the file goes too if the transaction rolls back
    return att


# --- creating a case --------------------------------------------------------------------


def next_case_number(now: datetime) -> str:
    """<county code><yyyymmdd><5-digit daily sequence>, inside the caller's transaction: on
    PostgreSQL from a sequence per day (`urbangrid_case_number`, migration 0003), elsewhere from
    a counter row (SQLite serialises writers anyway)."""
    day = timezone.localtime(now).strftime("%Y%m%d")
    prefix = f"{settings.URBANGRID['JURISDICTION_CODE']}{day}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT urbangrid_case_number(%s, %s)", [prefix, f"cases_number_{day}"])
            return cur.fetchone()[0]
    return f"{prefix}{_counter_next(day):05d}"


def _counter_next(day: str) -> int:
    table = CaseCounter._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET value = value + 1 WHERE day = %s RETURNING value", [day])
        row = cur.fetchone()
        if row is not None:
            return row[0]
        try:
            with transaction.atomic():
                CaseCounter.objects.create(day=day, value=1)
            return 1
        except IntegrityError:
            cur.execute(f"UPDATE {table} SET value = value + 1 WHERE day = %s RETURNING value", [day])
            return cur.fetchone()[0]


def suggest_department(category: Category, component: Component | None, unit_grid_id: int) -> int | None:
    """Who should fix it (id): the component's maintainer, then its owner, then the category's
    department, then the territorial department of the grid (属地兜底)."""
    for dept_id in (
        component and component.maintainer_department_id,
        component and component.owner_department_id,
        category.default_department_id,
    ):
        if dept_id:
            return dept_id
    from urbangrid.geo.models import UnitGrid

    return UnitGrid.objects.filter(pk=unit_grid_id).values_list("responsible_department_id", flat=True).first()


def resolve_category(value: Any) -> Category:
    """A minor category from an instance, a primary key, "event:0102" / "component:0101",
    or a plain code when it is unique across kinds."""
    if isinstance(value, Category):
        cat: Category | None = value
    else:
        text = str(value or "").strip()
        qs = Category.objects.filter(parent__isnull=False, active=True)
        if ":" in text:
            kind, _sep, code = text.partition(":")
            cat = qs.filter(kind=kind.strip(), code=code.strip()).first()
        elif isinstance(value, int) or (
            text.isascii() and text.isdigit() and not text.startswith("0") and len(text) < 19
            and qs.filter(pk=int(text)).exists()
        ):
            cat = qs.filter(pk=int(text)).first()
        else:
            matches = list(qs.filter(code=text)[:2])
            if len(matches) > 1:
                raise Invalid(
                    _(
                        "Category code “%(c)s” exists for components and events; "
                        "write “component:%(c)s” or “event:%(c)s”."
                    )
                    % {"c": text},
                    fields={"category": _("Ambiguous category.")},
                )
            cat = matches[0] if matches else None
    if cat is None or cat.parent_id is None or not cat.active:
        raise Invalid(_("Unknown category “%(c)s”.") % {"c": value}, fields={"category": _("Unknown category.")})
    return cat


def locate(lon: Any, lat: Any, crs: str = "WGS84"):
    """Convert to WGS-84 and find the grid; raise Invalid / OutsideJurisdiction with clear messages."""
    from urbangrid.geo.crs import CoordinateError, UnknownCRS, to_wgs84
    from urbangrid.geo.index import OutsideJurisdiction as Outside
    from urbangrid.geo.index import get_index

    try:
        lon_w, lat_w = to_wgs84(float(lon), float(lat), crs or "WGS84")
    except UnknownCRS as exc:
        raise Invalid(str(exc), fields={"crs": str(exc)}) from None
    except (CoordinateError, TypeError, ValueError) as exc:
        raise Invalid(
            _("Invalid coordinates: %(e)s") % {"e": exc}, fields={"lon": _("Invalid."), "lat": _("Invalid.")}
        ) from None
    try:
        return lon_w, lat_w, get_index().locate(lon_w, lat_w)
    except Outside:
        raise OutsideJurisdiction(
            _("The position %(lon).6f, %(lat).6f is outside the jurisdiction.") % {"lon": lon_w, "lat": lat_w},
            fields={"lon": _("Outside the jurisdiction.")},
        ) from None


#: roles that take reports on someone else's behalf and so choose the source (hotline, media, …)
CENTER_ROLES = (RoleCode.OPERATOR, RoleCode.SHIFT_LEADER, RoleCode.DISPATCHER, RoleCode.LEADER, RoleCode.ADMINISTRATOR)


def reporting_source(actor: User, requested: str | None) -> str:
    """The source of a report follows from who reports: a citizen account reports as a citizen,
    a collector as a collector; only center staff choose another source (default: hotline)."""
    if requested and requested not in Source.values:
        raise Invalid(_("Unknown source “%(s)s”.") % {"s": requested}, fields={"source": _("Unknown source.")})
    if actor.is_superuser or actor.has_role(*CENTER_ROLES):
        return requested or Source.HOTLINE
    own = Source.COLLECTOR if actor.has_role(RoleCode.COLLECTOR) else Source.CITIZEN
    if requested and requested != own:
        raise NotAllowed(
            _("You report as “%(own)s”; only center staff may record another source.") % {"own": Source(own).label},
            fields={"source": _("Not allowed for your role.")},
        )
    return own


def create_case(
    actor: User,
    *,
    source: str,
    category: Any,
    description: str,
    lon: Any,
    lat: Any,
    crs: str = "WGS84",
    address: str = "",
    component: Any = None,
    urgency: str | None = None,
    reporter: Mapping[str, str] | None = None,
    channel: Mapping[str, Any] | None = None,
    photos: Iterable[str] = (),
    now: datetime | None = None,
) -> Case:
    """Report a problem (上报 / 登记). The case waits in REPORTED for the operator."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if source not in Source.values:
        errors["source"] = _("Unknown source “%(s)s”.") % {"s": source}
    if not (description or "").strip():
        errors["description"] = _("Describe the problem.")
    if urgency not in (None, "", "urgent", "normal"):
        errors["urgency"] = _("Urgency must be “urgent” or “normal”.")
    if errors:
        raise Invalid(_("The report is not complete: %(f)s.") % {"f": ", ".join(errors)}, fields=errors)
    cat = resolve_category(category)
    comp = None
    if component:
        comp = Component.objects.filter(obj_id=str(component)).first()
        if comp is None:
            raise Invalid(
                _("Unknown component “%(c)s”.") % {"c": component}, fields={"component": _("Unknown component.")}
            )
    lon_w, lat_w, loc = locate(lon, lat, crs)
    reporter = reporter or {}
    case = Case(
        source=source,
        channel=dict(channel or {}),
        category=cat,
        component=comp,
        description=description.strip(),
        address=(address or "").strip()[:200],
        lon=lon_w,
        lat=lat_w,
        unit_grid_id=loc.unit_grid_id,
        work_grid_id=loc.work_grid_id,
        community_id=loc.community_id,
        street_id=loc.street_id,
        urgency=urgency or cat.urgency,
        reporter_name=str(reporter.get("name", ""))[:64],
        reporter_phone=str(reporter.get("phone", ""))[:32],
        reporter_email=str(reporter.get("email", ""))[:254],
        reported_by=actor if actor and actor.is_authenticated else None,
        created_at=now,
    )
    case.suggested_department_id = suggest_department(cat, comp, loc.unit_grid_id)
    photos = list(photos)
    with transaction.atomic():
        case.number = next_case_number(now)
        engine.create(case, "report", actor, now=now)
        if photos:
            kit.claim(case, actor, photos, "before", 1)
    return case


# --- operations -------------------------------------------------------------------------


def perform(
    case: Case | int,
    operation: str,
    actor: User,
    *,
    version: int,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Perform any loop operation (`POST /cases/{id}/{operation}`)."""
    if not isinstance(case, Case):
        case = Case.objects.select_related("category").get(pk=case)
    return engine.transition(case, operation, actor, version=version, data=data, now=now)


def available_operations(case: Case, actor: User) -> list[Transition]:
    return engine.available(case, actor)


def notify_department(case: Case, kind: str, message: str) -> int:
    if not case.department_id:
        return 0
    users = User.objects.filter(
        department_id=case.department_id, is_active=True, roles__code=RoleCode.HANDLER
    ).distinct()
    return notify(users, case, kind, message)


# --- time: lights, escalation, recomputation ----------------------------------------------


def sweep_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Lights, notifications and escalation for every registered workflow (see workflow.sweep)."""
    from urbangrid.workflow.sweep import sweep

    return sweep(now)


def recompute_open_deadlines(years: Iterable[int] | None = None) -> int:
    """After the working calendar changed (see workflow.sweep.recompute_deadlines)."""
    from urbangrid.workflow.sweep import recompute_deadlines

    return recompute_deadlines(years)


# --- the public's side: return visits, ratings and disputed fixes ---------------------------


def return_visit_queue(actor: User):
    """Closed cases in `actor`'s scope whose reporter left contact data and was not yet
    called back since the last closing (回访待办), oldest closing first."""
    from django.db.models import Exists, OuterRef

    from urbangrid.core.scope import scope_q

    visited = ReturnVisit.objects.filter(case=OuterRef("pk"), visited_at__gte=OuterRef("closed_at"))
    return (
        Case.objects.filter(scope_q(actor), state=State.CLOSED, closed_at__isnull=False)
        .exclude(reporter_phone="", reporter_email="")
        .exclude(Exists(visited))
        .select_related("category", "department")
        .order_by("closed_at", "pk")
    )


def record_return_visit(
    case: Case,
    actor: User,
    *,
    version: int,
    outcome: str,
    note: str = "",
    not_fixed: bool = False,
    now: datetime | None = None,
) -> tuple[History, History | None]:
    """Record a return visit (回访). When the reporter says the problem is not fixed — or is
    dissatisfied and URBANGRID["REOPEN_ON_DISSATISFIED"] is on (default) — the case is
    disputed: it reopens for a re-check by the grid's collector. Returns (visit, dispute)."""
    data = {"outcome": outcome, "note": note, "not_fixed": not_fixed}
    with transaction.atomic():
        visit = perform(case, "return_visit", actor, version=version, data=data, now=now)
        reopen = not_fixed or (
            outcome == Satisfaction.DISSATISFIED and settings.URBANGRID.get("REOPEN_ON_DISSATISFIED", True)
        )
        dispute = None
        if reopen:
            reason = note or _("Return visit: the reporter is not satisfied with the fix.")
            data = {"reason": reason, "channel": "return_visit"}
            dispute = perform(case, "dispute", actor, version=case.version, data=data, now=now)
    return visit, dispute


def rate_case(
    case: Case, actor: User, *, rating: str, comment: str = "", not_fixed: bool = False, now: datetime | None = None
) -> list[History]:
    """The reporter rates a closed case (市民评价); "not fixed" disputes it (re-check)."""
    with transaction.atomic():
        entries = [perform(case, "rate", actor, version=case.version, data={"rating": rating, "comment": comment})]
        if not_fixed:
            reason = comment or _("The reporter says the problem is not fixed.")
            data = {"reason": reason, "channel": "portal"}
            entries.append(perform(case, "dispute", actor, version=case.version, data=data, now=now))
    return entries
