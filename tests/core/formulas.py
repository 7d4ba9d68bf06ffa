"""Checks that a file a spreadsheet opens holds no live formula, shared by the writer tests of
every package (a plain module: no fixtures).

CSV: no cell (header included) starts with a formula character unless it is a number the test
says may (``numbers``); the OWASP prefix is a leading ``'``. XLSX: text cells are strings
(openpyxl ``data_type "s"``) holding the text itself, nothing is a formula, numbers are numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

#: OWASP CSV-injection payloads, each a cell a user might type or import.
PAYLOADS = ("=1+1", "+1", "-1", "@SUM(1)", "=cmd|' /C calc'!A0", "\t=1", "\r=1")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(data: bytes | Path) -> list[list[str]]:
    """The cells of a CSV file (UTF-8 with BOM, which it must have), header first."""
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def assert_csv_inert(data: bytes | Path, *, numbers: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Fail when a cell starts like a formula (cells of the ``numbers`` columns may, when they are
    numbers); returns the data rows as dicts."""
    rows = csv_rows(data)
    header, body = rows[0], rows[1:]
    live = [h for h in header if h.startswith(FORMULA_STARTS)]
    assert not live, f"header cells that a spreadsheet runs: {live!r}"
    for r, row in enumerate(body, start=2):
        for name, cell in zip(header, row, strict=True):
            if name in numbers and _is_number(cell):
                continue
            assert not cell.startswith(FORMULA_STARTS), f"line {r}, column {name!r}: {cell!r} starts a formula"
    return [dict(zip(header, row, strict=True)) for row in body]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_xlsx_inert(data: bytes, *, texts: dict[str, list[str]], numbers: tuple[str, ...] = ()) -> None:
    """Fail unless every cell of the first sheet is a plain value: the ``texts`` columns string
    cells holding those texts (no apostrophe), the ``numbers`` columns numeric cells, no formula."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
            if isinstance(cell.value, str):
                assert cell.data_type == "s", f"{cell.coordinate}: text stored as {cell.data_type!r}"
    for name, expected in texts.items():
        cells = [row[header.index(name)] for row in sheet.iter_rows(min_row=2)]
        got = [c.value for c in cells]
        # XML turns a bare carriage return into a line feed: the text is otherwise kept as typed
        assert [g.replace("\n", "\r") if g else g for g in got] == [e.replace("\n", "\r") for e in expected]
        assert all(c.data_type == "s" for c in cells)
    for name in numbers:
        cells = [row[header.index(name)] for row in sheet.iter_rows(min_row=2)]
        assert cells and all(c.data_type == "n" and isinstance(c.value, int | float) for c in cells
                             if c.value is not None), f"column {name!r} is not numeric"
