"""Building footprints of the demo district: slab blocks along urban blocks, courtyard houses
around village cores."""

from __future__ import annotations

import math

import numpy as np
import shapely
from _demo_coords import round_mm
from shapely.geometry import Polygon


def _rotate(coords: np.ndarray, angle: float, origin: np.ndarray) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    d = coords - origin
    return np.c_[d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c] + origin


def _orientation(poly: Polygon) -> float:
    rect = np.asarray(poly.minimum_rotated_rectangle.exterior.coords)
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    e = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    return math.atan2(e[1], e[0])


def block_buildings(rng: np.random.Generator, face: Polygon) -> list[Polygon]:
    """Rows of multi-storey slab blocks along an urban block, set back 12 m from its roads."""
    inner = face.buffer(-12.0)
    if inner.is_empty or inner.area < 2500:
        return []
    angle = _orientation(face)
    origin = np.array([face.centroid.x, face.centroid.y])
    local = shapely.transform(inner, lambda xy: _rotate(xy, -angle, origin))
    minx, miny, maxx, maxy = local.bounds
    prepared = local
    shapely.prepare(prepared)
    length = rng.choice([48.0, 56.0, 64.0])
    depth = 12.0
    out: list[Polygon] = []
    y = miny + rng.uniform(0, 8)
    while y + depth <= maxy:
        x = minx + rng.uniform(0, 10)
        while x + length <= maxx:
            box = np.array([[x, y], [x + length, y], [x + length, y + depth], [x, y + depth],
                            [x, y]])
            if shapely.contains(prepared, Polygon(box)):
                out.append(Polygon(round_mm(_rotate(box, angle, origin))))
            x += length + rng.uniform(12, 20)
        y += depth + rng.uniform(22, 28)
    # the rotation back may move a corner by a rounding error: keep only buildings inside
    return [b for b in out if face.contains(b)]


def courtyards(
    rng: np.random.Generator, face: Polygon, core: np.ndarray, radius: float, angle: float
) -> list[Polygon]:
    """Courtyard houses on a jittered lattice around a village core, inside ``face``."""
    inner = face.buffer(-6.0)
    if inner.is_empty:
        return []
    shapely.prepare(inner)
    pitch = 30.0
    minx, miny, maxx, maxy = face.bounds
    out: list[Polygon] = []
    # lattice in the village's own orientation, anchored at the core so faces line up
    r_local = _rotate(np.array([[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy]]),
                      -angle, core)
    lo = np.floor((r_local.min(0) - core) / pitch)
    hi = np.ceil((r_local.max(0) - core) / pitch)
    ii, jj = np.meshgrid(np.arange(int(lo[0]), int(hi[0]) + 1),
                         np.arange(int(lo[1]), int(hi[1]) + 1), indexing="ij")
    n = ii.size
    lx = ii.ravel() * pitch + rng.uniform(-2, 2, n)
    ly = jj.ravel() * pitch + rng.uniform(-2, 2, n)
    keep = np.hypot(lx, ly) <= radius * rng.uniform(0.85, 1.15, n)
    keep &= rng.random(n) >= 0.12  # threshing floors, ponds, lanes
    w, h = rng.uniform(17, 23, n), rng.uniform(16, 22, n)
    lx, ly, w, h = lx[keep], ly[keep], w[keep], h[keep]
    if not len(lx):
        return out
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local_x = lx[:, None] + corners[None, :, 0] * w[:, None]
    local_y = ly[:, None] + corners[None, :, 1] * h[:, None]
    c, s = math.cos(angle), math.sin(angle)
    gx = core[0] + local_x * c - local_y * s
    gy = core[1] + local_x * s + local_y * c
    polys = shapely.polygons(round_mm(np.stack([gx, gy], axis=-1)))
    out = list(polys[shapely.contains(inner, polys)])
    return out
