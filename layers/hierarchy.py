"""Hierarchy layers: grid boundaries, community and street outlines, building outlines.

The normalised hierarchy (``geo.read_hierarchy``) arrives as one GeoDataFrame per level with
columns ``code``, ``name``, ``parent_code`` and ``geometry`` in the storage CRS. This module is
the folium boundary: it simplifies each level as a coverage (``shapely.coverage_simplify`` in a
metric CRS, so neighbouring grids keep one shared edge and no gap opens), reprojects to
EPSG:4326 and sends only escaped text to the browser.

Every grid is one GeoJSON feature, so Leaflet draws exactly one SVG ``<path>`` per grid, with
the CSS class :data:`GRID_CLASS` (communities :data:`COMMUNITY_CLASS`, streets
:data:`STREET_CLASS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd

from core.constants import DEFAULT_METRIC_CRS, LEVEL_LABELS
from core.i18n import t
from layers._geometry import DISPLAY_TOLERANCE_M, display_coverage, feature_collection
from layers._html import esc, rows_html
from layers._tooltips import tooltip_geojson_layer, tooltip_markers
from layers.basemaps import NO_BASEMAP, Basemap

GRID_CLASS = "gc-grid"
COMMUNITY_CLASS = "gc-community"
STREET_CLASS = "gc-street"
BUILDING_CLASS = "gc-building"
LABEL_CLASS = "gc-label"

#: Soft qualitative fills, one per community (cycled).
COMMUNITY_PALETTE: tuple[str, ...] = (
    "#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
    "#bc80bd", "#ccebc5", "#ffed6f", "#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6",
    "#e5c494", "#66c2a5", "#fc8d62", "#8da0cb",
)
GRID_STROKE = "#4a5560"
COMMUNITY_STROKE = "#1f4e79"
STREET_STROKE = "#b03a2e"

_REQUIRED = ("code", "name", "geometry")


def _check_level(gdf: gpd.GeoDataFrame, level: str) -> None:
    missing = [c for c in _REQUIRED if c not in gdf.columns]
    if missing:
        msg = (f"hierarchy level {level!r} lacks column(s) {', '.join(missing)}; "
               f"expected code, name, parent_code, geometry (fix: rebuild with `python -m geo build`)")
        raise ValueError(msg)


def _as_displayed(gdf: gpd.GeoDataFrame, level: str, basemap: Basemap) -> gpd.GeoDataFrame:
    """Features of hierarchy ``level`` as drawn, unsimplified: EPSG:4326, moved into the basemap's
    coordinates (GCJ-02 for AMap)."""
    _check_level(gdf, level)
    if gdf.crs is None:
        msg = f"hierarchy level {level!r} has no CRS (fix: rebuild with `python -m geo build`)"
        raise ValueError(msg)
    shown = gdf.to_crs("EPSG:4326")
    if basemap.gcj02 and len(shown):
        shown = shown.set_geometry(basemap.shift_geometries(shown.geometry.to_numpy()), crs=shown.crs)
    return shown


def _names(gdf: gpd.GeoDataFrame | None) -> dict[str, str]:
    if gdf is None or len(gdf) == 0:
        return {}
    return dict(zip(gdf["code"].astype(str), gdf["name"].astype(str), strict=True))


def _parents(gdf: gpd.GeoDataFrame | None) -> dict[str, str]:
    if gdf is None or len(gdf) == 0 or "parent_code" not in gdf.columns:
        return {}
    return dict(zip(gdf["code"].astype(str), gdf["parent_code"].astype(str), strict=True))


def build_grid_layer(
    grids: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Grid boundaries, one SVG path per grid, filled by community, tooltip on hover.

    Parameters
    ----------
    grids : GeoDataFrame
        Columns ``code``, ``name``, ``parent_code`` (community code); polygons in any set CRS.
    name : str
        Layer name shown in the layer control.
    show : bool
        Whether the layer is on when the map opens.
    lang : {"zh", "en"}
        Language of the tooltip labels.
    communities, streets : GeoDataFrame, optional
        Parent levels, only for the names shown in the tooltip.
    metric_crs : str
        Projected CRS for simplification.
    tolerance_m : float
        Simplification tolerance in metres.
    basemap : Basemap
        Geometry is moved into the basemap's coordinates (GCJ-02 for AMap).

    Returns
    -------
    folium.FeatureGroup
        Holding one ``GeoJson`` with one feature per grid (CSS class ``gc-grid``).
    """
    _check_level(grids, "grids")
    shown = display_coverage(grids, source="hierarchy: grids", metric_crs=metric_crs,
                             tolerance_m=tolerance_m, basemap=basemap)
    community_names = _names(communities)
    street_of = _parents(communities)
    street_names = _names(streets)
    codes = shown["code"].astype(str).tolist()
    parents = (shown["parent_code"].astype(str).tolist() if "parent_code" in shown.columns
               else [""] * len(shown))
    community_order = {c: i for i, c in enumerate(sorted(set(parents)))}
    tips, fills = [], []
    for code, grid_name, parent in zip(codes, shown["name"].tolist(), parents, strict=True):
        rows = [(t("grid_code", lang), code)]
        if parent in community_names:
            rows.append((LEVEL_LABELS["communities"][lang], community_names[parent]))
        street = street_of.get(parent)
        if street in street_names:
            rows.append((LEVEL_LABELS["streets"][lang], street_names[street]))
        tips.append(rows_html(rows, title=f"{LEVEL_LABELS['grids'][lang]} {grid_name}"))
        fills.append(COMMUNITY_PALETTE[community_order[parent] % len(COMMUNITY_PALETTE)])
    data = feature_collection(shown, {"code": [esc(c) for c in codes], "tip": tips, "fill": fills})

    def style(feature: dict) -> dict:
        return {
            "className": GRID_CLASS,
            "color": GRID_STROKE,
            "weight": 0.8,
            "opacity": 0.9,
            "fillColor": feature["properties"]["fill"],
            "fillOpacity": 0.35,
        }

    def highlight(_feature: dict) -> dict:
        return {"weight": 2.5, "color": "#111111", "fillOpacity": 0.55}

    return tooltip_geojson_layer(data, name=name, show=show, style=style, highlight=highlight)


