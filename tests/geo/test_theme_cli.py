"""The command-line contracts of ``python -m geo themes add``, ``crosswalk`` and ``service-circle``,
run as a user would (a fresh interpreter), on the hand-made data of ``tests/geo/thematic_data.py``."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

from tests.geo.conftest import METRIC, run_geo
from tests.geo.thematic_data import (
    EXPECTED_M,
    cells_layer,
    circle_buildings,
    circle_grids,
    facilities_csv,
    households,
    roads_layer,
    toy_hierarchy,
)


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _one_line_error(res, *needles: str) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "Fix:" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The toy hierarchy with the cells added through the command line (GBK shapefile in degrees)."""
    folder = tmp_path_factory.mktemp("theme_cli")
    gpkg = toy_hierarchy(folder)
    layer = folder / "safety.shp"
    cells_layer().to_crs("EPSG:4490").to_file(layer, encoding="GBK")
    res = run_geo("themes", "add", "--hierarchy", gpkg, "--theme", "safety", "--layer", layer,
                  "--code-field", "网格编号", "--owner-field", "责任部门")
    assert res.returncode == 0, res.stdout + res.stderr
    return {"gpkg": gpkg, "folder": folder, "add": res}


def test_themes_add_stores_the_layer(stored):
    assert "theme safety: 2 cells, 2 owner(s)" in stored["add"].stdout
    cells = pyogrio.read_dataframe(stored["gpkg"], layer="themes")
    assert cells["code"].tolist() == ["007", "T2"] and cells["owner"].tolist() == ["应急管理", "WG0001"]
    listed = run_geo("themes", "list", "--hierarchy", stored["gpkg"])
    assert listed.returncode == 0 and "safety\t2 cells\t2 owner(s)" in listed.stdout


def test_crosswalk_contract(stored):
    out = stored["folder"] / "crosswalk.csv"
    gaps = stored["folder"] / "uncovered.csv"
    res = run_geo("crosswalk", "--hierarchy", stored["gpkg"], "--theme", "safety", "--out", out,
                  "--uncovered", gaps, "--straddles", stored["folder"] / "straddles.csv")
    assert res.returncode == 0, res.stderr
    table = _read(out)
    for column in ("grid_code", "theme_code", "area_m2", "share_of_grid", "share_of_theme", "buildings"):
        assert column in table.columns
    got = {(r.grid_code, r.theme_code): (float(r.area_m2), float(r.share_of_grid), float(r.share_of_theme),
                                         int(r.buildings)) for r in table.itertuples()}
    expected = {("G11", "007"): (250_000, 1, 1 / 3, 1), ("G12", "007"): (250_000, 1, 1 / 3, 0),
                ("G21", "007"): (125_000, 0.5, 1 / 6, 0), ("G21", "T2"): (125_000, 0.5, 5 / 6, 1),
                ("G22", "007"): (125_000, 0.5, 1 / 6, 1), ("G22", "T2"): (25_000, 0.1, 1 / 6, 0)}
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values, abs=0.02), key  # cells came in degrees: cm-level area noise
    assert _read(gaps)[["grid_code", "uncovered_share"]].values.tolist() == [["G22", "0.4"]]
    assert "straddling: 2 of 2 cells cut through 2 base grids" in res.stdout
    assert "100,000 m² of base area in 1 grid(s)" in res.stdout


def test_unknown_theme_and_bad_output(stored):
    res = run_geo("crosswalk", "--hierarchy", stored["gpkg"], "--theme", "market", "--out",
                  stored["folder"] / "x.csv")
    _one_line_error(res, "holds no theme 'market'", "themes add")
    res = run_geo("crosswalk", "--hierarchy", stored["gpkg"], "--theme", "safety", "--out",
                  stored["folder"] / "x.txt")
    _one_line_error(res, "--out", ".csv")


