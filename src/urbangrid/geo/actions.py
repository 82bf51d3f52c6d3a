"""Base-data loaders (基础数据导入): administrative divisions, unit grids, work-grid collectors.

Loaders validate every row first and return a :class:`LoadReport`; errors name the row
(index and code) and the problem. Grid loads also warn about overlapping grids and gaps
in the coverage, which CJ/T 213 forbids but real survey data often contains.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from urbangrid.core.audit import audit

from .codes import expected_parent_code, validate_division_code, validate_unit_grid_code
from .crs import WGS84, CoordinateError, check_lon_lat_arrays, normalize_crs, to_wgs84_array
from .models import AdminDivision, DivisionLevel, ManagementLevel, UnitGrid, WorkGrid
from .signals import bulk_changes

_GEOD = Geod(ellps="WGS84")
#: Overlaps and gaps smaller than this (m²) are rounding noise, not survey errors.
MIN_REPORTED_AREA_M2 = 1.0
_TEXT_LIMIT = 20


@dataclass
class LoadIssue:
    """One error or warning of a load, tied to a row (0-based index) and code when known."""

    message: str
    index: int | None = None
    code: str = ""

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(_("feature #%(n)d") % {"n": self.index})
        if self.code:
            where.append(self.code)
        return f"{' '.join(where)}: {self.message}" if where else self.message


@dataclass
class LoadReport:
    """What a load did (or would have done) and everything wrong with the input."""

    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    work_grids_created: int = 0
    written: bool = False
    errors: list[LoadIssue] = field(default_factory=list)
    warnings: list[LoadIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str, index: int | None = None, code: str = "") -> None:
        self.errors.append(LoadIssue(message, index, code))

    def warn(self, message: str, index: int | None = None, code: str = "") -> None:
        self.warnings.append(LoadIssue(message, index, code))

    def summary(self) -> str:
        return _("%(total)d rows: %(created)d created, %(updated)d updated, %(skipped)d skipped, "
                 "%(errors)d errors, %(warnings)d warnings") % {
            "total": self.total, "created": self.created, "updated": self.updated, "skipped": self.skipped,
            "errors": len(self.errors), "warnings": len(self.warnings),
        }

    def as_text(self) -> str:
        lines = [self.summary()]
        if not self.written:
            lines.append(_("Nothing was written."))
        for title, issues in ((_("Errors"), self.errors), (_("Warnings"), self.warnings)):
            if issues:
                lines.append(f"{title}:")
                lines += [f"  {issue}" for issue in issues[:_TEXT_LIMIT]]
                if len(issues) > _TEXT_LIMIT:
                    lines.append("  " + _("... and %(n)d more") % {"n": len(issues) - _TEXT_LIMIT})
        return "\n".join(lines)


# --- geometry helpers -------------------------------------------------------------------

def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area in m² on the WGS-84 ellipsoid."""
    return abs(_GEOD.geometry_area_perimeter(geom)[0])


def parse_polygon(geometry: Any, crs: str = WGS84) -> BaseGeometry:
    """A valid WGS-84 Polygon/MultiPolygon from GeoJSON (dict or JSON text) in ``crs``.

    Raises ValidationError naming the problem (type, coordinate range, validity).
    """
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError as exc:
            raise ValidationError(_("Geometry is not valid JSON: %(error)s") % {"error": exc}) from None
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise ValidationError(_("Geometry must be a GeoJSON Polygon or MultiPolygon, not %(kind)s.")
                              % {"kind": kind})
    try:
        geom = shapely.force_2d(shape(geometry))
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise ValidationError(_("Geometry coordinates are malformed: %(error)s") % {"error": exc}) from None
    if geom.is_empty:
        raise ValidationError(_("Geometry is empty."))
    xy = shapely.get_coordinates(geom)
    try:
        check_lon_lat_arrays(xy[:, 0], xy[:, 1])
    except CoordinateError as exc:
        raise ValidationError(_("Coordinates out of range (expected longitude, latitude in degrees): "
                                "%(error)s") % {"error": exc}) from None
    if normalize_crs(crs) != WGS84:
        geom = shapely.transform(geom, lambda c: np.column_stack(to_wgs84_array(c[:, 0], c[:, 1], crs)))
    if not geom.is_valid:
        raise ValidationError(_("Invalid polygon: %(reason)s") % {"reason": explain_validity(geom)})
    return geom


