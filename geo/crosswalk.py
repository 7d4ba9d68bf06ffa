"""Crosswalk (对照表) of the base grids and a thematic grid: how much of each overlaps, by area and by
buildings; which thematic cells cut through base grids; which base area no thematic cell covers.

Pure: GeoDataFrames in, frames out. Every area is measured in a metric CRS (m²).

*Straddling.* 多网合一 asks thematic cells to be built from whole base grids, so that every base
grid belongs to one thematic cell. A pair straddles when the thematic cell covers a part of the base
grid that is neither negligible nor (almost) all of it: ``tolerance < share_of_grid < 1 - tolerance``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from core.constants import SLIVER_TOLERANCE_M2

if TYPE_CHECKING:
    import geopandas as gpd

#: Default straddle tolerance: share of a base grid's area (5 %).
STRADDLE_TOLERANCE = 0.05
#: Columns of :func:`crosswalk`, in order.
CROSSWALK_COLUMNS: tuple[str, ...] = (
    "grid_code", "grid_name", "community_code", "theme", "theme_code", "theme_name", "owner", "area_m2",
    "share_of_grid", "share_of_theme", "buildings", "share_of_grid_buildings", "share_of_theme_buildings",
    "straddles")


def _metric(gdf: gpd.GeoDataFrame, metric_crs: str) -> np.ndarray:
    geoms = gdf.to_crs(metric_crs).geometry.to_numpy()
    return np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)


def _first_container(points: np.ndarray, polygons: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Position of the polygon holding each point (the lowest code on a shared edge), -1 outside."""
    out = np.full(len(points), -1, dtype=np.int64)
    if not len(points) or not len(polygons):
        return out
    pi, gi = shapely.STRtree(polygons).query(points, predicate="intersects")
    order = np.lexsort((codes[gi], pi))
    pi, gi = pi[order], gi[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    out[pi[first]] = gi[first]
    return out


def crosswalk(grids: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, metric_crs: str,
              buildings: gpd.GeoDataFrame | None = None, min_area_m2: float = SLIVER_TOLERANCE_M2,
              tolerance: float = STRADDLE_TOLERANCE) -> pd.DataFrame:
    """One row per overlapping (base grid, thematic cell) pair.

    Parameters
    ----------
    grids : GeoDataFrame
        Base grids: ``code``, ``name``, ``parent_code`` (community) and polygons, any set CRS.
    cells : GeoDataFrame
        Thematic cells: ``theme``, ``code``, ``name``, ``owner`` and polygons (:func:`geo.themes.read_themes`).
    metric_crs : str
        Projected CRS (metres) of every area.
    buildings : GeoDataFrame, optional
        Buildings (any geometry); each counts where its representative point lies.
    min_area_m2 : float
        Overlaps up to this area (m², digitising slivers) are not pairs.
    tolerance : float
        Straddle tolerance, a share of the base grid's area (see the module text).

    Returns
    -------
    pandas.DataFrame
        :data:`CROSSWALK_COLUMNS`: ``area_m2`` of the overlap, ``share_of_grid`` = area / grid area,
        ``share_of_theme`` = area / cell area, ``buildings`` in the overlap and their shares of the
        grid's and the cell's buildings (0 when there are none), ``straddles`` (bool); sorted by
        theme, grid code and thematic code.
    """
    g = _metric(grids, metric_crs)
    c = _metric(cells, metric_crs)
    if not len(g) or not len(c):
        return pd.DataFrame({col: pd.Series(dtype=object) for col in CROSSWALK_COLUMNS})
    gi, ci = shapely.STRtree(c).query(g, predicate="intersects")
    area = shapely.area(shapely.intersection(g[gi], c[ci])) if len(gi) else np.zeros(0)
    keep = area > min_area_m2
    gi, ci, area = gi[keep], ci[keep], area[keep]
    g_area, c_area = shapely.area(g), shapely.area(c)
    gcodes = grids["code"].astype(str).to_numpy()
    ccodes = cells["code"].astype(str).to_numpy()
    share_grid = area / np.where(g_area[gi] > 0, g_area[gi], 1.0)
    frame = pd.DataFrame({
        "grid_code": gcodes[gi], "grid_name": grids["name"].astype(str).to_numpy()[gi],
        "community_code": (grids["parent_code"].astype(str).to_numpy()[gi] if "parent_code" in grids
                           else [""] * len(gi)),
        "theme": cells["theme"].astype(str).to_numpy()[ci], "theme_code": ccodes[ci],
        "theme_name": cells["name"].astype(str).to_numpy()[ci], "owner": cells["owner"].astype(str).to_numpy()[ci],
        "area_m2": np.round(area, 2), "share_of_grid": np.round(share_grid, 6),
        "share_of_theme": np.round(area / np.where(c_area[ci] > 0, c_area[ci], 1.0), 6),
    })
    pair_b, grid_b, cell_b = _building_counts(buildings, metric_crs, g, c, gcodes, ccodes, gi, ci)
    frame["buildings"] = pair_b
    frame["share_of_grid_buildings"] = np.round(np.where(grid_b > 0, pair_b / np.maximum(grid_b, 1), 0.0), 6)
    frame["share_of_theme_buildings"] = np.round(np.where(cell_b > 0, pair_b / np.maximum(cell_b, 1), 0.0), 6)
    frame["straddles"] = (share_grid > tolerance) & (share_grid < 1 - tolerance)
    return frame.sort_values(["theme", "grid_code", "theme_code"], kind="stable").reset_index(drop=True)


def _building_counts(buildings: gpd.GeoDataFrame | None, metric_crs: str, g: np.ndarray, c: np.ndarray,
                     gcodes: np.ndarray, ccodes: np.ndarray, gi: np.ndarray,
                     ci: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buildings per pair, and the totals of each pair's grid and cell (representative points)."""
    zeros = np.zeros(len(gi), dtype=np.int64)
    if buildings is None or not len(buildings):
        return zeros, zeros, zeros
    geoms = buildings.to_crs(metric_crs).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    points = shapely.point_on_surface(geoms)
    in_grid = _first_container(points, g, gcodes)
    in_cell = _first_container(points, c, ccodes)
    grid_total = np.bincount(in_grid[in_grid >= 0], minlength=len(g))
    cell_total = np.bincount(in_cell[in_cell >= 0], minlength=len(c))
    both = (in_grid >= 0) & (in_cell >= 0)
    pairs = pd.Series(1, index=pd.MultiIndex.from_arrays([in_grid[both], in_cell[both]])).groupby(level=[0, 1]).sum()
    lookup = pairs.to_dict()
    counts = np.array([lookup.get((int(a), int(b)), 0) for a, b in zip(gi, ci, strict=True)], dtype=np.int64)
    return counts, grid_total[gi], cell_total[ci]


def straddling_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Thematic cells that cut through base grids: ``theme``, ``theme_code``, ``owner``, ``grids``
    (how many base grids it cuts), ``grid_codes`` (space-separated) and ``area_m2`` (of its
    overlaps with those grids), most grids first."""
    cut = table.loc[table["straddles"].astype(bool)]
    columns = ["theme", "theme_code", "owner", "grids", "grid_codes", "area_m2"]
    if not len(cut):
        return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})
    out = (cut.groupby(["theme", "theme_code", "owner"], sort=True)
           .agg(grids=("grid_code", "size"), grid_codes=("grid_code", " ".join), area_m2=("area_m2", "sum"))
           .reset_index())
    out["area_m2"] = out["area_m2"].round(2)
    return out.sort_values(["grids", "theme_code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def uncovered(grids: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, metric_crs: str,
              min_area_m2: float = SLIVER_TOLERANCE_M2) -> pd.DataFrame:
    """Base area no thematic cell covers, per base grid.

    Parameters
    ----------
    grids, cells : GeoDataFrame
        As in :func:`crosswalk` (pass the cells of one theme).
    metric_crs : str
        Projected CRS (metres).
    min_area_m2 : float
        Grids with at most this much uncovered area (m²) are left out.

    Returns
    -------
    pandas.DataFrame
        ``grid_code``, ``grid_name``, ``community_code``, ``grid_area_m2``, ``uncovered_m2`` and
        ``uncovered_share``, the largest uncovered area first.
    """
    g = _metric(grids, metric_crs)
    c = _metric(cells, metric_crs)
    covered = np.zeros(len(g))
    if len(g) and len(c):
        gi, ci = shapely.STRtree(c).query(g, predicate="intersects")
        for k in np.unique(gi):
            covered[k] = shapely.area(shapely.intersection(g[k], shapely.union_all(c[ci[gi == k]])))
    g_area = shapely.area(g) if len(g) else np.zeros(0)
    left = np.maximum(g_area - covered, 0.0)
    frame = pd.DataFrame({
        "grid_code": grids["code"].astype(str).to_numpy(), "grid_name": grids["name"].astype(str).to_numpy(),
        "community_code": grids["parent_code"].astype(str).to_numpy() if "parent_code" in grids else "",
        "grid_area_m2": np.round(g_area, 2), "uncovered_m2": np.round(left, 2),
        "uncovered_share": np.round(left / np.where(g_area > 0, g_area, 1.0), 6),
    })
    frame = frame.loc[frame["uncovered_m2"] > min_area_m2]
    return frame.sort_values(["uncovered_m2", "grid_code"], ascending=[False, True], kind="stable").reset_index(
        drop=True)