def test_failed_add_names_the_feature_and_leaves_the_file(stored, tmp_path):
    before = stored["gpkg"].read_bytes()
    points = cells_layer()
    points["geometry"] = points.geometry.centroid
    layer = tmp_path / "points.shp"
    points.to_file(layer, encoding="GBK")
    res = run_geo("themes", "add", "--hierarchy", stored["gpkg"], "--theme", "points", "--layer", layer)
    _one_line_error(res, "points.shp", "feature 1 (code 007)", "not a polygon")
    layer.with_suffix(".prj").unlink()
    res = run_geo("themes", "add", "--hierarchy", stored["gpkg"], "--theme", "points", "--layer", layer)
    _one_line_error(res, "has no .prj", "--crs EPSG:NNNN")
    res = run_geo("themes", "add", "--hierarchy", stored["gpkg"], "--theme", "x", "--layer", tmp_path / "no.shp")
    _one_line_error(res, "no.shp", "file not found")
    res = run_geo("themes", "add", "--hierarchy", tmp_path / "none.gpkg", "--theme", "x", "--layer", layer)
    _one_line_error(res, "none.gpkg", "hierarchy file not found")
    assert stored["gpkg"].read_bytes() == before


@pytest.fixture(scope="module")
def circle(tmp_path_factory):
    """Hierarchy of the hand-made network's buildings, the roads (GBK shapefile in degrees), the
    facilities CSV and a households CSV."""
    from geo.hierarchy import write_hierarchy

    folder = tmp_path_factory.mktemp("circle_cli")
    gpkg = write_hierarchy({"grids": circle_grids(), "buildings": circle_buildings()}, folder / "h.gpkg")
    roads = folder / "roads.shp"
    roads_layer("EPSG:4490").to_file(roads, encoding="GBK")
    hh = folder / "hh.csv"
    hh.write_text("楼栋编码,户数\n" + "".join(f"{k},{v}\n" for k, v in households().items()), encoding="utf-8")
    return {"gpkg": gpkg, "roads": roads, "facilities": facilities_csv(folder / "facilities.csv"), "hh": hh,
            "folder": folder}


def test_service_circle_contract(circle):
    out = circle["folder"] / "circle.csv"
    gaps = circle["folder"] / "gaps.csv"
    res = run_geo("service-circle", "--hierarchy", circle["gpkg"], "--roads", circle["roads"], "--facilities",
                  circle["facilities"], "--speed", "1.2", "--minutes", "5,10,15", "--out", out,
                  "--households", circle["hh"], "--gaps", gaps, "--metric-crs", METRIC)
    assert res.returncode == 0, res.stderr
    table = _read(out)
    assert {"building_code", "facility_type", "walk_min", "band"} <= set(table.columns)
    assert len(table) == 5 * 2
    for row in table.itertuples():
        metres = EXPECTED_M[row.building_code][row.facility_type]
        if metres is None:
            assert row.walk_min == "" and row.band == ""
            continue
        assert float(row.walk_min) == pytest.approx(metres / 72, abs=1e-3), row
        assert row.band == str(next(m for m in (5, 10, 15) if metres / 72 <= m + 1e-9) if metres <= 1080 else ""), row
    assert _read(gaps)[["facility_type", "rank", "building_code"]].values.tolist()[:2] == [
        ["食堂", "1", "b4"], ["食堂", "2", "b2"]]
    assert "食堂: 1 facilities; outside 15 min: 60 households (40.0%)" in res.stdout


def test_service_circle_defaults_and_errors(circle, tmp_path):
    out = tmp_path / "c.csv"
    res = run_geo("service-circle", "--hierarchy", circle["gpkg"], "--roads", circle["roads"], "--facilities",
                  circle["facilities"], "--out", out)
    assert res.returncode == 0, res.stderr
    assert set(_read(out)["band"]) == {"5", "10", "15", ""}
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,类型,经度,纬度\n一,食堂,117.0,36.1\n二,食堂,,36.1\n", encoding="utf-8")
    res = run_geo("service-circle", "--hierarchy", circle["gpkg"], "--roads", circle["roads"], "--facilities", bad,
                  "--out", tmp_path / "d.csv")
    _one_line_error(res, "bad.csv: row 3", "decimal degrees")
    res = run_geo("service-circle", "--hierarchy", circle["gpkg"], "--roads", circle["gpkg"], "--facilities",
                  circle["facilities"], "--out", tmp_path / "d.csv")
    _one_line_error(res, "h.gpkg", "road")
    res = run_geo("service-circle", "--hierarchy", circle["gpkg"], "--roads", circle["roads"], "--facilities",
                  circle["facilities"], "--minutes", "15,5", "--out", tmp_path / "d.csv")
    _one_line_error(res, "--minutes")
    assert not (tmp_path / "d.csv").exists()
