"""Geometry preparation at the folium boundary: simplify a coverage, reproject to display CRS."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from core.constants import DEFAULT_METRIC_CRS, DISPLAY_CRS
from core.errors import InputError
from layers.basemaps import NO_BASEMAP, Basemap

#: Default simplification tolerance for boundaries sent to the browser, in metres.
DISPLAY_TOLERANCE_M = 5.0


def display_coverage(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> gpd.GeoDataFrame:
    """A polygon coverage simplified for display and reprojected to EPSG:4326.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons forming a coverage (no gaps, no overlaps), in any CRS (must be set).
    source : str
        Name of the data, for error messages (e.g. ``"hierarchy.gpkg: grids"``).
    metric_crs : str
        Projected CRS (metres) in which the tolerance applies.
    tolerance_m : float
        ``shapely.coverage_simplify`` tolerance in metres; 0 keeps the geometry as is.
    basemap : Basemap
        The result is moved into the basemap's coordinates (GCJ-02 for AMap; else unchanged).

    Returns
    -------
    GeoDataFrame
        Same index and columns, geometry simplified with shared edges kept identical,
        in ``EPSG:4326``.
    """
    if gdf.crs is None:
        raise InputError(source, "has no CRS", "set the CRS when building the hierarchy (geo build)")
    if len(gdf) == 0:
        return gdf.to_crs(DISPLAY_CRS)
    out = gdf.to_crs(metric_crs)
    if tolerance_m > 0:
        geoms = out.geometry.to_numpy()
        bad = ~shapely.is_valid(geoms) | ~(
            (shapely.get_type_id(geoms) == 3) | (shapely.get_type_id(geoms) == 6)
        )
        if bad.any():
            first = out.index[bad.argmax()]
            raise InputError(source, "holds a non-polygon or invalid geometry", "run geo build to repair it",
                             where=f"feature {first}")
        out = out.set_geometry(shapely.coverage_simplify(geoms, tolerance_m), crs=out.crs)
    out = out.to_crs(DISPLAY_CRS)
    if basemap.gcj02:
        out = out.set_geometry(basemap.shift_geometries(out.geometry.to_numpy()), crs=out.crs)
    return out


#: Decimal places of display coordinates (1e-6 degree is about 0.1 m).
DISPLAY_DECIMALS = 6


def feature_collection(gdf: gpd.GeoDataFrame, props: dict[str, list], *,
                       decimals: int = DISPLAY_DECIMALS) -> dict:
    """A GeoJSON FeatureCollection of ``gdf`` holding only the given (already safe) properties.

    Coordinates are rounded to ``decimals`` places; shared vertices round alike, so a coverage
    stays edge-matched.
    """
    import numpy as np

    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    features = []
    for i, geom in enumerate(geoms):
        features.append({
            "type": "Feature",
            "properties": {key: values[i] for key, values in props.items()},
            "geometry": geom.__geo_interface__,
        })
    return {"type": "FeatureCollection", "features": features}


def geometry_key(gdf: gpd.GeoDataFrame, *columns: str) -> tuple:
    """A content key of ``gdf``: CRS, row count, a digest of every coordinate and of ``columns``.

    Equal keys mean equal geometries (and column values), whatever object holds them; costs
    about a millisecond per 100,000 vertices.
    """
    digest = hashlib.blake2b(digest_size=16)
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    digest.update(np.ascontiguousarray(coords, dtype=float).tobytes())
    digest.update(np.asarray(shapely.get_num_coordinates(gdf.geometry.to_numpy()), dtype=np.int64).tobytes())
    for column in columns:
        digest.update("\x1f".join(gdf[column].astype(str)).encode())
    return (str(gdf.crs), len(gdf), columns, digest.hexdigest())


class ContentCache:
    """A small least-recently-used cache of results computed from GeoDataFrames by content.

    Streamlit hands each run a fresh copy of the cached hierarchy and runs it in a new thread
    (where pyproj builds its transformers anew, ~0.1 s each): values derived from the same
    geometries (display bounds, label points) are kept here instead. Results must not be
    mutated by callers.
    """

    def __init__(self, maxsize: int = 16) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._maxsize = maxsize

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The value cached under ``key``, computed by ``compute()`` on a miss."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute()
        self._items[key] = value
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)
        return value
