"""Fuzzing the GPS track file readers (workforce.track_files.read_track_file): CSV and GPX."""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.helpers import examples, mutated, odd_cells, result_or_input_error, written
from workforce.track_files import TRACK_FRAME_COLUMNS, read_track_file

CSV_SEED = "工号,时间,经度,纬度\nWG0001,2026-06-30 08:00:00,116.585,35.415\nWG0002,2026/06/30 08:01,116.59,35.41\n"
#: Characters XML 1.0 cannot hold even escaped: odd cells lose them, so that they reach the value parsers.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
GPX_POINT = '<trkpt lat={lat} lon={lon}><time>{time}</time></trkpt>'
GPX = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
       '<trk><name>{name}</name><trkseg>{points}</trkseg></trk></gpx>')


def gpx(name: str = "WG0001", points: tuple[tuple[str, str, str], ...] = (("35.415", "116.585",
                                                                             "2026-06-30T00:01:44Z"),)) -> bytes:
    """A GPX file of one track (cells escaped, so that odd text reaches the parsers of values)."""
    body = "".join(GPX_POINT.format(lat=quoteattr(_XML_ILLEGAL.sub("", lat)), lon=quoteattr(_XML_ILLEGAL.sub("", lon)),
                                    time=_text(t)) for lat, lon, t in points)
    return GPX.format(name=_text(name), points=body).encode()


def _text(value: str) -> str:
    return _XML_ILLEGAL.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


GPX_SEED = gpx()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_tracks")


def _check_frame(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == TRACK_FRAME_COLUMNS
    assert all(math.isfinite(v) and abs(v) <= 180 for v in frame["lon"])
    assert all(math.isfinite(v) and abs(v) <= 90 for v in frame["lat"])
    assert frame["at"].map(lambda t: t.tzinfo is None).all() and frame["worker_id"].map(bool).all()


@st.composite
def track_csvs(draw: st.DrawFn) -> bytes:
    """The sample track CSV with odd cells (UTF-8 or GBK), or its bytes mutated."""
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "gb18030")))
    if draw(st.booleans()):
        return draw(mutated(CSV_SEED.encode(encoding)))
    lines = [line.split(",") for line in CSV_SEED.splitlines()]
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(1, len(lines) - 1))
        lines[row][draw(st.integers(0, 3))] = draw(odd_cells)
    return ("\n".join(",".join(cells) for cells in lines) + "\n").encode(encoding, errors="replace")


#: Found by the fuzz: times with and without an offset could not be sorted (TypeError).
MIXED_ZONES = "工号,时间,经度,纬度\nW1,2026-06-30T08:00:00+08:00,116.5,35.4\nW1,2026-06-30 08:01:00,116.5,35.4\n"


@settings(max_examples=examples(150))
@given(data=st.one_of(track_csvs(), st.binary(max_size=60)))
@example(data=b"")  # found by the fuzz: an empty file raised pandas' EmptyDataError
@example(data=MIXED_ZONES.encode())
def test_read_track_csv(folder: Path, data: bytes) -> None:
    with written(folder, "tracks.csv", data) as path:
        frame = result_or_input_error(lambda: read_track_file(path), path)
    if frame is not None:
        _check_frame(frame)
        assert len(frame) <= data.count(b"\n") + data.count(b"\r") + 1


times = st.one_of(odd_cells, st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
                  st.datetimes().map(lambda d: d.isoformat() + "Z"))
points = st.tuples(st.one_of(odd_cells, st.floats(-90, 90).map(str), st.floats().map(str)),
                   st.one_of(odd_cells, st.floats(-180, 180).map(str), st.floats().map(str)), times)
#: Found by the fuzz: a time whose conversion to local time leaves the calendar (OverflowError).
EDGE_OF_TIME = (("35.4", "116.5", "0001-01-01T00:00:00+14:00"), ("35.4", "116.5", "9999-12-31T23:59:59-12:00"))


@settings(max_examples=examples(150))
@given(data=st.one_of(st.builds(gpx, odd_cells, st.lists(points, max_size=3).map(tuple)), mutated(GPX_SEED)))
@example(data=gpx(points=EDGE_OF_TIME[:1]))
@example(data=gpx(points=EDGE_OF_TIME[1:]))
@example(data=GPX_SEED.replace(b'encoding="UTF-8"', b'encoding="TTF-8"'))  # found: LookupError
@example(data=gpx(name="WG\n01", points=(("35.4", "116.5", "x"),)))  # found: a line break in the message
def test_read_track_gpx(folder: Path, data: bytes) -> None:
    with written(folder, "tracks.gpx", data) as path:
        frame = result_or_input_error(lambda: read_track_file(path), path)
    if frame is not None:
        _check_frame(frame)
        assert len(frame) <= data.count(b"<trkpt")
