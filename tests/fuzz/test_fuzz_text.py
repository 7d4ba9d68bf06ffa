"""Fuzzing core.text (decode, detect_encoding, locate_undecodable, file_encoding, cell_text,
read_xlsx_text) and core.csvfile (read_csv_cells and its cell parsers)."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.csvfile import float_cell, new_records, read_csv_cells, row_label, time_cell
from core.errors import InputError
from core.text import cell_text, decode, detect_encoding, file_encoding, is_blank, locate_undecodable, read_xlsx_text
from tests.fuzz.helpers import examples, mutated, odd_cells, result_or_input_error, rezipped, with_member, written

TEXT = "工单编号,诉求内容,经度\nA1,楼道堆物,116.5\nA2,路灯不亮,35.4\n"
SEEDS = (TEXT.encode("utf-8"), TEXT.encode("utf-8-sig"), TEXT.encode("gbk"), b"plain,ascii\n1,2\n")
any_text_bytes = st.one_of(st.binary(max_size=200), st.sampled_from(SEEDS).flatmap(mutated))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_text")


@settings(max_examples=examples(300))
@given(data=any_text_bytes)
@example(data=b"\xef\xbb\xbf\xff")
@example(data="中".encode("gbk")[:1])
def test_decode_gives_text_or_names_the_byte(data: bytes) -> None:
    try:
        text, encoding = decode(data, "hotline.csv")
    except InputError as exc:
        assert exc.source == "hotline.csv" and "\n" not in str(exc)
        assert exc.where is not None and exc.where.startswith("line ")
        assert detect_encoding(data) is None
        return
    assert encoding == detect_encoding(data)
    body = data[len(codecs.BOM_UTF8):] if encoding == "utf-8-sig" else data
    assert text.encode("utf-8" if encoding.startswith("utf-8") else encoding) == body


@settings(max_examples=examples(200))
@given(data=any_text_bytes, cuts=st.lists(st.integers(0, 250), max_size=4),
       encoding=st.sampled_from(("utf-8", "utf-8-sig", "gb18030")))
def test_locate_undecodable_does_not_depend_on_the_chunking(data: bytes, cuts: list[int], encoding: str) -> None:
    edges = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]
    whole = locate_undecodable([data], encoding)
    assert locate_undecodable(chunks, encoding) == whole
    if whole is not None:
        offset, line = whole
        assert 0 <= offset <= len(data) and line == data.count(b"\n", 0, offset) + 1


@settings(max_examples=examples(60))
@given(data=any_text_bytes)
def test_file_encoding_agrees_with_detect_encoding(folder: Path, data: bytes) -> None:
    with written(folder, "sample.csv", data) as path:
        assert file_encoding(path) == detect_encoding(data)


cell_values = st.one_of(
    st.none(), st.text(max_size=10), st.booleans(), st.integers(), st.floats(),
    st.decimals(), st.fractions(), st.datetimes(), st.dates(), st.times(), st.timedeltas(),
    st.floats(allow_nan=True).map(np.float64), st.integers(-(2 ** 63), 2 ** 63 - 1).map(np.int64),
    st.sampled_from((pd.NaT, pd.NA, np.nan, float("inf"), Decimal("sNaN"), Decimal("NaN"))),
)


@settings(max_examples=examples(300))
@given(value=cell_values)
@example(value=Decimal("sNaN"))
@example(value=Fraction(10 ** 400))
def test_cell_text_is_the_text_a_user_sees(value: object) -> None:
    text = cell_text(value)
    assert isinstance(text, str)
    if isinstance(value, str) or is_blank(value):
        assert text == (value if isinstance(value, str) else "")
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        assert int(text) == value
    elif isinstance(value, (float, np.floating)):
        assert text == "" if not math.isfinite(value) else float(text) == value


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_SEED = _workbook([["工单编号", "经度", "受理时间"], ["GD1", 116.5, dt.datetime(2026, 11, 16, 9)],
                       [None, None, None], [12345, "35.4", "昨天"]])
xlsx_cells = st.one_of(odd_cells.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s)),
                       st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10 ** 15), 10 ** 15),
                       st.none(), st.datetimes(min_value=dt.datetime(1900, 3, 1)))


def _check_xlsx_frame(frame: pd.DataFrame) -> None:
    rows = frame.attrs["sheet_rows"]
    assert len(rows) == len(frame) and all(b > a for a, b in zip(rows, rows[1:], strict=False))
    assert all(r >= 2 for r in rows) and len(set(frame.columns)) == len(frame.columns)
    assert all(isinstance(v, str) for col in frame.columns for v in frame[col])


#: Found by the fuzz: a workbook without sheets (IndexError) and a sheet cut short, which read-only
#: openpyxl parses only while the rows are read (ParseError).
NO_SHEETS = with_member(XLSX_SEED, "xl/workbook.xml", lambda b: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", b))
CUT_SHEET = with_member(XLSX_SEED, "xl/worksheets/sheet1.xml", lambda b: b[: len(b) // 2])


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl's notes on damaged parts
@settings(max_examples=examples(100))
@given(data=st.one_of(mutated(XLSX_SEED), rezipped(XLSX_SEED)))
@example(data=NO_SHEETS)
@example(data=CUT_SHEET)
def test_read_xlsx_text_on_damaged_workbooks(folder: Path, data: bytes) -> None:
    with written(folder, "orders.xlsx", data) as path:
        frame = result_or_input_error(lambda: read_xlsx_text(path), path)
    if frame is not None:
        _check_xlsx_frame(frame)


@settings(max_examples=examples(40))
@given(rows=st.lists(st.lists(xlsx_cells, min_size=1, max_size=4), max_size=6))
def test_read_xlsx_text_on_odd_cells(folder: Path, rows: list[list[object]]) -> None:
    with written(folder, "cells.xlsx", _workbook(rows)) as path:
        frame = result_or_input_error(lambda: read_xlsx_text(path), path)
    if frame is None:
        assert not rows or all(v is None for v in rows[0])
        return
    _check_xlsx_frame(frame)
    assert len(frame) <= len(rows) - 1


TRACKS = "工号,时间,经度,纬度\nW1,2026-06-30 08:00:00,116.5,35.4\nW2,2026/06/30 08:01,116.6,35.5\n"
HEADERS = ("工号", "时间", "经度", "纬度")


@settings(max_examples=examples(150))
@given(data=st.one_of(st.binary(max_size=100), mutated(TRACKS.encode()), mutated(TRACKS.encode("gbk"))))
@example(data=b"")
@example(data=b"\n\n")
def test_read_csv_cells_gives_text_or_names_the_file(folder: Path, data: bytes) -> None:
    with written(folder, "tracks.csv", data) as path:
        frame = result_or_input_error(lambda: read_csv_cells(path, HEADERS), path)
    if frame is not None:
        assert set(HEADERS) <= set(frame.columns)
        assert len(frame) <= data.count(b"\n") + data.count(b"\r") + 1


@settings(max_examples=examples(300))
@given(value=odd_cells, column=st.sampled_from(("经度", "纬度")), required=st.booleans(), i=st.integers(0, 10 ** 6))
def test_float_cell(value: str, column: str, required: bool, i: int) -> None:
    path = Path("tracks.csv")
    number = result_or_input_error(lambda: float_cell(path, i, column, value, required=required), row_label(i))
    if number is not None:
        assert math.isfinite(number) and abs(number) <= (180 if column == "经度" else 90)


@settings(max_examples=examples(300))
@given(value=st.one_of(odd_cells, st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat)),
       i=st.integers(0, 10 ** 6))
@example(value="2026-06-30T08:00:00+08:00", i=0)  # found by the fuzz: an offset gave an aware time
@example(value="0001-01-01T00:00:00+14:00", i=0)
def test_time_cell(value: str, i: int) -> None:
    moment = result_or_input_error(lambda: time_cell(Path("tracks.csv"), i, "时间", value), row_label(i))
    assert moment is None or (isinstance(moment, dt.datetime) and moment.tzinfo is None)


@settings(max_examples=examples(100))
@given(ids=st.lists(odd_cells, max_size=8), existing=st.sets(odd_cells, max_size=3))
def test_new_records_names_the_row(ids: list[str], existing: set[str]) -> None:
    frame = pd.DataFrame({"工号": ids, "姓名": ["x"] * len(ids)}, dtype=object)
    try:
        got = list(new_records(frame, Path("workers.csv"), "工号", existing, noun="worker"))
    except InputError as exc:
        assert exc.where is not None and exc.where.startswith("row ") and "workers.csv" in str(exc)
        return
    assert [r["工号"] for _, r in got] == [v for v in ids if v not in existing]
