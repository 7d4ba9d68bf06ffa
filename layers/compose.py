"""Put layers together on one offline map: base map, overlays in order, fit, layer control last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import folium
import geopandas as gpd

from core.constants import DISPLAY_CRS
from layers.assets import OfflineMap, offline_map
from layers.basemaps import NO_BASEMAP, Basemap
from layers.hierarchy import build_hierarchy_layers


def bounds_of(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of ``gdf`` in EPSG:4326 degrees (CRS must be set)."""
    if gdf.crs is None:
        msg = "cannot fit the map: the layer has no CRS (fix: set it when building the hierarchy)"
        raise ValueError(msg)
    west, south, east, north = gdf.to_crs(DISPLAY_CRS).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


def assemble(
    overlays: Iterable[folium.FeatureGroup],
    *,
    bounds: list[list[float]],
    tile_layers: Iterable[folium.TileLayer] = (),
    height: str = "100%",
    extra: Iterable[folium.Element] = (),
) -> OfflineMap:
    """A fresh offline map with ``overlays`` added in order and a LayerControl added last.

    Parameters
    ----------
    overlays : iterable of FeatureGroup
        Added bottom to top.
    bounds : [[south, west], [north, east]]
        Initial view, degrees (EPSG:4326).
    tile_layers : iterable of folium.TileLayer
        The basemap (``layers.basemaps.Basemap.tile_layers``); none keeps the plain background.
    extra : iterable of folium.Element
        Controls or macros (legends) added after the overlays, before the layer control.

    Returns
    -------
    OfflineMap
    """
    (south, west), (north, east) = bounds
    fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12,
                       height=height, prefer_canvas=False)
    for layer in tile_layers:
        layer.add_to(fmap)
    for layer in overlays:
        layer.add_to(fmap)
    for element in extra:
        fmap.add_child(element)
    fmap.fit_bounds(bounds)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def hierarchy_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> OfflineMap:
    """The hierarchy (grids, communities, streets) on a fresh offline map.

    Parameters
    ----------
    layers : mapping of level -> GeoDataFrame
        ``geo.read_hierarchy`` output; ``grids`` required.
    lang : {"zh", "en"}
    basemap : Basemap
        Tiles to draw and the coordinate shift of the overlays (GCJ-02 for AMap).

    Returns
    -------
    OfflineMap
    """
    groups = build_hierarchy_layers(layers, lang=lang, basemap=basemap)
    tiles = basemap.tile_layers(name="底图" if lang == "zh" else "Basemap")
    return assemble(groups, bounds=bounds_of(layers["grids"]), tile_layers=tiles)
