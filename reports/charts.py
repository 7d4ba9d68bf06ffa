"""Static pictures of a briefing, drawn offline with matplotlib: the district map coloured by a
measure (from the hierarchy itself, no tiles) and the cases-per-category chart.

Rates are coloured by their grade (优 green, 良 yellow, 差 red, as the rankings); counts by five
quantile classes of the command map's palette (dark = more). Text uses the CJK font of
:mod:`reports.fonts`. Figures are made without pyplot (no global state, safe in the dashboard's
threads).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch

from core.i18n import t
from geo.areas import grid_codes_under
from metrics.formulas import FORMULAS, grade_rate
from reports.fonts import chart_font
from reports.wording import GRADE_COLOURS, grade_word, is_rate, label, value_text


@dataclass(frozen=True)
class Look:
    """How a picture looks: ``ink`` for text and outlines, grid ``edge`` lines, ``background``
    (None: transparent), the fill of grids without a value, the size of area names (points) and
    whether the legend stands below the map (else to its right)."""

    ink: str = "#1f2933"
    edge: str = "#ffffff"
    background: str | None = "#ffffff"
    no_data: str = "#e6e6e6"  # the command map's "no data" grey
    names_pt: float = 7.0
    legend_below: bool = False


#: For paper and slides.
LIGHT = Look()
#: For the dark big screen, read from afar.
DARK = Look(ink="#e8eef5", edge="#0b1d33", background=None, no_data="#3c5478", names_pt=11.0, legend_below=True)


def _fill_colours(measure: str, values: np.ndarray, no_data: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A colour per value and the legend (colour, text)."""
    if is_rate(measure) and FORMULAS[measure].better:
        better = FORMULAS[measure].better or "higher"
        grades = [grade_rate(float(v), better=better) if np.isfinite(v) else None for v in values]
        fills = [GRADE_COLOURS[g][0] if g else no_data for g in grades]
        legend = [(GRADE_COLOURS[g][0], g) for g in ("green", "yellow", "red")]
        return fills, legend
    from layers.choropleth import NO_DATA, class_breaks, classify  # folium is slow to import: only for counts

    breaks = class_breaks(values)
    fills = [no_data if colour == NO_DATA else colour for colour in classify(values, breaks, better="lower")]
    finite = values[np.isfinite(values)]
    legend = []
    for k, upper in enumerate(breaks):
        lower = float(finite.min()) if k == 0 else float(breaks[k - 1])
        text = value_text(measure, upper)
        if lower != upper:
            text = f"{value_text(measure, lower)}–{text}"
        legend.append((classify(np.array([upper]), breaks, better="lower")[0], text))
    return fills, legend


def _legend_text(item: str, lang: str) -> str:
    return grade_word(item, lang) if item in GRADE_COLOURS else item


def district_map(hierarchy: Mapping[str, gpd.GeoDataFrame], values: pd.Series, measure: str, *,
                 area: str | None, metric_crs: str, lang: str = "zh", size: tuple[float, float] = (7.0, 5.6),
                 dpi: int = 200, fmt: str = "png", look: Look = LIGHT) -> bytes:
    """The grids of ``area`` (default all) filled by ``values`` (per grid code), community outlines
    and names, and a legend; PNG or SVG bytes."""
    grids = hierarchy["grids"]
    inside = grid_codes_under(hierarchy, area)
    if inside is not None:
        grids = grids.loc[grids["code"].astype(str).isin(inside)]
    shown = grids.to_crs(metric_crs)
    lookup = pd.Series(values.to_numpy(dtype=float), index=values.index.astype(str))
    mapped = shown["code"].astype(str).map(lookup)
    if not is_rate(measure):
        mapped = mapped.fillna(0.0)  # a count: a grid without cases has none
    vals = mapped.to_numpy(dtype=float)
    fills, legend = _fill_colours(measure, vals, look.no_data)
    font = chart_font()
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.subplots()
    fig.patch.set_alpha(0.0 if look.background is None else 1.0)
    if look.background:
        fig.patch.set_facecolor(look.background)
    shown.plot(ax=ax, color=fills, edgecolor=look.edge, linewidth=0.4)
    communities = hierarchy.get("communities")
    if communities is not None and len(communities):
        parents = set(grids["parent_code"].astype(str))
        outlines = communities.loc[communities["code"].astype(str).isin(parents)].to_crs(metric_crs)
        outlines.boundary.plot(ax=ax, color=look.ink, linewidth=1.1)
        if len(outlines) > 1:
            _label_areas(ax, outlines, _sized(font, look.names_pt), look)
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = [Patch(facecolor=c, edgecolor=look.ink, linewidth=0.3, label=_legend_text(text, lang))
               for c, text in legend]
    if not np.isfinite(vals).all():
        handles.append(Patch(facecolor=look.no_data, edgecolor=look.ink, linewidth=0.3, label=t("no_data", lang)))
    size_pt = look.names_pt + 2
    if look.legend_below:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles),
                  prop=_sized(font, size_pt), frameon=False, labelcolor=look.ink)
    else:
        key = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), prop=_sized(font, size_pt),
                        frameon=False, labelcolor=look.ink, title=label(measure, lang),
                        title_fontproperties=_sized(font, size_pt + 1), alignment="left")
        key.get_title().set_color(look.ink)
    return _save(fig, fmt, dpi)


def _sized(font: FontProperties, size: float) -> FontProperties:
    sized = font.copy()
    sized.set_size(size)
    return sized


def _label_areas(ax: Axes, outlines: gpd.GeoDataFrame, font: FontProperties, look: Look) -> None:
    halo = "#ffffff" if look.background else "#0b1d33"
    points = outlines.geometry.representative_point()
    for point, name in zip(points, outlines["name"].astype(str), strict=True):
        ax.annotate(name, (point.x, point.y), ha="center", va="center", fontproperties=font, color=look.ink,
                    path_effects=[patheffects.withStroke(linewidth=2.2, foreground=halo)])


def category_chart(counts: Sequence[tuple[str, int]], *, lang: str = "zh", size: tuple[float, float] = (6.0, 2.6),
                   dpi: int = 200, look: Look = LIGHT) -> bytes:
    """Horizontal bars of cases per category, the count at each bar's end; PNG bytes."""
    font = chart_font()
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.subplots()
    names = [name for name, _ in counts][::-1]
    numbers = [int(n) for _, n in counts][::-1]
    bars = ax.barh(names, numbers, color="#3b7dd8")
    top = max(numbers, default=0) or 1
    for bar, n in zip(bars, numbers, strict=True):
        ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, f"{n:,}", va="center",
                fontproperties=_sized(font, 9), color=look.ink)
    ax.set_xlim(0, top * 1.15)
    for tick in ax.get_yticklabels():
        tick.set_fontproperties(_sized(font, 10))
    ax.tick_params(colors=look.ink)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(t("brief_col_cases", lang), fontproperties=_sized(font, 9), color=look.ink)
    fig.tight_layout()
    return _save(fig, "png", dpi)


def _save(fig: Figure, fmt: str, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.05, transparent=fmt == "svg")
    return buffer.getvalue()
