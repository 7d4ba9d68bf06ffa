"""Hand-made hierarchies for the geo tests, generated into tmp folders (nothing committed).

The toy district lies in EPSG:4548 (CGCS2000 GK CM 117E, metres) around x=500 000,
y=4 000 000 (about 117E, 36.1N): one street of 1000 m x 1000 m, two communities (west, east
halves), four grids (quarters) and two buildings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

X0, Y0 = 500_000.0, 4_000_000.0
METRIC = "EPSG:4548"


def square(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A box in metres relative to the toy origin."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def toy_layers() -> dict[str, gpd.GeoDataFrame]:
    """Street ST1 → communities C1 (west) / C2 (east) → grids G11, G12, G21, G22 → 2 buildings."""
    streets = gpd.GeoDataFrame({"街道编码": ["ST1"], "街道名称": ["示范街道"]},
                               geometry=[square(0, 0, 1000, 1000)], crs=METRIC)
    communities = gpd.GeoDataFrame(
        {"社区编码": ["C1", "C2"], "社区名称": ["西社区", "东社区"], "所属街道": ["ST1", "ST1"]},
        geometry=[square(0, 0, 500, 1000), square(500, 0, 1000, 1000)], crs=METRIC)
    grids = gpd.GeoDataFrame(
        {"网格编码": ["G11", "G12", "G21", "G22"], "网格名称": ["西南网格", "西北网格", "东南网格", "东北网格"],
         "社区编码": ["C1", "C1", "C2", "C2"]},
        geometry=[square(0, 0, 500, 500), square(0, 500, 500, 1000), square(500, 0, 1000, 500),
                  square(500, 500, 1000, 1000)], crs=METRIC)
    buildings = gpd.GeoDataFrame(
        {"楼栋编码": ["B1", "B2"], "楼栋名称": ["1号楼", "2号楼"], "网格编码": ["G11", "G22"]},
        geometry=[square(100, 100, 140, 130), square(700, 700, 760, 720)], crs=METRIC)
    return {"streets": streets, "communities": communities, "grids": grids, "buildings": buildings}


def write_layers(layers: dict[str, gpd.GeoDataFrame], folder: Path, *, driver: str = "GPKG") -> dict[str, Path]:
    """Write each layer to its own file; returns ``{level: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for level, gdf in layers.items():
        if driver == "GPKG":
            path = folder / f"{level}.gpkg"
            gdf.to_file(path, layer=level, driver="GPKG")
        elif driver == "GeoJSON":
            path = folder / f"{level}.geojson"
            gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
        else:
            path = folder / f"{level}.shp"
            gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK")
        out[level] = path
    return out


def run_geo(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m geo ARGS`` and capture its output."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "geo", *map(str, args)], cwd=cwd or root,
                          capture_output=True, text=True, timeout=600)


def build_args(paths: dict[str, Path]) -> list[str]:
    """``--streets P --communities P ...`` for the levels present."""
    args: list[str] = []
    for level, path in paths.items():
        args += [f"--{level}", str(path)]
    return args


@pytest.fixture
def toy() -> dict[str, gpd.GeoDataFrame]:
    return toy_layers()


@pytest.fixture
def toy_gpkg(tmp_path: Path, toy) -> dict[str, Path]:
    return write_layers(toy, tmp_path / "in")
