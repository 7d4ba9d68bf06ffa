"""The demo district's identity and the in-memory result of the generator."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

#: Administrative code and name of the (fictional) street.
STREET_CODE = "370811004000"
STREET_NAME = "锦川街道"


@dataclass
class District:
    """Everything generated, before writing."""

    street: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    tables: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
