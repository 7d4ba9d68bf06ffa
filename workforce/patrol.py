"""Patrol coverage from GPS tracks (巡查覆盖率): which share of a grid's buildings a worker came near.

For one ISO week, a building counts as covered when any usable fix of that week lies within
``radius_m`` (default 50 m) of its outline, measured in the metric CRS. Fixes are checked first,
per worker in time order: a gap of more than ``gap_minutes`` (15) between consecutive fixes is
reported; a fix reached from the previous one at more than ``max_kmh`` (120 km/h) is reported as an
impossible speed and not used for coverage (a GPS jump, or a shared device). Grids without any
usable fix that week have coverage 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from access.scope import Scope
from core import constants
from core.errors import InputError
from geo.distance import step_distances_m, to_metric
from workforce.queries import worker_track_window

#: Columns of the coverage table, one row per grid.
COVERAGE_COLUMNS: tuple[str, ...] = ("grid_code", "buildings", "covered", "coverage", "fixes")
GAP_MINUTES = 15.0
MAX_KMH = 120.0
RADIUS_M = 50.0


@dataclass(frozen=True)
class TrackCheck:
    """The fixes of a period with two flags per fix, and the counts.

    ``fixes`` has the track columns plus ``gap_before`` (more than ``gap_minutes`` since the
    worker's previous fix) and ``impossible`` (reached at more than ``max_kmh``).
    """

    fixes: pd.DataFrame
    gaps: int
    impossible: int

    @property
    def usable(self) -> pd.DataFrame:
        """The fixes coverage may use (impossible speeds left out)."""
        return self.fixes.loc[~self.fixes["impossible"]]


def iso_week(week: str) -> tuple[datetime, datetime]:
    """``"2026-W27"`` as the half-open local-time window ``[Monday 00:00, next Monday 00:00)``."""
    try:
        start = datetime.strptime(f"{week.strip()}-1", "%G-W%V-%u")
    except ValueError:
        raise InputError("--week", f"not an ISO week: {week!r}", "write it as YYYY-Www, e.g. 2026-W27") from None
    return start, start + timedelta(days=7)


def check_tracks(fixes: pd.DataFrame, *, gap_minutes: float = GAP_MINUTES, max_kmh: float = MAX_KMH,
                 metric_crs: str = constants.DEFAULT_METRIC_CRS) -> TrackCheck:
    """Flag gaps and impossible speeds in each worker's track.

    Parameters
    ----------
    fixes : pandas.DataFrame
        Columns ``worker_id``, ``at`` (local time), ``lon``, ``lat`` (EPSG:4490 degrees).
    gap_minutes, max_kmh : float
        Thresholds (minutes between fixes; km/h between consecutive fixes).
    metric_crs : str
        Where distances are measured (metres).

    Returns
    -------
    TrackCheck
    """
    ordered = fixes.sort_values(["worker_id", "at"], kind="stable", ignore_index=True)
    gap = np.zeros(len(ordered), dtype=bool)
    impossible = np.zeros(len(ordered), dtype=bool)
    for _, rows in ordered.groupby("worker_id", sort=False):
        index = rows.index.to_numpy()
        if len(index) < 2:
            continue
        seconds = np.diff(pd.to_datetime(rows["at"]).to_numpy()).astype("timedelta64[s]").astype(float)
        metres = step_distances_m(rows["lon"].to_numpy(), rows["lat"].to_numpy(), metric_crs=metric_crs)
        gap[index[1:]] = seconds > gap_minutes * 60
        speed_kmh = np.where(seconds > 0, metres / np.maximum(seconds, 1e-9) * 3.6, np.where(metres > 0, np.inf, 0))
        impossible[index[1:]] = speed_kmh > max_kmh
    ordered["gap_before"], ordered["impossible"] = gap, impossible
    return TrackCheck(ordered, int(gap.sum()), int(impossible.sum()))


def patrol_coverage(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, fixes: pd.DataFrame, *,
                    radius_m: float = RADIUS_M, metric_crs: str = constants.DEFAULT_METRIC_CRS) -> pd.DataFrame:
    """Covered buildings per grid.

    Parameters
    ----------
    buildings : GeoDataFrame
        The ``buildings`` level (``parent_code`` = grid code), any CRS.
    grids : GeoDataFrame
        The ``grids`` level (``code``); every grid gets a row, with or without buildings.
    fixes : pandas.DataFrame
        Usable fixes: ``lon``, ``lat`` in EPSG:4490 degrees (any worker).
    radius_m : float
        Largest distance from a fix to a building's outline, metres.
    metric_crs : str
        Projected CRS in metres for the distance test.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`: ``buildings`` and ``covered`` counts, ``coverage`` =
        covered / buildings (0..1; 0 for a grid without buildings), ``fixes`` inside the grid.
    """
    if radius_m <= 0:
        raise InputError("--radius-m", f"{radius_m} is not a positive distance", "give metres, e.g. 50")
    outlines = buildings.to_crs(metric_crs)
    points = shapely.points(*to_metric(fixes["lon"].to_numpy(), fixes["lat"].to_numpy(), metric_crs=metric_crs))
    covered = np.zeros(len(outlines), dtype=bool)
    if len(points) and len(outlines):
        hits = shapely.STRtree(points).query(outlines.geometry.to_numpy(), predicate="dwithin", distance=radius_m)
        covered[np.unique(hits[0])] = True
    per_grid = pd.DataFrame({"grid_code": outlines["parent_code"].astype(str).to_numpy(), "covered": covered})
    counts = per_grid.groupby("grid_code").agg(buildings=("covered", "size"), covered=("covered", "sum"))
    codes = grids["code"].astype(str)
    table = counts.reindex(codes, fill_value=0).reset_index(names="grid_code")
    table["coverage"] = np.where(table["buildings"] > 0, table["covered"] / table["buildings"].clip(lower=1), 0.0)
    table["fixes"] = _fixes_per_grid(grids.to_crs(metric_crs), points).reindex(codes, fill_value=0).to_numpy()
    return table[list(COVERAGE_COLUMNS)].astype({"buildings": int, "covered": int, "fixes": int})


def _fixes_per_grid(grids_metric: gpd.GeoDataFrame, points: np.ndarray) -> pd.Series:
    if not len(points):
        return pd.Series(dtype=int)
    point_index, grid_index = shapely.STRtree(grids_metric.geometry.to_numpy()).query(points, predicate="within")
    codes = grids_metric["code"].astype(str).to_numpy()[grid_index]
    one_grid = pd.Series(codes, index=point_index).groupby(level=0).first()  # a point on a shared edge: once
    return one_grid.value_counts()


def stored_week_coverage(session: Session, scope: Scope, hierarchy: Mapping[str, gpd.GeoDataFrame], week: str, *,
                         radius_m: float = RADIUS_M,
                         metric_crs: str = constants.DEFAULT_METRIC_CRS) -> tuple[pd.DataFrame, TrackCheck]:
    """Patrol coverage per grid of the caller's area for one ISO week, from the fixes in the store.

    Returns
    -------
    (pandas.DataFrame, TrackCheck)
        The table of :func:`patrol_coverage` (grids of the caller's scope) and the checked fixes.
    """
    start, end = iso_week(week)
    fixes = worker_track_window(session, scope, since=start, until=end)
    checked = check_tracks(fixes, metric_crs=metric_crs)
    grids = hierarchy["grids"]
    mine = grids.loc[[scope.allows(grid_code=str(code), community_code=str(parent))
                      for code, parent in zip(grids["code"], grids["parent_code"], strict=True)]]
    buildings = hierarchy["buildings"]
    inside = buildings.loc[buildings["parent_code"].astype(str).isin(set(mine["code"].astype(str)))]
    return patrol_coverage(inside, mine, checked.usable, radius_m=radius_m, metric_crs=metric_crs), checked
