"""Generate the synthetic demo district (锦川街道, fictional) as a real delivery would arrive.

Usage::

    python data/make_demo.py --out DIR [--seed 20260415]

Writes into ``DIR`` (created; built in a temporary sibling directory and renamed into place, so
a failed run leaves nothing half-written):

- ``streets.shp``, ``communities.shp``, ``buildings.shp``: UTF-8 attributes (``.cpg`` "UTF-8");
- ``grids.shp``: GBK attributes with Chinese field names (``.cpg`` "GBK");
- ``incidents.csv``, ``workers.csv``, ``households.csv``, ``visits.csv``, ``tracks.csv``,
  ``facilities.csv``: UTF-8 with BOM.

Every shapefile is in EPSG:4548 (CGCS2000 / 3-degree GK CM 117E, metres); CSV coordinates are
CGCS2000 longitude/latitude (EPSG:4490) with 7 decimals. The same seed gives byte-identical
files. Everything is synthetic: names, addresses, phone and ID numbers are fictional.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE.parent), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import _demo_geometry as geom  # noqa: E402
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

from core.constants import (  # noqa: E402
    CATEGORIES,
    DEMO_CRS,
    SATISFACTION,
    SOURCES,
    STORAGE_CRS,
    SUBCATEGORIES,
    VISIT_CATEGORIES,
)
from core.errors import GridCommandError, InputError  # noqa: E402

DEFAULT_SEED = 20260415
#: Where the district lies (CGCS2000 lon/lat of its centre).
CENTRE_LONLAT = (116.6, 35.45)
#: DBF "last update" date written into every shapefile so that runs are byte-identical.
DBF_DATE = (2026 - 1900, 6, 30)

STREET_CODE = "370811004000"
STREET_NAME = "锦川街道"
URBAN_NAMES = ("锦绣社区", "和平社区", "文昌社区", "东华社区", "西苑社区", "南湖社区", "北辰社区")
VILLAGE_NAMES = ("王庄村", "李家营村", "张楼村", "刘集村", "陈洼村", "赵庄村", "孙庙村", "周屯村",
                 "吴寨村", "郑桥村", "马店村")
URBAN_GRIDS = 100
VILLAGE_GRIDS = 98
ROAD_NAMES = ("锦绣路", "和平街", "文昌路", "东华街", "西苑路", "南湖路", "北辰街", "建设路",
              "育才路", "光明街", "新华路", "振兴路", "民生街", "长青路")
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
            "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
            "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰凤春梅海燕桂芝"
         "德福淑珍丽娟新民文博子涵浩然雨轩欣怡思远嘉琪立新保国宏伟晓东晓燕玉梅")

PERIOD_START = dt.datetime(2026, 4, 15)
PERIOD_END = dt.datetime(2026, 6, 30, 23, 59, 59)
#: The moment the hotline export was taken: work orders closing later are still open.
EXPORT_AT = dt.datetime(2026, 6, 30, 18, 0, 0)
N_INCIDENTS = 2612
TRACK_DAY = dt.date(2026, 6, 30)
VISIT_MONTHS = (4, 5, 6)

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "fire": ("{addr}有烟冒出，疑似起火，请速派人处置。",
             "{addr}楼道内杂物着火，火势不大，已有居民用灭火器扑救。"),
    "gas_leak": ("{addr}楼道内有明显燃气味，担心泄漏，请尽快派人查看。",
                 "{addr}附近施工挖断燃气管道，现场有气味。"),
    "traffic_accident": ("{addr}门口两车剐蹭，堵塞道路，请协调处理。",
                         "{addr}路口电动车与行人相撞，有人受轻伤。"),
    "flooding": ("{addr}附近路面积水严重，车辆无法通行。",
                 "{addr}地下车库进水，请排水。"),
    "public_health": ("{addr}附近有人员身体不适倒地，请协助联系急救。",
                      "{addr}周边疑似出现食物中毒情况，请核实。"),
    "neighbour": ("{addr}楼上楼下因漏水问题发生争执，请调解。",
                  "{addr}邻居长期占用公共通道堆放杂物，多次沟通无果。"),
    "family": ("{addr}家庭成员因赡养问题发生争吵，请社区调解。",
               "{addr}夫妻纠纷，邻居反映争吵声较大。"),
    "property_mgmt": ("{addr}业主与物业因收费问题发生纠纷。",
                      "{addr}物业停止服务，业主要求协调。"),
    "labour": ("{addr}附近工地拖欠工人工资，工人聚集讨薪。",
               "{addr}某店铺拖欠员工两个月工资。"),
    "land": ("{addr}两户因宅基地边界发生争议，请调解。",
             "{addr}承包地界址不清，村民发生纠纷。"),
    "fire_safety": ("{addr}消防通道被车辆长期占用。",
                    "{addr}楼道内消防栓损坏无水。"),
    "building_safety": ("{addr}外墙瓷砖脱落，存在安全隐患。",
                        "{addr}房屋墙体出现裂缝，居民担心安全。"),
    "gas_safety": ("{addr}餐馆液化气罐存放不规范。",
                   "{addr}居民私拉燃气软管，存在隐患。"),
    "road_facility": ("{addr}门前井盖缺失，夜间行人易跌倒。",
                      "{addr}路灯损坏多日，夜间漆黑。"),
    "ebike_charging": ("{addr}有居民从楼上飞线给电动车充电。",
                       "{addr}楼道内停放电动车并充电。"),
    "sanitation": ("{addr}附近垃圾堆放多日无人清运，气味较大，请尽快处理。",
                   "{addr}绿化带内有建筑垃圾，影响环境。"),
    "noise": ("{addr}附近夜间施工噪音扰民，影响休息。",
              "{addr}广场舞音响声音过大，请协调。"),
    "municipal": ("{addr}自来水管破裂漏水，请维修。",
                  "{addr}路面坑洼破损，请修补。"),
    "property_service": ("{addr}电梯经常故障，物业维修不及时。",
                         "{addr}小区门禁损坏，物业未处理。"),
    "policy": ("咨询{addr}附近居民办理居住证需要哪些材料。",
               "咨询城乡居民医保缴费政策，来电人住{addr}。"),
    "elderly_care": ("{addr}独居老人需要助餐服务，请社区对接。",
                     "{addr}老人咨询居家养老上门服务。"),
}
_URBAN_ONLY = {"property_mgmt", "property_service"}
_VILLAGE_ONLY = {"land"}
_CATEGORY_WEIGHTS = {"emergency": 0.03, "dispute": 0.12, "hazard": 0.16, "request": 0.69}
_SOURCE_WEIGHTS = {"hotline_12345": 0.62, "snapshot": 0.18, "patrol": 0.14, "video": 0.03,
                   "superior": 0.03}
_HANDLE_HOURS = {"emergency": (0.5, 6.0), "dispute": (12.0, 120.0), "hazard": (4.0, 72.0),
                 "request": (4.0, 120.0)}
_VISIT_RESULTS = ("情况稳定", "已落实帮扶措施", "发现问题已上报", "未遇本人，已电话联系")
_POSTS = ("专职网格员", "网格长", "机动网格员")


@dataclass
class District:
    """Everything generated, before writing."""

    street: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    tables: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)


# --- small helpers ----------------------------------------------------------------------------
def _name(rng: np.random.Generator) -> str:
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    n = 1 if rng.random() < 0.35 else 2
    return surname + "".join(GIVEN[int(rng.integers(len(GIVEN)))] for _ in range(n))


def _fake_phone(prefix: str, number: int) -> str:
    return f"{prefix}{number % 10000:04d}"


def _wrong_id(rng: np.random.Generator, birth: dt.date) -> str:
    """An 18-character ID of region 370811 whose check digit is deliberately wrong."""
    body = f"370811{birth:%Y%m%d}{int(rng.integers(1, 999)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    checks = "10X98765432"
    right = checks[total % 11]
    wrong = checks[(total % 11 + 1 + int(rng.integers(0, 9))) % 11]
    if wrong == right:  # cannot happen (offset 1..9 of 11), kept as a guard
        wrong = checks[(total % 11 + 1) % 11]
    return body + wrong


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _largest_remainder(total: int, shares: np.ndarray, caps: np.ndarray) -> list[int]:
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


# --- hierarchy ----------------------------------------------------------------------------------
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


# --- tables -------------------------------------------------------------------------------------
class _LonLat:
    def __init__(self) -> None:
        self._t = Transformer.from_crs(DEMO_CRS, STORAGE_CRS, always_xy=True)

    def __call__(self, x: float, y: float) -> tuple[str, str]:
        lon, lat = self._t.transform(x, y)
        return f"{lon:.7f}", f"{lat:.7f}"


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


#: Column headers of the CSV tables, in the order they are generated and written.
_HEADERS: dict[str, tuple[str, ...]] = {
    "incidents.csv": ("工单编号", "来源渠道", "一级分类", "二级分类", "诉求内容", "事发地址", "经度",
                      "纬度", "诉求人", "联系电话", "受理时间", "办结时间", "满意度"),
    "workers.csv": ("工号", "姓名", "手机号", "网格编码", "社区编码", "岗位"),
    "households.csv": ("户编号", "户主姓名", "身份证号", "联系电话", "类别", "楼栋编码", "网格编码", "经度",
                       "纬度"),
    "visits.csv": ("走访编号", "户编号", "工号", "走访时间", "经度", "纬度", "走访结果"),
    "tracks.csv": ("工号", "时间", "经度", "纬度"),
    "facilities.csv": ("名称", "类型", "经度", "纬度", "社区编码"),
}
#: Relative number of incidents accepted in each hour of the day.
_HOUR_WEIGHTS = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.0, 2.2, 2.6, 2.4, 2.0, 1.4, 1.6,
                          2.2, 2.3, 2.1, 1.8, 1.4, 1.3, 1.2, 0.9, 0.6, 0.35])
#: Age range (years) of a household head by household category.
_HOUSEHOLD_AGES = {"hardship": (25, 80), "empty_nest": (65, 92), "correction": (20, 60),
                   "rehab": (20, 55)}
#: Household categories' shares in a community (``True``) and in a village (``False``).
_HOUSEHOLD_MIX = {
    True: {"hardship": 0.3, "empty_nest": 0.5, "correction": 0.12, "rehab": 0.08},
    False: {"hardship": 0.4, "empty_nest": 0.5, "correction": 0.06, "rehab": 0.04},
}
_MONTH_DAYS = {4: 30, 5: 31, 6: 30}


@dataclass(frozen=True)
class _TableInputs:
    """What the tables are drawn from: the layers and per-building values, read once."""

    lonlat: _LonLat
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
    def of(cls, district: District) -> _TableInputs:
        """Read ``district`` (layers with a fresh 0..n-1 index)."""
        grids = district.grids.reset_index(drop=True)
        comms = district.communities.reset_index(drop=True)
        blds = district.buildings.reset_index(drop=True)
        households = blds["HOUSEHOLDS"].to_numpy(dtype=float)
        return cls(
            lonlat=_LonLat(), grids=grids, communities=comms, buildings=blds,
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


# workers
def _workers(rng: np.random.Generator, inputs: _TableInputs) -> tuple[list[list[str]], dict[str, str]]:
    """Worker rows (one per grid, a 网格长 per community, mobile workers) and grid -> worker ID."""
    workers: list[list[str]] = []
    grid_worker: dict[str, str] = {}
    for gcode in inputs.grid_codes:
        wid = f"WG{len(workers) + 1:04d}"
        grid_worker[gcode] = wid
        workers.append([wid, _name(rng), _fake_phone("1380000", len(workers) + 1), gcode,
                        gcode[:12], _POSTS[0]])
    comm_codes = inputs.communities["CODE"]
    for ccode in comm_codes:
        workers.append([f"WG{len(workers) + 1:04d}", _name(rng),
                        _fake_phone("1380000", len(workers) + 1), "", ccode, _POSTS[1]])
    kind = inputs.community_kind
    mobile_comms = ([c for c in comm_codes if kind[c] == "社区"] * 2
                    + [c for c in comm_codes if kind[c] == "村"][:1])
    for ccode in mobile_comms:
        workers.append([f"WG{len(workers) + 1:04d}", _name(rng),
                        _fake_phone("1380000", len(workers) + 1), "", ccode, _POSTS[2]])
    return workers, grid_worker


# incidents
def _incident_days() -> tuple[list[dt.date], np.ndarray]:
    """Days of the period and the share of incidents of each (fewer at weekends, slowly rising)."""
    days = []
    d = PERIOD_START.date()
    while d <= PERIOD_END.date():
        days.append(d)
        d += dt.timedelta(days=1)
    day_w = np.array([(0.75 if day.weekday() >= 5 else 1.0) * (1 + 0.004 * k)
                      for k, day in enumerate(days)])
    return days, day_w / day_w.sum()


def _incident_place(rng: np.random.Generator, inputs: _TableInputs) -> tuple[float, float, bool, str]:
    """``(x, y, urban, address)`` of an incident: near a building (nine in ten, by households)
    or anywhere in the street, then on a road of its grid or in the fields."""
    if rng.random() < 0.9:
        bi = int(rng.choice(len(inputs.buildings), p=inputs.building_share))
        x, y = inputs.building_xy[bi] + rng.normal(0, 12, 2)
        urban = inputs.building_kind[bi] == "楼栋"
        unit = f"{int(rng.integers(1, 5))}单元" if urban else ""
        return x, y, urban, inputs.building_address[bi] + unit
    minx, miny, maxx, maxy = inputs.street.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(inputs.street, x, y):
            break
    hit = inputs.grid_tree.query(shapely.Point(x, y), predicate="intersects")
    gcode = inputs.grid_codes[int(hit.min())]
    urban = inputs.community_kind[gcode[:12]] == "社区"
    cname = inputs.community_name[gcode[:12]]
    if urban:
        return x, y, urban, f"{STREET_NAME}{cname}{int(gcode[-3:])}号网格附近道路"
    side = ["东", "南", "西", "北"][int(rng.integers(4))]
    return x, y, urban, f"{STREET_NAME}{cname}村外{side}侧田间道路"


def _incident(rng: np.random.Generator, inputs: _TableInputs,
              day: dt.date) -> tuple[dt.datetime, list[str]]:
    """One work order accepted on ``day``: ``(accepted, row)`` with the number still blank."""
    hour = int(rng.choice(24, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()))
    accepted = dt.datetime.combine(day, dt.time(hour)) + dt.timedelta(
        seconds=int(rng.integers(0, 3600)))
    x, y, urban, addr = _incident_place(rng, inputs)
    cat = _choice(rng, _CATEGORY_WEIGHTS)
    subs = [s for s in SUBCATEGORIES[cat]
            if not (urban and s.key in _VILLAGE_ONLY)
            and not (not urban and s.key in _URBAN_ONLY)]
    sub = subs[int(rng.integers(len(subs)))]
    source = _choice(rng, _SOURCE_WEIGHTS)
    text = _TEMPLATES[sub.key][int(rng.integers(len(_TEMPLATES[sub.key])))].format(
        addr=addr.removeprefix(STREET_NAME))
    lo, hi = _HANDLE_HOURS[cat]
    handled = accepted + dt.timedelta(hours=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    closed = _fmt(handled) if handled <= EXPORT_AT else ""
    lon, lat = inputs.lonlat(x, y)
    return accepted, ["", SOURCES[source].zh, CATEGORIES[cat].zh, sub.zh, text, addr, lon, lat,
                      _name(rng), _fake_phone("1390000", int(rng.integers(0, 10000))),
                      _fmt(accepted), closed, ""]


def _rate_incidents(rng: np.random.Generator, rows: list[list[str]]) -> None:
    """Fill in the satisfaction of nine in ten closed work orders (a few dissatisfied)."""
    closed_idx = [i for i, r in enumerate(rows) if r[11]]
    rated = [i for i in closed_idx if rng.random() < 0.9]
    n_bad = max(1, round(0.002 * len(rated)))
    bad = set(int(i) for i in rng.choice(rated, size=n_bad, replace=False))
    for i in rated:
        if i in bad:
            label = SATISFACTION["dissatisfied"].zh
        elif rng.random() < 0.07:
            label = SATISFACTION["basically_satisfied"].zh
        else:
            label = SATISFACTION["satisfied"].zh
        rows[i][12] = label


def _incidents(rng: np.random.Generator, inputs: _TableInputs) -> list[list[str]]:
    """Work orders of the period, numbered ``GDyyyymmddNNNN`` in order of acceptance; three
    located at a building lose their coordinates."""
    days, day_share = _incident_days()
    per_day = rng.multinomial(N_INCIDENTS, day_share)
    shapely.prepare(inputs.street)
    dated = [_incident(rng, inputs, day)
             for day, count in zip(days, per_day, strict=True) for _ in range(int(count))]
    dated.sort(key=lambda r: r[0])
    seq: dict[dt.date, int] = {}
    for accepted, row in dated:
        seq[accepted.date()] = seq.get(accepted.date(), 0) + 1
        row[0] = f"GD{accepted:%Y%m%d}{seq[accepted.date()]:04d}"
    rows = [r for _, r in dated]
    _rate_incidents(rng, rows)
    located = [i for i, r in enumerate(rows) if "单元" in r[5] or "号院" in r[5]]
    for i in rng.choice(located, size=3, replace=False):
        rows[int(i)][6] = ""
        rows[int(i)][7] = ""
    return rows


# households (four-visit registry) and their visits
def _household(rng: np.random.Generator, inputs: _TableInputs, buildings: np.ndarray, gcode: str,
               number: int) -> tuple[list[str], np.ndarray]:
    """Household ``number`` of grid ``gcode`` in one of its ``buildings`` (by households):
    its row and the building's centroid."""
    urban = inputs.community_kind[gcode[:12]] == "社区"
    hh = inputs.building_households
    bi = int(rng.choice(buildings, p=hh[buildings] / hh[buildings].sum()))
    cat = _choice(rng, _HOUSEHOLD_MIX[urban])
    a0, a1 = _HOUSEHOLD_AGES[cat]
    birth = dt.date(2026 - int(rng.integers(a0, a1 + 1)), int(rng.integers(1, 13)),
                    int(rng.integers(1, 29)))
    xy = inputs.building_xy[bi]
    lon, lat = inputs.lonlat(*xy)
    return [f"HH{number:06d}", _name(rng), _wrong_id(rng, birth), _fake_phone("1370000", number),
            VISIT_CATEGORIES[cat].zh, inputs.building_code[bi], gcode, lon, lat], xy


