"""Real public data (../shared/realdata): Hangzhou Xiacheng grid export and NYC 311."""

from __future__ import annotations

import json
import re
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
