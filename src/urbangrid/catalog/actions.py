"""Actions that change the classification dictionary and the component inventory.

Admin views, management commands and the API call these; each writes an audit record.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from urbangrid.core.audit import audit
from urbangrid.core.models import Department, User

from .importing import FileError, ImportReport, RowError, decode_text, import_components
from .models import Category, CategoryKind, CategorySynonym, TimeUnit, Urgency

__all__ = ["DEFAULT_CATEGORIES_CSV", "ImportReport", "LoadReport", "RowError", "import_components", "load_categories"]

DEFAULT_CATEGORIES_CSV = Path(__file__).resolve().parent / "data" / "categories.csv"

#: Digits of a minor class code per classification scheme (the major code always has 2).
SCHEME_MINOR_DIGITS = {"CJT214_2007": 4, "GBT47678_5_2026": 5}

CSV_COLUMNS = (
    "kind", "major_code", "major_name_zh", "major_name_en", "minor_code", "minor_name_zh",
    "minor_name_en", "typical_department_zh", "urgency_default", "dispatch_limit_hours",
    "handle_limit", "handle_unit",
)

#: Local names of standard component classes met in city exports (domain reference §4.1).
#: Any class name containing 通讯 is also known with 通信 and 电信.
COMPONENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "雨水箅子": ("雨水篦子", "雨水算子"),
    "电视井盖": ("有线电视井盖",),
    "无主井盖": ("不明井盖",),
    "立杆": ("电杆",),
    "街头坐椅": ("街头座椅",),
    "健身设施": ("户外健身设施",),
}

_MAJOR_CODE = re.compile(r"^\d{2}$")


@dataclass
class LoadReport:
    """Outcome of loading the dictionary: classes created, updated, unchanged, and row errors."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return _("%(count)d errors; nothing was written.") % {"count": len(self.errors)}
        return _("%(created)d classes created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
        }


def synonyms_for(name: str) -> tuple[str, ...]:
    """Known local names for a standard component class name."""
    names = list(COMPONENT_SYNONYMS.get(name, ()))
    if "通讯" in name:
        names += [name.replace("通讯", "通信"), name.replace("通讯", "电信")]
    return tuple(names)


def _decimal(value: str, column: str, limit: int, row: int, errors: list[RowError]) -> Decimal | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.append(RowError(row, column, _("%(value)s is not a number.") % {"value": value}))
        return None
    if not number.is_finite() or number < 0 or number >= limit:
        errors.append(RowError(
            row, column, _("%(value)s must be between 0 and %(limit)d.") % {"value": value, "limit": limit},
        ))
        return None
    return number


def _check_category_row(
    row: int, values: dict[str, str], minor_digits: int, errors: list[RowError],
) -> dict[str, Any] | None:
    before = len(errors)

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row, column, message))

    kind, major, minor = values["kind"], values["major_code"], values["minor_code"]
    if kind not in CategoryKind.values:
        fail("kind", _("Unknown kind %(value)s; use component or event.") % {"value": kind})
    if not _MAJOR_CODE.match(major):
        fail("major_code", _("Major code %(value)s must have 2 digits.") % {"value": major})
    if not re.fullmatch(rf"\d{{{minor_digits}}}", minor):
        fail("minor_code", _("Minor code %(value)s must have %(digits)d digits.")
             % {"value": minor, "digits": minor_digits})
    elif _MAJOR_CODE.match(major) and not minor.startswith(major):
        fail("minor_code", _("Minor code %(value)s does not start with its major code %(major)s.")
             % {"value": minor, "major": major})
    for column in ("major_name_zh", "minor_name_zh"):
        if not values[column]:
            fail(column, _("The name is missing."))
    if values["urgency_default"] not in Urgency.values:
        fail("urgency_default", _("Unknown urgency %(value)s; use urgent or normal.")
             % {"value": values["urgency_default"]})
    unit = values["handle_unit"]
    if unit and unit not in TimeUnit.values:
        fail("handle_unit", _("Unknown unit %(value)s; use working_hours, working_days or hours.") % {"value": unit})
    dispatch = _decimal(values["dispatch_limit_hours"], "dispatch_limit_hours", 10_000, row, errors)
    handle = None
    if values["handle_limit"]:
        handle = _decimal(values["handle_limit"], "handle_limit", 100_000, row, errors)
        if not unit:
            fail("handle_unit", _("A handling limit needs a unit."))
    if len(errors) > before:
        return None
    return {
        "kind": kind, "major": major, "code": minor, "name": values["minor_name_zh"],
        "name_en": values["minor_name_en"], "major_name": values["major_name_zh"],
        "major_name_en": values["major_name_en"], "urgency": values["urgency_default"],
        "dispatch_limit_hours": dispatch, "handle_limit": handle, "handle_unit": unit,
        "default_department_name": values["typical_department_zh"],
    }


