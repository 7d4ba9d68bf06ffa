"""The demo district's shapefiles: counts, areas, coverage, codes, encodings, CRS, shapes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from core.constants import DEFAULT_METRIC_CRS, SLIVER_TOLERANCE_M2

STREET = "370811004000"


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(DEFAULT_METRIC_CRS)


def _dbf_records(path) -> bytes:
    data = path.read_bytes()
    header_len = int.from_bytes(data[8:10], "little")
    return data[header_len:]


def _overlap_area(geoms: np.ndarray) -> float:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    return float(shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).sum())


def test_cli_prints_one_summary_line(demo):
    lines = demo.run.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "198 grids" in lines[0] and "km²" in lines[0]
    assert demo.run.stderr.strip() == ""


def test_counts_of_each_level(demo):
    streets, comms, grids = (demo.layers[k] for k in ("streets", "communities", "grids"))
    assert len(streets) == 1
    assert (comms["KIND"] == "社区").sum() == 7
    assert (comms["KIND"] == "村").sum() == 11
    assert len(grids) == 198
    assert 3000 <= len(demo.layers["buildings"]) <= 6000


def test_street_area_is_about_51_km2_in_the_metric_crs(demo):
    area_km2 = _metric(demo.layers["streets"]).area.sum() / 1e6
    assert 49.0 <= area_km2 <= 53.0


@pytest.mark.parametrize(
    ("child", "parent_col", "parent", "parent_code_col"),
    [
        ("communities", "PARENT", "streets", "CODE"),
        ("grids", "所属社区", "communities", "CODE"),
    ],
)
def test_children_tile_their_parent_without_gap_or_overlap(
    demo, child, parent_col, parent, parent_code_col
):
    children = _metric(demo.layers[child])
    parents = _metric(demo.layers[parent])
    geoms = children.geometry.to_numpy()
    assert shapely.coverage_is_valid(geoms)
    assert _overlap_area(geoms) < SLIVER_TOLERANCE_M2
    for code, parent_geom in zip(parents[parent_code_col], parents.geometry, strict=True):
        kids = children.geometry[children[parent_col] == code].to_numpy()
        assert len(kids) > 0, f"{parent} {code} has no {child}"
        union = shapely.union_all(kids)
        gap = parent_geom.difference(union).area
        excess = union.difference(parent_geom).area
        assert gap < SLIVER_TOLERANCE_M2, f"{parent} {code}: gap {gap} m²"
        assert excess < SLIVER_TOLERANCE_M2, f"{parent} {code}: excess {excess} m²"


def test_every_child_lies_in_its_parent(demo):
    comms = _metric(demo.layers["communities"]).set_index("CODE")
    grids = _metric(demo.layers["grids"])
    for code, parent_code, geom in zip(grids["网格编码"], grids["所属社区"], grids.geometry,
                                       strict=True):
        outside = geom.difference(comms.geometry[parent_code]).area
        assert outside < SLIVER_TOLERANCE_M2, f"grid {code}: {outside} m² outside {parent_code}"
    grid_geoms = dict(zip(grids["网格编码"], grids.geometry, strict=True))
    buildings = _metric(demo.layers["buildings"])
    inside = [grid_geoms[g].contains(b) for g, b in zip(buildings["GRID"], buildings.geometry,
                                                        strict=True)]
    assert all(inside), f"{inside.count(False)} buildings not entirely inside their grid"


def test_buildings_do_not_overlap(demo):
    geoms = _metric(demo.layers["buildings"]).geometry.to_numpy()
    assert _overlap_area(geoms) == 0.0
    assert (shapely.area(geoms) > 100).all()


def test_codes_are_strings_with_the_right_length_and_prefix(demo):
    streets, comms, grids, blds = (demo.layers[k] for k in
                                   ("streets", "communities", "grids", "buildings"))
    assert streets["CODE"].tolist() == [STREET]
    for col, frame, length in [("CODE", comms, 12), ("网格编码", grids, 15),
                               ("CODE", blds, 18), ("GRID", blds, 15), ("所属社区", grids, 12)]:
        values = frame[col]
        assert all(isinstance(v, str) and v.isdigit() and len(v) == length for v in values), col
    assert (comms["PARENT"] == STREET).all()
    urban = sorted(comms.loc[comms["KIND"] == "社区", "CODE"])
    villages = sorted(comms.loc[comms["KIND"] == "村", "CODE"])
    assert urban == [f"370811004{i:03d}" for i in range(1, 8)]
    assert villages == [f"370811004{i:03d}" for i in range(201, 212)]
    assert (grids["网格编码"].str[:12] == grids["所属社区"]).all()
    assert grids["网格编码"].is_unique and blds["CODE"].is_unique
    assert (blds["CODE"].str[:15] == blds["GRID"]).all()
    assert set(blds["GRID"]) <= set(grids["网格编码"])


def test_names_kinds_and_building_attributes(demo):
    comms, grids, blds = (demo.layers[k] for k in ("communities", "grids", "buildings"))
    assert comms.loc[comms["KIND"] == "社区", "NAME"].str.endswith("社区").all()
    assert comms.loc[comms["KIND"] == "村", "NAME"].str.endswith("村").all()
    names = dict(zip(comms["CODE"], comms["NAME"], strict=True))
    for code, name, parent in zip(grids["网格编码"], grids["网格名称"], grids["所属社区"],
                                  strict=True):
        assert name == f"{names[parent]}第{int(code[-3:])}网格"
    kind_of_comm = dict(zip(comms["CODE"], comms["KIND"], strict=True))
    expected = blds["GRID"].str[:12].map(kind_of_comm).map({"社区": "楼栋", "村": "院落"})
    assert (blds["KIND"] == expected).all()
    towers = blds[blds["KIND"] == "楼栋"]
    courts = blds[blds["KIND"] == "院落"]
    assert len(towers) > 500 and len(courts) > 500
    assert towers["NAME"].str.fullmatch(r"\d+号楼").all()
    assert courts["NAME"].str.fullmatch(r".+村\d+号院").all()
    assert (towers["FLOORS"] >= 5).all() and (courts["FLOORS"] <= 2).all()
    assert (blds["HOUSEHOLDS"] >= 1).all()


def test_grids_are_gbk_and_other_layers_utf8(demo):
    grids_dbf = demo.path / "grids.dbf"
    assert (demo.path / "grids.cpg").read_text().strip().upper() == "GBK"
    records = _dbf_records(grids_dbf)
    with pytest.raises(UnicodeDecodeError):
        records.decode("utf-8")
    assert "社区第1网格" in records.decode("gbk")
    assert "网格编码" in grids_dbf.read_bytes()[32:200].decode("gbk", errors="replace")
    assert demo.layers["grids"]["网格名称"].str.contains("网格").all()
    for name in ("streets", "communities", "buildings"):
        assert (demo.path / f"{name}.cpg").read_text().strip().upper() in {"UTF-8", "UTF8"}
        text = _dbf_records(demo.path / f"{name}.dbf").decode("utf-8")
        assert any(word in text for word in ("街道", "社区", "号楼")), name


def test_every_shapefile_has_a_prj_for_epsg_4548(demo):
    for name in ("streets", "communities", "grids", "buildings"):
        prj = (demo.path / f"{name}.prj").read_text()
        assert CRS.from_wkt(prj).to_epsg() == 4548
        assert demo.layers[name].crs.to_epsg() == 4548


def test_district_lies_near_116_6_e_35_45_n(demo):
    centre = demo.layers["streets"].to_crs("EPSG:4490").geometry.iloc[0].centroid
    assert abs(centre.x - 116.6) < 0.05
    assert abs(centre.y - 35.45) < 0.05


@pytest.mark.parametrize("level", ["communities", "grids"])
def test_boundaries_are_detailed_not_a_lattice(demo, level):
    geoms = _metric(demo.layers[level]).geometry.to_numpy()
    assert set(shapely.get_type_id(geoms)) == {3}  # single polygons
    vertices = shapely.get_num_coordinates(geoms)
    assert np.median(vertices) >= 10
    # a lattice cell fills its minimum rotated rectangle; road-following polygons do not
    fill = shapely.area(geoms) / shapely.area(shapely.minimum_rotated_rectangle(geoms))
    assert np.median(fill) < 0.9
    assert (vertices <= 5).sum() == 0
