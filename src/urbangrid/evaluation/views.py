"""Staff pages of evaluation: the period summary (page, Excel, PDF) and the monthly bulletin
(page, PDF). Who may see them: the evaluation API's rule (leaders, administrators, center
staff); a department's staff get 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import reports
from .api import sees_all
from .periods import parse_period


def evaluation_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and sees_all(user)):
            raise PermissionDenied(_("Evaluation is for leaders, administrators and center staff."))
        return view(request, *args, **kwargs)

    return wrapped


def _default_period() -> str:
    today = timezone.localdate()
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{y}-{m:02d}"


def _figures(request: HttpRequest) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    period_text = request.GET.get("period", "").strip() or _default_period()
    scope_text = request.GET.get("scope", "").strip() or "city"
    ctx: dict[str, Any] = {
        "period_text": period_text,
        "scope_text": scope_text,
        "query": urlencode({"period": period_text, "scope": scope_text}),
    }
    try:
        f = reports.figures(parse_period(period_text), scope_text)
    except ValueError as exc:
        ctx["error"] = str(exc)
        return None, ctx
    ctx["f"] = f
    return f, ctx


def _filename(f: dict[str, Any], stem: str, ext: str) -> str:
    scope = f["scope"]["text"].replace(":", "-")
    return f"{stem}-{f['period']['label']}-{scope}.{ext}"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@evaluation_access
def report(request: HttpRequest) -> HttpResponse:
    f, ctx = _figures(request)
    if f is not None:
        ctx["lines"] = reports.summary_lines(f, translated=False)
    return render(request, "evaluation/report.html", ctx, status=400 if f is None else 200)


@require_GET
@evaluation_access
def report_xlsx(request: HttpRequest) -> HttpResponse:
    f, ctx = _figures(request)
    if f is None:
        return HttpResponse(ctx["error"], status=400, content_type="text/plain; charset=utf-8")
    return _download(reports.workbook(f), reports.XLSX, _filename(f, "report", "xlsx"))


def _pdf(make: Callable[[dict[str, Any]], bytes], f: dict[str, Any], stem: str) -> HttpResponse:
    try:
        content = make(f)
    except reports.PdfUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    return _download(content, "application/pdf", _filename(f, stem, "pdf"))


@require_GET
@evaluation_access
def report_pdf(request: HttpRequest) -> HttpResponse:
    f, ctx = _figures(request)
    if f is None:
        return HttpResponse(ctx["error"], status=400, content_type="text/plain; charset=utf-8")
    return _pdf(reports.report_pdf, f, "report")


def _month_figures(request: HttpRequest) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    f, ctx = _figures(request)
    if f is not None and f["period"]["kind"] != "month":
        ctx["error"] = _("The bulletin is monthly: give a month such as 2026-11.")
        return None, ctx
    return f, ctx


@require_GET
@evaluation_access
def bulletin(request: HttpRequest) -> HttpResponse:
    f, ctx = _month_figures(request)
    if f is not None:
        name, body = reports.bulletin_template()
        try:
            ctx["body"] = reports.mark_safe(reports.render_bulletin(f, body))  # the bureau's template, autoescaped
        except reports.TemplateSyntaxError as exc:
            ctx["error"] = str(exc)
        ctx["template_name"] = name
    return render(request, "evaluation/bulletin.html", ctx, status=400 if "error" in ctx else 200)


@require_GET
@evaluation_access
def bulletin_pdf(request: HttpRequest) -> HttpResponse:
    f, ctx = _month_figures(request)
    if f is None:
        return HttpResponse(ctx["error"], status=400, content_type="text/plain; charset=utf-8")
    return _pdf(reports.bulletin_pdf, f, "bulletin")
