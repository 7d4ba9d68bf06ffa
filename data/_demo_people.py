"""People of the demo district: grid workers, four-visit households and their monthly visits."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from _demo_fakes import fake_phone, person_name, weighted_choice, wrong_id
from _demo_table_inputs import LonLat, TableInputs, timestamp

from core.constants import VISIT_CATEGORIES

#: Months of the visits; results and posts as written in the tables.
VISIT_MONTHS = (4, 5, 6)
_VISIT_RESULTS = ("情况稳定", "已落实帮扶措施", "发现问题已上报", "未遇本人，已电话联系")
_POSTS = ("专职网格员", "网格长", "机动网格员")
#: Age range (years) of a household head by household category.
_HOUSEHOLD_AGES = {"hardship": (25, 80), "empty_nest": (65, 92), "correction": (20, 60),
                   "rehab": (20, 55)}
#: Household categories' shares in a community (``True``) and in a village (``False``).
_HOUSEHOLD_MIX = {
    True: {"hardship": 0.3, "empty_nest": 0.5, "correction": 0.12, "rehab": 0.08},
    False: {"hardship": 0.4, "empty_nest": 0.5, "correction": 0.06, "rehab": 0.04},
}
_MONTH_DAYS = {4: 30, 5: 31, 6: 30}


def worker_rows(rng: np.random.Generator, inputs: TableInputs) -> tuple[list[list[str]], dict[str, str]]:
    """Worker rows (one per grid, a 网格长 per community, mobile workers) and grid -> worker ID."""
    workers: list[list[str]] = []
    grid_worker: dict[str, str] = {}
    for gcode in inputs.grid_codes:
        wid = f"WG{len(workers) + 1:04d}"
        grid_worker[gcode] = wid
        workers.append([wid, person_name(rng), fake_phone("1380000", len(workers) + 1), gcode,
                        gcode[:12], _POSTS[0]])
    comm_codes = inputs.communities["CODE"]
    for ccode in comm_codes:
        workers.append([f"WG{len(workers) + 1:04d}", person_name(rng),
                        fake_phone("1380000", len(workers) + 1), "", ccode, _POSTS[1]])
    kind = inputs.community_kind
    mobile_comms = ([c for c in comm_codes if kind[c] == "社区"] * 2
                    + [c for c in comm_codes if kind[c] == "村"][:1])
    for ccode in mobile_comms:
        workers.append([f"WG{len(workers) + 1:04d}", person_name(rng),
                        fake_phone("1380000", len(workers) + 1), "", ccode, _POSTS[2]])
    return workers, grid_worker


def _household(rng: np.random.Generator, inputs: TableInputs, buildings: np.ndarray, gcode: str,
               number: int) -> tuple[list[str], np.ndarray]:
    """Household ``number`` of grid ``gcode`` in one of its ``buildings`` (by households):
    its row and the building's centroid."""
    urban = inputs.community_kind[gcode[:12]] == "社区"
    hh = inputs.building_households
    bi = int(rng.choice(buildings, p=hh[buildings] / hh[buildings].sum()))
    cat = weighted_choice(rng, _HOUSEHOLD_MIX[urban])
    a0, a1 = _HOUSEHOLD_AGES[cat]
    birth = dt.date(2026 - int(rng.integers(a0, a1 + 1)), int(rng.integers(1, 13)),
                    int(rng.integers(1, 29)))
    xy = inputs.building_xy[bi]
    lon, lat = inputs.lonlat(*xy)
    return [f"HH{number:06d}", person_name(rng), wrong_id(rng, birth), fake_phone("1370000", number),
            VISIT_CATEGORIES[cat].zh, inputs.building_code[bi], gcode, lon, lat], xy


def household_rows(rng: np.random.Generator, inputs: TableInputs) -> tuple[list[list[str]], list[np.ndarray]]:
    """Registered households (1-3 per community grid, 2-4 per village grid) and their places."""
    by_grid = {gcode: np.asarray(idx) for gcode, idx in inputs.buildings.groupby("GRID").indices.items()}
    rows: list[list[str]] = []
    places: list[np.ndarray] = []
    for gcode in inputs.grids["网格编码"]:
        idx = by_grid.get(gcode)
        if idx is None:
            continue
        urban = inputs.community_kind[gcode[:12]] == "社区"
        n = int(rng.integers(1, 4)) if urban else int(rng.integers(2, 5))
        for _ in range(n):
            row, xy = _household(rng, inputs, idx, gcode, len(rows) + 1)
            rows.append(row)
            places.append(xy)
    return rows, places


def _visit(rng: np.random.Generator, lonlat: LonLat, month: int, household: list[str], xy: np.ndarray,
           worker: str) -> tuple[dt.datetime, list[str]]:
    """One visit of ``household`` in ``month``: ``(when, row)`` with the number still blank.

    One in 25 is a "paper visit" recorded 250-900 m away; the rest lie within 19 m.
    """
    when = dt.datetime(2026, month, int(rng.integers(1, _MONTH_DAYS[month] + 1)),
                       int(rng.integers(8, 17)), int(rng.integers(0, 60)), int(rng.integers(0, 60)))
    if rng.random() < 0.04:  # a "paper visit": recorded far from the household
        dist, ang = rng.uniform(250, 900), rng.uniform(0, 2 * math.pi)
    else:
        dist, ang = min(abs(rng.normal(0, 7)), 19.0), rng.uniform(0, 2 * math.pi)
    lon, lat = lonlat(xy[0] + dist * math.cos(ang), xy[1] + dist * math.sin(ang))
    result = _VISIT_RESULTS[int(rng.choice(4, p=[0.72, 0.14, 0.06, 0.08]))]
    return when, ["", household[0], worker, timestamp(when), lon, lat, result]


def visit_rows(rng: np.random.Generator, inputs: TableInputs, households: list[list[str]],
               places: list[np.ndarray], grid_worker: dict[str, str]) -> list[list[str]]:
    """Nine in ten households visited each month by their grid worker, numbered
    ``ZFyyyymmNNNNN`` in time order."""
    dated: list[tuple[dt.datetime, list[str]]] = []
    for month in VISIT_MONTHS:
        for hh, xy in zip(households, places, strict=True):
            if rng.random() >= 0.9:
                continue
            dated.append(_visit(rng, inputs.lonlat, month, hh, xy, grid_worker[hh[6]]))
    dated.sort(key=lambda r: (r[0], r[1][1]))
    seq: dict[str, int] = {}
    for when, row in dated:
        key = f"{when:%Y%m}"
        seq[key] = seq.get(key, 0) + 1
        row[0] = f"ZF{key}{seq[key]:05d}"
    return [r for _, r in dated]