def _outline_layer(
    gdf: gpd.GeoDataFrame,
    *,
    level: str,
    name: str,
    show: bool,
    lang: str,
    css_class: str,
    color: str,
    weight: float,
    dash: str | None,
    parent_names: Mapping[str, str],
    labels: bool,
    metric_crs: str,
    tolerance_m: float,
    basemap: Basemap,
) -> folium.FeatureGroup:
    _check_level(gdf, level)
    shown = display_coverage(gdf, source=f"hierarchy: {level}", metric_crs=metric_crs,
                             tolerance_m=tolerance_m, basemap=basemap)
    codes = shown["code"].astype(str).tolist()
    names = shown["name"].astype(str).tolist()
    parents = (shown["parent_code"].astype(str).tolist() if "parent_code" in shown.columns
               else [""] * len(shown))
    parent_level = "streets" if level == "communities" else None
    tips = []
    for code, level_name, parent in zip(codes, names, parents, strict=True):
        rows = [(t("code", lang), code)]
        if parent_level and parent in parent_names:
            rows.append((LEVEL_LABELS[parent_level][lang], parent_names[parent]))
        tips.append(rows_html(rows, title=f"{LEVEL_LABELS[level][lang]} {level_name}"))
    data = feature_collection(shown, {"code": [esc(c) for c in codes], "tip": tips})
    line = {"className": css_class, "color": color, "weight": weight, "opacity": 0.95,
            "fill": False}
    if dash:
        line["dashArray"] = dash
    group = tooltip_geojson_layer(data, name=name, show=show, style=lambda _f: dict(line))
    if labels:
        metric = gdf.to_crs(metric_crs)
        points = metric.geometry.representative_point().to_crs("EPSG:4326")
        icons = [f'<div class="{LABEL_CLASS} {LABEL_CLASS}-{level}">{esc(level_name)}</div>' for level_name in names]
        group.add_child(tooltip_markers(points.x.to_numpy(), points.y.to_numpy(), icons, [None] * len(icons),
                                        basemap=basemap, class_name="gc-label-icon", size=(0, 0), interactive=False))
    return group


