"""Map features that carry an escaped tooltip each: the folium wiring, written once.

Two forms: GeoJSON features (polygons, outlines, circle points) whose ``tip`` property shows as a
sticky tooltip (:func:`tooltip_geojson_layer`), and div-icon points placed from lon/lat degrees
(:func:`tooltip_markers`). Tooltips and icons must already be escaped HTML (``layers._html``):
folium and Leaflet put them into ``innerHTML`` as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium
import numpy as np

from layers._points import DivMarkers
from layers.basemaps import Basemap

#: CSS class of the tooltips (the map stylesheet's ``.gc-tooltip``).
TOOLTIP_CLASS = "gc-tooltip"


def tooltip_geojson_layer(
    features: dict,
    *,
    name: str,
    show: bool,
    style: Callable[[dict], dict],
    highlight: Callable[[dict], dict] | None = None,
    marker: folium.CircleMarker | None = None,
) -> folium.FeatureGroup:
    """A toggleable layer of GeoJSON features, each with a sticky tooltip of its ``tip`` property.

    Parameters
    ----------
    features : dict
        A GeoJSON FeatureCollection (``layers._geometry.feature_collection``) in EPSG:4326
        degrees, already moved into the basemap's coordinates; every feature has a ``tip``
        property of escaped HTML.
    name, show
        Layer name in the layer control, initial visibility.
    style, highlight
        folium's ``style_function`` and ``highlight_function`` (feature -> Leaflet path options).
    marker : folium.CircleMarker, optional
        Draws point features as this circle instead of Leaflet's pin.

    Returns
    -------
    folium.FeatureGroup
        Holding the one ``GeoJson``; a caller may add more (labels, a legend).
    """
    group = folium.FeatureGroup(name=name, show=show)
    tooltip = folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True, class_name=TOOLTIP_CLASS)
    folium.GeoJson(features, style_function=style, highlight_function=highlight, marker=marker, name=name,
                   tooltip=tooltip).add_to(group)
    return group


def tooltip_markers(
    lon: np.ndarray,
    lat: np.ndarray,
    icons: Sequence[str],
    tips: Sequence[str | None],
    *,
    basemap: Basemap,
    class_name: str,
    size: tuple[int, int],
    interactive: bool = True,
    z_offset: int = 0,
) -> DivMarkers:
    """Div-icon points at lon/lat, each with its tooltip, as one map element.

    Parameters
    ----------
    lon, lat : array-like
        One point each, EPSG:4326 or EPSG:4490 degrees (the same at map scale); moved here into
        the basemap's coordinates and rounded to 6 decimals.
    icons : sequence of str
        Each point's icon HTML (escaped).
    tips : sequence of str or None
        Each point's tooltip HTML (escaped), None for no tooltip.
    basemap : Basemap
        GCJ-02 for AMap.
    class_name, size, interactive, z_offset
        As for :class:`layers._points.DivMarkers`.

    Returns
    -------
    DivMarkers
        To add to a layer.
    """
    x, y = basemap.shift_lonlat(lon, lat)
    rows = [[round(float(py), 6), round(float(px), 6), icon, tip]
            for px, py, icon, tip in zip(x, y, icons, tips, strict=True)]
    return DivMarkers(rows, class_name=class_name, size=size, interactive=interactive, z_offset=z_offset)
