"""CRS conversions against published reference pairs.

WGS-84 -> GCJ-02 pairs are the test vectors of googollee/eviltransform
(https://github.com/googollee/eviltransform, python/test.py and go/transform_test.go:
Shanghai, Shenzhen, Beijing), which asserts the forward result to 6 decimal places.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from urbangrid.geo.crs import (
    CoordinateError,
    UnknownCRS,
    from_wgs84,
    normalize_crs,
    to_wgs84,
    to_wgs84_array,
)

# (wgs_lat, wgs_lng, gcj_lat, gcj_lng) from googollee/eviltransform
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_PAIRS)
def test_gcj02_forward_matches_reference(wlat, wlon, glat, glon):
    lon, lat = from_wgs84(wlon, wlat, "GCJ02")
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_PAIRS)
def test_gcj02_inverse_matches_reference(wlat, wlon, glat, glon):
    lon, lat = to_wgs84(glon, glat, "GCJ-02")
    assert abs(lon - wlon) < 1e-7
    assert abs(lat - wlat) < 1e-7


def test_gcj02_round_trip_vectorised():
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(75, 135, 2000), rng.uniform(18, 53, 2000)
    g = [from_wgs84(x, y, "GCJ02") for x, y in zip(lons[:50], lats[:50], strict=True)]
    back_lon, back_lat = to_wgs84_array([p[0] for p in g], [p[1] for p in g], "gcj02")
    assert np.max(np.abs(back_lon - lons[:50])) < 1e-7
    assert np.max(np.abs(back_lat - lats[:50])) < 1e-7
    # the offset is a few hundred metres, never zero inside China
    shift = math.hypot(g[0][0] - lons[0], g[0][1] - lats[0])
    assert 1e-4 < shift < 1e-2


def test_gcj02_outside_china_is_unchanged():
    assert to_wgs84(2.35, 48.85, "GCJ02") == (2.35, 48.85)
    assert from_wgs84(-74.0, 40.7, "GCJ02") == (-74.0, 40.7)


def test_cgcs2000_is_effectively_wgs84():
    lon, lat = to_wgs84(120.55, 30.63, "EPSG:4490")
    assert abs(lon - 120.55) < 1e-6 and abs(lat - 30.63) < 1e-6
    assert from_wgs84(lon, lat, "CGCS2000") == pytest.approx((120.55, 30.63), abs=1e-6)


@pytest.mark.parametrize(("name", "canonical"), [
    ("WGS84", "WGS84"), ("wgs-84", "WGS84"), ("EPSG:4326", "WGS84"), ("gcj02", "GCJ02"),
    ("GCJ-02", "GCJ02"), ("CGCS2000", "CGCS2000"), ("epsg:4490", "CGCS2000"),
])
def test_normalize_crs(name, canonical):
    assert normalize_crs(name) == canonical


def test_unknown_crs():
    with pytest.raises(UnknownCRS, match=r"Unknown coordinate system 'XYZ'; use WGS84, GCJ02 or CGCS2000"):
        to_wgs84(120.5, 30.6, "XYZ")
    with pytest.raises(UnknownCRS):
        normalize_crs("BD09")


@pytest.mark.parametrize(("lon", "lat", "message"), [
    (200.0, 30.0, "Longitude 200.0 is out of range"),
    (120.0, 95.0, "Latitude 95.0 is out of range"),
    (30.6, 120.5, "may be swapped"),
    (float("nan"), 30.0, "finite"),
    ("east", 30.0, "must be numbers"),
])
def test_bad_coordinates(lon, lat, message):
    with pytest.raises(CoordinateError, match=message):
        to_wgs84(lon, lat, "WGS84")


def test_bad_coordinates_in_arrays_name_the_point():
    with pytest.raises(CoordinateError, match=r"Point 2: Latitude 91\.0"):
        to_wgs84_array([120.0, 120.1, 120.2], [30.0, 30.1, 91.0], "WGS84")
    with pytest.raises(CoordinateError, match="differ in shape"):
        to_wgs84_array([120.0], [30.0, 30.1])
