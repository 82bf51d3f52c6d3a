"""Component inventory import (部件普查数据导入) from CSV, GeoJSON or Excel (.xlsx).

Every row is checked before anything is written; the report lists each bad row with its
number and the reason. Good rows are written in batches unless the import is atomic.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from urbangrid.core.audit import audit
from urbangrid.core.models import Department, User
from urbangrid.geo.crs import UnknownCRS, normalize_crs, to_wgs84_array
from urbangrid.geo.index import get_index
from urbangrid.geo.models import UnitGrid

from .codes import ComponentId, ComponentIdValidator, class_code_length, next_component_ids, note_used_ids
from .models import Category, CategoryKind, CategorySynonym, Component, ComponentState

FORMATS = ("csv", "geojson", "xlsx")
BATCH_SIZE = 1000
QUERY_CHUNK = 900

#: Accepted column headers / property names per field (compared case-insensitively,
#: ignoring spaces): our names, Chinese names and the CJ/T 214 abbreviations.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "obj_id": ("obj_id", "objid", "标识码", "部件标识码"),
    "name": ("name", "objname", "部件名称"),
    "class_code": ("class_code", "classcode", "小类代码"),
    "state": ("state", "objstate", "部件状态"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "authority": ("authority", "deptname1", "deptcode1", "主管部门"),
    "owner": ("owner", "deptname2", "deptcode2", "权属单位"),
    "maintainer": ("maintainer", "deptname3", "deptcode3", "养护单位"),
    "address": ("address", "locatedsc", "位置描述"),
    "initial_date": ("initial_date", "ordate", "初始日期"),
    "change_date": ("change_date", "chdate", "变更日期"),
    "data_source": ("data_source", "datasource", "数据来源"),
    "note": ("note", "备注"),
}
_HEADER_TO_FIELD = {alias.lower(): name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}

#: Component states as written in survey data (CJ/T 214 uses the Chinese words).
STATE_WORDS: dict[str, str] = {
    "完好": ComponentState.INTACT,
    "破损": ComponentState.DAMAGED,
    "丢失": ComponentState.LOST,
    "占用": ComponentState.OCCUPIED,
    "废弃": ComponentState.ABANDONED,
    "移除": ComponentState.REMOVED,
    **{value: value for value in ComponentState.values},
}

MAX_LENGTHS = {"name": 100, "address": 200, "data_source": 32, "note": 500}
DEPARTMENT_FIELDS = {
    "authority": "authority_department_id",
    "owner": "owner_department_id",
    "maintainer": "maintainer_department_id",
}


@dataclass(frozen=True)
class RowError:
    """One problem in an input file; ``row`` 0 means the file as a whole."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        return _("row %(row)d, %(field)s: %(message)s") % {
            "row": self.row, "field": self.field, "message": self.message,
        }


@dataclass
class ImportReport:
    """Outcome of one import: rows read, rows written and every error found."""

    total: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_error(self) -> RowError | None:
        return next((e for e in self.errors if e.row == 0), None)

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors if e.row})

    def summary(self) -> str:
        if self.file_error:
            return _("Import failed: %(message)s") % {"message": self.file_error.message}
        return _("%(imported)d of %(total)d rows imported, %(rejected)d rows rejected.") % {
            "imported": self.imported, "total": self.total, "rejected": self.rejected_rows,
        }


class FileError(ValueError):
    """The file cannot be read at all (wrong format, encoding or structure)."""


# --- reading ---------------------------------------------------------------------------------

Source = str | Path | bytes | IO[bytes] | IO[str]


def _read_source(source: Source) -> tuple[bytes, str]:
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise FileError(_("Cannot read %(name)s: %(error)s") % {"name": path.name, "error": exc}) from exc
    if isinstance(source, bytes):
        return source, ""
    data = source.read()
    name = Path(str(getattr(source, "name", "") or "")).name
    return (data.encode("utf-8") if isinstance(data, str) else data), name


