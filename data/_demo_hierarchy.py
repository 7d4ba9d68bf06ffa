"""The demo street, its communities/villages and their grids, as unions of faces of one partition."""

from __future__ import annotations

import _demo_geometry as geom
import geopandas as gpd
import numpy as np
from _demo_district import STREET_CODE, STREET_NAME, District
from pyproj import Transformer

from core.constants import DEMO_CRS, STORAGE_CRS

#: Where the district lies (CGCS2000 lon/lat of its centre).
CENTRE_LONLAT = (116.6, 35.45)
#: Urban communities and villages (named in reading order) and how many grids each kind gets.
URBAN_NAMES = ("锦绣社区", "和平社区", "文昌社区", "东华社区", "西苑社区", "南湖社区", "北辰社区")
VILLAGE_NAMES = ("王庄村", "李家营村", "张楼村", "刘集村", "陈洼村", "赵庄村", "孙庙村", "周屯村",
                 "吴寨村", "郑桥村", "马店村")
URBAN_GRIDS = 100
VILLAGE_GRIDS = 98


def _largest_remainder(total: int, shares: np.ndarray, caps: np.ndarray) -> list[int]:
    """``total`` split in proportion to ``shares``, each part between 1 and its cap."""
    raw = shares / shares.sum() * total
    out = np.maximum(np.floor(raw).astype(int), 1)
    out = np.minimum(out, caps)
    while out.sum() < total:
        room = np.where(out < caps, raw - out, -np.inf)
        out[int(np.argmax(room))] += 1
    while out.sum() > total:
        room = np.where(out > 1, out - raw, -np.inf)
        out[int(np.argmax(room))] -= 1
    return [int(v) for v in out]


def _reading_order(points: np.ndarray, band: float) -> list[int]:
    """Indices ordered north to south in bands of ``band`` metres, west to east within a band."""
    rows = np.floor((points[:, 1].max() - points[:, 1]) / band)
    return [int(i) for i in np.lexsort((points[:, 0], rows))]


def build_hierarchy(rng: np.random.Generator) -> tuple[District, geom.Faces, dict]:
    """Street, communities and grids as unions of faces of one road/river partition."""
    to_metric = Transformer.from_crs(STORAGE_CRS, DEMO_CRS, always_xy=True)
    centre = to_metric.transform(*CENTRE_LONLAT)
    street_poly = geom.outline(rng, centre)
    lines, urban_zone, _named = geom.road_network(rng, street_poly)
    faces = geom.faces_of(street_poly, lines, urban_zone)

    urban_members = [int(i) for i in np.flatnonzero(faces.urban)]
    rural_members = [int(i) for i in np.flatnonzero(~faces.urban)]
    comm_groups = geom.partition(urban_members, len(URBAN_NAMES), faces)
    comm_groups += geom.partition(rural_members, len(VILLAGE_NAMES), faces)

    # name urban communities and villages in reading order (north-west first)
    def order(groups: list[list[int]]) -> list[list[int]]:
        pts = np.array([faces.centroids[g].mean(0) for g in groups])
        return [groups[i] for i in _reading_order(pts, 800.0)]

    urban_groups = order(comm_groups[: len(URBAN_NAMES)])
    village_groups = order(comm_groups[len(URBAN_NAMES):])

    comm_rows, grid_rows = [], []
    face_grid = np.full(len(faces.polygons), -1)
    face_comm = np.full(len(faces.polygons), -1)
    specs = [(URBAN_NAMES, urban_groups, URBAN_GRIDS, "社区", 1),
             (VILLAGE_NAMES, village_groups, VILLAGE_GRIDS, "村", 201)]
    for names, groups, total, kind, first in specs:
        areas = np.array([faces.areas[g].sum() for g in groups])
        caps = np.array([len(g) for g in groups])
        counts = _largest_remainder(total, areas, caps)
        for k, (cname, members, n_grids) in enumerate(zip(names, groups, counts, strict=True)):
            ccode = f"{STREET_CODE[:9]}{first + k:03d}"
            ci = len(comm_rows)
            comm_rows.append({"CODE": ccode, "NAME": cname, "KIND": kind, "PARENT": STREET_CODE,
                              "geometry": geom.union_faces(faces, members)})
            face_comm[members] = ci
            parts = geom.partition(members, n_grids, faces)
            pts = np.array([faces.centroids[p].mean(0) for p in parts])
            band = 350.0 if kind == "社区" else 900.0
            for g_no, pi in enumerate(_reading_order(pts, band), start=1):
                gi = len(grid_rows)
                grid_rows.append({"网格编码": f"{ccode}{g_no:03d}", "网格名称": f"{cname}第{g_no}网格",
                                  "所属社区": ccode,
                                  "geometry": geom.union_faces(faces, parts[pi])})
                face_grid[parts[pi]] = gi
    street = gpd.GeoDataFrame(
        {"CODE": [STREET_CODE], "NAME": [STREET_NAME]},
        geometry=[geom.union_faces(faces, list(range(len(faces.polygons))))], crs=DEMO_CRS)
    communities = gpd.GeoDataFrame(comm_rows, geometry="geometry", crs=DEMO_CRS)
    grids = gpd.GeoDataFrame(grid_rows, geometry="geometry", crs=DEMO_CRS)
    district = District(street, communities, grids, gpd.GeoDataFrame())
    extra = {"face_grid": face_grid, "face_comm": face_comm, "urban_zone": urban_zone}
    return district, faces, extra
