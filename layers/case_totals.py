"""Case totals layer: per-grid case counts as numbered bubbles, for more cases than the point
limit (:data:`core.constants.POINT_LIMIT`). Each bubble sits inside its grid and grows with its
count; unreached emergencies are still drawn as ringed single markers on top.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from core.constants import DEFAULT_METRIC_CRS
from core.i18n import t
from layers._case_points import AGG_CLASS, add_alert_markers, bool_column, check_cases, located_cases
from layers._geometry import ContentCache, geometry_key
from layers._html import esc, rows_html
from layers._points import DivMarkers
from layers.basemaps import NO_BASEMAP, Basemap


def grid_aggregates(cases: pd.DataFrame) -> pd.DataFrame:
    """Per-grid counts of case rows.

    Parameters
    ----------
    cases : DataFrame
        ``grid_code``, ``state`` and optional ``due`` / boolean ``alert`` columns.

    Returns
    -------
    DataFrame
        ``code``, ``cases``, ``open``, ``overdue``, ``alerts`` (one row per grid with cases).
    """
    from core.constants import OPEN_STATES

    if "grid_code" not in cases.columns:
        msg = "cases frame lacks column grid_code, needed for per-grid aggregates"
        raise ValueError(msg)
    frame = pd.DataFrame({
        "code": cases["grid_code"].astype(str),
        "open": cases["state"].astype(str).isin(OPEN_STATES).astype(int),
        "overdue": (cases["due"].astype(str) == "overdue").astype(int) if "due" in cases.columns else 0,
        "alerts": bool_column(cases, "alert").astype(int),
    })
    counts = frame.groupby("code").agg(cases=("open", "size"), open=("open", "sum"),
                                       overdue=("overdue", "sum"), alerts=("alerts", "sum"))
    return counts.reset_index()[["code", "cases", "open", "overdue", "alerts"]]


_ANCHORS = ContentCache()


def _anchor_points(grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """``code``, ``name``, ``lon``, ``lat`` (EPSG:4326) of a point inside each grid (computed
    once per grid geometry, codes and names; a copy is returned)."""

    def compute() -> pd.DataFrame:
        metric = grids.to_crs(DEFAULT_METRIC_CRS)
        points = metric.geometry.representative_point().to_crs("EPSG:4326")
        return pd.DataFrame({"code": grids["code"].astype(str).to_numpy(),
                             "name": grids["name"].astype(str).to_numpy(),
                             "lon": points.x.to_numpy(), "lat": points.y.to_numpy()})

    return _ANCHORS.get(geometry_key(grids, "code", "name"), compute).copy()


def add_totals_markers(totals: pd.DataFrame, grids: gpd.GeoDataFrame, *, lang: str, basemap: Basemap,
                       group: folium.FeatureGroup) -> None:
    """Add to ``group`` one numbered bubble per grid with cases in ``totals`` (as for
    :func:`build_case_totals_layer`), inside the grid and sized by its count."""
    agg = _anchor_points(grids).merge(totals.assign(code=totals["code"].astype(str)), on="code", how="inner")
    agg = agg.loc[agg["cases"] > 0]
    if agg.empty:
        return
    for column in ("open", "overdue", "alerts"):
        if column not in agg.columns:
            agg[column] = 0
    lon, lat = basemap.shift_lonlat(agg["lon"].to_numpy(), agg["lat"].to_numpy())
    biggest = max(int(agg["cases"].max()), 1)
    rows = []
    for i, row in enumerate(agg.itertuples(index=False)):
        size = int(22 + 26 * math.sqrt(row.cases / biggest))
        css = f"{AGG_CLASS} {AGG_CLASS}-alert" if row.alerts else AGG_CLASS
        html = (f'<div class="{css}" data-grid="{esc(row.code)}" style="width:{size}px;height:{size}px">'
                f"{int(row.cases)}</div>")
        tip = rows_html([
            (t("grid_code", lang), row.code),
            (t("kpi_cases", lang), int(row.cases)),
            (t("kpi_open", lang), int(row.open)),
            (t("kpi_overdue", lang), int(row.overdue)),
        ], title=row.name)
        rows.append([round(float(lat[i]), 6), round(float(lon[i]), 6), html, tip, size])
    group.add_child(DivMarkers(rows, class_name="gc-agg-icon", size=(30, 30)))


def build_case_totals_layer(
    totals: pd.DataFrame,
    *,
    grids: gpd.GeoDataFrame,
    name: str,
    show: bool = True,
    lang: str = "zh",
    alerts: pd.DataFrame | None = None,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Per-grid case totals as numbered bubbles (for more cases than the point limit).

    Parameters
    ----------
    totals : DataFrame
        ``code`` (grid code), ``cases``, ``open``; optional ``overdue``, ``alerts``. Counted on
        the server (``cases.queries.count_cases``) or by :func:`grid_aggregates`.
    grids : GeoDataFrame
        ``code``, ``name``, polygons in any set CRS: each bubble sits inside its grid.
    alerts : DataFrame, optional
        Unreached emergencies (case rows as for :func:`build_cases_layer`), drawn as ringed
        single markers on top.

    Returns
    -------
    folium.FeatureGroup
    """
    missing = [c for c in ("code", "cases", "open") if c not in totals.columns]
    if missing:
        msg = f"totals frame lacks column(s) {', '.join(missing)}; expected code, cases, open"
        raise ValueError(msg)
    group = folium.FeatureGroup(name=name, show=show)
    add_totals_markers(totals, grids, lang=lang, basemap=basemap, group=group)
    if alerts is not None and len(alerts):
        check_cases(alerts)
        add_alert_markers(located_cases(alerts, basemap), lang=lang, group=group)
    return group