def _read_category_rows(path: Path, minor_digits: int) -> tuple[list[dict[str, Any]], list[RowError]]:
    errors: list[RowError] = []
    try:
        text = decode_text(path.read_bytes())
    except (OSError, FileError) as exc:
        return [], [RowError(0, "", str(exc))]
    records = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(records, [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return [], [RowError(0, "", _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)})]
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    majors: dict[tuple[str, str], str] = {}
    for number, cells in enumerate(records, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {c: (cells[header.index(c)].strip() if header.index(c) < len(cells) else "") for c in CSV_COLUMNS}
        parsed = _check_category_row(number, values, minor_digits, errors)
        if parsed is None:
            continue
        key = (parsed["kind"], parsed["code"])
        if key in seen:
            errors.append(RowError(number, "minor_code", _("Class %(code)s appears again (first in row %(first)d).")
                                   % {"code": parsed["code"], "first": seen[key]}))
            continue
        seen[key] = number
        major_key = (parsed["kind"], parsed["major"])
        if majors.setdefault(major_key, parsed["major_name"]) != parsed["major_name"]:
            errors.append(RowError(number, "major_name_zh", _("Major class %(code)s is already named %(name)s.")
                                   % {"code": parsed["major"], "name": majors[major_key]}))
            continue
        rows.append(parsed)
    return rows, errors


def _upsert(
    existing: dict[tuple[str, str], Category], key: tuple[str, str], scheme: str,
    values: dict[str, Any], tunable: dict[str, Any], overwrite: bool, report: LoadReport,
) -> Category:
    category = existing.get(key)
    if category is None:
        category = Category.objects.create(scheme=scheme, kind=key[0], code=key[1], **values, **tunable)
        existing[key] = category
        report.created += 1
        return category
    wanted = dict(values)
    if overwrite:
        wanted.update(tunable)
    elif category.default_department_id is None and tunable.get("default_department_id"):
        wanted["default_department_id"] = tunable["default_department_id"]
    changed = [name for name, value in wanted.items() if getattr(category, name) != value]
    if changed:
        for name in changed:
            setattr(category, name, wanted[name])
        category.save(update_fields=changed)
        report.updated += 1
    else:
        report.unchanged += 1
    return category


def _departments_by_name(names: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for pk, name in Department.objects.filter(name__in=set(names)).order_by("code").values_list("pk", "name"):
        found.setdefault(name, pk)
    return found


def load_categories(
    path: str | Path | None = None,
    *,
    actor: User | None = None,
    scheme: str = "CJT214_2007",
    overwrite: bool = False,
) -> LoadReport:
    """Load the event/component dictionary (分类字典) from ``categories.csv``.

    Creates or updates major and minor classes of ``scheme``; limits and default departments
    edited in the admin are kept unless ``overwrite`` is set. Writes nothing if any row is bad.
    """
    if scheme not in SCHEME_MINOR_DIGITS:
        raise ValueError(f"unknown classification scheme {scheme!r}")
    path = Path(path) if path else DEFAULT_CATEGORIES_CSV
    rows, errors = _read_category_rows(path, SCHEME_MINOR_DIGITS[scheme])
    report = LoadReport(errors=errors)
    if errors:
        return report
    departments = _departments_by_name(r["default_department_name"] for r in rows)
    with transaction.atomic():
        existing = {(c.kind, c.code): c for c in Category.objects.filter(scheme=scheme)}
        majors: dict[tuple[str, str], Category] = {}
        for row in rows:
            is_local = row["kind"] == CategoryKind.EVENT and row["major"] == "06"
            major_key = (row["kind"], row["major"])
            if major_key not in majors:
                majors[major_key] = _upsert(
                    existing, major_key, scheme,
                    {
                        "name": row["major_name"], "name_en": row["major_name_en"], "parent_id": None,
                        "is_local": is_local,
                    },
                    {}, overwrite, report,
                )
            minor = _upsert(
                existing, (row["kind"], row["code"]), scheme,
                {
                    "name": row["name"], "name_en": row["name_en"], "parent_id": majors[major_key].pk,
                    "is_local": is_local, "default_department_name": row["default_department_name"],
                },
                {
                    "urgency": row["urgency"], "dispatch_limit_hours": row["dispatch_limit_hours"],
                    "handle_limit": row["handle_limit"], "handle_unit": row["handle_unit"],
                    "default_department_id": departments.get(row["default_department_name"]),
                },
                overwrite, report,
            )
            if minor.kind == CategoryKind.COMPONENT:
                for name in synonyms_for(minor.name):
                    CategorySynonym.objects.get_or_create(category=minor, name=name)
        audit(
            actor, "catalog.load_categories", object_type="catalog.category",
            summary=_("Loaded %(file)s (%(scheme)s): %(summary)s")
            % {"file": path.name, "scheme": scheme, "summary": report.summary()},
            created=report.created, updated=report.updated, scheme=scheme, overwrite=overwrite,
        )
    return report
