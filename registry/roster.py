"""Reading the registry spreadsheets communities keep (XLSX, or CSV in UTF-8 or GBK) into text cells.

Headers as the demo's ``households.csv``: 户编号, 户主姓名 (or 姓名), 身份证号, 联系电话, 类别, 楼栋编码,
网格编码, 经度, 纬度 (CGCS2000/WGS84 degrees); optional 工号 (the responsible worker, when it is
not the grid's). Required: 身份证号, a name, 类别, and 楼栋编码 or both 经度 and 纬度. Each row keeps
the number a user sees in the file (CSV: the line, the header being line 1; XLSX: the sheet row).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import InputError
from core.text import decode, read_xlsx_text

#: Canonical column → the headers accepted for it (first match wins).
COLUMNS: dict[str, tuple[str, ...]] = {
    "household_no": ("户编号",),
    "name": ("户主姓名", "姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码"),
    "phone": ("联系电话", "电话", "手机号"),
    "category": ("类别", "人员类别"),
    "building_code": ("楼栋编码",),
    "grid_code": ("网格编码",),
    "lon": ("经度",),
    "lat": ("纬度",),
    "worker_id": ("工号", "责任网格员工号"),
}
#: File types read, by suffix.
SUFFIXES: dict[str, str] = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_HEADERS_FIX = "use the headers 户编号, 户主姓名, 身份证号, 联系电话, 类别, 楼栋编码, 网格编码, 经度, 纬度"


@dataclass(frozen=True)
class Roster:
    """A registry file as text cells: ``cells`` has the canonical columns of :data:`COLUMNS`
    (``""`` where the file has no such column), ``rows`` the file's row number of each, and
    ``original`` the file's own columns (for the rejects file)."""

    path: Path
    cells: pd.DataFrame
    rows: list[int]
    original: pd.DataFrame


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[int]]:
    text, _ = decode(path.read_bytes(), str(path))
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(str(path), f"not a readable CSV table ({exc})", "export the sheet again as CSV") from exc
    numbers = [i + 2 for i in range(len(frame))]
    filled = frame.apply(lambda row: any(str(v).strip() for v in row), axis=1) if len(frame) else pd.Series([])
    keep = [bool(f) for f in filled]
    return frame.loc[keep].reset_index(drop=True), [n for n, k in zip(numbers, keep, strict=True) if k]


def _read(path: Path) -> tuple[pd.DataFrame, list[int]]:
    if not path.is_file():
        raise InputError(str(path), "file not found", "check the path")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(str(path), f"unsupported file type {path.suffix or '(none)'}",
                         f"save the registry as {' or '.join(sorted(set(SUFFIXES.values())))}")
    if kind == "csv":
        return _read_csv(path)
    frame = read_xlsx_text(path)
    return frame, list(frame.attrs.pop("sheet_rows"))  # pandas copies attrs along with every new frame


def read_roster(path: str | Path) -> Roster:
    """Read a registry file.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown type, or no column for 身份证号, the name, 类别, or
        neither 楼栋编码 nor 经度/纬度 (the file is refused as a whole).
    """
    path = Path(path)
    frame, rows = _read(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    found = {key: next((h for h in headers if h in frame.columns), None) for key, headers in COLUMNS.items()}
    missing = [COLUMNS[k][0] for k in ("id_number", "name", "category") if found[k] is None]
    if found["building_code"] is None and (found["lon"] is None or found["lat"] is None):
        missing.append("楼栋编码 (or 经度 and 纬度)")
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}", _HEADERS_FIX)
    cells = pd.DataFrame({key: (frame[col].astype(str).str.strip() if col else pd.Series([""] * len(frame),
                                                                                       dtype=object))
                          for key, col in found.items()})
    return Roster(path, cells, rows, frame.astype(str))
