"""Incident coordinates as float arrays: parsed from numbers or text, flagged missing or invalid,
latitude/longitude given the wrong way round fixed, GCJ-02/BD-09 converted (for :mod:`geo.join`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.constants import JOIN_STATUSES
from geo.coords import to_wgs84

if TYPE_CHECKING:
    from collections.abc import Sequence

_S = {name: i for i, name in enumerate(JOIN_STATUSES)}
#: Join status codes: positions in :data:`core.constants.JOIN_STATUSES`.
OK, SNAPPED, OUTSIDE, SWAPPED, MISSING, INVALID = (_S[k] for k in JOIN_STATUSES)
#: Metres per degree of latitude (its value at the equator; within 1 % of it everywhere).
M_PER_DEG_LAT = 110_574.0


def parse_coordinates(values: Sequence | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as floats, with a flag for values that are present but not numbers.

    Parameters
    ----------
    values : array-like of numbers or text
        Empty text, None and NaN count as missing.

    Returns
    -------
    (float array with NaN where missing or bad, bool array True where present but not a number)
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(float), np.zeros(len(arr), dtype=bool)
    import pandas as pd

    series = pd.Series(arr, dtype=object)
    text = series.where(series.notna(), "").astype(str).str.strip().str.rstrip("°").str.strip()
    missing = text.isin(["", "nan", "NaN", "None", "null", "NULL"])
    nums = np.array(pd.to_numeric(text.where(~missing, None), errors="coerce"), dtype=float)
    bad = np.isnan(nums) & ~missing.to_numpy()
    return nums, bad


@dataclass(frozen=True)
class CleanPoints:
    """Points ready to be joined (the result of :func:`clean_points`).

    Attributes
    ----------
    x, y : numpy.ndarray
        Longitude and latitude in EPSG:4490 degrees; NaN where not ``valid``.
    status : numpy.ndarray
        int8 join status so far: ``OK``, ``MISSING`` or ``INVALID``.
    valid : numpy.ndarray
        True where the point can be joined.
    swapped : numpy.ndarray
        True where latitude and longitude were given the wrong way round (and were swapped).
    """

    x: np.ndarray
    y: np.ndarray
    status: np.ndarray
    valid: np.ndarray
    swapped: np.ndarray


def clean_points(lon: Sequence | np.ndarray, lat: Sequence | np.ndarray, *,
                 extent: tuple[float, float, float, float], snap_m: float, m_per_deg_x: float,
                 coords: str) -> CleanPoints:
    """Parse, check and correct incident coordinates before the join.

    ``0, 0`` counts as missing ("no fix"); a point outside ``extent`` (plus a margin of
    ``snap_m`` but at least 1 km) that falls inside once latitude and longitude are swapped is
    swapped; anything beyond ±180/±90 is invalid.

    Parameters
    ----------
    lon, lat : array-like
        Longitude and latitude in degrees (numbers, or text: empty means missing).
    extent : tuple of float
        ``(minx, miny, maxx, maxy)`` of the hierarchy, EPSG:4490 degrees.
    snap_m : float
        Snapping distance (m).
    m_per_deg_x : float
        Metres per degree of longitude at the hierarchy's latitude.
    coords : str
        ``wgs84`` (also CGCS2000), ``gcj02`` or ``bd09``; valid points are converted to WGS84.

    Returns
    -------
    CleanPoints

    Raises
    ------
    ValueError
        When ``lon`` and ``lat`` differ in length.
    """
    x, bad_x = parse_coordinates(lon)
    y, bad_y = parse_coordinates(lat)
    n = len(x)
    if len(y) != n:
        msg = f"lon and lat differ in length ({n} and {len(y)})"
        raise ValueError(msg)
    status = np.full(n, OK, dtype=np.int8)
    missing = (np.isnan(x) & ~bad_x) | (np.isnan(y) & ~bad_y)
    missing |= (x == 0) & (y == 0)  # 0,0 is how many systems write "no fix"
    invalid = (bad_x | bad_y) & ~missing
    finite = ~(missing | invalid)
    # swapped: as given outside the hierarchy (with a margin) but inside when swapped
    margin = max(float(snap_m), 1000.0)
    ex0, ey0, ex1, ey1 = extent
    mx = margin / m_per_deg_x
    my = margin / M_PER_DEG_LAT

    def inside(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a >= ex0 - mx) & (a <= ex1 + mx) & (b >= ey0 - my) & (b <= ey1 + my)

    swapped = finite & ~inside(x, y) & inside(y, x)
    if swapped.any():
        x[swapped], y[swapped] = y[swapped], x[swapped].copy()
    out_of_range = finite & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
    invalid |= out_of_range
    valid = finite & ~out_of_range
    status[missing] = MISSING
    status[invalid] = INVALID
    x[~valid] = np.nan
    y[~valid] = np.nan
    if coords != "wgs84" and valid.any():
        vi = np.flatnonzero(valid)
        x[vi], y[vi] = to_wgs84(x[vi], y[vi], coords)
    return CleanPoints(x=x, y=y, status=status, valid=valid, swapped=swapped)
