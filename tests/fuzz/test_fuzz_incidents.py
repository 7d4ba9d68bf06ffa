"""Fuzzing the incident readers of ``python -m geo join``: geo.incidents (csv_encoding,
detect_coordinate_columns, read_incidents on CSV and GeoJSON) and geo.join_cli (read_csv_arrow,
join_file end to end on the small hierarchy)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.constants import JOIN_STATUSES
from geo.incidents import csv_encoding, detect_coordinate_columns, read_incidents
from geo.join_cli import join_file, read_csv_arrow
from tests.fuzz.helpers import examples, mutated, odd_cells, result_or_input_error, written

HEADER = ["事件编号", "经度", "纬度", "上报部门", "电话"]
ROWS = [["E1", "116.585", "35.415", "城管", "013800000000"], ["E2", "116.595", "35.412", "住建", ""],
        ["E3", "", "", "城管", "x"], ["E4", "35.415", "116.585", "", ""]]
COLUMN_NAMES = ("经度", "纬度", "lon", "lat", "lng", "x", "y", "X坐标", "GPS经度", "Longitude (WGS84)", "lat_gcj",
                "latitude", "经度 ", "事件编号", "")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


@st.composite
def incident_csvs(draw: st.DrawFn) -> bytes:
    """The sample incidents with odd headers or cells, in UTF-8 (BOM) or GBK, or their bytes mutated."""
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "gb18030")))
    if draw(st.integers(0, 2)) == 0:
        return draw(mutated(_csv(HEADER, ROWS).encode(encoding)))
    header = list(HEADER)
    for j in draw(st.lists(st.integers(0, len(header) - 1), max_size=2)):
        header[j] = draw(st.one_of(st.sampled_from(COLUMN_NAMES), odd_cells))
    rows = [list(r) for r in ROWS[: draw(st.integers(0, len(ROWS)))]]
    for row in rows:
        for j in draw(st.lists(st.integers(0, len(row) - 1), max_size=2)):
            row[j] = draw(odd_cells)
    return _csv(header, rows).encode(encoding, errors="replace")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_incidents")


def _lines(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") + 1


#: Found by the fuzz: a header cell longer than the csv module's field limit (csv.Error), and a
#: coordinate column named twice (KeyError from Arrow).
LONG_HEADER = ('"' + "a" * 200_000 + '",经度,纬度\n1,116.585,35.415\n').encode()
TWICE = "经度,纬度,经度\n116.585,35.415,1\n".encode()
#: Found by the fuzz: with a BOM the first column escaped the text typing (001 was read as 1).
BOM_CODES = "编号,经度,纬度\n001,116.585,35.415\n".encode("utf-8-sig")


@settings(max_examples=examples(150))
@given(data=st.one_of(incident_csvs(), st.binary(max_size=60)), named=st.booleans())
@example(data=TWICE, named=False)
def test_read_incidents_csv(folder: Path, data: bytes, named: bool) -> None:
    with written(folder, "events.csv", data) as path:
        cols = {"lon_col": "经度", "lat_col": "纬度"} if named else {}
        got = result_or_input_error(lambda: read_incidents(path, **cols), path)
    if got is not None:
        frame, lon, lat = got
        assert lon in frame.columns and lat in frame.columns and len(frame) <= _lines(data)
        assert all(isinstance(v, str) for col in frame.columns for v in frame[col])


@settings(max_examples=examples(150))
@given(data=st.one_of(incident_csvs(), st.binary(max_size=60)))
@example(data=LONG_HEADER)
@example(data=TWICE)
@example(data=BOM_CODES)
def test_read_csv_arrow(folder: Path, data: bytes) -> None:
    with written(folder, "events.csv", data) as path:
        table = result_or_input_error(lambda: read_csv_arrow(path), path)
        if table is not None:
            assert csv_encoding(path) in ("utf-8", "utf-8-sig", "gb18030")
    if table is not None:
        assert all(pa.types.is_string(t) for t in table.schema.types) and table.num_rows <= _lines(data)
        if data == BOM_CODES:
            assert table.column("编号").to_pylist() == ["001"]


@settings(max_examples=examples(200))
@given(columns=st.lists(st.one_of(st.sampled_from(COLUMN_NAMES), odd_cells), max_size=6))
@example(columns=["事件\n编号", "经度"])  # found by the fuzz: a line break in a header broke the one-line message
def test_detect_coordinate_columns(columns: list[str]) -> None:
    got = result_or_input_error(lambda: detect_coordinate_columns(columns, source="events.csv"), "events.csv")
    if got is not None:
        lon, lat = got
        assert lon in columns and lat in columns and lon != lat


def _geojson(coords: list[object]) -> bytes:
    features = [{"type": "Feature", "properties": {"事件编号": f"E{i}"},
                 "geometry": {"type": "Point", "coordinates": c}} for i, c in enumerate(coords)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


GEOJSON_SEED = _geojson([[116.585, 35.415], [116.595, 35.412]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL's notes on odd coordinates
@settings(max_examples=examples(40))
@given(data=st.one_of(mutated(GEOJSON_SEED), st.lists(st.lists(st.floats(), max_size=3), max_size=3).map(_geojson)))
def test_read_incidents_geojson(folder: Path, data: bytes) -> None:
    with written(folder, "events.geojson", data) as path:
        got = result_or_input_error(lambda: read_incidents(path), path)
    if got is not None:
        frame, lon, lat = got
        assert (lon, lat) == frame.attrs["coordinate_columns"] and len(frame) <= data.count(b"Feature")


@settings(max_examples=examples(30))
@given(data=incident_csvs(), coords=st.sampled_from(("wgs84", "gcj02", "bd09")))
@example(data=TWICE, coords="wgs84")
def test_join_file_end_to_end(folder: Path, small_hierarchy: Path, data: bytes, coords: str) -> None:
    out = folder / "joined.csv"
    with written(folder, "events.csv", data) as path:
        summary = result_or_input_error(lambda: join_file(small_hierarchy, path, out, coords=coords, snap_m=30.0),
                                        path)
        if summary is None:
            return
        assert summary["rows"] == read_csv_arrow(path).num_rows
    assert sum(summary["statuses"].values()) == summary["rows"] and set(summary["statuses"]) == set(JOIN_STATUSES)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
