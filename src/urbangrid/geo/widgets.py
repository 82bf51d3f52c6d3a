"""Map widgets for the admin: edit a polygon on a Leaflet map with leaflet-geoman (网格边界编辑).

The field keeps its GeoJSON text in a textarea (folded under "advanced"), which the script
(``geo/polygon_editor.js``) keeps in sync with the map, so the form posts the same field as a
plain text widget would and the server's ``clean()`` stays the only judge. Neighbouring grids
or divisions are drawn read-only as context; the editor snaps vertices to them. Everything
the script needs is in a ``<script type="application/json">`` block and data- attributes (the
CSP forbids inline scripts); all assets are static files (no CDN).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from .preview import svg_map

#: Roles of context layers (styles in polygon_editor.js): the parent's boundary, neighbours.
PARENT = "parent"
NEIGHBOUR = "neighbour"
#: Shown when there is nothing to centre on (middle of China, zoomed out).
DEFAULT_CENTER = (104.0, 35.0)


@dataclass
class ContextLayer:
    """Read-only polygons drawn under the edited one (and snapped to)."""

    role: str
    label: str
    features: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "label": str(self.label),
            "features": {"type": "FeatureCollection", "features": self.features},
        }


def feature(geometry: dict[str, Any], label: str, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Feature with the tooltip ``label``."""
    return {"type": "Feature", "geometry": geometry, "properties": {"label": str(label), **properties}}


def _map_media() -> forms.Media:
    return forms.Media(
        css={"all": ["vendor/leaflet/leaflet.css", "vendor/geoman/leaflet-geoman.css", "geo/polygon_editor.css"]},
        # web/map.js provides window.urbangridBaseMap (the configured base layers); the editor
        # falls back to a plain Leaflet map without it.
        js=["vendor/leaflet/leaflet.js", "vendor/geoman/leaflet-geoman.js", "web/map.js", "geo/polygon_editor.js"],
    )


def _tiles() -> dict[str, str]:
    return {
        "url": getattr(settings, "URBANGRID_TILE_URL", ""),
        "attribution": getattr(settings, "URBANGRID_TILE_ATTRIBUTION", ""),
    }


def _map_data(layers: Iterable[ContextLayer], center: tuple[float, float] | None) -> dict[str, Any]:
    return {"layers": [layer.as_json() for layer in layers], "center": list(center or DEFAULT_CENTER)}


def _fallback_svg(value: Any, layers: Iterable[ContextLayer]) -> str:
    """The static preview shown without JavaScript (<noscript>)."""
    polygons = []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if isinstance(value, dict):
        polygons.append(value)
    highlight = 0 if polygons else None
    polygons += [f for layer in layers if layer.role == NEIGHBOUR for f in layer.features]
    return svg_map(polygons, highlight=highlight) if polygons else ""


class PolygonMapWidget(forms.Textarea):
    """A GeoJSON Polygon/MultiPolygon field edited on a map (leaflet-geoman).

    Set ``layers`` (a list of :class:`ContextLayer`) and ``center`` (lon, lat, used when
    nothing else is on the map) per form instance, e.g. in the form's ``__init__``.
    """

    template_name = "geo/widgets/polygon_map.html"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        layers: list[ContextLayer] | None = None,
        center: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(attrs={"rows": 8, "cols": 80, "spellcheck": "false", **(attrs or {})})
        self.layers = list(layers or [])
        self.center = center

    @property
    def media(self) -> forms.Media:
        return _map_media()

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        base_id = widget["attrs"].get("id") or f"id_{name}"
        widget["editor"] = {
            "id": base_id,
            "data_id": f"{base_id}_map_data",
            "data": _map_data(self.layers, self.center),
            "tiles": _tiles(),
            "legend": [(layer.role, layer.label) for layer in self.layers if layer.features],
            "fallback_svg": SafeString(_fallback_svg(value, self.layers)),  # svg_map escapes its text
        }
        return context


def readonly_map(
    layers: list[ContextLayer], *, label: str, testid: str = "readonly-map", center: tuple[float, float] | None = None
) -> SafeString:
    """A read-only map of polygons (e.g. a work grid's unit grids) for an admin display field."""
    data_id = f"{testid}_map_data"
    return render_to_string(
        "geo/widgets/readonly_map.html",
        {
            "data_id": data_id,
            "data": _map_data(layers, center),
            "tiles": _tiles(),
            "label": label,
            "testid": testid,
            "legend": [(layer.role, layer.label) for layer in layers if layer.features],
        },
    )


READONLY_MAP_MEDIA = _map_media()
