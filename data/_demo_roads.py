"""The lines that cut the demo street into faces: river, arterials, village roads, the urban
ring road and the town's streets (metres, driven by one random generator)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from _demo_coords import round_mm
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

#: Step between vertices of generated roads and the outline (m).
STEP_M = 25.0


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
    return round_mm(pts)


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
        zone = Polygon(round_mm(np.c_[ux + np.cos(theta) * rad * scale,
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


#: Kinds of walkable road written to ``roads.shp`` (the river is not one).
ROAD_KINDS: tuple[str, ...] = ("主干道", "村道", "环城路", "城区街道")


def walking_roads(lines: list[BaseGeometry], urban: Polygon,
                  named: dict[str, list[BaseGeometry]]) -> list[tuple[str, LineString]]:
    """The walkable lines of :func:`road_network`'s result with their kind, river left out.

    ``lines`` is river, arterials, village roads, the urban ring and the town's streets in this
    order (as :func:`road_network` builds it); the ring is written as an open line.

    Returns
    -------
    list of (kind, LineString)
        Kinds from :data:`ROAD_KINDS`, in the order of ``lines``.
    """
    n_river, n_arterial = len(named["river"]), len(named["arterial"])
    ring = next(i for i, line in enumerate(lines) if line.geom_type == "LinearRing" and line.equals(urban.exterior))
    out: list[tuple[str, LineString]] = []
    for i, line in enumerate(lines):
        if i < n_river:
            continue
        kind = (ROAD_KINDS[0] if i < n_river + n_arterial else ROAD_KINDS[1] if i < ring
                else ROAD_KINDS[2] if i == ring else ROAD_KINDS[3])
        out.append((kind, LineString(line.coords)))
    return out
