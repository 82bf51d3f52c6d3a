"""The period summary a bureau writes into its work report (collected, of which closed on the
spot, registered and dispatched, closed, closure rate; by source and category, top problems, hot
spots, monthly rankings) — `figures()`, one dict of plain values that the page, the API, the
Excel workbook, the PDF and the monthly bulletin (《数字城管》通报) all show.

PDFs are printed by headless Chromium (the browser CI installs for the browser tests) from a
self-contained HTML document under a Content-Security-Policy that lets it load nothing.
"""

from __future__ import annotations

import copy
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Count, Q, Value
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from urbangrid.core.pdf import PdfUnavailable, chromium_path, html_to_pdf  # noqa: F401  (re-exported for views and tests)

from .indicators import Counts, _on_time_q, hotspots, rate, should_q
from .models import SCORED_TYPES, BulletinTemplate, CaseFact
from .periods import Period, Scope, parse_scope
from .rules import rules as counting_rules

TOP_N = 10

SOURCE_ZH = {
    "collector": "监督员上报",
    "hotline": "热线",
    "citizen": "公众举报",
    "partner": "第三方系统",
    "leader": "领导交办",
    "media": "媒体曝光",
    "video": "视频发现",
    "sensor": "物联网感知",
    "system": "其他系统",
}
TYPE_ZH = {
    "street": "街道（乡镇）",
    "district": "区（县）",
    "community": "社区",
    "work_grid": "工作网格",
    "unit_grid": "单元网格",
    "department": "专业部门",
    "collector": "监督员",
    "operator": "受理员",
    "shift_leader": "值班长",
    "dispatcher": "派遣员",
}
#: the summary lines: key, Chinese label (documents), label on the page (translated)
SUMMARY = [
    ("collected", "采集案件数", "cases collected"),
    ("self_fixed", "其中监督员现场处置", "of which closed on the spot by collectors"),
    ("registered", "立案数", "registered"),
    ("dispatched", "立案派遣数", "registered and dispatched"),
    ("closed", "结案数（派遣案件）", "closed (of those dispatched)"),
    ("closure_rate", "结案率（%）", "closure rate (%)"),
    ("should_close", "应结案数（按处置时限）", "due for closing (by deadline)"),
    ("closed_on_time", "按期结案数", "closed on time"),
    ("on_time_closure_rate", "按期结案率（%）", "on-time closure rate (%)"),
]


def period_zh(p: Period) -> str:
    f = p.first
    if p.kind == "month":
        return f"{f.year}年{f.month}月"
    if p.kind == "quarter":
        return f"{f.year}年第{(f.month - 1) // 3 + 1}季度"
    if p.kind == "year":
        return f"{f.year}年"
    if p.kind == "day":
        return f"{f.year}年{f.month}月{f.day}日"
    if p.kind == "week":
        return f"{f.year}年第{f.isocalendar()[1]}周"
    return f"{p.first.isoformat()}至{p.last.isoformat()}"


def scope_name(scope: Scope) -> str:
    from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

    if scope.kind == "city":
        div = AdminDivision.objects.filter(code=settings.URBANGRID.get("JURISDICTION_CODE", "")).first()
        return div.name if div else "全市"
    model = {"work_grid": WorkGrid, "unit_grid": UnitGrid}.get(scope.kind, AdminDivision)
    obj = model.objects.filter(pk=scope.obj_id).first()
    return (getattr(obj, "name", "") or scope.code) if obj else scope.code


def _summary(p: Period, scope: Scope, r: dict[str, Any]) -> dict[str, Any]:
    start, end = p.start, p.end
    reported = Q(reported_at__gte=start, reported_at__lt=end)
    fixed = Q(self_fixed_at__gte=start, self_fixed_at__lt=end)
    registered = Q(registered_at__gte=start, registered_at__lt=end, voided_at__isnull=True)
    dispatched = registered & Q(department_id__isnull=False, dispatched_at__isnull=False)
    should = should_q(p, r)
    closed = Q(closed_at__lt=end)
    s = CaseFact.objects.filter(scope.fact_q()).aggregate(
        collected=Count(Value(1), filter=reported),
        self_fixed=Count(Value(1), filter=fixed),
        registered=Count(Value(1), filter=registered),
        dispatched=Count(Value(1), filter=dispatched),
        closed=Count(Value(1), filter=dispatched & closed),
        should_close=Count(Value(1), filter=should),
        closed_on_time=Count(Value(1), filter=should & closed & _on_time_q(r)),
    )
    s["closure_rate"] = rate(s["closed"], s["dispatched"])
    s["on_time_closure_rate"] = rate(s["closed_on_time"], s["should_close"])
    return s


