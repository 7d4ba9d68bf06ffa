"""``python -m geo rejoin`` on the demo district: the same codes and statuses as ``python -m geo join``
for every case (inside, on shared edges and corners, snapped, outside, swapped, missing), every
history column kept, and a one-line exit 2 for each bad history file. Real files, real processes
(a local Dask cluster of 2 workers, 3 partitions)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from geo import read_hierarchy
from geo.rejoin_part import REJOIN_COLUMNS
from tests.geo.conftest import run_geo
from tests.geo.thematic_data import demo_with_roads

N_RANDOM = 2000


@pytest.fixture(scope="module")
def demo_gpkg(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_with_roads(demo_dir, tmp_path_factory.mktemp("rejoin_demo"))[1]


def _edge_points(layer: gpd.GeoDataFrame, every: int) -> list[shapely.Point]:
    """Vertices (shared corners) and edge midpoints of every ``every``-th feature."""
    geoms = layer.geometry.to_numpy()[::every]
    corners = shapely.get_coordinates(shapely.boundary(geoms))[::3]
    rings = shapely.get_parts(shapely.boundary(geoms))
    middles = shapely.line_interpolate_point(rings, 0.37, normalized=True)
    return [*shapely.points(corners), *middles]


def history_points(gpkg: Path) -> gpd.GeoDataFrame:
    """A few thousand cases in EPSG:4490: random over and around the district (ok, snapped, outside),
    grid and building corners and edge points, swapped, far away, empty and missing points."""
    layers = read_hierarchy(gpkg)
    x0, y0, x1, y1 = layers["grids"].total_bounds
    rng = np.random.default_rng(19)
    points = list(shapely.points(rng.uniform(x0 - 0.003, x1 + 0.003, N_RANDOM),
                                 rng.uniform(y0 - 0.003, y1 + 0.003, N_RANDOM)))
    points += _edge_points(layers["grids"], 1) + _edge_points(layers["buildings"], 25)
    points += _edge_points(layers["communities"], 1)
    inside = layers["grids"].geometry.representative_point().to_numpy()
    points += list(shapely.points(shapely.get_y(inside[:40]), shapely.get_x(inside[:40])))  # lat/lon swapped
    points += [shapely.Point(0.0, 0.0), shapely.Point(121.5, 31.2), shapely.Point(x1 + 0.0002, y0 - 0.0002)]
    points += [None, None, shapely.Point(), None]
    n = len(points)
    return gpd.GeoDataFrame(
        {"case_id": [f"K{i:06d}" for i in range(n)], "类别": rng.choice(["环境卫生", "治安", "消防"], n),
         "priority": pd.array(np.where(np.arange(n) % 7 == 0, None, np.arange(n) % 5), dtype="Int64")},
        geometry=points, crs="EPSG:4490")


def single_process_join(history: Path, gpkg: Path, tmp: Path) -> pd.DataFrame:
    """``python -m geo join`` on the history's points (EPSG:4490 lon/lat written exactly as text)."""
    cases = gpd.read_parquet(history).to_crs("EPSG:4490")
    geoms = cases.geometry.to_numpy()
    geoms[shapely.is_empty(geoms)] = None  # an empty point has no x (GEOS refuses): a blank cell
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    text = pd.DataFrame({"case_id": cases["case_id"],
                         "lon": [repr(float(v)) if not np.isnan(v) else "" for v in x],
                         "lat": [repr(float(v)) if not np.isnan(v) else "" for v in y]})
    src, out = tmp / "cases.csv", tmp / "joined.csv"
    text.to_csv(src, index=False)
    res = run_geo("join", "--hierarchy", gpkg, "--incidents", src, "--lon", "lon", "--lat", "lat", "--out", out)
    assert res.returncode == 0, res.stderr
    return pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("case_id")


