"""``python -m geo join``: incident file in, ``joined.csv`` out (UTF-8 with BOM, atomic).

CSV files go through Arrow's multi-threaded reader with every column typed as text (so codes
and phone numbers keep their leading zeros and the output repeats the input cells exactly);
other formats go through :func:`geo.incidents.read_incidents`. The output is every input
column, then ``street_code``, ``community_code``, ``grid_code``, ``building_code``,
``join_status``, ``distance_m``. It is written by :func:`core.spreadsheet.write_arrow_csv`, the
project's one CSV writer: a text cell that would start a spreadsheet formula gets a leading
``'`` (coordinates that are numbers are left as they are), a killed run leaves nothing behind,
and a progress bar shows on a terminal.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.constants import JOIN_STATUSES, LEVELS
from core.errors import InputError
from core.progress import progress
from core.spreadsheet import write_arrow_csv
from core.text import file_encoding, not_text_error
from geo.incidents import (
    _check_named,
    csv_encoding,
    detect_coordinate_columns,
    read_incidents,
)
from geo.join import CODE_COLUMNS, status_names, take_codes

#: The columns appended to every input row, in order.
OUTPUT_COLUMNS = ("street_code", "community_code", "grid_code", "building_code", "join_status", "distance_m")


def _csv_header(path: Path, encoding: str) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode(encoding, errors="ignore")
    try:
        row = next(csv.reader(io.StringIO(text)), None)
    except csv.Error as exc:  # e.g. a header cell over the csv module's field limit (131,072 characters)
        raise InputError(str(path), f"the header row cannot be read as CSV ({exc})",
                         "export the incidents again with a header row of column names") from exc
    if not row:
        raise InputError(str(path), "the CSV is empty (no header row)", "export the incidents with a header row")
    return row


def _read_arrow(path: Path, enc: str) -> pa.Table:
    names = _csv_header(path, enc)  # utf-8-sig drops the BOM, as Arrow does: the names must match
    read_opts = pacsv.ReadOptions(encoding="utf8" if enc.startswith("utf-8") else enc, block_size=8 << 20)
    conv = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    return pacsv.read_csv(path, read_options=read_opts, convert_options=conv, parse_options=parse)


def read_csv_arrow(path: str | Path) -> pa.Table:
    """A CSV as an Arrow table with every column as text (empty cells as ``""``).

    The encoding is judged from samples of the file; when the reader then fails, the whole file
    is checked: it is read again in the encoding that fits all of it, or refused naming the line
    and byte offset of the first byte that neither UTF-8 nor GBK reads.
    """
    path = Path(path)
    enc = csv_encoding(path)
    try:
        return _read_arrow(path, enc)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        error: Exception = exc
    fits = file_encoding(path)
    if fits is None:
        raise not_text_error(path, str(path)) from error
    if fits.startswith("utf-8") != enc.startswith("utf-8"):  # the samples misled: e.g. GBK only mid-file
        try:
            return _read_arrow(path, fits)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            error = exc
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise InputError(str(path), f"cannot be read as CSV ({first})",
                     "every row needs as many cells as the header: correct the row quoted here") from error


def _coordinates(col: pa.ChunkedArray) -> np.ndarray:
    """Numbers from a text column: NaN for empty cells; object array when some cells are not numbers."""
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        return col.to_numpy().astype(float)
    trimmed = pc.utf8_trim_whitespace(col)
    blank = pc.equal(trimmed, "")
    try:
        nums = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), trimmed), pa.float64())
        return nums.to_numpy(zero_copy_only=False).astype(float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.asarray(col.to_pylist(), dtype=object)


def _number_cells(values: np.ndarray) -> np.ndarray:
    """Which coordinate cells are numbers (written as they are, even when negative)."""
    if values.dtype != object:
        return np.isfinite(values)
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        try:
            out[i] = np.isfinite(float(v))
        except (TypeError, ValueError):
            continue
    return out


def _read_table(incidents: Path, lon_col: str | None, lat_col: str | None) -> tuple[pa.Table, str, str]:
    if not incidents.exists():
        raise InputError(str(incidents), "file not found", "check the path")
    if incidents.suffix.lower() not in (".csv", ".txt"):
        frame, lon_col, lat_col = read_incidents(incidents, lon_col=lon_col, lat_col=lat_col)
        return pa.Table.from_pandas(frame, preserve_index=False), lon_col, lat_col
    table = read_csv_arrow(incidents)
    names = table.column_names
    _check_named(names, lon_col, lat_col, str(incidents))
    if lon_col is None or lat_col is None:
        lon, lat = detect_coordinate_columns(names, source=str(incidents))
        lon_col, lat_col = lon_col or lon, lat_col or lat
    for col in {lon_col, lat_col}:
        if names.count(col) > 1:
            raise InputError(str(incidents), f"the coordinate column {col!r} appears {names.count(col)} times",
                             "give every column its own name (rename the copies) and run again")
    return table, lon_col, lat_col


def join_file(hierarchy: str | Path, incidents: str | Path, out: str | Path, *, lon_col: str | None = None,
              lat_col: str | None = None, coords: str = "wgs84", snap_m: float | None = None) -> dict:
    """Join an incident file onto a hierarchy and write ``joined.csv``.

    Parameters
    ----------
    hierarchy : path
        ``hierarchy.gpkg`` from ``python -m geo build``.
    incidents : path
        CSV (UTF-8, BOM or GBK), XLSX, GeoJSON or shapefile.
    out : path
        The CSV to write (UTF-8 with BOM), atomically, through :func:`core.spreadsheet.write_arrow_csv`.
    lon_col, lat_col : str, optional
        Coordinate columns (detected when not given).
    coords : str
        ``wgs84``, ``gcj02`` or ``bd09``.
    snap_m : float, optional
        Snap distance in metres (default from settings).

    Returns
    -------
    dict with ``rows``, ``statuses`` (counts), ``seconds``.
    """
    from geo.join import HierarchyIndex

    start = time.perf_counter()
    if snap_m is None:
        from core.settings import load_settings

        snap_m = load_settings().snap_distance_m
    table, lon_col, lat_col = _read_table(Path(incidents), lon_col, lat_col)
    phases = {"read": time.perf_counter() - start}
    index = HierarchyIndex.from_gpkg(hierarchy)
    lon, lat = _coordinates(table[lon_col]), _coordinates(table[lat_col])
    res = index.join_arrays(lon, lat, coords=coords, snap_m=snap_m)
    phases["join"] = time.perf_counter() - start - sum(phases.values())
    for level in LEVELS:
        lv = index.levels.get(level)
        codes = lv.codes if lv is not None else np.zeros(0, dtype=object)
        table = table.append_column(CODE_COLUMNS[level], take_codes(codes, res[level]))
    table = table.append_column("join_status", status_names(res["status"]))
    dist = np.round(res["distance_m"], 2)
    table = table.append_column("distance_m", pa.array(dist, from_pandas=True, type=pa.float64()))
    with progress(table.num_rows, f"write {Path(out).name}", unit="rows") as bar:
        write_arrow_csv(table, out, numbers={lon_col: _number_cells(lon), lat_col: _number_cells(lat)},
                        on_rows=bar.update)
    phases["write"] = time.perf_counter() - start - sum(phases.values())
    counts = np.bincount(res["status"].astype(np.int64), minlength=len(JOIN_STATUSES))
    return {"rows": int(table.num_rows), "statuses": dict(zip(JOIN_STATUSES, map(int, counts), strict=True)),
            "seconds": time.perf_counter() - start, "phases": phases}
