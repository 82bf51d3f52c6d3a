"""Print views of the dispatch slip (派遣单) and the case file (案卷), and their PDF (Chromium)."""

from __future__ import annotations

import shutil

import pytest

from tests.cases.test_loop import op, report


def _dispatched(world):
    case = report(world)
    op(case, "accept", world.operator)
    op(case, "register", world.shift)
    op(case, "dispatch", world.dispatcher, department=world.sanitation.pk, instructions="立即清运")
    return case


def test_dispatch_slip_print_view(world, as_user):
    case = _dispatched(world)
    r = as_user(world.dispatcher).get(f"/cases/{case.pk}/print/slip/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "web/print.css" in body and "web/print.js" in body
    assert case.number in body and "立即清运" in body and world.sanitation.name in body
    assert 'data-testid="slip-table"' in body
    assert "<style" not in body and "style=" not in body


def test_print_css_is_a4(world):
    from django.contrib.staticfiles import finders

    css = open(finders.find("web/print.css"), encoding="utf-8").read()
    assert "size: A4" in css and "@media print" in css


def test_slip_of_an_undispatched_case_is_404_and_out_of_scope_is_404(world, as_user):
    case = report(world)
    assert as_user(world.operator).get(f"/cases/{case.pk}/print/slip/").status_code == 404
    assert as_user(world.operator).get("/cases/999999/print/file/").status_code == 404


def test_case_file_print_view_has_fields_photos_and_timeline(world, as_user):
    case = _dispatched(world)
    body = as_user(world.operator).get(f"/cases/{case.pk}/print/file/").content.decode()
    assert 'data-testid="file-table"' in body and 'data-testid="print-photos"' in body
    assert 'data-testid="print-timeline"' in body and "立即清运" in body
    assert "/attachments/" in body
    page = as_user(world.operator).get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/print/file/" in page and f"/cases/{case.pk}/print/slip/" in page


def test_pdf_without_chromium_answers_503(world, as_user, monkeypatch):
    case = _dispatched(world)
    from urbangrid.core import pdf

    monkeypatch.setattr(pdf, "chromium_path", lambda: None)
    r = as_user(world.operator).get(f"/cases/{case.pk}/print/file.pdf")
    assert r.status_code == 503 and "Chromium" in r.content.decode()


@pytest.mark.skipif(not shutil.which("chromium") and not shutil.which("chromium-browser"), reason="no chromium")
@pytest.mark.parametrize("kind", ["slip", "file"])
def test_pdf_with_chromium(world, as_user, kind, tmp_path):
    case = _dispatched(world)
    r = as_user(world.dispatcher).get(f"/cases/{case.pk}/print/{kind}.pdf")
    assert r.status_code == 200, r.content[:500]
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert len(r.content) > 1000
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "test-artifacts" / "print"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{kind}.pdf").write_bytes(r.content)
