"""Print views of the dispatch slip (派遣单) and the case file (案卷), and their PDF.

The print views are ordinary pages laid out for A4 paper (static/web/print.css, `@page`).
PDF is optional and made by Chromium through `core.pdf` (the print view rendered with its
stylesheet and photos embedded, nothing fetched from the server). Without Chromium the PDF URLs answer 503
with a message saying so; the print views themselves always work (the browser prints them).
Install on Debian: ``apt-get install chromium fonts-noto-cjk`` (the CJK fonts matter).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.cases.queries import may_see_reporter
from urbangrid.core.pdf import PdfUnavailable, html_to_pdf
from urbangrid.workflow import kit
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.models import AttachmentKind

from .access import staff_required
from .shared.casepage import get_visible_case, timeline
from .shared.labels import state_label

#: photos larger than this are left out of a PDF (they are still listed)
MAX_EMBEDDED_PHOTO = 8 * 1024 * 1024
DISPATCH_ACTIONS = ("dispatch", "auto_dispatch", "reassign")


# --- what the print views show -----------------------------------------------------------------


def _photo_src(att: Any, embed: bool) -> str:
    """The address of a photo: the staff web URL, or a data URL for a PDF."""
    if not embed:
        from django.urls import reverse

        return reverse("web:attachment", args=[att.token])
    try:
        if att.size > MAX_EMBEDDED_PHOTO:
            return ""
        with att.file.open("rb") as fh:
            data = fh.read()
    except (OSError, ValueError):
        return ""
    return f"data:{att.mime_type or 'image/jpeg'};base64,{base64.b64encode(data).decode('ascii')}"


def _photos(case: Any, embed: bool) -> list[dict[str, Any]]:
    kinds = dict(AttachmentKind.choices)
    groups: dict[str, list[dict[str, Any]]] = {}
    for att in kit.attachments_of(case).order_by("pk"):
        kind = att.kind or AttachmentKind.OTHER
        groups.setdefault(kind, []).append({"src": _photo_src(att, embed), "name": att.name, "at": att.uploaded_at})
    return [{"label": str(kinds.get(k, k)), "items": groups[k]} for k in kinds if k in groups]


def _last_dispatch(case: Any) -> Any:
    return history_for(case).filter(action__in=DISPATCH_ACTIONS).order_by("-seq").first()


def _css_href(embed: bool) -> str:
    if embed:
        found = finders.find("web/print.css")
        if found:
            return Path(found).resolve().as_uri()
        root = Path(settings.STATIC_ROOT) / "web" / "print.css"
        return root.resolve().as_uri()
    from django.templatetags.static import static

    return static("web/print.css")


def _context(request: HttpRequest, case: Any, embed: bool) -> dict[str, Any]:
    dispatch = _last_dispatch(case)
    payload = (dispatch.payload or {}) if dispatch else {}
    return {
        "case": case,
        "state_label": state_label(case),
        "show_reporter": may_see_reporter(request.user),
        "dispatch": dispatch,
        "instructions": payload.get("instructions", ""),
        "limit_reason": payload.get("limit_reason", ""),
        "printed_at": timezone.now(),
        "printed_by": request.user,
        "css_href": _css_href(embed),
        "pdf": embed,
    }


def _page(request: HttpRequest, case_id: int, kind: str, pdf: bool) -> HttpResponse:
    case = get_visible_case(request, case_id)
    context = _context(request, case, embed=pdf)
    if kind == "slip":
        if not case.department_id and context["dispatch"] is None:
            raise Http404(_("This case has not been dispatched."))
        template, name = "web/print/slip.html", f"dispatch-slip-{case.number}"
    else:
        context["photo_groups"] = _photos(case, embed=pdf)
        context["timeline"] = timeline(case)
        template, name = "web/print/case_file.html", f"case-file-{case.number}"
    html = render_to_string(template, context, request=request)
    if not pdf:
        return HttpResponse(html)
    try:
        data = html_to_pdf(html)
    except PdfUnavailable as exc:
        hint = _("Use the print view and your browser's printing instead.")
        return HttpResponse(f"{exc} {hint}", status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required()
def slip(request: HttpRequest, case_id: int) -> HttpResponse:
    """The dispatch slip (派遣单) to print."""
    return _page(request, case_id, "slip", pdf=False)


@staff_required()
def slip_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    return _page(request, case_id, "slip", pdf=True)


@staff_required()
def case_file(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case file (案卷): fields, photos and timeline, to print."""
    return _page(request, case_id, "file", pdf=False)


@staff_required()
def case_file_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    return _page(request, case_id, "file", pdf=True)
