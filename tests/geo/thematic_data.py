"""Hand-made thematic cells, roads, buildings and facilities for the theme, crosswalk and service
circle tests, on the toy district of ``tests/geo/conftest.py`` (EPSG:4548, metres around X0, Y0).

Every expected figure in the tests is worked out by hand from these shapes (see each test).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from pyproj import Transformer
from shapely.geometry import LineString

from geo.hierarchy import build_hierarchy, write_hierarchy
from tests.geo.conftest import METRIC, X0, Y0, square, toy_layers, write_layers

#: Speed that makes the arithmetic easy to read: 1.2 m/s is 72 m per minute.
SPEED = 1.2


def cells_layer() -> gpd.GeoDataFrame:
    """T1 covers x 0-750 (all of G11 and G12, the west half of G21 and G22); T2 covers x 750-1000,
    y 0-600 (the east half of G21, 250 x 100 m of G22). 250 x 400 m of G22 (x 750-1000, y 600-1000)
    is covered by no cell."""
    return gpd.GeoDataFrame(
        {"网格编号": ["007", "T2"], "名称": ["安全一格", "安全二格"], "责任部门": ["应急管理", "WG0001"]},
        geometry=[square(0, 0, 750, 1000), square(750, 0, 1000, 600)], crs=METRIC)


def toy_buildings() -> gpd.GeoDataFrame:
    """B1 in G11/T1, B2 in G22/T1 (its point at x 730), B3 in G21/T2."""
    return gpd.GeoDataFrame(
        {"楼栋编码": ["B1", "B2", "B3"], "楼栋名称": ["1号楼", "2号楼", "3号楼"], "网格编码": ["G11", "G22", "G21"]},
        geometry=[square(100, 100, 140, 130), square(700, 700, 760, 720), square(800, 100, 820, 120)], crs=METRIC)


def toy_hierarchy(folder: Path) -> Path:
    """``hierarchy.gpkg`` of the toy district with :func:`toy_buildings`, built in-process."""
    layers = toy_layers()
    layers["buildings"] = toy_buildings()
    result = build_hierarchy(write_layers(layers, folder / "in"))
    assert result.ok, [p.message for p in result.problems]
    return write_hierarchy(result.layers, folder / "hierarchy.gpkg")


# --- the service circle's hand-made network ---------------------------------------------------
#: Road A runs x 0-1200 at y 0; road B crosses it at x 600 (y -600 to 600); road C (y 2000) is
#: cut off from both.
ROADS = [((0, 0), (1200, 0)), ((600, -600), (600, 600)), ((0, 2000), (100, 2000))]
#: Building centres (4 x 4 m squares) and households; each snaps to the road point named.
BUILDINGS = {
    "b1": ((300, 20), 10),    # A at x 300
    "b2": ((1200, 30), 20),   # A's east end
    "b3": ((610, -400), 30),  # B at y -400
    "b4": ((50, 2010), 40),   # C: no facility reachable
    "b5": ((720, 10), 50),    # A at x 720: exactly 10 min from F1
}
#: Facilities: 食堂 at A's west end, 卫生室 on B at y 590.
FACILITIES = [("一号食堂", "食堂", (0, 10)), ("一号卫生室", "卫生室", (605, 590))]
#: Network metres from each building's road point to the nearest facility of each type.
EXPECTED_M = {
    "b1": {"食堂": 300, "卫生室": 300 + 590},
    "b2": {"食堂": 1200, "卫生室": 600 + 590},
    "b3": {"食堂": 400 + 600, "卫生室": 400 + 590},
    "b4": {"食堂": None, "卫生室": None},
    "b5": {"食堂": 720, "卫生室": 120 + 590},
}


def roads_layer(crs: str = METRIC) -> gpd.GeoDataFrame:
    """The three roads (``KIND`` text), in ``crs``."""
    lines = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in ROADS]
    return gpd.GeoDataFrame({"KIND": ["主干道", "支路", "断头路"]}, geometry=lines, crs=METRIC).to_crs(crs)


def circle_buildings() -> gpd.GeoDataFrame:
    """The five buildings as a normalised hierarchy level (``code``, ``name``, ``parent_code``)."""
    rows = [(code, square(x - 2, y - 2, x + 2, y + 2)) for code, ((x, y), _) in BUILDINGS.items()]
    return gpd.GeoDataFrame({"code": [c for c, _ in rows], "name": [f"{c}号楼" for c, _ in rows],
                             "parent_code": ["G1"] * len(rows)}, geometry=[g for _, g in rows], crs=METRIC)


def circle_grids() -> gpd.GeoDataFrame:
    """One grid G1 of community C1 holding everything."""
    return gpd.GeoDataFrame({"code": ["G1"], "name": ["一网格"], "parent_code": ["C1"]},
                            geometry=[square(-100, -700, 1300, 2100)], crs=METRIC)


def households() -> dict[str, int]:
    """Households per building code."""
    return {code: hh for code, (_, hh) in BUILDINGS.items()}


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Toy metres to EPSG:4490 degrees."""
    return Transformer.from_crs(METRIC, "EPSG:4490", always_xy=True).transform(X0 + x, Y0 + y)


def facilities_csv(path: Path, rows: list[tuple[str, str, tuple[float, float]]] | None = None, *,
                   encoding: str = "utf-8-sig") -> Path:
    """A facilities CSV like the demo's (名称, 类型, 经度, 纬度, 社区编码)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["名称", "类型", "经度", "纬度", "社区编码"])
    for name, kind, (x, y) in rows if rows is not None else FACILITIES:
        lon, lat = lonlat(x, y)
        writer.writerow([name, kind, f"{lon:.9f}", f"{lat:.9f}", "C1"])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def demo_with_roads(demo_dir: Path, scratch: Path) -> tuple[Path, Path]:
    """The demo folder holding ``roads.shp`` and ``theme_safety.shp`` (generated into ``scratch`` when
    ``demo_dir`` predates them) and a hierarchy GeoPackage of it (built into ``scratch`` when
    missing)."""
    root = Path(__file__).resolve().parents[2]
    folder = demo_dir
    if not (folder / "roads.shp").exists() or not (folder / "theme_safety.shp").exists():
        folder = scratch / "demo"
        subprocess.run([sys.executable, str(root / "data" / "make_demo.py"), "--out", str(folder)], check=True,
                       capture_output=True)
    gpkg = folder / "hierarchy.gpkg"
    if not gpkg.exists():
        gpkg = scratch / "hierarchy.gpkg"
        levels = [arg for lv in ("streets", "communities", "grids", "buildings")
                  for arg in (f"--{lv}", str(folder / f"{lv}.shp"))]
        subprocess.run([sys.executable, "-m", "geo", "build", *levels, "--out", str(gpkg)], check=True,
                       capture_output=True, cwd=root)
    return folder, gpkg
