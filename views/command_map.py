"""Page: the command-centre live map (指挥地图) - filters, KPI tiles, map, panel, case list.

Thin wiring only: data from ``views._command_data`` (scoped reads of the case store), layers
from ``layers/``. The static part of the map (basemap, hierarchy, facilities) is the folium
map itself, so streamlit-folium keeps the component - and the operator's view - across
refreshes; the live parts (cases, workers, choropleth) go in as ``feature_group_to_add``.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import folium
import folium.plugins
import numpy as np
import pandas as pd
import streamlit as st
from folium.elements import JSCSSMixin
from shapely.geometry import Point
from sqlalchemy.orm import Session
from streamlit_folium import st_folium

from cases import assignees, queries
from cases.lifecycle import ACTIONS
from core import clock
from core.constants import CATEGORIES, LEVEL_LABELS, SATISFACTION, SOURCES, STATES
from core.errors import GridCommandError
from core.i18n import t
from layers.assets import offline_map
from layers.basemaps import build_basemap
from layers.cases import (
    POINT_LIMIT,
    build_case_totals_layer,
    build_cases_layer,
    legend_items,
)
from layers.choropleth import MEASURES, build_choropleth_layer
from layers.compose import bounds_of
from layers.facilities import build_facilities_layer
from layers.hierarchy import build_building_layer, build_selection_layer
from layers.legend import Legend
from layers.workers import build_workers_layer
from layers.zoom import BUILDINGS_MIN_ZOOM, ZoomVisibility
from store import db
from views import _command_data as data_api
from views import _data
from views._auth import current_user, md_escape
from views._state import current_scope, lang, settings
from workforce import positions

CASE_ID = re.compile(r"^\s*#(\d+)")
language = lang()
cfg = settings()
scope = current_scope()

# --- wall layout ---------------------------------------------------------------------------
if st.query_params.get("wall") == "1":
    st.session_state["wall_mode"] = True
wall = bool(st.session_state.get("wall_mode"))
if wall:
    st.html("<style>[data-testid='stSidebar'], header[data-testid='stHeader'] { display: none; }"
            ".block-container { padding: 0.6rem 1rem 0 1rem; max-width: 100%; }</style>")

hierarchy = _data.hierarchy(cfg.hierarchy_path)
if hierarchy is None:
    st.warning(t("hierarchy_missing", language, path=cfg.hierarchy_path))
    st.stop()
grids = hierarchy["grids"]
basemap = build_basemap(cfg.basemap)
_communities = hierarchy.get("communities")
#: Community code -> street code (a street-level chief's scope reaches its communities' people).
community_streets = ({} if _communities is None or len(_communities) == 0 else
                     dict(zip(_communities["code"].astype(str), _communities["parent_code"].astype(str), strict=True)))
BUILDINGS_NAME = LEVEL_LABELS["buildings"][language]


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


with st.sidebar:
    st.subheader(t("filters", language))
    window = st.selectbox(t("filter_window", language), list(data_api.WINDOWS), index=2,
                          format_func=lambda w: t(f"window_{w}", language), key="cm_window")
    category = st.selectbox(t("filter_category", language), [None, *CATEGORIES],
                            format_func=lambda k: _label(CATEGORIES, k), key="cm_category")
    states = st.multiselect(t("filter_state", language), list(STATES),
                            format_func=lambda k: STATES[k].text(language), key="cm_states")
    source = st.selectbox(t("filter_source", language), [None, *SOURCES],
                          format_func=lambda k: _label(SOURCES, k), key="cm_source")
    streets = _names("streets")
    street = st.selectbox(t("filter_street", language), [None, *streets], key="cm_street",
                          format_func=lambda c: t("all", language) if c is None else streets[c])
    communities = _names("communities", street)
    community = st.selectbox(t("filter_community", language), [None, *communities], key="cm_community",
                             format_func=lambda c: t("all", language) if c is None else communities[c])
    grid_names = _names("grids", community) if community else {}
    grid_pick = st.selectbox(t("filter_grid", language), [None, *grid_names], key="cm_grid",
                             format_func=lambda c: t("all", language) if c is None else grid_names[c],
                             disabled=not community)
    st.divider()
    mode = st.radio(t("map_mode", language), ["cluster", "heat"], horizontal=True, key="cm_mode",
                    format_func=lambda m: t(f"mode_{m}", language))
    measure = st.selectbox(t("measure", language), [None, *MEASURES], key="cm_measure",
                           format_func=lambda m: "—" if m is None else t(MEASURES[m].label_key, language))
    show_workers = st.checkbox(t("show_workers", language), value=True, key="cm_workers")
    show_facilities = st.checkbox(t("show_facilities", language), value=True, key="cm_facilities")
    st.toggle(t("wall_mode", language), key="wall_mode")

now = clock.now()
since, until = data_api.window_bounds(window, now)
flt = data_api.CaseFilter(since=since, until=until, category=category, source=source,
                          states=tuple(states), area_code=grid_pick or community or street)


# --- the static map (kept by the component across refreshes) ---------------------------------
class HeatAssets(JSCSSMixin):
    """Leaflet.heat's script, loaded with the map itself: the browser loads a map's scripts only
    when the component first mounts, so a later switch to the heat display needs it already."""

    default_js = list(folium.plugins.HeatMap.default_js)


def scoped_buildings() -> folium.FeatureGroup | None:
    """The building outlines inside the caller's area (None when there are none)."""
    buildings = hierarchy.get("buildings")
    if buildings is None or len(buildings) == 0:
        return None
    inside = {str(code) for code, parent in zip(grids["code"], grids["parent_code"], strict=True)
              if scope.allows(street_code=community_streets.get(str(parent)), community_code=str(parent),
                              grid_code=str(code))}
    mine = buildings.loc[buildings["parent_code"].astype(str).isin(inside)]
    if len(mine) == 0:
        return None
    return build_building_layer(mine, name=BUILDINGS_NAME, show=False, lang=language, basemap=basemap)