def _households(rng: np.random.Generator, inputs: _TableInputs) -> tuple[list[list[str]], list[np.ndarray]]:
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


def _visit(rng: np.random.Generator, lonlat: _LonLat, month: int, household: list[str], xy: np.ndarray,
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
    return when, ["", household[0], worker, _fmt(when), lon, lat, result]


def _visits(rng: np.random.Generator, inputs: _TableInputs, households: list[list[str]],
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


# GPS tracks of the grid workers on one day
def _track(rng: np.random.Generator, lonlat: _LonLat, grid: Polygon, worker: str) -> list[list[str]]:
    """Fixes of ``worker`` every 3-7 minutes of the working day, walking about inside ``grid``."""
    rows: list[list[str]] = []
    p = grid.representative_point()
    x, y = p.x, p.y
    heading = rng.uniform(0, 2 * math.pi)
    t = dt.datetime.combine(TRACK_DAY, dt.time(8, 0)) + dt.timedelta(seconds=int(rng.integers(0, 240)))
    day_end = dt.datetime.combine(TRACK_DAY, dt.time(17, 30))
    while t <= day_end:
        lon, lat = lonlat(x, y)
        rows.append([worker, _fmt(t), lon, lat])
        step = rng.uniform(0, 220)
        for _ in range(12):  # turn and shorten the step until it stays inside the grid
            heading += rng.normal(0, 0.6)
            nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
            if shapely.contains_xy(grid, nx, ny):
                x, y = nx, ny
                break
            heading += math.pi / 2
            step *= 0.7
        t += dt.timedelta(seconds=int(rng.integers(180, 421)))
    return rows


def _tracks(rng: np.random.Generator, inputs: _TableInputs, grid_worker: dict[str, str]) -> list[list[str]]:
    """The track of every grid's worker on ``TRACK_DAY``."""
    rows: list[list[str]] = []
    for gcode, grid in zip(inputs.grid_codes, inputs.grids.geometry, strict=True):
        shapely.prepare(grid)
        rows += _track(rng, inputs.lonlat, grid, grid_worker[gcode])
    return rows


# service facilities
def _facility_kinds(rng: np.random.Generator, kind: str, code: str) -> list[str]:
    """Facilities of a community or village: a 党群服务中心 and some of 卫生室 and 幸福食堂;
    the first community also hosts the street's 综治中心."""
    kinds = ["党群服务中心"]
    if kind == "村":
        kinds.append("卫生室")
        if rng.random() < 0.45:
            kinds.append("幸福食堂")
    else:
        kinds.append("幸福食堂")
        if rng.random() < 0.4:
            kinds.append("卫生室")
    if code.endswith("001"):
        kinds.append("综治中心")
    return kinds


def _facilities(rng: np.random.Generator, inputs: _TableInputs) -> list[list[str]]:
    """Facilities at buildings near each community's centroid (the k-th at the 7k-th nearest)."""
    rows: list[list[str]] = []
    b_xy = inputs.building_xy
    b_comm = inputs.buildings["GRID"].str[:12].to_numpy()
    for c in inputs.communities.itertuples(index=False):
        centre = np.array([c.geometry.centroid.x, c.geometry.centroid.y])
        idx = np.flatnonzero(b_comm == c.CODE)
        if len(idx):
            order = idx[np.argsort(np.hypot(*(b_xy[idx] - centre).T))]
            spots = [b_xy[i] for i in order[:40]]
        else:
            p = c.geometry.representative_point()
            spots = [np.array([p.x, p.y])]
        for k, kind in enumerate(_facility_kinds(rng, c.KIND, c.CODE)):
            xy = spots[min(len(spots) - 1, 7 * k)]
            name = f"{STREET_NAME}综治中心" if kind == "综治中心" else f"{c.NAME}{kind}"
            rows.append([name, kind, *inputs.lonlat(*xy), c.CODE])
    return rows


def build_tables(rng: np.random.Generator, district: District) -> None:
    """Incidents, workers, households, visits, tracks and facilities.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw (drawn in a fixed order, so a seed gives the same tables).
    district : District
        Layers with buildings; its ``tables`` are set (file name -> header, rows of strings).
    """
    inputs = _TableInputs.of(district)
    workers, grid_worker = _workers(rng, inputs)
    incidents = _incidents(rng, inputs)
    households, places = _households(rng, inputs)
    visits = _visits(rng, inputs, households, places, grid_worker)
    tracks = _tracks(rng, inputs, grid_worker)
    facilities = _facilities(rng, inputs)
    rows = {"incidents.csv": incidents, "workers.csv": workers, "households.csv": households,
            "visits.csv": visits, "tracks.csv": tracks, "facilities.csv": facilities}
    district.tables = {name: (list(_HEADERS[name]), rows[name]) for name in _HEADERS}


# --- checks -------------------------------------------------------------------------------------
def check_coverage(district: District, *, tolerance_m2: float = 1.0) -> None:
    """Fail loudly unless each level tiles its parent exactly (no gap, no overlap)."""
    levels = [
        ("communities", district.communities, "PARENT", district.street, "CODE"),
        ("grids", district.grids, "所属社区", district.communities, "CODE"),
    ]
    for name, children, parent_col, parents, code_col in levels:
        geoms = children.geometry.values
        if not bool(shapely.coverage_is_valid(geoms)):
            msg = f"{name}: polygons do not form a valid coverage (overlap or unmatched edges)"
            raise RuntimeError(msg)
        for pcode, parent in zip(parents[code_col], parents.geometry, strict=True):
            kids = geoms[(children[parent_col] == pcode).to_numpy()]
            union = shapely.coverage_union_all(kids)
            diff = shapely.symmetric_difference(union, parent).area
            overlap = float(shapely.area(kids).sum() - union.area)
            if diff > tolerance_m2 or overlap > tolerance_m2:
                msg = (f"{name} of {pcode}: gap/excess {diff:.3f} m², overlap {overlap:.3f} m² "
                       f"(tolerance {tolerance_m2} m²)")
                raise RuntimeError(msg)
    grid_geom = dict(zip(district.grids["网格编码"], district.grids.geometry, strict=True))
    for code, grid, b in zip(district.buildings["CODE"], district.buildings["GRID"],
                             district.buildings.geometry, strict=True):
        if not grid_geom[grid].contains(b):
            msg = f"building {code} is not entirely inside its grid {grid}"
            raise RuntimeError(msg)


# --- writing ------------------------------------------------------------------------------------
def _write_shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str) -> None:
    gdf.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding,
                layer_options={"RESIZE": "YES"})
    (path.with_suffix(".cpg")).write_text(encoding, encoding="ascii")
    with open(path.with_suffix(".dbf"), "r+b") as fh:  # fixed "last update" date
        fh.seek(1)
        fh.write(bytes(DBF_DATE))


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def write_district(district: District, out: Path) -> None:
    """Write every file into a temporary sibling of ``out`` and rename it into place."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_shp(district.street, tmp / "streets.shp", "UTF-8")
        _write_shp(district.communities, tmp / "communities.shp", "UTF-8")
        _write_shp(district.grids, tmp / "grids.shp", "GBK")
        _write_shp(district.buildings, tmp / "buildings.shp", "UTF-8")
        for name, (header, rows) in district.tables.items():
            _write_csv(tmp / name, header, rows)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_out(out: Path) -> None:
    """Fail before the expensive work when ``out`` cannot become a directory."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a directory",
                         "pass --out a directory path (it is created or replaced)")
    parent = out.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise InputError(str(out), f"parent {parent} is not a directory",
                         "pass --out a path inside an existing or creatable directory")
    parent.mkdir(parents=True, exist_ok=True)


