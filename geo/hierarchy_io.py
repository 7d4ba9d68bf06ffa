"""Write and read ``hierarchy.gpkg`` (one layer per level, EPSG:4490) and write JSON, both
atomically (:func:`core.spreadsheet.replacing`: temporary file, then rename; leftovers of a killed
run are removed by the next one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from core.constants import HIERARCHY_COLUMNS, LEVELS, STORAGE_CRS
from core.errors import InputError, few
from core.spreadsheet import replacing

if TYPE_CHECKING:
    import geopandas as gpd


def empty_layer() -> gpd.GeoDataFrame:
    """An empty normalised layer (EPSG:4490)."""
    import geopandas as gpd

    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in HIERARCHY_COLUMNS},
                            geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def write_hierarchy(layers: dict, path: str | Path) -> Path:
    """Write the four levels to a GeoPackage atomically (temp file, then rename).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Normalised levels (EPSG:4490); missing ones are written empty.
    path : str or Path
        Target ``.gpkg``.
    """
    import pyogrio

    path = Path(path)
    with replacing(path) as tmp:
        for i, level in enumerate(LEVELS):
            gdf = layers.get(level)
            if gdf is None:
                gdf = empty_layer()
            gdf = gdf[[*HIERARCHY_COLUMNS, gdf.geometry.name]].copy()
            for col in HIERARCHY_COLUMNS:
                gdf[col] = gdf[col].fillna("").astype(str)
            gdf = gdf.to_crs(STORAGE_CRS)
            pyogrio.write_dataframe(gdf, tmp, layer=level, driver="GPKG", geometry_type="Unknown",
                                    append=i > 0, layer_options={"GEOMETRY_NAME": "geometry"})
    return path


def write_json_atomic(data: dict, path: str | Path) -> Path:
    """Write JSON (UTF-8, readable Chinese) atomically."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def read_hierarchy(path: str | Path) -> dict:
    """Read ``hierarchy.gpkg``.

    Parameters
    ----------
    path : str or Path
        A GeoPackage written by ``python -m geo build``.

    Returns
    -------
    dict of str to GeoDataFrame
        ``streets``, ``communities``, ``grids``, ``buildings``; columns ``code``, ``name``,
        ``parent_code`` (str, ``""`` when blank) and geometry, EPSG:4490. Missing levels are empty.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    try:
        names = {str(n) for n, *_ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(str(path), "not a readable GeoPackage", "rebuild it with `python -m geo build`") from exc
    out = {}
    for level in LEVELS:
        if level not in names:
            out[level] = empty_layer()
            continue
        gdf = pyogrio.read_dataframe(path, layer=level)
        missing = [c for c in HIERARCHY_COLUMNS if c not in gdf.columns]
        if missing:
            raise InputError(str(path), f"layer {level} lacks column(s) {few(missing)}",
                             "rebuild it with `python -m geo build`")
        for col in HIERARCHY_COLUMNS:
            gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), "").astype(str).astype(object)
        gdf = gdf[[*HIERARCHY_COLUMNS, gdf.geometry.name]]
        if gdf.crs is None:
            gdf = gdf.set_crs(STORAGE_CRS)
        elif gdf.crs.to_epsg() != 4490:
            gdf = gdf.to_crs(STORAGE_CRS)
        out[level] = gpd.GeoDataFrame(gdf, geometry=gdf.geometry.name, crs=STORAGE_CRS)
    return out