def guess_format(filename: str) -> str:
    """Format from a file name: csv, geojson or xlsx."""
    suffix = Path(filename).suffix.lower()
    formats = {".csv": "csv", ".txt": "csv", ".geojson": "geojson", ".json": "geojson", ".xlsx": "xlsx"}
    if suffix in formats:
        return formats[suffix]
    if suffix == ".xls":
        raise FileError(_("Old Excel .xls files are not supported; save the sheet as .xlsx."))
    raise FileError(
        _("Cannot tell the format of %(name)s; use a .csv, .geojson or .xlsx file.")
        % {"name": filename or _("the upload")}
    )


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GBK/GB18030 text."""
    if b"\x00" in data[:8192]:
        raise FileError(_("The file is not a text file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError(_("The file is neither UTF-8 nor GBK text."))


def _field_for(header: Any) -> str | None:
    key = str(header or "").replace("\ufeff", "").replace(" ", "").strip().lower()
    return _HEADER_TO_FIELD.get(key)


def _map_values(columns: list[str | None], cells: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=False):
        if name is not None and _present(cell) and not _present(values.get(name)):
            values[name] = cell
    return values


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _check_columns(columns: list[str | None]) -> None:
    found = set(columns)
    missing = [name for name in ("lon", "lat") if name not in found]
    if missing:
        raise FileError(
            _("Required columns are missing: %(columns)s.")
            % {"columns": ", ".join(f"{n} ({COLUMN_ALIASES[n][-1]})" for n in missing)}
        )
    if not found & {"obj_id", "class_code", "name"}:
        raise FileError(_("The file needs a class code (小类代码), name (部件名称) or identifier (标识码) column."))


def _tabular_rows(records: Iterator[list[Any] | tuple[Any, ...]]) -> Iterator[tuple[int, dict[str, Any]]]:
    header = next(records, None)
    if header is None:
        raise FileError(_("The file is empty."))
    columns = [_field_for(h) for h in header]
    _check_columns(columns)
    for number, cells in enumerate(records, start=2):
        if any(_present(c) for c in cells):
            yield number, _map_values(columns, cells)


def _csv_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return list(_tabular_rows(iter(csv.reader(io.StringIO(text), delimiter=delimiter))))
    except csv.Error as exc:
        raise FileError(_("The file is not valid CSV: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, XML and key errors on broken files
        raise FileError(_("The file is not a valid Excel (.xlsx) workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        return list(_tabular_rows(sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


def _geojson_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise FileError(_("The file is not valid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise FileError(_("The file is not a GeoJSON FeatureCollection."))
    rows = []
    for number, feature in enumerate(document["features"], start=1):
        values: dict[str, Any] = {}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            values["_feature"] = _("Not a GeoJSON Feature.")
        else:
            properties = feature.get("properties") or {}
            if isinstance(properties, dict):
                columns = [_field_for(key) for key in properties]
                values = _map_values(columns, list(properties.values()))
            geometry = feature.get("geometry")
            point = isinstance(geometry, dict) and geometry.get("type") == "Point"
            coordinates = geometry.get("coordinates") if point else None
            if not isinstance(coordinates, list) or len(coordinates) < 2:
                values["_geometry"] = _("The geometry must be a Point.")
            else:
                values["lon"], values["lat"] = coordinates[0], coordinates[1]
        rows.append((number, values))
    return rows


READERS = {"csv": _csv_rows, "geojson": _geojson_rows, "xlsx": _xlsx_rows}


# --- checking --------------------------------------------------------------------------------

@dataclass
class _Row:
    number: int
    obj_id: str = ""
    parsed_id: ComponentId | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _Checker:
    """Dictionary, department and identifier lookups loaded once per import."""

    def __init__(self) -> None:
        class_length = class_code_length()
        minors = list(
            Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=False)
            .order_by("-active", "scheme", "code")
        )
        self.by_code: dict[str, Category] = {}
        self.by_name: dict[str, Category] = {}
        for category in minors:
            if len(category.code) == class_length:
                self.by_code.setdefault(category.code, category)
                self.by_name.setdefault(category.name, category)
        synonyms = CategorySynonym.objects.filter(category__in=self.by_code.values()).select_related("category")
        for synonym in synonyms:
            self.by_name.setdefault(synonym.name, synonym.category)
        self.departments_by_code: dict[str, int] = {}
        self.departments_by_name: dict[str, list[int]] = defaultdict(list)
        for pk, code, name in Department.objects.values_list("pk", "code", "name"):
            self.departments_by_code[code] = pk
            self.departments_by_name[name].append(pk)
        self.ids = ComponentIdValidator()

    def category(self, row: _Row, values: dict[str, Any], errors: list[RowError]) -> Category | None:
        code = _text(values.get("class_code"))
        if code.isdigit():
            code = code.zfill(class_code_length())
        name = _text(values.get("name"))
        by_name = self.by_name.get(name) if name else None
        if code:
            category = self.by_code.get(code)
            if category is None:
                message = _("Unknown component class code %(code)s.") % {"code": code}
                errors.append(RowError(row.number, "class_code", message))
                return None
            if by_name is not None and by_name != category:
                errors.append(RowError(
                    row.number, "name",
                    _("Name %(name)s belongs to class %(other)s, not to class %(code)s %(class_name)s.")
                    % {"name": name, "other": by_name.code, "code": code, "class_name": category.name},
                ))
                return None
        elif name:
            category = by_name
            if category is None:
                message = _("Unknown component class name %(name)s.") % {"name": name}
                errors.append(RowError(row.number, "name", message))
                return None
        elif row.parsed_id is not None:
            category = self.by_code[row.parsed_id.class_code]
        else:
            if not row.obj_id:
                message = _("Give a class code, a class name or an identifier.")
                errors.append(RowError(row.number, "class_code", message))
            return None
        if not category.active:
            message = _("Component class %(code)s is inactive.") % {"code": category.code}
            errors.append(RowError(row.number, "class_code", message))
            return None
        if row.parsed_id is not None and row.parsed_id.class_code != category.code:
            errors.append(RowError(
                row.number, "obj_id",
                _("Identifier %(value)s has class code %(id_code)s but the row is class %(code)s.")
                % {"value": row.obj_id, "id_code": row.parsed_id.class_code, "code": category.code},
            ))
            return None
        return category

    def department(self, value: Any) -> int | str | None:
        """Department pk for a code or name; returns an error message when it cannot."""
        text = _text(value)
        if not text:
            return None
        if text in self.departments_by_code:
            return self.departments_by_code[text]
        matches = self.departments_by_name.get(text, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            return _("Department name %(name)s is ambiguous; use its code.") % {"name": text}
        return _("Unknown department %(name)s.") % {"name": text}


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})")


def _parse_date(value: Any) -> dt.date | None:
    """A date cell: a spreadsheet date, ``YYYY-MM-DD`` or ``YYYYMMDD``; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups() if part is not None)
    return dt.date(year, month, day)


