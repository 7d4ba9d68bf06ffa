"""The planar partition of the demo street: faces polygonized from the noded road lines, their
adjacency, and coverage unions of whole faces."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Faces:
    """The planar partition: faces with their areas, centroids and edge adjacency.

    ``neighbours[i]`` maps a neighbouring face index to the length of the shared edge (m).
    """

    polygons: list[Polygon]
    areas: np.ndarray
    centroids: np.ndarray
    neighbours: list[dict[int, float]]
    urban: np.ndarray
    #: ``steps[i][j]``: distance between the centroids of neighbouring faces ``i`` and ``j`` (m)
    steps: list[dict[int, float]]


def faces_of(
    street: Polygon, lines: list[BaseGeometry], urban: Polygon, *, min_area: float = 3000.0
) -> Faces:
    """Node ``lines`` with the street boundary and polygonize the street into faces.

    Faces smaller than ``min_area`` (m², slivers where two roads nearly meet) are merged into
    the neighbour with which they share the longest edge.
    """
    noded = shapely.union_all([street.exterior, *lines])
    polys = [p for p in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))]
    # keep faces inside the street (dangles outside have no area anyway)
    reps = shapely.point_on_surface(polys)
    keep = shapely.contains(street, reps)
    polys = [p for p, k in zip(polys, keep, strict=True) if k]
    polys = _merge_small(polys, min_area)
    areas = shapely.area(polys)
    cents = shapely.get_coordinates(shapely.point_on_surface(polys))
    true_c = shapely.get_coordinates(shapely.centroid(polys))
    # use the true centroid where it lies inside the face, else a point on the surface
    inside = shapely.contains_xy(polys, true_c[:, 0], true_c[:, 1])
    cents = np.where(inside[:, None], true_c, cents)
    urban_flag = shapely.contains_xy(urban, cents[:, 0], cents[:, 1])
    neighbours = _adjacency(polys)
    steps = [{j: math.dist(cents[i], cents[j]) for j in nb} for i, nb in enumerate(neighbours)]
    return Faces(polys, np.asarray(areas), cents, neighbours, np.asarray(urban_flag), steps)


def _merge_small(polys: list[Polygon], min_area: float) -> list[Polygon]:
    """Merge faces below ``min_area`` into their longest-edge neighbour (union-find)."""
    neighbours = _adjacency(polys)
    areas = np.asarray(shapely.area(polys), dtype=float)
    parent = list(range(len(polys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    group_area = areas.copy()
    for i in np.argsort(areas, kind="stable"):
        i = int(i)
        r = root(i)
        if group_area[r] >= min_area or not neighbours[i]:
            continue
        # longest shared edge with a face of another group
        best = max(sorted(neighbours[i]), key=lambda j: (root(j) != r, neighbours[i][j]))
        rb = root(best)
        if rb == r:
            continue
        parent[r] = rb
        group_area[rb] += group_area[r]
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(polys)):
        groups[root(i)].append(i)
    out = []
    for members in sorted(groups.values()):
        if len(members) == 1:
            out.append(polys[members[0]])
        else:
            merged = shapely.coverage_union_all([polys[i] for i in members])
            if merged.geom_type != "Polygon":
                msg = "merging a sliver face did not give one polygon"
                raise RuntimeError(msg)
            out.append(merged)
    return out


def _adjacency(polys: list[Polygon]) -> list[dict[int, float]]:
    """Shared edge length between faces that have identical (reversed) segments."""
    owner: dict[tuple[tuple[float, float], tuple[float, float]], int] = {}
    neighbours: list[dict[int, float]] = [defaultdict(float) for _ in polys]
    for i, p in enumerate(polys):
        for ring in (p.exterior, *p.interiors):
            c = [tuple(xy) for xy in np.asarray(ring.coords).tolist()]
            for a, b in zip(c[:-1], c[1:], strict=True):
                key = (a, b) if a <= b else (b, a)
                j = owner.pop(key, None)
                if j is None:
                    owner[key] = i
                elif j != i:
                    d = math.dist(a, b)
                    neighbours[i][j] += d
                    neighbours[j][i] += d
    return [dict(sorted(n.items())) for n in neighbours]


def union_faces(faces: Faces, members: list[int]) -> Polygon:
    """Coverage union of whole faces (keeps every shared vertex)."""
    merged = shapely.coverage_union_all([faces.polygons[i] for i in members])
    if merged.geom_type != "Polygon":
        msg = f"a group of {len(members)} faces did not merge into one polygon"
        raise RuntimeError(msg)
    return shapely.normalize(merged)
