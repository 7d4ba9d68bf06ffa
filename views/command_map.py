"""Page: the command-centre live map (指挥地图) - filters, KPI tiles, map, panel, case list.

Thin wiring only: numbers from ``metrics.command``, reads from the read APIs, actions through
``cases.commands`` (``views._case_panel``), layers from ``views._command_layers``. The static part
of the map (basemap, hierarchy, facilities) is the folium map itself, so streamlit-folium keeps
the component - and the operator's view - across refreshes; the live parts (cases, workers,
choropleth) go in as ``feature_group_to_add``.
"""

from __future__ import annotations

import re
from typing import Any

import folium
import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session
from streamlit_folium import st_folium

from cases.queries import CaseFilter
from core import clock
from core.constants import CATEGORIES, POINT_LIMIT, SOURCES, STATES, TEAMS
from core.errors import GridCommandError
from core.i18n import t
from geo.areas import community_streets, grid_at
from layers.basemaps import build_basemap
from layers.choropleth import MEASURES
from metrics import command
from views import _data
from views._auth import md_escape, require_page
from views._case_panel import PanelContext, case_panel
from views._command_layers import MapView, base_map, live_layers
from views._deadlines import left_text
from views._state import lang, settings

CASE_ID = re.compile(r"^\s*#(\d+)")
user = require_page("command")
language = lang()
cfg = settings()
scope = user.scope

# --- wall layout ---------------------------------------------------------------------------
if st.query_params.get("wall") == "1":
    st.session_state["wall_mode"] = True
wall = bool(st.session_state.get("wall_mode"))
if wall:
    st.html("<style>[data-testid='stSidebar'], header[data-testid='stHeader'] { display: none; }"
            ".block-container { padding: 0.6rem 1rem 0 1rem; max-width: 100%; }</style>")

hierarchy = _data.hierarchy_or_stop(cfg.hierarchy_path, language)
basemap = build_basemap(cfg.basemap)
panel = PanelContext(scope=scope, language=language, settings=cfg, community_streets=community_streets(hierarchy),
                     rerun_scope="fragment")


# --- filters (sidebar; shared by the map, the list and the tiles) ----------------------------
def _label(options: dict, key: str | None) -> str:
    return t("all", language) if key is None else options[key].text(language)


def _names(level: str, parent: str | None = None) -> dict[str, str]:
    gdf = hierarchy.get(level)
    if gdf is None or len(gdf) == 0:
        return {}
    if parent:
        gdf = gdf.loc[gdf["parent_code"].astype(str) == parent]
    return dict(zip(gdf["code"].astype(str), gdf["name"].astype(str), strict=True))


pick = t("choose_option", language)  # a selectbox with no value shows it (Streamlit's own is English)
with st.sidebar:
    st.subheader(t("filters", language))
    window = st.selectbox(t("filter_window", language), list(command.WINDOWS), index=2,
                          format_func=lambda w: t(f"window_{w}", language), placeholder=pick, key="cm_window")
    category = st.selectbox(t("filter_category", language), [None, *CATEGORIES],
                            format_func=lambda k: _label(CATEGORIES, k), placeholder=pick, key="cm_category")
    states = st.multiselect(t("filter_state", language), list(STATES), placeholder=t("choose_options", language),
                            format_func=lambda k: STATES[k].text(language), key="cm_states", select_all=False)
    source = st.selectbox(t("filter_source", language), [None, *SOURCES],
                          format_func=lambda k: _label(SOURCES, k), placeholder=pick, key="cm_source")
    due = st.selectbox(t("due_filter", language), [None, *command.DUE_FILTERS], placeholder=pick, key="cm_due",
                       format_func=lambda k: t("all", language) if k is None else t(f"due_filter_{k}", language))
    streets = _names("streets")
    street = st.selectbox(t("filter_street", language), [None, *streets], placeholder=pick, key="cm_street",
                          format_func=lambda c: t("all", language) if c is None else streets[c])
    communities = _names("communities", street)
    community = st.selectbox(t("filter_community", language), [None, *communities], placeholder=pick,
                             key="cm_community",
                             format_func=lambda c: t("all", language) if c is None else communities[c])
    grid_names = _names("grids", community) if community else {}
    grid_pick = st.selectbox(t("filter_grid", language), [None, *grid_names], placeholder=pick, key="cm_grid",
                             format_func=lambda c: t("all", language) if c is None else grid_names[c],
                             disabled=not community)
    st.divider()
    mode = st.radio(t("map_mode", language), ["cluster", "heat"], horizontal=True, key="cm_mode",
                    format_func=lambda m: t(f"mode_{m}", language))
    measure = st.selectbox(t("measure", language), [None, *MEASURES], placeholder=pick, key="cm_measure",
                           format_func=lambda m: "—" if m is None else t(MEASURES[m].label_key, language))
    show_workers = st.checkbox(t("show_workers", language), value=True, key="cm_workers")
    show_facilities = st.checkbox(t("show_facilities", language), value=True, key="cm_facilities")
    st.toggle(t("wall_mode", language), key="wall_mode")

