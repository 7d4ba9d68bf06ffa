"""What the demo CSV tables are drawn from (layers and per-building values, read once) and how
their coordinates and times are written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from _demo_district import STREET_NAME, District
from pyproj import Transformer
from shapely.geometry import Polygon

from core.constants import DEMO_CRS, STORAGE_CRS

#: Roads the urban compounds are addressed on (two per community).
ROAD_NAMES = ("锦绣路", "和平街", "文昌路", "东华街", "西苑路", "南湖路", "北辰街", "建设路",
              "育才路", "光明街", "新华路", "振兴路", "民生街", "长青路")


class LonLat:
    """Metric coordinates (EPSG:4548) as the CSV's CGCS2000 longitude/latitude strings (7 decimals)."""

    def __init__(self) -> None:
        self._t = Transformer.from_crs(DEMO_CRS, STORAGE_CRS, always_xy=True)

    def __call__(self, x: float, y: float) -> tuple[str, str]:
        lon, lat = self._t.transform(x, y)
        return f"{lon:.7f}", f"{lat:.7f}"


def timestamp(t: dt.datetime) -> str:
    """``t`` as the CSV tables write times (``YYYY-MM-DD HH:MM:SS``)."""
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _addresses(district: District) -> list[str]:
    """A fictional postal address per building.

    In a community each grid is one compound (``N号院``) on one of the community's two roads,
    numbered with even numbers along the road; in a village the courtyard number is the house
    number.
    """
    comms = district.communities
    names = dict(zip(comms["CODE"], comms["NAME"], strict=True))
    roads: dict[str, tuple[str, str]] = {}
    for k, (ccode, kind) in enumerate(zip(comms["CODE"], comms["KIND"], strict=True)):
        if kind == "社区":
            roads[ccode] = (ROAD_NAMES[k % len(ROAD_NAMES)],
                            ROAD_NAMES[(k + 7) % len(ROAD_NAMES)])
    compound: dict[str, tuple[str, int]] = {}
    last: dict[str, int] = {}
    out = []
    for b in district.buildings.itertuples():
        ccode = b.GRID[:12]
        cname = names[ccode]
        if b.KIND == "楼栋":
            if b.GRID not in compound:
                road = roads[ccode][int(b.GRID[-3:]) % 2]
                last[road] = last.get(road, 0) + 2
                compound[b.GRID] = (road, last[road])
            road, number = compound[b.GRID]
            out.append(f"{STREET_NAME}{road}{number}号院{b.NAME}")
        else:
            out.append(f"{STREET_NAME}{cname}{b.NAME[len(cname):-1]}")
    return out


@dataclass(frozen=True)
class TableInputs:
    """What the tables are drawn from: the layers and per-building values, read once."""

    lonlat: LonLat
    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    street: Polygon
    building_xy: np.ndarray
    building_households: np.ndarray
    #: share of each building in the households (where incidents happen)
    building_share: np.ndarray
    building_address: list[str]
    building_kind: list[str]
    building_code: list[str]
    grid_codes: list[str]
    community_kind: dict[str, str]
    community_name: dict[str, str]
    grid_tree: shapely.STRtree

    @classmethod
    def of(cls, district: District) -> TableInputs:
        """Read ``district`` (layers with a fresh 0..n-1 index)."""
        grids = district.grids.reset_index(drop=True)
        comms = district.communities.reset_index(drop=True)
        blds = district.buildings.reset_index(drop=True)
        households = blds["HOUSEHOLDS"].to_numpy(dtype=float)
        return cls(
            lonlat=LonLat(), grids=grids, communities=comms, buildings=blds,
            street=district.street.geometry.iloc[0],
            building_xy=shapely.get_coordinates(shapely.centroid(blds.geometry.values)),
            building_households=households, building_share=households / households.sum(),
            building_address=_addresses(district),
            building_kind=blds["KIND"].tolist(), building_code=blds["CODE"].tolist(),
            grid_codes=grids["网格编码"].tolist(),
            community_kind=dict(zip(comms["CODE"], comms["KIND"], strict=True)),
            community_name=dict(zip(comms["CODE"], comms["NAME"], strict=True)),
            grid_tree=shapely.STRtree(grids.geometry.values),
        )
