"""Grid workers: last known positions and today's GPS tracks."""

from __future__ import annotations

from datetime import datetime, timedelta

import folium
import numpy as np
import pandas as pd

from core.i18n import t
from layers._html import esc, rows_html
from layers._points import DivMarkers
from layers.basemaps import NO_BASEMAP, Basemap

WORKER_CLASS = "gc-worker"
TRACK_CLASS = "gc-track"
#: A position older than this is drawn grey ("stale").
STALE_AFTER = timedelta(minutes=30)
TRACK_COLORS: tuple[str, ...] = ("#2e7d32", "#1565c0", "#6a1b9a", "#c62828", "#00838f", "#ef6c00")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{what} frame lacks column(s) {', '.join(missing)}; expected {', '.join(columns)}"
        raise ValueError(msg)


def _valid(frame: pd.DataFrame) -> pd.DataFrame:
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    return frame.loc[lon.between(-180, 180) & lat.between(-90, 90)]


def build_workers_layer(
    positions: pd.DataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    tracks: pd.DataFrame | None = None,
    now: datetime | None = None,
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Workers' last positions (green dot, grey when stale) and their tracks of the day.

    Parameters
    ----------
    positions : DataFrame
        One row per worker: ``worker_id``, ``lon``, ``lat`` (EPSG:4490/4326 degrees), ``at``
        (time of the fix); optional ``name`` (already masked as the caller's role requires)
        and ``grid_code``.
    name, show, lang
        Layer name, initial visibility, language.
    tracks : DataFrame, optional
        ``worker_id``, ``at``, ``lon``, ``lat``: the fixes to draw as one line per worker,
        in time order.
    now : datetime, optional
        Reference time for staleness (default: the latest fix).
    basemap : Basemap
        Coordinates are shifted into the basemap's system (GCJ-02 for AMap).

    Returns
    -------
    folium.FeatureGroup
    """
    _require(positions, ("worker_id", "lon", "lat", "at"), "worker positions")
    group = folium.FeatureGroup(name=name, show=show)
    if tracks is not None and len(tracks):
        _require(tracks, ("worker_id", "at", "lon", "lat"), "worker tracks")
        valid = _valid(tracks).sort_values(["worker_id", "at"])
        x, y = basemap.shift_lonlat(valid["lon"].to_numpy(), valid["lat"].to_numpy())
        valid = valid.assign(lon=np.round(x, 6), lat=np.round(y, 6))
        for i, (worker, fixes) in enumerate(valid.groupby("worker_id", sort=True)):
            if len(fixes) < 2:
                continue
            folium.PolyLine(
                fixes[["lat", "lon"]].to_numpy().tolist(),
                color=TRACK_COLORS[i % len(TRACK_COLORS)], weight=2.5, opacity=0.8,
                class_name=TRACK_CLASS,
                tooltip=folium.Tooltip(rows_html([(t("worker_id", lang), worker),
                                                  (t("track_points", lang), len(fixes))]),
                                       class_name="gc-tooltip"),
            ).add_to(group)
    valid = _valid(positions)
    if len(valid) == 0:
        return group
    at = pd.to_datetime(valid["at"])
    ref = pd.Timestamp(now) if now is not None else at.max()
    stale = (ref - at) > STALE_AFTER
    x, y = basemap.shift_lonlat(valid["lon"].to_numpy(), valid["lat"].to_numpy())
    rows = []
    for i, row in enumerate(valid.to_dict("records")):
        tip_rows = [(t("worker_id", lang), row["worker_id"])]
        if row.get("grid_code"):
            tip_rows.append((t("grid_code", lang), row["grid_code"]))
        tip_rows.append((t("last_fix", lang), pd.Timestamp(row["at"]).strftime("%Y-%m-%d %H:%M")))
        css = f"{WORKER_CLASS} {WORKER_CLASS}-stale" if stale.iloc[i] else WORKER_CLASS
        html = f'<div class="{css}" data-worker="{esc(row["worker_id"])}"></div>'
        rows.append([round(float(y[i]), 6), round(float(x[i]), 6), html,
                     rows_html(tip_rows, title=row.get("name") or t("worker", lang))])
    group.add_child(DivMarkers(rows, class_name="gc-worker-icon", size=(10, 10)))
    return group