def _features(data: Any) -> list[Any]:
    if isinstance(data, dict):
        if data.get("type") == "FeatureCollection":
            return list(data.get("features") or [])
        if data.get("type") == "Feature":
            return [data]
    if isinstance(data, list | tuple):
        return list(data)
    raise ValueError(_("Expected a GeoJSON FeatureCollection or a list of features."))


# --- divisions --------------------------------------------------------------------------

def load_divisions(rows: Iterable[dict[str, Any]], actor=None) -> LoadReport:
    """Create or update administrative divisions from rows (code, name, [parent], [level], [geometry]).

    All or nothing: any bad row leaves the database unchanged. Rows may come in any order.
    """
    rows = list(rows)
    report = LoadReport(total=len(rows))
    known = set(AdminDivision.objects.values_list("code", flat=True))
    codes_in_file: dict[str, int] = {}
    for i, row in enumerate(rows):
        code = str(row.get("code") or "").strip()
        if code in codes_in_file:
            report.error(_("code is repeated (first at row #%(n)d)") % {"n": codes_in_file[code]}, i, code)
        codes_in_file.setdefault(code, i)
    known |= set(codes_in_file)
    valid: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        code = str(row.get("code") or "").strip()
        name = str(row.get("name") or "").strip()
        parent = str(row.get("parent") or "").strip() or None
        try:
            level = validate_division_code(code, parent, level=row.get("level") or None, known=known)
            if not name:
                raise ValidationError(_("name is missing"))
            geometry = parse_polygon(row["geometry"]) if row.get("geometry") else None
        except ValidationError as exc:
            report.error("; ".join(exc.messages), i, code)
            continue
        valid.append({"code": code, "name": name[:100], "level": level,
                      "parent": parent or expected_parent_code(code),
                      "geometry": mapping(geometry) if geometry is not None else None})
    if report.errors:
        report.skipped = len(rows)
        return report
    with transaction.atomic(), bulk_changes():
        by_code = {d.code: d for d in AdminDivision.objects.all()}
        for item in sorted(valid, key=lambda r: (len(r["code"]), r["code"])):
            parent_obj = by_code.get(item["parent"]) if item["parent"] else None
            if parent_obj is None and item["level"] == DivisionLevel.COUNTY:
                parent_obj = by_code.get(item["code"][:2] + "0000")
            defaults = {"name": item["name"], "level": item["level"], "parent": parent_obj}
            if item["geometry"] is not None:
                defaults["geometry"] = item["geometry"]
            obj, created = AdminDivision.objects.update_or_create(code=item["code"], defaults=defaults)
            by_code[obj.code] = obj
            report.created += int(created)
            report.updated += int(not created)
        audit(actor, "geo.load_divisions", summary=report.summary(), object_type="geo.admindivision",
              count=len(valid))
    report.written = True
    return report


# --- unit grids -------------------------------------------------------------------------

@dataclass
class _GridRow:
    index: int
    code: str
    geom: BaseGeometry
    values: dict[str, Any]
    community_id: int
    work_grid: str | None


