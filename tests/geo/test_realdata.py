"""Real public data (../shared/realdata): Hangzhou Xiacheng grid export and NYC 311."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import read_hierarchy
from tests.geo.conftest import run_geo

HZ_LEVELS = ("streets", "communities", "grids", "buildings")


@pytest.fixture(scope="module")
def hangzhou(realdata: Path, tmp_path_factory) -> dict:
    src = realdata / "hangzhou-xiacheng-grid"
    out = tmp_path_factory.mktemp("hz")
    args = []
    for level in HZ_LEVELS:
        args += [f"--{level}", src / f"{level}.geojson"]
    res = run_geo("build", *args, "--out", out / "h.gpkg", "--report", out / "r.json", "--allow-problems")
    return {"src": src, "out": out, "res": res, "report": json.loads((out / "r.json").read_text("utf-8"))}


def test_hangzhou_build_counts(hangzhou):
    report = hangzhou["report"]
    counts = {lv: report["levels"][lv]["features"] for lv in HZ_LEVELS}
    expected = {lv: len(gpd.read_file(hangzhou["src"] / f"{lv}.geojson")) for lv in HZ_LEVELS}
    assert counts == expected == {"streets": 8, "communities": 90, "grids": 332, "buildings": 4}
    assert hangzhou["res"].returncode == 1  # real flaws are errors; written thanks to --allow-problems
    layers = read_hierarchy(hangzhou["out"] / "h.gpkg")
    assert {lv: len(g) for lv, g in layers.items()} == expected
    # communities name their street; grids get their community by overlap (所属组织 is a name)
    streets = set(layers["streets"]["code"])
    assert set(layers["communities"]["parent_code"]) <= streets
    assert (layers["grids"]["parent_code"] != "").sum() >= 331


def test_hangzhou_duplicated_grid_numbers_reported(hangzhou):
    grids = gpd.read_file(hangzhou["src"] / "grids.geojson")
    counts = grids["网格编号"].value_counts()
    duplicated = set(counts[counts > 1].index)
    assert duplicated  # the delivery really has them
    reported = {p["codes"][0] for p in hangzhou["report"]["problems"]
                if p["kind"] == "duplicate_code" and p["level"] == "grids"}
    assert reported == duplicated


def test_hangzhou_zero_area_grid_reported(hangzhou):
    grids = gpd.read_file(hangzhou["src"] / "grids.geojson")
    area = grids.to_crs("EPSG:4549").area
    tiny = set(grids.loc[area < 1.0, "网格编号"])
    assert len(tiny) == 1
    reported = {p["codes"][0] for p in hangzhou["report"]["problems"]
                if p["kind"] == "empty_geometry" and p["level"] == "grids"}
    assert reported == tiny
    assert hangzhou["report"]["metric_crs"] == "EPSG:4549"  # CGCS2000 GK CM 120E for Hangzhou


@pytest.fixture(scope="module")
def nyc(realdata: Path, tmp_path_factory) -> dict:
    src = realdata / "nyc-311-hierarchy"
    out = tmp_path_factory.mktemp("nyc")
    res = run_geo("build", "--streets", src / "borough.geojson", "--communities", src / "community_district.geojson",
                  "--grids", src / "census_tract_2010.geojson", "--map", "communities.code=boro_cd",
                  "--map", "grids.code=geoid", "--out", out / "h.gpkg", "--report", out / "r.json",
                  "--allow-problems")
    return {"src": src, "out": out, "res": res, "report": json.loads((out / "r.json").read_text("utf-8"))}


def test_nyc_build_with_field_mapping(nyc):
    report = nyc["report"]
    assert {lv: report["levels"][lv]["features"] for lv in HZ_LEVELS} == {
        "streets": 5, "communities": 59, "grids": 2167, "buildings": 0}
    assert report["metric_crs"] == "EPSG:32618"  # UTM 18N, chosen from the data's location
    layers = read_hierarchy(nyc["out"] / "h.gpkg")
    assert layers["communities"]["code"].str.fullmatch(r"[1-5]\d\d").all()
    assert layers["grids"]["code"].str.fullmatch(r"36\d{9}").all()
    # the borough of a community district is its first digit: the inferred parents must agree
    cd = layers["communities"]
    assert (cd["parent_code"] == cd["code"].str[0]).mean() == 1.0
    assert any(n.startswith("communities: parent_code inferred") for n in report["notes"])


def _joined(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_hangzhou_events_join_agrees_with_reporting_grid(hangzhou):
    out = hangzhou["out"] / "joined.csv"
    res = run_geo("join", "--hierarchy", hangzhou["out"] / "h.gpkg", "--incidents",
                  hangzhou["src"] / "grid_events.geojson", "--out", out)
    assert res.returncode == 0, res.stderr
    joined = _joined(out)
    events = gpd.read_file(hangzhou["src"] / "grid_events.geojson")
    assert len(joined) == len(events) == 228
    assert (joined["event_id"] == events["event_id"].astype(str)).all()
    # 上报部门 is e.g. 灯芯巷网格1; the grid's name (所属组织) is 天水街道灯芯巷社区灯芯巷社区网格1
    grids = read_hierarchy(hangzhou["out"] / "h.gpkg")["grids"]
    names = grids.groupby("code")["name"].first()
    joined_names = joined["grid_code"].map(names).fillna("").str.replace("社区", "", regex=False)
    agree = np.array([n.endswith(dept) for n, dept in zip(joined_names, joined["上报部门"], strict=True)])
    rate = agree.mean()
    print(f"Hangzhou: joined grid agrees with 上报部门 for {agree.sum()}/{len(agree)} events ({rate:.1%})")
    assert rate >= 0.95
    assert (joined["street_code"] == "TS").all()  # all 228 events are in 天水街道


BOROUGHS = {"MANHATTAN": "1", "BRONX": "2", "BROOKLYN": "3", "QUEENS": "4", "STATEN ISLAND": "5"}


def test_nyc_311_join_against_the_records_own_fields(nyc):
    csv_path = nyc["src"] / "nyc311_2022-05-01_sample.csv"
    out = nyc["out"] / "joined.csv"
    res = run_geo("join", "--hierarchy", nyc["out"] / "h.gpkg", "--incidents", csv_path, "--out", out)
    assert res.returncode == 0, res.stderr
    source = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    joined = _joined(out)
    assert len(source) == len(joined) == 924
    assert list(joined.columns) == list(source.columns) + [
        "street_code", "community_code", "grid_code", "building_code", "join_status", "distance_m"]
    assert (joined[source.columns].to_numpy() == source.to_numpy()).all()
    no_coords = (source["Latitude"] == "") | (source["Longitude"] == "")
    assert no_coords.sum() == 11
    assert (joined.loc[no_coords, "join_status"] == "missing_coordinates").all()
    assert set(joined["join_status"]) <= {"ok", "snapped", "outside", "swapped", "missing_coordinates",
                                          "invalid_coordinates"}
    # answer key: Community Board '01 BRONX' is boro_cd 201; Borough 'BRONX' is borough code 2
    parts = source["Community Board"].str.extract(r"^(\d\d) (.+)$")
    key = parts[1].map(BOROUGHS) + parts[0]
    has_key = key.notna() & (joined["community_code"] != "")
    cd_rate = (key[has_key] == joined.loc[has_key, "community_code"]).mean()
    boro = source["Borough"].map(BOROUGHS)
    has_boro = boro.notna() & (joined["street_code"] != "")
    boro_rate = (boro[has_boro] == joined.loc[has_boro, "street_code"]).mean()
    print(f"NYC: community district agrees for {cd_rate:.1%} of {has_key.sum()} keyed rows, "
          f"borough for {boro_rate:.1%} of {has_boro.sum()}")
    assert has_key.sum() > 850 and cd_rate >= 0.97 and boro_rate >= 0.99
    # points in areas no community district covers are kept and reported with a blank district
    located = ~no_coords
    uncovered = located & (joined["community_code"] == "")
    print(f"NYC: {uncovered.sum()} located rows lie in no community district "
          f"(statuses {joined.loc[uncovered, 'join_status'].value_counts().to_dict()})")
    assert (joined.loc[located, "grid_code"] != "").mean() > 0.98