def base_map() -> folium.Map:
    """Basemap, hierarchy, facilities and the state legend on a fresh offline map.

    Building outlines (楼栋) of the caller's area are drawn from zoom ``BUILDINGS_MIN_ZOOM`` on
    (``layers.zoom.ZoomVisibility``, as on the hierarchy page) and hidden when zoomed out.
    """
    bounds = bounds_of(grids)
    (south, west), (north, east) = bounds
    fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12)
    for layer in basemap.tile_layers(name="底图" if language == "zh" else "Basemap"):
        layer.add_to(fmap)
    zoomed, seen = [], False
    for group in _data.hierarchy_layers(cfg.hierarchy_path, language, cfg.basemap):
        if group.layer_name == BUILDINGS_NAME:
            seen = True
            group = group if scope.whole_district else scoped_buildings()
            if group is None:
                continue
            zoomed.append(group)
        group.add_to(fmap)
    if not seen and (group := scoped_buildings()) is not None:  # the cached layers came without buildings
        group.add_to(fmap)
        zoomed.append(group)
    for group in zoomed:
        fmap.add_child(ZoomVisibility(group, min_zoom=BUILDINGS_MIN_ZOOM))
    facilities = _data.facilities(cfg.demo_dir / "facilities.csv") if show_facilities else None
    if facilities is not None and len(facilities):
        build_facilities_layer(facilities, name=t("layer_facilities", language), lang=language,
                               basemap=basemap).add_to(fmap)
    fmap.add_child(HeatAssets())  # localized to static/vendor by the offline map
    fmap.add_child(Legend(t("legend_states", language), legend_items(language), key="states",
                          css="gc-legend-2col"))
    fmap.fit_bounds(bounds)
    return fmap


