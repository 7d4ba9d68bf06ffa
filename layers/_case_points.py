"""Case rows for the map (helpers of :mod:`layers.cases` and :mod:`layers.case_totals`).

Colours, badges and CSS classes of case markers; the column check; coordinates moved into the
basemap's system; escaped tooltips; the compact rows of :class:`CaseCluster` and the ringed
markers of unreached emergencies.
"""

from __future__ import annotations

import math

import folium
import numpy as np
import pandas as pd
from folium.elements import JSCSSMixin
from folium.template import Template

from core.constants import CATEGORIES, SOURCES, STATES
from core.i18n import t
from layers._html import esc, rows_html, script_json
from layers._points import DivMarkers
from layers._render import RawRender
from layers.basemaps import Basemap

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


def located_cases(cases: pd.DataFrame, basemap: Basemap) -> pd.DataFrame:
    """Rows with usable coordinates, lon/lat moved into the basemap's coordinates."""
    lon = pd.to_numeric(cases["lon"], errors="coerce")
    lat = pd.to_numeric(cases["lat"], errors="coerce")
    ok = lon.between(-180, 180) & lat.between(-90, 90)
    out = cases.loc[ok].copy()
    x, y = basemap.shift_lonlat(lon[ok].to_numpy(), lat[ok].to_numpy())
    out["lon"], out["lat"] = np.round(x, 6), np.round(y, 6)
    return out


def bool_column(cases: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` as a bool array (missing values and a missing column count as False)."""
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


def point_rows(cases: pd.DataFrame, *, lang: str, alert: np.ndarray) -> list[list]:
    """``[lat, lon, id, colour, CSS classes, badge, tooltip]`` per case, escaped."""
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


def short_escaped(cases: pd.DataFrame, column: str, limit: int) -> list[str]:
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
    text = short_escaped(cases, "text", 80)
    address = short_escaped(cases, "address", 40)
    states = [s_index[str(v)] for v in cases["state"].to_numpy()]
    categories = [c_index[str(v)] for v in cases["category"].to_numpy()]
    rows = [list(r) for r in zip(
        cases["lat"].astype(float).tolist(), cases["lon"].astype(float).tolist(),
        cases["id"].astype(int).tolist(), states, categories, flags, sources, reported, text, address,
        strict=True)]
    return rows, meta


def add_alert_markers(cases: pd.DataFrame, *, lang: str, group: folium.FeatureGroup) -> None:
    """Unreached emergencies: never clustered, pulsing ring, on top."""
    all_true = np.ones(len(cases), dtype=bool)
    rows = []
    for lat, lon, case_id, color, classes, badge, tip in point_rows(cases, lang=lang, alert=all_true):
        html = f'<div class="{classes}" data-case="{case_id}" style="background:{color}">{badge}</div>'
        rows.append([lat, lon, html, tip])
    group.add_child(DivMarkers(rows, class_name="gc-case-icon", size=(16, 16), z_offset=1000))
