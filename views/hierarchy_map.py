"""Page: the grid hierarchy (street → community/village → grid) on the offline map, with the thematic
grids (toggled in the layer control), their crosswalk and the 15-minute service circle."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from core.constants import LEVEL_LABELS, LEVELS
from core.i18n import t
from layers.basemaps import build_basemap
from layers.compose import assemble, bounds_of
from layers.zoom import BUILDINGS_MIN_ZOOM, ZoomVisibility
from views import _data, _service, _thematic
from views._auth import require_page
from views._state import lang, settings

user = require_page("hierarchy")
language = lang()
path = settings().hierarchy_path
st.title(t("page_hierarchy", language))
layers = _data.hierarchy_or_stop(path, language)

st.caption(t("hierarchy_caption", language))
columns = st.columns(len(LEVELS))
for column, level in zip(columns, LEVELS, strict=True):
    gdf = layers.get(level)
    column.metric(t(f"count_{level}", language), 0 if gdf is None else len(gdf))

cfg = settings()
base = build_basemap(cfg.basemap)
overlays = _data.hierarchy_layers(path, language, cfg.basemap)
overlays += _thematic.theme_layers(path, language, base)
# building outlines (楼栋) appear from zoom BUILDINGS_MIN_ZOOM on
buildings = [layer for layer in overlays if layer.layer_name == LEVEL_LABELS["buildings"][language]]
home = bounds_of(_data.home_grids(layers, user.scope))
st_folium(
    assemble(overlays, bounds=home,
             tile_layers=base.tile_layers(name=t("layer_basemap", language)),
             extra=[ZoomVisibility(layer, min_zoom=BUILDINGS_MIN_ZOOM) for layer in buildings]),
    key="hierarchy_map",
    height=640,
    use_container_width=True,
    returned_objects=[],
)

themes_tab, service_tab = st.tabs([t("theme_section", language), t("service_section", language)])
with themes_tab:
    _thematic.crosswalk_section(path, language, cfg.metric_crs)
with service_tab:
    _service.service_section(cfg, language, base, home, layers)
