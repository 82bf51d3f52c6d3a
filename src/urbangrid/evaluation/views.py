"""Staff pages of evaluation: the period summary (page, Excel, PDF), the monthly bulletin
(page, PDF) and the monthly scores and rankings (月度考核: page, Excel, publish / correct).
Who may see the summary and the bulletin: the evaluation API's rule (leaders, administrators,
center staff); a department's staff get 403. The scores page: the same, plus a department's
handlers, who see their own department's row only; leaders and administrators publish."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import publish, reports
from .api import may_publish, scores_only, scores_type_allowed, sees_all
from .indicators import REGISTRY
from .models import SCORED_TYPES
from .periods import Period, parse_period


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


# --- monthly scores and rankings (月度考核) ---------------------------------------------------------

#: the case-list parameter and the object field that select an object's cases
OBJECT_PARAM = {
    "department": ("department", "id"),
    "street": ("street", "code"),
    "community": ("community", "code"),
    "work_grid": ("work_grid", "code"),
    "unit_grid": ("grid", "code"),
    "collector": ("reported_by", "id"),
}
#: case-list parameters narrowing an object's cases to those an indicator counts (closed …)
CLOSED = {"state": "closed"}
SELF_FIXED = {"state": "closed", "self_handled": "1"}
INDICATOR_PARAMS: dict[str, dict[str, str]] = {
    **dict.fromkeys(
        (
            "dept_closed",
            "dept_closed_on_time",
            "dept_closure_rate",
            "dept_on_time_closure_rate",
            "region_closed",
            "region_closed_on_time",
            "region_closure_rate",
            "region_on_time_closure_rate",
        ),
        CLOSED,
    ),
    "region_self_fixed": SELF_FIXED,
    "collector_self_fixes": SELF_FIXED,
}
#: the colour of the §8.6 levels on the page
LEVEL_CLASS = {"优秀": "a", "良好": "b", "合格": "c", "不合格": "d"}
#: rows in the best and worst lists (“the five best collectors of the month”)
TOP = 5


def scores_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, active, and allowed to see scores (request.scores_only: None = all objects,
    else the ids of the user's departments)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_active:
            raise PermissionDenied(_("Evaluation is for leaders, administrators and center staff."))
        request.scores_only = scores_only(user)  # PermissionDenied for collectors and the public
        return view(request, *args, **kwargs)

    return wrapped


def _indicator_names() -> dict[str, str]:
    zh = (get_language() or "").startswith("zh")
    return {i.code: (i.name_zh if zh else str(i.name_en)) for i in REGISTRY}


class BadInput(ValueError):
    pass


def _scores_params(request: HttpRequest, data=None) -> tuple[Period, str, int | None]:
    """Checked period, object type and version of the scores page (BadInput: a message)."""
    data = data if data is not None else request.GET
    only = request.scores_only
    period_text = (data.get("period") or "").strip() or _default_period()
    object_type = (data.get("type") or "").strip() or ("department" if only is not None else "street")
    if object_type not in dict(SCORED_TYPES):
        raise BadInput(_("Unknown object type “%(t)s”.") % {"t": object_type[:40]})
    scores_type_allowed(only, object_type)
    try:
        p = publish.month(parse_period(period_text))
        publish.ensure_not_future(p)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    version_text = (data.get("version") or "").strip()
    version = None
    if version_text:
        if not (version_text.isascii() and version_text.isdigit() and 0 < int(version_text) < 10**6):
            raise BadInput(_("A version is a positive whole number."))
        version = int(version_text)
    return p, object_type, version


def _query(p: Period, object_type: str, **extra: Any) -> str:
    return urlencode({"period": p.label, "type": object_type, **{k: v for k, v in extra.items() if v}})


def _object_params(object_type: str, obj: dict[str, Any], p: Period) -> dict[str, str] | None:
    if object_type not in OBJECT_PARAM:
        return None
    param, field = OBJECT_PARAM[object_type]
    value = obj.get(field)
    if value in (None, ""):
        return None
    params = {param: str(value), "created_from": p.first.isoformat(), "created_to": p.last.isoformat()}
    if object_type == "collector":
        params["source"] = "collector"
    return params


def _local(iso: str) -> str:
    from datetime import datetime

    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")


def scores_view_data(request: HttpRequest, p: Period, object_type: str, version: int | None) -> dict[str, Any]:
    """The figures the page and the workbook show (rows with term names and case-list links)."""
    from urbangrid.dashboard.data import cases_url

    only = request.scores_only
    s = publish.scores(p, object_type, version=version)  # every object: ranks among all
    names = _indicator_names()
    rows = []
    for r in s["results"]:
        base = _object_params(object_type, r["object"], p)
        terms = []
        for t in r["terms"]:
            terms.append(
                {
                    **t,
                    "name": t.get("label") or names.get(t["indicator"], t["indicator"]),
                    "url": cases_url(**base, **INDICATOR_PARAMS.get(t["indicator"], {})) if base else "",
                }
            )
        rows.append(
            {
                **r,
                "terms": terms,
                "url": cases_url(**base) if base else "",
                "level_class": LEVEL_CLASS.get(r["level"], ""),
            }
        )
    shown = rows if only is None else [r for r in rows if r["object"].get("id") in only]
    versions = publish.versions(p, object_type)
    for v in versions:
        v["at_local"] = _local(v["at"])
    if s["published"]:
        s["published"]["at_local"] = _local(s["published"]["at"])
    return {
        **s,
        "has_money": any("money" in t for r in rows for t in r["terms"]),
        "all_rows": rows,
        "rows": shown,
        "top": rows[:TOP] if only is None else [],
        "bottom": rows[max(TOP, len(rows) - TOP) :][::-1] if only is None else [],
        "versions": versions,
        "term_names": [t["name"] for t in rows[0]["terms"]] if rows else [],
    }


def _scores_context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    user = request.user
    only = request.scores_only
    types = [(code, label) for code, label in SCORED_TYPES if only is None or code == "department"]
    ctx: dict[str, Any] = {
        "types": types,
        "period_text": (request.GET.get("period") or "").strip()[:20] or _default_period(),
        "object_type": (request.GET.get("type") or "").strip()[:40],
        "department_only": only is not None,
        "can_publish": may_publish(user),
    }
    try:
        p, object_type, version = _scores_params(request)
    except BadInput as exc:
        ctx["error"] = str(exc)
        return ctx, 400
    ctx.update(period=p, period_text=p.label, object_type=object_type, type_label=dict(SCORED_TYPES)[object_type])
    ctx["query"] = _query(p, object_type)
    ctx["type_links"] = [(code, label, _query(p, code)) for code, label in types]
    try:
        data = scores_view_data(request, p, object_type, version)
    except publish.ScoringError as exc:
        ctx["notice"] = str(exc)
        return ctx, 404 if version is not None else 200
    ctx["s"] = data
    ctx["over"] = publish.is_over(p)
    ctx["xlsx_query"] = _query(p, object_type, version=version)
    if user.is_staff and user.has_perm("evaluation.view_scoringrule"):
        ctx["rule_admin_url"] = reverse("admin:evaluation_scoringrule_change", args=[data["rule"]["id"]])
    return ctx, 200


@require_GET
@scores_access
def scores(request: HttpRequest) -> HttpResponse:
    ctx, status = _scores_context(request)
    return render(request, "evaluation/scores.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
@scores_access
def scores_publish(request: HttpRequest) -> HttpResponse:
    """The confirmation step (GET) and publishing or correcting the month (POST): leaders and
    administrators; a month that is over; a correction needs a reason."""
    if not may_publish(request.user):
        raise PermissionDenied(_("Only leaders and administrators publish evaluation results."))
    data = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {"period_text": (data.get("period") or "")[:20], "reason": (data.get("reason") or "")}
    try:
        p, object_type, _version = _scores_params(request, data)
    except BadInput as exc:
        ctx["error"] = str(exc)
        return render(request, "evaluation/scores_publish.html", ctx, status=400)
    pm = publish.current(p.label, object_type)
    ctx.update(
        period=p,
        object_type=object_type,
        type_label=dict(SCORED_TYPES)[object_type],
        correction=pm is not None,
        published=pm,
        back=reverse("evaluation:scores") + "?" + _query(p, object_type),
    )
    try:
        rule = publish._rule(object_type, p)
        ctx["rule"] = rule
        if pm is None:
            publish.ensure_over(p)
    except publish.ScoringError as exc:
        ctx["error"] = str(exc)
        ctx["blocked"] = True
        return render(request, "evaluation/scores_publish.html", ctx, status=400 if request.method == "POST" else 200)
    if request.method == "GET":
        return render(request, "evaluation/scores_publish.html", ctx)
    try:
        new = publish.publish_or_correct(p, object_type, request.user, data.get("reason", ""), via="page")
    except publish.ScoringError as exc:
        ctx["error"] = str(exc)
        return render(request, "evaluation/scores_publish.html", ctx, status=400)
    if new.version == 1:
        messages.success(request, _("%(p)s published (version 1).") % {"p": p.label})
    else:
        messages.success(request, _("%(p)s corrected: version %(v)s.") % {"p": p.label, "v": new.version})
    return HttpResponseRedirect(ctx["back"])


@require_GET
@scores_access
def scores_xlsx(request: HttpRequest) -> HttpResponse:
    from .reports import XLSX

    try:
        p, object_type, version = _scores_params(request)
        data = scores_view_data(request, p, object_type, version)
    except (BadInput, publish.ScoringError) as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return _download(
        scores_workbook(data, dict(SCORED_TYPES)[object_type]), XLSX, f"scores-{p.label}-{object_type}.xlsx"
    )


def scores_workbook(data: dict[str, Any], type_label: str) -> bytes:
    """One sheet: title, rule version and publication, then rank, code, name, score, level,
    money and each term's value and points (the rows the viewer may see)."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _("Scores")[:31]
    rule = data["rule"]
    pub = data["published"]
    ws.append([_("Monthly scores: %(t)s, %(p)s") % {"t": type_label, "p": data["period"]}])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        [
            _("Rule: %(n)s, version %(v)s, valid from %(d)s")
            % {"n": rule["name"], "v": rule["version"], "d": rule["valid_from"]}
        ]
    )
    if pub:
        status = _("Published, version %(v)s, %(at)s, %(by)s") % {
            "v": pub["version"],
            "at": pub["at_local"],
            "by": pub["by_name"] or pub["by"],
        }
        if pub["reason"]:
            status += " — " + pub["reason"]
    else:
        status = _("Not published: live figures")
    ws.append([status])
    ws.append([])
    head = [_("Rank"), _("Code"), _("Name"), _("Score"), _("Level"), _("Money (yuan)")]
    for name in data["term_names"]:
        head += [f"{name} · " + _("value"), f"{name} · " + _("points / yuan")]
    ws.append(head)
    fill = PatternFill("solid", fgColor="DDE6F0")
    for cell in ws[5]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for r in data["rows"]:
        line = [r["rank"], r["object"].get("code", ""), r["object"].get("name", ""), r["score"], r["level"], r["money"]]
        for t in r["terms"]:
            line += [t.get("value"), t.get("points", t.get("money"))]
        ws.append(line)
    ws.freeze_panes = "D6"
    for i, width in enumerate([6, 16, 24, 9, 9, 12], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = "5:5"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
