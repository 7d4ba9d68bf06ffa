"""Fuzzing shapefile reading: the part checks (.shp 100-byte header, record headers, .shx entries,
.dbf header), the DBF text reader, .cpg names, and geo.io.read_layer on shapefile sets and zips
with odd member names."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo.io import read_layer
from geo.shapefile import check_parts, cpg_encoding, dbf_record_count, read_dbf_text
from tests.fuzz.helpers import (
    examples,
    from_the_future,
    mutated,
    odd_cells,
    overwritten,
    result_or_input_error,
    zipped,
)

PRJ = (b'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,'
       b'298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')
POINTS = ((116.585, 35.415), (116.595, 35.412), (116.59, 35.418))
CODES = ("370811004001001", "370811004001002", "370811004001003")
NAMES = ("第一网格", "第二网格", "第三网格")


def _main_header(length: int, box: tuple[float, float, float, float]) -> bytes:
    return struct.pack(">i20xi", 9994, length // 2) + struct.pack("<ii4d32x", 1000, 1, *box)


def point_shapefile(points: tuple[tuple[float, float], ...] = POINTS) -> tuple[bytes, bytes]:
    """The ``.shp`` and ``.shx`` of a point layer, written by hand (no GDAL)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = (min(xs), min(ys), max(xs), max(ys))
    records, index, offset = b"", b"", 100
    for number, (x, y) in enumerate(points, start=1):
        records += struct.pack(">ii", number, 10) + struct.pack("<idd", 1, x, y)
        index += struct.pack(">ii", offset // 2, 10)
        offset += 28
    return _main_header(100 + len(records), box) + records, _main_header(100 + len(index), box) + index


def dbf(columns: dict[str, tuple[str, ...]], width: int = 20, encoding: str = "gbk") -> bytes:
    """A ``.dbf`` of text fields, written by hand."""
    count = len(next(iter(columns.values())))
    header_len, record_len = 32 + 32 * len(columns) + 1, 1 + width * len(columns)
    out = struct.pack("<B3BIHH20x", 3, 126, 11, 16, count, header_len, record_len)
    for name in columns:
        out += struct.pack("<11sc4xBB14x", name.encode(encoding), b"C", width, 0)
    out += b"\r"
    for i in range(count):
        out += b" " + b"".join(v[i].encode(encoding).ljust(width)[:width] for v in columns.values())
    return out + b"\x1a"


SHP, SHX = point_shapefile()
DBF = dbf({"网格编码": CODES, "名称": NAMES})
DBF_UTF8 = dbf({"code": CODES, "name": NAMES}, encoding="utf-8")
#: Offsets of the fields of the main header (file code, length, version, shape type, box) and the
#: first record header, and of the DBF header (count, header and record length, first field).
SHP_FIELDS = (0, 24, 28, 32, 36, 100, 104, 108)
DBF_FIELDS = (0, 4, 8, 10, 32, 43, 48, 49, 64, 75, 80)


def names(suffix: str) -> str:
    return f"grids{suffix}"


@settings(max_examples=examples(300))
@given(shp=st.one_of(overwritten(SHP, SHP_FIELDS), mutated(SHP), st.just(SHP)),
       shx=st.one_of(overwritten(SHX, SHP_FIELDS), mutated(SHX), st.just(SHX), st.none()),
       dbf_=st.one_of(overwritten(DBF, DBF_FIELDS), mutated(DBF), st.just(DBF)))
def test_check_parts(shp: bytes, shx: bytes | None, dbf_: bytes) -> None:
    result = result_or_input_error(lambda: check_parts(shp, shx, dbf_, names) or "ok",
                                   "grids.shp", "grids.shx", "grids.dbf")
    if result is not None and shx is not None:
        assert dbf_record_count(dbf_, "grids.dbf") == (len(shx) - 100) // 8


#: Found by the fuzz: fields wider than the record (ValueError from numpy's view) and a
#: zero-width field.
WIDE_FIELD = DBF[:48] + bytes([250]) + DBF[49:]
EMPTY_FIELD = DBF[:48] + bytes([0]) + DBF[49:]


@settings(max_examples=examples(300))
@given(data=st.one_of(overwritten(DBF, DBF_FIELDS), mutated(DBF), overwritten(DBF_UTF8, DBF_FIELDS)),
       encoding=st.sampled_from((None, None, "utf-8", "gb18030", "big5", "latin-1")))
@example(data=WIDE_FIELD, encoding=None)
@example(data=EMPTY_FIELD, encoding=None)
def test_read_dbf_text(data: bytes, encoding: str | None) -> None:
    got = result_or_input_error(lambda: read_dbf_text(data, source="grids.dbf", encoding=encoding), "grids.dbf")
    if got is not None:
        frame, used = got
        assert len(frame) <= dbf_record_count(data, "grids.dbf") and isinstance(used, str)
        assert all(isinstance(v, str) for col in frame.columns for v in frame[col])
        assert len(set(frame.columns)) == len(frame.columns)


@settings(max_examples=examples(200))
@given(text=st.one_of(odd_cells, st.sampled_from(("UTF-8", "936", "GBK", "base64", "zlib", "rot13", "hex", "idna",
                                                  "utf-16", "punycode", "ab\x00", " 65001 \n")), st.text(max_size=20)))
@example(text="base64")
@example(text="ab\x00")
def test_cpg_encoding(text: str) -> None:
    codec = result_or_input_error(lambda: cpg_encoding(text, "grids.cpg"), "grids.cpg")
    if codec is not None:
        assert isinstance(b"\xe4\xb8\xad".decode(codec, errors="replace"), str)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_shapefile")


PARTS = {".shp": SHP, ".shx": SHX, ".dbf": DBF, ".prj": PRJ, ".cpg": b"GBK"}


@st.composite
def damaged_parts(draw: st.DrawFn) -> dict[str, bytes]:
    """The parts of the seed layer, one or two of them damaged or missing."""
    parts = dict(PARTS)
    for suffix in draw(st.lists(st.sampled_from(sorted(PARTS)), min_size=1, max_size=2, unique=True)):
        field_offsets = DBF_FIELDS if suffix == ".dbf" else SHP_FIELDS
        choice = draw(st.one_of(overwritten(parts[suffix], field_offsets), mutated(parts[suffix]),
                                st.sampled_from((b"", None)), odd_cells.map(str.encode)))
        if choice is None:
            del parts[suffix]
        else:
            parts[suffix] = choice
    return parts


def _check_layer(gdf: object, parts: dict[str, bytes]) -> None:
    import geopandas as gpd

    assert isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.name in gdf.columns and gdf.crs is not None
    assert len(gdf) == dbf_record_count(parts[".dbf"], "grids.dbf") if ".dbf" in parts else True
    points = gdf.geometry.dropna()
    points = points[~points.is_empty]
    if len(points):
        assert np.all(np.isfinite(points.total_bounds))


@settings(max_examples=examples(100))
@given(parts=damaged_parts())
def test_read_layer_shapefile_set(folder: Path, parts: dict[str, bytes]) -> None:
    for old in folder.glob("grids.*"):
        old.unlink()
    for suffix, data in parts.items():
        (folder / f"grids{suffix}").write_bytes(data)
    path = folder / "grids.shp"
    got = result_or_input_error(lambda: read_layer(path, level="grids"), path.with_suffix(""))
    if got is not None:
        _check_layer(got[0], parts)


member_names = st.one_of(st.sampled_from(("grids", "dir/grids", "__MACOSX/grids", "../grids", "/abs/grids", "a b/网格",
                                          "dir\\grids", "GRIDS", "dir/sub/grids", "")),
                         odd_cells.map(lambda s: s.replace("\x00", "")))  # zipfile cuts a name at a NUL


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    """A zip of the (maybe damaged) parts under odd member names, maybe two layers or extra files."""
    parts = draw(st.one_of(st.just(dict(PARTS)), damaged_parts()))
    stem = draw(member_names)
    members = {stem + draw(st.sampled_from((s, s.upper(), s))): data for s, data in parts.items()}
    for _ in range(draw(st.integers(0, 2))):
        members[draw(member_names) + draw(st.sampled_from((".shp", ".dbf", ".geojson", ".gpkg", "/", ".txt")))] = (
            draw(st.sampled_from((SHP, DBF, b"", b"{}"))))
    return zipped(members)


ZIP_SEED = zipped({"g/grids.shp": SHP, "g/grids.dbf": DBF, "g/grids.shx": SHX, "g/grids.prj": PRJ})
#: Found by the fuzz: a member name with a line break broke the one-line message.
TWO_LAYERS = zipped({"a\nb.shp": SHP, "c.shp": SHP})


@settings(max_examples=examples(80))
@given(data=st.one_of(zips(), mutated(ZIP_SEED)))
@example(data=TWO_LAYERS)
@example(data=from_the_future(ZIP_SEED))  # found by the fuzz: NotImplementedError from zipfile
def test_read_layer_zip(folder: Path, data: bytes) -> None:
    path = folder / "delivery.zip"
    path.write_bytes(data)
    got = result_or_input_error(lambda: read_layer(path, level="grids"), path)
    if got is not None:
        _check_layer(got[0], {})
