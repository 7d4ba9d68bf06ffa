"""Writing tables that people open in a spreadsheet (Excel, WPS): CSV with a BOM and XLSX. This is
the one module that writes them; nothing a spreadsheet opens ever holds a live formula.

- CSV has no cell types, so a text cell that starts like a formula (``= + - @``, tab, carriage
  return; OWASP "CSV injection") gets a leading ``'``. Numbers stay numbers.
- XLSX text is written as plain string cells (``t="inlineStr"``, openpyxl ``data_type "s"``):
  Excel shows ``=1+1`` as the text it is, with no apostrophe. Numbers stay numeric cells.

Files are written atomically through :func:`replacing`: a temporary file beside the target,
renamed onto it at the end. Its name carries the writing process (``.joined.csv.<pid>-<start>-
<random>.tmp.csv``), so a later write of the same file removes the leftovers of a run that was
killed (``kill -9``, power cut) once their process is gone.
"""

from __future__ import annotations

import codecs
import datetime as dt
import glob
import io
import math
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from decimal import Decimal
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.text import is_blank

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: Formats :func:`to_bytes` writes.
FORMATS: tuple[str, ...] = ("csv", "xlsx")
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_BYTES = np.array([ord(c) for c in FORMULA_STARTS], dtype=np.uint8)
#: Characters XML 1.0 cannot hold (openpyxl refuses them); written as U+FFFD.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: When this process started: temporary files of the old, ownerless kind older than this are leftovers.
_STARTED = time.time()


def safe_text(text: str) -> str:
    """``text`` for a CSV cell: with a leading ``'`` when it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for CSV: text cells and column names starting like a formula prefixed by ``'``
    (numbers stay numbers)."""
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].astype(object).map(lambda v: safe_text(v) if isinstance(v, str) else v)
    safe.columns = [safe_text(c) if isinstance(c, str) else c for c in safe.columns]
    return safe


