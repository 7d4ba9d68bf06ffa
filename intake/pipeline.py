"""Import 12345 exports (CSV/XLSX/GeoJSON) as cases: check, join, route, dedupe, bulk insert.

One call is one transaction: rows are checked and joined onto the hierarchy first, then all new
cases and their first events are inserted with bulk statements; any failure rolls everything
back. Bad rows go to a rejects CSV (UTF-8 with BOM, opens in Excel/WPS) naming the row, the
column, the reason and the fix, followed by the row's own cells so it can be corrected and
imported again. Re-importing a file adds nothing (dedupe on source + source id).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ARRAY, Engine, String, any_, bindparam, insert, select
from sqlalchemy import Table as DbTable
from sqlalchemy.orm import Session

from access import audit
from cases import routing
from cases.lifecycle import REPORT_EVENT
from core import clock, constants
from core.constants import Label
from core.errors import InputError
from intake.tables import Table, read_table
from metrics import kpi
from store import rollup
from store.models import Case, CaseEvent

#: Join statuses that make a row unusable (sent to the rejects file).
REJECTED_JOIN_STATUSES = frozenset({"missing_coordinates", "invalid_coordinates"})
_CHUNK = 2000


@dataclass(frozen=True)
class ImportResult:
    """Outcome of one import: counts and the rejects file (None when nothing was rejected)."""

    rows: int
    added: int
    duplicates: int
    rejected: int
    unrouted: int
    rejects_path: Path | None


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


def _hierarchy_index(hierarchy: Any) -> Any:
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


class _Problems:
    """Problems per row index: (header, reason, fix)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.by_row: dict[int, list[tuple[str, str, str]]] = {}

    def add(self, rows: np.ndarray | list[int], key: str, reason: str, fix: str) -> None:
        header = self.table.headers.get(key, key)
        for i in rows:
            self.by_row.setdefault(int(i), []).append((header, reason.format(value=self.table.frame.at[int(i), key]
                                                                              if key in self.table.frame else ""), fix))


def _map_values(problems: _Problems, key: str, lookup: dict[str, str], default: str | None, fix: str) -> pd.Series:
    frame = problems.table.frame
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