@pytest.mark.parametrize(("crs", "row_group_size"), [("EPSG:4490", 700), ("EPSG:4548", None)])
def test_rejoin_equals_single_process_join(tmp_path, demo_gpkg, crs, row_group_size):
    cases = history_points(demo_gpkg).to_crs(crs)
    history = tmp_path / "cases.parquet"
    cases.to_parquet(history, index=False, row_group_size=row_group_size)  # 4490: 5 row groups → 3; 4548: 1 → 3
    out = tmp_path / "rejoined.parquet"
    res = run_geo("rejoin", "--hierarchy", demo_gpkg, "--history", history, "--out", out, "--partitions", "3")
    assert res.returncode == 0, res.stderr
    assert "3 partitions" in res.stdout and res.stderr == ""
    got = gpd.read_parquet(out)
    assert list(got.columns) == [*cases.columns, *REJOIN_COLUMNS]
    assert got.crs == cases.crs
    # every input column as it was, rows in the input's order
    pd.testing.assert_frame_equal(pd.DataFrame(got[["case_id", "类别", "priority"]]),
                                  pd.DataFrame(cases[["case_id", "类别", "priority"]]), check_dtype=False)
    assert list(got.geometry.to_wkb()) == list(cases.geometry.to_wkb())
    expected = single_process_join(history, demo_gpkg, tmp_path)
    mine = got.set_index("case_id")[list(REJOIN_COLUMNS)].fillna("")
    pd.testing.assert_frame_equal(mine, expected.loc[mine.index, list(REJOIN_COLUMNS)], check_dtype=False)
    statuses = set(mine["join_status"])
    assert {"ok", "snapped", "outside", "missing_coordinates"} <= statuses
    assert ("swapped" in statuses) == (crs == "EPSG:4490")  # lat/lon swapped cannot be projected: invalid


# --- bad input: exit 2, one line naming the file and the fix ----------------------------------------

def _points(n: int = 3, crs: str | None = "EPSG:4490") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"case_id": [f"K{i}" for i in range(n)]},
                            geometry=shapely.points(np.full(n, 116.6), np.full(n, 35.45)), crs=crs)


def _no_case_id(path: Path) -> None:
    _points().rename(columns={"case_id": "编号"}).to_parquet(path)


def _polygons(path: Path) -> None:
    cases = _points()
    cases.geometry = [shapely.box(116.6, 35.45, 116.61, 35.46)] * len(cases)
    cases.to_parquet(path)


def _no_crs(path: Path) -> None:
    _points(crs=None).to_parquet(path)


def _plain_parquet(path: Path) -> None:
    pd.DataFrame({"case_id": ["K1"], "lon": [116.6], "lat": [35.45]}).to_parquet(path)


def _not_parquet(path: Path) -> None:
    path.write_text("case_id,lon,lat\nK1,116.6,35.45\n", encoding="utf-8")


@pytest.mark.parametrize(("make", "problem", "fix"), [
    (None, "file not found", "check the path"),
    (_no_case_id, "no case_id column (columns: 编号, geometry)", "name the case identifier column case_id"),
    (_polygons, "holds Polygon, not points", "store one point per case"),
    (_no_crs, "has no CRS", "gdf.set_crs('EPSG:4490')"),
    (_plain_parquet, "not GeoParquet", "GeoDataFrame.to_parquet"),
    (_not_parquet, "is not a Parquet file", "GeoDataFrame.to_parquet"),
])
def test_bad_history_exits_2_with_one_line(tmp_path, demo_gpkg, make, problem, fix):
    history = tmp_path / "cases.parquet"
    if make is not None:
        make(history)
    out = tmp_path / "out.parquet"
    res = run_geo("rejoin", "--hierarchy", demo_gpkg, "--history", history, "--out", out)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    said, _, fix_said = lines[0].partition(". Fix: ")
    assert said.startswith(f"error: {history}: ") and problem in said and fix in fix_said
    assert not out.exists() and list(tmp_path.glob(".out.parquet*")) == []


def test_polygons_the_metadata_hides_exit_2(tmp_path, demo_gpkg):
    """No geometry types in the metadata (allowed: "unknown"): the worker finds the polygon."""
    history = tmp_path / "cases.parquet"
    _polygons(history)
    table = pq.read_table(history)
    geo = json.loads(table.schema.metadata[b"geo"])
    geo["columns"]["geometry"]["geometry_types"] = []
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), history)
    res = run_geo("rejoin", "--hierarchy", demo_gpkg, "--history", history, "--out", tmp_path / "o.parquet")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: {history}: case K0 holds a Polygon, not a point (3 such in its partition). "
        "Fix: store one point per case, e.g. gdf.geometry = gdf.representative_point()"]
    assert list(tmp_path.iterdir()) == [history]


def test_missing_hierarchy_exits_2(tmp_path):
    history = tmp_path / "cases.parquet"
    _points().to_parquet(history)
    out = tmp_path / "o.parquet"
    res = run_geo("rejoin", "--hierarchy", tmp_path / "nope.gpkg", "--history", history, "--out", out)
    assert res.returncode == 2
    assert res.stderr.strip() == (f"error: {tmp_path / 'nope.gpkg'}: file not found. "
                                  "Fix: check the path (a hierarchy.gpkg from python -m geo build)")
