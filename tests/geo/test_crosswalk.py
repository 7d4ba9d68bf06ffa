"""The crosswalk of base grids and a thematic grid, worked out by hand on the toy district.

Grids are the four 500 x 500 m quarters (G11 SW, G12 NW, G21 SE, G22 NE); T1 is x 0-750 (750,000
m²), T2 is x 750-1000, y 0-600 (150,000 m²). Buildings: B1 in G11/T1, B2 in G22/T1, B3 in G21/T2.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo import read_hierarchy
from geo.crosswalk import CROSSWALK_COLUMNS, crosswalk, straddling_cells, uncovered
from geo.themes import normalise_theme
from tests.geo.conftest import METRIC, square
from tests.geo.thematic_data import cells_layer, demo_with_roads, toy_hierarchy

#: (grid, cell) -> area m², share of grid, share of cell, buildings, straddles
EXPECTED = {
    ("G11", "007"): (250_000, 1.0, 1 / 3, 1, False),
    ("G12", "007"): (250_000, 1.0, 1 / 3, 0, False),
    ("G21", "007"): (125_000, 0.5, 1 / 6, 0, True),
    ("G21", "T2"): (125_000, 0.5, 5 / 6, 1, True),
    ("G22", "007"): (125_000, 0.5, 1 / 6, 1, True),
    ("G22", "T2"): (25_000, 0.1, 1 / 6, 0, True),
}


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    return read_hierarchy(toy_hierarchy(tmp_path_factory.mktemp("crosswalk")))


@pytest.fixture(scope="module")
def cells():
    return normalise_theme(cells_layer(), theme="safety")[0]


def test_pairs_areas_shares_and_buildings_by_hand(layers, cells):
    table = crosswalk(layers["grids"], cells, metric_crs=METRIC, buildings=layers["buildings"])
    assert tuple(table.columns) == CROSSWALK_COLUMNS
    got = {(r.grid_code, r.theme_code): r for r in table.itertuples()}
    assert list(got) == sorted(EXPECTED)
    for key, (area, share_grid, share_theme, buildings, straddles) in EXPECTED.items():
        row = got[key]
        assert row.area_m2 == pytest.approx(area, abs=0.01), key
        assert row.share_of_grid == pytest.approx(share_grid, abs=1e-6), key
        assert row.share_of_theme == pytest.approx(share_theme, abs=1e-6), key
        assert row.buildings == buildings, key
        assert bool(row.straddles) is straddles, key
    assert got[("G22", "007")].share_of_grid_buildings == 1.0  # B2 is G22's only building
    assert got[("G21", "T2")].share_of_theme_buildings == 1.0  # B3 is T2's only building
    assert got[("G11", "007")].share_of_theme_buildings == pytest.approx(0.5)  # B1 of B1, B2
    assert set(table["community_code"]) == {"C1", "C2"} and set(table["owner"]) == {"应急管理", "WG0001"}


def test_shares_of_each_grid_add_up_where_covered(layers, cells):
    table = crosswalk(layers["grids"], cells, metric_crs=METRIC)
    sums = table.groupby("grid_code")["share_of_grid"].sum().round(6).to_dict()
    assert sums == {"G11": 1.0, "G12": 1.0, "G21": 1.0, "G22": 0.6}
    assert (table["buildings"] == 0).all()  # no buildings given: none counted


def test_touching_and_sliver_overlaps_are_not_pairs(layers):
    raw = cells_layer()
    # 007 is G11 and 0.001 x 500 = 0.5 m² of G21 (a sliver); T2 touches G11 and G12 along x 500
    raw["geometry"] = [square(0, 0, 500.001, 500), square(500.001, 0, 1000, 1000)]
    thin, _ = normalise_theme(raw, theme="thin")
    table = crosswalk(layers["grids"], thin, metric_crs=METRIC)
    assert sorted(zip(table["grid_code"], table["theme_code"], strict=True)) == [
        ("G11", "007"), ("G21", "T2"), ("G22", "T2")]


def test_tolerance_decides_what_straddles(layers, cells):
    loose = crosswalk(layers["grids"], cells, metric_crs=METRIC, tolerance=0.2)
    cut = {(r.grid_code, r.theme_code) for r in loose.itertuples() if r.straddles}
    assert cut == {("G21", "007"), ("G21", "T2"), ("G22", "007")}  # G22/T2 is 10 %: within 20 %


def test_straddling_cells_report(layers, cells):
    report = straddling_cells(crosswalk(layers["grids"], cells, metric_crs=METRIC))
    assert report[["theme_code", "grids", "grid_codes"]].to_dict("records") == [
        {"theme_code": "007", "grids": 2, "grid_codes": "G21 G22"},
        {"theme_code": "T2", "grids": 2, "grid_codes": "G21 G22"}]
    assert report["area_m2"].tolist() == [250_000, 150_000]


def test_uncovered_base_area(layers, cells):
    gaps = uncovered(layers["grids"], cells, metric_crs=METRIC)
    assert gaps[["grid_code", "uncovered_m2", "uncovered_share"]].to_dict("records") == [
        {"grid_code": "G22", "uncovered_m2": 100_000.0, "uncovered_share": 0.4}]


def test_cells_in_another_crs_give_the_same_table(layers, cells):
    degrees = cells.to_crs("EPSG:4326")
    a = crosswalk(layers["grids"], cells, metric_crs=METRIC)
    b = crosswalk(layers["grids"], degrees, metric_crs=METRIC)
    pd.testing.assert_frame_equal(a.drop(columns=["area_m2"]), b.drop(columns=["area_m2"]), atol=1e-5)
    assert (a["area_m2"] - b["area_m2"]).abs().max() < 0.5


def test_no_overlap_gives_an_empty_table(layers):
    raw = cells_layer()
    raw["geometry"] = raw.translate(10_000, 0)
    far, _ = normalise_theme(raw, theme="far")
    table = crosswalk(layers["grids"], far, metric_crs=METRIC)
    assert len(table) == 0 and tuple(table.columns) == CROSSWALK_COLUMNS
    assert uncovered(layers["grids"], far, metric_crs=METRIC)["uncovered_share"].tolist() == [1.0] * 4


def test_demo_district_safety_grid(demo_dir, tmp_path):
    folder, gpkg = demo_with_roads(demo_dir, tmp_path)
    layers = read_hierarchy(gpkg)
    from geo.themes import read_theme_layer

    cells, notes = read_theme_layer(folder / "theme_safety.shp", theme="safety")  # GBK, EPSG:4490
    assert len(cells) == 16 and cells["code"].tolist()[:2] == ["AQ01", "AQ02"]
    assert set(cells["owner"]) <= {"应急管理", "住建", "市场监管"} and "owner from '责任部门'" in notes[-1]
    table = crosswalk(layers["grids"], cells, metric_crs=METRIC, buildings=layers["buildings"])
    assert len(table) == 343 and table["grid_code"].nunique() == 198 and table["theme_code"].nunique() == 16
    assert table["buildings"].sum() == len(layers["buildings"])  # every building counted once
    assert len(straddling_cells(table)) == 16 and table.loc[table["straddles"], "grid_code"].nunique() == 81
    gaps = uncovered(layers["grids"], cells, metric_crs=METRIC)
    assert len(gaps) == 31 and gaps["uncovered_m2"].sum() == pytest.approx(103_857, abs=2)
