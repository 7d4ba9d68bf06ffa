"""Snapping for the incident join: the nearest grid within a distance of a point outside every
grid (nearest in the metric CRS; ties go to the lowest rank).
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

from core.constants import STORAGE_CRS
from geo.cellindex import CellIndex


def first_per_group(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each ``group`` value when sorted by ``keys`` (ascending)."""
    order = np.lexsort((*reversed(keys), group))
    g = group[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]


class GridSnapper:
    """The nearest grid within ``snap_m`` metres; its indexes are built on first use.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Grid polygons in EPSG:4490.
    rank : numpy.ndarray
        Tie-break rank of each grid (lowest wins).
    metric_crs : str
        Metric CRS in which distances are measured.
    to_metric : pyproj.Transformer
        EPSG:4490 to ``metric_crs`` (``always_xy``).
    """

    def __init__(self, geoms: np.ndarray, rank: np.ndarray, metric_crs: str, to_metric: Transformer) -> None:
        self.geoms = geoms
        self.rank = rank
        self.metric_crs = metric_crs
        self._to_metric = to_metric
        self._segment_tree: shapely.STRtree | None = None
        self._zones: dict[float, CellIndex] = {}

    def nearest(self, x: np.ndarray, y: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Nearest grid within ``snap_m`` metres (metric CRS), else -1, and the distance.

        For a point outside a polygon its distance to the polygon is the distance to its
        boundary, so the nearest grid is the owner of the nearest boundary segment: a tree of
        two-point segments answers that far faster than a tree of detailed polygons.

        Parameters
        ----------
        x, y : numpy.ndarray
            Longitude and latitude, EPSG:4490 degrees.
        snap_m : float
            Largest distance (m).

        Returns
        -------
        (int64 array of grid positions or -1, float array of distances in m or NaN)
        """
        tree = self._segment_tree if self._segment_tree is not None else self._build_segment_tree()
        near = np.full(len(x), -1, dtype=np.int64)
        dist = np.full(len(x), np.nan)
        # cheap prefilter: only points inside some grid buffered by snap_m can snap
        cand = np.flatnonzero(self._zone(snap_m).lookup(x, y) >= 0)
        if not len(cand):
            return near, dist
        mx, my = self._to_metric.transform(x[cand], y[cand])
        pts = shapely.points(mx, my)
        (pi, si), d = tree.query_nearest(pts, max_distance=snap_m, return_distance=True, all_matches=True)
        if len(pi):
            gi = self._segment_owner[si]
            keep = first_per_group(pi, d, self.rank[gi])
            near[cand[pi[keep]]] = gi[keep]
            dist[cand[pi[keep]]] = d[keep]
        return near, dist

    def _build_segment_tree(self) -> shapely.STRtree:
        """Keep the grids in the metric CRS, their boundary segments' owners and a tree of the
        segments (returned)."""
        fwd = self._to_metric
        metric = shapely.transform(self.geoms, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
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
        self._segment_tree = shapely.STRtree(shapely.linestrings(segs))
        return self._segment_tree

    def _zone(self, snap_m: float) -> CellIndex:
        """Cell index over the grids buffered by a bit more than ``snap_m`` (degrees)."""
        key = round(float(snap_m), 3)
        if key not in self._zones:
            grown = shapely.buffer(self._metric_grids, snap_m * 1.05 + 0.5, quad_segs=4)
            back = Transformer.from_crs(self.metric_crs, STORAGE_CRS, always_xy=True)
            grown = shapely.transform(grown, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
            self._zones[key] = CellIndex(grown, max_cells=250_000)
        return self._zones[key]
