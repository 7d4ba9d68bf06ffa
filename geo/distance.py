"""Distances between CGCS2000 points, measured in a metric projected CRS."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from pyproj import Transformer

from core import constants


@lru_cache(maxsize=8)
def _to_metric(metric_crs: str) -> Transformer:
    return Transformer.from_crs(constants.STORAGE_CRS, metric_crs, always_xy=True)


def distance_m(
    lon1: float, lat1: float, lon2: float, lat2: float, *, metric_crs: str = constants.DEFAULT_METRIC_CRS
) -> float:
    """Distance in metres between two points given in EPSG:4490 degrees.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float
        Longitudes and latitudes in degrees, CGCS2000 geographic (EPSG:4490).
    metric_crs : str
        Projected CRS in metres used for the measurement (default EPSG:4548, CGCS2000
        3-degree Gauss-Kruger CM 117E; pick the zone of the district).

    Returns
    -------
    float
        Euclidean distance in the metric CRS, metres.
    """
    transformer = _to_metric(metric_crs)
    x1, y1 = transformer.transform(lon1, lat1)
    x2, y2 = transformer.transform(lon2, lat2)
    return math.hypot(x2 - x1, y2 - y1)


def to_metric(lon: ArrayLike, lat: ArrayLike, *, metric_crs: str = constants.DEFAULT_METRIC_CRS,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Project EPSG:4490 degrees into ``metric_crs`` (metres), element-wise.

    Parameters
    ----------
    lon, lat : array-like of float
        Longitudes and latitudes in degrees, CGCS2000 geographic (EPSG:4490; WGS84 agrees to
        centimetres).
    metric_crs : str
        Projected CRS in metres.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Eastings and northings in metres.
    """
    x, y = _to_metric(metric_crs).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def step_distances_m(lon: ArrayLike, lat: ArrayLike, *, metric_crs: str = constants.DEFAULT_METRIC_CRS,
                     ) -> np.ndarray:
    """Distances in metres between consecutive points of a track (length n - 1)."""
    x, y = to_metric(lon, lat, metric_crs=metric_crs)
    return np.hypot(np.diff(x), np.diff(y))
