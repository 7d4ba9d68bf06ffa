"""Page: the grid chief's dispatch desk (派单台) - queues, suggested assignees, workloads.

Thin wiring: the queues from :mod:`cases.desk`, suggestions from :mod:`cases.suggest`, dispatching
through :func:`cases.desk.dispatch_suggested` (and :func:`cases.commands.act` for extension
decisions and supervision), workloads from :mod:`metrics.workload`, the map from ``layers/``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access.database import read_session, unit_of_work
from cases import commands, desk, queries, suggest
from cases.notes import note_text
from cases.routing import load_rules
from core import clock
from core.constants import CATEGORIES, NEIGHBOUR_GRIDS_M, STATES
from core.errors import GridCommandError
from core.i18n import t
from geo.areas import community_streets
from layers.basemaps import build_basemap
from layers.choropleth import build_choropleth_layer
from layers.compose import assemble, bounds_of
from metrics.workload import balance, overloaded, workload_table
from views import _data, _thematic
from views._auth import require_page
from views._case_panel import PanelContext, case_panel
from views._state import lang, settings
from workforce.patrol import stored_week_coverage

user = require_page("desk")
scope, language, cfg = user.scope, lang(), settings()
st.title(t("page_desk", language))
if st.session_state.get("action_flash"):  # what the last dispatch or decision did
    st.success(" ".join(st.session_state["action_flash"]))
    st.session_state["action_flash"] = None
hierarchy = _data.hierarchy_or_stop(cfg.hierarchy_path, language)
engine = _data.engine(cfg.database_url)
streets = community_streets(hierarchy)
now = clock.now()


def _reason_text(s: suggest.Suggestion) -> str:
    detail = {k: ("" if v is None else v) for k, v in s.detail.items()}
    if s.reason == "neighbour":
        detail["passed"] = t(f"suggest_passed_{s.detail.get('passed_over', 'absent')}", language)
    return t(f"suggest_{s.reason}", language, **detail) if s.reason in suggest.REASONS else s.reason


def _table(rows: pd.DataFrame, suggestions: dict[int, suggest.Suggestion] | None) -> pd.DataFrame:
    view = pd.DataFrame({
        "#": rows["id"].astype(int),
        t("case_reported", language): rows["reported_at"],
        t("case_category", language): rows["category"].map(
            lambda k: CATEGORIES[k].text(language) if k in CATEGORIES else k),
        t("case_state", language): rows["state"].map(lambda k: STATES[k].text(language) if k in STATES else k),
        t("case_grid", language): rows["grid_code"],
        t("desk_owner_col", language): _thematic.owner_texts(rows, cfg.hierarchy_path, context.directory.grid_workers,
                                                             language),
        t("desk_hours_left", language): rows["hours_left"].round(1),
        t("desk_reason", language): rows["unrouted_reason"].map(lambda r: note_text(r, language)),
        t("case_text", language): rows["text"],
    })
    if suggestions is not None:
        picks = [suggestions.get(int(i)) for i in rows["id"]]
        view[t("desk_suggested", language)] = [p.key if p else "" for p in picks]
        view[t("desk_why", language)] = [_reason_text(p) if p else "" for p in picks]
    return view


def _picked(view: pd.DataFrame, key: str) -> list[int]:
    event = st.dataframe(view, hide_index=True, key=key, on_select="rerun", selection_mode="multi-row",
                         width="stretch", height=min(420, 38 + 35 * max(1, len(view))))
    rows = getattr(event, "selection", {}).get("rows", []) if event else []
    return [int(view.iloc[i]["#"]) for i in rows if i < len(view)]


def _apply(ids: list[int], do: Any) -> None:
    """Run ``do(session, case)`` for each picked case in its own transaction; report the outcome."""
    done = 0
    for case_id in ids:
        try:
            with unit_of_work(engine) as session:
                do(session, queries.get_case(session, scope, case_id))
            done += 1
        except GridCommandError as exc:
            st.error(t("desk_failed", language, case=case_id, error=str(exc)))
    if done and done == len(ids):  # all went through: draw the queues again without them
        st.session_state["action_flash"] = [t("desk_done", language, n=done)]
        for queue in desk.QUEUES:  # and with nothing ticked (the ticks were row positions)
            st.session_state.pop(f"desk_{queue}", None)
        st.rerun()
    if done:  # some failed: keep their errors on screen (the queues refresh at the next run)
        st.success(t("desk_done", language, n=done))


with read_session(engine) as session:
    queues = desk.queues(session, scope, now=now)
    rules = load_rules(cfg.routing_rules_path)
    near = _data.neighbours(cfg.hierarchy_path, within_m=NEIGHBOUR_GRIDS_M, metric_crs=cfg.metric_crs)
    context = suggest.context(session, scope, rules, near)
waiting = pd.concat([queues[q] for q in ("to_dispatch", "unrouted", "returned")]).drop_duplicates("id")
suggestions = {s.case_id: s for s in suggest.suggest(context, waiting.to_dict("records"))}

tabs = st.tabs([f"{t(f'desk_q_{q}', language)} ({len(queues[q])})" for q in desk.QUEUES])
opened: int | None = None  # a single ticked case opens in the panel below the queues
for name, tab in zip(desk.QUEUES, tabs, strict=True):
    with tab:
        rows = queues[name]
        if rows.empty:
            st.caption(t("desk_empty", language))
            continue
        picks = _picked(_table(rows, suggestions if name in ("to_dispatch", "unrouted", "returned") else None),
                        key=f"desk_{name}")
        st.caption(t("desk_select_hint", language))
        if len(picks) == 1 and opened is None:
            opened = picks[0]
        if name in ("to_dispatch", "unrouted", "returned"):
            if st.button(t("desk_accept", language), key=f"desk_accept_{name}", type="primary", disabled=not picks):
                _apply(picks, lambda s, case: desk.dispatch_suggested(s, scope, case, suggestions[case.id],
                                                                     community_streets=streets))
        elif name == "extensions":
            left, right = st.columns(2)
            for column, action in ((left, "approve_extension"), (right, "refuse_extension")):
                label = t("desk_approve" if action == "approve_extension" else "desk_refuse", language)
                if column.button(label, key=f"desk_{action}", disabled=not picks):
                    _apply(picks, lambda s, case, a=action: commands.act(s, scope, case.id, a, case.version))
        elif st.button(t("desk_supervise", language), key="desk_supervise", disabled=not picks):
            _apply(picks, lambda s, case: commands.act(s, scope, case.id, "supervise", case.version))

if opened is not None:
    with st.container(border=True):
        case_panel(engine, PanelContext(scope=scope, language=language, settings=cfg, community_streets=streets),
                   opened)

st.subheader(t("desk_workloads", language))
with read_session(engine) as session:
    loads = workload_table(session, scope, by="worker", at=now)
    per_grid = workload_table(session, scope, by="grid", at=now)
spread = balance(loads["open"])
st.caption(t("desk_balance", language, gini=f"{spread.gini:.2f}", ratio=f"{spread.max_over_mean:.2f}"))
heavy = set(overloaded(loads))
st.dataframe(pd.DataFrame({
    t("kpi_level_worker", language): loads["code"],
    **{t(f"wl_{c}", language): loads[c] for c in ("open", "overdue", "closed_week", "mean_handling_h", "visits_due")},
    t("desk_overloaded", language): loads["code"].map(lambda c: t("desk_overloaded", language) if c in heavy else ""),
}), hide_index=True, width="stretch")
st.subheader(t("desk_patrol", language))
weeks = [(now - timedelta(days=7 * k)).strftime("%G-W%V") for k in range(4)]
week = st.selectbox(t("desk_week", language), weeks, key="desk_patrol_week")
with read_session(engine) as session:
    patrol, checked = stored_week_coverage(session, scope, hierarchy, week, metric_crs=cfg.metric_crs)
st.caption(t("desk_patrol_checks", language, gaps=checked.gaps, impossible=checked.impossible))
st.dataframe(pd.DataFrame({
    t("kpi_level_grid", language): patrol["grid_code"],
    t("patrol_buildings", language): patrol["buildings"],
    t("patrol_covered", language): patrol["covered"],
    t("patrol_coverage", language): (100 * patrol["coverage"]).round(0).astype(int).astype(str) + " %",
}), hide_index=True, width="stretch", height=240)
st.caption(t("desk_load_map", language))
basemap = build_basemap(cfg.basemap)
values = per_grid.set_index(per_grid["code"].astype(str))["open"].astype(float)
mine = hierarchy["grids"].loc[hierarchy["grids"]["code"].astype(str).isin(values.index)]
if len(mine):
    layer = build_choropleth_layer(mine, values=values, measure="open", lang=language,
                                   name=t("desk_load_map", language), basemap=basemap)
    tiles = basemap.tile_layers(name=t("layer_basemap", language))
    st_folium(assemble([layer], bounds=bounds_of(mine), tile_layers=tiles),
              key="desk_map", height=380, use_container_width=True, returned_objects=[])