def _parse_coordinate(value: Any, axis: str, limit: float, row: int, errors: list[RowError]) -> float | None:
    number = None
    if _present(value):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and -limit <= number <= limit:
            return number
    label = _("Longitude") if axis == "lon" else _("Latitude")
    if not _present(value):
        message = _("%(axis)s is missing.") % {"axis": label}
    elif number is None:
        message = _("%(axis)s %(value)s is not a number.") % {"axis": label, "value": value}
    else:
        message = _("%(axis)s %(value)s is out of range (-%(limit)d to %(limit)d).") % {
            "axis": label, "value": value, "limit": limit,
        }
    errors.append(RowError(row, axis, message))
    return None


def _check_row(number: int, values: dict[str, Any], checker: _Checker, errors: list[RowError]) -> _Row:
    row = _Row(number, obj_id=_text(values.get("obj_id")))
    if "_feature" in values:
        errors.append(RowError(number, "feature", values["_feature"]))
        return row
    if row.obj_id:
        try:
            row.parsed_id = checker.ids(row.obj_id)
        except ValidationError as exc:
            errors.append(RowError(number, "obj_id", exc.messages[0]))
    category = checker.category(row, values, errors)
    row.fields["category"] = category
    row.fields["name"] = _text(values.get("name"))

    state = _text(values.get("state"))
    if state:
        code = STATE_WORDS.get(state) or STATE_WORDS.get(state.lower())
        if code is None:
            errors.append(RowError(
                number, "state",
                _("Unknown state %(value)s; use 完好, 破损, 丢失, 占用, 废弃 or 移除.") % {"value": state},
            ))
        row.fields["state"] = code
    else:
        row.fields["state"] = ComponentState.INTACT

    if "_geometry" in values:
        errors.append(RowError(number, "geometry", values["_geometry"]))
    else:
        row.lon = _parse_coordinate(values.get("lon"), "lon", 180, number, errors)
        row.lat = _parse_coordinate(values.get("lat"), "lat", 90, number, errors)

    for name, attribute in DEPARTMENT_FIELDS.items():
        result = checker.department(values.get(name))
        if isinstance(result, str):
            errors.append(RowError(number, name, result))
        else:
            row.fields[attribute] = result

    for name, attribute in (("initial_date", "initial_date"), ("change_date", "change_date")):
        try:
            row.fields[attribute] = _parse_date(values.get(name))
        except ValueError:
            errors.append(RowError(
                number, name,
                _("Invalid date %(value)s; use YYYY-MM-DD or YYYYMMDD.") % {"value": _text(values.get(name))},
            ))

    for name in ("address", "data_source", "note"):
        row.fields[name] = _text(values.get(name))
    for name, limit in MAX_LENGTHS.items():
        if len(row.fields[name]) > limit:
            errors.append(RowError(number, name, _("Text is longer than %(limit)d characters.") % {"limit": limit}))
    return row