def live_layers(session: Session, data: data_api.MapData) -> list[folium.FeatureGroup]:
    """Choropleth, workers, the selected grid's buildings and the cases (bottom to top)."""
    groups = []
    if measure:
        values = data_api.grid_measure(measure, data=data, hierarchy=hierarchy, session=session,
                                       scope=scope, flt=flt, now=now)
        groups.append(build_choropleth_layer(grids, values=values, measure=measure, lang=language,
                                             name=t("layer_choropleth", language), basemap=basemap))
    if show_workers and scope.records_allowed:
        positions, tracks = data_api.worker_data(session, scope, grid_code=st.session_state.get("selected_grid"))
        groups.append(build_workers_layer(positions, tracks=tracks, now=now, lang=language, basemap=basemap,
                                          name=t("layer_workers", language)))
    selected = st.session_state.get("selected_grid")
    buildings = hierarchy.get("buildings")
    if selected and buildings is not None and len(buildings):
        inside = buildings.loc[buildings["parent_code"].astype(str) == str(selected)]
        if len(inside):
            groups.append(build_building_layer(inside, name=BUILDINGS_NAME, show=True,
                                               lang=language, basemap=basemap))
    if selected:
        groups.append(build_selection_layer(grids, selected, name=t("grid_panel", language), lang=language,
                                            basemap=basemap))
    name = t("layer_cases", language)
    if data.aggregated:
        totals = data.grid_counts.rename(columns={"open_cases": "open"})
        groups.append(build_case_totals_layer(totals, grids=grids, alerts=data.alerts, name=name,
                                              lang=language, basemap=basemap))
    else:
        groups.append(build_cases_layer(data.rows, name=name, lang=language, mode=mode, grids=grids,
                                        basemap=basemap))
    return groups


def grid_at(lat: float, lon: float) -> str | None:
    """The grid containing a clicked point (map coordinates; AMap's GCJ-02 undone first)."""
    if basemap.gcj02:
        from geo.coords import gcj02_to_wgs84

        xs, ys = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        lon, lat = float(xs[0]), float(ys[0])
    inside = grids.to_crs("EPSG:4326").contains(Point(lon, lat))
    return str(grids.loc[inside, "code"].iloc[0]) if inside.any() else None


# --- the live part ----------------------------------------------------------------------------
def _state_text(key: object) -> str:
    return STATES[str(key)].text(language) if str(key) in STATES else str(key)


def case_list(rows: pd.DataFrame) -> None:
    if rows.empty:
        st.caption("—")
        return
    view = pd.DataFrame({
        "#": rows["id"],
        t("case_reported", language): rows["reported_at"],
        t("case_category", language): rows["category"].map(lambda k: CATEGORIES[k].text(language) if k in CATEGORIES else k),
        t("case_state", language): rows["state"].map(_state_text),
        t("case_due", language): rows["due"].map(lambda d: t(f"due_{d}", language) if d in ("overdue", "soon") else ""),
        t("case_grid", language): rows["grid_code"],
        t("case_text", language): rows["text"],
    }).head(500)
    picked = st.dataframe(view, hide_index=True, height=260, key="cm_case_list", on_select="rerun",
                          selection_mode="single-row", width="stretch")
    selection = getattr(picked, "selection", None)
    if selection and selection.get("rows"):
        st.session_state["selected_case"] = int(view.iloc[selection["rows"][0]]["#"])


