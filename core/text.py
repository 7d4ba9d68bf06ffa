"""One way to read text: bytes that are UTF-8 (with or without BOM) or GBK/GB18030, and
spreadsheet cells as text.

Chinese deliveries come in both encodings and rarely say which. :func:`decode` tries UTF-8 (a
BOM is dropped) and then GB18030 (a superset of GBK and GB2312); bytes that are neither are an
:class:`~core.errors.InputError` naming the line and the byte offset of the first byte that
cannot be read. :func:`detect_encoding` answers the same question without decoding everything
(samples of large files, the text fields of a DBF). :func:`cell_text` is the one rule that turns
an XLSX cell into text, used by every XLSX reader (:func:`read_xlsx_text`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import numbers
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: The encodings tried, in order (UTF-8 first: GB18030 reads almost any UTF-8 as mojibake).
ENCODINGS: tuple[str, ...] = ("utf-8", "gb18030")
#: The fix given when a text file is neither UTF-8 nor GBK.
TEXT_FIX = "save it as CSV UTF-8 (逗号分隔) from Excel or WPS, or copy it again from the source"
_CHUNK = 4 << 20
#: A character is at most 4 bytes in both encodings: a shorter tail may be a cut character.
_LONGEST_CHARACTER = 4


def _candidates(head: bytes) -> tuple[str, ...]:
    # a BOM declares UTF-8: such a file is never re-read as GB18030 mojibake
    return ("utf-8-sig",) if head.startswith(codecs.BOM_UTF8) else ENCODINGS


def _decodes(data: bytes, encoding: str, *, partial: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes, *, partial: bool = False) -> str | None:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``gb18030``: the first that reads all of ``data``; None
    when neither does.

    Parameters
    ----------
    data : bytes
    partial : bool
        ``data`` is a sample that may end in the middle of a character (the start of a file).
    """
    for encoding in _candidates(data):
        if _decodes(data, encoding, partial=partial):
            return encoding
    return None


def decode(data: bytes, source: str, *, fix: str = TEXT_FIX) -> tuple[str, str]:
    """``(text, encoding)`` of ``data``: UTF-8 (BOM dropped) or else GB18030.

    Raises
    ------
    InputError
        Neither fits; the message names the line and byte offset of the first unreadable byte.
    """
    for encoding in _candidates(data):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise not_text_error(data, source, fix=fix)


def _chunks(data: bytes | Path) -> Iterator[bytes]:
    if isinstance(data, bytes):
        yield data
        return
    with Path(data).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def locate_undecodable(chunks: Iterable[bytes], encoding: str) -> tuple[int, int] | None:
    """``(byte offset, line)`` of the first byte that ``encoding`` cannot read in the
    concatenation of ``chunks`` (offset 0-based, line 1-based); None when it all reads."""
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # the BOM is valid UTF-8; offsets count it
    offset = 0  # of ``carry`` in the whole
    line = 1
    carry = b""
    pending = iter(chunks)
    chunk: bytes | None = next(pending, None)
    while chunk is not None:
        following = next(pending, None)
        data = carry + chunk
        try:
            data.decode(encoding)
            bad = None
        except UnicodeDecodeError as exc:
            bad = exc.start
        if bad is None:
            carry = b""
            good = len(data)
        elif following is not None and len(data) - bad < _LONGEST_CHARACTER:
            carry = data[bad:]  # maybe a character cut by the chunking: read it with the next chunk
            good = bad
        else:
            return offset + bad, line + data.count(b"\n", 0, bad)
        line += data.count(b"\n", 0, good)
        offset += good
        chunk = following
    if carry:
        return offset, line
    return None


