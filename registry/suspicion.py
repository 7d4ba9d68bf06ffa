"""Visits a leader should not take on trust (存疑走访): flagged, shown, never dropped.

- ``speed``: two consecutive visits (by time) of one worker, both with a position, more than the
  on-site distance apart and closer in time than ``max_speed_kmh`` allows (the same second counts
  as no time at all): both visits are flagged.
- ``shared_position``: one worker recorded visits to at least ``shared_position_visits`` different
  persons from one position (rounded to 10⁻⁶ degrees, about 0.1 m; a phone never fixes the same
  point twice, a typed or copied position does): every such visit is flagged.

Distances are measured in the metric CRS. Visits without a position are never flagged (they are
just not verified on site).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import constants
from geo.distance import to_metric

#: Kinds of suspicion, in the order they are written.
SUSPICIONS: tuple[str, ...] = ("speed", "shared_position")


def _speed_flags(visits: pd.DataFrame, *, max_speed_kmh: float, min_distance_m: float, metric_crs: str) -> np.ndarray:
    flags = np.zeros(len(visits), dtype=bool)
    located = visits["lon"].notna() & visits["lat"].notna()
    rows = visits.loc[located].sort_values(["worker_id", "at", "id"], kind="stable")
    if len(rows) < 2:
        return flags
    x, y = to_metric(rows["lon"].to_numpy(dtype=float), rows["lat"].to_numpy(dtype=float), metric_crs=metric_crs)
    same_worker = rows["worker_id"].to_numpy()[1:] == rows["worker_id"].to_numpy()[:-1]
    metres = np.hypot(np.diff(x), np.diff(y))
    seconds = np.diff(pd.to_datetime(rows["at"]).to_numpy().astype("datetime64[s]").astype(np.int64))
    kmh = np.where(seconds > 0, metres / np.maximum(seconds, 1) * 3.6, np.inf)
    bad = same_worker & (metres > min_distance_m) & (kmh > max_speed_kmh)
    positions = visits.index.get_indexer(rows.index)
    flags[positions[1:][bad]] = True
    flags[positions[:-1][bad]] = True
    return flags


def _shared_flags(visits: pd.DataFrame, *, minimum: int) -> np.ndarray:
    located = visits["lon"].notna() & visits["lat"].notna()
    if not located.any():
        return np.zeros(len(visits), dtype=bool)
    key = pd.DataFrame({"worker": visits["worker_id"], "x": visits["lon"].astype(float).round(6),
                        "y": visits["lat"].astype(float).round(6), "person": visits["household_id"]}).loc[located]
    persons = key.groupby(["worker", "x", "y"])["person"].transform("nunique")
    flagged = persons.index[persons >= minimum]
    return visits.index.isin(flagged)


def flag_suspicious(
    visits: pd.DataFrame,
    *,
    max_speed_kmh: float = constants.VISIT_MAX_SPEED_KMH,
    min_distance_m: float = constants.VISIT_ON_SITE_M,
    shared_position_visits: int = constants.VISIT_SHARED_POSITION_VISITS,
    metric_crs: str = constants.DEFAULT_METRIC_CRS,
) -> pd.DataFrame:
    """``visits`` (a new index) with ``suspicious`` (bool) and ``suspicion`` (``speed``, ``shared_position``, both
    joined by ``; ``, or ``""``).

    Parameters
    ----------
    visits : pandas.DataFrame
        Columns ``id``, ``household_id``, ``worker_id``, ``at``, ``lon``, ``lat`` (EPSG:4490).
    max_speed_kmh : float
        Fastest plausible travel between two visits.
    min_distance_m : float
        Two positions closer than this are one place (the on-site distance).
    shared_position_visits : int
        Persons visited from one position that make it suspicious.
    metric_crs : str
        Projected CRS in metres.
    """
    out = visits.reset_index(drop=True)
    speed = _speed_flags(out, max_speed_kmh=max_speed_kmh, min_distance_m=min_distance_m, metric_crs=metric_crs)
    shared = _shared_flags(out, minimum=shared_position_visits)
    out["suspicious"] = speed | shared
    out["suspicion"] = ["; ".join(k for k, f in zip(SUSPICIONS, flags, strict=True) if f)
                        for flags in zip(speed, shared, strict=True)]
    return out