def case_panel(session: Session, case_id: int) -> None:
    try:
        case = queries.get_case(session, scope, case_id)
    except GridCommandError as exc:
        st.warning(str(exc))
        return
    header = st.empty()  # filled after the actions, so it shows the state an action just set
    st.text(case.get("text") or "")
    if case_actions(session.get_bind(), case):
        session.expire_all()  # the action was committed in its own transaction: read it afresh
        case = None
    try:
        case = case or queries.get_case(session, scope, case_id)
        events = queries.case_timeline(session, scope, case_id)
    except GridCommandError as exc:
        st.warning(str(exc))
        return
    category = CATEGORIES[case["category"]].text(language) if case["category"] in CATEGORIES else case["category"]
    header.markdown(f"**#{case_id} · {md_escape(str(category))} · {_state_text(case['state'])}**")
    st.caption(t("case_timeline", language))

    timeline = pd.DataFrame({
        t("tl_at", language): events["at"],
        t("tl_action", language): events["action"].map(
            lambda a: ACTIONS[a].text(language) if a in ACTIONS else a),
        t("tl_state", language): events["to_state"].map(_state_text),
        t("tl_actor", language): events["actor"],
        t("tl_note", language): events["note"],
    })
    st.dataframe(timeline, hide_index=True, width="stretch", height=220)


_INPUT_ACTIONS = frozenset({"void", "return", "rework", "follow_up", "arrive", "request_extension", "dispatch",
                            "reassign"})
#: Actions whose form picks an assignee (``cases.assignees``).
_PICK_ACTIONS = ("dispatch", "reassign")


def _routing_rules():
    """The routing rules (for the routed default of the assignee picker), or None when unreadable."""
    from cases.routing import load_rules

    try:
        return load_rules(cfg.routing_rules_path)
    except GridCommandError:
        return None


def _assignee_field(key: str, picker: tuple[list[assignees.Assignee], int | None]) -> dict:
    """The assignee picker of ``dispatch``/``reassign``: routed default pre-selected, people in
    scope, departments."""
    options, default = picker
    by_key = {a.key: a for a in options}
    routed = options[default].key if default is not None else None

    def label(k: str) -> str:
        return by_key[k].label(language) + (t("assignee_routed", language) if k == routed else "")

    choice = st.selectbox(t("action_assignee", language), list(by_key), index=default, format_func=label,
                          key=f"{key}_assignee", placeholder=t("assignee_pick", language))
    if not choice:
        return {}
    kind, ident = choice.split(":", 1)
    return {"assignee_kind": kind, "assignee_id": ident}


def _arrive_fields(key: str, fix: positions.Fix | None) -> dict:
    """Where the worker is: the latest GPS fix, else lon/lat typed in, else "no GPS fix"."""
    if fix is not None:
        age = max(0, round(fix.age_minutes(clock.now())))
        st.caption(t("arrive_gps_fix", language, at=f"{fix.at:%H:%M:%S}", age=age, lon=f"{fix.lon:.6f}",
                     lat=f"{fix.lat:.6f}"))
        return {"fix": True}
    minutes = int(cfg.arrival_fix_max_age_minutes)
    st.caption(t("arrive_no_fix", language, minutes=minutes))
    lon = st.number_input(t("arrive_lon", language), min_value=-180.0, max_value=180.0, value=None,
                          format="%.6f", key=f"{key}_lon")
    lat = st.number_input(t("arrive_lat", language), min_value=-90.0, max_value=90.0, value=None,
                          format="%.6f", key=f"{key}_lat")
    no_fix = st.checkbox(t("arrive_without_position", language), key=f"{key}_nofix")
    return {"lon": lon, "lat": lat, "no_fix": no_fix}


def _action_fields(action: str, case: dict, key: str, extra: dict) -> dict:
    """The inputs of one action's form (inside ``st.form``)."""
    if action in _PICK_ACTIONS:
        return _assignee_field(key, extra[action])
    if action == "arrive":
        return _arrive_fields(key, extra.get("fix"))
    if action in ("void", "return", "rework"):
        return {"reason": st.text_input(t("action_reason", language), key=f"{key}_reason").strip()}
    if action == "follow_up":
        return {"satisfaction": st.selectbox(t("action_satisfaction", language), list(SATISFACTION), key=f"{key}_sat",
                                             format_func=lambda k: SATISFACTION[k].text(language))}
    if action == "request_extension":
        due = case.get("extended_close_due") or case.get("close_due")
        start = (pd.Timestamp(due) if due is not None and not pd.isna(due) else pd.Timestamp(clock.now())).date()
        day = st.date_input(t("action_until", language), value=start + timedelta(days=1), key=f"{key}_until")
        return {"until": datetime.combine(day, time(23, 59))}
    return {}


