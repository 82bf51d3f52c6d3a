"""Excel export (openpyxl) of a list: the columns shown on screen and the description.

Case numbers (19 digits and more) are written as text cells, so that Excel neither rounds them
to 15 significant digits nor shows them in scientific notation; columns are sized for their
content (CJK characters count double)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from urbangrid.cases.models import Case

from .lists import Column

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: column widths (in characters) where content is wider than its header
WIDTHS = {
    "number": 24,
    "address": 40,
    "description": 60,
    "category": 24,
    "department": 20,
    "source": 18,
    "created_at": 18,
    "deadline": 18,
}
TEXT_KEYS = {"number", "grid"}  # codes: always text, never numbers
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _width(column: Column) -> int:
    header = _display_width(str(column.label)) + 2
    return max(10, header, WIDTHS.get(column.key, 0))


def _cell(ws: Any, column: Column, value: Any) -> WriteOnlyCell:
    if column.key in TEXT_KEYS and value is not None:
        cell = WriteOnlyCell(ws, value=str(value))
        cell.number_format = "@"
        return cell
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif column.key == "description":
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def workbook_bytes(rows: Iterable[Case], columns: Sequence[Column], title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "cases")
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(column)
    ws.freeze_panes = "B2"

    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=str(c.label))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for case in rows:
        ws.append([_cell(ws, c, c.value(case)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(rows: Iterable[Case], columns: Sequence[Column], title: str, filename: str) -> HttpResponse:
    response = HttpResponse(workbook_bytes(rows, columns, title), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
