"""The big screen (大屏) of a briefing as one HTML board: headline figures with 同比/环比 arrows, the
district map coloured by a measure, rankings graded 优/良/差, hotspots and open emergencies.

Self-contained: inline CSS (:mod:`reports.screen_style`), the map as an embedded PNG, no script,
nothing loaded from anywhere. Every text from the hierarchy is escaped. Counts and rates only.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

import geopandas as gpd

from core.i18n import t
from metrics.briefing import Briefing
from reports import charts
from reports.content import HeadlineRow, headline_rows, last_day
from reports.screen_style import RANKING_ROWS, STYLE
from reports.wording import area_name, grade_word, label, names, period_title, value_text


@dataclass(frozen=True)
class ScreenOptions:
    """What the board shows: the map's measure, the ranking level (``community`` or ``grid``),
    whether the rankings rotate between both levels, the language and the metric CRS."""

    measure: str = "on_time_rate"
    level: str = "community"
    rotate: bool = False
    lang: str = "zh"
    metric_crs: str = "EPSG:4548"


def badge(grade: str | None, lang: str) -> str:
    """A grade as a coloured box with its word (优/良/差); empty without a grade."""
    word = grade_word(grade, lang)
    return f'<span class="gc-badge gc-grade-{grade}">{escape(word)}</span>' if word else ""


def _tile(row: HeadlineRow, lang: str) -> str:
    changes = "".join(
        f'<div class="gc-change gc-{tone}">{escape(name)} {escape(arrow)} {escape(text)}</div>'
        for name, arrow, text, tone in ((label("change_mom", lang), row.mom_arrow, row.mom, row.mom_tone),
                                        (label("change_yoy", lang), row.yoy_arrow, row.yoy, row.yoy_tone)))
    return (f'<div class="gc-tile" data-figure="{escape(row.key)}"><div class="gc-tile-label">'
            f"<span>{escape(row.label)}</span>{badge(row.grade, lang)}</div>"
            f'<div class="gc-tile-value">{escape(row.value)}</div>{changes}</div>')


def _ranking_rows(rows: list[dict[str, Any]], known: Mapping[str, str], by: str, lang: str) -> str:
    ranked = [r for r in rows if r.get("rank") is not None]
    shown: list[dict[str, Any] | None] = list(ranked)
    if len(ranked) > 2 * RANKING_ROWS:
        shown = [*ranked[:RANKING_ROWS], None, *ranked[-RANKING_ROWS:]]
    html = []
    for row in shown:
        if row is None:
            html.append(f'<tr class="gc-gap"><td colspan="4">… {len(ranked) - 2 * RANKING_ROWS} …</td></tr>')
            continue
        code = str(row["code"])
        rank = f"={row['rank']}" if row.get("tied") else str(row["rank"])
        html.append(f'<tr><td class="gc-num">{escape(rank)}</td><td class="gc-name">{escape(known.get(code, code))}'
                    f'</td><td class="gc-num">{escape(value_text(by, row.get(by)))}</td>'
                    f"<td>{badge(row.get('grade'), lang)}</td></tr>")
    return "".join(html)


def _ranking(briefing: Briefing, known: Mapping[str, str], options: ScreenOptions) -> str:
    levels = ("community", "grid") if options.rotate else (options.level,)
    rotors = []
    for level in levels:
        title = t("brief_ranking", options.lang, level=t(f"brief_level_{level}", options.lang),
                  by=label(briefing.rank_by, options.lang))
        rows = _ranking_rows(briefing.ranking(level), known, briefing.rank_by, options.lang)
        rotors.append(f'<div class="gc-rotor" data-level="{level}"><h2>{escape(title)}</h2><table>{rows}</table></div>')
    rotate = " gc-rotate" if options.rotate else ""
    return f'<section class="gc-ranking{rotate}" data-panel="ranking">{"".join(rotors)}</section>'


def _hotspots(briefing: Briefing, known: Mapping[str, str], lang: str) -> str:
    rows = "".join(
        f'<tr><td class="gc-name">{escape(known.get(str(r.code), str(r.code)))}</td>'
        f'<td class="gc-num">{int(r.current):,}</td><td class="gc-num gc-bad">▲ {int(r.hotspot_rise):,}</td></tr>'
        for r in briefing.hotspots.itertuples())
    body = f"<table>{rows}</table>" if rows else f'<div class="gc-muted">{escape(t("brief_no_hotspots", lang))}</div>'
    return f'<section data-panel="hotspots"><h2>{escape(t("brief_hotspots", lang))}</h2>{body}</section>'


def _emergencies(briefing: Briefing, known: Mapping[str, str], lang: str) -> str:
    em = briefing.emergencies
    rows = "".join(f'<tr><td class="gc-name">{escape(known.get(str(r.code), str(r.code or "—")))}</td>'
                   f'<td class="gc-num">{int(r.cases):,}</td></tr>' for r in em.by_community.head(3).itertuples())
    tone = "gc-bad" if em.awaiting else "gc-muted"
    return (f'<section data-panel="emergencies"><h2>{escape(t("brief_emergencies", lang))}</h2>'
            f'<div class="gc-big" data-count="{em.open}">{em.open:,}</div>'
            f'<div class="{tone}">{escape(t("brief_awaiting", lang, n=em.awaiting))}</div>'
            f"<table>{rows}</table></section>")


def _map(briefing: Briefing, hierarchy: Mapping[str, gpd.GeoDataFrame], options: ScreenOptions) -> str:
    png = charts.district_map(hierarchy, briefing.grid_values(options.measure), options.measure, area=briefing.area,
                              metric_crs=options.metric_crs, lang=options.lang, size=(6.6, 6.4), dpi=150,
                              look=charts.DARK)
    title = t("brief_map", options.lang, measure=label(options.measure, options.lang))
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<section class="gc-map" data-panel="map"><h2>{escape(title)}</h2>'
            f'<img alt="{escape(title)}" src="{source}"></section>')


def board_html(briefing: Briefing, hierarchy: Mapping[str, gpd.GeoDataFrame], options: ScreenOptions,
               *, shown_at: datetime) -> str:
    """The whole board: style sheet and panels (``data-panel``: headline, map, ranking, hotspots,
    emergencies)."""
    lang = options.lang
    known = names(hierarchy)
    when = period_title(briefing.period, lang)
    if briefing.window.until < briefing.period.end:
        when += t("period_running", lang, day=last_day(briefing.window).isoformat())
    title = f"{area_name(hierarchy, briefing.area, lang)} · {t('page_briefing', lang)}"
    tiles = "".join(_tile(row, lang) for row in headline_rows(briefing, lang))
    return (
        f'{STYLE}<div class="gc-brief" data-period="{escape(briefing.period.label)}">'
        f'<div class="gc-top"><h1>{escape(title)}</h1><span class="gc-when">{escape(when)} · '
        f'{escape(shown_at.strftime("%Y-%m-%d %H:%M"))}</span></div>'
        f'<div class="gc-tiles" data-panel="headline">{tiles}</div>'
        f'<div class="gc-body">{_map(briefing, hierarchy, options)}{_ranking(briefing, known, options)}'
        f'<div class="gc-side">{_hotspots(briefing, known, lang)}{_emergencies(briefing, known, lang)}</div></div>'
        "</div>"
    )
