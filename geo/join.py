"""The fast incident join: every point gets its street, community, grid and building in one pass.

Design (see ``bench/join_bench.py`` for the figures):

- points stay as x/y float arrays (no shapely Points except for the few snapped ones);
- the grid and building layers each get a :class:`~geo.cellindex.CellIndex` (one array lookup
  per point, exact tests only near boundaries);
- street and community come from the grid's parent chain wherever the hierarchy nests
  (checked per feature: the grid lies inside its parent within the sliver tolerance); points
  in grids that do not nest, or in no grid, are tested directly against the upper levels;
- points outside every grid but within ``snap_m`` metres of one are ``snapped`` to the nearest
  grid (nearest in the metric CRS);
- a point on an edge shared by two features belongs to the one with the lowest code
  (then the lowest position in the layer): one deterministic answer.

Statuses: ``ok``, ``snapped``, ``outside``, ``swapped`` (latitude/longitude given the wrong way
round, detected and fixed, then joined), ``missing_coordinates``, ``invalid_coordinates``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import Transformer

from core.constants import (
    JOIN_STATUSES,
    LEVELS,
    SLIVER_TOLERANCE_M2,
    SNAP_DISTANCE_M,
    STORAGE_CRS,
)
from geo.cellindex import CellIndex
from geo.metric import choose_metric_crs
from geo.points import (
    INVALID,
    M_PER_DEG_LAT,
    MISSING,
    OK,
    OUTSIDE,
    SNAPPED,
    SWAPPED,
    clean_points,
    parse_coordinates,
)
from geo.snap import GridSnapper, first_per_group

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd

__all__ = [
    "CODE_COLUMNS",
    "INVALID",
    "JOIN_COLUMNS",
    "MISSING",
    "OK",
    "OUTSIDE",
    "SNAPPED",
    "SWAPPED",
    "HierarchyIndex",
    "parse_coordinates",
    "status_names",
    "take_codes",
]

#: Output columns of :meth:`HierarchyIndex.join`, in order.
JOIN_COLUMNS = ("street_code", "community_code", "grid_code", "building_code", "join_status", "distance_m",
                "lon", "lat")
CODE_COLUMNS = {"streets": "street_code", "communities": "community_code", "grids": "grid_code",
                "buildings": "building_code"}
_M_PER_DEG = 111_320.0


def take_codes(codes: np.ndarray, positions: np.ndarray) -> pa.Array:
    """``codes[positions]`` as an Arrow string array, null where ``positions`` is -1."""
    dictionary = pa.array(list(codes), type=pa.string()) if len(codes) else pa.array([""], type=pa.string())
    positions = np.asarray(positions)
    idx = pa.array(np.where(positions >= 0, positions, 0), mask=positions < 0, type=pa.int64())
    return pc.take(dictionary, idx)


def status_names(status: np.ndarray) -> pa.Array:
    """Join status codes (int8) as an Arrow string array of :data:`JOIN_STATUSES` names."""
    return pc.take(pa.array(list(JOIN_STATUSES), type=pa.string()), pa.array(np.asarray(status, dtype=np.int32)))


class _Level:
    """Arrays of one non-empty level."""

    def __init__(self, name: str, layer: gpd.GeoDataFrame | dict) -> None:
        self.name = name
        if isinstance(layer, dict):  # arrays from geo.gpkg.read_hierarchy_arrays
            self.codes = np.asarray(layer["code"], dtype=object)
            self.parent_codes = np.asarray(layer["parent_code"], dtype=object)
            geoms = layer["geometry"]
        else:
            self.codes = layer["code"].fillna("").astype(str).to_numpy(dtype=object)
            self.parent_codes = layer["parent_code"].fillna("").astype(str).to_numpy(dtype=object)
            geoms = layer.geometry.to_numpy()
        self.geoms = np.asarray(geoms, dtype=object)
        # the deterministic rule: lowest code wins, then the lowest position
        order = np.lexsort((np.arange(len(self.codes)), self.codes.astype(str)))
        self.rank = np.empty(len(order), dtype=np.int64)
        self.rank[order] = np.arange(len(order))
        self._index: CellIndex | None = None
        self.main_parent = np.full(len(self.codes), -1, dtype=np.int64)
        self.nests = np.zeros(len(self.codes), dtype=bool)

    def index(self, max_cells: int) -> CellIndex:
        """The level's cell index, built on first use with its share of ``max_cells``."""
        if self._index is None:
            # buildings are small: finer cells keep most points out of the exact test; streets
            # and communities are mostly answered through the grids' parent chain
            budget = {"buildings": max_cells * 2, "grids": max_cells}.get(self.name, max_cells // 4)
            self._index = CellIndex(self.geoms, rank=self.rank, max_cells=budget)
        return self._index


class HierarchyIndex:
    """Build once, join many times: the in-memory spatial index of a hierarchy.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        ``streets``, ``communities``, ``grids``, ``buildings`` (missing or empty allowed) with
        columns ``code``, ``parent_code``, geometry, in EPSG:4490 (as from :func:`geo.read_hierarchy`).
    metric_crs : str, optional
        Metric CRS for distances (snapping); default: chosen from the data's location.
    tolerance_m2 : float
        Sliver tolerance (m²) used to decide whether a feature nests in its parent.
    max_cells : int
        Cell budget of each level's cell index.
    """

    def __init__(self, layers: dict, *, metric_crs: str | None = None,
                 tolerance_m2: float = SLIVER_TOLERANCE_M2, max_cells: int = 1_000_000) -> None:
        self.levels: dict[str, _Level] = {}
        for name in LEVELS:
            gdf = layers.get(name)
            if isinstance(gdf, dict):
                if len(gdf["code"]):
                    self.levels[name] = _Level(name, gdf)
            elif gdf is not None and len(gdf):
                if gdf.crs is not None and gdf.crs.to_epsg() != 4490:
                    gdf = gdf.to_crs(STORAGE_CRS)
                self.levels[name] = _Level(name, gdf)
        self.max_cells = max_cells
        self.tolerance_m2 = tolerance_m2
        all_geoms = [lv.geoms for lv in self.levels.values()]
        geoms = np.concatenate(all_geoms) if all_geoms else np.zeros(0, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
        if len(geoms):
            b = shapely.bounds(geoms)
            self.extent = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
        else:
            self.extent = (math.nan,) * 4
        cx = (self.extent[0] + self.extent[2]) / 2
        cy = (self.extent[1] + self.extent[3]) / 2
        self.metric_crs = metric_crs or choose_metric_crs(cx, cy, preferred=None)
        self._m_per_deg_x = _M_PER_DEG * max(math.cos(math.radians(cy)), 0.01) if math.isfinite(cy) else _M_PER_DEG
        self._to_metric = Transformer.from_crs(STORAGE_CRS, self.metric_crs, always_xy=True)
        self._snapper: GridSnapper | None = None
        self._link_parents()

    @classmethod
    def from_gpkg(cls, path: str | Path, **kwargs: Any) -> HierarchyIndex:
        """Build from a ``hierarchy.gpkg`` without loading GeoDataFrames (fast start-up).

        Parameters
        ----------
        path : str or Path
            A GeoPackage written by ``python -m geo build``.
        **kwargs
            Passed to :class:`HierarchyIndex`.
        """
        from geo.gpkg import read_hierarchy_arrays

        arrays = read_hierarchy_arrays(path)
        if arrays is None:  # not our plain layout: take the general reader
            from geo.hierarchy_io import read_hierarchy

            return cls(read_hierarchy(path), **kwargs)
        return cls(arrays, **kwargs)

    # -- nesting ---------------------------------------------------------------------------
    def parent_of(self, level: str) -> str | None:
        """Nearest present level above ``level``."""
        idx = LEVELS.index(level)
        for above in reversed(LEVELS[:idx]):
            if above in self.levels:
                return above
        return None

    def _link_parents(self) -> None:
        """Per feature of communities and grids: its main spatial parent and whether it nests."""
        area_scale = self._m_per_deg_x * M_PER_DEG_LAT  # deg² → m², locally
        for name in ("communities", "grids"):
            above = self.parent_of(name)
            if name not in self.levels or above is None:
                continue
            child, parent = self.levels[name], self.levels[above]
            usable = ~(shapely.is_missing(child.geoms) | shapely.is_empty(child.geoms))
            if not usable.any():
                continue
            shapely.prepare(parent.geoms)
            idx = np.flatnonzero(usable)
            pts = shapely.point_on_surface(child.geoms[idx])
            tree = shapely.STRtree(parent.geoms)
            pi_, gi_ = tree.query(pts, predicate="intersects")
            main = np.full(len(idx), -1, dtype=np.int64)
            if len(pi_):
                order = np.lexsort((parent.rank[gi_], pi_))
                pi_, gi_ = pi_[order], gi_[order]
                first = np.ones(len(pi_), dtype=bool)
                first[1:] = pi_[1:] != pi_[:-1]
                main[pi_[first]] = gi_[first]
            has = main >= 0
            covered = np.zeros(len(idx), dtype=bool)
            covered[has] = shapely.covers(parent.geoms[main[has]], child.geoms[idx[has]])
            child.main_parent[idx] = main
            child.nests[idx] = covered
            rest = idx[~covered]
            if not len(rest):
                continue
            ci, pi = tree.query(child.geoms[rest], predicate="intersects")
            if not len(ci):
                continue
            areas = shapely.area(shapely.intersection(child.geoms[rest[ci]], parent.geoms[pi])) * area_scale
            keep = first_per_group(ci, -areas, parent.rank[pi])
            ci, pi, areas = ci[keep], pi[keep], areas[keep]
            child_area = shapely.area(child.geoms[rest[ci]]) * area_scale
            best = rest[ci]
            child.main_parent[best] = pi
            child.nests[best] = (child_area - areas) <= self.tolerance_m2

    # -- joining ---------------------------------------------------------------------------
    def join_arrays(self, lon: Sequence | np.ndarray, lat: Sequence | np.ndarray, *, coords: str = "wgs84",
                    snap_m: float = SNAP_DISTANCE_M) -> dict:
        """The join as arrays (positions into each level, -1 for none).

        Parameters are those of :meth:`join`.

        Returns
        -------
        dict with ``streets``, ``communities``, ``grids``, ``buildings`` (int64 positions),
        ``status`` (int8 index into :data:`core.constants.JOIN_STATUSES`), ``distance_m``,
        ``lon``, ``lat`` (corrected, EPSG:4490).
        """
        points = clean_points(lon, lat, extent=self.extent, snap_m=snap_m, m_per_deg_x=self._m_per_deg_x,
                              coords=coords)
        x, y, valid, status = points.x, points.y, points.valid, points.status
        n = len(x)
        result = {lv: np.full(n, -1, dtype=np.int64) for lv in LEVELS}
        distance = np.full(n, np.nan)
        distance[valid] = 0.0
        snapped, lost = self._join_grids(x, y, valid, snap_m, result, distance)
        self._join_upper_levels(x, y, valid & ~snapped, snapped, result)
        if "buildings" in self.levels:
            bi = np.flatnonzero(valid & ~snapped)
            if len(bi):
                result["buildings"][bi] = self.levels["buildings"].index(self.max_cells).lookup(x[bi], y[bi])
        lost_mask = np.zeros(n, dtype=bool)
        lost_mask[lost] = True
        status[valid & snapped] = SNAPPED
        status[valid & lost_mask & ~snapped] = OUTSIDE
        status[valid & points.swapped] = SWAPPED
        result.update(status=status, distance_m=distance, lon=x, lat=y)
        return result

    def _join_grids(self, x: np.ndarray, y: np.ndarray, valid: np.ndarray, snap_m: float, result: dict,
                    distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fill ``result["grids"]``, snapping valid points outside every grid, and their ``distance``.

        Returns
        -------
        (bool array True where snapped, positions of the valid points in no grid)
        """
        snapped = np.zeros(len(x), dtype=bool)
        grids = self.levels.get("grids")
        if grids is None:
            return snapped, np.flatnonzero(valid)
        g = grids.index(self.max_cells).lookup(x, y)
        result["grids"] = g
        lost = np.flatnonzero(valid & (g < 0))
        if len(lost) and snap_m > 0:
            near, dist = self._snap(x[lost], y[lost], snap_m)
            hit = near >= 0
            g[lost[hit]] = near[hit]
            snapped[lost[hit]] = True
            distance[lost] = np.where(hit, dist, np.nan)
        return snapped, lost

    def _join_upper_levels(self, x: np.ndarray, y: np.ndarray, unsnapped: np.ndarray, snapped: np.ndarray,
                           result: dict) -> None:
        """Fill ``result`` for communities and streets: through the parent chain where the level
        below nests (or was snapped), by a direct lookup of the ``unsnapped`` valid points elsewhere."""
        n = len(x)
        for name in ("communities", "streets"):
            if name not in self.levels:
                continue
            below = next((lv for lv in ("grids", "communities") if lv in self.levels
                          and self.parent_of(lv) == name), None)
            r = np.full(n, -1, dtype=np.int64)
            todo = unsnapped.copy()
            if below is not None:
                child = self.levels[below]
                c = result[below]
                has = c >= 0
                cc = c[has]
                chain = np.zeros(n, dtype=bool)
                chain[has] = child.nests[cc] | snapped[has]
                r[chain] = child.main_parent[c[chain]]
                todo &= ~chain
            ti = np.flatnonzero(todo)
            if len(ti):
                r[ti] = self.levels[name].index(self.max_cells).lookup(x[ti], y[ti])
            result[name] = r

    def _snap(self, x: np.ndarray, y: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Nearest grid within ``snap_m`` metres (metric CRS), else -1, and the distance (m)."""
        if self._snapper is None:
            grids = self.levels["grids"]
            self._snapper = GridSnapper(grids.geoms, grids.rank, self.metric_crs, self._to_metric)
        return self._snapper.nearest(x, y, snap_m)


    def codes(self, level: str, positions: np.ndarray) -> pa.Array:
        """Codes of ``level`` at ``positions`` as an Arrow string array (null where -1)."""
        lv = self.levels.get(level)
        return take_codes(lv.codes if lv is not None else np.zeros(0, dtype=object), positions)

    def join(self, lon: Sequence | np.ndarray | pd.Series, lat: Sequence | np.ndarray | pd.Series, *,
             coords: str = "wgs84", snap_m: float = SNAP_DISTANCE_M) -> pd.DataFrame:
        """Join points onto the hierarchy.

        Parameters
        ----------
        lon, lat : array-like
            Longitude and latitude in degrees (numbers, or text: empty means missing).
        coords : str
            ``wgs84`` (also CGCS2000), ``gcj02`` (AMap, Tencent, WeChat) or ``bd09`` (Baidu).
        snap_m : float
            Points outside every grid but within this many metres of one are ``snapped`` to it.

        Returns
        -------
        DataFrame
            One row per input point, same order, columns ``street_code``, ``community_code``,
            ``grid_code``, ``building_code`` (str, missing when none), ``join_status`` (one of
            ``ok``, ``snapped``, ``outside``, ``swapped``, ``missing_coordinates``,
            ``invalid_coordinates``), ``distance_m`` (m to the grid: 0 inside, the snapping
            distance when snapped, NaN otherwise), ``lon``, ``lat`` (corrected: swapped fixed,
            GCJ-02/BD-09 converted; EPSG:4490 degrees).
        """
        import pandas as pd

        res = self.join_arrays(lon, lat, coords=coords, snap_m=snap_m)
        data = {CODE_COLUMNS[lv]: pd.array(self.codes(lv, res[lv]), dtype="str") for lv in LEVELS}
        data["join_status"] = pd.array(status_names(res["status"]), dtype="str")
        data["distance_m"] = res["distance_m"]
        data["lon"] = res["lon"]
        data["lat"] = res["lat"]
        index = lon.index if isinstance(lon, pd.Series) else None
        return pd.DataFrame(data, index=index)
