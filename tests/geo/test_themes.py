"""Thematic layers: normalised cells, stored beside the hierarchy atomically, located by point."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import Point, Polygon

from core.errors import InputError
from geo import read_hierarchy
from geo.themes import (
    THEME_LAYER,
    ThemeIndex,
    add_theme,
    normalise_theme,
    read_theme_layer,
    read_themes,
    remove_theme,
    theme_summary,
)
from tests.geo.conftest import METRIC, square
from tests.geo.thematic_data import cells_layer, lonlat, toy_hierarchy


@pytest.fixture
def hierarchy(tmp_path):
    return toy_hierarchy(tmp_path)


def test_fields_are_detected_and_codes_kept_as_text():
    cells, notes = normalise_theme(cells_layer(), theme="safety")
    assert list(cells.columns) == ["theme", "code", "name", "owner", "geometry"]
    assert cells["code"].tolist() == ["007", "T2"]  # leading zeros survive
    assert cells["owner"].tolist() == ["应急管理", "WG0001"]
    assert cells["name"].tolist() == ["安全一格", "安全二格"]
    assert set(cells["theme"]) == {"safety"}
    assert cells.crs.to_epsg() == 4490
    assert cells.to_crs(METRIC).area.round(3).tolist() == [750_000, 150_000]
    assert "owner from '责任部门'" in notes[0]


def test_explicit_fields_win_and_must_exist():
    raw = cells_layer().assign(负责人=["张三", "李四"])
    cells, _ = normalise_theme(raw, theme="t", owner_field="负责人", name_field="网格编号", code_field="名称")
    assert cells["owner"].tolist() == ["张三", "李四"] and cells["code"].tolist() == ["安全一格", "安全二格"]
    with pytest.raises(InputError, match=r"--owner-field 责任人: no such field .*Fix: use one of the fields"):
        normalise_theme(raw, theme="t", owner_field="责任人")


def test_bow_tie_is_repaired_and_noted():
    raw = cells_layer()
    raw.loc[1, "geometry"] = Polygon([(500_750, 4_000_000), (501_000, 4_000_600), (501_000, 4_000_000),
                                      (500_750, 4_000_600)])
    cells, notes = normalise_theme(raw, theme="safety")
    assert cells.geometry.is_valid.all()
    # two triangles meeting at (875, 300)
    assert cells.to_crs(METRIC).area.iloc[1] == pytest.approx(2 * 0.5 * 250 * 300)
    assert any("repaired with make_valid" in n and "T2" in n for n in notes)


@pytest.mark.parametrize(("change", "message"), [
    (lambda g: g.__setitem__("geometry", [g.geometry.iloc[0], Point(500_900, 4_000_100)]),
     r"feature 2 \(code T2\): is a Point, not a polygon.*Fix: give the polygon layer"),
    (lambda g: g.__setitem__("网格编号", ["007", ""]), r"feature 2: has no code.*Fix: give every cell a code"),
    (lambda g: g.__setitem__("网格编号", ["007", "007"]), r"feature 2: code 007 repeats feature 1.*Fix:"),
    (lambda g: g.__setitem__("geometry", [g.geometry.iloc[0], None]), r"feature 2 \(code T2\): has no geometry"),
])
def test_bad_features_are_named_with_the_fix(change, message):
    raw = cells_layer()
    change(raw)
    with pytest.raises(InputError, match=message):
        normalise_theme(gpd.GeoDataFrame(raw, crs=METRIC), theme="safety", source="cells.shp")


def test_theme_names_are_checked():
    with pytest.raises(InputError, match="cannot name a theme"):
        normalise_theme(cells_layer(), theme="  ")
    with pytest.raises(InputError, match="cannot name a theme"):
        normalise_theme(cells_layer(), theme="a\nb")


def test_gbk_shapefile_in_degrees_without_cpg(tmp_path):
    path = tmp_path / "safety.shp"
    cells_layer().to_crs("EPSG:4490").to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    cells, notes = read_theme_layer(path, theme="safety")
    assert cells["name"].tolist() == ["安全一格", "安全二格"]
    assert cells["code"].tolist() == ["007", "T2"]
    assert any("gb18030" in n for n in notes)


def test_missing_prj_names_the_crs_flag_of_the_theme_command(tmp_path):
    path = tmp_path / "safety.shp"
    cells_layer().to_file(path, encoding="GBK")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"safety.shp: has no .prj.*Fix: pass --crs EPSG:NNNN") as err:
        read_theme_layer(path, theme="safety")
    assert "--crs safety=" not in str(err.value)
    cells, _ = read_theme_layer(path, theme="safety", crs="EPSG:4548")
    assert cells.to_crs(METRIC).area.round(3).tolist() == [750_000, 150_000]


def test_add_replace_and_remove_keep_the_hierarchy(hierarchy):
    before = read_hierarchy(hierarchy)
    cells, _ = normalise_theme(cells_layer(), theme="safety")
    assert add_theme(hierarchy, cells) == 2
    market, _ = normalise_theme(cells_layer().iloc[:1], theme="market")
    add_theme(hierarchy, market)
    assert theme_summary(hierarchy).to_dict("records") == [
        {"theme": "market", "cells": 1, "owners": 1}, {"theme": "safety", "cells": 2, "owners": 2}]
    again, _ = normalise_theme(cells_layer().iloc[1:], theme="safety")
    add_theme(hierarchy, again)  # replaces safety, keeps market
    assert read_themes(hierarchy, "safety")["code"].tolist() == ["T2"]
    assert read_themes(hierarchy, "market")["code"].tolist() == ["007"]
    after = read_hierarchy(hierarchy)
    for level in ("streets", "communities", "grids", "buildings"):
        assert after[level]["code"].tolist() == before[level]["code"].tolist()
    assert remove_theme(hierarchy, "market") == 1
    with pytest.raises(InputError, match=r"holds no theme 'market' \(themes: safety\).*themes add"):
        read_themes(hierarchy, "market")


def test_a_failed_add_leaves_the_previous_file(hierarchy, monkeypatch):
    cells, _ = normalise_theme(cells_layer(), theme="safety")
    add_theme(hierarchy, cells)
    data = hierarchy.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", broken)
    other, _ = normalise_theme(cells_layer(), theme="market")
    with pytest.raises(OSError, match="disk full"):
        add_theme(hierarchy, other)
    assert hierarchy.read_bytes() == data
    assert [p.name for p in hierarchy.parent.iterdir() if p.name.startswith(".")] == []


def test_add_refuses_a_file_that_is_not_a_hierarchy(tmp_path):
    other = tmp_path / "other.gpkg"
    cells_layer().to_file(other, layer="whatever")
    cells, _ = normalise_theme(cells_layer(), theme="safety")
    with pytest.raises(InputError, match=r"is not a hierarchy GeoPackage.*geo build"):
        add_theme(other, cells)
    assert {n for n, *_ in pyogrio.list_layers(other)} == {"whatever"}


def test_stored_layer_is_one_layer_in_storage_crs(hierarchy):
    add_theme(hierarchy, normalise_theme(cells_layer(), theme="safety")[0])
    info = pyogrio.read_info(hierarchy, layer=THEME_LAYER)
    assert info["crs"] == "EPSG:4490" and info["features"] == 2


def test_index_locates_points_per_theme(hierarchy):
    add_theme(hierarchy, normalise_theme(cells_layer(), theme="safety")[0])
    index = ThemeIndex(read_themes(hierarchy))
    lon, lat = np.array([lonlat(100, 100), lonlat(900, 100), lonlat(900, 900), (np.nan, np.nan)]).T
    found = index.locate(lon, lat, "safety")
    assert found["code"].tolist() == ["007", "T2", "", ""]
    assert found["owner"].tolist() == ["应急管理", "WG0001", "", ""]
    assert index.locate(lon, lat, "market")["code"].tolist() == ["", "", "", ""]


def test_overlapping_cells_give_the_lower_code():
    raw = cells_layer()
    raw.loc[1, "geometry"] = square(700, 0, 1000, 600)  # overlaps T1 over x 700-750
    cells, _ = normalise_theme(raw, theme="safety")
    lon, lat = lonlat(725, 100)
    assert ThemeIndex(cells).locate(np.array([lon]), np.array([lat]), "safety")["code"].tolist() == ["007"]
