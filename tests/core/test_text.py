"""core.text: one way to read text (UTF-8 or GBK, undecodable bytes named by line and offset) and
one rule for spreadsheet cells; core.errors.few keeps lists in messages short."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.errors import InputError, few
from core.text import cell_text, decode, detect_encoding, file_encoding, locate_undecodable, read_xlsx_text
from geo.incidents import read_incidents
from intake.tables import read_table

TEXT = "工单编号,诉求内容\nA1,楼道堆物\nA2,路灯不亮\n"


@pytest.mark.parametrize(("text", "codec", "encoding"), [
    (TEXT, "utf-8", "utf-8"), (TEXT, "utf-8-sig", "utf-8-sig"), (TEXT, "gbk", "gb18030"),
    ("plain ascii\n", "ascii", "utf-8"),
])
def test_decode_utf8_then_gbk(text, codec, encoding):
    data = text.encode(codec)
    assert decode(data, "f.csv") == (text, encoding)
    assert detect_encoding(data) == encoding


def test_undecodable_bytes_are_named_by_line_and_offset():
    good = TEXT.encode("gbk")
    data = good + b"A3,\xff\xfe\n"
    with pytest.raises(InputError) as err:
        decode(data, "hotline.csv")
    assert err.value.where == f"line 4, byte offset {len(good) + 3:,}"
    assert "byte 0xFF is neither UTF-8 nor GBK/GB18030" in str(err.value) and str(err.value).count("\n") == 0
    bom = b"\xef\xbb\xbf" + "a\n中".encode("gbk")  # a BOM says UTF-8: never re-read as GBK
    with pytest.raises(InputError, match=r"line 2, byte offset 5: byte 0xD6 is not UTF-8 text"):
        decode(bom, "bom.csv")


def test_locate_across_chunks_and_a_cut_character():
    text = "中文\n".encode() * 3
    assert locate_undecodable([text[:4], text[4:]], "utf-8") is None  # a character split by the chunking
    assert locate_undecodable([text[:4], text[4:] + b"\xff"], "utf-8") == (len(text), 4)
    assert locate_undecodable([text[:-2]], "utf-8") == (len(text) - 4, 3)  # cut at the very end
    assert detect_encoding(text[:-2], partial=True) == "utf-8" and detect_encoding(text[:-2]) != "utf-8"


def test_file_encoding_reads_the_whole_file(tmp_path):
    path = tmp_path / "mid.csv"
    path.write_bytes(b"a,b\n" * 5000 + "中,文\n".encode("gbk"))
    assert file_encoding(path) == "gb18030"
    path.write_bytes(b"a,b\n" + b"\x80\n")
    assert file_encoding(path) is None


@pytest.mark.parametrize(("value", "text"), [
    (5.0, "5"), (5, "5"), (13900001234.0, "13900001234"), (116.4, "116.4"), (-0.5, "-0.5"), (np.float64(2.0), "2"),
    (np.int64(7), "7"), (None, ""), (float("nan"), ""), (pd.NaT, ""), (pd.NA, ""), (True, "True"),
    (dt.datetime(2026, 11, 16, 9, 5, 0), "2026-11-16 09:05:00"), (dt.date(2026, 11, 16), "2026-11-16"),
    ("012345678901", "012345678901"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_every_xlsx_reader_uses_the_same_rule(tmp_path):
    """The same workbook read by the incident reader and by the case import gives the same text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单编号", "一级分类", "诉求内容", "经度", "纬度", "受理时间", "件数"])
    sheet.append(["GD1", "群众诉求", "路灯", 116.585, 35.415, dt.datetime(2026, 11, 16, 9, 0), 5.0])
    sheet.append([None] * 7)  # a blank row: skipped, the next keeps its own row number
    sheet.append([12345, "群众诉求", "噪音", 116.59, 35.4, dt.datetime(2026, 11, 16, 10, 30), 13900001234])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    frame = read_xlsx_text(path)
    assert frame.attrs["sheet_rows"] == [2, 4]
    incidents, _, _ = read_incidents(path)
    table = read_table(path)
    assert frame["件数"].tolist() == ["5", "13900001234"] == incidents["件数"].tolist()
    assert table.original["件数"].tolist() == frame["件数"].tolist()
    assert table.frame["source_id"].tolist() == ["GD1", "12345"]
    assert table.frame["reported_at"].tolist() == ["2026-11-16 09:00:00", "2026-11-16 10:30:00"]
    assert table.row_labels == ["row 2", "row 4"]  # the rows as the user sees them in Excel


def test_few_bounds_a_list():
    assert few([]) == "none"
    assert few(["a", "b"]) == "a, b"
    assert few([f"f{i}.shp" for i in range(3000)]) == "f0.shp, f1.shp, f2.shp, f3.shp, f4.shp and 2,995 more"
    assert len(few(["x" * 10_000] * 3)) < 200
