from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from urbangrid.catalog.actions import load_categories
from urbangrid.catalog.importing import RowError
from urbangrid.catalog.models import Category, CategoryKind, CategorySynonym
from urbangrid.core.models import AuditLog, Department

HEADER = (
    "kind,major_code,major_name_zh,major_name_en,minor_code,minor_name_zh,minor_name_en,"
    "typical_department_zh,urgency_default,dispatch_limit_hours,handle_limit,handle_unit,source_note\n"
)
GOOD = "component,01,公用设施,Public utilities,0101,上水井盖,Water cover,供水公司,urgent,0.17,2,hours,x\n"


def count(kind: str, minor: bool) -> int:
    return Category.objects.filter(kind=kind, parent__isnull=not minor).count()


def test_loads_the_packaged_dictionary(db):
    water = Department.objects.create(code="W1", name="供水公司", kind="company")
    report = load_categories()
    assert report.ok and report.created == 85 + 55 + 6 + 6
    assert (count(CategoryKind.COMPONENT, True), count(CategoryKind.EVENT, True)) == (85, 55)
    assert (count(CategoryKind.COMPONENT, False), count(CategoryKind.EVENT, False)) == (6, 6)
    cover = Category.objects.get(kind=CategoryKind.COMPONENT, code="0101")
    assert cover.parent.code == "01" and cover.name == "上水井盖"
    assert cover.default_department == water and cover.default_department_name == "供水公司"
    assert (cover.urgency, cover.handle_limit, cover.handle_unit) == ("urgent", Decimal("2"), "hours")
    lamp = Category.objects.get(kind=CategoryKind.COMPONENT, code="0118")
    assert lamp.default_department is None and lamp.default_department_name == "路灯管理部门"
    local = Category.objects.filter(kind=CategoryKind.EVENT, code__startswith="06")
    assert local.count() == 6 and all(c.is_local for c in local)
    assert not Category.objects.filter(is_local=True).exclude(kind=CategoryKind.EVENT, code__startswith="06").exists()
    assert set(CategorySynonym.objects.filter(category__code="0107").values_list("name", flat=True)) == {
        "通信井盖", "电信井盖",
    }
    log = AuditLog.objects.get(action="catalog.load_categories")
    assert log.object_type == "catalog.category" and log.data["created"] == 152


def test_second_run_changes_nothing_and_keeps_admin_edits(db):
    load_categories()
    Category.objects.filter(kind=CategoryKind.COMPONENT, code="0101").update(handle_limit=5, urgency="normal")
    again = load_categories()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 152)
    cover = Category.objects.get(kind=CategoryKind.COMPONENT, code="0101")
    assert (cover.handle_limit, cover.urgency) == (Decimal("5"), "normal")

    overwritten = load_categories(overwrite=True)
    assert (overwritten.created, overwritten.updated) == (0, 1)
    cover.refresh_from_db()
    assert (cover.handle_limit, cover.urgency) == (Decimal("2"), "urgent")


def test_later_department_is_linked_on_reload(db):
    load_categories()
    water = Department.objects.create(code="W1", name="供水公司", kind="company")
    report = load_categories()
    assert report.updated == 4  # components 0101, 0127, 0132 and event 0402
    assert Category.objects.get(kind=CategoryKind.COMPONENT, code="0101").default_department == water


def test_bad_rows_are_reported_by_row_and_nothing_is_written(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + GOOD
        + "component,1,公用设施,Public utilities,0102,污水井盖,x,d,urgent,0.17,2,hours,x\n"
        + "component,01,公用设施,Public utilities,0201,雨水井盖,x,d,urgent,0.17,2,hours,x\n"
        + "thing,01,公用设施,Public utilities,0104,雨水箅子,x,d,urgent,0.17,2,hours,x\n"
        + "component,01,公用设施,Public utilities,0105,电力井盖,x,d,soon,0.17,2,hours,x\n"
        + "component,01,公用设施,Public utilities,0106,路灯井盖,x,d,urgent,0.17,2,weeks,x\n"
        + "component,01,公用设施,Public utilities,0107,通讯井盖,x,d,urgent,fast,two,hours,x\n"
        + GOOD,
        encoding="utf-8",
    )
    report = load_categories(path)
    assert report.errors == [
        RowError(3, "major_code", "Major code 1 must have 2 digits."),
        RowError(4, "minor_code", "Minor code 0201 does not start with its major code 01."),
        RowError(5, "kind", "Unknown kind thing; use component or event."),
        RowError(6, "urgency_default", "Unknown urgency soon; use urgent or normal."),
        RowError(7, "handle_unit", "Unknown unit weeks; use working_hours, working_days or hours."),
        RowError(8, "dispatch_limit_hours", "fast is not a number."),
        RowError(8, "handle_limit", "two is not a number."),
        RowError(9, "minor_code", "Class 0101 appears again (first in row 2)."),
    ]
    assert not Category.objects.exists() and not AuditLog.objects.exists()


def test_missing_columns(db, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("kind,major_code\ncomponent,01\n", encoding="utf-8")
    report = load_categories(path)
    assert report.errors[0].row == 0 and "minor_code" in report.errors[0].message


def test_command(db, tmp_path, capsys):
    call_command("load_categories")
    assert Category.objects.count() == 152
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + GOOD.replace("urgent", "soon"), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("load_categories", str(bad), "--overwrite")
