"""The hierarchy page's 15-minute service circle section: a facility type's walking-time isochrones,
the buildings left outside and the suggested new service points on a map; the share outside per
community or grid; the gaps ranked by households a new point would cover; the per-building export.

Thin wiring: figures from ``geo.service_circle``/``geo.service_gaps`` (cached in
:mod:`views._thematic`), map layers from ``layers.service_circle``. Inputs are the demo folder's
``roads.shp``, ``facilities.csv`` and (for households) ``buildings.shp``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core.constants import LEVEL_LABELS
from core.i18n import t
from core.settings import Settings
from core.spreadsheet import to_bytes
from geo.service_circle import DEFAULT_MINUTES, DEFAULT_SPEED_M_S, outside_table, totals
from layers.compose import assemble
from layers.facilities import build_facilities_layer
from layers.service_circle import build_isochrone_layer, build_outside_layer, build_sites_layer
from views import _data, _thematic


def _outside_rows(result: Any, kind: str) -> pd.DataFrame:
    """Buildings of ``kind`` beyond the largest band (or unreachable), with their lon/lat."""
    rows = result.rows.loc[result.rows["facility_type"] == kind].reset_index(drop=True)
    lon, lat = _thematic.building_lonlat(result)
    rows = rows.assign(lon=lon, lat=lat)
    return rows.loc[~(rows["walk_min"].astype(float) <= max(result.minutes))]


def _map(result: Any, kind: str, cfg: Settings, lang: str, basemap: Any, bounds: list[list[float]]) -> None:
    largest = f"{max(result.minutes):g}"
    facilities = result.facilities.loc[result.facilities["type"] == kind].rename(columns={"type": "kind"})
    outlines = [layer for layer in _data.hierarchy_layers(cfg.hierarchy_path, lang, cfg.basemap)
                if layer.layer_name == LEVEL_LABELS["communities"][lang]]  # for orientation
    layers = [*outlines,
        build_isochrone_layer(_thematic.isochrones_of(result, kind), name=t("service_iso_layer", lang), lang=lang,
                              metric_crs=result.network.metric_crs, basemap=basemap),
        build_outside_layer(_outside_rows(result, kind), name=t("service_outside_layer", lang, minutes=largest),
                            lang=lang, basemap=basemap),
        build_facilities_layer(facilities, name=f"{t('layer_facilities', lang)} · {kind}", lang=lang, basemap=basemap),
        build_sites_layer(_thematic.gaps_of(result, kind), name=t("service_sites_layer", lang), lang=lang,
                          basemap=basemap),
    ]
    st_folium(assemble(layers, bounds=bounds, tile_layers=basemap.tile_layers(name=t("layer_basemap", lang))),
              key="service_map", height=520, use_container_width=True, returned_objects=[])


def _area_table(result: Any, kind: str, level: str, lang: str, names: dict[str, str]) -> pd.DataFrame:
    table = outside_table(result, level=level)
    table = table.loc[table["facility_type"] == kind]
    shown = pd.DataFrame({t("service_area", lang): table["code"].map(lambda c: f"{names.get(c, '')} {c}".strip()),
                          t("cw_buildings", lang): table["buildings"]})
    if result.households_known:
        shown[t("service_households", lang)] = table["households"].astype(int)
    for m in result.minutes:
        shown[t("service_outside_buildings", lang, minutes=f"{m:g}")] = table[f"outside_{m:g}"]
        shown[t("service_outside_share", lang, minutes=f"{m:g}")] = (100 * table[f"share_outside_{m:g}"]).round(1)
    last = t("service_outside_share", lang, minutes=f"{max(result.minutes):g}")
    return shown.sort_values(last, ascending=False)


def _gaps_table(result: Any, kind: str, lang: str) -> None:
    gaps = _thematic.gaps_of(result, kind)
    st.markdown(f"**{t('service_gaps', lang)}**")
    if not len(gaps):
        st.caption(t("service_gaps_none", lang))
        return
    st.dataframe(pd.DataFrame({
        t("service_rank", lang): gaps["rank"], t("service_site_building", lang): gaps["building_code"],
        t("cw_grid", lang): gaps["grid_code"], t("service_site_households", lang): gaps["households"],
        t("cw_buildings", lang): gaps["buildings"],
        t("service_cumulative", lang): (100 * gaps["share_covered"]).round(1).astype(str) + " %",
    }), hide_index=True, width="stretch", key="sc_gaps")


def service_section(cfg: Settings, lang: str, basemap: Any, bounds: list[list[float]],
                    hierarchy: dict[str, Any]) -> None:
    """The service circle of the demo folder's roads and facilities over the hierarchy's buildings."""
    folder = cfg.demo_dir
    roads, facilities, buildings = folder / "roads.shp", folder / "facilities.csv", folder / "buildings.shp"
    if not (roads.exists() and facilities.exists()) or not len(hierarchy.get("buildings", [])):
        st.caption(t("service_missing", lang, path=folder))
        return
    speed = st.number_input(t("service_speed", lang), min_value=0.5, max_value=2.5, value=DEFAULT_SPEED_M_S,
                            step=0.1, key="sc_speed")
    result = _thematic.service_result(cfg.hierarchy_path, roads, facilities,
                                      buildings if buildings.exists() else None, speed=speed,
                                      minutes=DEFAULT_MINUTES, metric_crs=cfg.metric_crs)
    if result is None:
        st.caption(t("service_missing", lang, path=folder))
        return
    kind = st.selectbox(t("service_type", lang), result.types, key="sc_type")
    st.caption(t("service_note", lang, speed=f"{result.speed:g}"))
    figures = totals(result).set_index("facility_type").loc[kind]
    for column, m in zip(st.columns(len(result.minutes)), result.minutes, strict=True):
        share = 100 * figures[f"share_outside_{m:g}"]
        column.metric(t("service_outside_share", lang, minutes=f"{m:g}"), f"{share:.1f} %")
    _map(result, kind, cfg, lang, basemap, bounds)
    names = {str(c): str(n) for level in ("communities", "grids") if level in hierarchy
             for c, n in zip(hierarchy[level]["code"], hierarchy[level]["name"], strict=True)}
    by_community, by_grid = st.tabs([t("service_by_community", lang), t("service_by_grid", lang)])
    with by_community:
        st.dataframe(_area_table(result, kind, "community_code", lang, names), hide_index=True, width="stretch",
                     key="sc_communities")
    with by_grid:
        st.dataframe(_area_table(result, kind, "grid_code", lang, names), hide_index=True, width="stretch",
                     height=300, key="sc_grids")
    _gaps_table(result, kind, lang)
    rows = result.rows.loc[result.rows["facility_type"] == kind]
    st.download_button(t("service_export", lang), to_bytes(rows, "csv"), file_name=f"service_circle_{kind}.csv",
                       mime="text/csv", key="sc_csv")
