"""Page: the leaders' big screen (领导驾驶舱) and one-click 周报/月报/季报 (PDF, PPTX).

Thin wiring: the figures come from :func:`metrics.briefing.build_briefing` (scoped to the caller),
the board's HTML from :func:`reports.screen.board_html`, the reports from
:func:`reports.make.make_report`. One 1920x1080 screen without scrolling; the board refreshes
itself every ``refresh_seconds`` (at least a minute).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from access.database import read_session
from core import clock
from core.errors import GridCommandError
from core.i18n import t
from metrics.briefing import MAP_MEASURES, build_briefing
from metrics.periods import KINDS, Period, recent_periods
from reports.fonts import cjk_font_path
from reports.make import MIME, make_report
from reports.screen import ScreenOptions, board_html
from reports.wording import label, names, period_title, report_name
from views import _data
from views._auth import require_page
from views._state import lang, settings

user = require_page("briefing")
language = lang()
cfg = settings()
scope = user.scope
hierarchy = _data.hierarchy_or_stop(cfg.hierarchy_path, language)
engine = _data.engine(cfg.database_url)
known = names(hierarchy)
now = clock.now()

# --- controls: one row above the board -------------------------------------------------------
columns = st.columns([0.8, 1.5, 1.4, 1.4, 1.0, 0.9, 1.1, 1.1], vertical_alignment="bottom")
kind = columns[0].selectbox(t("brief_kind", language), list(KINDS), index=1, key="brief_kind",
                            format_func=lambda key: t(f"brief_kind_{key}", language))
period: Period = columns[1].selectbox(t("brief_period", language), recent_periods(kind, now, 8),
                                      key=f"brief_period_{kind}", format_func=lambda p: period_title(p, language))
areas = [None, *(code for level in ("streets", "communities") if level in hierarchy
                 for code in hierarchy[level]["code"].astype(str))]
area: str | None = columns[2].selectbox(t("brief_area", language), areas, key="brief_area",
                                        format_func=lambda code: known.get(code, t("brief_district", language))
                                        if code else t("brief_district", language))
measure = columns[3].selectbox(t("brief_measure", language), MAP_MEASURES, key="brief_measure",
                               format_func=lambda key: label(key, language))
level = columns[4].selectbox(t("brief_level", language), ("community", "grid"), key="brief_level",
                             format_func=lambda key: t(f"brief_level_{key}", language))
rotate = columns[5].toggle(t("brief_rotate", language), key="brief_rotate")


def _report(fmt: str) -> Callable[[], bytes]:
    """The report of the chosen period and area, made when the button is pressed."""
    def make() -> bytes:
        with read_session(engine) as session:
            return make_report(session, scope, period, fmt=fmt, now=clock.now(), hierarchy=hierarchy,
                               metric_crs=cfg.metric_crs, area=area, measure=measure, lang=language).data

    return make


try:
    cjk_font_path()
    font_problem = None
except GridCommandError as exc:
    font_problem = str(exc)
name = report_name(period, language)
for column, fmt in zip(columns[6:], ("pdf", "pptx"), strict=True):
    column.download_button(t("brief_download", language, report=name, fmt=fmt.upper()), data=_report(fmt),
                           file_name=f"{period.label}-{area or 'district'}.{fmt}", mime=MIME[fmt], on_click="ignore",
                           key=f"brief_download_{fmt}", disabled=font_problem is not None,
                           icon=":material/download:", width="stretch")
if font_problem:
    st.caption(t("brief_report_failed", language, error=font_problem))


# --- the board ------------------------------------------------------------------------------------
@st.fragment(run_every=max(60, int(cfg.refresh_seconds)))
def board() -> None:
    """The figures and the board, read afresh on every refresh."""
    shown_at = clock.now()
    with read_session(engine) as session:
        briefing = build_briefing(session, scope, period, now=shown_at, area=area)
    options = ScreenOptions(measure=measure, level=level, rotate=rotate, lang=language, metric_crs=cfg.metric_crs)
    st.html(board_html(briefing, hierarchy, options, shown_at=shown_at))


board()
