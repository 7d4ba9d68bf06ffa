"""Choropleth of grids by a chosen measure (open cases, overdue, per 1,000 buildings, on-time rate).

The measure values are computed elsewhere (``metrics.kpi`` and the case store); this layer only
classes and draws them: five classes, a sequential palette whose dark end is always "worse"
(so for a higher-is-better rate such as the on-time closure rate the scale is reversed), grey
for grids without a value, and a legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from core.constants import DEFAULT_METRIC_CRS
from core.i18n import t
from layers._geometry import DISPLAY_TOLERANCE_M, display_coverage, feature_collection
from layers._html import esc, rows_html
from layers._tooltips import tooltip_geojson_layer
from layers.basemaps import NO_BASEMAP, Basemap
from layers.legend import Legend

CHOROPLETH_CLASS = "gc-choropleth"
#: Light (good) to dark (bad).
PALETTE: tuple[str, ...] = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
NO_DATA = "#e6e6e6"


@dataclass(frozen=True)
class Measure:
    """A grid measure: i18n label key, which direction is better, how to print a value."""

    key: str
    label_key: str
    better: str  # "lower" or "higher"
    fmt: str  # "int", "pct" or "float1"

    def format(self, value: float | None) -> str:
        """``value`` as text (``–`` when missing)."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "–"
        if self.fmt == "pct":
            return f"{100 * value:.1f}%"
        if self.fmt == "float1":
            return f"{value:.1f}"
        return f"{int(round(value))}"


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("open", "measure_open", "lower", "int"),
        Measure("overdue", "measure_overdue", "lower", "int"),
        Measure("per_1000_buildings", "measure_per_1000_buildings", "lower", "float1"),
        Measure("on_time_rate", "measure_on_time_rate", "higher", "pct"),
    )
}


def class_breaks(values: np.ndarray, *, classes: int = len(PALETTE)) -> np.ndarray:
    """Upper bounds of ``classes`` quantile classes of the finite ``values`` (duplicates merged).

    Returns
    -------
    numpy.ndarray
        Increasing upper bounds; the last equals the maximum. Empty when no value is finite.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([])
    qs = np.quantile(finite, np.linspace(0, 1, classes + 1)[1:])
    return np.unique(qs)


def classify(values: np.ndarray, breaks: np.ndarray, *, better: str) -> list[str]:
    """A palette colour per value (``NO_DATA`` for NaN); dark means worse."""
    colours = []
    n = len(breaks)
    for v in values:
        if not np.isfinite(v) or n == 0:
            colours.append(NO_DATA)
            continue
        k = int(np.searchsorted(breaks, v, side="left"))
        k = min(k, n - 1)
        # spread the used classes over the whole palette
        idx = round(k * (len(PALETTE) - 1) / max(n - 1, 1))
        if better == "higher":
            idx = len(PALETTE) - 1 - idx
        colours.append(PALETTE[idx])
    return colours


def build_choropleth_layer(
    grids: gpd.GeoDataFrame,
    *,
    values: pd.Series,
    measure: str,
    name: str,
    show: bool = True,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
    metric_crs: str = DEFAULT_METRIC_CRS,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    legend: bool = True,
) -> folium.FeatureGroup:
    """Grids filled by ``values``.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code``, ``name`` and polygons in any set CRS (a coverage).
    values : Series
        Measure value per grid code (index); grids not in it are drawn as "no data".
        Counts for ``open``/``overdue``/``per_1000_buildings``, a share 0–1 for ``on_time_rate``.
    measure : str
        A key of :data:`MEASURES`.
    name, show, lang
        Layer name, initial visibility, language.
    basemap : Basemap
        Geometry is shifted into the basemap's coordinates (GCJ-02 for AMap).
    legend : bool
        Add a legend control (bottom right) with the class bounds.

    Returns
    -------
    folium.FeatureGroup
        One ``GeoJson`` feature per grid (CSS class ``gc-choropleth``).
    """
    if measure not in MEASURES:
        msg = f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}"
        raise ValueError(msg)
    spec = MEASURES[measure]
    shown = display_coverage(grids, source="hierarchy: grids", metric_crs=metric_crs,
                             tolerance_m=tolerance_m, basemap=basemap)
    codes = shown["code"].astype(str)
    lookup = pd.Series(values.to_numpy(dtype=float), index=values.index.astype(str))
    lookup = lookup[~lookup.index.duplicated()]
    vals = codes.map(lookup).to_numpy(dtype=float)
    breaks = class_breaks(vals)
    fills = classify(vals, breaks, better=spec.better)
    label = t(spec.label_key, lang)
    tips = [rows_html([(t("grid_code", lang), c), (label, spec.format(v))], title=n)
            for c, n, v in zip(codes, shown["name"].astype(str), vals, strict=True)]
    data = feature_collection(shown, {"code": [esc(c) for c in codes], "fill": fills, "tip": tips})

    def style(feature: dict) -> dict:
        return {"className": CHOROPLETH_CLASS, "fillColor": feature["properties"]["fill"],
                "fillOpacity": 0.75, "color": "#5f5f5f", "weight": 0.7}

    group = tooltip_geojson_layer(data, name=name, show=show, style=style)
    if legend:
        items = legend_items(breaks, vals, spec, lang)
        group.add_child(Legend(label, items, position="bottomright", key="choropleth"))
    return group


def legend_items(breaks: np.ndarray, values: np.ndarray, spec: Measure, lang: str) -> list[tuple[str, str]]:
    """(colour, range text) per used class, plus "no data" when some grid has no value."""
    items = []
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else None
    for k, upper in enumerate(breaks):
        colour = classify(np.array([upper]), breaks, better=spec.better)[0]
        lower = low if k == 0 else float(breaks[k - 1])
        text = (spec.format(upper) if lower is None or lower == upper
                else f"{spec.format(lower)} – {spec.format(upper)}")
        items.append((colour, text))
    if not np.isfinite(values).all():
        items.append((NO_DATA, t("no_data", lang)))
    return items
