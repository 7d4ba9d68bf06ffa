"""Patrol coverage from GPS tracks (workforce.patrol, python -m workforce patrol) on hand-made grids,
buildings and tracks whose covered buildings, gaps and impossible speeds are counted by hand."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import geo
from core.errors import InputError
from geo.distance import to_metric
from workforce.patrol import check_tracks, iso_week, patrol_coverage
from workforce.track_files import read_track_file

METRIC = "EPSG:4548"
ROOT = Path(__file__).resolve().parents[2]


def _metric_box(x0: float, y0: float, x1: float, y1: float) -> object:
    return box(x0, y0, x1, y1)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    """Two 1 km grids side by side (metric CRS), three 20 m buildings in G1 and one in G2, plus an
    empty grid G3 without buildings."""
    x, y = (float(v[0]) for v in to_metric([116.58], [35.41], metric_crs=METRIC))
    grids = gpd.GeoDataFrame({"code": ["G1", "G2", "G3"], "name": ["一", "二", "三"], "parent_code": ["C", "C", "C"]},
                             geometry=[_metric_box(x + 1000 * k, y, x + 1000 * (k + 1), y + 1000) for k in range(3)],
                             crs=METRIC)
    buildings = gpd.GeoDataFrame(
        {"code": ["B1", "B2", "B3", "B4"], "name": ["", "", "", ""], "parent_code": ["G1", "G1", "G1", "G2"]},
        geometry=[_metric_box(x + 100, y + 100, x + 120, y + 120),   # 40 m east of the fix at (x+60, y+110): covered
                  _metric_box(x + 300, y + 100, x + 320, y + 120),   # 240 m away: not covered
                  _metric_box(x + 500, y + 500, x + 520, y + 520),   # W1's 08:06 fix lies inside: covered
                  _metric_box(x + 1500, y + 500, x + 1520, y + 520)],  # 30 m north of W2's fix: covered
        crs=METRIC)
    return {"grids": grids.to_crs("EPSG:4490"), "buildings": buildings.to_crs("EPSG:4490"), "origin": (x, y)}


def _fix(layers, worker: str, at: str, dx: float, dy: float) -> tuple:
    x, y = layers["origin"]
    lon, lat = gpd.GeoSeries.from_xy([x + dx], [y + dy], crs=METRIC).to_crs("EPSG:4490").iloc[0].coords[0]
    return worker, datetime.fromisoformat(at), lon, lat


def _fixes(layers) -> pd.DataFrame:
    rows = [
        _fix(layers, "W1", "2026-06-30 08:00:00", 60, 110),
        _fix(layers, "W1", "2026-06-30 08:05:00", 70, 110),
        _fix(layers, "W1", "2026-06-30 08:06:00", 510, 510),  # 595 m in 60 s = 36 km/h: a car, possible
        _fix(layers, "W1", "2026-06-30 08:40:00", 70, 120),   # 34 min later: a gap
        _fix(layers, "W2", "2026-06-30 09:00:00", 1510, 550),
        _fix(layers, "W2", "2026-06-30 09:00:10", 1800, 900),  # 461 m in 10 s = 166 km/h: impossible
    ]
    return pd.DataFrame(rows, columns=["worker_id", "at", "lon", "lat"])


def test_gaps_and_impossible_speeds_are_counted_and_left_out(layers):
    checked = check_tracks(_fixes(layers), metric_crs=METRIC)
    assert checked.gaps == 1
    # W1 08:05 -> 08:06 is 595 m in 60 s = 36 km/h (possible); W2's 10-second jump of 461 m is not
    assert checked.impossible == 1
    assert list(checked.fixes.loc[checked.fixes["impossible"], "at"]) == [datetime(2026, 6, 30, 9, 0, 10)]
    assert len(checked.usable) == 5


def test_coverage_counts_buildings_within_the_radius(layers):
    checked = check_tracks(_fixes(layers), metric_crs=METRIC)
    table = patrol_coverage(layers["buildings"], layers["grids"], checked.usable, radius_m=50, metric_crs=METRIC)
    rows = {r.grid_code: r for r in table.itertuples()}
    assert (rows["G1"].buildings, rows["G1"].covered) == (3, 2)  # B1 (10 m) and B3 (the 08:06 fix inside it)
    assert rows["G1"].coverage == pytest.approx(2 / 3)
    assert (rows["G2"].buildings, rows["G2"].covered, rows["G2"].coverage) == (1, 1, 1.0)
    assert (rows["G3"].buildings, rows["G3"].covered, rows["G3"].coverage, rows["G3"].fixes) == (0, 0, 0.0, 0)
    assert (rows["G1"].fixes, rows["G2"].fixes) == (4, 1)  # the impossible fix is not counted
    narrow = patrol_coverage(layers["buildings"], layers["grids"], checked.usable, radius_m=5, metric_crs=METRIC)
    assert dict(zip(narrow["grid_code"], narrow["covered"], strict=True)) == {"G1": 1, "G2": 0, "G3": 0}


def test_a_week_without_fixes_covers_nothing(layers):
    empty = pd.DataFrame(columns=["worker_id", "at", "lon", "lat"])
    table = patrol_coverage(layers["buildings"], layers["grids"], empty, metric_crs=METRIC)
    assert table["coverage"].tolist() == [0.0, 0.0, 0.0] and table["buildings"].tolist() == [3, 1, 0]


def test_iso_weeks():
    assert iso_week("2026-W27") == (datetime(2026, 6, 29), datetime(2026, 7, 6))
    assert iso_week("2026-W01")[0] == datetime(2025, 12, 29)
    with pytest.raises(InputError, match="YYYY-Www"):
        iso_week("June")


def test_gpx_tracks_are_read_in_local_time(tmp_path):
    gpx = tmp_path / "w.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><name>WG0001</name><trkseg>"
        '<trkpt lat="35.41" lon="116.58"><time>2026-06-30T00:05:00Z</time></trkpt>'
        '<trkpt lat="35.411" lon="116.581"><time>2026-06-30T08:10:00+08:00</time></trkpt>'
        "</trkseg></trk></gpx>", encoding="utf-8")
    frame = read_track_file(gpx)
    assert frame["worker_id"].tolist() == ["WG0001", "WG0001"]
    assert frame["at"].tolist() == [datetime(2026, 6, 30, 8, 5), datetime(2026, 6, 30, 8, 10)]
    assert frame["lon"].tolist() == [116.58, 116.581]


def test_gbk_csv_tracks(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("工号,时间,经度,纬度\nWG0002,2026-06-30 09:00:00,116.58,35.41\n".encode("gbk"))
    assert read_track_file(path)["worker_id"].tolist() == ["WG0002"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("t.csv", "工号,时间,经度\nW,2026-06-30 09:00:00,116\n", "missing column"),
    ("t.csv", "工号,时间,经度,纬度\nW,yesterday,116.5,35.4\n", "row 2"),
    ("t.gpx", "<gpx><trk><name>W</name><trkseg><trkpt lat='x' lon='1'>", "not a readable GPX"),
    ("t.kml", "<kml/>", "use a .csv or .gpx"),
])
def test_unreadable_files_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_track_file(path)


def test_command_line_writes_the_table_and_reports_on_stderr(layers, tmp_path):
    hierarchy = tmp_path / "h.gpkg"
    geo.write_hierarchy({"streets": layers["grids"].iloc[0:0], "communities": layers["grids"].iloc[0:0],
                         "grids": layers["grids"], "buildings": layers["buildings"]}, hierarchy)
    tracks = tmp_path / "tracks.csv"
    rows = _fixes(layers)
    with tracks.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["工号", "时间", "经度", "纬度"])
        for r in rows.itertuples():
            writer.writerow([r.worker_id, r.at.strftime("%Y-%m-%d %H:%M:%S"), f"{r.lon:.8f}", f"{r.lat:.8f}"])
    out = tmp_path / "coverage.csv"
    run = subprocess.run([sys.executable, "-m", "workforce", "patrol", "--tracks", str(tracks), "--week", "2026-W27",
                          "--out", str(out), "--hierarchy", str(hierarchy)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "1 gaps over 15 min, 1 impossible speeds" in run.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"grid_code": str})
    assert list(table.columns[:4]) == ["grid_code", "buildings", "covered", "coverage"]
    assert dict(zip(table["grid_code"], table["covered"], strict=True)) == {"G1": 2, "G2": 1, "G3": 0}
    other_week = subprocess.run([sys.executable, "-m", "workforce", "patrol", "--tracks", str(tracks), "--week",
                                 "2026-W30", "--out", str(out), "--hierarchy", str(hierarchy)],
                                capture_output=True, text=True, cwd=ROOT)
    assert other_week.returncode == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["coverage"].tolist() == [0.0, 0.0, 0.0]
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\x00garbage")
    bad = subprocess.run([sys.executable, "-m", "workforce", "patrol", "--tracks", str(broken), "--week", "2026-W27",
                          "--out", str(out), "--hierarchy", str(hierarchy)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "broken.csv" in bad.stderr


def test_the_stored_fixes_of_a_week_give_the_same_coverage(layers, store):
    from sqlalchemy import delete

    from access.scope import Scope
    from store.models import WorkerTrack
    from workforce.patrol import stored_week_coverage

    with store.engine.begin() as conn:
        conn.execute(delete(WorkerTrack.__table__))
    with store.Session() as s, s.begin():
        for r in _fixes(layers).itertuples():
            s.add(WorkerTrack(worker_id=r.worker_id, at=r.at, lon=r.lon, lat=r.lat, grid_code="G1",
                              community_code="C", street_code="S"))
    with store.Session() as s:
        table, checked = stored_week_coverage(s, Scope(role="commander", username="duty"), layers, "2026-W27",
                                              metric_crs=METRIC)
        empty, _ = stored_week_coverage(s, Scope(role="commander", username="duty"), layers, "2026-W28",
                                        metric_crs=METRIC)
    assert dict(zip(table["grid_code"], table["covered"], strict=True)) == {"G1": 2, "G2": 1, "G3": 0}
    assert (checked.gaps, checked.impossible) == (1, 1)
    assert empty["covered"].sum() == 0
