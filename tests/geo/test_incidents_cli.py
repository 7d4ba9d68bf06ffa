"""Incident files (CSV UTF-8/BOM/GBK, XLSX, GeoJSON) and `python -m geo join`."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point

from core.errors import InputError
from geo import read_incidents
from geo.incidents import detect_coordinate_columns
from tests.geo.conftest import build_args, run_geo
from tests.geo.test_join import deg

SIX = ["street_code", "community_code", "grid_code", "building_code", "join_status", "distance_m"]


@pytest.fixture
def hierarchy(tmp_path, toy_gpkg):
    out = tmp_path / "h.gpkg"
    assert run_geo("build", *build_args(toy_gpkg), "--out", out).returncode == 0
    return out


def _rows() -> list[dict]:
    lon, lat = deg([250, 750, 120, 1020], [250, 750, 115, 250])
    rows = [{"工单编号": f"GD{i:04d}", "联系电话": "013900001234", "区划代码": "012345678901",
             "诉求内容": "楼道堆物，请处理，“消防通道”", "经度": f"{lon[i]:.7f}", "纬度": f"{lat[i]:.7f}"}
            for i in range(4)]
    rows.append({"工单编号": "GD0004", "联系电话": "", "区划代码": "", "诉求内容": "无坐标", "经度": "", "纬度": ""})
    return rows


def _write_csv(path, rows, encoding):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_read_incidents_csv_encodings(tmp_path, encoding):
    path = tmp_path / "in.csv"
    _write_csv(path, _rows(), encoding)
    frame, lon, lat = read_incidents(path)
    assert (lon, lat) == ("经度", "纬度")
    assert list(frame.columns)[0] == "工单编号"
    assert frame["诉求内容"].iloc[0] == "楼道堆物，请处理，“消防通道”"
    assert frame["区划代码"].iloc[0] == "012345678901" and frame["联系电话"].iloc[0] == "013900001234"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_join_cli_csv(tmp_path, hierarchy, encoding):
    path = tmp_path / "in.csv"
    _write_csv(path, _rows(), encoding)
    out = tmp_path / "joined.csv"
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--out", out)
    assert res.returncode == 0, res.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    joined = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    source = pd.DataFrame(_rows())
    assert list(joined.columns) == list(source.columns) + SIX
    assert (joined[source.columns].to_numpy() == source.to_numpy()).all()  # input cells unchanged
    assert joined["grid_code"].tolist() == ["G11", "G22", "G11", "G21", ""]
    assert joined["building_code"].tolist() == ["", "", "B1", "", ""]
    assert joined["join_status"].tolist() == ["ok", "ok", "ok", "snapped", "missing_coordinates"]
    assert float(joined["distance_m"].iloc[3]) == pytest.approx(20, abs=0.5)


def test_join_cli_xlsx_and_explicit_columns(tmp_path, hierarchy):
    rows = _rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "X坐标值", "Y坐标值", "电话"])
    for i, r in enumerate(rows):
        ws.append([r["工单编号"], float(r["经度"]) if r["经度"] else None, float(r["纬度"]) if r["纬度"] else None,
                   13900001234 + i])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    out = tmp_path / "joined.csv"
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--out", out)
    assert res.returncode == 2 and "--lon" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--lon", "X坐标值", "--lat", "Y坐标值",
                  "--out", out)
    assert res.returncode == 0, res.stderr
    joined = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert joined["电话"].tolist()[:2] == ["13900001234", "13900001235"]  # not 1.39e10
    assert joined["grid_code"].tolist() == ["G11", "G22", "G11", "G21", ""]


def test_join_cli_geojson_points(tmp_path, hierarchy):
    lon, lat = deg([250, 750], [250, 750])
    gdf = gpd.GeoDataFrame({"事件编号": ["E1", "E2"]}, geometry=[Point(lon[0], lat[0]), Point(lon[1], lat[1])],
                           crs="EPSG:4326")
    path = tmp_path / "events.geojson"
    gdf.to_file(path, driver="GeoJSON")
    frame, lcol, tcol = read_incidents(path)
    assert (lcol, tcol) == ("lon", "lat")
    out = tmp_path / "joined.csv"
    assert run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--out", out).returncode == 0
    joined = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert joined["grid_code"].tolist() == ["G11", "G22"] and list(joined.columns)[-6:] == SIX


def test_join_cli_gcj02_input(tmp_path, hierarchy):
    from geo.coords import wgs84_to_gcj02

    lon, lat = deg([495, 505], [250, 250])
    glon, glat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "amap.csv"
    pd.DataFrame({"id": ["1", "2"], "lng": glon, "lat": glat}).to_csv(path, index=False)
    out = tmp_path / "joined.csv"
    assert run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--coords", "gcj02",
                   "--out", out).returncode == 0
    joined = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert joined["grid_code"].tolist() == ["G11", "G21"]


def test_join_cli_bad_inputs_exit_2(tmp_path, hierarchy):
    out = tmp_path / "joined.csv"
    res = run_geo("join", "--hierarchy", tmp_path / "none.gpkg", "--incidents", tmp_path / "x.csv", "--out", out)
    assert res.returncode == 2 and "x.csv" in res.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", bad, "--out", out)
    assert res.returncode == 2 and "bad.csv" in res.stderr and "--lon" in res.stderr
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", bad, "--lon", "a", "--lat", "nope", "--out", out)
    assert res.returncode == 2 and "nope" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(("columns", "expected"), [
    (["id", "经度", "纬度"], ("经度", "纬度")),
    (["Latitude", "Longitude", "X Coordinate (State Plane)"], ("Longitude", "Latitude")),
    (["lng", "lat", "platform"], ("lng", "lat")),
    (["x", "y", "name"], ("x", "y")),
    (["GPS经度", "GPS纬度"], ("GPS经度", "GPS纬度")),
])
def test_coordinate_column_detection(columns, expected):
    assert detect_coordinate_columns(columns) == expected


def test_coordinate_column_detection_fails_clearly():
    with pytest.raises(InputError, match="--lon COLUMN --lat COLUMN"):
        detect_coordinate_columns(["id", "platform", "地址"], source="f.csv")
