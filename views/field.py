"""Page: the grid worker's phone (工作通) - my cases (due first), my visits due this month, my grid.

Made for a 390 px wide screen: one column, large touch targets, no horizontal scrolling. Thin
wiring: cases from :mod:`cases.desk` (urgency order) and :mod:`cases.queries`, actions through the
generated forms of ``views._case_panel`` (:func:`cases.commands.act`), visits through
:func:`registry.commands.record_visit`, the phone's position from ``views._geolocation``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access.database import read_session, unit_of_work
from cases.desk import by_urgency
from cases.queries import CaseFilter, list_cases
from core import clock
from core.constants import CATEGORIES, OPEN_STATES, STATES, VISIT_CATEGORIES
from core.errors import GridCommandError
from core.i18n import t
from layers.basemaps import build_basemap
from layers.cases import build_cases_layer
from layers.compose import assemble, bounds_of
from layers.hierarchy import build_building_layer, build_selection_layer
from registry.commands import record_visit
from registry.queries import households_to_visit
from views import _data
from views._auth import require_page
from views._case_panel import PanelContext, case_panel
from views._geolocation import browser_position
from views._state import lang, settings

user = require_page("field")
scope, language, cfg = user.scope, lang(), settings()
engine = _data.engine(cfg.database_url)
now = clock.now()
# Large touch targets and no horizontal scrolling on a phone.
st.html("<style>.stButton button, .stFormSubmitButton button { min-height: 48px; width: 100%; font-size: 17px; }"
        ".block-container { padding-left: 0.8rem; padding-right: 0.8rem; overflow-x: hidden; }</style>")


def _due_text(hours: float) -> str:
    if pd.isna(hours):
        return ""
    if hours < 0:
        return t("field_overdue_by", language, hours=f"{-hours:.0f}")
    return t("field_left", language, hours=f"{hours:.0f}")


def _case_label(row: pd.Series) -> str:
    category = CATEGORIES[row["category"]].text(language) if row["category"] in CATEGORIES else row["category"]
    state = STATES[row["state"]].text(language) if row["state"] in STATES else row["state"]
    return f"#{row['id']} {category} · {state} · {_due_text(row['hours_left'])}".strip(" ·")


def my_cases() -> None:
    """My open cases, the most urgent first; a tap opens one."""
    with read_session(engine) as session:
        rows = list_cases(session, scope, CaseFilter(states=tuple(sorted(OPEN_STATES)), assignee_id=user.worker_id),
                          limit=200)
    if rows.empty:
        st.caption(t("field_no_cases", language))
        return
    for _, row in by_urgency(rows, now).iterrows():
        if st.button(_case_label(row), key=f"field_open_{row['id']}"):
            st.session_state["field_case"] = int(row["id"])
            st.rerun()
        if row["text"]:
            st.caption(str(row["text"])[:60])


def open_case(case_id: int) -> None:
    """One case: back to the list, the phone's position, then header, actions and timeline."""
    if st.button(t("field_back", language), key="field_back"):
        st.session_state["field_case"] = None
        st.rerun()
    geo_key = f"field_geo_{case_id}"
    browser_position(t("field_locate", language), key=geo_key)
    case_panel(engine, PanelContext(scope=scope, language=language, settings=cfg, geolocation_key=geo_key), case_id)


def my_visits() -> None:
    """The households still to visit this month, and a form to record a visit."""
    with read_session(engine) as session:
        todo = households_to_visit(session, scope, now.strftime("%Y-%m"), limit=200)
    if todo.empty:
        st.caption(t("field_no_visits", language))
        return
    labels = {str(r.id): f"{VISIT_CATEGORIES[r.category].text(language) if r.category in VISIT_CATEGORIES else ''} "
                         f"{r.head_name} · {r.building_code or ''}".strip() for r in todo.itertuples()}
    for text in labels.values():
        st.text(text)
    st.subheader(t("field_record_visit", language))
    browser_position(t("field_locate", language), key="field_geo_visit")
    located = st.session_state.get("field_geo_visit")
    with st.form("field_visit"):
        household = st.selectbox(t("field_household", language), list(labels.keys()),
                                 format_func=lambda k: labels.get(k, k))
        outcome = st.text_area(t("field_outcome", language), max_chars=500)
        no_fix = st.checkbox(t("arrive_without_position", language))
        if st.form_submit_button(t("field_record_visit", language)) and household:
            _record(str(household), outcome, located, no_fix)


def _record(household: str, outcome: str, located: object, no_fix: bool) -> None:
    lon = lat = None
    if isinstance(located, dict) and located.get("lon") is not None:
        lon, lat = float(located["lon"]), float(located["lat"])
    try:
        with unit_of_work(engine) as session:
            visit = record_visit(session, scope, household, outcome=outcome, lon=lon, lat=lat, no_fix=no_fix)
    except GridCommandError as exc:
        st.error(str(exc))
        return
    distance = t("field_no_distance", language) if visit.distance_m is None else f"{visit.distance_m:.0f} m"
    verdict = t("field_on_site" if visit.on_site else "field_not_on_site", language)
    st.success(t("field_visit_saved", language, distance=distance, verdict=verdict))


def my_grid() -> None:
    """My grid's outline, its buildings and my open cases on a small offline map."""
    hierarchy = _data.hierarchy_or_stop(cfg.hierarchy_path, language)
    grids = hierarchy["grids"]
    mine = grids.loc[grids["code"].astype(str).isin(scope.area_codes)]
    if mine.empty:
        return
    basemap = build_basemap(cfg.basemap)
    layers = [build_selection_layer(grids, code, name=t("field_my_grid", language), lang=language, basemap=basemap)
              for code in mine["code"].astype(str)]
    buildings = hierarchy.get("buildings")
    if buildings is not None and len(buildings):
        inside = buildings.loc[buildings["parent_code"].astype(str).isin(scope.area_codes)]
        if len(inside):
            layers.append(build_building_layer(inside, name=t("layer_buildings", language), show=True, lang=language,
                                               basemap=basemap))
    with read_session(engine) as session:
        rows = list_cases(session, scope, CaseFilter(states=tuple(sorted(OPEN_STATES)), assignee_id=user.worker_id))
    layers.append(build_cases_layer(rows, name=t("field_my_cases", language), lang=language, grids=grids,
                                    basemap=basemap))
    tiles = basemap.tile_layers(name=t("layer_basemap", language))
    st_folium(assemble(layers, bounds=bounds_of(mine), tile_layers=tiles), key="field_map", height=360,
              use_container_width=True, returned_objects=[])


st.title(t("page_field", language))
if st.session_state.get("field_case"):
    open_case(int(st.session_state["field_case"]))
else:
    cases_tab, visits_tab, grid_tab = st.tabs([t("field_my_cases", language), t("field_my_visits", language),
                                               t("field_my_grid", language)])
    with cases_tab:
        my_cases()
    with visits_tab:
        my_visits()
    with grid_tab:
        my_grid()