def _by_source(p: Period, scope: Scope) -> list[dict[str, Any]]:
    start, end = p.start, p.end
    reported = Q(reported_at__gte=start, reported_at__lt=end)
    registered = Q(registered_at__gte=start, registered_at__lt=end, voided_at__isnull=True)
    rows = {
        row.pop("source"): row
        for row in CaseFact.objects.filter(scope.fact_q() & (reported | registered))
        .values("source")
        .annotate(
            collected=Count(Value(1), filter=reported),
            registered=Count(Value(1), filter=registered),
            closed=Count(Value(1), filter=registered & Q(closed_at__lt=end)),
        )
    }
    out = []
    for code, zh in SOURCE_ZH.items():
        row = rows.get(code, {"collected": 0, "registered": 0, "closed": 0})
        out.append({"source": code, "name": zh, **row, "closure_rate": rate(row["closed"], row["registered"])})
    return out


def _categories(p: Period, scope: Scope, top: int) -> list[dict[str, Any]]:
    from urbangrid.catalog.models import Category

    registered = Q(registered_at__gte=p.start, registered_at__lt=p.end, voided_at__isnull=True)
    rows = list(
        CaseFact.objects.filter(scope.fact_q() & registered)
        .values("category_id")
        .annotate(registered=Count(Value(1)), closed=Count(Value(1), filter=Q(closed_at__lt=p.end)))
        .order_by("-registered", "category_id")[:top]
    )
    cats = {c.pk: c for c in Category.objects.filter(pk__in=[r["category_id"] for r in rows]).select_related("parent")}
    out = []
    for i, row in enumerate(rows, start=1):
        c = cats.get(row["category_id"])
        out.append(
            {
                "rank": i,
                "code": c.code if c else "",
                "kind": ("部件" if c.kind == "component" else "事件") if c else "",
                "major": c.parent.name if c and c.parent else "",
                "name": c.name if c else str(row["category_id"]),
                "registered": row["registered"],
                "closed": row["closed"],
                "closure_rate": rate(row["closed"], row["registered"]),
            }
        )
    return out


def _hotspots(p: Period, scope: Scope, r: dict[str, Any], top: int) -> list[dict[str, Any]]:
    from urbangrid.catalog.models import Category
    from urbangrid.geo.models import UnitGrid

    spots = sorted(hotspots(p, r, scope), key=lambda x: (-x[2], x[0], x[1]))[:top]
    grids = {g.pk: g for g in UnitGrid.objects.filter(pk__in=[s[0] for s in spots]).select_related("community")}
    cats = {c.pk: c.name for c in Category.objects.filter(pk__in=[s[1] for s in spots])}
    out = []
    for i, (grid_id, cat_id, n) in enumerate(spots, start=1):
        g = grids.get(grid_id)
        out.append(
            {
                "rank": i,
                "unit_grid": g.code if g else str(grid_id),
                "community": g.community.name if g else "",
                "category": cats.get(cat_id, str(cat_id)),
                "count": n,
            }
        )
    return out


def _rankings(p: Period) -> list[dict[str, Any]]:
    """The monthly rankings of every object type with a scoring rule in force (city-wide: a
    street ranks among all streets)."""
    from .publish import scores
    from .scoring import rule_for

    if p.kind != "month":
        return []
    out = []
    counts = Counts(p, counting_rules(), Scope("city"))  # each family read once for all the rankings
    for object_type, _label in SCORED_TYPES:
        if rule_for(object_type, p.first) is None:
            continue
        s = scores(p, object_type, counts=counts)
        out.append(
            {
                "object_type": object_type,
                "title": TYPE_ZH[object_type],
                "published": s["published"],
                "rule": s["rule"],
                "rows": [
                    {
                        "rank": row["rank"],
                        "code": row["object"]["code"],
                        "name": row["object"]["name"],
                        "score": row["score"],
                        "level": row["level"],
                        "money": row["money"],
                    }
                    for row in s["results"]
                ],
            }
        )
    return out


