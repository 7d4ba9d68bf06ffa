"""What the service circle leaves out: isochrone polygons, and the gaps ranked by where one new
service point would cover the most households (helpers of :mod:`geo.service_circle`).

Pure; metric CRS of the network for every length (metres), results in EPSG:4490.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from core.constants import STORAGE_CRS
from geo.service_circle import _EPS, ServiceCircle

if TYPE_CHECKING:
    import geopandas as gpd
    from scipy.sparse import csr_matrix

#: Walk-shed half-width around reachable streets drawn as an isochrone (m), and vertex spacing.
ISOCHRONE_BUFFER_M = 60.0
_STEP_M = 25.0
#: Most candidate rows of one batched bounded search (rows x nodes floats in memory).
_BATCH_CELLS = 4_000_000


def _edge_distance(result: ServiceCircle, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of the segmentized network (``xy``), their edge and their distance (m) to the
    nearest facility of ``kind``, interpolated along each edge from both ends and from the
    facilities on it."""
    net = result.network
    dist = result.node_distance[kind]
    lines = shapely.segmentize(net.lines, _STEP_M)
    coords, edge = shapely.get_coordinates(lines, return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, edge[1:] != edge[:-1]]
    step[first] = 0.0
    along = np.cumsum(step)
    along -= np.maximum.accumulate(np.where(first, along, 0.0))  # restart at each edge's first vertex
    length = net.lengths[edge]
    d = np.minimum(dist[net.start[edge]] + along, dist[net.end[edge]] + (length - along))
    paths = result.paths
    nf = len(result.facilities)
    mine = np.flatnonzero(result.facilities["type"].astype(str).to_numpy() == kind)
    for i in mine[mine < nf]:
        node = paths.point_node[i]
        if node >= net.n_nodes:  # a facility inside an edge: distance along that edge
            e, off = paths.interior[node - net.n_nodes]
            on = edge == int(e)
            d[on] = np.minimum(d[on], np.abs(along[on] - off))
    return coords, edge, d


def isochrones(result: ServiceCircle, kind: str, *, buffer_m: float = ISOCHRONE_BUFFER_M,
               simplify_m: float = 5.0) -> gpd.GeoDataFrame:
    """Walking-time isochrones of facility type ``kind``: for each band, the streets reachable
    within it, widened by ``buffer_m`` metres.

    Parameters
    ----------
    result : ServiceCircle
    kind : str
        A facility type of ``result.types``.
    buffer_m : float
        Half-width of the walk-shed around reachable street pieces (m).
    simplify_m : float
        Simplification tolerance of the polygons (m).

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_type``, ``minutes`` (one row per band, largest first) and a polygon in
        EPSG:4490 (empty when nothing is reachable).
    """
    import geopandas as gpd

    if kind not in result.node_distance:
        raise KeyError(f"no facility type {kind!r}; types: {', '.join(result.types)}")
    coords, edge, d = _edge_distance(result, kind)
    same = edge[1:] == edge[:-1]
    a, b = np.flatnonzero(same), np.flatnonzero(same) + 1
    polys = []
    for m in sorted(result.minutes, reverse=True):
        limit = m * 60.0 * result.speed * (1 + _EPS)
        da, db = d[a], d[b]
        keep = (da <= limit) | (db <= limit)
        pa, pb = coords[a[keep]].copy(), coords[b[keep]].copy()
        ka, kb = da[keep], db[keep]
        cut_b = kb > limit  # reachable from a only: stop where the limit is reached
        frac = np.clip((limit - ka[cut_b]) / np.maximum(kb[cut_b] - ka[cut_b], 1e-9), 0, 1)
        pb[cut_b] = pa[cut_b] + (pb[cut_b] - pa[cut_b]) * frac[:, None]
        cut_a = ka > limit
        frac = np.clip((limit - kb[cut_a]) / np.maximum(ka[cut_a] - kb[cut_a], 1e-9), 0, 1)
        pa[cut_a] = pb[cut_a] + (pa[cut_a] - pb[cut_a]) * frac[:, None]
        if len(pa):
            segs = shapely.linestrings(np.stack([pa, pb], axis=1))
            merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(segs)))
            if simplify_m > 0:
                merged = shapely.simplify(merged, simplify_m)
            # buffering each merged line and a cascaded union is ~20x faster than one buffer of all
            poly = shapely.union_all(shapely.buffer(merged, buffer_m, quad_segs=2))
        else:
            poly = shapely.Polygon()
        polys.append(poly)
    frame = gpd.GeoDataFrame({"facility_type": kind, "minutes": sorted(result.minutes, reverse=True)},
                             geometry=gpd.GeoSeries(polys, crs=result.network.metric_crs))
    return frame.to_crs(STORAGE_CRS)


