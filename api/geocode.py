"""A position for a report that gives only an address: the hierarchy's own names.

There is no street-address geocoder offline; what an address usually does name is its community
or village (``锦川街道李家营村203号``), sometimes its grid. The most specific area named wins (a
grid before a community before a street; the longest name within a level), and the report is
placed at that area's representative point (inside it; EPSG:4490 degrees), with the case text
saying that the position is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Levels searched, with their Chinese names for the case text.
_LEVELS = (("grids", "网格"), ("communities", "社区/村"), ("streets", "街道"))


@dataclass(frozen=True)
class Place:
    """An area named in an address, and the point a report there is placed at (EPSG:4490 degrees)."""

    name: str
    level: str
    code: str
    lon: float
    lat: float


class AddressIndex:
    """The grid, community and street names of a hierarchy with a point inside each.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        The hierarchy (``geo.read_hierarchy``), any CRS; points are kept in EPSG:4490.
    """

    def __init__(self, layers: dict[str, Any]) -> None:
        places: list[tuple[int, Place]] = []
        for rank, (level, label) in enumerate(_LEVELS):
            layer = layers.get(level)
            if layer is None or not len(layer):
                continue
            layer = layer.to_crs("EPSG:4490")
            points = layer.geometry.representative_point()
            for name, code, point in zip(layer["name"].astype(str), layer["code"].astype(str), points, strict=True):
                if len(name.strip()) >= 2 and point is not None and not point.is_empty:
                    places.append((rank, Place(name.strip(), label, code, float(point.x), float(point.y))))
        # grids, then communities, then streets; longest names first within a level
        self.places = [p for _, p in sorted(places, key=lambda rp: (rp[0], -len(rp[1].name), rp[1].code))]

    def find(self, address: str) -> Place | None:
        """The most specific area whose name the address contains, or None."""
        text = (address or "").replace(" ", "")
        return next((p for p in self.places if p.name in text), None)