def _arrival_ready(fields: dict) -> bool:
    """Whether the arrive form has a position: the GPS fix, both lon and lat, or "no GPS fix"."""
    if fields.get("fix"):
        return True
    lon, lat = fields.get("lon"), fields.get("lat")
    return (lon is not None and lat is not None) or (lon is None and lat is None and bool(fields.get("no_fix")))


def case_actions(engine, case: dict) -> bool:
    """Buttons (and small forms) for the signed-in role's actions on ``case``; True when one
    was taken (one transaction through ``views._command_data.act_on_case``; an arrival through
    ``workforce.positions.record_arrival``, a chosen assignee checked by ``cases.assignees``)."""
    user = current_user()
    if user is None:
        return False
    allowed = data_api.case_actions(case, user.role, worker_id=user.worker_id)
    st.caption(t("case_actions", language))
    if not allowed:
        st.caption(t("case_no_actions", language))
        return False
    case_id, version = int(case["id"]), int(case["version"])
    extra: dict = {}
    with Session(engine) as session:
        for action in (a for a in _PICK_ACTIONS if a in allowed):
            extra[action] = assignees.picker(session, scope, case, rules=_routing_rules(),
                                             community_streets=community_streets, action=action)
        if "arrive" in allowed and user.worker_id:
            extra["fix"] = positions.latest_fix(session, scope, user.worker_id, now=clock.now(),
                                                max_age_minutes=cfg.arrival_fix_max_age_minutes)
    chosen, fields, note = None, {}, None
    for action in allowed:
        label = ACTIONS[action].text(language)
        key = f"cm_act_{action}_{case_id}_{version}"
        if action in _INPUT_ACTIONS:
            with st.form(key):
                values = _action_fields(action, case, key, extra)
                text = st.text_input(t("action_note", language), key=f"{key}_note").strip()
                if st.form_submit_button(label):
                    chosen, fields, note = action, values, text or None
        elif st.button(label, key=key):
            chosen = action
    if chosen is None:
        return False
    if chosen == "arrive" and not _arrival_ready(fields):
        st.error(t("arrive_need_position", language))
        return False
    try:
        with db.session_scope(engine) as session:
            if chosen == "arrive":
                # the fix is read again here: the freshest one at the moment of the arrival
                after = positions.record_arrival(
                    session, scope, case_id, role=user.role, worker_id=user.worker_id, expected_version=version,
                    now=clock.now(), max_age_minutes=cfg.arrival_fix_max_age_minutes, lon=fields.get("lon"),
                    lat=fields.get("lat"), no_fix=bool(fields.get("no_fix")), note=note)
            else:  # a picked assignee is re-checked in the transaction: a chief stays in their area
                after = data_api.act_on_case(session, scope, case_id, chosen, role=user.role,
                                             worker_id=user.worker_id, expected_version=version, note=note,
                                             community_streets=community_streets, **fields)
    except GridCommandError as exc:
        st.error(str(exc))
        return False
    st.success(t("action_done", language, action=ACTIONS[chosen].text(language), case=case_id))
    distance = after.get("arrival_distance_m") if chosen == "arrive" else None
    if distance is not None and not pd.isna(distance):
        st.caption(t("arrive_distance", language, distance=f"{float(distance):.0f}"))
    return True


