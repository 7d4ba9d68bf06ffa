"""The 15-minute service circle on a hand-made network (every figure worked out by hand in
``tests/geo/thematic_data.py``: 1.2 m/s is 72 m a minute), and the demo district's figures."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import shapely

from core.errors import InputError
from geo import read_hierarchy
from geo.network import build_network, read_roads, snap
from geo.service_circle import band_of, outside_table, parse_minutes, service_circle, totals
from geo.service_gaps import isochrones, rank_gaps
from geo.service_inputs import read_facilities, read_households
from tests.geo.conftest import METRIC, X0, Y0
from tests.geo.thematic_data import (
    BUILDINGS,
    EXPECTED_M,
    SPEED,
    circle_buildings,
    circle_grids,
    demo_with_roads,
    facilities_csv,
    households,
    roads_layer,
)


@pytest.fixture
def facilities(tmp_path):
    return read_facilities(facilities_csv(tmp_path / "facilities.csv"))


def _circle(facilities, *, node=True, with_households=True, crs=METRIC):
    network = build_network(roads_layer(crs), metric_crs=METRIC, node=node)
    hh = pd.Series(households()) if with_households else None
    return service_circle(circle_buildings(), network, facilities, grids=circle_grids(), households=hh,
                          speed=SPEED, minutes=(5, 10, 15))


def test_walk_times_and_bands_by_hand(facilities):
    result = _circle(facilities)
    assert result.types == ["食堂", "卫生室"]
    rows = result.rows
    assert rows[["building_code", "facility_type"]].values.tolist() == [
        [b, k] for b in BUILDINGS for k in ("食堂", "卫生室")]  # building by building, types in CSV order
    for row in rows.itertuples():
        metres = EXPECTED_M[row.building_code][row.facility_type]
        if metres is None:
            assert np.isnan(row.walk_min) and np.isnan(row.walk_m) and pd.isna(row.band)
            assert row.facility_name == ""
            continue
        assert row.walk_m == pytest.approx(metres, abs=0.05), row
        assert row.walk_min == pytest.approx(metres / 72, abs=1e-4), row
        expected_band = next((m for m in (5, 10, 15) if metres / 72 <= m + 1e-9), None)
        assert (pd.isna(row.band) if expected_band is None else row.band == expected_band), row
    b5 = rows.set_index(["building_code", "facility_type"]).loc[("b5", "食堂")]
    assert b5.walk_min == 10.0 and b5.band == 10  # exactly on the limit: inside
    assert rows.loc[rows["building_code"] == "b1", "snap_m"].tolist() == [20.0, 20.0]
    assert set(rows["community_code"]) == {"C1"}


def test_crossing_roads_meet_only_when_noded(facilities):
    apart = _circle(facilities, node=False)
    b3 = apart.rows.set_index(["building_code", "facility_type"]).loc[("b3", "食堂")]
    assert np.isnan(b3.walk_min)  # road B only crosses road A: without noding no junction there


def test_roads_in_another_crs_give_the_same_times(facilities):
    a = _circle(facilities).rows
    b = _circle(facilities, crs="EPSG:4490").rows
    assert np.allclose(a["walk_m"].astype(float), b["walk_m"].astype(float), atol=0.05, equal_nan=True)


def test_outside_per_area_and_totals(facilities):
    result = _circle(facilities)
    table = outside_table(result, level="community_code").set_index("facility_type")
    canteen = table.loc["食堂"]
    # 食堂: b1 4.2 min, b5 10 min, b3 13.9 min, b2 16.7 min, b4 unreachable
    assert (canteen["outside_5"], canteen["outside_10"], canteen["outside_15"]) == (4, 3, 2)
    assert canteen["households_outside_15"] == 20 + 40
    assert canteen["share_outside_15"] == pytest.approx(60 / 150, abs=1e-4)
    assert canteen["share_outside_5"] == pytest.approx(140 / 150, abs=1e-4)
    tot = totals(result).set_index("facility_type")
    # 卫生室: b5 9.9 min, b1 12.4, b3 13.75, b2 16.5, b4 unreachable
    assert tot.loc["卫生室", "outside_10"] == 4 and tot.loc["卫生室", "unreachable"] == 1
    assert tot.loc["卫生室", "households_outside_15"] == 60


def test_without_households_shares_count_buildings(facilities):
    result = _circle(facilities, with_households=False)
    assert result.rows["households"].isna().all()
    table = outside_table(result).set_index("facility_type")
    assert "households" not in table.columns
    assert table.loc["食堂", "share_outside_15"] == pytest.approx(2 / 5)


def test_gaps_ranked_by_households_covered(facilities):
    result = _circle(facilities)
    gaps = rank_gaps(result, "食堂")
    # outside 15 min: b2 (20 households) and b4 (40); neither reaches the other, so b4 comes first
    assert gaps[["rank", "building_code", "households", "buildings", "households_left"]].values.tolist() == [
        [1, "b4", 40, 1, 20], [2, "b2", 20, 1, 0]]
    assert gaps["share_covered"].tolist() == [pytest.approx(40 / 60, abs=1e-4), 1.0]
    assert rank_gaps(result, "食堂", top=1)["building_code"].tolist() == ["b4"]
    # beyond 10 min of 卫生室: b1, b2, b3, b4. Within 720 m b1 and b3 reach each other (700 m): 40
    # households each, as b4 alone; b1 wins the tie (two buildings, the lower code), then b4, then b2
    closer = rank_gaps(result, "卫生室", minutes=10)
    assert closer[["building_code", "households", "buildings"]].values.tolist() == [
        ["b1", 40, 2], ["b4", 40, 1], ["b2", 20, 1]]


def test_isochrone_of_the_first_band(facilities):
    result = _circle(facilities)
    iso = isochrones(result, "食堂").to_crs(METRIC).set_index("minutes")
    five = iso.loc[5, "geometry"]  # 360 m of road A from F1, widened by 60 m
    assert five.contains(shapely.Point(X0 + 300, Y0)) and not five.contains(shapely.Point(X0 + 450, Y0))
    assert 360 * 120 < five.area < 360 * 120 + np.pi * 60**2
    fifteen = iso.loc[15, "geometry"]  # 1080 m: all of A west of 1080, B up to 480 from the junction
    assert fifteen.contains(shapely.Point(X0 + 600, Y0 + 470)) and not fifteen.contains(shapely.Point(X0 + 600,
                                                                                                       Y0 + 560))
    assert iso.loc[10, "geometry"].within(fifteen.buffer(0.01))


def test_snap_goes_to_the_nearest_road_point():
    network = build_network(roads_layer(), metric_crs=METRIC)
    snapped = snap(network, np.array([X0 + 300, X0 + 610]), np.array([Y0 + 20, Y0 - 400]))
    assert snapped.distance_m.tolist() == [20.0, 10.0]
    assert shapely.get_coordinates(shapely.line_interpolate_point(
        network.lines[snapped.edge], snapped.offset_m)).round(6).tolist() == [[X0 + 300, Y0], [X0 + 600, Y0 - 400]]


@pytest.mark.parametrize(("text", "ok"), [("5,10,15", (5.0, 10.0, 15.0)), ("15", (15.0,)), ("10,5", None),
                                          ("0,5", None), ("a", None), ("", None)])
def test_minutes_are_checked(text, ok):
    if ok is None:
        with pytest.raises(InputError, match="--minutes"):
            parse_minutes(text)
    else:
        assert parse_minutes(text) == ok


def test_band_of_limits():
    got = band_of(np.array([0, 5, 5.0001, 15, 15.01, np.nan]), (5, 10, 15))
    assert got[:4].tolist() == [5, 5, 10, 15] and np.isnan(got[4]) and np.isnan(got[5])


def test_facilities_csv_errors_name_the_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,类型,经度,纬度\n一,食堂,117.0,36.1\n二,食堂,abc,36.1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv: row 3: coordinates \(abc, 36.1\).*Fix: write decimal degrees"):
        read_facilities(bad)
    bad.write_text("名称,类型,经度,纬度\n一,,117.0,36.1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2: 类型 is empty"):
        read_facilities(bad)
    bad.write_text("名称,经度,纬度\n一,117.0,36.1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"missing column\(s\) 类型"):
        read_facilities(bad)


def test_facilities_in_gbk_and_english_headers(tmp_path):
    gbk = facilities_csv(tmp_path / "gbk.csv", encoding="gbk")
    assert read_facilities(gbk)["type"].tolist() == ["食堂", "卫生室"]
    english = tmp_path / "en.csv"
    english.write_text("name,kind,lng,lat\nA,clinic,117.0,36.1\n", encoding="utf-8")
    assert read_facilities(english).to_dict("records") == [{"name": "A", "type": "clinic", "lon": 117.0, "lat": 36.1}]


def test_households_from_a_csv_and_bad_counts(tmp_path):
    good = tmp_path / "hh.csv"
    good.write_text("楼栋编码,户数\n001,12\n002,\n001,3\n", encoding="utf-8")
    assert read_households(good).to_dict() == {"001": 15, "002": 0}
    good.write_text("楼栋编码,户数\n001,1.5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2: 户数 '1.5' is not a number of households"):
        read_households(good)


def test_roads_must_be_lines(tmp_path):
    path = tmp_path / "roads.gpkg"
    circle_grids().to_file(path)
    with pytest.raises(InputError, match=r"roads.gpkg: feature 1: holds a Polygon.*Fix: give the road centre-line"):
        read_roads(path)


# --- the demo district ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_dir, tmp_path_factory):
    return demo_with_roads(demo_dir, tmp_path_factory.mktemp("demo_roads"))


def test_demo_district_figures(demo):
    folder, gpkg = demo
    layers = read_hierarchy(gpkg)
    start = time.perf_counter()
    roads, _ = read_roads(folder / "roads.shp")
    network = build_network(roads, metric_crs=METRIC)
    result = service_circle(layers["buildings"], network, read_facilities(folder / "facilities.csv"),
                            grids=layers["grids"], households=read_households(folder / "buildings.shp"))
    seconds = time.perf_counter() - start
    assert seconds < 10, f"service circle of the demo took {seconds:.1f} s"
    assert network.components().max() == 0  # one connected network
    kinds = set(read_roads(folder / "roads.shp")[0]["KIND"])
    assert kinds == {"主干道", "村道", "环城路", "城区街道"}  # the river is not a walking road
    assert result.types == ["党群服务中心", "幸福食堂", "综治中心", "卫生室"]
    assert len(result.rows) == 4 * 4184 and result.rows["walk_min"].notna().all()
    tot = totals(result).set_index("facility_type")
    assert tot["facilities"].to_dict() == {"党群服务中心": 18, "幸福食堂": 12, "综治中心": 1, "卫生室": 13}
    share = tot["share_outside_15"].to_dict()
    assert share == pytest.approx({"党群服务中心": 0.0154, "幸福食堂": 0.0411, "综治中心": 0.7715, "卫生室": 0.4698},
                                  abs=0.002)
    gaps = rank_gaps(result, "卫生室", top=5)
    assert len(gaps) == 5 and gaps["households"].is_monotonic_decreasing
    assert gaps["share_covered"].is_monotonic_increasing
