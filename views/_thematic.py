"""Cached readers of the thematic grids and the service circle for the pages, the thematic map
layers (hierarchy and command maps), the crosswalk section and the desk's owner column.

Caches are keyed on each file's path and modification time (as :mod:`views._data`), so a rebuilt
hierarchy or a newly added theme is read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from core.i18n import TEXT, t
from core.spreadsheet import to_bytes


def _stamp(path: Path) -> tuple[str, int] | None:
    path = Path(path)
    return (str(path.resolve()), path.stat().st_mtime_ns) if path.exists() else None


def theme_label(theme: str, lang: str) -> str:
    """A theme's label (``theme_label_<name>`` in the UI text), else its name."""
    key = f"theme_label_{theme}"
    return t(key, lang) if key in TEXT else theme


@st.cache_data(show_spinner=False, max_entries=4)
def _read_themes(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    from geo.themes import read_themes

    return read_themes(path)


def themes(path: Path) -> gpd.GeoDataFrame | None:
    """Every thematic cell stored in the hierarchy at ``path`` (None when the file is missing or
    holds none)."""
    stamp = _stamp(path)
    if stamp is None:
        return None
    try:
        cells = _read_themes(*stamp)
    except Exception:  # noqa: BLE001 - an unreadable file is the hierarchy page's message, not ours
        return None
    return cells if len(cells) else None


def theme_layers(path: Path, lang: str, basemap: Any, *, show: bool = False) -> list[folium.FeatureGroup]:
    """One toggleable layer per stored theme (fresh objects for a fresh map)."""
    from layers.thematic import build_thematic_layers

    cells = themes(path)
    if cells is None:
        return []
    labels = {name: theme_label(name, lang) for name in set(cells["theme"])}
    return build_thematic_layers(cells, labels=labels, show=show, lang=lang, basemap=basemap)


def thematic_groups(view: Any) -> list[folium.FeatureGroup]:
    """The thematic layers of the command map (off when the map opens, toggled in its layer control).

    Parameters
    ----------
    view : views._command_layers.MapView or any object with ``settings`` (``hierarchy_path``),
        ``language`` and ``basemap``.
    """
    return theme_layers(view.settings.hierarchy_path, view.language, view.basemap)


@st.cache_data(show_spinner=False, max_entries=8)
def _crosswalk(path: str, mtime_ns: int, theme: str, metric_crs: str) -> dict[str, pd.DataFrame]:
    from geo import read_hierarchy
    from geo.crosswalk import crosswalk, straddling_cells, uncovered
    from geo.themes import read_themes

    layers = read_hierarchy(path)
    cells = read_themes(path, theme)
    table = crosswalk(layers["grids"], cells, metric_crs=metric_crs, buildings=layers["buildings"])
    return {"table": table, "straddles": straddling_cells(table),
            "uncovered": uncovered(layers["grids"], cells, metric_crs=metric_crs)}


def crosswalk_tables(path: Path, theme: str, metric_crs: str) -> dict[str, pd.DataFrame]:
    """``table``, ``straddles`` and ``uncovered`` of ``geo.crosswalk`` for one theme, cached."""
    stamp = _stamp(path)
    if stamp is None:
        return {}
    return _crosswalk(*stamp, theme, metric_crs)


def crosswalk_section(path: Path, lang: str, metric_crs: str) -> None:
    """The crosswalk of a chosen theme: counts, the straddling cells, the table and its export."""
    cells = themes(path)
    if cells is None:
        st.caption(t("theme_none", lang, path=path))
        return
    names = sorted(set(cells["theme"]))
    theme = st.selectbox(t("theme_pick", lang), names, format_func=lambda n: theme_label(n, lang), key="cw_theme")
    tables = crosswalk_tables(path, theme, metric_crs)
    table, cut, gaps = tables["table"], tables["straddles"], tables["uncovered"]
    a, b, c, d = st.columns(4)
    a.metric(t("theme_cells", lang), int((cells["theme"] == theme).sum()))
    b.metric(t("theme_pairs", lang), len(table))
    c.metric(t("theme_straddling", lang), len(cut))
    d.metric(t("theme_uncovered", lang), f"{gaps['uncovered_m2'].sum():,.0f}")
    st.caption(t("theme_tolerance_note", lang, tol="5%", rest="95%"))
    shown = pd.DataFrame({
        t("cw_grid", lang): table["grid_code"], t("cw_grid_name", lang): table["grid_name"],
        t("cw_cell", lang): table["theme_code"], t("theme_owner", lang): table["owner"],
        t("cw_area", lang): table["area_m2"].round(0),
        t("cw_share_grid", lang): (100 * table["share_of_grid"]).round(1),
        t("cw_share_theme", lang): (100 * table["share_of_theme"]).round(1),
        t("cw_buildings", lang): table["buildings"],
        t("cw_straddles", lang): table["straddles"].map({True: t("cw_yes", lang), False: t("cw_no", lang)})})
    st.dataframe(shown, hide_index=True, width="stretch", height=320, key="cw_table")
    left, right = st.columns(2)
    left.download_button(t("theme_export", lang), to_bytes(table, "csv"), file_name=f"crosswalk_{theme}.csv",
                         mime="text/csv", key="cw_csv")
    right.download_button(t("theme_export_xlsx", lang), to_bytes(table, "xlsx", sheet="crosswalk"),
                          file_name=f"crosswalk_{theme}.xlsx", key="cw_xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if len(gaps):
        st.caption(t("theme_uncovered_table", lang))
        st.dataframe(pd.DataFrame({
            t("cw_grid", lang): gaps["grid_code"], t("cw_grid_name", lang): gaps["grid_name"],
            t("cw_community", lang): gaps["community_code"], t("cw_grid_area", lang): gaps["grid_area_m2"].round(0),
            t("theme_uncovered", lang): gaps["uncovered_m2"].round(0),
            t("cw_uncovered_share", lang): (100 * gaps["uncovered_share"]).round(1)}),
            hide_index=True, width="stretch", height=200, key="cw_uncovered")


@st.cache_resource(show_spinner=False, max_entries=4)
def _index(path: str, mtime_ns: int) -> Any:
    from geo.themes import ThemeIndex

    return ThemeIndex(_read_themes(path, mtime_ns))


def owner_texts(rows: pd.DataFrame, path: Path, grid_workers: dict[str, str], lang: str) -> list[str]:
    """``"<grid worker> / <theme>: <cell> <owner>; ..."`` for each case row (``grid_code``, ``lon``,
    ``lat`` in EPSG:4490): the base grid's worker beside the owner of each thematic cell it lies in."""
    workers = [grid_workers.get(str(g), "—") for g in rows.get("grid_code", pd.Series([""] * len(rows)))]
    stamp = _stamp(path)
    cells = themes(path)
    if stamp is None or cells is None or not len(rows):
        return workers
    index = _index(*stamp)
    lon = pd.to_numeric(rows["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(rows["lat"], errors="coerce").to_numpy(float)
    parts: list[list[str]] = [[] for _ in range(len(rows))]
    for theme in index.themes:
        found = index.locate(lon, lat, theme)
        for i, (code, owner) in enumerate(zip(found["code"], found["owner"], strict=True)):
            if code:
                parts[i].append(f"{theme_label(theme, lang)}: {code} {owner or '—'}")
    return [f"{w} / {'; '.join(p)}" if p else w for w, p in zip(workers, parts, strict=True)]


# --- the service circle ---------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _service(stamps: tuple, speed: float, minutes: tuple[float, ...], metric_crs: str) -> Any:
    from geo import read_hierarchy
    from geo.network import build_network, read_roads
    from geo.service_circle import service_circle
    from geo.service_inputs import read_facilities, read_households

    (h_path, _), (r_path, _), (f_path, _), households = stamps
    layers = read_hierarchy(h_path)
    roads, _ = read_roads(r_path)
    hh = None
    if households is not None:
        try:
            hh = read_households(households[0])
        except Exception:  # noqa: BLE001 - households are optional: without them shares count buildings
            hh = None
    return service_circle(layers["buildings"], build_network(roads, metric_crs=metric_crs),
                          read_facilities(f_path), grids=layers["grids"], households=hh, speed=speed, minutes=minutes)


def service_result(hierarchy: Path, roads: Path, facilities: Path, households: Path | None, *, speed: float,
                   minutes: Sequence[float], metric_crs: str) -> Any:
    """``geo.service_circle.ServiceCircle`` of the files (None when one is missing), computed once per
    file versions, speed and bands."""
    stamps = [_stamp(p) for p in (hierarchy, roads, facilities)]
    if any(s is None for s in stamps):
        return None
    extra = _stamp(households) if households is not None else None
    return _service((*stamps, extra), float(speed), tuple(float(m) for m in minutes), metric_crs)


@st.cache_resource(show_spinner=False, max_entries=16)
def _isochrones(result_id: int, _result: Any, kind: str) -> gpd.GeoDataFrame:
    from geo.service_gaps import isochrones

    return isochrones(_result, kind)


def isochrones_of(result: Any, kind: str) -> gpd.GeoDataFrame:
    """The isochrones of one facility type of a cached ``result``, computed once."""
    return _isochrones(id(result), result, kind)


@st.cache_resource(show_spinner=False, max_entries=16)
def _gaps(result_id: int, _result: Any, kind: str, top: int) -> pd.DataFrame:
    from geo.service_gaps import rank_gaps

    return rank_gaps(_result, kind, top=top)


def gaps_of(result: Any, kind: str, top: int = 10) -> pd.DataFrame:
    """The ranked gaps of one facility type of a cached ``result``, computed once."""
    return _gaps(id(result), result, kind, top)


def building_lonlat(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4490 longitude and latitude of the buildings of ``result`` (row order of the buildings)."""
    from pyproj import Transformer

    back = Transformer.from_crs(result.network.metric_crs, "EPSG:4490", always_xy=True)
    lon, lat = back.transform(result.building_xy[:, 0], result.building_xy[:, 1])
    return np.asarray(lon, float), np.asarray(lat, float)