def _validate_grid(i: int, feature: Any, crs: str, ctx: dict[str, Any]) -> _GridRow:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValidationError(_("not a GeoJSON Feature"))
    props = feature.get("properties") or {}
    code = str(props.get("code") or "").strip()
    declared = str(props.get("community") or code[:12]).strip()
    community = ctx["communities"].get(declared)
    try:
        validate_unit_grid_code(code, declared if community else None)
    except ValidationError as exc:
        if exc.code == "unknown_community":
            raise ValidationError(_("community %(community)s is unknown; load divisions first")
                                  % {"community": declared}) from None
        raise
    first = ctx["seen"].setdefault(code, i)
    if first != i:
        raise ValidationError(_("code is repeated (first at feature #%(n)d)") % {"n": first})
    geom = parse_polygon(feature.get("geometry"), crs)
    level = str(props.get("management_level") or ManagementLevel.CLASS_1)
    if level not in ManagementLevel.values:
        raise ValidationError(_("management level %(level)r is not one of %(choices)s")
                              % {"level": level, "choices": ", ".join(ManagementLevel.values)})
    land_use = str(props.get("land_use") or "")
    if len(land_use) > 32:
        raise ValidationError(_("land use code is longer than 32 characters"))
    work_grid = str(props.get("work_grid") or "").strip() or None
    if work_grid:
        if work_grid in ctx["work_grids"]:
            street_id = ctx["work_grids"][work_grid]
        else:
            street_id = ctx["new_work_grids"].setdefault(work_grid, community[1])
        if street_id is not None and street_id != community[1]:
            raise ValidationError(_("work grid %(wg)s lies in another street than community %(community)s")
                                  % {"wg": work_grid, "community": declared})
    x0, y0, x1, y1 = geom.bounds
    values = {
        "name": str(props.get("name") or "")[:100], "geometry": mapping(geom), "area_m2": geodesic_area_m2(geom),
        "min_lon": x0, "min_lat": y0, "max_lon": x1, "max_lat": y1, "management_level": level,
        "land_use": land_use,
    }
    return _GridRow(i, code, geom, values, community[0], work_grid)


def _coverage_warnings(report: LoadReport, rows: list[_GridRow]) -> None:
    """Warn about overlapping pairs and gaps among the loaded grids and their stored neighbours."""
    if not rows:
        return
    new_codes = {r.code for r in rows}
    x0, y0, x1, y1 = shapely.total_bounds([r.geom for r in rows])
    stored = [
        (code, community_id, shape(geometry)) for code, community_id, geometry in UnitGrid.objects
        .filter(min_lon__lte=x1, max_lon__gte=x0, min_lat__lte=y1, max_lat__gte=y0)
        .exclude(code__in=new_codes).values_list("code", "community_id", "geometry")
    ]
    codes = [r.code for r in rows] + [s[0] for s in stored]
    communities = [r.community_id for r in rows] + [s[1] for s in stored]
    geoms = np.array([r.geom for r in rows] + [s[2] for s in stored], dtype=object)
    index_of = {r.code: r.index for r in rows}
    left, right = shapely.STRtree(geoms).query(geoms[: len(rows)], predicate="intersects")
    keep = (left != right) & ((right >= len(rows)) | (left < right))
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    for a, b in zip(left[inner], right[inner], strict=True):
        area = geodesic_area_m2(shapely.intersection(geoms[a], geoms[b]))
        if area > MIN_REPORTED_AREA_M2:
            report.warn(_("overlaps grid %(other)s by %(area).1f m²") % {"other": codes[b], "area": area},
                        index_of[codes[a]], codes[a])
    # Gaps: per community inside its boundary when known, else holes inside the union.
    boundaries = dict(AdminDivision.objects.filter(pk__in=set(communities), geometry__isnull=False)
                      .values_list("pk", "geometry"))
    names = dict(AdminDivision.objects.filter(pk__in=set(communities)).values_list("pk", "code"))
    checked_areas = []
    community_arr = np.array(communities)
    loaded_communities = sorted({r.community_id for r in rows})
    unions = []
    for community_id in loaded_communities:
        union = shapely.union_all(geoms[community_arr == community_id])
        unions.append(union)
        if community_id in boundaries:
            boundary = shape(boundaries[community_id])
            checked_areas.append(boundary)
            _report_gaps(report, shapely.difference(boundary, union), names[community_id])
    others = geoms[~np.isin(community_arr, loaded_communities)]
    total = shapely.union_all(np.array(unions + list(others), dtype=object))
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(total) for ring in part.interiors]
    holes = [h for h in holes if not any(b.contains(h.representative_point()) for b in checked_areas)]
    _report_gaps(report, shapely.GeometryCollection(holes), "")


