"""What a report says, worked out once for both formats: titles, the headline rows, the tables
(rankings, hotspots, overdue and reworked, coverage, emergencies), the pictures and the summary.

Every number is formatted from the :class:`metrics.briefing.Briefing` it is given; the PDF and
the slides only lay this out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import geopandas as gpd

from core.constants import CATEGORIES
from core.i18n import t
from metrics.briefing import HEADLINE, Briefing
from metrics.formulas import grade_rate
from metrics.periods import Window
from reports import charts
from reports.summary import summary_text
from reports.wording import (
    area_name,
    arrow,
    change_text,
    grade_word,
    label,
    names,
    period_title,
    report_name,
    tone,
    value_text,
)

#: Figures of the rankings table after rank and name (the ranking measure is added when it is another).
RANKING_FIGURES: tuple[str, ...] = ("reported", "closure_rate", "on_time_rate", "satisfaction_rate", "arrival_rate")


@dataclass(frozen=True)
class HeadlineRow:
    """One headline figure as printed."""

    key: str
    label: str
    value: str
    grade: str | None
    mom: str
    yoy: str
    mom_arrow: str
    yoy_arrow: str
    mom_tone: str
    yoy_tone: str


@dataclass(frozen=True)
class Table:
    """A table as printed: header, rows of text, and the grade of each row (for the last column)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    grades: list[str | None] = field(default_factory=list)
    empty: str = ""


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows."""

    title: str
    subtitle: str
    summary: str
    note: str
    headline: list[HeadlineRow]
    ranking: Table
    hotspots: Table
    backlog: Table
    coverage: Table
    emergencies: Table
    categories: list[tuple[str, int]]
    map_title: str
    map_png: bytes
    chart_png: bytes


def headline_rows(briefing: Briefing, lang: str = "zh") -> list[HeadlineRow]:
    """The headline figures with their 环比 and 同比."""
    rows = []
    for key in HEADLINE:
        figure = briefing.figures[key]
        rows.append(HeadlineRow(key, label(key, lang), value_text(key, figure.value), figure.grade,
                                change_text(key, figure.mom, lang), change_text(key, figure.yoy, lang),
                                arrow(figure.mom), arrow(figure.yoy), tone(key, figure.mom), tone(key, figure.yoy)))
    return rows


def _rank(row: Mapping[str, Any]) -> str:
    if row.get("rank") is None:
        return "—"
    return f"={row['rank']}" if row.get("tied") else str(row["rank"])


def ranking_table(briefing: Briefing, level: str, known: Mapping[str, str], lang: str = "zh") -> Table:
    """Communities (or grids) ranked, with the ranking measure and its grade."""
    by = briefing.rank_by
    keys = [*RANKING_FIGURES, *([by] if by not in RANKING_FIGURES else [])]
    rows, grades = [], []
    for row in briefing.ranking(level):
        code = str(row["code"])
        rows.append([_rank(row), known.get(code, code), *(value_text(k, row.get(k)) for k in keys),
                     grade_word(row["grade"], lang)])
        grades.append(row["grade"])
    header = [t("brief_col_rank", lang), t("brief_col_name", lang), *(label(k, lang) for k in keys),
              t("brief_col_grade", lang)]
    title = t("brief_ranking", lang, level=t(f"brief_level_{level}", lang), by=label(by, lang))
    return Table(title, header, rows, grades)


def hotspot_table(briefing: Briefing, known: Mapping[str, str], lang: str = "zh") -> Table:
    """The grids whose cases rose most."""
    rows = [[known.get(str(r.code), str(r.code)), f"{int(r.current):,}", f"{int(r.previous):,}",
             f"+{int(r.hotspot_rise):,}"] for r in briefing.hotspots.itertuples()]
    header = [t("brief_col_name", lang), t("brief_col_current", lang), t("brief_col_previous", lang),
              label("hotspot_rise", lang)]
    return Table(t("brief_hotspots", lang), header, rows, empty=t("brief_no_hotspots", lang))


def backlog_table(briefing: Briefing, known: Mapping[str, str], lang: str = "zh") -> Table:
    """Overdue and reworked cases per community (counts only)."""
    rows = [[known.get(str(r.code), str(r.code or "—")), f"{int(r.overdue_unclosed):,}", f"{int(r.reworked_cases):,}"]
            for r in briefing.backlog.itertuples()]
    header = [t("brief_col_name", lang), label("overdue_unclosed", lang), label("reworked_cases", lang)]
    return Table(t("brief_backlog", lang), header, rows, empty=t("brief_no_backlog", lang))


def coverage_table(briefing: Briefing, known: Mapping[str, str], lang: str = "zh") -> Table:
    """Four-visit coverage per community, graded."""
    recorded = briefing.figures["period_coverage"].value is not None
    rows, grades = [], []
    for r in briefing.coverage_communities.itertuples():
        value = float(r.coverage) if recorded and r.coverage == r.coverage else None
        grade = grade_rate(value)
        rows.append([known.get(str(r.code), str(r.code or "—")), f"{int(r.households_due):,}", f"{int(r.visited):,}",
                     value_text("period_coverage", value), grade_word(grade, lang)])
        grades.append(grade)
    header = [t("brief_col_name", lang), t("brief_col_due", lang), t("brief_col_visited", lang),
              label("period_coverage", lang), t("brief_col_grade", lang)]
    return Table(t("brief_coverage", lang), header, rows, grades)


def emergency_table(briefing: Briefing, known: Mapping[str, str], lang: str = "zh") -> Table:
    """Open emergencies per community, the total and those nobody has reached in the title."""
    em = briefing.emergencies
    rows = [[known.get(str(r.code), str(r.code or "—")), f"{int(r.cases):,}"] for r in em.by_community.itertuples()]
    title = f"{label('open_emergencies', lang)} {em.open:,} · {t('brief_awaiting', lang, n=em.awaiting)}"
    return Table(title, [t("brief_col_name", lang), t("brief_col_cases", lang)], rows,
                 empty=t("brief_no_emergencies", lang))


def last_day(window: Window) -> date:
    """The last day a window counts."""
    return (window.until - timedelta(days=1)).date()


def note_text(briefing: Briefing, lang: str = "zh") -> str:
    """How the figures were counted (window, time of evaluation, comparisons)."""
    window = briefing.window
    return t("brief_note", lang, since=window.since.date().isoformat(), until=last_day(window).isoformat(),
             now=briefing.now.strftime("%Y-%m-%d %H:%M"), unit=t(f"brief_unit_{briefing.period.kind}", lang))


def report_title(briefing: Briefing, hierarchy: Mapping[str, gpd.GeoDataFrame], lang: str = "zh") -> str:
    """锦川街道2026年11月月报 (area, period, kind)."""
    return t("brief_title", lang, area=area_name(hierarchy, briefing.area, lang),
             period=period_title(briefing.period, lang), report=report_name(briefing.period, lang))


def build_content(briefing: Briefing, hierarchy: Mapping[str, gpd.GeoDataFrame], *, metric_crs: str,
                  measure: str = "on_time_rate", lang: str = "zh") -> ReportContent:
    """Everything a report on ``briefing`` shows, the map coloured by ``measure``."""
    known = names(hierarchy)
    running = briefing.window.until < briefing.period.end
    subtitle = period_title(briefing.period, lang)
    if running:
        subtitle += t("period_running", lang, day=last_day(briefing.window).isoformat())
    categories = [(CATEGORIES[key].text(lang), n) for key, n in briefing.categories.items()]
    return ReportContent(
        title=report_title(briefing, hierarchy, lang), subtitle=subtitle,
        summary=summary_text(briefing, known, area_name(hierarchy, briefing.area, lang), lang),
        note=note_text(briefing, lang), headline=headline_rows(briefing, lang),
        ranking=ranking_table(briefing, "community", known, lang), hotspots=hotspot_table(briefing, known, lang),
        backlog=backlog_table(briefing, known, lang), coverage=coverage_table(briefing, known, lang),
        emergencies=emergency_table(briefing, known, lang), categories=categories,
        map_title=t("brief_map", lang, measure=label(measure, lang)),
        map_png=charts.district_map(hierarchy, briefing.grid_values(measure), measure, area=briefing.area,
                                    metric_crs=metric_crs, lang=lang),
        chart_png=charts.category_chart(categories, lang=lang),
    )
