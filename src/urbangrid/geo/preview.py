"""Inline SVG map previews (网格预览) for admin pages; no tiles or external assets, so they
work on offline bureau networks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.html import escape


def _rings(geometry: dict[str, Any]) -> list[list[Sequence[float]]]:
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    if geometry.get("type") == "Polygon":
        return list(geometry.get("coordinates") or [])
    if geometry.get("type") == "MultiPolygon":
        return [ring for poly in geometry.get("coordinates") or [] for ring in poly]
    return []


def _title(geometry: dict[str, Any]) -> str:
    props = (geometry.get("properties") or {}) if geometry.get("type") == "Feature" else {}
    return str(props.get("name") or props.get("code") or "")


def svg_map(polygons: list[dict], points: Iterable[tuple[float, float]] = (), highlight: int | None = None,
            size: int = 360) -> str:
    """An ``<svg>`` drawing GeoJSON polygons (or Features) and WGS-84 points.

    The polygon at index ``highlight`` is filled. Only numbers and escaped titles go into
    the markup, so the result is safe for ``mark_safe``.
    """
    points = [(float(x), float(y)) for x, y in points]
    rings = [_rings(p) for p in polygons]
    coords = [c for poly in rings for ring in poly for c in ring] + points
    finite = [(float(c[0]), float(c[1])) for c in coords if math.isfinite(c[0]) and math.isfinite(c[1])]
    size = max(int(size), 16)
    head = f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
    if not finite:
        return head + "</svg>"
    x0, x1 = min(c[0] for c in finite), max(c[0] for c in finite)
    y0, y1 = min(c[1] for c in finite), max(c[1] for c in finite)
    kx = math.cos(math.radians((y0 + y1) / 2))  # keep metres square at this latitude
    span = max((x1 - x0) * kx, y1 - y0) or 1e-6
    pad = 6.0
    scale = (size - 2 * pad) / span
    ox = pad + ((size - 2 * pad) - (x1 - x0) * kx * scale) / 2
    oy = pad + ((size - 2 * pad) - (y1 - y0) * scale) / 2

    def xy(c: Sequence[float]) -> str:
        return f"{ox + (float(c[0]) - x0) * kx * scale:.1f},{oy + (y1 - float(c[1])) * scale:.1f}"

    parts = [head, '<rect width="100%" height="100%" fill="#f8f9fa"/>']
    for i, poly in enumerate(rings):
        d = " ".join("M" + " L".join(xy(c) for c in ring) + " Z" for ring in poly if ring)
        if not d:
            continue
        fill = "#4c8bf5" if i == highlight else "none"
        opacity = ' fill-opacity="0.45"' if i == highlight else ""
        stroke = "#1a56c4" if i == highlight else "#6c757d"
        title = escape(_title(polygons[i]))
        parts.append(f'<path d="{d}" fill="{fill}"{opacity} fill-rule="evenodd" stroke="{stroke}" '
                     f'stroke-width="{2 if i == highlight else 1}">'
                     + (f"<title>{title}</title>" if title else "") + "</path>")
    for p in points:
        if math.isfinite(p[0]) and math.isfinite(p[1]):
            cx, cy = xy(p).split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="4" fill="#d63384" stroke="#fff" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)
