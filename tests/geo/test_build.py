"""`python -m geo build` and the hierarchy import on hand-made deliveries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon

from geo import build_hierarchy, read_hierarchy
from tests.geo.conftest import (
    METRIC,
    X0,
    Y0,
    build_args,
    run_geo,
    square,
    toy_layers,
    write_layers,
)


def _report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _kinds(report: dict, kind: str) -> list[dict]:
    return [p for p in report["problems"] if p["kind"] == kind]


def test_clean_gpkg_builds_with_exit_0(tmp_path, toy_gpkg):
    out, rep = tmp_path / "h.gpkg", tmp_path / "r.json"
    res = run_geo("build", *build_args(toy_gpkg), "--out", out, "--report", rep)
    assert res.returncode == 0, res.stdout + res.stderr
    report = _report(rep)
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["levels"]["grids"] == {"features": 4, "area_km2": pytest.approx(1.0, rel=1e-3)}
    assert {n for n, *_ in pyogrio.list_layers(out)} == {"streets", "communities", "grids", "buildings"}
    layers = read_hierarchy(out)
    for gdf in layers.values():
        assert list(gdf.columns) == ["code", "name", "parent_code", "geometry"]
        assert gdf.crs.to_epsg() == 4490
    assert dict(zip(layers["grids"]["code"], layers["grids"]["parent_code"], strict=True)) == {
        "G11": "C1", "G12": "C1", "G21": "C2", "G22": "C2"}
    assert dict(zip(layers["buildings"]["code"], layers["buildings"]["parent_code"], strict=True)) == {
        "B1": "G11", "B2": "G22"}
    assert set(layers["communities"]["name"]) == {"西社区", "东社区"}


def test_gbk_shapefile_without_cpg_is_read_without_mojibake(tmp_path, toy):
    paths = write_layers(toy, tmp_path / "in", driver="ESRI Shapefile")
    for p in paths.values():
        p.with_suffix(".cpg").unlink()
    # the bytes really are GBK: not valid UTF-8
    with pytest.raises(UnicodeDecodeError):
        paths["grids"].with_suffix(".dbf").read_bytes().decode("utf-8")
    res = run_geo("build", *build_args(paths), "--out", tmp_path / "h.gpkg", "--report", tmp_path / "r.json")
    assert res.returncode == 0, res.stdout + res.stderr
    grids = read_hierarchy(tmp_path / "h.gpkg")["grids"]
    assert set(grids["name"]) == {"西南网格", "西北网格", "东南网格", "东北网格"}
    assert any("gb18030 (detected)" in n for n in _report(tmp_path / "r.json")["notes"])


def test_cpg_is_trusted_over_detection(tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["G1"], "name": ["Café Grid"]}, geometry=[square(0, 0, 100, 100)], crs=METRIC)
    path = tmp_path / "grids.shp"
    gdf.to_file(path, driver="ESRI Shapefile", encoding="cp1252")
    path.with_suffix(".cpg").write_text("1252")
    # cp1252 bytes are not UTF-8, so detection alone would pick GB18030 and garble the name
    layers = build_hierarchy({"grids": path}).layers
    assert layers["grids"]["name"].tolist() == ["Café Grid"]


def test_missing_prj_exits_2_with_one_line_naming_file_and_crs_fix(tmp_path, toy):
    paths = write_layers({"grids": toy["grids"]}, tmp_path / "in", driver="ESRI Shapefile")
    paths["grids"].with_suffix(".prj").unlink()
    out = tmp_path / "h.gpkg"
    res = run_geo("build", "--grids", paths["grids"], "--out", out)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "grids.shp" in lines[0] and "--crs grids=EPSG:" in lines[0] and ".prj" in lines[0]
    assert "Traceback" not in res.stderr
    assert not out.exists()
    res = run_geo("build", "--grids", paths["grids"], "--crs", "grids=EPSG:4548", "--out", out)
    assert res.returncode == 0, res.stderr
    assert read_hierarchy(out)["grids"].total_bounds[0] == pytest.approx(117.0, abs=0.01)


def test_missing_file_and_bad_map_exit_2(tmp_path, toy_gpkg):
    res = run_geo("build", "--grids", tmp_path / "nope.shp", "--out", tmp_path / "h.gpkg")
    assert res.returncode == 2 and "nope.shp" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run_geo("build", "--grids", toy_gpkg["grids"], "--map", "grids.code=NOFIELD", "--out", tmp_path / "h.gpkg")
    assert res.returncode == 2 and "NOFIELD" in res.stderr and "网格编码" in res.stderr
    res = run_geo("build", "--grids", toy_gpkg["grids"], "--map", "grid.code=x", "--out", tmp_path / "h.gpkg")
    assert res.returncode == 2 and "LEVEL.FIELD=SOURCE_FIELD" in res.stderr


def test_twelve_digit_codes_stay_strings(tmp_path):
    geoms = [square(0, 0, 500, 500), square(500, 0, 1000, 500), square(0, 500, 500, 1000)]
    ints = [370891004001, 370891004002, 370891004003]
    # shapefile with a numeric DBF field, GeoPackage with REAL codes, GeoJSON with text incl. a leading zero
    shp = tmp_path / "num.shp"
    gpd.GeoDataFrame({"code": ints, "name": ["a", "b", "c"]}, geometry=geoms, crs=METRIC).to_file(shp)
    gpkg = tmp_path / "float.gpkg"
    gpd.GeoDataFrame({"code": [float(v) for v in ints], "name": ["a", "b", "c"]}, geometry=geoms,
                     crs=METRIC).to_file(gpkg)
    gj = tmp_path / "text.geojson"
    gpd.GeoDataFrame({"code": ["012345678901", "012345678902", "112345678903"], "name": ["a", "b", "c"]},
                     geometry=geoms, crs=METRIC).to_crs(4326).to_file(gj)
    for path, expected in ((shp, [str(v) for v in ints]), (gpkg, [str(v) for v in ints]),
                           (gj, ["012345678901", "012345678902", "112345678903"])):
        out = tmp_path / f"{path.stem}.out.gpkg"
        res = run_geo("build", "--grids", path, "--out", out)
        assert res.returncode == 0, res.stderr
        codes = read_hierarchy(out)["grids"]["code"].tolist()
        assert codes == expected
        assert all(isinstance(c, str) for c in codes)


def test_bow_tie_is_repaired_with_make_valid_area_preserved(tmp_path):
    bow = Polygon([(X0, Y0), (X0 + 200, Y0 + 200), (X0 + 200, Y0), (X0, Y0 + 200)])
    assert not bow.is_valid
    gdf = gpd.GeoDataFrame({"code": ["BOW"], "name": ["bow"]}, geometry=[bow], crs=METRIC)
    path = tmp_path / "bow.gpkg"
    gdf.to_file(path)
    result = build_hierarchy({"grids": path})
    geom = result.layers["grids"].to_crs(METRIC).geometry.iloc[0]
    assert geom.is_valid
    assert geom.area == pytest.approx(20_000, rel=1e-3)  # two triangles of 10 000 m², not one
    invalid = [p for p in result.problems if p.kind == "invalid_geometry"]
    assert len(invalid) == 1 and invalid[0].severity == "warning" and invalid[0].codes == ["BOW"]
    assert invalid[0].area_m2 == pytest.approx(20_000, rel=1e-3)
    assert result.ok


def test_multipolygons_are_kept(tmp_path):
    multi = shapely.MultiPolygon([square(0, 0, 100, 100), square(300, 0, 400, 100)])
    path = tmp_path / "m.gpkg"
    gpd.GeoDataFrame({"code": ["M"], "name": ["m"]}, geometry=[multi], crs=METRIC).to_file(path)
    out = tmp_path / "h.gpkg"
    assert run_geo("build", "--grids", path, "--out", out).returncode == 0
    geom = read_hierarchy(out)["grids"].geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2


@pytest.mark.parametrize("folder", ["", "delivery/2024/"])
def test_zip_with_shp_at_root_or_in_folder(tmp_path, toy, folder):
    paths = write_layers({"grids": toy["grids"]}, tmp_path / "in", driver="ESRI Shapefile")
    zpath = tmp_path / "grids.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in paths["grids"].parent.glob("grids.*"):
            zf.write(part, folder + part.name)
    out = tmp_path / "h.gpkg"
    res = run_geo("build", "--grids", zpath, "--out", out)
    assert res.returncode == 0, res.stderr
    assert set(read_hierarchy(out)["grids"]["name"]) == {"西南网格", "西北网格", "东南网格", "东北网格"}


def test_zip_with_two_layers_is_refused(tmp_path, toy):
    write_layers(toy, tmp_path / "in", driver="ESRI Shapefile")
    zpath = tmp_path / "all.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in (tmp_path / "in").iterdir():
            zf.write(part, part.name)
    res = run_geo("build", "--grids", zpath, "--out", tmp_path / "h.gpkg")
    assert res.returncode == 2 and "all.zip" in res.stderr and "exactly one" in res.stderr


def test_esri_json(tmp_path):
    features = []
    for code, (x0, y0) in {"E1": (0, 0), "E2": (500, 0)}.items():
        ring = [[X0 + x0, Y0 + y0], [X0 + x0, Y0 + y0 + 500], [X0 + x0 + 500, Y0 + y0 + 500],
                [X0 + x0 + 500, Y0 + y0], [X0 + x0, Y0 + y0]]
        features.append({"attributes": {"WGBM": code, "WGMC": f"网格{code}"}, "geometry": {"rings": [ring]}})
    doc = {"geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4548},
           "fields": [{"name": "WGBM", "type": "esriFieldTypeString", "length": 20},
                      {"name": "WGMC", "type": "esriFieldTypeString", "length": 50}],
           "features": features}
    path = tmp_path / "grids.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "h.gpkg"
    res = run_geo("build", "--grids", path, "--map", "grids.code=WGBM", "--map", "grids.name=WGMC", "--out", out)
    assert res.returncode == 0, res.stderr
    grids = read_hierarchy(out)["grids"]
    assert grids["code"].tolist() == ["E1", "E2"] and grids["name"].tolist() == ["网格E1", "网格E2"]
    assert grids.to_crs(METRIC).area.sum() == pytest.approx(500_000, rel=1e-4)


def test_gauss_kruger_with_and_without_zone_prefix(tmp_path, toy):
    plain = toy["grids"]
    prefixed = plain.copy()
    prefixed.geometry = plain.geometry.translate(xoff=39_000_000)
    prefixed = prefixed.set_crs("EPSG:4527", allow_override=True)
    assert prefixed.total_bounds[0] == pytest.approx(39_500_000)
    p1, p2 = tmp_path / "plain.gpkg", tmp_path / "prefixed.gpkg"
    plain.to_file(p1)
    prefixed.to_file(p2)
    a = build_hierarchy({"grids": p1}).layers["grids"]
    b = build_hierarchy({"grids": p2}).layers["grids"]
    assert a.total_bounds == pytest.approx(b.total_bounds, abs=1e-8)
    assert a.total_bounds[0] == pytest.approx(117.0, abs=0.01)
    # prefixed eastings declared as the no-prefix CRS: refused, with the right EPSG as the fix
    res = run_geo("build", "--grids", p2, "--crs", "grids=EPSG:4548", "--out", tmp_path / "x.gpkg")
    assert res.returncode == 2 and "EPSG:4527" in res.stderr
    # metres declared as degrees: refused
    res = run_geo("build", "--grids", p1, "--crs", "grids=EPSG:4490", "--out", tmp_path / "x.gpkg")
    assert res.returncode == 2 and "metres" in res.stderr


def _build_modified(tmp_path: Path, **changes) -> dict:
    layers = toy_layers()
    for level, fn in changes.items():
        layers[level] = fn(layers[level])
    paths = write_layers(layers, tmp_path / "in")
    rep = tmp_path / "r.json"
    res = run_geo("build", *build_args(paths), "--out", tmp_path / "h.gpkg", "--report", rep)
    report = _report(rep)
    assert res.returncode == (0 if report["ok"] else 1), res.stderr
    return report


def test_gap_detected_with_its_area(tmp_path):
    report = _build_modified(tmp_path, grids=lambda g: g[g["网格编码"] != "G22"])
    gaps = _kinds(report, "gap")
    assert len(gaps) == 1
    assert gaps[0]["codes"] == ["C2"] and gaps[0]["severity"] == "error"
    assert gaps[0]["area_m2"] == pytest.approx(250_000, rel=1e-3)
    assert 117.0 < gaps[0]["lon"] < 117.02 and 36.0 < gaps[0]["lat"] < 36.2
    assert report["ok"] is False
    assert not (tmp_path / "h.gpkg").exists()


def test_overlap_and_straddle_detected_with_their_areas(tmp_path):
    def widen(g):
        g = g.copy()
        g.loc[g["网格编码"] == "G11", "geometry"] = square(0, 0, 510, 500)
        return g

    report = _build_modified(tmp_path, grids=widen)
    overlaps = _kinds(report, "overlap")
    assert len(overlaps) == 1 and sorted(overlaps[0]["codes"]) == ["G11", "G21"]
    assert overlaps[0]["area_m2"] == pytest.approx(5_000, rel=1e-3)
    straddles = _kinds(report, "straddles")
    assert len(straddles) == 1 and straddles[0]["codes"][:3] == ["G11", "C1", "C2"]
    assert straddles[0]["area_m2"] == pytest.approx(5_000, rel=1e-3)


def test_slivers_below_tolerance_are_ignored(tmp_path):
    def nudge(g):
        g = g.copy()
        g.loc[g["网格编码"] == "G11", "geometry"] = square(0, 0, 500.001, 500)  # 0.5 m² overlap
        return g

    report = _build_modified(tmp_path, grids=nudge)
    assert report["ok"] is True and not _kinds(report, "overlap")


def test_orphan_unknown_parent_and_parent_mismatch(tmp_path):
    def spoil(g):
        g = g.copy()
        extra = gpd.GeoDataFrame({"网格编码": ["G99"], "网格名称": ["飞地"], "社区编码": ["C1"]},
                                 geometry=[square(5000, 5000, 5100, 5100)], crs=METRIC)
        g.loc[g["网格编码"] == "G12", "社区编码"] = "C9"
        g.loc[g["网格编码"] == "G21", "社区编码"] = "C1"
        return gpd.GeoDataFrame(list(g.to_dict("records")) + list(extra.to_dict("records")), crs=METRIC)

    report = _build_modified(tmp_path, grids=spoil)
    assert [p["codes"] for p in _kinds(report, "orphan")] == [["G99"]]
    assert [p["codes"] for p in _kinds(report, "unknown_parent_code")] == [["G12", "C9"]]
    assert [p["codes"] for p in _kinds(report, "parent_mismatch")] == [["G21", "C1", "C2"]]
    assert report["ok"] is False


def test_duplicate_code_reported(tmp_path):
    def dup(g):
        g = g.copy()
        g.loc[g["网格编码"] == "G12", "网格编码"] = "G11"
        return g

    report = _build_modified(tmp_path, grids=dup)
    assert [p["codes"] for p in _kinds(report, "duplicate_code")] == [["G11"]]


def test_parent_inferred_from_overlap_is_reported(tmp_path):
    report = _build_modified(tmp_path, grids=lambda g: g.drop(columns="社区编码"))
    assert report["ok"] is True
    assert any("inferred by largest overlap" in n and n.startswith("grids") for n in report["notes"])
    grids = read_hierarchy(tmp_path / "h.gpkg")["grids"]
    assert dict(zip(grids["code"], grids["parent_code"], strict=True)) == {
        "G11": "C1", "G12": "C1", "G21": "C2", "G22": "C2"}


def test_empty_geometry_reported(tmp_path):
    def empty(g):
        g = g.copy()
        g.loc[g["网格编码"] == "G22", "geometry"] = Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0), (X0, Y0)])
        return g

    report = _build_modified(tmp_path, grids=empty)
    empties = _kinds(report, "empty_geometry")
    assert [p["codes"] for p in empties] == [["G22"]]
    assert report["levels"]["grids"]["features"] == 4


def test_allow_problems_writes_the_gpkg_but_exits_1(tmp_path):
    layers = toy_layers()
    layers["grids"] = layers["grids"][layers["grids"]["网格编码"] != "G22"]
    paths = write_layers(layers, tmp_path / "in")
    out = tmp_path / "h.gpkg"
    res = run_geo("build", *build_args(paths), "--out", out, "--allow-problems")
    assert res.returncode == 1 and out.exists()


def test_missing_levels_give_empty_layers(tmp_path, toy_gpkg):
    out, rep = tmp_path / "h.gpkg", tmp_path / "r.json"
    res = run_geo("build", "--communities", toy_gpkg["communities"], "--grids", toy_gpkg["grids"], "--out", out,
                  "--report", rep)
    assert res.returncode == 0, res.stderr
    layers = read_hierarchy(out)
    assert len(layers["streets"]) == 0 and len(layers["buildings"]) == 0 and len(layers["grids"]) == 4
    assert _report(rep)["levels"]["streets"] == {"features": 0, "area_km2": 0.0}


def test_report_schema(tmp_path):
    report = _build_modified(tmp_path, grids=lambda g: g[g["网格编码"] != "G22"])
    assert set(report) >= {"ok", "problems", "levels"}
    assert isinstance(report["ok"], bool)
    assert set(report["levels"]) == {"streets", "communities", "grids", "buildings"}
    for entry in report["levels"].values():
        assert isinstance(entry["features"], int) and isinstance(entry["area_km2"], float)
    for p in report["problems"]:
        assert set(p) == {"kind", "severity", "level", "codes", "area_m2", "lon", "lat", "message"}
        assert p["severity"] in ("error", "warning") and isinstance(p["codes"], list)


def test_far_from_117e_gets_its_own_metric_crs(tmp_path, toy):
    moved = toy["grids"].to_crs(4490)
    moved.geometry = moved.geometry.translate(xoff=3.2)  # about 120.2E (Hangzhou)
    path = tmp_path / "g.gpkg"
    moved.to_file(path)
    result = build_hierarchy({"grids": path})
    assert result.report["metric_crs"] == "EPSG:4549"
    assert result.report["levels"]["grids"]["area_km2"] == pytest.approx(1.0, rel=0.01)
