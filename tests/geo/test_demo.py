"""The generated demo district builds cleanly and joins its own incidents."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest

from geo import read_hierarchy
from tests.geo.conftest import run_geo


@pytest.fixture(scope="module")
def demo_build(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_build")
    args = []
    for level in ("streets", "communities", "grids", "buildings"):
        args += [f"--{level}", demo_dir / f"{level}.shp"]
    res = run_geo("build", *args, "--out", out / "hierarchy.gpkg", "--report", out / "report.json")
    return {"res": res, "out": out, "demo": demo_dir}


def test_demo_builds_clean(demo_build):
    res = demo_build["res"]
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((demo_build["out"] / "report.json").read_text("utf-8"))
    assert report["ok"] is True
    assert [p for p in report["problems"] if p["severity"] == "error"] == []
    buildings = pyogrio.read_info(demo_build["demo"] / "buildings.shp")["features"]
    features = {lv: v["features"] for lv, v in report["levels"].items()}
    assert features == {"streets": 1, "communities": 18, "grids": 198, "buildings": buildings}
    for level in ("streets", "communities", "grids"):
        assert report["levels"][level]["area_km2"] == pytest.approx(51, rel=0.02)
    layers = read_hierarchy(demo_build["out"] / "hierarchy.gpkg")
    assert all(len(layers[lv]) == n for lv, n in features.items())
    assert (layers["grids"]["parent_code"].isin(set(layers["communities"]["code"]))).all()


def test_demo_incidents_join(demo_build):
    src = demo_build["demo"] / "incidents.csv"
    out = demo_build["out"] / "joined.csv"
    res = run_geo("join", "--hierarchy", demo_build["out"] / "hierarchy.gpkg", "--incidents", src, "--out", out)
    assert res.returncode == 0, res.stderr
    source = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    joined = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(joined) == len(source)
    assert (joined[source.columns].to_numpy() == source.to_numpy()).all()
    located = (source["经度"] != "") & (source["纬度"] != "")
    assert (joined.loc[located, "join_status"].isin(["ok", "snapped", "swapped"])).mean() > 0.95
