"""Excel export (openpyxl) of a list with the columns shown on screen."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from urbangrid.cases.models import Case

from .lists import Column

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(rows: Iterable[Case], columns: Sequence[Column], title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "cases")
    widths = [max(10, len(str(c.label)) * 2) for c in columns]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w if columns[i - 1].key != "address" else 40

    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=str(c.label))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for case in rows:
        ws.append([c.value(case) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(rows: Iterable[Case], columns: Sequence[Column], title: str, filename: str) -> HttpResponse:
    response = HttpResponse(workbook_bytes(rows, columns, title), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