def build_community_layer(
    communities: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    streets: gpd.GeoDataFrame | None = None,
    labels: bool = True,
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Community/village outlines (CSS class ``gc-community``) with name labels.

    Parameters
    ----------
    communities : GeoDataFrame
        Columns ``code``, ``name``, ``parent_code`` (street code); polygons in any set CRS.
    name, show, lang
        As in :func:`build_grid_layer`.
    streets : GeoDataFrame, optional
        For the street name in the tooltip.
    labels : bool
        Draw each community's name (escaped) at a point inside it.

    Returns
    -------
    folium.FeatureGroup
    """
    return _outline_layer(
        communities, level="communities", name=name, show=show, lang=lang,
        css_class=COMMUNITY_CLASS, color=COMMUNITY_STROKE, weight=2.2, dash=None,
        parent_names=_names(streets), labels=labels, metric_crs=metric_crs,
        tolerance_m=tolerance_m, basemap=basemap,
    )


def build_street_layer(
    streets: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Street (街道) outlines, CSS class ``gc-street``; parameters as in
    :func:`build_community_layer`."""
    return _outline_layer(
        streets, level="streets", name=name, show=show, lang=lang, css_class=STREET_CLASS,
        color=STREET_STROKE, weight=3.5, dash="8 5", parent_names={}, labels=False,
        metric_crs=metric_crs, tolerance_m=tolerance_m, basemap=basemap,
    )


def build_building_layer(
    buildings: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = False,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Building (楼栋) footprints, CSS class ``gc-building``, tooltip "name · code" (plain text).

    Buildings do not form a coverage, so they are sent unsimplified; hidden by default.

    Parameters
    ----------
    buildings : GeoDataFrame
        Columns ``code``, ``name``; polygons in any set CRS.

    Returns
    -------
    folium.FeatureGroup
    """
    shown = _as_displayed(buildings, "buildings", basemap)
    # one escaped line per building (no HTML table): thousands of buildings make up most of a map's payload
    tips = [esc(f"{n} · {c}") for c, n in zip(shown["code"].astype(str), shown["name"].astype(str), strict=True)]
    data = feature_collection(shown, {"tip": tips})
    style = {"className": BUILDING_CLASS, "color": "#6b5b4b", "weight": 0.6, "fillColor": "#c9b79c",
             "fillOpacity": 0.6}
    return tooltip_geojson_layer(data, name=name, show=show, style=lambda _f: dict(style))


def build_hierarchy_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "zh",
    show: Mapping[str, bool] | None = None,
    include_buildings: bool = False,
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> list[folium.FeatureGroup]:
    """All hierarchy layers, bottom to top: grids, (buildings), communities, streets.

    Parameters
    ----------
    layers : mapping of level -> GeoDataFrame
        As returned by ``geo.read_hierarchy``; ``grids`` is required, other levels optional.
    lang : {"zh", "en"}
    show : mapping of level -> bool, optional
        Which layers are on when the map opens (default: all but buildings).
    include_buildings : bool
        Also build the building layer (large; off by default).
    basemap : Basemap
        Every geometry is moved into the basemap's coordinates (GCJ-02 for AMap).

    Returns
    -------
    list of folium.FeatureGroup
        Add them to the map in order, then a ``folium.LayerControl`` last.
    """
    if "grids" not in layers:
        msg = "hierarchy has no 'grids' level (fix: rebuild with `python -m geo build`)"
        raise ValueError(msg)
    shown = {"streets": True, "communities": True, "grids": True, "buildings": False}
    shown.update(show or {})
    streets = layers.get("streets")
    communities = layers.get("communities")
    opts: dict[str, Any] = {"metric_crs": metric_crs, "tolerance_m": tolerance_m, "basemap": basemap}
    out = [build_grid_layer(layers["grids"], name=LEVEL_LABELS["grids"][lang], show=shown["grids"],
                            lang=lang, communities=communities, streets=streets, **opts)]
    if include_buildings and layers.get("buildings") is not None and len(layers["buildings"]):
        out.append(build_building_layer(layers["buildings"], name=LEVEL_LABELS["buildings"][lang],
                                        show=shown["buildings"], lang=lang, basemap=basemap))
    if communities is not None and len(communities):
        out.append(build_community_layer(communities, name=LEVEL_LABELS["communities"][lang],
                                         show=shown["communities"], lang=lang, streets=streets,
                                         **opts))
    if streets is not None and len(streets):
        out.append(build_street_layer(streets, name=LEVEL_LABELS["streets"][lang],
                                      show=shown["streets"], lang=lang, **opts))
    return out


SELECTED_CLASS = "gc-selected"


def build_selection_layer(
    grids: gpd.GeoDataFrame,
    code: str,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """A thick outline around the grid ``code`` (the one the operator clicked); not clickable.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code`` and polygons in any set CRS.
    code : str
        The selected grid's code; an unknown code gives an empty layer.

    Returns
    -------
    folium.FeatureGroup
    """
    _check_level(grids, "grids")
    chosen = _as_displayed(grids.loc[grids["code"].astype(str) == str(code)], "grids", basemap)
    group = folium.FeatureGroup(name=name, show=show)
    if len(chosen):
        line = {"className": SELECTED_CLASS, "color": "#ff6f00", "weight": 4, "opacity": 1.0,
                "fill": False, "interactive": False}
        folium.GeoJson(feature_collection(chosen, {}), style_function=lambda _f: dict(line),
                       name=name).add_to(group)
    return group
