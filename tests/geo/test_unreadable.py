"""Corrupt or cut-short input is "unreadable" (exit 2, one line naming the file and the fix), and
every message stays short however many names it could list."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from core.errors import InputError
from geo.io import read_layer
from tests.geo.conftest import build_args, run_geo, toy_layers, write_layers

FIX = "copy it again from the source"


@pytest.fixture
def shp(tmp_path) -> dict[str, Path]:
    return write_layers(toy_layers(), tmp_path / "shp", driver="ESRI Shapefile")


def _cut(path: Path, share: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * share)])


def _one_line_exit_2(res, *names: str) -> str:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for name in names:
        assert name in lines[0]
    assert "empty_geometry" not in res.stdout + res.stderr
    return lines[0]


def test_shp_cut_to_60_percent_is_unreadable(tmp_path, shp):
    _cut(shp["grids"], 0.6)
    out = tmp_path / "h.gpkg"
    for extra in ([], ["--allow-problems"]):
        res = run_geo("build", *build_args(shp), "--out", out, *extra)
        line = _one_line_exit_2(res, str(shp["grids"]), FIX, "truncated")
        assert "header gives 644 bytes but the file has 386" in line
    assert not out.exists() and [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_dbf_with_another_record_count_is_refused(tmp_path, shp):
    dbf = shp["grids"].with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    struct.pack_into("<I", data, 4, 3)  # says 3 records; the .shp holds 4 shapes
    dbf.write_bytes(bytes(data))
    res = run_geo("build", *build_args(shp), "--out", tmp_path / "h.gpkg")
    _one_line_exit_2(res, str(shp["grids"]), "the .shp holds 4 shapes but the .dbf 3 records", "copy the .shp")


def test_truncated_dbf_is_refused(shp):
    _cut(shp["communities"].with_suffix(".dbf"), 0.8)
    with pytest.raises(InputError, match=r"communities\.dbf: the \.dbf is truncated: its header announces 2 records"):
        read_layer(shp["communities"], level="communities")


def test_shx_that_does_not_match_is_refused(tmp_path, shp):
    shp["grids"].with_suffix(".shx").write_bytes(shp["buildings"].with_suffix(".shx").read_bytes())
    res = run_geo("build", *build_args(shp), "--out", tmp_path / "h.gpkg")
    _one_line_exit_2(res, "grids.shx", FIX)
    _cut(shp["streets"].with_suffix(".shx"), 0.9)
    with pytest.raises(InputError, match=r"streets\.shx: the \.shx is truncated"):
        read_layer(shp["streets"], level="streets")


def test_record_running_past_the_end_without_shx(shp):
    path = shp["grids"]
    path.with_suffix(".shx").unlink()
    data = bytearray(path.read_bytes())
    struct.pack_into(">i", data, 100 + 4, 10_000)  # the first record claims 20,000 bytes
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"record 1 .* runs past the end of the file"):
        read_layer(path, level="grids")


def test_zip_holding_a_truncated_shp(tmp_path, shp):
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(shp["grids"].parent.glob("grids.*")):
            data = part.read_bytes()
            zf.writestr(f"交付/{part.name}", data[: int(len(data) * 0.6)] if part.suffix == ".shp" else data)
    res = run_geo("build", "--grids", archive, "--out", tmp_path / "h.gpkg")
    _one_line_exit_2(res, str(archive), "交付/grids.shp", "truncated", FIX)


def test_zip_with_thousands_of_layers_gives_one_short_line(tmp_path):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3000):
            zf.writestr(f"layers/grid_{i:04d}_with_a_rather_long_name.shp", b"")
    res = run_geo("build", "--grids", archive, "--out", tmp_path / "h.gpkg")
    line = _one_line_exit_2(res, str(archive), "found 3,000:", "and 2,995 more")
    assert len(line) < 500


def test_field_mapping_message_is_bounded(tmp_path):
    import geopandas as gpd

    grids = toy_layers()["grids"]
    wide = gpd.GeoDataFrame({**{f"field_{i}": ["x"] * len(grids) for i in range(1000)}, "网格编码": grids["网格编码"]},
                            geometry=grids.geometry, crs=grids.crs)
    path = tmp_path / "wide.gpkg"
    wide.to_file(path, layer="grids", driver="GPKG")
    res = run_geo("build", "--grids", path, "--map", "grids.code=nope", "--out", tmp_path / "h.gpkg")
    line = _one_line_exit_2(res, "no field 'nope'", "and 991 more")
    assert len(line) < 600


def test_join_names_the_line_and_byte_of_undecodable_text(tmp_path, shp):
    out = tmp_path / "h.gpkg"
    assert run_geo("build", *build_args(shp), "--out", out).returncode == 0
    good = "编号,经度,纬度\nA1,117.0,36.1\n".encode("gbk")
    incidents = tmp_path / "events.csv"
    incidents.write_bytes(good + b"A2,\x80\x80,36.1\n")
    res = run_geo("join", "--hierarchy", out, "--incidents", incidents, "--out", tmp_path / "joined.csv")
    line = _one_line_exit_2(res, str(incidents), f"line 3, byte offset {len(good) + 3:,}", "byte 0x80")
    assert "named above" not in line and not (tmp_path / "joined.csv").exists()


def test_join_reads_a_file_that_is_gbk_only_past_the_sampled_start(tmp_path, shp):
    out = tmp_path / "h.gpkg"
    assert run_geo("build", *build_args(shp), "--out", out).returncode == 0
    incidents = tmp_path / "events.csv"
    ascii_rows = b"".join(b"A%07d,117.0,36.1\n" % i for i in range(600_000))  # > 2 x 4 MiB of plain ASCII
    cut = ascii_rows.index(b"\n", 5 << 20) + 1
    incidents.write_bytes(b"id,lon,lat\n" + ascii_rows[:cut] + "中文,117.0,36.1\n".encode("gbk") + ascii_rows[cut:])
    res = run_geo("join", "--hierarchy", out, "--incidents", incidents, "--out", tmp_path / "joined.csv")
    assert res.returncode == 0, res.stderr
    assert '"中文","117.0"' in (tmp_path / "joined.csv").read_text(encoding="utf-8-sig")
