"""WGS84 ↔ GCJ-02 (AMap, Tencent, WeChat) ↔ BD-09 (Baidu) coordinate conversion.

The forward transforms are the published formulas (Krasovsky-ellipsoid offset for GCJ-02, the
Baidu rotation/scaling on top of it for BD-09). Their inverses are not closed-form; they are
solved here by fixed-point iteration until every point moves less than 1e-9 degree (about
0.1 mm), so a round trip is well under a centimetre. Outside China GCJ-02 is defined as WGS84.

All functions take and return numpy arrays (or scalars) of longitude, latitude in degrees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    #: A transform of longitude/latitude arrays.
    Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_A = 6378245.0                      # Krasovsky 1940 semi-major axis (m)
_EE = 0.00669342162296594323        # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 30


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """True where GCJ-02 applies no offset (the published rectangle around China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (≈ CGCS2000) degrees to GCJ-02 degrees (the AMap/Tencent basemap's system)."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees to BD-09 degrees (Baidu)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees to BD-09 degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward: Transform, lon: ArrayLike, lat: ArrayLike,
            first_guess: Transform) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration x ← x − (forward(x) − target)."""
    tlon, tlat = _arrays(lon, lat)
    x, y = first_guess(tlon, tlat)
    x = np.array(x, dtype=float, copy=True)
    y = np.array(y, dtype=float, copy=True)
    finite = np.isfinite(tlon) & np.isfinite(tlat)
    active = finite.copy()
    for _ in range(_MAX_ITER):
        if not active.any():
            break
        if active.all():
            fx, fy = forward(x, y)
            ex, ey = fx - tlon, fy - tlat
            x -= ex
            y -= ey
            active = (np.abs(ex) > _TOL_DEG) | (np.abs(ey) > _TOL_DEG)
        else:
            idx = np.flatnonzero(active)
            fx, fy = forward(x[idx], y[idx])
            ex, ey = fx - tlon[idx], fy - tlat[idx]
            x[idx] -= ex
            y[idx] -= ey
            active[idx] = (np.abs(ex) > _TOL_DEG) | (np.abs(ey) > _TOL_DEG)
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees to WGS84 degrees (iterative inverse, < 1e-9 degree residual)."""
    def guess(tlon: np.ndarray, tlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dlon, dlat = _offset(tlon, tlat)
        return tlon - dlon, tlat - dlat

    return _invert(wgs84_to_gcj02, lon, lat, guess)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 degrees to GCJ-02 degrees (iterative inverse)."""
    def guess(tlon: np.ndarray, tlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = tlon - 0.0065, tlat - 0.006
        z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        return z * np.cos(theta), z * np.sin(theta)

    return _invert(gcj02_to_bd09, lon, lat, guess)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 degrees to WGS84 degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, coords: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert from ``coords`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS84."""
    if coords == "wgs84":
        return _arrays(lon, lat)
    if coords == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if coords == "bd09":
        return bd09_to_wgs84(lon, lat)
    msg = f"coords={coords!r}: expected one of wgs84, gcj02, bd09"
    raise ValueError(msg)