def _check_duplicates(rows: list[_Row], errors: list[RowError]) -> None:
    first_seen: dict[str, int] = {}
    for row in rows:
        if not row.obj_id:
            continue
        if row.obj_id in first_seen:
            errors.append(RowError(
                row.number, "obj_id", _("Identifier %(value)s appears again (first in row %(first)d).")
                % {"value": row.obj_id, "first": first_seen[row.obj_id]},
            ))
        else:
            first_seen[row.obj_id] = row.number
    ids = list(first_seen)
    existing: set[str] = set()
    for start in range(0, len(ids), QUERY_CHUNK):
        chunk = ids[start:start + QUERY_CHUNK]
        existing.update(Component.objects.filter(obj_id__in=chunk).values_list("obj_id", flat=True))
    for value in existing:
        message = _("Identifier %(value)s already exists.") % {"value": value}
        errors.append(RowError(first_seen[value], "obj_id", message))


def _locate(rows: list[_Row], crs: str, errors: list[RowError]) -> dict[int, int]:
    """Convert coordinates to WGS-84 in place and return row number → unit grid pk."""
    placed = [r for r in rows if r.lon is not None and r.lat is not None]
    if not placed:
        return {}
    lons, lats = to_wgs84_array(
        np.array([r.lon for r in placed], dtype=float), np.array([r.lat for r in placed], dtype=float), crs,
    )
    grids = get_index().locate_many(lons, lats)
    located: dict[int, int] = {}
    for i, row in enumerate(placed):
        if grids[i] < 0:
            errors.append(RowError(
                row.number, "location",
                _("Point (%(lon)s, %(lat)s) lies outside every unit grid of the jurisdiction.")
                % {"lon": row.lon, "lat": row.lat},
            ))
        else:
            row.lon, row.lat = float(lons[i]), float(lats[i])
            located[row.number] = int(grids[i])
    return located


# --- writing ---------------------------------------------------------------------------------

def _write(rows: list[_Row], located: dict[int, int], checker: _Checker) -> int:
    missing = [r for r in rows if not r.obj_id]
    with transaction.atomic():
        note_used_ids(r.parsed_id for r in rows if r.parsed_id is not None)
        if missing:
            communities = dict(UnitGrid.objects.values_list("pk", "community__code"))
            groups: dict[tuple[str, str], list[_Row]] = defaultdict(list)
            for row in missing:
                county = checker.ids.county_for(communities.get(located[row.number], ""))
                groups[(county, row.fields["category"].code)].append(row)
            for (county, class_code), group in groups.items():
                for row, obj_id in zip(group, next_component_ids(county, class_code, len(group)), strict=True):
                    row.obj_id = obj_id
        components = [
            Component(obj_id=r.obj_id, lon=r.lon, lat=r.lat, unit_grid_id=located[r.number], **r.fields)
            for r in rows
        ]
        Component.objects.bulk_create(components, batch_size=BATCH_SIZE)
    return len(components)


def import_components(
    source: Source,
    *,
    fmt: str | None = None,
    actor: User | None = None,
    atomic: bool = False,
    crs: str = "WGS84",
) -> ImportReport:
    """Import components from a CSV, GeoJSON or .xlsx file and report every bad row.

    ``source`` is a path, bytes or an open file (an upload). Good rows are written unless
    ``atomic`` is set and any row is bad. Coordinates in ``crs`` are converted to WGS-84 and
    each point is assigned to its unit grid; identifiers left empty are allocated.
    """
    report = ImportReport()
    name = ""
    try:
        data, name = _read_source(source)
        fmt = fmt or guess_format(name)
        if fmt not in READERS:
            raise FileError(_("Unknown format %(format)s; use csv, geojson or xlsx.") % {"format": fmt})
        raw_rows = READERS[fmt](data)
        crs = normalize_crs(crs)
    except (FileError, UnknownCRS) as exc:
        report.errors.append(RowError(0, "", str(exc)))
    if report.errors:
        _audit(actor, report, name, fmt, atomic, crs)
        return report

    report.total = len(raw_rows)
    checker = _Checker()
    errors: list[RowError] = []
    rows = [_check_row(number, values, checker, errors) for number, values in raw_rows]
    _check_duplicates(rows, errors)
    located = _locate(rows, crs, errors)
    errors.sort(key=lambda e: e.row)
    report.errors = errors
    bad = {e.row for e in errors}
    good = [r for r in rows if r.number not in bad]
    if good and not (atomic and errors):
        report.imported = _write(good, located, checker)
    _audit(actor, report, name, fmt, atomic, crs)
    return report


def _audit(actor: User | None, report: ImportReport, name: str, fmt: str | None, atomic: bool, crs: str) -> None:
    audit(
        actor, "catalog.import_components", summary=f"{name}: {report.summary()}", object_type="catalog.component",
        file=name, format=fmt or "", atomic=atomic, crs=crs,
        total=report.total, imported=report.imported, errors=len(report.errors),
    )