def grid_panel(session: Session, grid_code: str, data: data_api.MapData) -> None:
    info = data_api.grid_panel(session, scope, grid_code, data=data, now=now)
    name = _names("grids").get(grid_code, grid_code)
    st.markdown(f"**{t('grid_panel', language)} · {md_escape(name)}**")
    st.caption(grid_code)
    a, b = st.columns(2)
    a.metric(t("kpi_open", language), info["open"])
    b.metric(t("kpi_overdue", language), info["overdue"])
    cov = info["coverage"]
    st.metric(f"{t('visit_coverage', language)} ({info['coverage_period']})",
              "–" if cov is None else f"{100 * cov:.0f}%")
    workers = info["workers"]
    st.write(f"{t('grid_worker', language)}: " + (", ".join(workers["worker_id"].astype(str)) if len(workers) else "—"))


refresh = max(5, int(cfg.refresh_seconds))


@st.fragment(run_every=refresh)
def live() -> None:
    engine = _data.engine(cfg.database_url)
    with Session(engine) as session:
        try:
            data = data_api.load_map_data(session, scope, flt, now=clock.now(), hierarchy=hierarchy)
        except GridCommandError as exc:
            st.error(t("store_missing", language, error=exc))
            return
        except Exception as exc:  # noqa: BLE001 - a missing or unmigrated store must not kill the page
            st.error(t("store_missing", language, error=type(exc).__name__))
            return
        # Fixed slots above the map, present on every run: an alert or a note appearing must not
        # shift the map's place in the page, or the browser would rebuild it and lose its view.
        alert_box, note_box = st.container(), st.empty()
        seen = st.session_state.get("seen_emergencies")
        alert_ids = set(data.alerts["id"].astype(int))
        if isinstance(seen, set) and st.session_state.get("emergencies_primed"):
            for row in data.alerts.loc[data.alerts["id"].astype(int).isin(alert_ids - seen)].itertuples():
                message = t("new_emergency_alert", language, text=md_escape(str(row.text)[:40]),
                            grid=md_escape(row.grid_code))
                st.toast(message, icon="🚨")
                alert_box.error(message, icon="🚨")
        st.session_state["seen_emergencies"] = (seen if isinstance(seen, set) else set()) | alert_ids
        st.session_state["emergencies_primed"] = True

        tiles = st.columns(4)
        for column, key in zip(tiles, ("today_new", "open", "overdue", "arrivals_pending"), strict=True):
            column.metric(t(f"kpi_{key}", language), data.kpis[key])
        if data.aggregated:
            note_box.caption(t("aggregated_note", language, limit=POINT_LIMIT))

        map_col, panel_col = st.columns([3, 1]) if not wall else st.columns([4, 1])
        with map_col:
            out = st_folium(
                base_map(),
                key="command_map",
                height=820 if wall else 600,
                use_container_width=True,
                feature_group_to_add=live_layers(session, data),
                layer_control=folium.LayerControl(collapsed=True),
                returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
            )
        clicked_tip = (out or {}).get("last_object_clicked_tooltip") or ""
        clicked = (out or {}).get("last_object_clicked")
        click_key = (clicked_tip, str(clicked))
        if clicked and click_key != st.session_state.get("last_click"):
            st.session_state["last_click"] = click_key
            match = CASE_ID.match(clicked_tip)
            if match:
                st.session_state["selected_case"] = int(match.group(1))
            else:
                st.session_state["selected_grid"] = grid_at(clicked["lat"], clicked["lng"])
                st.session_state["selected_case"] = None
            st.rerun(scope="fragment")  # redraw with the selection (the grid worker's track)
        with panel_col:
            st.caption(t("click_hint", language))
            if st.session_state.get("selected_grid"):
                grid_panel(session, st.session_state["selected_grid"], data)
            if st.session_state.get("selected_case"):
                case_panel(session, int(st.session_state["selected_case"]))
        if not wall:
            st.subheader(t("case_list", language))
            case_list(data.rows)
        st.caption(t("updated_at", language, time=clock.now().strftime("%H:%M:%S")))


if not wall:
    st.title(t("page_map", language))
live()
