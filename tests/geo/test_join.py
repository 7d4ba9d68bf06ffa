"""HierarchyIndex.join on the toy district: statuses, edges, snapping, coordinate systems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from core.constants import JOIN_STATUSES
from geo import HierarchyIndex, build_hierarchy
from geo.cellindex import CellIndex
from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from tests.geo.conftest import METRIC, X0, Y0, square, toy_layers, write_layers

_TO_DEG = Transformer.from_crs(METRIC, "EPSG:4490", always_xy=True)


def deg(x_m, y_m):
    """Toy metres (relative to the origin) to EPSG:4490 lon/lat arrays."""
    lon, lat = _TO_DEG.transform(X0 + np.asarray(x_m, float), Y0 + np.asarray(y_m, float))
    return np.atleast_1d(lon), np.atleast_1d(lat)


def _index(tmp_path, layers=None, **kwargs) -> HierarchyIndex:
    paths = write_layers(layers or toy_layers(), tmp_path / "in")
    return HierarchyIndex(build_hierarchy(paths).layers, **kwargs)


@pytest.fixture
def index(tmp_path) -> HierarchyIndex:
    return _index(tmp_path)


def test_points_inside_get_all_four_codes(index):
    lon, lat = deg([250, 250, 750, 750, 120, 730], [250, 750, 250, 750, 115, 710])
    out = index.join(lon, lat)
    assert list(out.columns) == ["street_code", "community_code", "grid_code", "building_code", "join_status",
                                 "distance_m", "lon", "lat"]
    assert out["grid_code"].tolist() == ["G11", "G12", "G21", "G22", "G11", "G22"]
    assert out["community_code"].tolist() == ["C1", "C1", "C2", "C2", "C1", "C2"]
    assert (out["street_code"] == "ST1").all()
    assert out["building_code"].isna().tolist() == [True, True, True, True, False, False]
    assert out["building_code"].iloc[4:].tolist() == ["B1", "B2"]
    assert (out["join_status"] == "ok").all() and (out["distance_m"] == 0).all()
    assert out["lon"].to_numpy() == pytest.approx(lon) and out["lat"].to_numpy() == pytest.approx(lat)


def _degree_grids(order) -> dict:
    import geopandas as gpd
    from shapely.geometry import box

    cells = {"A1": box(116.995, 36.0, 117.0, 36.005), "A2": box(116.995, 36.005, 117.0, 36.01),
             "B1": box(117.0, 36.0, 117.005, 36.005), "B2": box(117.0, 36.005, 117.005, 36.01)}
    codes = [c for c in order]
    return {"grids": gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=[cells[c] for c in codes],
                                      crs="EPSG:4490")}


def test_shared_edge_and_corner_points_are_deterministic(tmp_path):
    # exactly on the A1|B1 edge, the A1|A2 edge, the B1|B2 edge and the corner shared by all four
    lon = np.array([117.0, 116.9975, 117.0025, 117.0])
    lat = np.array([36.0025, 36.005, 36.005, 36.005])
    first = _index(tmp_path / "a", _degree_grids(["A1", "A2", "B1", "B2"])).join(lon, lat)
    assert first["grid_code"].tolist() == ["A1", "A1", "B1", "A1"]  # lowest code wins
    assert (first["join_status"] == "ok").all()
    # same answer from a layer written in another feature order
    other = _index(tmp_path / "b", _degree_grids(["B2", "B1", "A2", "A1"])).join(lon, lat)
    assert other["grid_code"].tolist() == first["grid_code"].tolist()


def test_cell_index_matches_brute_force_on_edges_and_random_points(index):
    grids = index.levels["grids"]
    rng = np.random.default_rng(7)
    xm = np.concatenate([rng.uniform(-50, 1050, 20000), np.full(200, 500.0), rng.uniform(0, 1000, 200)])
    ym = np.concatenate([rng.uniform(-50, 1050, 20000), rng.uniform(0, 1000, 200), np.full(200, 500.0)])
    lon, lat = deg(xm, ym)
    got = CellIndex(grids.geoms, rank=grids.rank).lookup(lon, lat)
    expected = np.full(len(lon), -1)
    for i in np.argsort(grids.rank)[::-1]:  # lowest rank last: it wins
        expected[shapely.intersects_xy(grids.geoms[i], lon, lat)] = i
    assert (got == expected).all()


def test_snapped_within_30_m_outside_beyond(index):
    lon, lat = deg([1020, 1100, -10], [250, 250, 990])
    out = index.join(lon, lat)
    assert out["join_status"].tolist() == ["snapped", "outside", "snapped"]
    assert out["grid_code"].tolist()[0] == "G21" and pd.isna(out["grid_code"].iloc[1])
    assert out["grid_code"].iloc[2] == "G12"
    assert out["distance_m"].iloc[0] == pytest.approx(20, abs=0.5)
    assert out["distance_m"].iloc[2] == pytest.approx(10, abs=0.5)
    assert np.isnan(out["distance_m"].iloc[1])
    assert out["community_code"].tolist()[0] == "C2" and out["street_code"].iloc[0] == "ST1"
    assert pd.isna(out["community_code"].iloc[1]) and pd.isna(out["building_code"].iloc[0])
    assert index.join(lon, lat, snap_m=5)["join_status"].tolist() == ["outside", "outside", "outside"]


def test_swapped_missing_invalid(index):
    lon, lat = deg([250, 750], [250, 750])
    given_lon = np.array([lat[0], lon[1], np.nan, 0.0, 200.0, lon[0]], dtype=object)
    given_lat = np.array([lon[0], lat[1], lat[0], 0.0, 30.0, "abc"], dtype=object)
    out = index.join(given_lon, given_lat)
    assert out["join_status"].tolist() == ["swapped", "ok", "missing_coordinates", "missing_coordinates",
                                           "invalid_coordinates", "invalid_coordinates"]
    assert out["grid_code"].iloc[0] == "G11"
    assert out["lon"].iloc[0] == pytest.approx(lon[0]) and out["lat"].iloc[0] == pytest.approx(lat[0])
    assert out["grid_code"].iloc[2:].isna().all() and out["lon"].iloc[2:].isna().all()
    assert set(out["join_status"]) <= set(JOIN_STATUSES)


def test_text_coordinates_and_blank_cells(index):
    lon, lat = deg([250], [250])
    out = index.join(pd.Series([f" {lon[0]:.8f} ", ""]), pd.Series([f"{lat[0]:.8f}", ""]))
    assert out["join_status"].tolist() == ["ok", "missing_coordinates"]


@pytest.mark.parametrize(("coords", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_gcj02_and_bd09_are_converted(index, coords, forward):
    lon, lat = deg([250, 495, 750], [250, 250, 750])
    glon, glat = forward(lon, lat)
    assert np.hypot((glon - lon) * 90_000, (glat - lat) * 111_000).min() > 100  # really offset
    wrong = index.join(glon, glat)
    out = index.join(glon, glat, coords=coords)
    assert out["grid_code"].tolist() == ["G11", "G11", "G22"]
    assert wrong["grid_code"].tolist() != out["grid_code"].tolist()
    err_m = np.hypot((out["lon"].to_numpy() - lon) * 90_000, (out["lat"].to_numpy() - lat) * 111_000)
    assert err_m.max() < 0.5


def test_non_nesting_grid_gets_its_community_by_direct_test(tmp_path):
    layers = toy_layers()
    grids = layers["grids"].copy()
    grids.loc[grids["网格编码"] == "G11", "geometry"] = square(0, 0, 600, 500)
    grids.loc[grids["网格编码"] == "G21", "geometry"] = square(600, 0, 1000, 500)
    layers["grids"] = grids
    index = _index(tmp_path, layers)
    assert not index.levels["grids"].nests[list(index.levels["grids"].codes).index("G11")]
    lon, lat = deg([550, 250], [250, 250])
    out = index.join(lon, lat)
    assert out["grid_code"].tolist() == ["G11", "G11"]
    assert out["community_code"].tolist() == ["C2", "C1"]  # the spilled part lies in C2


def test_missing_levels_leave_codes_blank(tmp_path):
    layers = toy_layers()
    del layers["communities"], layers["buildings"]
    layers["grids"] = layers["grids"].drop(columns="社区编码")
    index = _index(tmp_path, layers)
    lon, lat = deg([250, 750], [250, 750])
    out = index.join(lon, lat)
    assert out["community_code"].isna().all() and out["building_code"].isna().all()
    assert out["street_code"].tolist() == ["ST1", "ST1"] and out["grid_code"].tolist() == ["G11", "G22"]


def test_order_and_index_preserved_nothing_dropped(index):
    rng = np.random.default_rng(3)
    lon, lat = deg(rng.uniform(-200, 1200, 5000), rng.uniform(-200, 1200, 5000))
    lon = lon.astype(object)
    lon[::97] = None
    s_lon = pd.Series(lon, index=np.arange(5000) * 3)
    out = index.join(s_lon, pd.Series(lat, index=s_lon.index))
    assert len(out) == 5000 and (out.index == s_lon.index).all()
    assert (out["join_status"].iloc[::97] == "missing_coordinates").all()
    assert set(out["join_status"]) <= set(JOIN_STATUSES)
