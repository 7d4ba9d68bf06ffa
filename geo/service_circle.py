"""The 15-minute service circle (15分钟便民生活圈): walking time from each building to the nearest
facility of each type along the road network, the bands it falls in, who is left outside, and
where a new service point would cover the most of them.

Pure: GeoDataFrames and frames in, frames out. Distances are network distances in the metric CRS
(metres) between *snapped* points: a building's nearest road point and a facility's nearest road
point (:mod:`geo.network`); the leg from the door to the road is reported apart (``snap_m``) and
not counted. Walking time is distance / speed (default 1.2 m/s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from core.errors import InputError
from geo.distance import to_metric
from geo.network import RoadNetwork, ShortestPaths, snap

if TYPE_CHECKING:
    import geopandas as gpd

#: Walking speed (m/s) and time bands (minutes) of the issue's definition.
DEFAULT_SPEED_M_S = 1.2
DEFAULT_MINUTES: tuple[float, ...] = (5, 10, 15)
#: Columns of :attr:`ServiceCircle.rows`, in order.
ROW_COLUMNS: tuple[str, ...] = ("building_code", "building_name", "grid_code", "community_code", "households",
                                "facility_type", "facility_name", "walk_m", "walk_min", "band", "snap_m")
#: Relative slack when a time is compared with a band limit (floating-point noise only).
_EPS = 1e-9


def parse_minutes(text: str | Sequence[float]) -> tuple[float, ...]:
    """``"5,10,15"`` (or a sequence) → ``(5.0, 10.0, 15.0)``: positive, strictly increasing."""
    items = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    try:
        values = tuple(float(v) for v in items if v != "")
    except ValueError as exc:
        raise InputError("--minutes", f"{text!r} is not a list of numbers", "write e.g. --minutes 5,10,15") from exc
    if not values or any(not np.isfinite(v) or v <= 0 for v in values) or list(values) != sorted(set(values)):
        raise InputError("--minutes", f"{text!r} is not increasing positive minutes", "write e.g. --minutes 5,10,15")
    return values


def check_speed(speed: float) -> float:
    """``speed`` (m/s) when it is a plausible walking speed, else an :class:`InputError`."""
    if not np.isfinite(speed) or not 0.1 <= speed <= 5.0:
        raise InputError("--speed", f"{speed!r} m/s is not a walking speed", "give metres per second, e.g. 1.2")
    return float(speed)


def band_of(walk_min: np.ndarray, minutes: Sequence[float]) -> np.ndarray:
    """The smallest of ``minutes`` that each time is within (``<=``), NaN beyond the largest or
    when unreachable."""
    out = np.full(len(walk_min), np.nan)
    for limit in sorted(minutes, reverse=True):
        out[np.asarray(walk_min) <= limit * (1 + _EPS)] = limit
    return out


@dataclass
class ServiceCircle:
    """Outcome of :func:`service_circle`.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per building and facility type (:data:`ROW_COLUMNS`): ``households`` (NaN when
        not known), ``walk_m`` (network metres), ``walk_min`` (minutes; NaN when no facility of
        the type is reachable), ``band`` (NaN beyond the largest band), ``snap_m`` (building to
        road, m).
    facilities : pandas.DataFrame
        ``name``, ``type``, ``lon``, ``lat`` (EPSG:4490) and ``snap_m``.
    types : list of str
        Facility types in order of first appearance.
    speed, minutes
        Walking speed (m/s) and bands (min).
    node_distance : dict of str to numpy.ndarray
        Per type, the distance (m) of every node of the augmented graph to the nearest facility.
    paths : ShortestPaths
        The graph with buildings and facilities inserted (for isochrones and gap ranking).
    building_xy : numpy.ndarray
        Buildings' representative points in the metric CRS (m), in row order of the buildings.
    """

    rows: pd.DataFrame
    facilities: pd.DataFrame
    types: list[str]
    speed: float
    minutes: tuple[float, ...]
    node_distance: dict[str, np.ndarray]
    paths: ShortestPaths
    building_xy: np.ndarray
    households_known: bool

    @property
    def network(self) -> RoadNetwork:
        """The road network."""
        return self.paths.network


def _building_table(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None,
                    households: pd.Series | None) -> pd.DataFrame:
    codes = buildings["code"].astype(str).to_numpy()
    grid = buildings["parent_code"].astype(str).to_numpy() if "parent_code" in buildings else np.full(len(codes), "")
    community: dict[str, str] = {}
    if grids is not None and len(grids):
        community = dict(zip(grids["code"].astype(str), grids["parent_code"].astype(str), strict=True))
    hh = (pd.Series(codes).map(households).fillna(0).astype(int).to_numpy() if households is not None
          else np.full(len(codes), np.nan))
    names = buildings["name"].astype(str).to_numpy() if "name" in buildings else np.full(len(codes), "")
    return pd.DataFrame({"building_code": codes, "building_name": names, "grid_code": grid,
                         "community_code": [community.get(g, "") for g in grid], "households": hh})


def service_circle(buildings: gpd.GeoDataFrame, network: RoadNetwork, facilities: pd.DataFrame, *,
                   grids: gpd.GeoDataFrame | None = None, households: pd.Series | None = None,
                   speed: float = DEFAULT_SPEED_M_S,
                   minutes: Sequence[float] = DEFAULT_MINUTES) -> ServiceCircle:
    """Walking time from every building to the nearest facility of every type.

    Parameters
    ----------
    buildings : GeoDataFrame
        ``code``, ``name``, ``parent_code`` (grid code) and polygons (or points) in any set CRS
        (the hierarchy's ``buildings``). A building stands at its representative point.
    network : RoadNetwork
        From :func:`geo.network.build_network`, in the metric CRS used for every distance.
    facilities : DataFrame
        ``name``, ``type``, ``lon``, ``lat`` (EPSG:4490 degrees), e.g. from
        :func:`geo.service_inputs.read_facilities`.
    grids : GeoDataFrame, optional
        ``code``, ``parent_code``: gives each building its community code.
    households : Series, optional
        Households per building code (:func:`geo.service_inputs.read_households`).
    speed : float
        Walking speed in m/s.
    minutes : sequence of float
        Time bands in minutes, increasing.

    Returns
    -------
    ServiceCircle
    """
    speed = check_speed(speed)
    minutes = parse_minutes(minutes)
    if buildings.crs is None:
        raise InputError("buildings", "have no CRS", "rebuild the hierarchy with `python -m geo build`")
    table = _building_table(buildings, grids, households)
    points = shapely.point_on_surface(buildings.to_crs(network.metric_crs).geometry.to_numpy())
    bxy = shapely.get_coordinates(points) if len(points) else np.zeros((0, 2))
    fx, fy = to_metric(facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float),
                       metric_crs=network.metric_crs)
    snapped = snap(network, np.r_[fx, bxy[:, 0]], np.r_[fy, bxy[:, 1]])
    paths = ShortestPaths(network, snapped)
    nf = len(facilities)
    building_node = paths.point_node[nf:]
    types = list(dict.fromkeys(facilities["type"].astype(str)))
    names = facilities["name"].astype(str).to_numpy()
    parts, node_distance = [], {}
    for kind in types:
        dist, owner = paths.nearest(np.flatnonzero(facilities["type"].astype(str).to_numpy() == kind))
        node_distance[kind] = dist
        walk_m = dist[building_node]
        reach = np.isfinite(walk_m)
        walk_min = np.where(reach, walk_m / speed / 60.0, np.nan)
        nearest = owner[building_node]
        part = table.copy()
        part["facility_type"] = kind
        part["facility_name"] = np.where(reach, names[np.maximum(nearest, 0)] if nf else "", "")
        part["walk_m"] = np.round(np.where(reach, walk_m, np.nan), 1)
        part["walk_min"] = np.round(walk_min, 4)
        part["band"] = band_of(walk_min, minutes)
        part["snap_m"] = np.round(snapped.distance_m[nf:], 1)
        part["_order"] = np.arange(len(part))
        parts.append(part)
    rows = _ordered(parts, types)
    shown = facilities[["name", "type", "lon", "lat"]].copy()
    shown["snap_m"] = np.round(snapped.distance_m[:nf], 1)
    return ServiceCircle(rows=rows, facilities=shown, types=types, speed=speed, minutes=tuple(minutes),
                         node_distance=node_distance, paths=paths, building_xy=bxy,
                         households_known=households is not None)


def _ordered(parts: list[pd.DataFrame], types: list[str]) -> pd.DataFrame:
    """Rows building by building, the facility types in order of first appearance."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_COLUMNS})
    rows = pd.concat(parts, ignore_index=True)
    rows["_type"] = rows["facility_type"].map({k: i for i, k in enumerate(types)})
    rows = rows.sort_values(["_order", "_type"], kind="stable").drop(columns=["_order", "_type"])
    band = rows["band"].astype("Float64")
    if bool(((band % 1 == 0) | band.isna()).all()):  # whole minutes: written as 5, 10, 15
        band = band.astype("Int64")
    rows["band"] = band
    return rows[list(ROW_COLUMNS)].reset_index(drop=True)


def outside_table(result: ServiceCircle, *, level: str = "grid_code") -> pd.DataFrame:
    """Buildings and households outside each band, per area and facility type.

    Parameters
    ----------
    result : ServiceCircle
    level : {"grid_code", "community_code"}
        The area the rows are counted by.

    Returns
    -------
    pandas.DataFrame
        ``facility_type``, ``code``, ``buildings``, ``households`` and, per band ``m``,
        ``outside_<m>`` (buildings beyond ``m`` minutes or unreachable), ``households_outside_<m>``
        and ``share_outside_<m>`` (of households when known, else of buildings), sorted by type
        and code.
    """
    if level not in ("grid_code", "community_code"):
        raise ValueError(f"level must be 'grid_code' or 'community_code', not {level!r}")
    rows = result.rows
    frame = pd.DataFrame({"facility_type": rows["facility_type"], "code": rows[level],
                          "buildings": 1, "households": rows["households"].astype(float)})
    walk = rows["walk_min"].astype(float)
    for m in result.minutes:
        out = ~(walk <= m * (1 + _EPS))
        frame[f"outside_{m:g}"] = out.astype(int)
        frame[f"households_outside_{m:g}"] = frame["households"].where(out, 0.0)
    table = frame.groupby(["facility_type", "code"], sort=True).sum(min_count=1).reset_index()
    for m in result.minutes:
        base, part = (("households", f"households_outside_{m:g}") if result.households_known
                      else ("buildings", f"outside_{m:g}"))
        total = table[base].astype(float)
        table[f"share_outside_{m:g}"] = np.round(np.where(total > 0, table[part] / total.where(total > 0, 1), 0.0), 4)
    if not result.households_known:
        table = table.drop(columns=["households", *[f"households_outside_{m:g}" for m in result.minutes]])
    return table


def totals(result: ServiceCircle) -> pd.DataFrame:
    """The district's figures per facility type: facilities, buildings and households outside each
    band and their share (of households when known, else of buildings)."""
    rows = result.rows
    out = []
    for kind in result.types:
        part = rows.loc[rows["facility_type"] == kind]
        walk = part["walk_min"].astype(float)
        entry: dict[str, object] = {"facility_type": kind,
                                    "facilities": int((result.facilities["type"] == kind).sum()),
                                    "buildings": len(part), "unreachable": int(walk.isna().sum())}
        hh = part["households"].astype(float)
        for m in result.minutes:
            outside = ~(walk <= m * (1 + _EPS))
            entry[f"outside_{m:g}"] = int(outside.sum())
            if result.households_known:
                entry[f"households_outside_{m:g}"] = int(hh[outside].sum())
                entry[f"share_outside_{m:g}"] = round(float(hh[outside].sum() / hh.sum()), 4) if hh.sum() else 0.0
            else:
                entry[f"share_outside_{m:g}"] = round(float(outside.mean()), 4) if len(part) else 0.0
        out.append(entry)
    return pd.DataFrame(out)
