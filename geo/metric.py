"""Metric CRS choice and area measurements between two layers.

Areas and distances are only ever measured in a projected metric CRS. The configured default
is CGCS2000 3-degree Gauss-Kruger CM 117E (EPSG:4548); data far from 117E gets the CGCS2000
3-degree zone of its centroid inside China (EPSG:4534-4554), else its WGS84 UTM zone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import ProjError

from core.constants import DEFAULT_METRIC_CRS

if TYPE_CHECKING:
    import pandas as pd

#: CGCS2000 3-degree GK zones without prefix: EPSG:4534 is CM 75E ... EPSG:4554 is CM 135E.
_GK_FIRST_EPSG, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135


def central_meridian(crs: str) -> float | None:
    """The central meridian of a transverse-Mercator CRS, else None."""
    try:
        proj = CRS.from_user_input(crs)
        for p in proj.coordinate_operation.params if proj.coordinate_operation else []:
            if "longitude of natural origin" in p.name.lower() or "central meridian" in p.name.lower():
                return float(p.value)
    except (ProjError, TypeError, ValueError):  # not a CRS, or a parameter that is not a number
        return None
    return None


def choose_metric_crs(lon: float, lat: float, *, preferred: str | None = DEFAULT_METRIC_CRS) -> str:
    """A metric CRS suited to data centred at (lon, lat) in degrees.

    Parameters
    ----------
    lon, lat : float
        Centroid of the data (EPSG:4490/4326 degrees).
    preferred : str, optional
        The configured metric CRS; kept when the data lies within 1.5 degrees of its central
        meridian (a Gauss-Kruger 3-degree zone is 3 degrees wide).

    Returns
    -------
    str
        ``EPSG:NNNN``.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return preferred or DEFAULT_METRIC_CRS
    if preferred:
        cm = central_meridian(preferred)
        if cm is None or abs(lon - cm) <= 1.5:
            return preferred
    if _GK_FIRST_CM - 1.5 <= lon <= _GK_LAST_CM + 1.5 and 0 <= lat <= 56:
        cm = min(max(round(lon / 3) * 3, _GK_FIRST_CM), _GK_LAST_CM)
        return f"EPSG:{_GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3}"
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def overlap_table(children: np.ndarray, parents: np.ndarray) -> pd.DataFrame:
    """Intersection areas between every child and every parent it overlaps.

    Parameters
    ----------
    children, parents : numpy arrays of shapely geometries in the same metric CRS.

    Returns
    -------
    DataFrame with columns ``child``, ``parent`` (positions) and ``area`` (m², > 0).
    """
    import pandas as pd

    if len(children) == 0 or len(parents) == 0:
        return pd.DataFrame({"child": np.zeros(0, int), "parent": np.zeros(0, int), "area": np.zeros(0)})
    tree = shapely.STRtree(parents)
    ci, pi = tree.query(children, predicate="intersects")
    areas = shapely.area(shapely.intersection(children[ci], parents[pi], grid_size=None)) if len(ci) else np.zeros(0)
    frame = pd.DataFrame({"child": ci.astype(int), "parent": pi.astype(int), "area": areas})
    return frame[frame["area"] > 0].reset_index(drop=True)
