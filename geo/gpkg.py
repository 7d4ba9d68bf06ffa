"""Read ``hierarchy.gpkg`` straight from SQLite into arrays (no GDAL, no GeoDataFrames).

Used where start-up time matters (``python -m geo join``). A GeoPackage geometry blob is a
small header (``GP``, version, flags, SRS id, optional envelope) followed by standard WKB.
Anything unexpected returns None so that the caller falls back to :func:`geo.read_hierarchy`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import shapely

from core.constants import HIERARCHY_COLUMNS, LEVELS
from core.errors import InputError

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _wkb(blob: bytes | None) -> bytes | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:  # empty geometry
        return None
    env = (flags >> 1) & 0x07
    if env not in _ENVELOPE_BYTES:
        return None
    return blob[8 + _ENVELOPE_BYTES[env]:]


def read_hierarchy_arrays(path: str | Path) -> dict | None:
    """The four levels as ``{"code", "name", "parent_code": object arrays, "geometry": shapely array}``.

    Returns None when the file is not a plain EPSG:4490 hierarchy GeoPackage.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    try:
        con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        try:
            meta = con.execute("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns").fetchall()
        except sqlite3.Error:
            return None
        geometry_cols = {t: (c, srs) for t, c, srs in meta}
        out = {}
        for level in LEVELS:
            if level not in geometry_cols:
                out[level] = _empty()
                continue
            col, srs = geometry_cols[level]
            if srs != 4490:
                return None
            cols = ", ".join(f'"{c}"' for c in HIERARCHY_COLUMNS)
            rows = con.execute(f'SELECT {cols}, "{col}" FROM "{level}" ORDER BY rowid').fetchall()
            if not rows:
                out[level] = _empty()
                continue
            code, name, parent, blobs = zip(*rows, strict=True)
            wkbs = np.array([_wkb(b) for b in blobs], dtype=object)
            geoms = shapely.from_wkb(wkbs)
            geoms = np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)
            out[level] = {
                "code": np.array(["" if v is None else str(v) for v in code], dtype=object),
                "name": np.array(["" if v is None else str(v) for v in name], dtype=object),
                "parent_code": np.array(["" if v is None else str(v) for v in parent], dtype=object),
                "geometry": np.asarray(geoms, dtype=object),
            }
        return out
    except (sqlite3.Error, shapely.errors.GEOSException, ValueError):
        return None
    finally:
        con.close()


def _empty() -> dict:
    return {"code": np.zeros(0, dtype=object), "name": np.zeros(0, dtype=object),
            "parent_code": np.zeros(0, dtype=object), "geometry": np.zeros(0, dtype=object)}