def to_bytes(frame: pd.DataFrame, fmt: str, *, sheet: str = "data") -> bytes:
    """``frame`` as CSV (UTF-8 with BOM, for Excel and WPS) or XLSX bytes, with no live formula.

    Parameters
    ----------
    frame : pandas.DataFrame
    fmt : str
        ``csv`` (formula-like text prefixed by ``'``) or ``xlsx`` (text as string cells).
    sheet : str
        Worksheet name (XLSX).
    """
    if fmt not in FORMATS:
        msg = f"unknown spreadsheet format {fmt!r}; expected one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    if fmt == "csv":
        # CRLF rows (RFC 4180, as Excel writes them): a cell holding a bare CR is then quoted too
        return neutralise_formulas(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    return _xlsx_bytes(frame, sheet)


def _xlsx_value(value: Any) -> Any:
    """A value openpyxl writes as the same kind of cell: text, number, bool, date or blank."""
    if value is None or isinstance(value, str):
        return value
    if is_blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: the wall-clock time is kept
    if isinstance(value, dt.date | dt.time):
        return value
    return str(value)


def _xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data")

    def row(values: Any) -> list[Any]:
        out = []
        for raw in values:
            value = _xlsx_value(raw)
            if isinstance(value, str):
                value = WriteOnlyCell(worksheet, value=_NOT_XML.sub("\ufffd", value))
                value.data_type = "s"  # text, even when it starts with "=": never a formula
            out.append(value)
        return out

    worksheet.append(row(str(c) for c in frame.columns))
    for values in frame.itertuples(index=False, name=None):
        worksheet.append(row(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str | Path, *, fmt: str | None = None, sheet: str = "data") -> Path:
    """Write ``frame`` to ``path`` with :func:`to_bytes`, atomically (:func:`replacing`). ``fmt``
    defaults to the file's suffix."""
    path = Path(path)
    data = to_bytes(frame, fmt or path.suffix.lower().lstrip("."), sheet=sheet)
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return path


# --- Arrow tables (large CSV files) ----------------------------------------------------------

def _formula_cells(array: pa.Array) -> np.ndarray:
    """Which cells of a text array start with a formula character (read from the Arrow buffers)."""
    offsets_type = np.int64 if str(array.type) == "large_string" else np.int32
    buffers = array.buffers()
    offsets: np.ndarray = np.frombuffer(buffers[1], dtype=offsets_type)[array.offset: array.offset + len(array) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    first = np.zeros(len(array), dtype=np.uint8)
    first[filled] = data[starts[filled]]
    mask = filled & np.isin(first, _FORMULA_BYTES)
    if array.null_count:
        mask &= array.is_valid().to_numpy(zero_copy_only=False)
    return mask


def _safe_array(array: pa.Array, numbers_: np.ndarray | None) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if str(array.type) not in ("string", "large_string"):
        return array
    mask = _formula_cells(array)
    if numbers_ is not None:
        mask &= ~numbers_
    if not mask.any():
        return array
    prefixed = pc.binary_join_element_wise("'", array, "")
    return pc.if_else(pa.array(mask), prefixed, array).cast(array.type)


def write_arrow_csv(table: pa.Table, path: str | Path, *, numbers: Mapping[str, np.ndarray] | None = None,
                    on_rows: Callable[[int], object] | None = None, batch_rows: int = 1 << 16) -> Path:
    """Write an Arrow table as CSV (UTF-8 with BOM), atomically, formula-like text prefixed by ``'``.

    Parameters
    ----------
    table : pyarrow.Table
    path : str or Path
    numbers : dict of str to bool array, optional
        Per text column, the cells known to be numbers (e.g. coordinates parsed as such): they are
        written as they are (``-73.97`` stays ``-73.97``).
    on_rows : callable, optional
        Called with the number of rows after each batch is written (a progress bar's ``update``).
    batch_rows : int
        Rows per batch.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    known = dict(numbers or {})
    schema = pa.schema([field.with_name(safe_text(field.name)) for field in table.schema])
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with replacing(path) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        sink.write(codecs.BOM_UTF8)
        with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
            start = 0
            for batch in table.to_batches(max_chunksize=batch_rows):
                rows = batch.num_rows
                arrays = [_safe_array(column, known[name][start:start + rows] if name in known else None)
                          for name, column in zip(table.column_names, batch.columns, strict=True)]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                start += rows
                if on_rows is not None:
                    on_rows(rows)
    return Path(path)


# --- atomic replacement and leftovers of killed runs --------------------------------------------

def _process_start(pid: int) -> tuple[str, int] | None:
    """``(state, start time in clock ticks)`` of a process from ``/proc`` (Linux); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (command)": state is field 3, start time 22
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _owner_alive(pid: int, started: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        return True  # our own (another thread's) file; or no safe liveness test (os.kill(pid, 0) kills there)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    proc = _process_start(pid)
    if proc is None:
        return True
    state, ticks = proc
    return state != "Z" and (not started or ticks == started)  # a zombie, or the pid reused: gone


def _leftover(name: str, target: Path) -> bool:
    base, suffix = re.escape(target.name), re.escape(target.suffix)
    ours = re.fullmatch(rf"\.{base}\.(\d+)-(\d+)-[0-9a-f]{{8}}\.tmp{suffix}(-journal|-wal|-shm)?", name)
    if ours:
        return not _owner_alive(int(ours[1]), int(ours[2]))
    # the kinds earlier versions wrote, without an owner: leftovers when older than this run
    return bool(re.fullmatch(rf"\.{base}\.[a-z0-9_]{{8}}\.tmp({suffix})?", name)
                or re.fullmatch(rf"\.{re.escape(target.stem)}-[a-z0-9_]{{8}}{suffix}", name)) and \
        (target.parent / name).stat().st_mtime < _STARTED


def remove_leftovers(path: str | Path) -> list[Path]:
    """Remove the temporary files that killed writes of ``path`` left beside it; returns them."""
    target = Path(path)
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.glob(f".{glob.escape(target.stem)}*"):
        with suppress(OSError):  # gone meanwhile, or not ours to remove
            if entry.is_file() and _leftover(entry.name, target):
                entry.unlink()
                removed.append(entry)
    return removed


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed onto ``path`` when the block ends, removed
    when it raises. Leftovers of earlier killed writes of ``path`` are removed first.

    Examples
    --------
    >>> with replacing(tmp_dir / "joined.csv") as tmp:  # doctest: +SKIP
    ...     tmp.write_bytes(data)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    tmp = _new_temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for extra in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
            extra.unlink(missing_ok=True)


def _new_temporary(target: Path) -> Path:
    """Create ``.<name>.<pid>-<process start>-<random>.tmp<suffix>`` beside ``target`` (mode from the
    umask, like the file it becomes)."""
    pid = os.getpid()
    me = _process_start(pid)
    while True:
        tmp = target.with_name(f".{target.name}.{pid}-{me[1] if me else 0}-{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
