"""Reading the CSV files people keep (registries, visits, GPS tracks): UTF-8 (with or without BOM)
or GBK/GB18030 text with Chinese headers, and cell parsers whose errors name the file, the row and
the fix (``row 2`` is the first data row: the header is line 1)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from core.constants import LOCAL_TIMEZONE
from core.errors import InputError


def read_csv_cells(path: Path, headers: tuple[str, ...], *, missing_fix: str = "check the path") -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK) as text, checking that ``headers`` are present."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found", missing_fix)
    frame = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(str(path), f"not a readable CSV ({first})", "save it again as CSV") from exc
    if frame is None:
        raise InputError(str(path), "neither UTF-8 nor GBK text", "save it as CSV in UTF-8 or GBK")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [h for h in headers if h not in frame.columns]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}",
                         f"use the headers {', '.join(headers)}")
    return frame.map(lambda v: v.strip() if isinstance(v, str) else v)


def row_label(i: int) -> str:
    """How a user names the ``i``-th data row (0-based): ``row 2`` is the first, under the header."""
    return f"row {i + 2}"  # header is line 1


def new_records(frame: pd.DataFrame, path: Path, id_column: str, existing: set[str], *,
                 noun: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row index, record)`` of the rows whose ``id_column`` is not in the store yet; a blank
    or repeated id is an :class:`InputError` naming the row."""
    seen: set[str] = set()
    for i, r in enumerate(frame.to_dict("records")):
        ident = r[id_column]
        if not ident:
            raise InputError(str(path), f"{id_column} is empty", f"give every {noun} an id", where=row_label(i))
        if ident in seen:
            raise InputError(str(path), f"{id_column} {ident} appears twice", f"keep one row per {noun}",
                             where=row_label(i))
        seen.add(ident)
        if ident not in existing:
            yield i, r


def float_cell(path: Path, i: int, column: str, value: str, *, required: bool) -> float | None:
    """A longitude (经度) or latitude (纬度) cell in EPSG:4490 degrees; None when empty and not ``required``."""
    if value == "":
        if required:
            raise InputError(str(path), f"{column} is empty", "fill in the coordinate (EPSG:4490 degrees)",
                             where=row_label(i))
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(str(path), f"{column} is not a number: {value!r}", "write decimal degrees",
                         where=row_label(i)) from None
    limit = 180 if column == "经度" else 90
    if not math.isfinite(number) or abs(number) > limit:
        raise InputError(str(path), f"{column} {value} is out of range", "write decimal degrees (EPSG:4490)",
                         where=row_label(i))
    return number


def time_cell(path: Path, i: int, column: str, value: str) -> datetime:
    """A local date-time cell (``YYYY-MM-DD HH:MM:SS``, slashes allowed); one with an offset
    (``+08:00``, ``Z``) is converted to local time, so that every time is naive local time."""
    try:
        moment = datetime.fromisoformat(value.replace("/", "-"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(LOCAL_TIMEZONE)).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: the local time falls outside the years 1-9999
        raise InputError(str(path), f"{column} is not a date-time: {value!r}", "write YYYY-MM-DD HH:MM:SS",
                         where=row_label(i)) from None
    return moment