now = clock.now()
since, until = command.window_bounds(window, now)
flt = CaseFilter(since=since, until=until, category=category, source=source, states=tuple(states),
                 area_codes=tuple(c for c in (grid_pick or community or street,) if c))
view = MapView(scope=scope, language=language, settings=cfg, hierarchy=hierarchy, basemap=basemap, mode=mode,
               measure=measure, show_workers=show_workers, show_facilities=show_facilities)


# --- the live part ----------------------------------------------------------------------------
def _state_text(key: object) -> str:
    return STATES[str(key)].text(language) if str(key) in STATES else str(key)


#: Most rows the case list draws (the count above it tells how many match).
LIST_ROWS = 500


def _open_picked_case() -> None:
    """Open the case of the ticked row at once: the selection callback runs before the rerun
    that draws the panel, so the panel shows it on the same click."""
    rows = st.session_state["cm_case_list"]["selection"]["rows"]
    ids = st.session_state.get("case_list_ids") or []
    if rows and rows[0] < len(ids):
        st.session_state["selected_case"] = int(ids[rows[0]])
        st.session_state["selected_grid"] = None


def case_list(rows: pd.DataFrame) -> None:
    """The filtered cases, the nearest deadline first; ticking a row opens the case."""
    more = t("case_list_more", language, shown=LIST_ROWS) if len(rows) > LIST_ROWS else ""
    st.caption(t("case_list_count", language, n=len(rows)) + more)
    if rows.empty:
        return
    rows = rows.head(LIST_ROWS)
    view = pd.DataFrame({
        "#": rows["id"],
        t("case_category", language): rows["category"].map(
            lambda k: CATEGORIES[k].text(language) if k in CATEGORIES else k),
        t("case_state", language): rows["state"].map(_state_text),
        t("case_deadline", language): [
            "" if kind is None else f"{t(f'due_kind_{kind}', language)} {at:%m-%d %H:%M}"
            for kind, at in zip(rows["due_kind"], rows["due_at"], strict=True)],
        t("case_time_left", language): rows["hours_left"].map(lambda h: left_text(h, language)),
        t("case_reported", language): rows["reported_at"],
        t("case_grid", language): rows["grid_code"],
        t("case_text", language): rows["text"],
    })
    st.session_state["case_list_ids"] = [int(i) for i in view["#"]]
    st.dataframe(view, hide_index=True, height=300, key="cm_case_list", on_select=_open_picked_case,
                 selection_mode="single-row", width="stretch")


def grid_panel(session: Session, grid_code: str, data: command.MapData) -> None:
    """The clicked grid: open and overdue cases, four-visit coverage, its worker(s)."""
    info = command.grid_panel(session, scope, grid_code, data=data, now=now, hierarchy=hierarchy)
    name = _names("grids").get(grid_code, grid_code)
    st.markdown(f"**{t('grid_panel', language)} · {md_escape(name)}**")
    st.caption(grid_code)
    a, b = st.columns(2)
    a.metric(t("kpi_open", language), info["open"])
    b.metric(t("kpi_overdue", language), info["overdue"])
    cov, patrol = info["coverage"], info["patrol"]
    a, b = st.columns(2)
    a.metric(f"{t('visit_coverage', language)} ({info['coverage_period']})",
             "–" if cov is None else f"{100 * cov:.0f}%")
    b.metric(t("patrol_coverage_week", language), "–" if patrol is None else f"{100 * patrol:.0f}%")
    workers = info["workers"]
    st.write(f"{t('grid_worker', language)}: " + (", ".join(workers["worker_id"].astype(str)) if len(workers) else "—"))
    teams = info["teams"]
    st.caption(t("teams_title", language))
    if len(teams):
        for row in teams.itertuples():
            st.text(f"{TEAMS[row.team].text(language) if row.team in TEAMS else row.team} {row.name} {row.phone or ''}")
    else:
        st.text(t("teams_none", language))