def _coverage(result: ServiceCircle, cand_nodes: np.ndarray, targets: np.ndarray, limit: float) -> csr_matrix:
    """Sparse boolean matrix: candidate ``i`` reaches target node ``j`` within ``limit`` metres."""
    from scipy.sparse import csr_matrix, vstack
    from scipy.sparse.csgraph import dijkstra

    graph = result.paths.graph
    batch = max(1, _BATCH_CELLS // max(graph.shape[0], 1))
    blocks = []
    for start in range(0, len(cand_nodes), batch):
        dist = dijkstra(graph, directed=False, indices=cand_nodes[start:start + batch], limit=limit)
        dist = np.atleast_2d(dist)[:, targets]
        blocks.append(csr_matrix(dist <= limit))
    return vstack(blocks).tocsr() if blocks else csr_matrix((0, len(targets)), dtype=bool)


def rank_gaps(result: ServiceCircle, kind: str, *, top: int = 10, minutes: float | None = None) -> pd.DataFrame:
    """Where a new facility of type ``kind`` would cover the most households left outside.

    Candidate sites are the buildings outside ``minutes`` (default the largest band) of every
    facility of the type; each is scored by the households (buildings when households are not
    known) outside whose road point lies within ``minutes`` walk of its own; sites are picked
    greedily, each counting only what the sites before it left uncovered (ties: the site reaching
    more buildings, then the lower building code).

    Parameters
    ----------
    result : ServiceCircle
    kind : str
        A facility type of ``result.types``.
    top : int
        Most sites returned.
    minutes : float, optional
        The band to close the gaps of (default the largest).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``facility_type``, ``building_code`` (the site), ``grid_code``,
        ``community_code``, ``lon``, ``lat`` (EPSG:4490), ``households`` and ``buildings`` newly
        covered, ``households_left`` (still outside after this site) and ``share_covered``
        (cumulative share of the gap closed).
    """
    minutes = float(minutes if minutes is not None else max(result.minutes))
    rows = result.rows.loc[result.rows["facility_type"] == kind].reset_index(drop=True)
    outside = np.flatnonzero(~(rows["walk_min"].astype(float) <= minutes * (1 + _EPS)).to_numpy())
    columns = ["rank", "facility_type", "building_code", "grid_code", "community_code", "lon", "lat",
               "households", "buildings", "households_left", "share_covered"]
    if not len(outside) or top <= 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    nf = len(result.facilities)
    nodes = result.paths.point_node[nf:][outside]
    weight = (rows["households"].astype(float).to_numpy()[outside] if result.households_known
              else np.ones(len(outside)))
    cand_nodes, cand_first = np.unique(nodes, return_index=True)
    code_rank = np.argsort(np.argsort(rows["building_code"].to_numpy().astype(str)[outside[cand_first]]))
    cover = _coverage(result, cand_nodes, nodes, minutes * 60.0 * result.speed * (1 + _EPS))
    left = weight.copy()
    still = np.ones(len(outside), dtype=bool)
    total = float(weight.sum())
    out = []
    for rank in range(1, top + 1):
        score = cover @ left
        if not len(score) or score.max() <= 0:
            break
        reach = cover @ still.astype(float)
        best = int(np.lexsort((code_rank, -reach, -score))[0])  # ties: more buildings, then the lower code
        hit = cover[best].indices
        site = outside[cand_first[best]]
        out.append(_site_row(result, rows, rank, kind, site, float(left[hit].sum()), int(still[hit].sum())))
        left[hit] = 0.0
        still[hit] = False
        out[-1]["households_left"] = float(left.sum())
        out[-1]["share_covered"] = round(1 - float(left.sum()) / total, 4) if total else 0.0
    frame = pd.DataFrame(out, columns=columns)
    if result.households_known:
        frame["households"] = frame["households"].astype(int)
        frame["households_left"] = frame["households_left"].astype(int)
    return frame


def _site_row(result: ServiceCircle, rows: pd.DataFrame, rank: int, kind: str, site: int, households: float,
              buildings: int) -> dict:
    from pyproj import Transformer

    back = Transformer.from_crs(result.network.metric_crs, STORAGE_CRS, always_xy=True)
    lon, lat = back.transform(*result.building_xy[site])
    return {"rank": rank, "facility_type": kind, "building_code": rows["building_code"].iloc[site],
            "grid_code": rows["grid_code"].iloc[site], "community_code": rows["community_code"].iloc[site],
            "lon": round(float(lon), 7), "lat": round(float(lat), 7), "households": households,
            "buildings": buildings}
