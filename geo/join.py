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
from geo.coords import to_wgs84
from geo.metric import choose_metric_crs

#: Output columns of :meth:`HierarchyIndex.join`, in order.
JOIN_COLUMNS = ("street_code", "community_code", "grid_code", "building_code", "join_status", "distance_m",
                "lon", "lat")
CODE_COLUMNS = {"streets": "street_code", "communities": "community_code", "grids": "grid_code",
                "buildings": "building_code"}
_S = {name: i for i, name in enumerate(JOIN_STATUSES)}
OK, SNAPPED, OUTSIDE, SWAPPED, MISSING, INVALID = (_S[k] for k in JOIN_STATUSES)
_M_PER_DEG = 111_320.0


def _first_per_group(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each ``group`` value when sorted by ``keys`` (ascending)."""
    order = np.lexsort((*reversed(keys), group))
    g = group[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]


def take_codes(codes: np.ndarray, positions: np.ndarray) -> pa.Array:
    """``codes[positions]`` as an Arrow string array, null where ``positions`` is -1."""
    dictionary = pa.array(list(codes), type=pa.string()) if len(codes) else pa.array([""], type=pa.string())
    positions = np.asarray(positions)
    idx = pa.array(np.where(positions >= 0, positions, 0), mask=positions < 0, type=pa.int64())
    return pc.take(dictionary, idx)


def status_names(status: np.ndarray) -> pa.Array:
    """Join status codes (int8) as an Arrow string array of :data:`JOIN_STATUSES` names."""
    return pc.take(pa.array(list(JOIN_STATUSES), type=pa.string()), pa.array(np.asarray(status, dtype=np.int32)))


def parse_coordinates(values) -> tuple[np.ndarray, np.ndarray]:
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


class _Level:
    """Arrays of one non-empty level."""

    def __init__(self, name: str, layer) -> None:
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
        self._grid_tree = None
        self._link_parents()

    @classmethod
    def from_gpkg(cls, path, **kwargs) -> HierarchyIndex:
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
            from geo.hierarchy import read_hierarchy

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
        area_scale = self._m_per_deg_x * 110_574.0  # deg² → m², locally
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
            keep = _first_per_group(ci, -areas, parent.rank[pi])
            ci, pi, areas = ci[keep], pi[keep], areas[keep]
            child_area = shapely.area(child.geoms[rest[ci]]) * area_scale
            best = rest[ci]
            child.main_parent[best] = pi
            child.nests[best] = (child_area - areas) <= self.tolerance_m2

    # -- joining ---------------------------------------------------------------------------
    def join_arrays(self, lon, lat, *, coords: str = "wgs84", snap_m: float = SNAP_DISTANCE_M) -> dict:
        """The join as arrays (positions into each level, -1 for none).

        Returns
        -------
        dict with ``streets``, ``communities``, ``grids``, ``buildings`` (int64 positions),
        ``status`` (int8 index into :data:`core.constants.JOIN_STATUSES`), ``distance_m``,
        ``lon``, ``lat`` (corrected, EPSG:4490).
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
        ex0, ey0, ex1, ey1 = self.extent
        mx = margin / self._m_per_deg_x
        my = margin / 110_574.0

        def inside(a, b):
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
        result = {lv: np.full(n, -1, dtype=np.int64) for lv in LEVELS}
        distance = np.full(n, np.nan)
        distance[valid] = 0.0
        grids = self.levels.get("grids")
        snapped = np.zeros(n, dtype=bool)
        if grids is not None:
            g = grids.index(self.max_cells).lookup(x, y)
            result["grids"] = g
            lost = np.flatnonzero(valid & (g < 0))
            if len(lost) and snap_m > 0:
                near, dist = self._snap(x[lost], y[lost], snap_m)
                hit = near >= 0
                g[lost[hit]] = near[hit]
                snapped[lost[hit]] = True
                distance[lost] = np.where(hit, dist, np.nan)
        else:
            lost = np.flatnonzero(valid)
        # upper levels: chain where the hierarchy nests, direct test elsewhere
        for name in ("communities", "streets"):
            if name not in self.levels:
                continue
            below = next((lv for lv in ("grids", "communities") if lv in self.levels
                          and self.parent_of(lv) == name), None)
            r = np.full(n, -1, dtype=np.int64)
            todo = valid & ~snapped
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
        if "buildings" in self.levels:
            bi = np.flatnonzero(valid & ~snapped)
            if len(bi):
                result["buildings"][bi] = self.levels["buildings"].index(self.max_cells).lookup(x[bi], y[bi])
        lost_mask = np.zeros(n, dtype=bool)
        lost_mask[lost] = True
        status[valid & snapped] = SNAPPED
        status[valid & lost_mask & ~snapped] = OUTSIDE
        status[valid & swapped] = SWAPPED
        result.update(status=status, distance_m=distance, lon=x, lat=y)
        return result

    def _snap(self, x: np.ndarray, y: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Nearest grid within ``snap_m`` metres (metric CRS), else -1.

        For a point outside a polygon its distance to the polygon is the distance to its
        boundary, so the nearest grid is the owner of the nearest boundary segment: a tree of
        two-point segments answers that far faster than a tree of detailed polygons.
        """
        grids = self.levels["grids"]
        if self._grid_tree is None:
            self._build_segment_tree(grids)
        near = np.full(len(x), -1, dtype=np.int64)
        dist = np.full(len(x), np.nan)
        # cheap prefilter: only points inside some grid buffered by snap_m can snap
        cand = np.flatnonzero(self._snap_zone(snap_m).lookup(x, y) >= 0)
        if not len(cand):
            return near, dist
        mx, my = self._to_metric.transform(x[cand], y[cand])
        pts = shapely.points(mx, my)
        (pi, si), d = self._grid_tree.query_nearest(pts, max_distance=snap_m, return_distance=True, all_matches=True)
        if len(pi):
            gi = self._segment_owner[si]
            keep = _first_per_group(pi, d, grids.rank[gi])
            near[cand[pi[keep]]] = gi[keep]
            dist[cand[pi[keep]]] = d[keep]
        return near, dist

    def _build_segment_tree(self, grids: _Level) -> None:
        fwd = self._to_metric
        metric = shapely.transform(grids.geoms, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
        self._metric_grids = metric
        lines, owner = shapely.get_parts(shapely.boundary(metric), return_index=True)
        counts = shapely.get_num_coordinates(lines)
        coords = shapely.get_coordinates(lines)
        ends = np.cumsum(counts)
        start_ok = np.ones(len(coords), dtype=bool)
        start_ok[ends - 1] = False  # the last vertex of a line starts no segment
        first = np.flatnonzero(start_ok)
        segs = np.stack([coords[first], coords[first + 1]], axis=1)
        line_of_vertex = np.repeat(np.arange(len(lines)), counts)
        self._segment_owner = owner[line_of_vertex[first]]
        self._grid_tree = shapely.STRtree(shapely.linestrings(segs))

    def _snap_zone(self, snap_m: float) -> CellIndex:
        """Cell index over the grids buffered by a bit more than ``snap_m`` (degrees)."""
        key = round(float(snap_m), 3)
        zones = self.__dict__.setdefault("_zones", {})
        if key not in zones:
            grown = shapely.buffer(self._metric_grids, snap_m * 1.05 + 0.5, quad_segs=4)
            back = Transformer.from_crs(self.metric_crs, STORAGE_CRS, always_xy=True)
            grown = shapely.transform(grown, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
            zones[key] = CellIndex(grown, max_cells=250_000)
        return zones[key]

    def codes(self, level: str, positions: np.ndarray) -> pa.Array:
        """Codes of ``level`` at ``positions`` as an Arrow string array (null where -1)."""
        lv = self.levels.get(level)
        return take_codes(lv.codes if lv is not None else np.zeros(0, dtype=object), positions)

    def join(self, lon, lat, *, coords: str = "wgs84", snap_m: float = SNAP_DISTANCE_M) -> pd.DataFrame:
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
