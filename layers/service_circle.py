"""The 15-minute service circle on the map: walking-time isochrones of one facility type, the
buildings left outside, and the ranked sites for a new service point.

Isochrones (``geo.service_gaps.isochrones``: ``facility_type``, ``minutes``, polygon in the storage
CRS) are drawn largest first with CSS class :data:`ISO_CLASS`; buildings outside the largest band
as small circles (:data:`OUTSIDE_CLASS`); proposed sites as numbered squares (:data:`SITE_CLASS`).
Every text reaching the map is escaped.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.constants import DEFAULT_METRIC_CRS, DISPLAY_CRS
from core.i18n import t
from layers._geometry import feature_collection
from layers._html import esc, rows_html
from layers._tooltips import tooltip_geojson_layer, tooltip_markers
from layers.basemaps import NO_BASEMAP, Basemap

ISO_CLASS = "gc-iso"
OUTSIDE_CLASS = "gc-outside"
SITE_CLASS = "gc-site"
_SITE_STYLE = ("width:22px;height:22px;border-radius:4px;background:#0d47a1;color:#fff;border:2px solid #fff;"
               "box-sizing:border-box;text-align:center;line-height:18px;font-weight:bold;font-size:12px")
#: Fill of each band, the nearest first (cycled past the third).
BAND_COLORS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fdae61")


def _displayed(gdf: gpd.GeoDataFrame, basemap: Basemap, simplify_m: float, metric_crs: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = "isochrones have no CRS (fix: compute them with geo.service_gaps.isochrones)"
        raise ValueError(msg)
    metric = gdf.to_crs(metric_crs)
    geoms = shapely.simplify(metric.geometry.to_numpy(), simplify_m) if simplify_m > 0 else metric.geometry.to_numpy()
    shown = metric.set_geometry(geoms, crs=metric.crs).to_crs(DISPLAY_CRS)
    if basemap.gcj02 and len(shown):
        shown = shown.set_geometry(basemap.shift_geometries(shown.geometry.to_numpy()), crs=shown.crs)
    return shown


def build_isochrone_layer(
    isochrones: gpd.GeoDataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    simplify_m: float = 10.0,
    metric_crs: str = DEFAULT_METRIC_CRS,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Walking-time isochrones of one facility type, the largest band at the bottom.

    Parameters
    ----------
    isochrones : GeoDataFrame
        ``facility_type``, ``minutes`` and one polygon per band, any set CRS.
    name, show, lang
        Layer name, initial visibility, language of the tooltips.
    simplify_m : float
        Simplification tolerance for display (m, in ``metric_crs``).
    basemap : Basemap
        Geometry is moved into the basemap's coordinates (GCJ-02 for AMap).

    Returns
    -------
    folium.FeatureGroup
        One feature per band (CSS classes ``gc-iso`` and ``gc-iso-<minutes>``).
    """
    frame = isochrones.loc[~(isochrones.geometry.is_empty | isochrones.geometry.isna())]
    frame = frame.sort_values("minutes", ascending=False)
    shown = _displayed(frame, basemap, simplify_m, metric_crs)
    order = sorted(shown["minutes"].astype(float))
    colors = [BAND_COLORS[order.index(float(m)) % len(BAND_COLORS)] for m in shown["minutes"]]
    tips = [rows_html([(t("service_type", lang), kind)], title=t("service_within", lang, minutes=f"{float(m):g}"))
            for kind, m in zip(shown["facility_type"].astype(str), shown["minutes"], strict=True)]
    classes = [f"{ISO_CLASS} {ISO_CLASS}-{float(m):g}" for m in shown["minutes"]]
    data = feature_collection(shown, {"tip": tips, "fill": colors, "cls": classes})

    def style(feature: dict) -> dict:
        props = feature["properties"]
        return {"className": props["cls"], "color": props["fill"], "weight": 1, "opacity": 0.8,
                "fillColor": props["fill"], "fillOpacity": 0.28}

    return tooltip_geojson_layer(data, name=name, show=show, style=style)


def build_outside_layer(
    outside: pd.DataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Buildings outside the largest band (or unreachable) as small red circles.

    Parameters
    ----------
    outside : DataFrame
        ``building_code``, ``building_name``, ``households`` (may be NaN), ``walk_min`` (NaN when
        unreachable), ``lon``, ``lat`` (EPSG:4490 degrees).

    Returns
    -------
    folium.FeatureGroup
        One circle marker per building (CSS class ``gc-outside``).
    """
    lon = outside["lon"].to_numpy(float)
    lat = outside["lat"].to_numpy(float)
    x, y = basemap.shift_lonlat(lon, lat)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=DISPLAY_CRS)
    tips = []
    for row in outside.itertuples(index=False):
        walk = t("service_unreachable", lang) if pd.isna(row.walk_min) else f"{float(row.walk_min):.1f}"
        rows: list[tuple[str, object]] = [(t("service_walk_min", lang), walk)]
        if not pd.isna(row.households):
            rows.append((t("service_households", lang), int(row.households)))
        tips.append(rows_html(rows, title=f"{row.building_name} · {row.building_code}"))
    data = feature_collection(points, {"tip": tips})
    style = {"className": OUTSIDE_CLASS, "color": "#b71c1c", "weight": 1, "fillColor": "#e53935", "fillOpacity": 0.85}
    return tooltip_geojson_layer(data, name=name, show=show, style=lambda _f: dict(style),
                                 marker=folium.CircleMarker(radius=3))


def build_sites_layer(
    sites: pd.DataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Ranked sites for a new service point as numbered squares.

    Parameters
    ----------
    sites : DataFrame
        ``rank``, ``building_code``, ``households``, ``lon``, ``lat`` (EPSG:4490) as from
        ``geo.service_gaps.rank_gaps``.
    """
    icons, tips = [], []
    for row in sites.itertuples(index=False):
        icons.append(f'<div class="{SITE_CLASS}" style="{_SITE_STYLE}">{esc(int(row.rank))}</div>')
        rows = [(t("service_site_households", lang), row.households), (t("code", lang), row.building_code)]
        tips.append(rows_html(rows, title=t("service_site", lang, rank=int(row.rank))))
    group = folium.FeatureGroup(name=name, show=show)
    group.add_child(tooltip_markers(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), icons, tips,
                                    basemap=basemap, class_name="gc-site-icon", size=(22, 22), z_offset=500))
    return group


def finite_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` whose ``lon`` and ``lat`` are finite degrees."""
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    return frame.loc[np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)]
