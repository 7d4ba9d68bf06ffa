"""Buildings of the demo district: 楼栋 along urban blocks, 院落 around village cores, coded by grid."""

from __future__ import annotations

import _demo_geometry as geom
import geopandas as gpd
import numpy as np
import shapely
from _demo_district import District
from shapely.geometry import Polygon

from core.constants import DEMO_CRS


def _urban_blocks(rng: np.random.Generator, faces: geom.Faces,
                  face_grid: np.ndarray) -> list[tuple[int, str, int, int, Polygon]]:
    """楼栋 rows ``(grid index, kind, floors, households, polygon)`` along the urban blocks.

    One urban face in five stays free of housing (schools, parks, markets).
    """
    rows = []
    for fi, poly in enumerate(faces.polygons):
        if faces.urban[fi] and rng.random() < 0.8:  # the rest: schools, parks, markets
            for b in geom.block_buildings(rng, poly):
                floors = int(rng.choice([5, 6, 6, 6, 7, 11, 18]))
                units = int(rng.integers(2, 5))
                rows.append((int(face_grid[fi]), "楼栋", floors, floors * units * 2, b))
    return rows


def _village_cores(rng: np.random.Generator, cents: np.ndarray, weights: np.ndarray) -> list[np.ndarray]:
    """Centres of a village's settlements: the face nearest its weighted centre, sometimes a
    second one more than 700 m away in a village wider than 900 m."""
    centre = (cents * weights[:, None]).sum(0) / weights.sum()
    cores = [cents[int(np.argmin(np.hypot(*(cents - centre).T)))]]
    far = np.hypot(*(cents - cores[0]).T)
    if rng.random() < 0.6 and far.max() > 900:
        options = np.flatnonzero(far > 700)
        cores.append(cents[int(rng.choice(options))])
    return cores


def _village_courtyards(rng: np.random.Generator, faces: geom.Faces, face_grid: np.ndarray,
                        members: np.ndarray) -> list[tuple[int, str, int, int, Polygon]]:
    """院落 rows ``(grid index, kind, floors, households, polygon)`` around a village's cores."""
    rows = []
    cores = _village_cores(rng, faces.centroids[members], faces.areas[members])
    angle = rng.uniform(-0.4, 0.4)
    for k, core in enumerate(cores):
        radius = rng.uniform(300, 360) if k == 0 else rng.uniform(170, 230)
        disc = shapely.Point(core).buffer(radius * 1.2)
        for fi in members:
            poly = faces.polygons[fi]
            if not poly.intersects(disc):
                continue
            for b in geom.courtyards(rng, poly, np.asarray(core), radius, angle):
                floors = 1 if rng.random() < 0.8 else 2
                hh = 1 if rng.random() < 0.9 else 2
                rows.append((int(face_grid[fi]), "院落", floors, hh, b))
    return rows


def _coded_buildings(rows: list[tuple[int, str, int, int, Polygon]], grids: gpd.GeoDataFrame,
                     comms: gpd.GeoDataFrame) -> list[dict]:
    """Building records with codes and names, in grid order, north-west first within a grid.

    Raises
    ------
    RuntimeError
        When a grid gets more than 999 buildings (the code has three digits).
    """
    cent = np.array([[b.centroid.x, b.centroid.y] for *_, b in rows])
    order = np.lexsort((cent[:, 0], -np.round(cent[:, 1], -1), [r[0] for r in rows]))
    per_grid: dict[int, int] = {}
    per_comm: dict[str, int] = {}
    grid_codes = grids["网格编码"].tolist()
    grid_parent = grids["所属社区"].tolist()
    comm_names = dict(zip(comms["CODE"], comms["NAME"], strict=True))
    out = []
    for i in order:
        gi, kind, floors, hh, b = rows[int(i)]
        gcode = grid_codes[gi]
        ccode = grid_parent[gi]
        cname = comm_names[ccode]
        per_grid[gi] = per_grid.get(gi, 0) + 1
        per_comm[ccode] = per_comm.get(ccode, 0) + 1
        if per_grid[gi] > 999:
            msg = f"grid {gcode} got more than 999 buildings; codes would overflow"
            raise RuntimeError(msg)
        name = f"{per_grid[gi]}号楼" if kind == "楼栋" else f"{cname}{per_comm[ccode]}号院"
        out.append({"CODE": f"{gcode}{per_grid[gi]:03d}", "NAME": name, "GRID": gcode,
                    "KIND": kind, "FLOORS": floors, "HOUSEHOLDS": hh, "geometry": b})
    return out


def build_buildings(rng: np.random.Generator, district: District, faces: geom.Faces,
                    extra: dict) -> None:
    """楼栋 along urban blocks, 院落 around village cores; codes, names and household counts.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw.
    district : District
        Its ``buildings`` are set.
    faces : Faces
        The planar partition the hierarchy was built from.
    extra : dict
        ``face_grid`` and ``face_comm``: grid and community index of each face.
    """
    face_grid = extra["face_grid"]
    comms = district.communities
    rows = _urban_blocks(rng, faces, face_grid)
    for ci in range(len(comms)):
        if comms.loc[ci, "KIND"] != "村":
            continue
        members = np.flatnonzero(extra["face_comm"] == ci)
        rows += _village_courtyards(rng, faces, face_grid, members)
    out = _coded_buildings(rows, district.grids, comms)
    district.buildings = gpd.GeoDataFrame(out, geometry="geometry", crs=DEMO_CRS)
