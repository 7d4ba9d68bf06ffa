"""Page: KPIs and rankings (考核指标) for leaders' briefings and chiefs' evaluations.

Thin wiring: every number comes from :func:`metrics.kpi.kpi_table` (scoped to the caller), every
formula from :data:`metrics.formulas.FORMULAS`, ranks and ties from :mod:`metrics.score`; names
of areas from the hierarchy.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.i18n import t
from metrics.formulas import FORMULAS, RATES, describe
from metrics.kpi import kpi_table, whole_days_since
from metrics.score import rank_text
from views import _data
from views._auth import require_page
from views._grades import badge, graded_cell, style_grades
from views._state import lang, settings

user = require_page("kpi")
language = lang()
cfg = settings()
st.title(t("page_kpi", language))

LEVELS = ("street", "community", "grid", "worker", "department")
WINDOWS = {"30": 30, "90": 90, "365": 365, "all": None}
#: The columns the ranking leads with; the others fold into an expander.
LEADING = ("score", "on_time_rate", "satisfaction_rate", "rework_rate")
FOLDED = ("reported", "closed", "due", "closure_rate", "arrival_rate", "extension_rate",
          "mean_handling_hours", "mean_arrival_minutes")


def _label(key: str) -> str:
    return getattr(FORMULAS[key], language) if key in FORMULAS else t(f"kpi_{key}", language)


def _value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    unit = FORMULAS[key].unit if key in FORMULAS else None
    return f"{value * 100:.1f} %" if unit == "%" else (f"{value:.1f}" if isinstance(value, float) else str(value))


left, middle, right = st.columns(3)
by = left.selectbox(t("kpi_by", language), LEVELS, index=2,
                    format_func=lambda key: t(f"kpi_level_{key}", language), key="kpi_by")
window = middle.selectbox(t("kpi_window", language), list(WINDOWS),
                          format_func=lambda key: t(f"kpi_window_{key}", language), key="kpi_window")
rank_by = right.selectbox(t("kpi_rank_by", language), ("score", *RATES), format_func=_label, key="kpi_rank_by")

now = clock.now()
report = kpi_table(_data.engine(cfg.database_url), by=by, since=whole_days_since(now, WINDOWS[window]),
                   until=None, now=now, rank_by=rank_by, scope=user.scope)

# --- district (or the caller's area) totals --------------------------------------------------
total = report.total
for column, key in zip(st.columns(1 + len(RATES)), ("score", *RATES), strict=True):
    column.metric(_label(key), _value(key, total.get(key)))
    column.markdown(badge(total.get(f"grade_{key}"), language) or "&nbsp;")

# --- ranking -----------------------------------------------------------------------------------
names: dict[str, str] = {}
hierarchy = _data.hierarchy(cfg.hierarchy_path)
if hierarchy is not None and by in ("street", "community", "grid"):
    layer = hierarchy[{"street": "streets", "community": "communities", "grid": "grids"}[by]]
    names = dict(zip(layer["code"], layer["name"], strict=True))


def _graded_column(key: str) -> list[str]:
    return [graded_cell(_value(key, row.get(key)), row.get(f"grade_{key}"), language) for row in report.rows]


name_column = t("kpi_name", language)
leading = pd.DataFrame({
    t("kpi_rank", language): [rank_text(row) for row in report.rows],
    name_column: [names.get(str(row.get("code")), "") or str(row.get("code") or "—") for row in report.rows],
    **{_label(key): _graded_column(key) for key in LEADING},
})
st.subheader(t("kpi_ranking", language, level=t(f"kpi_level_{by}", language)))
st.caption(t("kpi_tie_note", language, by=_label(rank_by)))
grades = {_label(key): [row.get(f"grade_{key}") for row in report.rows] for key in LEADING}
st.dataframe(style_grades(leading, grades), hide_index=True, width="stretch")

with st.expander(t("kpi_more", language)):
    folded = pd.DataFrame({
        t("kpi_rank", language): [rank_text(row) for row in report.rows],
        t("kpi_code", language): [str(row.get("code") or "—") for row in report.rows],
        name_column: leading[name_column],
        **{_label(key): _graded_column(key) for key in FOLDED},
    })
    folded_grades = {_label(key): [row.get(f"grade_{key}") for row in report.rows] for key in FOLDED if key in RATES}
    st.dataframe(style_grades(folded, folded_grades), hide_index=True, width="stretch")

# --- formulas, shown once, from the one definition ------------------------------------------------
with st.expander(t("kpi_formulas", language)):
    shown = ("score", *RATES, "mean_handling_hours", "mean_arrival_minutes")
    texts = [describe(key, language) for key in shown]
    st.dataframe(
        pd.DataFrame({
            name_column: [_label(key) for key in shown],
            t("kpi_numerator", language): [text[0] for text in texts],
            t("kpi_denominator", language): [text[1] for text in texts],
            t("kpi_exclusions", language): [text[2] for text in texts],
        }),
        hide_index=True,
        width="stretch",
    )
