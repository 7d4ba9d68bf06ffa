"""Case layer: points coloured by state and badged by category, clustered when zoomed out.

Up to :data:`POINT_LIMIT` cases are sent as points (one compact array row each, turned into
clustered markers in the browser by :class:`CaseCluster`). Above it the layer sends
per-grid aggregates instead (one bubble per grid with its count), so even 100,000 cases stay
far below 5 MB of payload. Emergencies nobody has reached yet (``alert``) are always sent as
points, unclustered and ringed with a pulsing CSS animation (``static/css/gridcommand.css``).
A heat option draws the same points with Leaflet.heat.

Every text that comes from a case (its text, address, codes) is escaped before it reaches the
page: an incident text ``<img src=x onerror=alert(1)>`` is shown as those characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.elements import JSCSSMixin
from folium.template import Template

from core.constants import CATEGORIES, DEFAULT_METRIC_CRS, SOURCES, STATES
from core.i18n import t
from layers._geometry import ContentCache, geometry_key
from layers._html import esc, rows_html, script_json
from layers._points import DivMarkers
from layers._render import RawRender
from layers.basemaps import NO_BASEMAP, Basemap

#: Above this many cases the layer sends per-grid aggregates instead of points.
POINT_LIMIT = 5_000
#: Modes of :func:`build_cases_layer`.
MODES: tuple[str, ...] = ("cluster", "heat")
#: Zoom from which clusters break up into single markers.
UNCLUSTER_ZOOM = 16
#: Marker fill per state (display only; the state groups themselves live in core.constants).
STATE_COLORS: dict[str, str] = {
    "reported": "#1565c0",
    "registered": "#1e88e5",
    "dispatched": "#ef6c00",
    "returned": "#8e24aa",
    "accepted": "#f9a825",
    "on_site": "#00897b",
    "handled": "#43a047",
    "rework": "#d81b60",
    "verified": "#2e7d32",
    "followed_up": "#558b2f",
    "closed": "#9e9e9e",
    "archived": "#bdbdbd",
    "voided": "#cfcfcf",
}
#: One-character badge per category.
CATEGORY_BADGES: dict[str, dict[str, str]] = {
    "emergency": {"zh": "突", "en": "E"},
    "dispute": {"zh": "纠", "en": "D"},
    "hazard": {"zh": "隐", "en": "H"},
    "request": {"zh": "诉", "en": "R"},
}
CASE_CLASS = "gc-case"
ALERT_CLASS = "gc-unreached"
AGG_CLASS = "gc-agg"

REQUIRED_COLUMNS: tuple[str, ...] = ("id", "lon", "lat", "category", "state")

_CLUSTER_SCRIPT = """
(function () {
    var M = META;
    var rows = ROWS;
    function row(label, value, wide) {
        return '<tr><th>' + label + '</th><td' + (wide ? ' class="gc-long"' : '') + '>' + value + '</td></tr>';
    }
    function tip(r) {
        var h = '<div class="gc-tip-title">#' + r[2] + ' ' + M.cat[r[4]][2] + '</div><table class="gc-tip">';
        h += row(M.f.state, M.st[r[3]][2]);
        if (r[6] >= 0) { h += row(M.f.source, M.src[r[6]]); }
        if (r[7]) { h += row(M.f.reported, r[7]); }
        if (r[5] & 1) { h += row(M.f.due, M.due[0]); } else if (r[5] & 2) { h += row(M.f.due, M.due[1]); }
        if (r[9]) { h += row(M.f.address, r[9], r[9].length > 18); }
        if (r[8]) { h += row(M.f.text, r[8], r[8].length > 18); }
        return h + '</table>';
    }
    var cluster = L.markerClusterGroup(OPTIONS);
    var markers = [];
    for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var css = 'gc-case gc-case-' + M.cat[r[4]][0] + ((r[5] & 1) ? ' gc-case-overdue' : '');
        var icon = L.divIcon({className: 'gc-case-icon', iconSize: [16, 16], iconAnchor: [8, 8],
            html: '<div class="' + css + '" data-case="' + r[2] + '" style="background:' + M.st[r[3]][1]
                  + '">' + M.cat[r[4]][1] + '</div>'});
        var marker = L.marker([r[0], r[1]], {icon: icon, riseOnHover: true});
        marker.bindTooltip(tip(r), {className: 'gc-tooltip', direction: 'top', offset: [0, -8]});
        markers.push(marker);
    }
    cluster.addLayers(markers);
    return cluster;
})()"""


class CaseCluster(JSCSSMixin, RawRender):
    """Case markers from compact rows, clustered (Leaflet.markercluster, local assets).

    Each row is ``[lat, lon, id, state index, category index, flags, source index, reported,
    text, address]`` (flags: 1 overdue, 2 due soon); labels, colours and badges travel once in
    ``meta``. Text fields are escaped in Python; the browser only concatenates them. The
    rendered script is used as it is (``layers._render.RawRender``): no template pass over it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.script }};
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )
    default_js = [("markerclusterjs", "")]
    default_css = [("markerclustercss", ""), ("markerclusterdefaultcss", "")]

    def __init__(self, rows: list[list], meta: dict, options: dict) -> None:
        super().__init__()
        self._name = "CaseCluster"
        self.rows = rows
        self.script = (_CLUSTER_SCRIPT.replace("META", script_json(meta))
                       .replace("OPTIONS", script_json(options))
                       .replace("ROWS", script_json(rows)))


