from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from urbangrid.catalog.actions import import_components
from urbangrid.catalog.importing import RowError
from urbangrid.catalog.models import Component
from urbangrid.core.models import AuditLog, Department
from urbangrid.geo.crs import from_wgs84

from .conftest import grid_centre

HEADER = ["标识码", "部件名称", "小类代码", "部件状态", "经度", "纬度", "DeptCode2", "养护单位", "初始日期", "备注"]


def survey_rows() -> list[list]:
    """A survey with three good rows (spreadsheet rows 2, 3 and 11) and seven bad ones."""
    (lon0, lat0), (lon1, lat1), (lon2, lat2) = grid_centre(0), grid_centre(1), grid_centre(2)
    return [
        ["3304020101000001", "上水井盖", "0101", "完好", lon0, lat0, "W1", "市政排水部门", "2023-05-01", "ok"],
        ["", "不明井盖", "", "破损", lon1, lat1, "", "", "20230502", ""],
        ["", "", "9999", "完好", lon0, lat0, "", "", "", ""],
        ["", "", "0102", "坏了", lon0, lat0, "", "", "", ""],
        ["", "", "0102", "", 200, lat0, "", "", "", ""],
        ["", "", "0102", "", 121.0, 31.0, "", "", "", ""],
        ["", "", "0102", "", lon0, lat0, "不存在单位", "", "", ""],
        ["3304020101000001", "", "0101", "", lon0, lat0, "", "", "", ""],
        ["", "", "0102", "", lon0, lat0, "", "", "2023/13/45", ""],
        ["", "", "0118", "damaged", lon2, lat2, "", "W2", "", ""],
    ]


def expected_errors(first: int) -> list[RowError]:
    """Errors of :func:`survey_rows` when its first data row is numbered ``first``."""
    def row(n: int) -> int:
        return n - 2 + first

    return [
        RowError(row(4), "class_code", "Unknown component class code 9999."),
        RowError(row(5), "state", "Unknown state 坏了; use 完好, 破损, 丢失, 占用, 废弃 or 移除."),
        RowError(row(6), "lon", "Longitude 200 is out of range (-180 to 180)."),
        RowError(row(7), "location", "Point (121.0, 31.0) lies outside every unit grid of the jurisdiction."),
        RowError(row(8), "owner", "Unknown department 不存在单位."),
        RowError(row(9), "obj_id", f"Identifier 3304020101000001 appears again (first in row {row(2)})."),
        RowError(row(10), "initial_date", "Invalid date 2023/13/45; use YYYY-MM-DD or YYYYMMDD."),
    ]


