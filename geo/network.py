"""Walking network: a road layer as a graph, points snapped to it, shortest network distances.

Pure: GeoDataFrames and arrays in, arrays out. Lines are read in any CRS and encoding (the
readers of ``python -m geo build``), kept in EPSG:4490 and measured in a metric CRS (metres).

The road lines are *noded* (split at every crossing, :func:`shapely.node`), so two roads that
cross meet at a junction, as pedestrians can cross them; an edge of the graph is a noded piece of
line between two junctions or ends, weighted by its length. A point (a building, a facility) is
snapped to the nearest point of the nearest edge and inserted there as a node, so a building and a
facility on the same street are as far apart as along it. Shortest distances come from
:func:`scipy.sparse.csgraph.dijkstra` (one multi-source run per group of sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from core.constants import STORAGE_CRS
from core.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    from scipy.sparse import csr_matrix

_LINEAR = (1, 2, 5)  # LineString, LinearRing, MultiLineString
#: Offsets closer than this to an edge's end snap onto the end node (m).
_END_M = 1e-6


@dataclass
class RoadNetwork:
    """The noded road graph in a metric CRS.

    Attributes
    ----------
    metric_crs : str
        CRS of every coordinate and length (metres).
    lines : numpy.ndarray of shapely.LineString
        One line per edge, from its ``start`` node to its ``end`` node.
    lengths : numpy.ndarray of float
        Edge lengths (m).
    start, end : numpy.ndarray of int
        Node index of each edge's first and last point.
    node_xy : numpy.ndarray, shape (n, 2)
        Node coordinates (m).
    """

    metric_crs: str
    lines: np.ndarray
    lengths: np.ndarray
    start: np.ndarray
    end: np.ndarray
    node_xy: np.ndarray
    tree: shapely.STRtree = field(repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of junctions and ends."""
        return len(self.node_xy)

    @property
    def length_km(self) -> float:
        """Total length of the network (km)."""
        return float(self.lengths.sum()) / 1000

    def components(self) -> np.ndarray:
        """Connected-component label of each node (0 is the component with the most nodes)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n_nodes
        graph = coo_matrix((np.ones(len(self.start)), (self.start, self.end)), shape=(n, n)).tocsr()
        _, labels = connected_components(graph, directed=False)
        order = np.argsort(-np.bincount(labels), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[labels]


def read_roads(path: str | Path, *, crs: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a road layer (lines, any CRS and encoding) as EPSG:4490 lines.

    Parameters
    ----------
    path : str or Path
        ``.shp`` (also zipped), ``.gpkg``, GeoJSON or ESRI JSON holding LineStrings or
        MultiLineStrings.
    crs : str, optional
        CRS of a layer without ``.prj`` (``EPSG:NNNN`` or WKT), or to override it.

    Returns
    -------
    (geopandas.GeoDataFrame, list of str)
        The lines (other attributes kept, Z dropped, empty features left out) in EPSG:4490, and
        notes (encoding used, features left out).

    Raises
    ------
    InputError
        Unreadable file, no CRS, or a feature that is not a line (naming the feature).
    """
    from geo.io import read_layer

    try:
        gdf, notes = read_layer(path, level="roads", crs=crs)
    except InputError as exc:
        raise InputError(exc.source, exc.problem, exc.fix.replace("--crs roads=", "--crs "), where=exc.where) from exc
    geoms = shapely.force_2d(gdf.geometry.to_numpy())
    kinds = shapely.get_type_id(geoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    wrong = np.flatnonzero(present & ~np.isin(kinds, _LINEAR))
    if len(wrong):
        first = int(wrong[0])
        raise InputError(str(path), f"holds a {geoms[first].geom_type} ({len(wrong):,} such feature(s)) where "
                         "road lines are expected",
                         "give the road centre-line layer (LineString features)", where=f"feature {first + 1}")
    if not present.any():
        raise InputError(str(path), "holds no road line", "give the road centre-line layer (LineString features)")
    if (~present).any():
        notes.append(f"roads: {int((~present).sum()):,} empty feature(s) left out")
    gdf = gdf.set_geometry(geoms, crs=gdf.crs).loc[present].to_crs(STORAGE_CRS)
    return gdf.reset_index(drop=True), notes


def build_network(roads: gpd.GeoDataFrame, *, metric_crs: str, node: bool = True) -> RoadNetwork:
    """The road graph of ``roads``.

    Parameters
    ----------
    roads : GeoDataFrame
        Lines in any set CRS (e.g. from :func:`read_roads`).
    metric_crs : str
        Projected CRS in metres for lengths and snapping.
    node : bool
        Split the lines at every crossing (default). False keeps lines as delivered: they meet
        only where they share an end point (for data already split at junctions, with bridges).

    Returns
    -------
    RoadNetwork
    """
    geoms = roads.to_crs(metric_crs).geometry.to_numpy()
    lines = shapely.get_parts(shapely.force_2d(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]))
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]
    lines = shapely.linestrings(shapely.get_coordinates(lines), indices=np.repeat(
        np.arange(len(lines)), shapely.get_num_coordinates(lines))) if len(lines) else lines
    if node and len(lines):
        lines = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
    lines = lines[shapely.length(lines) > 0] if len(lines) else lines
    if not len(lines):
        msg = "no usable road line (every line is empty or of zero length)"
        raise InputError("roads", msg, "give the road centre-line layer (LineString features)")
    first = shapely.get_point(lines, 0)
    last = shapely.get_point(lines, -1)
    ends = np.round(np.vstack([shapely.get_coordinates(first), shapely.get_coordinates(last)]), 3)
    node_xy, inverse = np.unique(ends, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(lines)
    return RoadNetwork(metric_crs=metric_crs, lines=lines, lengths=shapely.length(lines), start=inverse[:n],
                       end=inverse[n:], node_xy=node_xy, tree=shapely.STRtree(lines))


@dataclass
class Snapped:
    """Points snapped onto the network.

    Attributes
    ----------
    edge : numpy.ndarray of int
        The nearest edge of each point.
    offset_m : numpy.ndarray of float
        Where on that edge, in metres from its ``start`` node.
    distance_m : numpy.ndarray of float
        From the point to the road (m).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    distance_m: np.ndarray


def snap(network: RoadNetwork, x: np.ndarray, y: np.ndarray) -> Snapped:
    """Snap points (metric CRS coordinates, metres) to the nearest point of the nearest edge.

    Ties between equally near edges go to the lowest edge index.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if not len(x):
        return Snapped(np.zeros(0, int), np.zeros(0), np.zeros(0))
    points = shapely.points(x, y)
    (pi, ei), dist = network.tree.query_nearest(points, return_distance=True, all_matches=True)
    order = np.lexsort((ei, pi))
    pi, ei, dist = pi[order], ei[order], dist[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    edge = np.zeros(len(x), dtype=np.int64)
    distance = np.zeros(len(x))
    edge[pi[first]] = ei[first]
    distance[pi[first]] = dist[first]
    offset = shapely.line_locate_point(network.lines[edge], points)
    return Snapped(edge, np.clip(offset, 0.0, network.lengths[edge]), distance)


class ShortestPaths:
    """The network with snapped points inserted as nodes, for repeated multi-source searches.

    Parameters
    ----------
    network : RoadNetwork
    points : Snapped
        Every point that is a source or a target of a later search.
    """

    def __init__(self, network: RoadNetwork, points: Snapped) -> None:
        self.network = network
        self.point_node, self.graph, self.interior = _insert(network, points)

    def nearest(self, sources: np.ndarray, *, limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Distance from every node to the nearest of ``sources`` and which one it is.

        Parameters
        ----------
        sources : numpy.ndarray of int
            Positions (in the ``points`` given at construction) of the sources.
        limit : float
            Stop searching beyond this distance (m); farther nodes get ``inf``.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Per node of the augmented graph: the distance in metres (``inf`` when unreachable)
            and the position of the nearest source in ``points`` (-1 when unreachable).
        """
        from scipy.sparse.csgraph import dijkstra

        n = self.graph.shape[0]
        if not len(sources):
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        nodes = self.point_node[np.asarray(sources, dtype=np.int64)]
        unique_nodes, first = np.unique(nodes, return_index=True)  # two sources on one node: the first wins
        dist, _, origin = dijkstra(self.graph, directed=False, indices=unique_nodes, min_only=True,
                                   return_predecessors=True, limit=limit)
        owner = np.full(n, -1, dtype=np.int64)
        back = dict(zip(unique_nodes.tolist(), np.asarray(sources)[first].tolist(), strict=True))
        reached = origin >= 0
        owner[reached] = [back[int(o)] for o in origin[reached]]
        owner[unique_nodes] = [back[int(o)] for o in unique_nodes]
        return np.asarray(dist, dtype=float), owner


def _insert(network: RoadNetwork, points: Snapped) -> tuple[np.ndarray, csr_matrix, np.ndarray]:
    """Insert the snapped points as nodes: ``(node of each point, sparse graph, interior node
    table [edge, offset])``. Points at an edge's end use its end node; points at the same place
    share one node."""
    from scipy.sparse import coo_matrix

    n0 = network.n_nodes
    edge, offset = points.edge, points.offset_m
    length = network.lengths[edge] if len(edge) else np.zeros(0)
    at_start = offset <= _END_M
    at_end = ~at_start & (offset >= length - _END_M)
    node = np.where(at_start, network.start[edge] if len(edge) else 0, network.end[edge] if len(edge) else 0)
    inner = np.flatnonzero(~at_start & ~at_end)
    keys = np.column_stack([edge[inner], np.round(offset[inner], 6)]) if len(inner) else np.zeros((0, 2))
    table, inv = np.unique(keys, axis=0, return_inverse=True)  # sorted by edge, then offset
    inv = inv.reshape(-1)
    node = node.astype(np.int64)
    node[inner] = n0 + inv
    t_edge = table[:, 0].astype(np.int64)
    t_off = table[:, 1]
    same_prev = np.r_[False, t_edge[1:] == t_edge[:-1]]
    same_next = np.r_[t_edge[:-1] == t_edge[1:], False]
    ids = n0 + np.arange(len(table))
    prev_node = np.where(same_prev, np.r_[0, ids[:-1]], network.start[t_edge] if len(t_edge) else 0)
    prev_off = np.where(same_prev, np.r_[0.0, t_off[:-1]], 0.0)
    split = np.zeros(len(network.lengths), dtype=bool)
    split[t_edge] = True
    last = ~same_next
    u = np.concatenate([network.start[~split], prev_node, ids[last]])
    v = np.concatenate([network.end[~split], ids, network.end[t_edge[last]]])
    w = np.concatenate([network.lengths[~split], t_off - prev_off,
                        network.lengths[t_edge[last]] - t_off[last]])
    keep = u != v
    u, v, w = u[keep], v[keep], np.maximum(w[keep], 1e-9)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, hi, lo))  # parallel edges: the shortest one is kept
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    n = n0 + len(table)
    graph = coo_matrix((w[first], (lo[first], hi[first])), shape=(n, n)).tocsr()
    return node, graph, table