def check_cases(cases: pd.DataFrame) -> None:
    """Raise ValueError naming the missing columns, state or category keys of ``cases``."""
    missing = [c for c in REQUIRED_COLUMNS if c not in cases.columns]
    if missing:
        msg = (f"cases frame lacks column(s) {', '.join(missing)}; expected at least "
               f"{', '.join(REQUIRED_COLUMNS)} (as cases.queries.list_cases returns)")
        raise ValueError(msg)
    unknown_states = sorted(set(cases["state"].dropna().astype(str)) - set(STATES))
    if unknown_states:
        msg = f"cases frame has unknown state(s) {', '.join(unknown_states)}; allowed: {', '.join(STATES)}"
        raise ValueError(msg)
    unknown_cats = sorted(set(cases["category"].dropna().astype(str)) - set(CATEGORIES))
    if unknown_cats:
        msg = (f"cases frame has unknown categor(ies) {', '.join(unknown_cats)}; "
               f"allowed: {', '.join(CATEGORIES)}")
        raise ValueError(msg)


def _located(cases: pd.DataFrame, basemap: Basemap) -> pd.DataFrame:
    """Rows with usable coordinates, lon/lat moved into the basemap's coordinates."""
    lon = pd.to_numeric(cases["lon"], errors="coerce")
    lat = pd.to_numeric(cases["lat"], errors="coerce")
    ok = lon.between(-180, 180) & lat.between(-90, 90)
    out = cases.loc[ok].copy()
    x, y = basemap.shift_lonlat(lon[ok].to_numpy(), lat[ok].to_numpy())
    out["lon"], out["lat"] = np.round(x, 6), np.round(y, 6)
    return out


def _flag(cases: pd.DataFrame, column: str) -> np.ndarray:
    if column not in cases.columns:
        return np.zeros(len(cases), dtype=bool)
    return cases[column].fillna(False).astype(bool).to_numpy()


def case_tooltip(row: pd.Series | dict, *, lang: str = "zh") -> str:
    """Escaped tooltip HTML of one case (id, category, state, source, time, address, text)."""
    get = row.get
    category = CATEGORIES.get(str(get("category")))
    state = STATES.get(str(get("state")))
    source = SOURCES.get(str(get("source")))
    rows: list[tuple[str, object]] = [
        (t("case_state", lang), state.text(lang) if state else get("state")),
    ]
    if source is not None:
        rows.append((t("case_source", lang), source.text(lang)))
    reported = get("reported_at")
    if reported is not None and not (isinstance(reported, float) and math.isnan(reported)):
        rows.append((t("case_reported", lang), pd.Timestamp(reported).strftime("%Y-%m-%d %H:%M")))
    if get("due") in ("overdue", "soon"):
        rows.append((t("case_due", lang), t(f"due_{get('due')}", lang)))
    if get("address"):
        rows.append((t("case_address", lang), get("address")))
    text = get("text")
    if text:
        text = str(text)
        rows.append((t("case_text", lang), text if len(text) <= 80 else text[:79] + "…"))
    title = f"#{get('id')} {category.text(lang) if category else get('category')}"
    return rows_html(rows, title=title)


def _point_rows(cases: pd.DataFrame, *, lang: str, alert: np.ndarray) -> list[list]:
    due = cases["due"].astype(str).to_numpy() if "due" in cases.columns else np.full(len(cases), "")
    rows = []
    for i, row in enumerate(cases.to_dict("records")):
        category = str(row["category"])
        classes = [CASE_CLASS, f"{CASE_CLASS}-{esc(category)}"]
        if alert[i]:
            classes.append(ALERT_CLASS)
        if due[i] == "overdue":
            classes.append(f"{CASE_CLASS}-overdue")
        rows.append([
            float(row["lat"]), float(row["lon"]), int(row["id"]),
            STATE_COLORS.get(str(row["state"]), "#607d8b"), " ".join(classes),
            esc(CATEGORY_BADGES.get(category, {}).get(lang, "?")),
            case_tooltip(row, lang=lang),
        ])
    return rows


