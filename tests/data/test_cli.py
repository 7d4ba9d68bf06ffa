"""The generator's command line: determinism, all-or-nothing output, one-line errors."""

from __future__ import annotations

import importlib.util
import sys

import geopandas as gpd
import pytest
from shapely.geometry import box

from tests.data.generator import MAKE_DEMO, run_make_demo


def _load_module():
    spec = importlib.util.spec_from_file_location("make_demo_under_test", MAKE_DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tiny_district(mod):
    crs = "EPSG:4548"
    square = box(463000, 3924000, 463100, 3924100)
    street = gpd.GeoDataFrame({"CODE": ["370811004000"], "NAME": ["测试街道"]},
                              geometry=[square], crs=crs)
    comms = gpd.GeoDataFrame({"CODE": ["370811004001"], "NAME": ["测试社区"], "KIND": ["社区"],
                              "PARENT": ["370811004000"]}, geometry=[square], crs=crs)
    grids = gpd.GeoDataFrame({"网格编码": ["370811004001001"], "网格名称": ["测试社区第1网格"],
                              "所属社区": ["370811004001"]}, geometry=[square], crs=crs)
    blds = gpd.GeoDataFrame({"CODE": ["370811004001001001"], "NAME": ["1号楼"],
                             "GRID": ["370811004001001"], "KIND": ["楼栋"], "FLOORS": [6],
                             "HOUSEHOLDS": [24]},
                            geometry=[box(463010, 3924010, 463060, 3924022)], crs=crs)
    district = mod.District(street, comms, grids, blds)
    district.tables = {"workers.csv": (["工号"], [["WG0001"]])}
    return district


def test_two_runs_give_byte_identical_files(demo, tmp_path):
    again = tmp_path / "again"
    run = run_make_demo(again)
    assert run.returncode == 0, run.stderr
    first = sorted(p.name for p in demo.path.iterdir())
    second = sorted(p.name for p in again.iterdir())
    assert first == second
    assert len(first) == 6 * 5 + 6  # .shp .shx .dbf .prj .cpg per layer (4 levels, roads, a theme) + six CSVs
    for name in first:
        assert (demo.path / name).read_bytes() == (again / name).read_bytes(), name


def test_dbf_header_date_is_fixed(demo):
    for name in ("streets", "communities", "grids", "buildings"):
        header = (demo.path / f"{name}.dbf").read_bytes()[:4]
        assert tuple(header[1:4]) == (126, 6, 30), name  # 2026-06-30


def test_another_seed_gives_another_district(demo, tmp_path):
    other = tmp_path / "other"
    run = run_make_demo(other, "--seed", "7")
    assert run.returncode == 0, run.stderr
    assert "198 grids" in run.stdout
    assert (other / "grids.shp").read_bytes() != (demo.path / "grids.shp").read_bytes()


def test_out_that_is_a_file_fails_with_one_line_and_no_traceback(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    run = run_make_demo(target)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert str(target) in run.stderr and "Fix:" in run.stderr
    assert target.read_text() == "not a directory"


def test_failed_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    mod = _load_module()
    district = _tiny_district(mod)
    out = tmp_path / "demo"

    def broken_csv(*args, **kwargs):
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(mod, "_write_csv", broken_csv)
    with pytest.raises(OSError, match="disk full"):
        mod.write_district(district, out)
    assert list(tmp_path.iterdir()) == []

    out.mkdir()
    (out / "old.txt").write_text("previous run")
    with pytest.raises(OSError, match="disk full"):
        mod.write_district(district, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert [p.name for p in out.iterdir()] == ["old.txt"]

    monkeypatch.undo()
    mod.write_district(district, out)
    names = sorted(p.name for p in out.iterdir())
    assert "old.txt" not in names and "grids.shp" in names and "workers.csv" in names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert gpd.read_file(out / "grids.shp")["网格名称"].tolist() == ["测试社区第1网格"]
