"""A uniform cell index over a polygon layer: point-in-polygon for millions of points.

The layer's extent is cut into square cells (about 5-50 m, depending on the extent). A cell that
no polygon boundary crosses lies wholly inside one polygon (or none), so its answer is stored
directly; points there are answered by one array lookup. A cell that a boundary crosses keeps
the list of polygons that may contain its points, and those points are tested exactly with
``shapely.intersects_xy`` on prepared polygons.

Points on a polygon boundary belong to the polygon (``intersects`` semantics), so a point on
an edge shared by two polygons is in both; the one with the lowest rank (by default the lowest
code, see :class:`geo.join.HierarchyIndex`) wins. The answer is deterministic and identical to
testing every polygon in rank order.

Coordinates are EPSG:4490 degrees; cells are sized in metres at the layer's mean latitude.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted unique values (sort-based; faster than hashing for large int64 arrays)."""
    a = np.sort(a)
    keep = np.ones(len(a), dtype=bool)
    keep[1:] = a[1:] != a[:-1]
    return a[keep]


class CellIndex:
    """Point-in-polygon index over one layer.

    Parameters
    ----------
    geoms : numpy array of shapely geometries
        Polygons/MultiPolygons in degrees (EPSG:4490). Empty or missing entries never match.
    rank : numpy array of int, optional
        Priority of each geometry when several contain a point (lowest wins); default position.
    max_cells : int
        Upper bound on the number of cells (memory: 4 bytes per cell plus candidate lists).
    min_cell_m : float
        Smallest cell side in metres.
    """

    def __init__(self, geoms: np.ndarray, *, rank: np.ndarray | None = None, max_cells: int = 1_000_000,
                 min_cell_m: float = 5.0) -> None:
        geoms = np.asarray(geoms, dtype=object)
        self.geoms = geoms
        n = len(geoms)
        self.rank = np.arange(n) if rank is None else np.asarray(rank)
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
        self._usable = np.flatnonzero(usable)
        if not len(self._usable):
            self.nx = self.ny = 0
            return
        shapely.prepare(geoms[self._usable])
        bounds = shapely.bounds(geoms[self._usable])
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        lat = (miny + maxy) / 2
        mx = _M_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), 0.01)
        width_m = max((maxx - minx) * mx, 1.0)
        height_m = max((maxy - miny) * _M_PER_DEG_LAT, 1.0)
        self.cell_m = max(min_cell_m, math.sqrt(width_m * height_m / max_cells))
        self.dx = self.cell_m / mx
        self.dy = self.cell_m / _M_PER_DEG_LAT
        pad_x, pad_y = self.dx * 0.5, self.dy * 0.5
        self.x0, self.y0 = minx - pad_x, miny - pad_y
        self.nx = int(math.ceil((maxx + pad_x - self.x0) / self.dx)) + 1
        self.ny = int(math.ceil((maxy + pad_y - self.y0) / self.dy)) + 1
        self._bounds = bounds
        self._build(bounds)

    # -- construction ------------------------------------------------------------------
    def _cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ix = np.clip(np.floor((x - self.x0) / self.dx).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(np.floor((y - self.y0) / self.dy).astype(np.int64), 0, self.ny - 1)
        return iy * self.nx + ix

    def _build(self, bounds: np.ndarray) -> None:
        ncells = self.nx * self.ny
        nfeat = len(self.geoms)
        # 1. cells crossed by each polygon's boundary: sample the boundary every quarter cell and
        #    take the cells touched by a small box around each sample (conservative, complete)
        step = min(self.dx, self.dy) / 4.0
        half = step / 2.0
        boundaries = shapely.segmentize(shapely.boundary(self.geoms[self._usable]), max_segment_length=step)
        counts = shapely.get_num_coordinates(boundaries)
        coords = shapely.get_coordinates(boundaries)
        feat = np.repeat(self._usable, counts)
        bx, by = coords[:, 0], coords[:, 1]
        parts = []
        for sx in (-half, half):
            for sy in (-half, half):
                k = self._cell_of(bx + sx, by + sy) * (nfeat + 1) + feat
                keep = np.ones(len(k), dtype=bool)
                keep[1:] = k[1:] != k[:-1]  # consecutive samples mostly share a cell
                parts.append(k[keep])
        key = _unique(np.concatenate(parts))
        b_cells, b_feat = key // (nfeat + 1), key % (nfeat + 1)
        boundary = np.zeros(ncells, dtype=bool)
        boundary[b_cells] = True
        # 2. interior cells: no boundary crosses a horizontal run of non-boundary cells, so every
        #    polygon contains either all of the run or none of it; test one centre per run
        col = np.arange(ncells) % self.nx
        prev_b = np.empty(ncells, dtype=bool)
        prev_b[0] = True
        prev_b[1:] = boundary[:-1]
        starts = ~boundary & ((col == 0) | prev_b)
        run_id = np.cumsum(starts) - 1
        run_first = np.flatnonzero(starts)
        owner_of_run = self._owners_at(run_first)
        lut = np.full(ncells, -1, dtype=np.int32)
        inner = ~boundary
        lut[inner] = owner_of_run[run_id[inner]]
        # 3. boundary cells: candidate lists = polygons crossing the cell + polygons holding its centre
        bcells_all = np.flatnonzero(boundary)
        cc, cf = self._all_at(bcells_all)
        pc = np.concatenate([b_cells, cc])
        pf = np.concatenate([b_feat, cf])
        key = _unique(pc * (nfeat + 1) + pf)
        pc, pf = key // (nfeat + 1), key % (nfeat + 1)
        order = np.lexsort((self.rank[pf], pc))
        pc, pf = pc[order], pf[order]
        bcells, first = np.unique(pc, return_index=True)
        self._ptr = np.append(first, len(pc)).astype(np.int64)
        self._cand = pf.astype(np.int32)
        lut[bcells] = -2 - np.arange(len(bcells), dtype=np.int32)
        self._lut = lut
        self.boundary_cells = int(len(bcells))

    def _containing(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``cells``, polygon) pairs for every polygon containing a cell's centre.

        Candidates are the cells inside each polygon's bounding box (a window of the cell
        grid, no Point objects); the exact test is one vectorised ``intersects_xy`` on the
        prepared polygons (fast even for detailed coastlines).
        """
        if not len(cells):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos = np.full(self.nx * self.ny, -1, dtype=np.int64)
        pos[cells] = np.arange(len(cells))
        grid = pos.reshape(self.ny, self.nx)
        b = self._bounds
        ix0 = np.clip(np.floor((b[:, 0] - self.x0) / self.dx - 0.5), 0, self.nx - 1).astype(np.int64)
        ix1 = np.clip(np.ceil((b[:, 2] - self.x0) / self.dx - 0.5), 0, self.nx - 1).astype(np.int64)
        iy0 = np.clip(np.floor((b[:, 1] - self.y0) / self.dy - 0.5), 0, self.ny - 1).astype(np.int64)
        iy1 = np.clip(np.ceil((b[:, 3] - self.y0) / self.dy - 0.5), 0, self.ny - 1).astype(np.int64)
        qs, fs = [], []
        for k in range(len(self._usable)):
            window = grid[iy0[k]:iy1[k] + 1, ix0[k]:ix1[k] + 1]
            q = window[window >= 0]
            if len(q):
                qs.append(q)
                fs.append(np.full(len(q), self._usable[k], dtype=np.int64))
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        q = np.concatenate(qs)
        f = np.concatenate(fs)
        c = cells[q]
        cx = self.x0 + (c % self.nx + 0.5) * self.dx
        cy = self.y0 + (c // self.nx + 0.5) * self.dy
        hit = shapely.intersects_xy(self.geoms[f], cx, cy)
        return q[hit], f[hit]

    def _all_at(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell, polygon) pairs for every polygon containing each cell's centre."""
        if not len(cells):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pi, f = self._containing(cells)
        return cells[pi], f

    def _owners_at(self, cells: np.ndarray) -> np.ndarray:
        """The lowest-ranked polygon containing each cell's centre, or -1."""
        out = np.full(len(cells), -1, dtype=np.int32)
        if not len(cells):
            return out
        pi, f = self._containing(cells)
        if len(pi):
            order = np.lexsort((self.rank[f], pi))
            pi, f = pi[order], f[order]
            first = np.ones(len(pi), dtype=bool)
            first[1:] = pi[1:] != pi[:-1]
            out[pi[first]] = f[first]
        return out

    # -- queries -------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays (bytes)."""
        if not self.nx:
            return 0
        return int(self._lut.nbytes + self._ptr.nbytes + self._cand.nbytes)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position of the polygon containing each point, or -1.

        Parameters
        ----------
        x, y : numpy arrays of float
            Longitude and latitude (EPSG:4490 degrees); NaN never matches.

        Returns
        -------
        numpy array of int64, same length as ``x``.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if not self.nx or not len(x):
            return np.full(len(x), -1, dtype=np.int64)
        fx = x - self.x0
        fx *= 1.0 / self.dx
        fy = y - self.y0
        fy *= 1.0 / self.dy
        inb = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        if not inb.all():
            fx[~inb] = 0.0
            fy[~inb] = 0.0
        cell = fy.astype(np.int64)
        cell *= self.nx
        cell += fx.astype(np.int64)
        v = self._lut[cell]
        if not inb.all():
            v[~inb] = -1
        out = v.astype(np.int64)
        edge = np.flatnonzero(v <= -2)
        if len(edge):
            out[edge] = -1
            k = -(v[edge].astype(np.int64) + 2)
            out[edge] = self._exact(edge, k, x, y)
        return out

    def _exact(self, pts: np.ndarray, k: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        starts = self._ptr[k]
        counts = self._ptr[k + 1] - starts
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(pts)), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self._cand[np.repeat(starts, counts) + offsets]
        p = pts[owner]
        hit = shapely.intersects_xy(self.geoms[cand], x[p], y[p])
        result = np.full(len(pts), -1, dtype=np.int64)
        hits = np.flatnonzero(hit)
        if len(hits):
            # pairs are in (point, rank) order: the first hit of each point wins
            ho = owner[hits]
            firsts = np.ones(len(hits), dtype=bool)
            firsts[1:] = ho[1:] != ho[:-1]
            result[ho[firsts]] = cand[hits[firsts]]
        return result
