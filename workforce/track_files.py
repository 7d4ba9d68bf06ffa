"""Reading workers' GPS tracks from the files people have: CSV (工号, 时间, 经度, 纬度) and GPX.

CSV: UTF-8 or GBK, WGS84/CGCS2000 degrees, local time (China Standard Time), as the demo's
``tracks.csv``. GPX 1.0/1.1: one ``<trk>`` per worker whose ``<name>`` is the staff number (工号);
``<trkpt lat lon>`` with ``<time>`` in UTC (``Z``) or with an offset, turned into local time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from core import constants
from core.csvfile import float_cell, read_csv_cells, time_cell
from core.errors import InputError
from core.text import shown

#: Columns of a track frame: staff number, local time, EPSG:4490 degrees.
TRACK_FRAME_COLUMNS: tuple[str, ...] = ("worker_id", "at", "lon", "lat")
CSV_HEADERS: tuple[str, ...] = ("工号", "时间", "经度", "纬度")
_LOCAL = ZoneInfo(constants.LOCAL_TIMEZONE)


def read_track_file(path: str | Path) -> pd.DataFrame:
    """The fixes of a CSV or GPX track file, sorted by worker and time.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (工号, 时间, 经度, 纬度) or ``.gpx``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACK_FRAME_COLUMNS`; ``at`` naive local time, ``lon``/``lat`` degrees.

    Raises
    ------
    core.errors.InputError
        Missing or unreadable file, unknown type, bad header, coordinate or time (the row or
        point is named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "file not found", "check the path of the track file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = _read_csv(path)
    elif suffix == ".gpx":
        frame = _read_gpx(path)
    else:
        raise InputError(str(path), f"unsupported track file type {suffix or '(none)'}", "use a .csv or .gpx file")
    return frame.sort_values(["worker_id", "at"], kind="stable", ignore_index=True)


def _read_csv(path: Path) -> pd.DataFrame:
    cells = read_csv_cells(path, CSV_HEADERS, missing_fix="check the path of the track file")
    rows = []
    for i, row in enumerate(cells.to_dict("records")):
        if not row["工号"]:
            raise InputError(str(path), "工号 is empty", "fill in the worker's staff number", where=f"row {i + 2}")
        rows.append((row["工号"], time_cell(path, i, "时间", row["时间"]),
                     float_cell(path, i, "经度", row["经度"], required=True),
                     float_cell(path, i, "纬度", row["纬度"], required=True)))
    return pd.DataFrame(rows, columns=list(TRACK_FRAME_COLUMNS))


def _local(text: str, path: Path, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:  # converted; a time without a zone is local time, as in the CSV files
            moment = moment.astimezone(_LOCAL).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: the local time falls outside the years 1-9999
        raise InputError(str(path), f"<time> {text!r} is not an ISO 8601 time (years 1-9999)",
                         "write e.g. 2026-06-30T00:01:44Z", where=where) from None
    return moment.replace(microsecond=0)


def _coordinate(value: str | None, name: str, limit: float, path: Path, where: str) -> float:
    try:
        number = float(value) if value is not None else float("nan")
    except ValueError:
        number = float("nan")
    if not abs(number) <= limit:
        raise InputError(str(path), f"{name}={value!r} is not a coordinate in degrees", "export the GPX again",
                         where=where)
    return number


def _read_gpx(path: Path) -> pd.DataFrame:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, UnicodeDecodeError, LookupError) as exc:  # LookupError: an unknown encoding="..."
        raise InputError(str(path), f"not a readable GPX file ({exc})", "export the track again as GPX") from exc
    ns = {"g": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    prefix = "g:" if ns else ""
    rows = []
    for k, track in enumerate(root.findall(f"{prefix}trk", ns), start=1):
        worker = (track.findtext(f"{prefix}name", default="", namespaces=ns) or "").strip()
        if not worker:
            raise InputError(str(path), "a track has no <name>", "name each track by the worker's staff number (工号)",
                             where=f"track {k}")
        for j, point in enumerate(track.iter(f"{{{ns['g']}}}trkpt" if ns else "trkpt"), start=1):
            where = f"track {shown(worker)}, point {j}"
            when = point.findtext(f"{prefix}time", default="", namespaces=ns)
            if not when:
                raise InputError(str(path), "a point has no <time>", "export the track with times", where=where)
            rows.append((worker, _local(when, path, where), _coordinate(point.get("lon"), "lon", 180, path, where),
                         _coordinate(point.get("lat"), "lat", 90, path, where)))
    if not rows:
        raise InputError(str(path), "no track points (<trk><trkseg><trkpt>)", "export a GPX with tracks")
    return pd.DataFrame(rows, columns=list(TRACK_FRAME_COLUMNS))