def as_csv(rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_geojson(rows: list[list]) -> bytes:
    keys = ["ObjID", "ObjName", "class_code", "ObjState", None, None, "DeptCode2", "DeptName3", "ORDate", "Note"]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r[4], r[5]]},
            "properties": {k: v for k, v in zip(keys, r, strict=True) if k and v != ""},
        }
        for r in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def as_xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        r = list(r)
        if r[2] == "0118":
            r[2] = 118  # class code typed as a number: the leading zero is lost
        if r[8] == "2023-05-01":
            r[8] = dt.date(2023, 5, 1)
        sheet.append([None if v == "" else v for v in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def departments(db) -> dict[str, Department]:
    return {
        "W1": Department.objects.create(code="W1", name="供水公司", kind="company"),
        "W2": Department.objects.create(code="W2", name="路灯管理所", kind="company"),
        "D1": Department.objects.create(code="D1", name="市政排水部门", kind="professional"),
    }


@pytest.mark.parametrize(("fmt", "build", "first_row"), [
    ("csv", as_csv, 2), ("xlsx", as_xlsx, 2), ("geojson", as_geojson, 1),
])
def test_import_reports_bad_rows_and_keeps_good_ones(categories, grids, departments, fmt, build, first_row):
    report = import_components(io.BytesIO(build(survey_rows())), fmt=fmt)
    assert report.errors == expected_errors(first_row)
    assert (report.total, report.imported, report.rejected_rows) == (10, 3, 7)

    by_id = {c.obj_id: c for c in Component.objects.select_related("category")}
    assert set(by_id) == {"3304020101000001", "3304020114000001", "3304020118000001"}
    cover = by_id["3304020101000001"]
    assert (cover.category.code, cover.state, cover.unit_grid, cover.note) == ("0101", "intact", grids[0], "ok")
    assert (cover.owner_department, cover.maintainer_department) == (departments["W1"], departments["D1"])
    assert cover.initial_date == dt.date(2023, 5, 1)
    unknown_owner = by_id["3304020114000001"]  # 不明井盖 is the local name of 0114 无主井盖
    assert (unknown_owner.category.name, unknown_owner.state) == ("无主井盖", "damaged")
    assert (unknown_owner.unit_grid, unknown_owner.initial_date) == (grids[1], dt.date(2023, 5, 2))
    lamp = by_id["3304020118000001"]
    assert (lamp.unit_grid, lamp.maintainer_department, lamp.state) == (grids[2], departments["W2"], "damaged")
    log = AuditLog.objects.get(action="catalog.import_components")
    assert (log.data["imported"], log.data["errors"], log.data["format"]) == (3, 7, fmt)


def test_atomic_import_writes_nothing(categories, grids, departments):
    report = import_components(io.BytesIO(as_csv(survey_rows())), fmt="csv", atomic=True)
    assert report.errors == expected_errors(2)
    assert report.imported == 0 and not Component.objects.exists()
    good = as_csv(survey_rows()[:2])
    assert import_components(io.BytesIO(good), fmt="csv", atomic=True).imported == 2


def test_identifier_already_in_the_inventory(categories, grids, departments):
    import_components(io.BytesIO(as_csv(survey_rows()[:1])), fmt="csv")
    report = import_components(io.BytesIO(as_csv(survey_rows()[:2])), fmt="csv")
    assert report.errors == [RowError(2, "obj_id", "Identifier 3304020101000001 already exists.")]
    assert report.imported == 1


def test_identifier_problems(categories, grids):
    lon, lat = grid_centre(0)
    rows = [
        ["3304020102000001", "", "0101", "", lon, lat, "", "", "", ""],
        ["1101010101000001", "", "", "", lon, lat, "", "", "", ""],
        ["3304020101000009", "", "", "", lon, lat, "", "", "", ""],
    ]
    report = import_components(io.BytesIO(as_csv(rows)), fmt="csv")
    assert [(e.row, e.field) for e in report.errors] == [(2, "obj_id"), (3, "obj_id")]
    assert "class code 0102 but the row is class 0101" in report.errors[0].message
    assert "county code 110101" in report.errors[1].message
    assert list(Component.objects.values_list("obj_id", "category__code")) == [("3304020101000009", "0101")]


def test_generated_identifiers_follow_imported_ones(categories, grids):
    lon, lat = grid_centre(0)
    rows = [["3304020102000041", "", "", "", lon, lat, "", "", "", ""], ["", "", "0102", "", lon, lat, "", "", "", ""]]
    import_components(io.BytesIO(as_csv(rows)), fmt="csv")
    assert sorted(Component.objects.values_list("obj_id", flat=True)) == ["3304020102000041", "3304020102000042"]


@pytest.mark.parametrize(("name", "code"), [
    ("雨水篦子", "0104"), ("雨水算子", "0104"), ("通信井盖", "0107"), ("电信井盖", "0107"),
    ("有线电视井盖", "0108"), ("不明井盖", "0114"), ("电信交接箱", "0115"), ("电杆", "0117"),
    ("户外健身设施", "0126"), ("街头座椅", "0407"), ("路灯", "0118"),
])
def test_local_names_resolve(categories, grids, name, code):
    lon, lat = grid_centre(3)
    report = import_components(io.BytesIO(as_csv([["", name, "", "", lon, lat, "", "", "", ""]])), fmt="csv")
    assert report.ok
    assert Component.objects.get().category.code == code


def test_name_contradicting_code_is_rejected(categories, grids):
    lon, lat = grid_centre(0)
    rows = [["", "上水井盖", "0114", "", lon, lat, "", "", "", ""], ["", "射灯", "", "", lon, lat, "", "", "", ""]]
    report = import_components(io.BytesIO(as_csv(rows)), fmt="csv")
    assert report.errors == [
        RowError(2, "name", "Name 上水井盖 belongs to class 0101, not to class 0114 无主井盖."),
        RowError(3, "name", "Unknown component class name 射灯."),
    ]


def test_gcj02_coordinates_are_converted(categories, grids):
    wgs_lon, wgs_lat = grid_centre(1)
    gcj_lon, gcj_lat = from_wgs84(wgs_lon, wgs_lat, "GCJ02")
    data = io.BytesIO(as_csv([["", "", "0118", "", gcj_lon, gcj_lat, "", "", "", ""]]))
    report = import_components(data, fmt="csv", crs="GCJ02")
    assert report.ok, report.errors
    lamp = Component.objects.get()
    assert lamp.unit_grid == grids[1]
    assert lamp.lon == pytest.approx(wgs_lon, abs=1e-6) and lamp.lat == pytest.approx(wgs_lat, abs=1e-6)
    assert import_components(io.BytesIO(as_csv([["", "", "0118", "", gcj_lon, gcj_lat, "", "", "", ""]])),
                             fmt="csv").errors[0].field == "location"


def test_gbk_and_bom_csv(categories, grids):
    lon, lat = grid_centre(0)
    rows = [["", "上水井盖", "", "完好", lon, lat, "", "", "", ""]]
    assert import_components(io.BytesIO(as_csv(rows, encoding="gbk")), fmt="csv").imported == 1
    assert import_components(io.BytesIO(as_csv(rows, encoding="utf-8-sig")), fmt="csv").imported == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("x.csv", b"\x00\x01\x02PK\x03", "The file is not a text file."),
    ("x.csv", b"\xff\xfe\xfa" * 10, "The file is neither UTF-8 nor GBK text."),
    ("x.csv", "编号,经度\n1,120\n".encode(), "Required columns are missing: lat (纬度)."),
    ("x.csv", "经度,纬度\n120,30\n".encode(),
     "The file needs a class code (小类代码), name (部件名称) or identifier (标识码) column."),
    ("x.csv", b"", "The file is empty."),
    ("x.geojson", b"{not json", "The file is not valid JSON"),
    ("x.geojson", b'{"type": "Feature"}', "The file is not a GeoJSON FeatureCollection."),
    ("x.xlsx", b"PK\x03\x04 this is no workbook", "The file is not a valid Excel (.xlsx) workbook."),
    ("x.xls", b"whatever", "Old Excel .xls files are not supported; save the sheet as .xlsx."),
    ("x.doc", b"whatever", "Cannot tell the format of x.doc; use a .csv, .geojson or .xlsx file."),
])
def test_broken_files_give_one_file_error(categories, grids, name, content, message):
    source = io.BytesIO(content)
    source.name = name
    report = import_components(source)
    assert len(report.errors) == 1 and report.errors[0].row == 0
    assert report.errors[0].message.startswith(message)
    assert report.total == 0 and not Component.objects.exists()
    assert AuditLog.objects.filter(action="catalog.import_components").count() == 1


