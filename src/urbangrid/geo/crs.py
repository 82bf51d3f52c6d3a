"""Coordinate systems (坐标系): WGS-84, GCJ-02 (国测局坐标, phone maps) and CGCS2000.

Everything is stored in WGS-84 (EPSG:4326). Clients send one of:

* ``WGS84`` — GPS receivers, OpenStreetMap (aliases ``WGS-84``, ``EPSG:4326``);
* ``GCJ02`` — the obfuscated datum of Chinese web/phone maps (AutoNavi/Amap, Tencent,
  Google China); converted with the public forward formula and an iterative inverse;
* ``CGCS2000`` — the national geodetic frame (``EPSG:4490``), converted with pyproj; it
  differs from WGS-84 by centimetres, which is far below grid resolution.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from django.utils.translation import gettext as _
from pyproj import Transformer

WGS84 = "WGS84"
GCJ02 = "GCJ02"
CGCS2000 = "CGCS2000"
SUPPORTED = (WGS84, GCJ02, CGCS2000)

_ALIASES = {
    "WGS84": WGS84, "EPSG4326": WGS84,
    "GCJ02": GCJ02,
    "CGCS2000": CGCS2000, "EPSG4490": CGCS2000,
}

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
#: The inverse iterates until the WGS-84 estimate moves less than this (degrees, ~0.1 mm).
_INVERSE_TOLERANCE = 1e-9
_INVERSE_MAX_STEPS = 30


class UnknownCRS(ValueError):
    """The named coordinate system is not one of WGS84, GCJ02 or CGCS2000."""


class CoordinateError(ValueError):
    """A coordinate is not a finite longitude/latitude in range."""


def normalize_crs(name: str | None) -> str:
    """Return the canonical name (``WGS84``, ``GCJ02``, ``CGCS2000``) of a CRS spelling."""
    key = (name or "").strip().upper().replace("-", "").replace("_", "").replace(" ", "")
    key = key.replace(":", "")
    try:
        return _ALIASES[key]
    except KeyError:
        raise UnknownCRS(
            _("Unknown coordinate system %(name)r; use WGS84, GCJ02 or CGCS2000.") % {"name": name}
        ) from None


def check_lon_lat(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lon, lat)`` as floats or raise CoordinateError naming the problem."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise CoordinateError(
            _("Coordinates must be numbers; got longitude %(lon)r, latitude %(lat)r.")
            % {"lon": lon, "lat": lat}
        ) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CoordinateError(_("Coordinates must be finite numbers (not NaN or infinity)."))
    if not -180.0 <= x <= 180.0:
        raise CoordinateError(
            _("Longitude %(lon)s is out of range (-180 to 180).") % {"lon": x}
        )
    if not -90.0 <= y <= 90.0:
        hint = ""
        if -90.0 <= x <= 90.0 and -180.0 <= y <= 180.0:
            hint = " " + _("Longitude and latitude may be swapped (expected lon, lat).")
        raise CoordinateError(
            _("Latitude %(lat)s is out of range (-90 to 90).") % {"lat": y} + hint
        )
    return x, y


def check_lon_lat_arrays(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`check_lon_lat`: float64 arrays, or CoordinateError for the first bad one."""
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    if x.shape != y.shape:
        raise CoordinateError(
            _("Longitude and latitude arrays differ in shape (%(a)s vs %(b)s).")
            % {"a": x.shape, "b": y.shape}
        )
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        try:
            check_lon_lat(x.ravel()[i], y.ravel()[i])
        except CoordinateError as exc:
            raise CoordinateError(
                _("Point %(index)d: %(problem)s") % {"index": i, "problem": exc}
            ) from None
    return x, y


# --- GCJ-02 -----------------------------------------------------------------------------

def _out_of_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon, lat):
    """(dlon, dlat) in degrees that GCJ-02 adds to a WGS-84 position (numpy, broadcasting)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invert GCJ-02 by fixed-point iteration: w <- w - (gcj(w) - g)."""
    w_lon, w_lat = lon.copy(), lat.copy()
    for _step in range(_INVERSE_MAX_STEPS):
        g_lon, g_lat = _wgs_to_gcj(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon -= e_lon
        w_lat -= e_lat
        if max(float(np.max(np.abs(e_lon), initial=0.0)),
               float(np.max(np.abs(e_lat), initial=0.0))) < _INVERSE_TOLERANCE:
            break
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


# --- CGCS2000 ---------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _cgcs_transformer(to_wgs: bool) -> Transformer:
    src, dst = ("EPSG:4490", "EPSG:4326") if to_wgs else ("EPSG:4326", "EPSG:4490")
    return Transformer.from_crs(src, dst, always_xy=True)


def _convert(lons: np.ndarray, lats: np.ndarray, crs: str, to_wgs: bool) -> tuple[np.ndarray, np.ndarray]:
    name = normalize_crs(crs)
    if name == WGS84:
        return lons.copy(), lats.copy()
    if name == GCJ02:
        return _gcj_to_wgs(lons, lats) if to_wgs else _wgs_to_gcj(lons, lats)
    x, y = _cgcs_transformer(to_wgs).transform(lons, lats)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


# --- public API -------------------------------------------------------------------------

def to_wgs84(lon: float, lat: float, crs: str = WGS84) -> tuple[float, float]:
    """Convert one position in ``crs`` to WGS-84 ``(lon, lat)``."""
    name = normalize_crs(crs)
    x, y = check_lon_lat(lon, lat)
    ox, oy = _convert(np.array([x]), np.array([y]), name, to_wgs=True)
    return float(ox[0]), float(oy[0])


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert one WGS-84 position to ``crs`` (e.g. GCJ-02 for a phone map)."""
    name = normalize_crs(crs)
    x, y = check_lon_lat(lon, lat)
    ox, oy = _convert(np.array([x]), np.array([y]), name, to_wgs=False)
    return float(ox[0]), float(oy[0])


def to_wgs84_array(lons, lats, crs: str = WGS84) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`to_wgs84` over arrays of longitudes and latitudes."""
    name = normalize_crs(crs)
    x, y = check_lon_lat_arrays(lons, lats)
    return _convert(x, y, name, to_wgs=True)


def from_wgs84_array(lons, lats, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`from_wgs84`."""
    name = normalize_crs(crs)
    x, y = check_lon_lat_arrays(lons, lats)
    return _convert(x, y, name, to_wgs=False)
