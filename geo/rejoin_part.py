"""The two halves of ``python -m geo rejoin`` that need no Dask: checking the history file, and
the work done on one partition (in a Dask worker process).

History schema: GeoParquet (``geo`` metadata, version 1.x) with a ``case_id`` column and one point
per row in its primary geometry column (missing or empty geometries allowed: they come out as
``missing_coordinates``), any CRS given in the metadata (a missing ``crs`` key means OGC:CRS84,
as the GeoParquet specification says; ``"crs": null`` is refused). Points are reprojected to
the storage CRS (EPSG:4490, degrees) for the join only: the geometry is written back unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from core.constants import JOIN_STATUSES, STORAGE_CRS
from core.errors import InputError, few

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo.join import HierarchyIndex

#: Columns appended to every history row, in order (as ``python -m geo join`` computes them).
REJOIN_COLUMNS = ("street_code", "community_code", "grid_code", "building_code", "join_status")
#: The identifier column every history file must have.
CASE_ID = "case_id"
_POINT_TYPES = {"Point", "Point Z"}
#: The fix named when a geometry is not a point.
POINTS_FIX = "store one point per case, e.g. gdf.geometry = gdf.representative_point()"
_WRITE_FIX = "write the history with geopandas: GeoDataFrame.to_parquet(path)"
_INDEXES: dict[tuple[str, int, int], HierarchyIndex] = {}


class NotPointsError(ValueError):
    """A partition holds a geometry that is not a point (raised in a worker; one-argument, so it
    travels back to the client intact)."""


@dataclass(frozen=True)
class HistoryInfo:
    """What the client learns from a history file's footer (no row is read).

    Attributes
    ----------
    rows, row_groups : int
        Row and row-group counts.
    schema : pyarrow.Schema
        The file's Arrow schema (input column types are written back as they were).
    geometry : str
        Name of the primary geometry column.
    geo : dict
        The file's ``geo`` metadata (bbox, geometry types and CRS of the unchanged geometries).
    """

    rows: int
    row_groups: int
    schema: pa.Schema
    geometry: str
    geo: dict


def _geo_metadata(path: Path, schema: pa.Schema) -> tuple[str, dict]:
    """The primary geometry column and the ``geo`` metadata, or :class:`InputError`."""
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        raise InputError(str(path), "is Parquet but not GeoParquet (no 'geo' metadata, so no geometry or CRS)",
                         _WRITE_FIX)
    try:
        geo = json.loads(raw)
        name = geo["primary_column"]
        column = geo["columns"][name]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(str(path), f"the 'geo' metadata cannot be read ({exc!r})", _WRITE_FIX) from exc
    return name, geo | {"_column": column}


def check_history(path: str | Path) -> HistoryInfo:
    """Check a history file before any worker starts; every refusal names the file and the fix.

    Parameters
    ----------
    path : str or Path
        The history GeoParquet file.

    Returns
    -------
    HistoryInfo

    Raises
    ------
    InputError
        Missing file, not Parquet, not GeoParquet, no ``case_id`` column, geometries that are not
        points, or no CRS.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "file not found", "check the path (a GeoParquet file of cases)")
    try:
        meta = pq.read_metadata(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(str(path), "is not a Parquet file", _WRITE_FIX) from exc
    schema = meta.schema.to_arrow_schema()
    name, geo = _geo_metadata(path, schema)
    if CASE_ID not in schema.names:
        raise InputError(str(path), f"no {CASE_ID} column (columns: {few(schema.names, 8)})",
                         f"name the case identifier column {CASE_ID}, e.g. gdf.rename(columns={{'id': '{CASE_ID}'}})")
    column = geo.pop("_column")
    types = set(column.get("geometry_types") or [])
    if types - _POINT_TYPES:
        raise InputError(str(path), f"the geometry column {name!r} holds {few(sorted(types))}, not points",
                         POINTS_FIX)
    if "crs" in column and column["crs"] is None:
        raise InputError(str(path), f"the geometry column {name!r} has no CRS",
                         "set it and write again, e.g. gdf.set_crs('EPSG:4490').to_parquet(path)")
    return HistoryInfo(rows=meta.num_rows, row_groups=meta.num_row_groups, schema=schema, geometry=name, geo=geo)


def default_partitions(info: HistoryInfo, rows_per_partition: int) -> int:
    """One partition per ``rows_per_partition`` rows (at least one)."""
    return max(1, math.ceil(info.rows / max(1, rows_per_partition)))


def hierarchy_index(hierarchy: str) -> HierarchyIndex:
    """The :class:`~geo.join.HierarchyIndex` of ``hierarchy``, built once per process (per file
    version: path, modification time and size)."""
    from geo.join import HierarchyIndex

    stat = Path(hierarchy).stat()
    key = (str(Path(hierarchy).resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _INDEXES:
        _INDEXES.clear()
        _INDEXES[key] = HierarchyIndex.from_gpkg(hierarchy)
    return _INDEXES[key]


def storage_xy(part: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (EPSG:4490 degrees) of each row's point; NaN where missing or empty.

    Raises
    ------
    NotPointsError
        A geometry is not a point.
    """
    geoms = part.geometry
    if part.crs is not None and part.crs.to_epsg() != 4490:
        geoms = geoms.to_crs(STORAGE_CRS)
    values = geoms.to_numpy()
    types = shapely.get_type_id(values)
    bad = np.flatnonzero(types > 0)
    if len(bad):
        case = part[CASE_ID].iloc[bad[0]] if CASE_ID in part.columns else f"row {int(bad[0])} of a partition"
        msg = f"case {case} holds a {values[bad[0]].geom_type}, not a point ({len(bad)} such in its partition)"
        raise NotPointsError(msg)
    x, y = np.full(len(values), np.nan), np.full(len(values), np.nan)
    has = (types == 0) & ~shapely.is_empty(values)  # getX of an empty point is an error in GEOS
    x[has], y[has] = shapely.get_x(values[has]), shapely.get_y(values[has])
    return x, y


def join_partition(part: gpd.GeoDataFrame, hierarchy: str, snap_m: float) -> gpd.GeoDataFrame:
    """One partition joined: every column of ``part`` (less any old join columns) then
    :data:`REJOIN_COLUMNS` (str, missing where none), computed by :meth:`geo.join.HierarchyIndex.join`
    exactly as ``python -m geo join`` does (``coords="wgs84"``, ``snap_m`` metres)."""
    x, y = storage_xy(part)
    joined = hierarchy_index(hierarchy).join(x, y, coords="wgs84", snap_m=snap_m)
    out = part.drop(columns=[c for c in REJOIN_COLUMNS if c in part.columns])
    for col in REJOIN_COLUMNS:
        out[col] = joined[col].set_axis(part.index)
    return out


def run_partition(part: gpd.GeoDataFrame, hierarchy: str, snap_m: float, folder: str,
                  partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    """Join one partition and write it as ``folder/part.NNNNNN.arrow`` (GeoArrow IPC with ``geo``
    metadata, uncompressed: the client's merge maps it into memory and reads it once).

    Returns
    -------
    DataFrame
        One row: ``part`` (number), ``rows`` and one count column per join status.
    """
    import pandas as pd

    number = int((partition_info or {}).get("number", 0))
    out = join_partition(part, hierarchy, snap_m)
    if len(out):
        out.to_feather(Path(folder) / part_name(number), index=False, compression="uncompressed")
    counts = out["join_status"].value_counts()
    row = {"part": number, "rows": len(out)} | {s: int(counts.get(s, 0)) for s in JOIN_STATUSES}
    return pd.DataFrame([row])


def part_name(number: int) -> str:
    """File name of partition ``number`` in the parts folder."""
    return f"part.{number:06d}.arrow"


def summary_meta() -> pd.DataFrame:
    """The empty frame :func:`run_partition` returns (Dask's ``meta``)."""
    import pandas as pd

    cols = {"part": pd.Series(dtype="int64"), "rows": pd.Series(dtype="int64")}
    return pd.DataFrame(cols | {s: pd.Series(dtype="int64") for s in JOIN_STATUSES})