def generate(seed: int = DEFAULT_SEED) -> District:
    """Build the whole demo district in memory.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives the same district.

    Returns
    -------
    District
        Layers in EPSG:4548 (metres) and the CSV tables (header, rows of strings).
    """
    rng = np.random.default_rng(seed)
    district, faces, extra = build_hierarchy(rng)
    build_buildings(rng, district, faces, extra)
    check_coverage(district)
    build_tables(rng, district)
    return district


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python data/make_demo.py --out DIR [--seed N]``."""
    parser = argparse.ArgumentParser(description="Generate the synthetic demo district.")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    import warnings

    warnings.filterwarnings("ignore", message=".*laundered field name.*")
    warnings.filterwarnings("ignore", message="Could not decode error message.*")
    try:
        _check_out(args.out)
        district = generate(args.seed)
        write_district(district, args.out)
    except (GridCommandError, RuntimeError, OSError, ValueError) as exc:
        where = "" if isinstance(exc, InputError) else f"{args.out}: "
        print(f"make_demo: {where}{exc}", file=sys.stderr)
        return 1
    area = float(district.street.geometry.area.sum()) / 1e6
    t = district.tables
    print(f"demo district written to {args.out}: 1 street {area:.2f} km², "
          f"{len(district.communities)} communities/villages, {len(district.grids)} grids, "
          f"{len(district.buildings)} buildings, {len(t['incidents.csv'][1])} incidents, "
          f"{len(t['workers.csv'][1])} workers, {len(t['households.csv'][1])} households, "
          f"{len(t['visits.csv'][1])} visits, {len(t['tracks.csv'][1])} track points, "
          f"{len(t['facilities.csv'][1])} facilities "
          f"(seed {args.seed}, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
