"""The demo's thematic grid (多网合一): 安全生产网格, safety-production cells drawn by another
department on its own boundaries, delivered as another department would: EPSG:4490 degrees, GBK
attributes with Chinese field names.

The cells are Voronoi cells around seed points, clipped to the street outline generalised by 30 m,
so they follow neither the base grids nor exactly the street's edge: some cut through base grids
and a thin strip along the edge is covered by no cell, as in real deliveries.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from _demo_fakes import person_name
from shapely.geometry import MultiPoint, Polygon

from core.constants import DEMO_CRS, STORAGE_CRS

#: Responsible departments of the cells (they are in cases/routing.toml's departments list).
THEME_OWNERS: tuple[str, ...] = ("应急管理", "住建", "市场监管")
#: How many cells, and the generalisation of the outline they are clipped to (m).
CELLS = 16
OUTLINE_TOLERANCE_M = 30.0


def safety_cells(rng: np.random.Generator, street: Polygon, *, count: int = CELLS) -> gpd.GeoDataFrame:
    """Safety-production cells over ``street`` (metres, EPSG:4548).

    Returns
    -------
    geopandas.GeoDataFrame
        ``网格编号`` (``AQ01`` ...), ``名称``, ``责任部门`` (one of :data:`THEME_OWNERS`), ``安全员``
        (a fictional person) and polygons in EPSG:4490, coordinates rounded to 1e-7 degree, numbered
        north-west first.
    """
    minx, miny, maxx, maxy = street.bounds
    seeds: list[tuple[float, float]] = []
    while len(seeds) < count:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if street.contains(shapely.Point(x, y)):
            seeds.append((x, y))
    outline = street.simplify(OUTLINE_TOLERANCE_M)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=street.buffer(500)))
    clipped = [shapely.intersection(c, outline) for c in cells]
    clipped = [c for c in clipped if c.area > 0]
    points = np.array([[c.centroid.x, c.centroid.y] for c in clipped])
    rows = np.floor((points[:, 1].max() - points[:, 1]) / 1500.0)
    order = np.lexsort((points[:, 0], rows))
    owners = rng.choice(len(THEME_OWNERS), size=len(order), p=[0.5, 0.25, 0.25])
    people = [person_name(rng) for _ in order]
    frame = gpd.GeoDataFrame(
        {"网格编号": [f"AQ{k:02d}" for k in range(1, len(order) + 1)],
         "名称": [f"安全生产第{k}网格" for k in range(1, len(order) + 1)],
         "责任部门": [THEME_OWNERS[i] for i in owners], "安全员": people},
        geometry=[clipped[i] for i in order], crs=DEMO_CRS).to_crs(STORAGE_CRS)
    rounded = shapely.set_precision(frame.geometry.to_numpy(), 1e-7)
    return frame.set_geometry(rounded, crs=STORAGE_CRS)
