"""Case layer: points coloured by state and badged by category, clustered when zoomed out.

Up to :data:`POINT_LIMIT` cases are sent as points (one compact array row each, turned into
clustered markers in the browser by :class:`CaseCluster`). Above it the layer sends
per-grid aggregates instead (one bubble per grid with its count), so even 100,000 cases stay
far below 5 MB of payload. Emergencies nobody has reached yet (``alert``) are always sent as
points, unclustered and ringed with a pulsing CSS animation (``static/css/gridcommand.css``).
A heat option draws the same points with Leaflet.heat.

Every text that comes from a case (its text, address, codes) is escaped before it reaches the
page: an incident text ``<img src=x onerror=alert(1)>`` is shown as those characters.

The per-grid bubbles are :mod:`layers.case_totals`; colours, rows and tooltips are
:mod:`layers._case_points`. Their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd

from core.constants import POINT_LIMIT, STATES
from layers._case_points import (
    AGG_CLASS,
    ALERT_CLASS,
    CASE_CLASS,
    CATEGORY_BADGES,
    REQUIRED_COLUMNS,
    STATE_COLORS,
    CaseCluster,
    add_alert_markers,
    bool_column,
    case_tooltip,
    check_cases,
    cluster_rows,
    located_cases,
)
from layers.basemaps import NO_BASEMAP, Basemap
from layers.case_totals import add_totals_markers, build_case_totals_layer, grid_aggregates

__all__ = [
    "AGG_CLASS",
    "ALERT_CLASS",
    "CASE_CLASS",
    "CATEGORY_BADGES",
    "MODES",
    "POINT_LIMIT",
    "REQUIRED_COLUMNS",
    "STATE_COLORS",
    "UNCLUSTER_ZOOM",
    "CaseCluster",
    "build_case_totals_layer",
    "build_cases_layer",
    "case_tooltip",
    "check_cases",
    "cluster_rows",
    "grid_aggregates",
    "legend_items",
]

#: Modes of :func:`build_cases_layer`.
MODES: tuple[str, ...] = ("cluster", "heat")
#: Zoom from which clusters break up into single markers.
UNCLUSTER_ZOOM = 16


def build_cases_layer(
    cases: pd.DataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    mode: str = "cluster",
    grids: gpd.GeoDataFrame | None = None,
    basemap: Basemap = NO_BASEMAP,
    point_limit: int = POINT_LIMIT,
) -> folium.FeatureGroup:
    """The case layer.

    Parameters
    ----------
    cases : DataFrame
        One row per case: ``id``, ``lon``, ``lat`` (EPSG:4490/4326 degrees), ``category``
        (``core.constants.CATEGORIES`` key), ``state`` (``STATES`` key); optional ``source``,
        ``text``, ``address``, ``reported_at``, ``grid_code``, ``due`` (``ok``/``soon``/
        ``overdue``) and ``alert`` (bool: an emergency nobody has reached yet). Rows without
        valid coordinates are not drawn.
    name : str
        Layer name in the layer control.
    show : bool
        On when the map opens.
    lang : {"zh", "en"}
    mode : {"cluster", "heat"}
        Clustered markers (single markers from zoom 16) or a heat map.
    grids : GeoDataFrame, optional
        ``code``, ``name`` and polygons; required when more than ``point_limit`` cases are
        drawn in ``cluster`` mode (they are then aggregated per grid).
    basemap : Basemap
        Coordinates are shifted into the basemap's system (GCJ-02 for AMap).
    point_limit : int
        Most points sent as markers.

    Returns
    -------
    folium.FeatureGroup
    """
    if mode not in MODES:
        msg = f"mode must be one of {', '.join(MODES)}, got {mode!r}"
        raise ValueError(msg)
    check_cases(cases)
    located = located_cases(cases, basemap)
    alert = bool_column(located, "alert")
    group = folium.FeatureGroup(name=name, show=show)
    regular = located.loc[~alert]
    if mode == "heat":
        if len(located):
            points = located[["lat", "lon"]].round(5).to_numpy().tolist()
            folium.plugins.HeatMap(points, radius=14, blur=18, min_opacity=0.35,
                                   max_zoom=UNCLUSTER_ZOOM).add_to(group)
    elif len(regular) > point_limit:
        if grids is None:
            msg = (f"{len(regular)} cases exceed the point limit {point_limit}: pass grids= to "
                   f"aggregate them per grid, or narrow the filter")
            raise ValueError(msg)
        add_totals_markers(grid_aggregates(regular), grids, lang=lang, basemap=basemap, group=group)
    elif len(regular):
        rows, meta = cluster_rows(regular, lang=lang)
        group.add_child(CaseCluster(rows, meta, {"disableClusteringAtZoom": UNCLUSTER_ZOOM,
                                                 "maxClusterRadius": 45, "showCoverageOnHover": False,
                                                 "chunkedLoading": True}))
    if alert.any():
        add_alert_markers(located.loc[alert], lang=lang, group=group)
    return group


def legend_items(lang: str = "zh", states: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(colour, label) pairs of the state colours, for a map legend."""
    keys = states if states is not None else [k for k in STATE_COLORS if k != "voided"]
    return [(STATE_COLORS[k], STATES[k].text(lang)) for k in keys]
