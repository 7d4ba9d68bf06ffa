"""The command map's folium layers: the static map (kept by the component across refreshes) and
the live layers drawn on it at every refresh. Thin: data comes from ``metrics.command`` and the
read APIs, layers from ``layers/``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
from folium.elements import JSCSSMixin
from sqlalchemy.orm import Session

from access.scope import Scope
from cases.queries import CaseFilter
from core.constants import LEVEL_LABELS
from core.i18n import t
from core.settings import Settings
from geo.areas import grids_in_scope
from layers.assets import offline_map
from layers.basemaps import Basemap
from layers.cases import build_case_totals_layer, build_cases_layer, legend_items
from layers.choropleth import build_choropleth_layer
from layers.compose import bounds_of
from layers.facilities import build_facilities_layer
from layers.fit import FitWhenShown
from layers.hierarchy import build_building_layer, build_selection_layer
from layers.legend import Legend
from layers.workers import build_workers_layer
from layers.zoom import BUILDINGS_MIN_ZOOM, ZoomVisibility
from metrics.command import MapData, grid_measure
from views import _data
from views._thematic import thematic_groups
from workforce.queries import positions_with_tracks


@dataclass
class MapView:
    """What the layers depend on: the caller, the language, the hierarchy and the display choices."""

    scope: Scope
    language: str
    settings: Settings
    hierarchy: dict[str, gpd.GeoDataFrame]
    basemap: Basemap
    mode: str = "cluster"
    measure: str | None = None
    show_workers: bool = True
    show_facilities: bool = True

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The grids layer."""
        return self.hierarchy["grids"]

    @property
    def home(self) -> gpd.GeoDataFrame:
        """The grids the map opens on: the caller's own area (a worker's grid, a chief's
        community), the whole district for district-wide roles."""
        return _data.home_grids(self.hierarchy, self.scope)

    @property
    def buildings_name(self) -> str:
        """The building layer's name in the layer control."""
        return LEVEL_LABELS["buildings"][self.language]


class HeatAssets(JSCSSMixin):
    """Leaflet.heat's script, loaded with the map itself: the browser loads a map's scripts only
    when the component first mounts, so a later switch to the heat display needs it already."""

    default_js = list(folium.plugins.HeatMap.default_js)


def scoped_buildings(view: MapView) -> folium.FeatureGroup | None:
    """The building outlines inside the caller's area (None when there are none)."""
    buildings = view.hierarchy.get("buildings")
    if buildings is None or len(buildings) == 0:
        return None
    mine = buildings.loc[buildings["parent_code"].astype(str).isin(grids_in_scope(view.hierarchy, view.scope.allows))]
    if len(mine) == 0:
        return None
    return build_building_layer(mine, name=view.buildings_name, show=False, lang=view.language, basemap=view.basemap)


def base_map(view: MapView) -> folium.Map:
    """Basemap, hierarchy, facilities and the state legend on a fresh offline map, opened on the
    caller's own area (:attr:`MapView.home`).

    Building outlines (楼栋) of the caller's area are drawn from zoom ``BUILDINGS_MIN_ZOOM`` on
    (``layers.zoom.ZoomVisibility``, as on the hierarchy page) and hidden when zoomed out.
    """
    bounds = bounds_of(view.home)
    (south, west), (north, east) = bounds
    fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12)
    for layer in view.basemap.tile_layers(name=t("layer_basemap", view.language)):
        layer.add_to(fmap)
    zoomed, seen = [], False
    for group in _data.hierarchy_layers(view.settings.hierarchy_path, view.language, view.settings.basemap):
        if group.layer_name == view.buildings_name:
            seen = True
            group = group if view.scope.whole_district else scoped_buildings(view)
            if group is None:
                continue
            zoomed.append(group)
        group.add_to(fmap)
    if not seen and (group := scoped_buildings(view)) is not None:  # the cached layers came without buildings
        group.add_to(fmap)
        zoomed.append(group)
    for group in zoomed:
        fmap.add_child(ZoomVisibility(group, min_zoom=BUILDINGS_MIN_ZOOM))
    facilities = _data.facilities(view.settings.demo_dir / "facilities.csv") if view.show_facilities else None
    if facilities is not None and len(facilities):
        build_facilities_layer(facilities, name=t("layer_facilities", view.language), lang=view.language,
                               basemap=view.basemap).add_to(fmap)
    for group in thematic_groups(view):  # 多网合一: off when the map opens, in the layer control
        group.add_to(fmap)
    fmap.add_child(HeatAssets())  # localized to static/vendor by the offline map
    fmap.add_child(Legend(t("legend_states", view.language), legend_items(view.language), key="states",
                          css="gc-legend-2col"))
    fmap.fit_bounds(bounds)
    fmap.add_child(FitWhenShown(bounds))
    return fmap


def live_layers(session: Session, view: MapView, data: MapData, *, flt: CaseFilter, now: datetime,
                selected: str | None) -> list[Any]:
    """Choropleth, workers, the selected grid's buildings and the cases (bottom to top)."""
    groups: list[Any] = []
    language, basemap, grids = view.language, view.basemap, view.grids
    if view.measure:
        values = grid_measure(view.measure, data=data, hierarchy=view.hierarchy, session=session, scope=view.scope,
                              flt=flt, now=now)
        groups.append(build_choropleth_layer(grids, values=values, measure=view.measure, lang=language,
                                             name=t("layer_choropleth", language), basemap=basemap))
    if view.show_workers and view.scope.records_allowed:
        positions, tracks = positions_with_tracks(session, view.scope, grid_code=selected)
        groups.append(build_workers_layer(positions, tracks=tracks, now=now, lang=language, basemap=basemap,
                                          name=t("layer_workers", language)))
    buildings = view.hierarchy.get("buildings")
    if selected and buildings is not None and len(buildings):
        inside = buildings.loc[buildings["parent_code"].astype(str) == str(selected)]
        if len(inside):
            groups.append(build_building_layer(inside, name=view.buildings_name, show=True,
                                               lang=language, basemap=basemap))
    if selected:
        groups.append(build_selection_layer(grids, selected, name=t("grid_panel", language), lang=language,
                                            basemap=basemap))
    name = t("layer_cases", language)
    if not data.points and data.grid_counts is not None:
        totals = data.grid_counts.rename(columns={"open_cases": "open"})
        groups.append(build_case_totals_layer(totals, grids=grids, alerts=data.alerts, name=name,
                                              lang=language, basemap=basemap))
    else:
        groups.append(build_cases_layer(data.shown, name=name, lang=language, mode=view.mode, grids=grids,
                                        basemap=basemap))
    return groups


