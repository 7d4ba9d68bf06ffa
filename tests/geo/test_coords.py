"""WGS84 ↔ GCJ-02 ↔ BD-09 conversions."""

from __future__ import annotations

import numpy as np
import pytest

from geo.coords import (
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


def _metres(lon1, lat1, lon2, lat2):
    k = np.cos(np.radians(lat1)) * 111_320.0
    return np.hypot((lon1 - lon2) * k, (lat1 - lat2) * 110_574.0)


@pytest.fixture(scope="module")
def china_points():
    rng = np.random.default_rng(42)
    return rng.uniform(75, 134, 200_000), rng.uniform(18, 53, 200_000)


def test_gcj02_offset_is_hundreds_of_metres_in_china(china_points):
    lon, lat = china_points
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, glon, glat)
    assert d.min() > 10 and d.max() < 1500 and np.median(d) > 100
    # Beijing: AMap's offset is about 0.006 degrees east, 0.0013 north
    blon, blat = wgs84_to_gcj02(116.397, 39.908)
    assert 0.005 < blon - 116.397 < 0.007 and 0.0005 < blat - 39.908 < 0.002


def test_gcj02_round_trip_sub_metre(china_points):
    lon, lat = china_points
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.5
    assert np.abs(back[0] - lon).max() < 1e-7 and np.abs(back[1] - lat).max() < 1e-7


def test_bd09_round_trip_sub_metre(china_points):
    lon, lat = china_points
    blon, blat = wgs84_to_bd09(lon, lat)
    assert _metres(lon, lat, blon, blat).min() > 100  # BD-09 adds its own shift on GCJ-02
    back = bd09_to_wgs84(blon, blat)
    assert _metres(lon, lat, *back).max() < 0.5
    assert _metres(*gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)), blon, blat).max() < 1e-6


def test_outside_china_no_gcj_offset_and_nan_passthrough():
    lon = np.array([-73.95, 2.35, np.nan])
    lat = np.array([40.78, 48.85, 30.0])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon[:2] == pytest.approx(lon[:2]) and glat[:2] == pytest.approx(lat[:2])
    back = gcj02_to_wgs84(glon, glat)
    assert np.isnan(back[0][2])
    assert to_wgs84(lon, lat, "wgs84")[0][:2] == pytest.approx(lon[:2])
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        to_wgs84(lon, lat, "utm")