def test_unknown_crs_is_a_file_error(categories, grids):
    report = import_components(io.BytesIO(as_csv(survey_rows()[:1])), fmt="csv", crs="BD09")
    assert report.file_error is not None and "BD09" in report.file_error.message


def test_geojson_feature_problems(categories, grids):
    lon, lat = grid_centre(0)
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon, lat]]},
         "properties": {"class_code": "0211"}},
        {"type": "Feature", "geometry": "here", "properties": {"class_code": "0211"}},
        "nonsense",
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"小类代码": "0211"}},
    ]}
    report = import_components(json.dumps(document).encode(), fmt="geojson")
    assert [(e.row, e.field) for e in report.errors] == [(1, "geometry"), (2, "geometry"), (3, "feature")]
    assert report.imported == 1


def test_command(categories, grids, departments, tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_bytes(as_csv(survey_rows()))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_components", str(path), "--atomic")
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "row 4, class_code: Unknown component class code 9999." in captured.err
    assert "0 of 10 rows imported, 7 rows rejected." in captured.out
    path.write_bytes(as_csv(survey_rows()[1:2]))
    call_command("import_components", str(path))
    assert Component.objects.count() == 1


def test_twenty_thousand_rows_are_fast(categories, grids):
    import time

    rng_rows = []
    for i in range(20_000):
        lon, lat = grid_centre(i % 4)
        rng_rows.append(["", "", ("0101", "0118", "0305", "0402")[i % 4], "完好", lon, lat, "", "", "20240101", ""])
    data = as_csv(rng_rows)
    started = time.perf_counter()
    report = import_components(io.BytesIO(data), fmt="csv")
    elapsed = time.perf_counter() - started
    assert report.ok and report.imported == 20_000
    assert elapsed < 10, elapsed
