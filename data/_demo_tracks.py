"""GPS tracks of the demo grid workers on one day, walking about inside their grids."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import shapely
from _demo_table_inputs import LonLat, TableInputs, timestamp
from shapely.geometry import Polygon

TRACK_DAY = dt.date(2026, 6, 30)


def _track(rng: np.random.Generator, lonlat: LonLat, grid: Polygon, worker: str) -> list[list[str]]:
    """Fixes of ``worker`` every 3-7 minutes of the working day, walking about inside ``grid``."""
    rows: list[list[str]] = []
    p = grid.representative_point()
    x, y = p.x, p.y
    heading = rng.uniform(0, 2 * math.pi)
    t = dt.datetime.combine(TRACK_DAY, dt.time(8, 0)) + dt.timedelta(seconds=int(rng.integers(0, 240)))
    day_end = dt.datetime.combine(TRACK_DAY, dt.time(17, 30))
    while t <= day_end:
        lon, lat = lonlat(x, y)
        rows.append([worker, timestamp(t), lon, lat])
        step = rng.uniform(0, 220)
        for _ in range(12):  # turn and shorten the step until it stays inside the grid
            heading += rng.normal(0, 0.6)
            nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
            if shapely.contains_xy(grid, nx, ny):
                x, y = nx, ny
                break
            heading += math.pi / 2
            step *= 0.7
        t += dt.timedelta(seconds=int(rng.integers(180, 421)))
    return rows


def track_rows(rng: np.random.Generator, inputs: TableInputs, grid_worker: dict[str, str]) -> list[list[str]]:
    """The track of every grid's worker on ``TRACK_DAY``."""
    rows: list[list[str]] = []
    for gcode, grid in zip(inputs.grid_codes, inputs.grids.geometry, strict=True):
        shapely.prepare(grid)
        rows += _track(rng, inputs.lonlat, grid, grid_worker[gcode])
    return rows
