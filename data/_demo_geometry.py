"""Geometry of the synthetic demo district (helper of ``data/make_demo.py``).

Everything here works in the metric delivery CRS (EPSG:4548, metres) and is driven by one
``numpy.random.Generator`` so that a fixed seed gives the same coordinates on every run.

The hierarchy is built bottom-up from one planar partition: the street outline, a river,
arterial roads, village roads and a dense urban street net are noded together and polygonized
into *faces*. Faces are grouped into communities and then into grids; every polygon of every
level is the coverage union of whole faces, so all levels share exactly the same vertices and
children tile their parent with no gap and no overlap by construction.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

#: Target area of the street in square metres.
STREET_AREA_M2 = 51.0e6
#: Step between vertices of generated roads and the outline (m).
STEP_M = 25.0


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


# --- lines ----------------------------------------------------------------------------------
def _round_mm(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, 3)


def outline(rng: np.random.Generator, centre: tuple[float, float]) -> Polygon:
    """An irregular, roughly round street outline of exactly ``STREET_AREA_M2`` (± 1 m²)."""
    n = 1000
    theta = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    radius = np.ones(n)
    for k in range(2, 9):
        amp = rng.uniform(0.03, 0.11) / (k ** 0.8)
        radius += amp * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    # small-scale jitter along the boundary (field edges, ditches)
    jitter = rng.normal(0.0, 0.004, n)
    jitter = np.convolve(np.r_[jitter[-3:], jitter, jitter[:3]], np.ones(7) / 7, "valid")
    radius += jitter
    x = radius * np.cos(theta)
    y = radius * np.sin(theta) * 0.85
    unit = Polygon(np.c_[x, y])
    scale = math.sqrt(STREET_AREA_M2 / unit.area)
    coords = _round_mm(np.c_[centre[0] + x * scale, centre[1] + y * scale])
    poly = Polygon(coords)
    if not poly.is_valid:
        msg = "generated street outline is not a valid polygon; try another --seed"
        raise RuntimeError(msg)
    return poly


def wiggly_line(
    rng: np.random.Generator,
    start: tuple[float, float],
    heading: float,
    length: float,
    *,
    turn_sd: float,
    persistence: float = 0.9,
    max_turn: float = 0.08,
    meander: float = 0.0,
    meander_wavelength: float = 1500.0,
) -> np.ndarray:
    """Coordinates of a smooth random walk: ``length`` metres in steps of ``STEP_M``.

    The turn rate follows an AR(1) process (``persistence``), optionally plus a sinusoidal
    ``meander`` (radians of heading amplitude) for rivers.
    """
    steps = max(int(length / STEP_M), 2)
    turn = 0.0
    pts = np.empty((steps + 1, 2))
    pts[0] = start
    phase = rng.uniform(0, 2 * math.pi)
    base = heading
    h = heading
    for i in range(1, steps + 1):
        turn = persistence * turn + rng.normal(0.0, turn_sd)
        turn = max(-max_turn, min(max_turn, turn))
        base += turn
        # pull the heading gently back towards the intended direction so lines cross the area
        base += 0.03 * math.remainder(heading - base, 2 * math.pi)
        s = i * STEP_M
        h = base + meander * math.sin(2 * math.pi * s / meander_wavelength + phase)
        pts[i] = pts[i - 1] + STEP_M * np.array([math.cos(h), math.sin(h)])
    return _round_mm(pts)


def _clip(line: np.ndarray, area: BaseGeometry) -> list[BaseGeometry]:
    """Parts of ``line`` inside ``area`` (which is slightly larger than the real boundary, so
    each part overshoots by about a metre and leaves only a dangle outside)."""
    clipped = shapely.intersection(LineString(line), area)
    if clipped.is_empty:
        return []
    return [g for g in shapely.get_parts(clipped) if g.length > 1.0]


def _crossing(centre: tuple[float, float], big_r: float, angle: float,
              offset: float) -> tuple[tuple[float, float], float]:
    """A start point outside the outline and the heading that crosses it past the centre.

    Parameters
    ----------
    centre : tuple of float
        Centre of the street (m).
    big_r : float
        Radius of the disc of the street's area (m).
    angle : float
        Direction of the start point seen from the centre (radians).
    offset : float
        Signed distance from the centre at which the line passes it (m).

    Returns
    -------
    tuple
        ``((x, y), heading)``.
    """
    cx, cy = centre
    sx = cx + 1.6 * big_r * math.cos(angle)
    sy = cy + 1.6 * big_r * math.sin(angle)
    tx = cx - offset * math.sin(angle)
    ty = cy + offset * math.cos(angle)
    return (sx, sy), math.atan2(ty - sy, tx - sx)


def _river(rng: np.random.Generator, centre: tuple[float, float], big_r: float,
           inside: BaseGeometry) -> list[BaseGeometry]:
    """One meandering line from north-west to south-east, clipped to ``inside``."""
    start, heading = _crossing(centre, big_r, rng.uniform(0.6, 0.9) * math.pi,
                               rng.uniform(-0.3, 0.3) * big_r)
    river = wiggly_line(rng, start, heading, 3.4 * big_r, turn_sd=0.012, max_turn=0.05,
                        meander=0.55, meander_wavelength=1800.0)
    return _clip(river, inside)


def _arterials(rng: np.random.Generator, centre: tuple[float, float], big_r: float,
               inside: BaseGeometry, count: int = 6) -> list[BaseGeometry]:
    """``count`` long, gently curving roads spread over directions, clipped to ``inside``."""
    parts: list[BaseGeometry] = []
    for k in range(count):
        angle = (k + rng.uniform(0.1, 0.9)) * math.pi / count
        if rng.random() < 0.5:
            angle += math.pi
        start, heading = _crossing(centre, big_r, angle, rng.uniform(-0.55, 0.55) * big_r)
        art = wiggly_line(rng, start, heading, 3.3 * big_r, turn_sd=0.004, max_turn=0.02)
        parts += _clip(art, inside)
    return parts


def _village_roads(rng: np.random.Generator, centre: tuple[float, float], big_r: float,
                   inside: BaseGeometry, count: int = 56) -> list[BaseGeometry]:
    """``count`` shorter, wigglier roads through random points, clipped to ``inside``."""
    cx, cy = centre
    lines: list[BaseGeometry] = []
    for _ in range(count):
        r = big_r * math.sqrt(rng.uniform(0.0, 1.0))
        a = rng.uniform(0, 2 * math.pi)
        start = (cx + r * math.cos(a), cy + r * math.sin(a))
        heading = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(0.9, 2.2) * big_r
        back = wiggly_line(rng, start, heading + math.pi, length / 2, turn_sd=0.02, max_turn=0.06)
        fwd = wiggly_line(rng, start, heading, length / 2, turn_sd=0.02, max_turn=0.06)
        road = np.r_[back[::-1], fwd[1:]]
        lines += _clip(road, inside)
    return lines


def _urban_zone(rng: np.random.Generator, street: Polygon, centre: tuple[float, float],
                big_r: float, attempts: int = 50) -> Polygon:
    """A wobbly disc of about 9.5 km² at least 600 m inside ``street`` (its edge is a ring road).

    Raises
    ------
    RuntimeError
        When no attempt fits inside the street.
    """
    cx, cy = centre
    for _ in range(attempts):
        a = rng.uniform(0, 2 * math.pi)
        off = rng.uniform(0.05, 0.2) * big_r
        ux, uy = cx + off * math.cos(a), cy + off * math.sin(a)
        n = 360
        theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
        rad = np.ones(n)
        for k in range(2, 6):
            rad += rng.uniform(0.05, 0.12) / k * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
        zone = Polygon(np.c_[np.cos(theta) * rad, np.sin(theta) * rad])
        scale = math.sqrt(9.5e6 / zone.area)
        zone = Polygon(_round_mm(np.c_[ux + np.cos(theta) * rad * scale,
                                       uy + np.sin(theta) * rad * scale]))
        if street.buffer(-600.0).contains(zone):
            return zone
    msg = "could not place the urban zone inside the street; try another --seed"
    raise RuntimeError(msg)


def _urban_streets(rng: np.random.Generator, urban: Polygon) -> list[BaseGeometry]:
    """Two families of near-parallel, slightly curving streets (a warped grid), some ending
    early (T-junctions), plus a few diagonals; clipped to ``urban`` plus 1 m."""
    urban_in = urban.buffer(1.0)
    ub = urban.bounds
    ur = max(ub[2] - ub[0], ub[3] - ub[1])
    ucx, ucy = urban.centroid.x, urban.centroid.y
    lines: list[BaseGeometry] = []
    base = rng.uniform(0, math.pi / 2)
    for fam, spacing in ((0, 175.0), (1, 205.0)):
        ang = base + fam * (math.pi / 2 + rng.uniform(-0.25, 0.25))
        normal = np.array([-math.sin(ang), math.cos(ang)])
        along = np.array([math.cos(ang), math.sin(ang)])
        off = -ur / 2 - spacing * rng.uniform(0, 1)
        while off < ur / 2 + spacing:
            pos = np.array([ucx, ucy]) + off * normal - 0.75 * ur * along
            length = 1.5 * ur
            if rng.random() < 0.35:  # a street that starts or stops inside the town
                skip = rng.uniform(0.2, 0.6) * length
                if rng.random() < 0.5:
                    pos = pos + skip * along
                length -= skip
            street_line = wiggly_line(rng, tuple(pos), ang + rng.normal(0, 0.03), length,
                                      turn_sd=0.006, max_turn=0.015)
            lines += _clip(street_line, urban_in)
            off += spacing * rng.uniform(0.75, 1.3)
    for _ in range(3):
        a = rng.uniform(0, 2 * math.pi)
        pos = (ucx + 0.7 * ur * math.cos(a), ucy + 0.7 * ur * math.sin(a))
        diag = wiggly_line(rng, pos, a + math.pi + rng.normal(0, 0.3), 1.4 * ur,
                           turn_sd=0.005, max_turn=0.02)
        lines += _clip(diag, urban_in)
    return lines


def road_network(
    rng: np.random.Generator, street: Polygon
) -> tuple[list[BaseGeometry], Polygon, dict[str, list[BaseGeometry]]]:
    """Lines that cut the street: river, arterials, village roads, the urban ring and streets.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw (a fixed seed gives the same network).
    street : shapely.Polygon
        Street outline in metres.

    Returns
    -------
    tuple
        ``(lines, urban_zone, named)`` where ``named`` keeps the river and arterials apart
        (for documentation and checks); every line is clipped to the street plus 1 m.
    """
    centre = (street.centroid.x, street.centroid.y)
    big_r = math.sqrt(street.area / math.pi)
    inside = street.buffer(1.0)
    named: dict[str, list[BaseGeometry]] = {"river": _river(rng, centre, big_r, inside)}
    named["arterial"] = _arterials(rng, centre, big_r, inside)
    lines = [*named["river"], *named["arterial"], *_village_roads(rng, centre, big_r, inside)]
    urban = _urban_zone(rng, street, centre, big_r)
    lines.append(urban.exterior)
    lines += _urban_streets(rng, urban)
    return lines, urban, named


# --- faces ----------------------------------------------------------------------------------
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


# --- partition --------------------------------------------------------------------------------
def _grow(
    members: list[int], seeds: list[int], faces: Faces, scale: list[float] | None = None
) -> dict[int, int]:
    """Multi-source Dijkstra over face adjacency restricted to ``members``: face -> seed slot.

    ``scale[k]`` multiplies the distances travelled from seed ``k`` (a larger scale gives a
    smaller group); each face's predecessor carries the same label, so groups stay connected.
    """
    scale = scale or [1.0] * len(seeds)
    allowed = set(members)
    dist = {m: math.inf for m in members}
    label: dict[int, int] = {}
    heap: list[tuple[float, int, int]] = []
    for slot, s in enumerate(seeds):
        dist[s] = 0.0
        heapq.heappush(heap, (0.0, s, slot))
    while heap:
        d, f, slot = heapq.heappop(heap)
        if f in label:
            continue
        label[f] = slot
        for g in faces.neighbours[f]:
            if g in allowed and g not in label:
                nd = d + faces.steps[f][g] * scale[slot]
                if nd < dist[g]:
                    dist[g] = nd
                    heapq.heappush(heap, (nd, g, slot))
    return label


def _spread_seeds(idx: np.ndarray, n: int, faces: Faces, weights: np.ndarray,
                  min_seed_area: float) -> list[int]:
    """``n`` seed faces by farthest-point sampling, starting next to the weighted centre.

    Only faces of at least ``min_seed_area`` m² are preferred as seeds.
    """
    cents = faces.centroids
    mw = weights[idx]
    centre = (cents[idx] * mw[:, None]).sum(0) / mw.sum()
    big = idx[faces.areas[idx] >= min_seed_area]
    seeds = [int(big[np.argmin(np.hypot(*(cents[big] - centre).T))])]
    mind = np.hypot(*(cents[big] - cents[seeds[0]]).T)
    while len(seeds) < n:
        nxt = int(big[np.argmax(mind)]) if len(seeds) < len(big) else None
        if nxt is None or nxt in seeds:
            nxt = next(int(m) for m in idx if int(m) not in seeds)
        seeds.append(nxt)
        mind = np.minimum(mind, np.hypot(*(cents[big] - cents[nxt]).T))
    return seeds


def _lloyd_seeds(members: list[int], seeds: list[int], faces: Faces, weights: np.ndarray,
                 min_seed_area: float, iterations: int) -> list[int]:
    """Seeds moved by up to ``iterations`` Lloyd steps (each to its group's weighted centre)."""
    cents = faces.centroids
    for _ in range(iterations):
        label = _grow(members, seeds, faces)
        new = []
        for slot in range(len(seeds)):
            grp = np.array([f for f in members if label.get(f) == slot])
            gw = weights[grp]
            c = (cents[grp] * gw[:, None]).sum(0) / gw.sum()
            cand = grp[faces.areas[grp] >= min_seed_area]
            cand = cand if len(cand) else grp
            new.append(int(cand[np.argmin(np.hypot(*(cents[cand] - c).T))]))
        if new == seeds:
            break
        seeds = new
    return seeds


def _balanced_labels(members: list[int], seeds: list[int], faces: Faces, weights: np.ndarray,
                     rounds: int) -> dict[int, int]:
    """The most even labelling found by slowing down seeds whose groups are too big."""
    n = len(seeds)
    scale = [1.0] * n
    best_label, best_spread = None, math.inf
    for _ in range(rounds):
        label = _grow(members, seeds, faces, scale)
        sizes = np.zeros(n)
        for f, slot in label.items():
            sizes[slot] += weights[f]
        spread = float(sizes.max() / max(sizes.min(), 1e-9))
        if spread < best_spread:
            best_label, best_spread = label, spread
        mean = sizes.mean()
        scale = [sc * float((max(sz, 1e-9) / mean) ** 0.35) for sc, sz in zip(scale, sizes,
                                                                             strict=True)]
    return best_label if best_label is not None else _grow(members, seeds, faces)


def _attach_unreached(members: list[int], label: dict[int, int], faces: Faces) -> None:
    """Label in place the faces no seed reached with their longest-edge neighbour's group.

    Raises
    ------
    RuntimeError
        When some faces touch no labelled face at all.
    """
    pending = [f for f in members if f not in label]
    while pending:
        still = []
        for f in pending:
            options = {label[g]: length for g, length in faces.neighbours[f].items() if g in label}
            if options:
                label[f] = max(sorted(options), key=lambda s: options[s])
            else:
                still.append(f)
        if len(still) == len(pending):
            msg = "faces not connected to any group; the partition is broken"
            raise RuntimeError(msg)
        pending = still


def partition(
    members: list[int], n: int, faces: Faces, *, iterations: int = 8,
    balance_rounds: int = 25, weights: np.ndarray | None = None,
) -> list[list[int]]:
    """Split the connected set of faces ``members`` into ``n`` contiguous groups.

    Seeds are spread by farthest-point sampling and moved by a few Lloyd steps (area- or
    ``weights``-weighted); faces go to the nearest seed along the adjacency graph, so every
    group is edge-connected. Faces no seed can reach join their longest-edge neighbour group.

    Parameters
    ----------
    members : list of int
        Face indices to split (edge-connected).
    n : int
        Number of groups.
    faces : Faces
        The planar partition.
    iterations : int, default 8
        Most Lloyd steps.
    balance_rounds : int, default 25
        Rounds of slowing down the seeds of too big groups.
    weights : numpy.ndarray, optional
        Weight per face (default: its area).

    Returns
    -------
    list of list of int
        Face indices of each group, in ``members`` order.

    Raises
    ------
    RuntimeError
        When there are fewer faces than groups or some faces are not connected.
    """
    members = sorted(members)
    if len(members) < n:
        msg = f"only {len(members)} faces for {n} groups; the road network is too sparse"
        raise RuntimeError(msg)
    w = faces.areas if weights is None else weights
    idx = np.array(members)
    min_seed_area = float(np.median(faces.areas[idx])) * 0.5
    seeds = _spread_seeds(idx, n, faces, w, min_seed_area)
    seeds = _lloyd_seeds(members, seeds, faces, w, min_seed_area, iterations)
    label = _balanced_labels(members, seeds, faces, w, balance_rounds)
    _attach_unreached(members, label, faces)
    groups: list[list[int]] = [[] for _ in range(n)]
    for f in members:
        groups[label[f]].append(f)
    return groups


def union_faces(faces: Faces, members: list[int]) -> Polygon:
    """Coverage union of whole faces (keeps every shared vertex)."""
    merged = shapely.coverage_union_all([faces.polygons[i] for i in members])
    if merged.geom_type != "Polygon":
        msg = f"a group of {len(members)} faces did not merge into one polygon"
        raise RuntimeError(msg)
    return shapely.normalize(merged)


# --- buildings --------------------------------------------------------------------------------
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
                out.append(Polygon(_round_mm(_rotate(box, angle, origin))))
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
    polys = shapely.polygons(_round_mm(np.stack([gx, gy], axis=-1)))
    out = list(polys[shapely.contains(inner, polys)])
    return out