def _announce_new_emergencies(data: command.MapData, alert_box: Any) -> None:
    """A toast and an alert for each emergency nobody has reached that this session has not seen yet."""
    seen = st.session_state.get("seen_emergencies")
    alert_ids = set(data.alerts["id"].astype(int))
    if isinstance(seen, set) and st.session_state.get("emergencies_primed"):
        for row in data.alerts.loc[data.alerts["id"].astype(int).isin(alert_ids - seen)].itertuples():
            message = t("new_emergency_alert", language, text=md_escape(str(row.text)[:40]),
                        grid=md_escape(str(row.grid_code)))
            st.toast(message, icon=":material/warning:")
            alert_box.error(message, icon=":material/warning:")
    st.session_state["seen_emergencies"] = (seen if isinstance(seen, set) else set()) | alert_ids
    st.session_state["emergencies_primed"] = True


def _follow_click(out: dict[str, Any] | None) -> None:
    """Select the clicked case (its tooltip starts with ``#id``) or the grid under the click."""
    clicked_tip = (out or {}).get("last_object_clicked_tooltip") or ""
    clicked = (out or {}).get("last_object_clicked")
    click_key = (clicked_tip, str(clicked))
    if not clicked or click_key == st.session_state.get("last_click"):
        return
    st.session_state["last_click"] = click_key
    match = CASE_ID.match(clicked_tip)
    if match:
        st.session_state["selected_case"] = int(match.group(1))
    else:
        st.session_state["selected_grid"] = grid_at(hierarchy["grids"], clicked["lng"], clicked["lat"],
                                                   gcj02=basemap.gcj02)
        st.session_state["selected_case"] = None
    st.rerun(scope="fragment")  # redraw with the selection (the grid worker's track)


refresh = max(5, int(cfg.refresh_seconds))


@st.fragment(run_every=refresh)
def live() -> None:
    """The live part, refreshed every ``refresh_seconds``: tiles, map, panels and the case list."""
    engine = _data.engine(cfg.database_url)
    with Session(engine) as session:
        try:
            data = command.load_map_data(session, scope, flt, now=clock.now(), due=due)
        except GridCommandError as exc:
            st.error(t("store_missing", language, error=exc))
            return
        except Exception as exc:  # noqa: BLE001 - a missing or unmigrated store must not kill the page
            st.error(t("store_missing", language, error=type(exc).__name__))
            return
        # Fixed slots above the map, present on every run: an alert or a note appearing must not
        # shift the map's place in the page, or the browser would rebuild it and lose its view.
        alert_box, note_box = st.container(), st.empty()
        _announce_new_emergencies(data, alert_box)

        tiles = st.columns(4)
        for column, key in zip(tiles, ("today_new", "open", "overdue", "arrivals_pending"), strict=True):
            column.metric(t(f"kpi_{key}", language), data.kpis[key])
        if not data.points:
            note_box.caption(t("aggregated_note", language, limit=POINT_LIMIT))

        map_col, panel_col = st.columns([3, 1]) if not wall else st.columns([4, 1])
        with map_col:
            out = st_folium(
                base_map(view),
                key="command_map",
                height=820 if wall else 600,
                use_container_width=True,
                feature_group_to_add=live_layers(session, view, data, flt=flt, now=now,
                                                 selected=st.session_state.get("selected_grid")),
                layer_control=folium.LayerControl(collapsed=True),
                returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
            )
        _follow_click(out)
        with panel_col:
            st.caption(t("click_hint", language))
            if st.session_state.get("selected_grid"):
                grid_panel(session, st.session_state["selected_grid"], data)
            if st.session_state.get("selected_case"):
                case_panel(engine, panel, int(st.session_state["selected_case"]))
        if not wall:
            st.subheader(t("case_list", language))
            case_list(data.shown)
        st.caption(t("updated_at", language, time=clock.now().strftime("%H:%M:%S")))


if not wall:
    st.title(t("page_map", language))
live()
