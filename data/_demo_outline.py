"""The demo street's outline: an irregular, roughly round polygon of a fixed area."""

from __future__ import annotations

import math

import numpy as np
from _demo_coords import round_mm
from shapely.geometry import Polygon

#: Target area of the street in square metres.
STREET_AREA_M2 = 51.0e6


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
    coords = round_mm(np.c_[centre[0] + x * scale, centre[1] + y * scale])
    poly = Polygon(coords)
    if not poly.is_valid:
        msg = "generated street outline is not a valid polygon; try another --seed"
        raise RuntimeError(msg)
    return poly
