"""Thematic grids (多网合一): each theme's cells as one toggleable layer of dashed outlines.

The cells (``geo.themes.read_themes``: ``theme``, ``code``, ``name``, ``owner``, polygons in the
storage CRS) are simplified as a coverage in a metric CRS, reprojected to EPSG:4326 (moved into
GCJ-02 for AMap) and sent with escaped tooltips only. Each cell is one SVG ``<path>`` with the CSS
class :data:`THEME_CLASS`.
"""

from __future__ import annotations

import folium
import geopandas as gpd

from core.constants import DEFAULT_METRIC_CRS
from core.i18n import t
from layers._geometry import DISPLAY_TOLERANCE_M, display_coverage, feature_collection
from layers._html import esc, rows_html
from layers._tooltips import tooltip_geojson_layer
from layers.basemaps import NO_BASEMAP, Basemap

THEME_CLASS = "gc-theme"
#: Outline colours, one per theme in order (cycled).
THEME_COLORS: tuple[str, ...] = ("#7b1fa2", "#00897b", "#f4511e", "#3949ab", "#c0ca33", "#6d4c41")
_REQUIRED = ("code", "name", "owner", "geometry")


def build_thematic_layer(
    cells: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = False,
    lang: str = "zh",
    color: str = THEME_COLORS[0],
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """The cells of one theme: dashed outline, faint fill, tooltip with code, name and owner.

    Parameters
    ----------
    cells : GeoDataFrame
        ``code``, ``name``, ``owner`` and polygons (one theme) in any set CRS.
    name : str
        Layer name in the layer control (e.g. the theme's label).
    show : bool
        Whether the layer is on when the map opens (off by default: toggled in the layer control).
    lang : {"zh", "en"}
        Language of the tooltip labels.
    color : str
        Outline colour (CSS).
    metric_crs, tolerance_m
        Simplification CRS and tolerance (m).
    basemap : Basemap
        Geometry is moved into the basemap's coordinates (GCJ-02 for AMap).

    Returns
    -------
    folium.FeatureGroup
        One ``GeoJson`` with one feature per cell (CSS class ``gc-theme``).
    """
    missing = [c for c in _REQUIRED if c not in cells.columns]
    if missing:
        msg = f"thematic cells lack column(s) {', '.join(missing)}; expected theme, code, name, owner, geometry"
        raise ValueError(msg)
    shown = display_coverage(cells, source=f"thematic layer {name}", metric_crs=metric_crs,
                             tolerance_m=tolerance_m, basemap=basemap)
    tips = [rows_html([(t("theme_cell_code", lang), code), (t("theme_owner", lang), owner or "—")],
                      title=f"{name} {cell_name or code}")
            for code, cell_name, owner in zip(shown["code"].astype(str), shown["name"].astype(str),
                                              shown["owner"].astype(str), strict=True)]
    data = feature_collection(shown, {"code": [esc(c) for c in shown["code"].astype(str)], "tip": tips})
    style = {"className": THEME_CLASS, "color": color, "weight": 2.4, "opacity": 0.95, "dashArray": "6 4",
             "fillColor": color, "fillOpacity": 0.06}

    def highlight(_feature: dict) -> dict:
        return {"weight": 4, "fillOpacity": 0.2}

    return tooltip_geojson_layer(data, name=name, show=show, style=lambda _f: dict(style), highlight=highlight)


def build_thematic_layers(
    cells: gpd.GeoDataFrame,
    *,
    labels: dict[str, str] | None = None,
    show: bool = False,
    lang: str = "zh",
    metric_crs: str = DEFAULT_METRIC_CRS,
    basemap: Basemap = NO_BASEMAP,
) -> list[folium.FeatureGroup]:
    """One :func:`build_thematic_layer` per theme of ``cells`` (sorted by theme name).

    Parameters
    ----------
    cells : GeoDataFrame
        Every stored thematic cell (``theme`` column).
    labels : dict, optional
        Theme name -> layer name (default: the theme's name).
    """
    out = []
    for k, (theme, part) in enumerate(cells.groupby("theme", sort=True)):
        out.append(build_thematic_layer(part, name=(labels or {}).get(str(theme), str(theme)), show=show, lang=lang,
                                        color=THEME_COLORS[k % len(THEME_COLORS)], metric_crs=metric_crs,
                                        basemap=basemap))
    return out