def _short_escaped(cases: pd.DataFrame, column: str, limit: int) -> list[str]:
    """Escaped text of ``column`` cut to ``limit`` characters (with "…"); "" when missing.
    Each distinct value is escaped once."""
    if column not in cases.columns:
        return [""] * len(cases)
    done: dict[object, str] = {}

    def one(value: object) -> str:
        text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        return esc(text if len(text) <= limit else text[:limit - 1] + "…")

    out = []
    for value in cases[column].to_numpy():
        try:
            out.append(done[value])
        except (KeyError, TypeError):
            result = one(value)
            try:
                done[value] = result
            except TypeError:
                pass
            out.append(result)
    return out


def cluster_rows(cases: pd.DataFrame, *, lang: str = "zh") -> tuple[list[list], dict]:
    """Compact rows and the shared ``meta`` (labels, colours, badges) for :class:`CaseCluster`.

    Text and address are escaped and shortened (80 and 40 characters).
    """
    state_keys = list(STATES)
    cat_keys = list(CATEGORIES)
    src_keys = list(SOURCES)
    meta = {
        "st": [[k, STATE_COLORS.get(k, "#607d8b"), esc(STATES[k].text(lang))] for k in state_keys],
        "cat": [[k, esc(CATEGORY_BADGES[k][lang]), esc(CATEGORIES[k].text(lang))] for k in cat_keys],
        "src": [esc(SOURCES[k].text(lang)) for k in src_keys],
        "due": [esc(t("due_overdue", lang)), esc(t("due_soon", lang))],
        "f": {key: esc(t(f"case_{key}", lang)) for key in ("state", "source", "reported", "due", "address", "text")},
    }
    s_index = {k: i for i, k in enumerate(state_keys)}
    c_index = {k: i for i, k in enumerate(cat_keys)}
    src_index = {k: i for i, k in enumerate(src_keys)}
    n = len(cases)
    if n == 0:
        return [], meta
    due = cases["due"].astype(str).to_numpy() if "due" in cases.columns else np.full(n, "")
    flags = np.where(due == "overdue", 1, np.where(due == "soon", 2, 0)).tolist()
    if "source" in cases.columns:
        sources = [src_index.get(str(v), -1) for v in cases["source"].to_numpy()]
    else:
        sources = [-1] * n
    if "reported_at" in cases.columns:
        stamps = pd.to_datetime(cases["reported_at"], errors="coerce")
        reported = stamps.dt.strftime("%m-%d %H:%M").fillna("").tolist()
    else:
        reported = [""] * n
    text = _short_escaped(cases, "text", 80)
    address = _short_escaped(cases, "address", 40)
    states = [s_index[str(v)] for v in cases["state"].to_numpy()]
    categories = [c_index[str(v)] for v in cases["category"].to_numpy()]
    rows = [list(r) for r in zip(
        cases["lat"].astype(float).tolist(), cases["lon"].astype(float).tolist(),
        cases["id"].astype(int).tolist(), states, categories, flags, sources, reported, text, address,
        strict=True)]
    return rows, meta


def _alert_markers(cases: pd.DataFrame, *, lang: str, group: folium.FeatureGroup) -> None:
    """Unreached emergencies: never clustered, pulsing ring, on top."""
    all_true = np.ones(len(cases), dtype=bool)
    rows = []
    for lat, lon, case_id, color, classes, badge, tip in _point_rows(cases, lang=lang, alert=all_true):
        html = f'<div class="{classes}" data-case="{case_id}" style="background:{color}">{badge}</div>'
        rows.append([lat, lon, html, tip])
    group.add_child(DivMarkers(rows, class_name="gc-case-icon", size=(16, 16), z_offset=1000))


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
        "alerts": _flag(cases, "alert").astype(int),
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


def _totals_markers(totals: pd.DataFrame, grids: gpd.GeoDataFrame, *, lang: str, basemap: Basemap,
                    group: folium.FeatureGroup) -> None:
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
    _totals_markers(totals, grids, lang=lang, basemap=basemap, group=group)
    if alerts is not None and len(alerts):
        check_cases(alerts)
        _alert_markers(_located(alerts, basemap), lang=lang, group=group)
    return group


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
    located = _located(cases, basemap)
    alert = _flag(located, "alert")
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
        _totals_markers(grid_aggregates(regular), grids, lang=lang, basemap=basemap, group=group)
    elif len(regular):
        rows, meta = cluster_rows(regular, lang=lang)
        group.add_child(CaseCluster(rows, meta, {"disableClusteringAtZoom": UNCLUSTER_ZOOM,
                                                 "maxClusterRadius": 45, "showCoverageOnHover": False,
                                                 "chunkedLoading": True}))
    if alert.any():
        _alert_markers(located.loc[alert], lang=lang, group=group)
    return group


def legend_items(lang: str = "zh", states: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(colour, label) pairs of the state colours, for a map legend."""
    keys = states if states is not None else [k for k in STATE_COLORS if k != "voided"]
    return [(STATE_COLORS[k], STATES[k].text(lang)) for k in keys]
