"""Normalising intake records: labels to keys, times parsed, every problem named, the hierarchy joined.

Records are text cells keyed by the case fields of ``core.constants.CASE_IMPORT_HEADERS``
(``source_id``, ``category``, ``lon``, ``lat``, ``reported_at`` ...). Each problem is kept with the
record's position, the field's name as the sender wrote it, the reason and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import constants
from core.constants import Label
from core.errors import InputError


def _label_lookup(labels: Mapping[str, Label], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    table = {}
    for key, label in labels.items():
        for text in (key, label.zh, label.en):
            table[text.strip().lower()] = key
    table.update({k.lower(): v for k, v in (extra or {}).items()})
    return table


_SOURCES = _label_lookup(constants.SOURCES, {"12345": "hotline_12345", "热线": "hotline_12345",
                                             "巡查": "patrol", "视频": "video", "交办": "superior"})
_CATEGORIES = _label_lookup(constants.CATEGORIES)
_PRIORITIES = _label_lookup(constants.PRIORITIES, {"特急": "urgent", "紧急": "high", "一般": "normal",
                                                   "普通": "normal"})
_SUBCATEGORIES = {cat: _label_lookup({s.key: s for s in subs}) for cat, subs in constants.SUBCATEGORIES.items()}


def hierarchy_index(hierarchy: Any) -> Any:
    """A join index from a path, a dict of layers, or an object that already has ``join``."""
    if hasattr(hierarchy, "join"):
        return hierarchy
    import geo

    if isinstance(hierarchy, Mapping):
        return geo.HierarchyIndex(hierarchy)
    if hierarchy is None:
        from core.settings import load_settings

        hierarchy = load_settings().hierarchy_path
    path = Path(hierarchy)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found",
                         "build it with `python -m geo build ...` or pass --hierarchy")
    return geo.HierarchyIndex(geo.read_hierarchy(path))


class Problems:
    """Problems per record position: ``(field as the sender named it, reason, fix)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The records' text cells, one column per field key.
    headers : mapping of str to str
        Field key -> the name the sender used for it (a file's column header).
    """

    def __init__(self, frame: pd.DataFrame, headers: Mapping[str, str]) -> None:
        self.frame = frame
        self.headers = dict(headers)
        self.by_row: dict[int, list[tuple[str, str, str]]] = {}

    def add(self, rows: np.ndarray | list[int], key: str, reason: str, fix: str) -> None:
        """Record ``reason`` (may name ``{value}``, the cell) and ``fix`` for field ``key`` of ``rows``."""
        header = self.headers.get(key, key)
        for i in rows:
            value = self.frame.at[int(i), key] if key in self.frame else ""
            self.by_row.setdefault(int(i), []).append((header, reason.format(value=value), fix))


def _map_values(problems: Problems, key: str, lookup: dict[str, str], default: str | None, fix: str) -> pd.Series:
    frame = problems.frame
    if key not in frame:
        return pd.Series([default] * len(frame), index=frame.index, dtype=object)
    raw = frame[key]
    mapped = raw.str.lower().map(lookup)
    empty = raw == ""
    mapped = mapped.where(~empty, default)
    if default is None:
        problems.add(np.flatnonzero(empty.to_numpy()), key, "the value is empty", fix)
    problems.add(np.flatnonzero((mapped.isna() & ~empty).to_numpy()), key, "unknown value '{value}'", fix)
    return mapped.astype(object)


#: Report times outside these years are typing errors ("-1", "20261116" read as a year), not reports.
PLAUSIBLE_YEARS = (2000, 2100)


def _parse_times(series: pd.Series) -> pd.Series:
    """Times of the text cells (naive local time); NaT where a cell is empty, unreadable or
    outside :data:`PLAUSIBLE_YEARS`."""
    cells = series.where(series != "")
    try:
        parsed = pd.to_datetime(cells, errors="coerce", format="mixed")
    except ValueError:  # offsets that differ, or cells with and without one: read cell by cell
        parsed = pd.Series(pd.DatetimeIndex([_local_time(cell) for cell in cells]), index=series.index)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(constants.LOCAL_TIMEZONE).dt.tz_localize(None)
    first, last = PLAUSIBLE_YEARS
    return parsed.where((parsed.dt.year >= first) & (parsed.dt.year <= last))


def _local_time(cell: object) -> pd.Timestamp:
    """One cell as a naive local time (NaT when unreadable); a time with an offset is converted."""
    moment = pd.to_datetime(cell, errors="coerce", format="mixed")
    if pd.isna(moment) or moment.tzinfo is None:
        return moment
    return moment.tz_convert(constants.LOCAL_TIMEZONE).tz_localize(None)


def normalise(frame: pd.DataFrame, headers: Mapping[str, str], default_source: str) -> tuple[pd.DataFrame, Problems]:
    """Normalised values of every record (keys, times, text), and the problems found.

    ``frame`` has one text column per field key and a 0..n-1 index.
    """
    problems = Problems(frame, headers)
    out = pd.DataFrame(index=frame.index)
    out["source"] = _map_values(problems, "source", _SOURCES, default_source,
                                f"use one of {', '.join(s.zh for s in constants.SOURCES.values())}")
    ids = frame["source_id"]
    problems.add(np.flatnonzero((ids == "").to_numpy()), "source_id", "the order number is empty",
                 "fill in the 12345 order number (工单编号)")
    out["source_id"] = ids
    out["category"] = _map_values(problems, "category", _CATEGORIES, None,
                                  f"use one of {', '.join(c.zh for c in constants.CATEGORIES.values())}")
    subs: list[str | None] = []
    if "subcategory" in frame:
        for i, (cat, raw) in enumerate(zip(out["category"], frame["subcategory"], strict=True)):
            if not raw:
                subs.append(None)
                continue
            key = _SUBCATEGORIES.get(cat, {}).get(raw.lower()) if isinstance(cat, str) else None
            if key is None and isinstance(cat, str):
                allowed = ", ".join(s.zh for s in constants.SUBCATEGORIES[cat])
                problems.add([i], "subcategory", "unknown value '{value}' for this category", f"use one of {allowed}")
            subs.append(key)
    else:
        subs = [None] * len(frame)
    out["subcategory"] = subs
    out["priority"] = _map_values(problems, "priority", _PRIORITIES, "normal",
                                  f"use one of {', '.join(p.zh for p in constants.PRIORITIES.values())}")
    times = _parse_times(frame["reported_at"])
    problems.add(np.flatnonzero(times.isna().to_numpy()), "reported_at",
                 f"'{{value}}' is not a date and time in {PLAUSIBLE_YEARS[0]}–{PLAUSIBLE_YEARS[1]}",
                 "write it as 2026-11-16 09:30:00")
    out["reported_at"] = times
    for key in ("text", "address", "reporter_name", "reporter_phone"):
        out[key] = frame[key].where(frame[key] != "", None) if key in frame else None
    out["text"] = out["text"].fillna("") if "text" in frame else ""
    out["lon_raw"] = frame["lon"]  # text: the join tells missing ("") from invalid ("abc")
    out["lat_raw"] = frame["lat"]
    return out, problems


def join_hierarchy(out: pd.DataFrame, problems: Problems, index: Any, *, coords: str, snap_m: float) -> pd.DataFrame:
    """``out`` with the hierarchy codes, ``join_status`` and cleaned ``lon``/``lat`` of each record
    (``geo.HierarchyIndex.join``); records without usable coordinates get a problem."""
    joined = index.join(out["lon_raw"].to_numpy(dtype=object), out["lat_raw"].to_numpy(dtype=object),
                        coords=coords, snap_m=snap_m)
    joined = joined.reset_index(drop=True)
    if len(joined) != len(out):
        msg = f"hierarchy join returned {len(joined)} rows for {len(out)} incidents"
        raise RuntimeError(msg)
    status = joined["join_status"].astype(str).to_numpy()
    for st, reason, fix in (
        ("missing_coordinates", "no coordinates", "fill in 经度/纬度 (longitude/latitude in degrees)"),
        ("invalid_coordinates", "coordinates are not a longitude/latitude ('{value}')",
         "write decimal degrees, e.g. 116.587 and 35.415"),
    ):
        problems.add(np.flatnonzero(status == st), "lon", reason, fix)
    for key in ("street_code", "community_code", "grid_code", "building_code", "join_status"):
        values = joined[key].astype(object) if key in joined else pd.Series([None] * len(out), dtype=object)
        out[key] = values.where(values.notna(), None).to_numpy()
        out[key] = out[key].replace({"": None})
    lon = joined["lon"].to_numpy(dtype=float)
    lat = joined["lat"].to_numpy(dtype=float)
    out["lon"] = np.where(np.isfinite(lon), lon, np.nan)
    out["lat"] = np.where(np.isfinite(lat), lat, np.nan)
    return out


