"""Writing tables that people open in a spreadsheet (Excel, WPS): CSV with a BOM and XLSX, with
every text cell that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pandas as pd

#: Formats :func:`to_bytes` writes.
FORMATS: tuple[str, ...] = ("csv", "xlsx")
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text cells starting like a formula prefixed by ``'`` (numbers stay numbers)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].astype(object).map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
            )
    return safe


def to_bytes(frame: pd.DataFrame, fmt: str, *, sheet: str = "data") -> bytes:
    """``frame`` as CSV (UTF-8 with BOM, for Excel and WPS) or XLSX bytes, formulas neutralised.

    Parameters
    ----------
    frame : pandas.DataFrame
    fmt : str
        ``csv`` or ``xlsx``.
    sheet : str
        Worksheet name (XLSX).
    """
    if fmt not in FORMATS:
        msg = f"unknown spreadsheet format {fmt!r}; expected one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    safe = neutralise_formulas(frame)
    if fmt == "csv":
        return safe.to_csv(index=False).encode("utf-8-sig")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, index=False, sheet_name=sheet)
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str | Path, *, fmt: str | None = None, sheet: str = "data") -> Path:
    """Write ``frame`` to ``path`` with :func:`to_bytes`, atomically (a temporary file in the same
    folder, renamed into place; removed on any error). ``fmt`` defaults to the file's suffix."""
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".")
    data = to_bytes(frame, fmt, sheet=sheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