def not_text_error(data: bytes | Path, source: str, *, fix: str = TEXT_FIX) -> InputError:
    """The error for ``data`` (bytes or a file) that is neither UTF-8 nor GB18030 text.

    It names the line and byte offset where the likelier encoding (the one that reads further)
    breaks, and the byte found there.
    """
    encodings = _candidates(next(_chunks(data), b""))
    found = [where for encoding in encodings if (where := locate_undecodable(_chunks(data), encoding)) is not None]
    if not found:
        return InputError(source, "the text cannot be decoded", fix)
    offset, line = max(found)
    byte = _byte_at(data, offset)
    shown = f"byte 0x{byte:02X}" if byte is not None else "the last character"
    problem = (f"{shown} is not UTF-8 text (the file starts with a UTF-8 BOM)" if encodings == ("utf-8-sig",)
               else f"{shown} is neither UTF-8 nor GBK/GB18030 text")
    return InputError(source, problem, fix, where=f"line {line:,}, byte offset {offset:,}")


def _byte_at(data: bytes | Path, offset: int) -> int | None:
    if isinstance(data, bytes):
        return data[offset] if offset < len(data) else None
    with Path(data).open("rb") as fh:
        fh.seek(offset)
        one = fh.read(1)
    return one[0] if one else None


def file_encoding(path: Path) -> str | None:
    """The encoding that reads all of the file at ``path`` (read in chunks), or None."""
    for encoding in _candidates(next(_chunks(path), b"")):
        if locate_undecodable(_chunks(path), encoding) is None:
            return encoding
    return None


def shown(name: object) -> str:
    """A name from a user's file (a column, a zip member) as a one-line message shows it: as it
    is, or quoted with its line breaks and other invisible characters escaped."""
    text = str(name)
    return text if text.isprintable() else repr(text)


# --- spreadsheet cells -----------------------------------------------------------------------

def cell_text(value: object) -> str:
    """An XLSX cell as the text a user sees: ``""`` for blanks, whole numbers without ``.0``
    (``5.0`` → ``"5"``, ``13900001234.0`` → ``"13900001234"``), other numbers in their shortest
    exact form, date-times as ``YYYY-MM-DD HH:MM:SS``, dates as ``YYYY-MM-DD``."""
    if value is None or isinstance(value, str):
        return value or ""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:  # a Fraction beyond any float: its exact text
            return str(value)
        if not math.isfinite(number):
            return ""
        return str(int(number)) if number.is_integer() and abs(number) < 1e17 else repr(number)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def is_blank(value: object) -> bool:
    """None, NaN, NaT or pandas' NA: an empty cell (told apart without importing pandas, so that
    ``python -m geo join`` starts fast)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ArithmeticError):  # pandas.NA: "the truth value of NA is ambiguous"; Decimal("sNaN")
        return True
    except ValueError:  # an array in a cell is not blank
        return False


def _unique_names(header: Iterable[object]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(header):
        name = cell_text(cell).strip() or f"column{i + 1}"
        base, n = name, 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


def read_xlsx_text(path: str | Path, *, source: str | None = None,
                   fix: str = "save it again as .xlsx (Excel 2007+) or CSV") -> pd.DataFrame:
    """The first sheet of an XLSX workbook: first row the header, every cell text (:func:`cell_text`).

    Blank rows are skipped; ``frame.attrs["sheet_rows"]`` holds each row's number in the sheet
    (the header is row 1). A blank header cell is named ``columnN``; a repeated one gets ``.1``.

    Raises
    ------
    InputError
        Not a workbook, or the first sheet is empty.
    """
    import openpyxl
    import pandas as pd

    source = source or str(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: not a workbook
        raise InputError(source, f"cannot be opened as XLSX ({type(exc).__name__})", fix) from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True) if workbook.worksheets else iter(())
        header = next(rows, None)
        if header is None:
            raise InputError(source, "the first sheet is empty", "put the table on the first sheet, headers in row 1")
        names = _unique_names(header)
        data, numbers_ = [], []
        for number, row in enumerate(rows, start=2):
            cells = [cell_text(v) for v in row[: len(names)]]
            if any(cells):
                data.append(cells + [""] * (len(names) - len(cells)))
                numbers_.append(number)
    except InputError:
        raise
    except Exception as exc:  # read-only sheets are parsed (and unzipped) lazily, row by row
        raise InputError(source, f"cannot be read as XLSX ({type(exc).__name__})", fix) from exc
    finally:
        workbook.close()
    frame = pd.DataFrame(data, columns=names, dtype=object)
    frame.attrs["sheet_rows"] = numbers_
    return frame
