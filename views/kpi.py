"""Page: KPIs and rankings (考核指标) for leaders' briefings and chiefs' evaluations.

Thin wiring: every number comes from :func:`metrics.kpi.kpi_table` (scoped to the caller), every
formula from :data:`metrics.formulas.KPI_FORMULAS`; names of areas from the hierarchy.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.i18n import t
from metrics.formulas import KPI_FORMULAS as FORMULAS
from metrics.formulas import RATES
from metrics.kpi import kpi_table, whole_days_since
from views import _data
from views._auth import require_page
from views._state import lang, settings

user = require_page("kpi")
language = lang()
cfg = settings()
scope = user.scope
st.title(t("page_kpi", language))

LEVELS = ("street", "community", "grid", "worker", "department")
WINDOWS = {"30": 30, "90": 90, "365": 365, "all": None}
GRADE_MARK = {"green": "🟢", "yellow": "🟡", "red": "🔴", None: ""}

left, middle, right = st.columns(3)
by = left.selectbox(t("kpi_by", language), LEVELS, index=2,
                    format_func=lambda key: t(f"kpi_level_{key}", language), key="kpi_by")
window = middle.selectbox(t("kpi_window", language), list(WINDOWS),
                          format_func=lambda key: t(f"kpi_window_{key}", language), key="kpi_window")
rank_by = right.selectbox(t("kpi_rank_by", language), RATES,
                          format_func=lambda key: getattr(FORMULAS[key], language), key="kpi_rank_by")

now = clock.now()
days = WINDOWS[window]
since = whole_days_since(now, days)
report = kpi_table(_data.engine(cfg.database_url), by=by, since=since, until=None, now=now,
                   rank_by=rank_by, scope=scope)


def _label(key: str) -> str:
    return getattr(FORMULAS[key], language)


def _value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    unit = FORMULAS[key].unit
    return f"{value * 100:.2f} %" if unit == "%" else (f"{value:.1f}" if isinstance(value, float) else str(value))


# --- district (or the caller's area) totals --------------------------------------------------
total = report.total
columns = st.columns(len(RATES))
for column, key in zip(columns, RATES, strict=True):
    mark = GRADE_MARK.get(total.get(f"grade_{key}"), "")
    column.metric(f"{mark} {_label(key)}", _value(key, total.get(key)))

# --- ranking -----------------------------------------------------------------------------------
names: dict[str, str] = {}
hierarchy = _data.hierarchy(cfg.hierarchy_path)
if hierarchy is not None and by in ("street", "community", "grid"):
    layer = hierarchy[{"street": "streets", "community": "communities", "grid": "grids"}[by]]
    names = dict(zip(layer["code"], layer["name"], strict=True))

shown = ["reported", "closed", "due", *RATES, "mean_handling_hours", "mean_arrival_minutes"]
table = pd.DataFrame(
    {
        t("kpi_rank", language): [row.get("rank") for row in report.rows],
        t("kpi_code", language): [row.get("code") or "—" for row in report.rows],
        t("kpi_name", language): [names.get(str(row.get("code")), "") for row in report.rows],
        **{
            _label(key) + (" " if key in RATES else ""): [
                f"{GRADE_MARK.get(row.get(f'grade_{key}'), '')} {_value(key, row.get(key))}".strip()
                if key in RATES else _value(key, row.get(key))
                for row in report.rows
            ]
            for key in shown
        },
    }
)
st.subheader(t("kpi_ranking", language, level=t(f"kpi_level_{by}", language)))
st.dataframe(table, hide_index=True, width="stretch")

# --- formulas, shown once, from the one definition ------------------------------------------------
with st.expander(t("kpi_formulas", language)):
    st.dataframe(
        pd.DataFrame(
            {
                t("kpi_name", language): [_label(key) for key in FORMULAS],
                t("kpi_numerator", language): [f.numerator for f in FORMULAS.values()],
                t("kpi_denominator", language): [f.denominator or "—" for f in FORMULAS.values()],
                t("kpi_exclusions", language): [f.exclusions for f in FORMULAS.values()],
            }
        ),
        hide_index=True,
        width="stretch",
    )
