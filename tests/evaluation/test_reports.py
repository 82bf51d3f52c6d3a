"""The period report (page, API, Excel workbook, PDF) and the monthly bulletin: the same figures
everywhere, the workbook's fixed printable layout opened with openpyxl, the PDFs read back with
pdftotext, the bureau's bulletin template, and who may see them."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import load_workbook

from tests.evaluation.test_scoring import department_rule, november
from urbangrid.evaluation import publish, reports
from urbangrid.evaluation.models import BulletinTemplate
from urbangrid.evaluation.periods import parse_period

Q = "period=2026-11&scope=city"


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _pdf_text(content: bytes, tmp_path) -> tuple[str, str]:
    """(text without white space, pdfinfo) of a PDF, via poppler-utils."""
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext missing: .ci/run installs poppler-utils")
        pytest.skip("pdftotext missing: apt-get install poppler-utils")
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", text.decode("utf-8")), info


def _needs_chromium():
    if reports.chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium missing: .ci/run installs it")
        pytest.skip("Chromium missing: apt-get install chromium fonts-noto-cjk")


@pytest.fixture
def month(world):
    november(world)
    department_rule()
    return world


def test_figures_reproduce_the_bureau_sentence(month):
    f = reports.figures(parse_period("2026-11"), "city")
    s = f["summary"]
    # collected 5, of which 1 closed on the spot; 4 registered and dispatched, 3 closed: 75 %
    assert (s["collected"], s["self_fixed"], s["registered"], s["dispatched"], s["closed"]) == (5, 1, 4, 4, 3)
    assert s["closure_rate"] == 75.0 and (s["should_close"], s["closed_on_time"]) == (4, 3)
    src = {x["source"]: x for x in f["by_source"]}
    assert (src["collector"]["collected"], src["hotline"]["collected"], src["hotline"]["closed"]) == (4, 1, 1)
    assert [x["source"] for x in f["by_source"]] == list(reports.SOURCE_ZH)  # fixed rows
    top = f["top_categories"][0]
    assert (top["name"], top["kind"], top["registered"], top["closed"], top["closure_rate"]) == (
        "暴露垃圾",
        "事件",
        3,
        2,
        66.67,
    )
    assert f["hotspots"] == [
        {"rank": 1, "unit_grid": month.grids[0].code, "community": "庆丰社区", "category": "暴露垃圾", "count": 3}
    ]
    (ranking,) = f["rankings"]
    rows = {r["code"]: r for r in ranking["rows"]}
    assert ranking["object_type"] == "department" and ranking["published"] is None
    assert (rows["HW"]["rank"], rows["HW"]["score"], rows["HW"]["money"]) == (4, 64.67, -1166.5)
    assert f["scope"]["name"] == "桐乡市" and f["period"]["text"] == "2026年11月"
    # a street's report: its own cases; rankings stay city-wide
    street = reports.figures(parse_period("2026-11"), "street:330483001")
    assert street["summary"] == s and street["scope"]["name"] == "梧桐街道"
    assert reports.figures(parse_period("2026-Q4"), "city")["rankings"] == []


def test_page_and_api_show_the_same_figures(month):
    leader = _client(month.leader)
    page = leader.get(f"/evaluation/report/?{Q}")
    assert page.status_code == 200
    html = page.content.decode()
    api = leader.get(f"/api/v1/evaluation/report?{Q}")
    assert api.status_code == 200
    body = api.json()
    expected = reports.figures(parse_period("2026-11"), "city")
    assert {k: v for k, v in body.items() if k != "generated_at"} == {
        k: v for k, v in expected.items() if k != "generated_at"
    }
    for key, value in body["summary"].items():
        shown = re.search(rf'data-testid="summary-{key}">([^<]*)<', html)[1]
        assert shown == ("—" if value is None else str(value)), key
    for row in body["rankings"][0]["rows"]:
        assert f'<td>{row["name"]}</td><td class="num">{row["score"]}</td>' in html
    # the strict CSP: no inline script or style on the page
    assert "<style" not in html and "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    # a published month shows its version
    publish.publish_month("2026-11", "department", month.leader)
    assert "已发布第1版" in leader.get(f"/evaluation/report/?{Q}").content.decode()
    assert leader.get(f"/api/v1/evaluation/report?{Q}").json()["rankings"][0]["published"]["version"] == 1


def test_excel_workbook_fixed_printable_layout(month):
    r = _client(month.leader).get(f"/evaluation/report.xlsx?{Q}")
    assert r.status_code == 200 and r["Content-Type"] == reports.XLSX
    assert 'filename="report-2026-11-city.xlsx"' in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "排名"]
    ws = wb["汇总"]
    assert ws["A1"].value == "《数字城管》工作统计 桐乡市 2026年11月"
    assert "2026-11-01 至 2026-11-30" in ws["A2"].value
    assert (ws["B4"].value, ws["C4"].value) == ("指标", "数值")
    summary = {ws.cell(row=r, column=2).value: ws.cell(row=r, column=3).value for r in range(5, 14)}
    assert summary["采集案件数"] == 5 and summary["其中监督员现场处置"] == 1
    assert summary["立案派遣数"] == 4 and summary["结案数（派遣案件）"] == 3 and summary["结案率（%）"] == 75.0
    assert ws["A15"].value == "二、按问题来源" and (ws["B17"].value, ws["C17"].value) == ("监督员上报", 4)
    assert (ws["B18"].value, ws["C18"].value, ws["E18"].value) == ("热线", 1, 1)
    assert ws["A27"].value.startswith("三、高发问题")
    assert (ws["B29"].value, ws["D29"].value, ws["E29"].value, ws["F29"].value) == ("事件·暴露垃圾", 3, 2, 66.67)
    assert ws["A40"].value.startswith("四、反复发案点")
    assert (ws["B42"].value, ws["D42"].value, ws["E42"].value) == (month.grids[0].code, "暴露垃圾", 3)
    # printable: A4 landscape, one page wide, header rows repeated, print area, column widths
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$2" and ws.print_area == "'汇总'!$A$1:$F$51"
    assert ws.column_dimensions["B"].width == 30
    rs = wb["排名"]
    rows = [[c.value for c in row] for row in rs.iter_rows(min_row=4)]
    assert rows[0][0].startswith("专业部门月度排名") and rows[1] == [
        "名次",
        "代码",
        "名称",
        "得分",
        "等级",
        "奖惩（元）",
    ]
    hw = next(r for r in rows if r[1] == "HW")
    assert hw == [4, "HW", "环卫部门", 64.67, "合格", -1166.5]
    assert rs.page_setup.orientation == "landscape" and rs.print_title_rows == "$1:$2"


def test_report_pdf_has_the_figures_in_chinese(month, tmp_path):
    _needs_chromium()
    r = _client(month.leader).get(f"/evaluation/report.pdf?{Q}")
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    text, info = _pdf_text(r.content, tmp_path)
    assert "《数字城管》工作统计桐乡市2026年11月" in text
    assert "采集案件数5" in text and "结案率（%）75.0" in text and "暴露垃圾" in text and "环卫部门" in text
    assert re.search(r"Page size:\s+841\.\d+ x 595|Page size:\s+841\.\d+ x 594", info), info  # A4 landscape


def test_bulletin_from_the_default_and_an_edited_template(month, tmp_path):
    leader = _client(month.leader)
    r = leader.get(f"/evaluation/bulletin/?{Q}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "《数字城管》通报" in html and "2026年第11期" in html
    assert "共采集各类城市管理问题5件，其中监督员现场处置1件" in html and "结案3件，结案率75.0%" in html
    # the bureau edits its template in the admin
    t = BulletinTemplate(
        name="本局通报",
        body="<p>本月采集{{ summary.collected }}件，结案率{{ summary.closure_rate }}%。"
        "{% for s in rankings.0.rows %}{{ s.rank }}.{{ s.name }}；{% endfor %}{{ scope.name|safe }}</p>",
    )
    t.full_clean()
    t.save()
    html = leader.get(f"/evaluation/bulletin/?{Q}").content.decode()
    assert "本月采集5件，结案率75.0%。" in html and "4.环卫部门；" in html
    for bad in ("{% load static %}", "{% debug %}", '{% include "web/base.html" %}', "{% if %}"):
        with pytest.raises(ValidationError):
            BulletinTemplate(name="x", body=bad).full_clean()
    assert leader.get("/evaluation/bulletin/?period=2026-Q4").status_code == 400
    _needs_chromium()
    r = leader.get(f"/evaluation/bulletin.pdf?{Q}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    text, _info = _pdf_text(r.content, tmp_path)
    assert "本月采集5件，结案率75.0%。" in text and "4.环卫部门" in text


def test_bulletin_template_sees_only_the_figures(month):
    # autoescaped; no tags that reach files or other templates
    f = reports.figures(parse_period("2026-11"), "city")
    f["scope"]["name"] = "<b>x</b>"
    assert reports.render_bulletin(f, "{{ scope.name }}") == "&lt;b&gt;x&lt;/b&gt;"
    assert reports.check_template("{% extends 'web/base.html' %}")
    assert reports.check_template("{% csrf_token %}")
    assert reports.check_template(reports.default_bulletin()) is None


def test_access_to_the_report(month):
    urls = [
        f"/evaluation/report/?{Q}",
        f"/evaluation/report.xlsx?{Q}",
        f"/evaluation/bulletin/?{Q}",
        f"/api/v1/evaluation/report?{Q}",
    ]
    anonymous = Client()
    assert anonymous.get(urls[0]).status_code == 302
    handler = _client(month.handler)  # a department's staff
    for url in urls:
        assert handler.get(url).status_code == 403, url
    assert handler.get(f"/evaluation/report.pdf?{Q}").status_code == 403
    assert handler.get(f"/evaluation/bulletin.pdf?{Q}").status_code == 403
    dispatcher = _client(month.dispatcher)  # center staff
    assert dispatcher.get(urls[0]).status_code == 200 and dispatcher.get(urls[3]).status_code == 200
    leader = _client(month.leader)
    assert leader.get("/evaluation/report/?period=2026-13").status_code == 400
    assert leader.get("/evaluation/report.xlsx?period=nope").status_code == 400
    assert leader.get("/evaluation/report/?period=2026-11&scope=street:nope").status_code == 400
    assert leader.get("/api/v1/evaluation/report?period=2026-13").status_code == 400
    assert leader.get("/api/v1/evaluation/report?period=2026-11&scope=street:nope").status_code == 400
