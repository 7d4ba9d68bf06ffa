"""Where a registered person lives: their building (楼栋编码) or position, the grid holding it and the
grid's community and street, from the hierarchy (``hierarchy.gpkg``, EPSG:4490)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo import read_hierarchy


@dataclass(frozen=True)
class Place:
    """A home: building (None when only a position is known), grid, community, street and the
    position (EPSG:4490 degrees; a building's is a point on its outline's surface)."""

    building_code: str | None
    grid_code: str
    community_code: str | None
    street_code: str | None
    lon: float
    lat: float


class Places:
    """Look-ups of buildings and grids of one hierarchy.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        As :func:`geo.read_hierarchy` returns them (``grids`` and ``buildings`` used;
        ``communities`` for the streets).
    """

    def __init__(self, layers: dict) -> None:
        grids, buildings = layers["grids"], layers["buildings"]
        communities = layers.get("communities")
        streets = ({} if communities is None else
                   dict(zip(communities["code"].astype(str), communities["parent_code"].astype(str), strict=True)))
        self._grid_codes = grids["code"].astype(str).to_numpy()
        self._grid_geoms = grids.geometry.to_numpy()
        self._grid_tree = shapely.STRtree(self._grid_geoms)
        self.parents: dict[str, tuple[str | None, str | None]] = {
            str(g): (str(c) or None, streets.get(str(c)) or None)
            for g, c in zip(grids["code"], grids["parent_code"], strict=True)}
        points = shapely.point_on_surface(buildings.geometry.to_numpy()) if len(buildings) else np.array([])
        self._buildings: dict[str, tuple[str, float, float]] = {
            str(code): (str(parent), float(shapely.get_x(p)), float(shapely.get_y(p)))
            for code, parent, p in zip(buildings["code"], buildings["parent_code"], points, strict=True)}
        self._building_codes = buildings["code"].astype(str).to_numpy()
        self._building_tree = shapely.STRtree(buildings.geometry.to_numpy())

    @classmethod
    def from_gpkg(cls, path: str | Path) -> Places:
        """The places of ``hierarchy.gpkg`` (``python -m geo build``)."""
        return cls(read_hierarchy(path))

    def _place(self, building: str | None, grid: str, lon: float, lat: float) -> Place:
        community, street = self.parents.get(grid, (None, None))
        return Place(building, grid, community, street, lon, lat)

    def building(self, code: str) -> Place | None:
        """The home in building ``code`` (at a point on the building's surface), or None for a
        building the hierarchy does not hold (or whose grid it does not)."""
        found = self._buildings.get(str(code))
        if found is None or found[0] not in self.parents:
            return None
        grid, x, y = found
        return self._place(str(code), grid, x, y)

    def at(self, lon: float, lat: float) -> Place | None:
        """The home at a position: the grid holding it (the lowest code on a shared edge) and the
        building whose outline holds it, if any; None outside every grid."""
        point = shapely.Point(lon, lat)
        hits = self._grid_tree.query(point, predicate="intersects")
        if not len(hits):
            return None
        grid = str(min(self._grid_codes[hits]))
        inside = self._building_tree.query(point, predicate="intersects")
        building = str(min(self._building_codes[inside])) if len(inside) else None
        return self._place(building, grid, lon, lat)