def _report_gaps(report: LoadReport, gaps: BaseGeometry, community_code: str) -> None:
    for part in shapely.get_parts(gaps):
        if part.geom_type != "Polygon":
            continue
        area = geodesic_area_m2(part)
        if area <= MIN_REPORTED_AREA_M2:
            continue
        p = part.representative_point()
        where = {"area": area, "lon": p.x, "lat": p.y, "community": community_code}
        if community_code:
            report.warn(_("gap of %(area).1f m² in community %(community)s near (%(lon).6f, %(lat).6f)") % where)
        else:
            report.warn(_("gap of %(area).1f m² between grids near (%(lon).6f, %(lat).6f)") % where)


def load_grids(features: Any, actor=None, *, atomic: bool = True, crs: str = WGS84) -> LoadReport:
    """Create or update unit grids from GeoJSON features (code, name, community, management_level,
    land_use, work_grid properties) in ``crs``; existing grids with the same code are updated.

    With ``atomic`` (the default) nothing is written when any feature is bad; otherwise the
    good features are written and the bad ones skipped. Unknown work-grid codes create
    work grids in the grid's street.
    """
    crs = normalize_crs(crs)
    items = _features(features)
    report = LoadReport(total=len(items))
    ctx: dict[str, Any] = {
        "communities": {code: (pk, parent_id) for code, pk, parent_id in AdminDivision.objects
                        .filter(level=DivisionLevel.COMMUNITY).values_list("code", "pk", "parent_id")},
        "work_grids": dict(WorkGrid.objects.values_list("code", "street_id")),
        "new_work_grids": {}, "seen": {},
    }
    rows: list[_GridRow] = []
    for i, feature in enumerate(items):
        try:
            rows.append(_validate_grid(i, feature, crs, ctx))
        except ValidationError as exc:
            props = feature.get("properties") if isinstance(feature, dict) else None
            report.error("; ".join(exc.messages), i, str((props or {}).get("code") or ""))
    _coverage_warnings(report, rows)
    report.skipped = len(items) - len(rows)
    if report.errors and atomic:
        report.skipped = len(items)
        return report
    _write_grids(report, rows, ctx, actor)
    return report


def _write_grids(report: LoadReport, rows: Sequence[_GridRow], ctx: dict[str, Any], actor) -> None:
    from .index import invalidate_index

    used_work_grids = {r.work_grid for r in rows if r.work_grid}
    with transaction.atomic(), bulk_changes(places=False):
        new = [WorkGrid(code=code, name=code, street_id=street_id)
               for code, street_id in ctx["new_work_grids"].items() if code in used_work_grids]
        WorkGrid.objects.bulk_create(new)
        report.work_grids_created = len(new)
        work_grid_ids = dict(WorkGrid.objects.filter(code__in=used_work_grids).values_list("code", "pk"))
        existing = {g.code: g for g in UnitGrid.objects.filter(code__in=[r.code for r in rows])}
        to_create, to_update = [], []
        for r in rows:
            values = {**r.values, "community_id": r.community_id,
                      "work_grid_id": work_grid_ids.get(r.work_grid) if r.work_grid else None}
            grid = existing.get(r.code)
            if grid is None:
                to_create.append(UnitGrid(code=r.code, **values))
            else:
                for key, value in values.items():
                    setattr(grid, key, value)
                to_update.append(grid)
        UnitGrid.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            UnitGrid.objects.bulk_update(to_update, [*rows[0].values, "community_id", "work_grid_id"],
                                         batch_size=500)
        report.created, report.updated = len(to_create), len(to_update)
        audit(actor, "geo.load_grids", summary=report.summary(), object_type="geo.unitgrid",
              count=len(rows), errors=len(report.errors), warnings=len(report.warnings))
        transaction.on_commit(invalidate_index)
    report.written = True


def assign_collectors(work_grid: WorkGrid, users: Iterable, actor=None) -> None:
    """Set the collectors (监督员) who patrol a work grid."""
    users = list(users)
    work_grid.collectors.set(users)
    audit(actor, "geo.assign_collectors", work_grid,
          summary=_("%(n)d collectors assigned to %(wg)s") % {"n": len(users), "wg": work_grid.code},
          users=[u.pk for u in users])
