"""Read 12345 export files into a table of text cells with normalised column keys.

Formats: CSV (UTF-8, UTF-8 with BOM, or GBK/GB18030), XLSX, GeoJSON (points; properties as
columns, the geometry's coordinates as ``lon``/``lat`` unless the properties carry them).
Headers may be Chinese or English (``core.constants.CASE_IMPORT_HEADERS``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import constants
from core.errors import InputError, few
from core.text import decode, read_xlsx_text

#: Extensions read as each format.
FORMATS: dict[str, str] = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
                           ".geojson": "geojson", ".json": "geojson"}


@dataclass
class Table:
    """An import file as text cells.

    ``frame`` has one column per recognised field key (str cells, ``""`` when empty) plus the
    file's other columns unchanged; ``headers`` maps field keys to the file's own header;
    ``row_labels`` names each row as the user sees it (``row 2`` is the first CSV data row,
    ``feature 1`` the first GeoJSON feature).
    """

    frame: pd.DataFrame
    headers: dict[str, str]
    row_labels: list[str]
    encoding: str | None
    kind: str
    #: The file's own columns, as text, for the rejects file.
    original: pd.DataFrame


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    text, encoding = decode(path.read_bytes(), str(path), fix="save it as CSV UTF-8 (逗号分隔) from Excel or WPS")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(str(path), f"not a readable CSV table ({first})", "export the sheet again as CSV") from exc
    return frame, encoding


def _read_geojson(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise InputError(str(path), f"not valid GeoJSON ({exc})", "export it again as GeoJSON (UTF-8)") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(str(path), "no FeatureCollection features", "export a FeatureCollection of points")
    rows = []
    for i, feature in enumerate(features, start=1):
        item = feature or {}
        props = (item.get("properties") or {}) if isinstance(item, dict) else None
        geometry = (item.get("geometry") or {}) if isinstance(item, dict) else None
        if not isinstance(props, dict) or not isinstance(geometry, dict):
            raise InputError(str(path), "the feature, its properties or its geometry is not a JSON object",
                             "export a FeatureCollection of points", where=f"feature {i}")
        coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        point = coords if isinstance(coords, list) and len(coords) >= 2 else ["", ""]
        row = {k: "" if v is None else str(v) for k, v in props.items()}
        row["__lon"], row["__lat"] = str(point[0]), str(point[1])
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _stripped_names(columns: Iterable[object]) -> list[str]:
    """Column names without surrounding spaces; a name repeated once stripped gets ``.1``, ``.2``
    (as pandas names a repeated header), so that every column stays one column."""
    names: list[str] = []
    for column in columns:
        name = base = str(column).strip()
        n = 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


def _match_headers(path: Path, columns: list[str]) -> dict[str, str]:
    lookup = {str(c).strip().lower(): c for c in columns}
    headers: dict[str, str] = {}
    for key, aliases in constants.CASE_IMPORT_HEADERS.items():
        for alias in aliases:
            if alias.lower() in lookup:
                headers[key] = lookup[alias.lower()]
                break
    return headers


def read_table(path: str | Path) -> Table:
    """Read an import file.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt`` (UTF-8, UTF-8 BOM, GBK), ``.xlsx``, ``.geojson``/``.json``.

    Returns
    -------
    Table

    Raises
    ------
    InputError
        Unknown format, unreadable file, or a required column missing (naming the headers
        accepted for it).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "file not found", "check the path")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(str(path), f"unsupported file type {path.suffix or '(none)'}",
                         f"use one of {', '.join(sorted(FORMATS))}")
    encoding = None
    if kind == "csv":
        frame, encoding = _read_csv(path)
        labels = [f"row {i + 2}" for i in range(len(frame))]
    elif kind == "xlsx":
        frame = read_xlsx_text(path, fix="save it again as .xlsx")
        labels = [f"row {n}" for n in frame.attrs["sheet_rows"]]
    else:
        frame = _read_geojson(path)
        labels = [f"feature {i + 1}" for i in range(len(frame))]
    frame.columns = _stripped_names(frame.columns)
    headers = _match_headers(path, [c for c in frame.columns if not c.startswith("__")])
    if kind == "geojson":
        for key in ("lon", "lat"):
            if key not in headers and f"__{key}" in frame.columns:
                headers[key] = f"__{key}"
    missing = [k for k in constants.CASE_IMPORT_REQUIRED if k not in headers]
    if missing:
        wanted = "; ".join(f"{k}: {' / '.join(constants.CASE_IMPORT_HEADERS[k])}" for k in missing)
        raise InputError(str(path), f"missing column(s) {few(missing)}",
                         f"add a column with one of these headers ({wanted})")
    out = pd.DataFrame({key: frame[col].astype(str).str.strip() for key, col in headers.items()})
    original = frame.rename(columns={"__lon": "经度(geometry)", "__lat": "纬度(geometry)"})
    return Table(frame=out, headers=headers, row_labels=labels, encoding=encoding, kind=kind, original=original)