def figures(p: Period, scope_text: str = "city", *, top: int = TOP_N) -> dict[str, Any]:
    """Every figure of the period summary as plain JSON-able values."""
    scope = parse_scope(scope_text)
    r = counting_rules()
    return {
        "period": {
            "label": p.label,
            "kind": p.kind,
            "first": p.first.isoformat(),
            "last": p.last.isoformat(),
            "text": period_zh(p),
        },
        "scope": {"text": scope_text or "city", "name": scope_name(scope)},
        "summary": _summary(p, scope, r),
        "by_source": _by_source(p, scope),
        "top_categories": _categories(p, scope, top),
        "hotspots": _hotspots(p, scope, r, top),
        "rankings": _rankings(p),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
    }


def summary_lines(f: dict[str, Any], *, translated: bool = False) -> list[dict[str, Any]]:
    return [{"key": k, "label": _(en) if translated else zh, "value": f["summary"][k]} for k, zh, en in SUMMARY]


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


# --- Excel ---------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: fixed rows of the summary sheet (the layout tests and bureaus rely on)
ROW_SUMMARY = 4  # header row (caption above it); lines from 5 (A: no., B: label, C: value)
ROW_SOURCES = ROW_SUMMARY + len(SUMMARY) + 2  # 15: caption; header 16; one row per source from 17
ROW_CATEGORIES = ROW_SOURCES + len(SOURCE_ZH) + 3  # 27: caption; header 28; top 10 from 29
ROW_HOTSPOTS = ROW_CATEGORIES + TOP_N + 3  # 40: caption; header 41; top 10 from 42


def workbook(f: dict[str, Any]) -> bytes:
    """Two A4-landscape sheets: 汇总 (title, period, summary, by source, top 10 categories, top 10
    hot spots — at fixed rows) and 排名 (the monthly rankings); header rows repeat on every page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.page import PageMargins

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    title = f"《数字城管》工作统计 {f['scope']['name']} {f['period']['text']}"
    made = f["generated_at"][:16].replace("T", " ")
    subtitle = f"统计期间：{f['period']['first']} 至 {f['period']['last']}    生成时间：{made}"

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"

    def setup(sheet, ncols: int, last_row: int, title_rows: str) -> None:
        from openpyxl.utils import get_column_letter

        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        sheet.print_options.horizontalCentered = True
        sheet.print_title_rows = title_rows
        sheet.print_area = f"A1:{get_column_letter(ncols)}{max(last_row, 3)}"
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"

    def heading(sheet, ncols: int) -> None:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)
        sheet["A1"] = title
        sheet["A1"].font = Font(bold=True, size=16)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet["A2"] = subtitle
        sheet["A2"].alignment = Alignment(horizontal="center")

    def table(sheet, row: int, caption: str, header: list[str], rows: list[list[Any]], pad: int = 0) -> None:
        sheet.cell(row=row, column=1, value=caption).font = Font(bold=True, size=12)
        for c, h in enumerate(header, start=1):
            cell = sheet.cell(row=row + 1, column=c, value=h)
            cell.font, cell.fill, cell.border = bold, head_fill, box
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for i in range(max(len(rows), pad)):
            values = rows[i] if i < len(rows) else [""] * len(header)
            for c, v in enumerate(values, start=1):
                cell = sheet.cell(row=row + 2 + i, column=c, value=v)
                cell.border = box
                if isinstance(v, float):
                    cell.number_format = "0.00"

    ncols = 6
    heading(ws, ncols)
    for col, width in zip("ABCDEF", (8, 30, 16, 16, 16, 16), strict=True):
        ws.column_dimensions[col].width = width
    table(
        ws,
        ROW_SUMMARY - 1,
        "一、总体情况",
        ["序号", "指标", "数值"],
        [[i, line["label"], line["value"]] for i, line in enumerate(summary_lines(f), start=1)],
    )
    table(
        ws,
        ROW_SOURCES,
        "二、按问题来源",
        ["序号", "来源", "采集数", "立案数", "结案数", "结案率（%）"],
        [
            [i, s["name"], s["collected"], s["registered"], s["closed"], s["closure_rate"]]
            for i, s in enumerate(f["by_source"], start=1)
        ],
    )
    table(
        ws,
        ROW_CATEGORIES,
        f"三、高发问题（前{TOP_N}类）",
        ["排名", "问题类别", "大类", "立案数", "结案数", "结案率（%）"],
        [
            [c["rank"], f"{c['kind']}·{c['name']}", c["major"], c["registered"], c["closed"], c["closure_rate"]]
            for c in f["top_categories"]
        ],
        pad=TOP_N,
    )
    table(
        ws,
        ROW_HOTSPOTS,
        f"四、反复发案点（前{TOP_N}）",
        ["排名", "单元网格", "社区", "问题类别", "立案数", ""],
        [[h["rank"], h["unit_grid"], h["community"], h["category"], h["count"], ""] for h in f["hotspots"]],
        pad=TOP_N,
    )
    setup(ws, ncols, ROW_HOTSPOTS + 1 + TOP_N, "1:2")

    rs = wb.create_sheet("排名")
    heading(rs, ncols)
    for col, width in zip("ABCDEF", (8, 16, 30, 14, 12, 16), strict=True):
        rs.column_dimensions[col].width = width
    row = 3
    if not f["rankings"]:
        rs.cell(row=row + 1, column=1, value="本期无考核排名（排名按月发布）。")
        row += 1
    for section in f["rankings"]:
        state = f"已发布第{section['published']['version']}版" if section["published"] else "未发布（实时计算）"
        caption = f"{section['title']}月度排名 — {section['rule']['name']} v{section['rule']['version']}，{state}"
        table(
            rs,
            row + 1,
            caption,
            ["名次", "代码", "名称", "得分", "等级", "奖惩（元）"],
            [[x["rank"], x["code"], x["name"], x["score"], x["level"], x["money"]] for x in section["rows"]],
        )
        row += 1 + 1 + len(section["rows"]) + 1
    setup(rs, ncols, row, "1:2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- PDF (core.pdf prints; this module renders the documents) ------------------------------------

PDF_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def print_css() -> str:
    path = finders.find("evaluation/report.css")
    return Path(path).read_text(encoding="utf-8") if path else ""


def report_html(f: dict[str, Any]) -> str:
    return render_to_string(
        "evaluation/pdf/report.html",
        {"f": f, "lines": summary_lines(f), "css": mark_safe(print_css()), "csp": PDF_CSP},
    )


def report_pdf(f: dict[str, Any]) -> bytes:
    return html_to_pdf(report_html(f))


# --- the monthly bulletin ---------------------------------------------------------------------------

FORBIDDEN_TAGS = frozenset({"load", "include", "extends", "debug", "csrf_token", "ssi", "block"})
_ENGINE = Engine(debug=False, loaders=[], libraries={}, autoescape=True)


def default_bulletin() -> str:
    return (Path(__file__).parent / "templates" / "evaluation" / "bulletin_default.html").read_text(encoding="utf-8")


def check_template(body: str) -> str | None:
    """An error message if the bureau's template is invalid or uses a tag it may not."""
    for token in Lexer(body or "").tokenize():
        if (
            token.token_type == TokenType.BLOCK
            and token.contents.split()[:1]
            and token.contents.split()[0] in FORBIDDEN_TAGS
        ):
            return _("The tag “%(t)s” is not allowed in a bulletin template.") % {"t": token.contents.split()[0]}
    try:
        _ENGINE.from_string(body or "")
    except TemplateSyntaxError as exc:
        return _("Template error: %(e)s") % {"e": exc}
    return None