def _parse_times(series: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(series.where(series != ""), errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(constants.LOCAL_TIMEZONE).dt.tz_localize(None)
    return parsed


def _check(table: Table, default_source: str) -> tuple[pd.DataFrame, _Problems]:
    """Normalised values of every row, and the problems found."""
    frame = table.frame
    problems = _Problems(table)
    out = pd.DataFrame(index=frame.index)
    out["source"] = _map_values(problems, "source", _SOURCES, default_source,
                                f"use one of {', '.join(s.zh for s in constants.SOURCES.values())}")
    ids = frame["source_id"]
    problems.add(np.flatnonzero((ids == "").to_numpy()), "source_id", "the order number is empty",
                 "fill in the 12345 order number (工单编号)")
    out["source_id"] = ids
    out["category"] = _map_values(problems, "category", _CATEGORIES, None,
                                  f"use one of {', '.join(c.zh for c in constants.CATEGORIES.values())}")
    subs = []
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
    problems.add(np.flatnonzero(times.isna().to_numpy()), "reported_at", "'{value}' is not a date and time",
                 "write it as 2026-11-16 09:30:00")
    out["reported_at"] = times
    for key in ("text", "address", "reporter_name", "reporter_phone"):
        out[key] = frame[key].where(frame[key] != "", None) if key in frame else None
    out["text"] = out["text"].fillna("") if "text" in frame else ""
    out["lon_raw"] = frame["lon"]  # text: the join tells missing ("") from invalid ("abc")
    out["lat_raw"] = frame["lat"]
    return out, problems


def _join(out: pd.DataFrame, problems: _Problems, index: Any, *, coords: str, snap_m: float) -> pd.DataFrame:
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


def _among(session: Session, ids: list[str]) -> Any:
    """``source_id`` is one of ``ids``: ``= ANY(array)`` on PostgreSQL (one parameter instead of
    thousands, which psycopg spends seconds converting), ``IN (...)`` elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return Case.source_id == any_(bindparam("ids", ids, type_=ARRAY(String)))
    return Case.source_id.in_(ids)


def _existing_ids(session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    by_source: dict[str, list[str]] = {}
    for source, sid in keys:
        by_source.setdefault(source, []).append(sid)
    for source, ids in by_source.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = session.execute(select(Case.source_id).where(Case.source == source, _among(session, chunk)))
            found.update((source, sid) for (sid,) in rows)
    return found


def bulk_insert(session: Session, table: DbTable, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: ``COPY`` on PostgreSQL (psycopg), one
    executemany elsewhere. Every row must have the same keys."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        names = list(rows[0])
        columns = ", ".join(f'"{name}"' for name in names)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[name] for name in names])
        finally:
            cursor.close()
        return
    session.execute(insert(table), rows)


def _insert_cases(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new cases with one executemany; return their ids in the order of ``rows``.

    The ids are read back through the unique (source, source_id) index, which works the same on
    every backend (RETURNING with guaranteed order falls back to one row per statement on SQLite).
    """
    if not rows:
        return []
    bulk_insert(session, Case.__table__, rows)
    ids: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    for source, source_ids in by_source.items():
        for start in range(0, len(source_ids), _CHUNK):
            chunk = source_ids[start:start + _CHUNK]
            found = session.execute(select(Case.source_id, Case.id).where(Case.source == source,
                                                                           _among(session, chunk)))
            ids.update(((source, sid), cid) for sid, cid in found)
    return [ids[(row["source"], row["source_id"])] for row in rows]


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        bulk_insert(session, CaseEvent.__table__, rows)


def _write_rejects(path: Path, table: Table, problems: _Problems) -> None:
    records = []
    for i in sorted(problems.by_row):
        found = problems.by_row[i]
        record = {
            "row": table.row_labels[i],
            "column": "; ".join(dict.fromkeys(h for h, _, _ in found)),
            "reason": "; ".join(r for _, r, _ in found),
            "fix": "; ".join(dict.fromkeys(f for _, _, f in found)),
        }
        record.update({str(k): v for k, v in table.original.iloc[i].items()})
        records.append(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rejects-", suffix=".csv", dir=path.parent)
    os.close(fd)
    try:
        pd.DataFrame(records).to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _objects(series: pd.Series) -> list[Any]:
    """A column as a list of plain Python values, ``None`` for missing ones."""
    return series.astype(object).where(series.notna(), None).tolist()


def import_file(
    target: Session | Engine,
    path: str | Path,
    *,
    hierarchy: Any = None,
    actor: str = "import",
    rejects_path: str | Path | None = None,
    source: str = "hotline_12345",
    coords: str = "wgs84",
    rules: routing.RuleSet | None = None,
    snap_m: float | None = None,
) -> ImportResult:
    """Import one export file as new cases in state ``reported``, routed.

    Parameters
    ----------
    target : Session or Engine
        A session (the caller commits; on error the caller must roll back) or an engine (one
        transaction, committed here, rolled back on any error).
    path : str or Path
        CSV (UTF-8/BOM/GBK), XLSX or GeoJSON with the columns of
        ``core.constants.CASE_IMPORT_HEADERS`` (Chinese or English headers).
    hierarchy : path, dict of layers, or join index, optional
        The grid hierarchy (``hierarchy.gpkg``); default the ``hierarchy_path`` setting.
    actor : str
        Written to each case's first event.
    rejects_path : str or Path, optional
        Where to write rejected rows; default ``<file stem>_rejects.csv`` beside the input.
        Written only when rows were rejected.
    source : str
        Source key for rows without a 来源渠道 value.
    coords : str
        Coordinate system of the file's points: ``wgs84`` (also CGCS2000), ``gcj02`` or ``bd09``.
    rules : RuleSet, optional
        Routing rules; default :func:`cases.routing.load_rules`.
    snap_m : float, optional
        Snap distance (m) for points just outside every grid; default the setting.

    Returns
    -------
    ImportResult
    """
    if isinstance(target, Engine):
        from store.db import session_factory

        with session_factory(target)() as session, session.begin():
            return import_file(session, path, hierarchy=hierarchy, actor=actor, rejects_path=rejects_path,
                               source=source, coords=coords, rules=rules, snap_m=snap_m)
    session = target
    if coords not in constants.COORD_SYSTEMS:
        raise InputError("--coords", f"unknown coordinate system {coords!r}", f"use one of {', '.join(constants.COORD_SYSTEMS)}")
    if source not in constants.SOURCES:
        raise InputError("--source", f"unknown source {source!r}", f"use one of {', '.join(constants.SOURCES)}")
    path = Path(path)
    if snap_m is None:
        from core.settings import load_settings

        snap_m = load_settings().snap_distance_m
    rules = rules if rules is not None else routing.load_rules()
    index = _hierarchy_index(hierarchy)
    table = read_table(path)
    out, problems = _check(table, source)
    out = _join(out, problems, index, coords=coords, snap_m=snap_m)

    columns = ("source", "source_id", "category", "subcategory", "text", "address", "reporter_name",
               "reporter_phone", "lon", "lat", "street_code", "community_code", "grid_code", "building_code",
               "join_status", "priority")
    values = {k: _objects(out[k]) for k in columns}
    values["reported_at"] = list(out["reported_at"].dt.to_pydatetime())  # NaT only in rejected rows
    good = [i for i in range(len(out)) if i not in problems.by_row]
    keys = [(values["source"][i], values["source_id"][i]) for i in good]
    existing = _existing_ids(session, keys)
    seen: set[tuple[str, str]] = set()
    fresh: list[int] = []
    duplicates = 0
    for i, key in zip(good, keys, strict=True):
        if key in seen or key in existing:
            duplicates += 1
            continue
        seen.add(key)
        fresh.append(i)

    routing.sync_departments(session, rules)
    directory = routing.load_directory(session)
    now = clock.now()
    case_rows, notes, unrouted = [], [], 0
    names = (*columns, "reported_at")
    for i in fresh:
        row = {k: values[k][i] for k in names}
        row["text"] = row["text"] or ""
        decision = routing.route(row, rules, directory)
        unrouted += not decision.routed
        row.update(state="reported", assignee_kind=decision.assignee_kind, assignee_id=decision.assignee_id,
                   unrouted_reason=None if decision.routed else decision.reason, supervised=False,
                   rework_count=0, version=1)
        case_rows.append(row)
        routed = (f"routed by {decision.reason} to {decision.assignee_kind} {decision.assignee_id}"
                  if decision.routed else f"unrouted: {decision.reason}")
        notes.append(f"imported from {path.name}; {routed}")
    with rollup.deferred(session.connection(), kpi.settled_measures()):
        ids = _insert_cases(session, case_rows)
    _insert_events(session, [
        {"case_id": cid, "seq": 1, "action": REPORT_EVENT, "from_state": None, "to_state": "reported",
         "actor": actor, "at": now, "note": note, "lon": row["lon"], "lat": row["lat"]}
        for cid, row, note in zip(ids, case_rows, notes, strict=True)
    ])
    audit.record(session, actor=actor, action="import", at=now, target_kind="file", target_id=path.name,
                 detail={"file": path.name, "rows": len(out), "added": len(ids), "duplicates": duplicates,
                         "rejected": len(problems.by_row), "unrouted": unrouted})
    session.flush()

    written = None
    if problems.by_row:
        written = Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}_rejects.csv")
        _write_rejects(written, table, problems)
    return ImportResult(rows=len(out), added=len(ids), duplicates=duplicates, rejected=len(problems.by_row),
                        unrouted=unrouted, rejects_path=written)
