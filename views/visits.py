"""Page: four-visit coverage (四访走访) per area for a month, and who is still to be visited.

Thin wiring: coverage from :mod:`metrics.coverage`, the households still due from
:func:`registry.queries.households_to_visit` (masked; not for leaders), grades from
:func:`metrics.formulas.grade_rate`, area names from the hierarchy.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access.database import read_session
from core import clock
from core.constants import VISIT_CATEGORIES
from core.i18n import t
from metrics.coverage import coverage_totals, visit_coverage
from metrics.formulas import grade_rate
from registry.queries import households_to_visit
from views import _data
from views._auth import require_page
from views._state import lang, settings

user = require_page("visits")
language = lang()
cfg = settings()
scope = user.scope
st.title(t("page_visits", language))

GRADE_MARK = {"green": "🟢", "yellow": "🟡", "red": "🔴", None: ""}
LEVEL_LAYERS = {"street": "streets", "community": "communities", "grid": "grids"}
TODO_LIMIT = 500

now = clock.now()
months = [f"{p.year}-{p.month:02d}" for p in pd.period_range(end=pd.Period(now, "M"), periods=12, freq="M")][::-1]
left, middle, right = st.columns(3)
month = left.selectbox(t("visits_month", language), months, key="visits_month")
category = middle.selectbox(t("visits_category", language), ["", *VISIT_CATEGORIES], key="visits_category",
                            format_func=lambda k: VISIT_CATEGORIES[k].text(language) if k
                            else t("visits_all_categories", language))
by = right.selectbox(t("kpi_by", language), list(LEVEL_LAYERS), index=2, key="visits_by",
                     format_func=lambda k: t(f"kpi_level_{k}", language))

hierarchy = _data.hierarchy(cfg.hierarchy_path)
names: dict[str, str] = {}
if hierarchy is not None:
    for layer in LEVEL_LAYERS.values():
        names.update(zip(hierarchy[layer]["code"].astype(str), hierarchy[layer]["name"].astype(str), strict=True))


def _percent(value: float) -> str:
    return "—" if pd.isna(value) else f"{GRADE_MARK[grade_rate(value)]} {100 * value:.1f} %".strip()


engine = _data.engine(cfg.database_url)
with read_session(engine) as session:
    coverage = visit_coverage(session, scope, month, by=by, category=category or None)
    todo = None
    if scope.records_allowed:
        credible = st.toggle(t("visits_todo_credible", language), value=False, key="visits_credible")
        todo = households_to_visit(session, scope, month, category=category or None, credible=credible,
                                          limit=TODO_LIMIT)

totals = coverage_totals(coverage)
tiles = st.columns(4)
tiles[0].metric(t("visits_due", language), totals["households_due"])
tiles[1].metric(t("visits_visited", language), totals["visited"])
tiles[2].metric(t("visits_coverage", language), _percent(totals["coverage"]))
tiles[3].metric(t("visits_credible", language), _percent(totals["credible_coverage"]))
st.caption(t("visits_formula", language))

st.subheader(t("visits_by_area", language, level=t(f"kpi_level_{by}", language)))
table = pd.DataFrame({
    t("kpi_code", language): coverage["code"].fillna("—"),
    t("kpi_name", language): coverage["code"].map(lambda c: names.get(str(c), "")),
    t("visits_due", language): coverage["households_due"],
    t("visits_visited", language): coverage["visited"],
    t("visits_on_site", language): coverage["visited_on_site"],
    t("visits_coverage", language): coverage["coverage"].map(_percent),
    t("visits_credible", language): coverage["credible_coverage"].map(_percent),
})
st.dataframe(table, hide_index=True, width="stretch")

if todo is not None:
    st.subheader(t("visits_todo", language))
    if todo.empty:
        st.success(t("visits_todo_none", language))
    else:
        st.dataframe(pd.DataFrame({
            t("visits_category", language): todo["category"].map(
                lambda k: VISIT_CATEGORIES[k].text(language) if k in VISIT_CATEGORIES else k),
            t("visits_head", language): todo["head_name"],
            t("visits_phone", language): todo["phone"],
            t("visits_building", language): todo["building_code"],
            t("kpi_level_grid", language): todo["grid_code"].map(lambda c: names.get(str(c), str(c))),
            t("visits_last", language): todo["last_visit_at"].dt.strftime("%Y-%m-%d").fillna("—"),
        }), hide_index=True, width="stretch")
        if len(todo) >= TODO_LIMIT:
            st.caption(t("visits_todo_more", language, limit=TODO_LIMIT))
