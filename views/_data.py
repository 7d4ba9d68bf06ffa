"""Cached readers for the pages (the only place that uses ``st.cache_data``).

Each cache is keyed on the file's path and modification time, so a rebuilt file is re-read.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from access.scope import Scope
from core.settings import BasemapSettings
from geo.areas import grids_in_scope


@st.cache_data(show_spinner=False, max_entries=4)
def _read_hierarchy(path: str, mtime_ns: int) -> dict[str, gpd.GeoDataFrame]:
    from geo import read_hierarchy

    return dict(read_hierarchy(Path(path)))


def hierarchy_or_stop(path: Path, language: str) -> dict[str, gpd.GeoDataFrame]:
    """The hierarchy at ``path``; when the file is missing, a warning naming the fix and ``st.stop()``."""
    layers = hierarchy(path)
    if layers is None:
        from core.i18n import t

        st.warning(t("hierarchy_missing", language, path=path))
        st.stop()
        return {}  # st.stop() ends the run; never reached
    return layers


def hierarchy(path: Path) -> dict[str, gpd.GeoDataFrame] | None:
    """The hierarchy at ``path`` (``geo.read_hierarchy``), or None when the file is missing."""
    path = Path(path)
    if not path.exists():
        return None
    return _read_hierarchy(str(path.resolve()), path.stat().st_mtime_ns)


def engine(url: str) -> Engine:
    """The case store's SQLAlchemy engine: the one :func:`views._auth.engine_for` keeps per server
    process and URL (one connection pool per process)."""
    from views._auth import engine_for

    return engine_for(url)


#: Column names of the demo district's facilities.csv and their English keys.
_FACILITY_COLUMNS = {"名称": "name", "类型": "kind", "经度": "lon", "纬度": "lat", "社区编码": "community_code"}


@st.cache_data(show_spinner=False, max_entries=2)
def _read_facilities(path: str, mtime_ns: int) -> pd.DataFrame:
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    frame = frame.rename(columns=_FACILITY_COLUMNS)
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
    return frame


def facilities(path: Path) -> pd.DataFrame | None:
    """Service facilities (``name``, ``kind``, ``lon``, ``lat``) from a facilities CSV, if present."""
    path = Path(path)
    if not path.exists():
        return None
    return _read_facilities(str(path.resolve()), path.stat().st_mtime_ns)


@st.cache_resource(show_spinner=False, max_entries=8)
def _hierarchy_layers(path: str, mtime_ns: int, lang: str, basemap: BasemapSettings) -> list:
    from layers.basemaps import build_basemap
    from layers.compose import freeze
    from layers.hierarchy import build_hierarchy_layers

    built = build_hierarchy_layers(_read_hierarchy(path, mtime_ns), lang=lang, basemap=build_basemap(basemap),
                                   include_buildings=True)
    return [freeze(layer) for layer in built]


def hierarchy_layers(path: Path, lang: str, basemap: BasemapSettings) -> list:
    """The hierarchy's folium layers for a fresh map (``layers.compose.FrozenLayer``).

    Built, simplified and rendered to JavaScript once per file, language and basemap; each call
    returns new layer objects sharing that JavaScript, so a page run neither copies nor
    re-renders the GeoJSON. Hidden layers (building outlines) are created in the browser only
    when first shown.
    """
    path = Path(path)
    built = _hierarchy_layers(str(path.resolve()), path.stat().st_mtime_ns, lang, basemap)
    return [layer.fresh() for layer in built]


@st.cache_data(show_spinner=False, max_entries=4)
def _neighbours(path: str, mtime_ns: int, within_m: float, metric_crs: str) -> dict[str, list[str]]:
    from geo.areas import neighbouring_grids

    return neighbouring_grids(_read_hierarchy(path, mtime_ns)["grids"], within_m=within_m, metric_crs=metric_crs)


def neighbours(path: Path, *, within_m: float, metric_crs: str) -> dict[str, list[str]]:
    """Grid code -> neighbouring grid codes within ``within_m`` metres (``geo.areas.neighbouring_grids``),
    computed once per hierarchy file."""
    path = Path(path)
    return _neighbours(str(path.resolve()), path.stat().st_mtime_ns, within_m, metric_crs)


def home_grids(hierarchy: dict[str, gpd.GeoDataFrame], scope: Scope) -> gpd.GeoDataFrame:
    """The grids a map opens on: the caller's own area (a worker's grid, a chief's community), the
    whole district for district-wide roles (and when the area has no grid on the map)."""
    grids = hierarchy["grids"]
    if scope.whole_district:
        return grids
    mine = grids.loc[grids["code"].astype(str).isin(grids_in_scope(hierarchy, scope.allows))]
    return mine if len(mine) else grids