def bulletin_template() -> tuple[str, str]:
    """(name, body) of the newest active template, else the default shipped."""
    t = BulletinTemplate.objects.filter(active=True).first()
    return (t.name, t.body) if t else ("默认模板", default_bulletin())


def bulletin_context(f: dict[str, Any]) -> dict[str, Any]:
    first = datetime.fromisoformat(f["period"]["first"])
    today = timezone.localdate()
    return {
        **copy.deepcopy(f),
        "year": first.year,
        "month": first.month,
        "issue": first.month,
        "org": f"{f['scope']['name']}数字化城市管理监督指挥中心",
        "today": f"{today.year}年{today.month}月{today.day}日",
        "lines": summary_lines(f),
    }


def render_bulletin(f: dict[str, Any], body: str | None = None) -> str:
    """The bulletin's HTML body from the bureau's template (or `body`) and the figures."""
    body = bulletin_template()[1] if body is None else body
    error = check_template(body)
    if error:
        raise TemplateSyntaxError(error)
    return _ENGINE.from_string(body).render(Context(bulletin_context(f), autoescape=True))


def bulletin_html(f: dict[str, Any]) -> str:
    return render_to_string(
        "evaluation/pdf/bulletin.html",
        {"f": f, "body": mark_safe(render_bulletin(f)), "css": mark_safe(print_css()), "csp": PDF_CSP},
    )


def bulletin_pdf(f: dict[str, Any]) -> bytes:
    return html_to_pdf(bulletin_html(f))
