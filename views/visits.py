"""Page: four visits and key populations (四访走访 · 一键可知) for one month.

Everyone: planned, visited and verified persons (tiles and per street, community, grid or
worker), the trend over 12 months and a map of coverage per grid (coloured by grade). Record
roles also get the persons still due (masked), the visit plan per worker with who is overdue,
the month's visits with their verdicts (verified on site, suspicious) and the person card
(unmasking per field, audited; notes; the responsible worker).

Thin wiring: figures from :mod:`metrics.coverage` (formulas in :mod:`metrics.formulas`), reads
from :mod:`registry` (``queries``, ``plans``, ``visit_log``, ``cards``), changes through
:mod:`registry.person_commands`, unmasking through ``views._auth.unmask_control``.
"""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access import policy
from access.database import read_session, unit_of_work
from core import clock
from core.constants import VISIT_FREQUENCIES
from core.errors import GridCommandError
from core.i18n import t
from layers._geometry import display_coverage, feature_collection
from layers._html import esc, rows_html
from layers.basemaps import build_basemap
from layers.compose import assemble, bounds_of
from metrics.coverage import coverage_table, coverage_trend, per_code, totals
from metrics.formulas import grade_rate
from registry.cards import person_card
from registry.groups import group_label, registry_groups
from registry.periods import last_months
from registry.person_commands import add_note, set_worker
from registry.plans import visit_plan
from registry.queries import households_to_visit, list_households
from registry.visit_log import checked_visits
from views import _data
from views._auth import require_page, unmask_control
from views._grades import graded_cell
from views._state import lang, settings

user = require_page("visits")
language, cfg, scope = lang(), settings(), user.scope
st.title(t("page_visits", language))

GRADE_FILL = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", None: "#d9d9d9"}
LEVEL_LAYERS = {"street": "streets", "community": "communities", "grid": "grids"}
TODO_LIMIT = 500
groups = registry_groups(cfg.registry)
now = clock.now()
engine = _data.engine(cfg.database_url)


def _percent(value: float) -> str:
    return "—" if pd.isna(value) else graded_cell(f"{100 * value:.1f} %", grade_rate(value), language)


def _group(key: object) -> str:
    return group_label(str(key), groups, language) if key else t("reg_all_groups", language)


months = last_months(now.strftime("%Y-%m"), 12)[::-1]
left, middle, right = st.columns(3)
month = left.selectbox(t("visits_month", language), months, key="visits_month")
category = middle.selectbox(t("visits_category", language), ["", *groups], key="visits_category", format_func=_group)
by = right.selectbox(t("kpi_by", language), [*LEVEL_LAYERS, "worker"], index=2, key="visits_by",
                     format_func=lambda k: t(f"kpi_level_{k}", language))
hierarchy = _data.hierarchy(cfg.hierarchy_path)
names: dict[str, str] = {}
if hierarchy is not None:
    for layer in LEVEL_LAYERS.values():
        names.update(zip(hierarchy[layer]["code"].astype(str), hierarchy[layer]["name"].astype(str), strict=True))

with read_session(engine) as session:
    table = coverage_table(session, scope, month, by=by, category=category or None, settings=cfg, now=now)
    grid_table = table if by == "grid" else coverage_table(session, scope, month, by="grid",
                                                           category=category or None, settings=cfg, now=now)
    trend = coverage_trend(session, scope, month, category=category or None, settings=cfg, now=now)

sums = totals(table)
tiles = st.columns(6)
tiles[0].metric(t("visits_due", language), int(sums["planned"]))
tiles[1].metric(t("visits_visited", language), int(sums["visited"]))
tiles[2].metric(t("visits_coverage", language), _percent(sums["coverage"]))
tiles[3].metric(t("visits_credible", language), _percent(sums["verified_coverage"]))
tiles[4].metric(t("reg_suspicious", language), int(sums["suspicious"]))
tiles[5].metric(t("reg_overdue", language), int(sums["overdue"]))
rules = cfg.registry
st.caption(t("reg_rules", language, on_site_m=rules.on_site_m, speed=rules.max_speed_kmh,
             shared=rules.shared_position_visits))

st.subheader(t("visits_by_area", language, level=t(f"kpi_level_{by}", language)))
area = per_code(table)
st.dataframe(pd.DataFrame({
    t("kpi_code", language): area["code"].fillna("—"),
    t("kpi_name", language): area["code"].map(lambda c: names.get(str(c), "")),
    t("visits_due", language): area["planned"],
    t("visits_visited", language): area["visited"],
    t("visits_on_site", language): area["verified"],
    t("visits_coverage", language): area["coverage"].map(_percent),
    t("visits_credible", language): area["verified_coverage"].map(_percent),
    t("reg_suspicious", language): area["suspicious"],
    t("reg_overdue", language): area["overdue"],
}), hide_index=True, width="stretch")

st.subheader(t("reg_trend", language))
st.line_chart(pd.DataFrame({t("visits_coverage", language): 100 * trend["coverage"],
                            t("visits_credible", language): 100 * trend["verified_coverage"]},
                           index=trend["period"]), height=240)


def coverage_map(grid_rows: pd.DataFrame) -> None:
    """The grids of the caller's area coloured by the grade of the chosen coverage."""
    if hierarchy is None:
        return
    per_grid = per_code(grid_rows)
    per_grid.index = per_grid["code"].astype(str)
    grids = hierarchy["grids"].loc[hierarchy["grids"]["code"].astype(str).isin(per_grid.index)]
    if grids.empty:
        return
    measure = st.radio(t("reg_map_measure", language), ["coverage", "verified_coverage"], horizontal=True,
                       key="visits_map_measure",
                       format_func=lambda k: t("visits_coverage" if k == "coverage" else "visits_credible", language))
    basemap = build_basemap(cfg.basemap)
    shown = display_coverage(grids, source="hierarchy: grids", metric_crs=cfg.metric_crs, basemap=basemap)
    rows = per_grid.reindex(shown["code"].astype(str))
    fills = [GRADE_FILL[grade_rate(v)] for v in rows[measure]]
    tips = [rows_html([(t("kpi_code", language), code), (t("visits_due", language), int(r.planned)),
                       (t("visits_coverage", language), _percent(r.coverage)),
                       (t("visits_credible", language), _percent(r.verified_coverage))], title=name)
            for code, name, r in zip(shown["code"].astype(str), shown["name"].astype(str), rows.itertuples(),
                                     strict=True)]
    data = feature_collection(shown, {"code": [esc(c) for c in shown["code"].astype(str)], "fill": fills,
                                      "tip": tips})
    group = folium.FeatureGroup(name=t("reg_map", language))
    folium.GeoJson(data, style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.7,
                                                   "color": "#555555", "weight": 0.7},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True)).add_to(group)
    tiles = basemap.tile_layers(name=t("layer_basemap", language))
    st_folium(assemble([group], bounds=bounds_of(grids), tile_layers=tiles),
              key="visits_map", height=400, use_container_width=True, returned_objects=[])


st.subheader(t("reg_map", language))
coverage_map(grid_table)

if not scope.records_allowed:
    st.stop()


def _status(key: object) -> str:
    return t(f"reg_status_{key}", language) if key else ""


def _verdict(row: pd.Series) -> str:
    if row["suspicious"]:
        return " ".join(t(f"reg_flag_{k}", language) for k in str(row["suspicion"]).split("; ") if k)
    if row["verified"]:
        return t("reg_verified", language)
    return t("reg_no_position" if pd.isna(row["distance_m"]) else "reg_not_on_site", language)


with read_session(engine) as session:
    credible = st.toggle(t("visits_todo_credible", language), value=False, key="visits_credible")
    todo = households_to_visit(session, scope, month, category=category or None, credible=credible, limit=TODO_LIMIT)
    plan = visit_plan(session, scope, month, category=category or None, settings=cfg, now=now)
    latest = checked_visits(session, scope, month, settings=cfg, limit=50)

st.subheader(t("visits_todo", language))
if todo.empty:
    st.success(t("visits_todo_none", language))
else:
    st.dataframe(pd.DataFrame({
        t("visits_category", language): todo["category"].map(_group),
        t("visits_head", language): todo["head_name"],
        t("visits_phone", language): todo["phone"],
        t("visits_building", language): todo["building_code"],
        t("kpi_level_grid", language): todo["grid_code"].map(lambda c: names.get(str(c), str(c))),
        t("reg_due_by", language): todo["due_by"].map(lambda d: str(d) if d else "—"),
        t("visits_last", language): todo["last_visit_at"].dt.strftime("%Y-%m-%d").fillna("—"),
    }), hide_index=True, width="stretch")
    if len(todo) >= TODO_LIMIT:
        st.caption(t("visits_todo_more", language, limit=TODO_LIMIT))

st.subheader(t("reg_plan", language))
workers = sorted(str(w) for w in plan["worker_id"].dropna().unique())
chosen = st.selectbox(t("reg_plan_worker", language), ["", *workers], key="visits_plan_worker",
                      format_func=lambda w: w or t("reg_plan_all", language))
mine = plan.loc[plan["worker_id"] == chosen] if chosen else plan
st.dataframe(pd.DataFrame({
    t("reg_plan_worker", language): mine["worker_id"].fillna("—"),
    t("reg_status", language): mine["status"].map(_status),
    t("reg_due_by", language): mine["due_by"].map(lambda d: str(d) if d else "—"),
    t("visits_head", language): mine["head_name"],
    t("visits_category", language): mine["category"].map(_group),
    t("reg_frequency", language): mine["frequency"].map(lambda f: VISIT_FREQUENCIES[f].text(language)),
    t("visits_building", language): mine["building_code"],
    t("visits_last", language): pd.to_datetime(mine["last_visit_at"]).dt.strftime("%Y-%m-%d").fillna("—"),
}), hide_index=True, width="stretch", height=320)

st.subheader(t("reg_recent", language))
if latest.empty:
    st.caption(t("reg_no_visits", language))
else:
    st.table(pd.DataFrame({
        t("reg_at", language): latest["at"].dt.strftime("%m-%d %H:%M"),
        t("visits_head", language): latest["head_name"],
        t("visits_category", language): latest["category"].map(_group),
        t("reg_worker", language): latest["worker_id"],
        t("reg_distance", language): latest["distance_m"].map(lambda d: "—" if pd.isna(d) else f"{d:.0f}"),
        t("reg_verdict", language): latest.apply(_verdict, axis=1),
        t("reg_outcome", language): latest["outcome"],
    }))


def card_forms(person_id: str) -> None:
    """A note, and (for the roles that assign) the responsible worker, saved in one transaction before
    the card is read (so the card shows them at once)."""
    may_assign = bool(policy.role_policy(scope.role).assigns)
    if not (scope.can("record_visits") or may_assign):
        return
    with st.expander(t("reg_card_add_note", language)), st.form(f"visits_note_{person_id}", clear_on_submit=True):
        note = st.text_area(t("reg_card_notes", language), max_chars=1000)
        worker = st.text_input(t("reg_card_set_worker", language)) if may_assign else ""
        reset = st.checkbox(t("reg_card_reset_worker", language)) if may_assign else False
        if not (st.form_submit_button(t("reg_card_add_note", language)) and (note.strip() or worker.strip() or reset)):
            return
        try:
            with unit_of_work(engine) as session:
                if note.strip():
                    add_note(session, scope, person_id, note, now=clock.now())
                if worker.strip() or reset:
                    set_worker(session, scope, person_id, None if reset else worker.strip(), now=clock.now())
        except GridCommandError as exc:
            st.error(str(exc))
            return
        st.success(t("reg_card_note_saved", language))


def card(person_id: str) -> None:
    """The person card: masked details with unmasking, worker, household, moves, visits, cases, notes."""
    card_forms(person_id)
    with read_session(engine) as session:
        found = person_card(session, scope, person_id, settings=cfg)
    person = found.person
    group = groups.get(str(person["category"]))
    frequency = VISIT_FREQUENCIES[group.frequency].text(language) if group else ""
    st.text(f"{_group(person['category'])} · {frequency} · {person['id']}")
    for field, label in (("head_name", "reg_card_name"), ("id_number", "reg_card_id_number"),
                         ("phone", "reg_card_phone")):
        unmask_control("household", person_id, field, person[field], label=t(label, language),
                       key=f"visits_unmask_{field}_{person_id}")
    by_hand = t("reg_card_by_hand", language) if found.worker_by_hand else ""
    st.text(f"{t('reg_card_building', language)}: {person['building_code'] or '—'} · "
            f"{names.get(str(person['grid_code']), person['grid_code'])} · "
            f"{t('reg_card_worker', language)}: {found.worker_id or '—'}{by_hand}")
    for move in found.moves.itertuples():
        st.caption(t("reg_moved", language, at=f"{move.at:%Y-%m-%d}", from_grid=move.from_grid_code,
                     to_grid=move.to_grid_code))
    if len(found.household):
        st.caption(t("reg_card_household", language) + ": " + ", ".join(
            f"{r.head_name} ({_group(r.category)})" for r in found.household.itertuples()))
    st.markdown(f"**{t('reg_card_history', language)}**")
    history = found.visits
    st.dataframe(pd.DataFrame({
        t("reg_at", language): pd.to_datetime(history["at"]).dt.strftime("%Y-%m-%d %H:%M"),
        t("reg_worker", language): history["worker_id"],
        t("reg_distance", language): history["distance_m"].map(lambda d: "—" if pd.isna(d) else f"{d:.0f}"),
        t("reg_verdict", language): history.apply(_verdict, axis=1) if len(history) else [],
        t("reg_photos", language): history["photos"],
        t("reg_outcome", language): history["outcome"],
    }), hide_index=True, width="stretch")
    st.markdown(f"**{t('reg_card_cases', language)}**")
    if found.open_cases.empty:
        st.caption(t("reg_card_no_cases", language))
    else:
        st.dataframe(found.open_cases, hide_index=True, width="stretch")
    st.markdown(f"**{t('reg_card_notes', language)}**")
    for note in found.notes.itertuples():
        st.text(f"{note.at:%Y-%m-%d %H:%M} {note.author}: {note.text}")


st.subheader(t("reg_card", language))
with read_session(engine) as session:
    people = list_households(session, scope, category=category or None, limit=5000)
if people.empty:
    st.caption(t("reg_card_none", language))
else:
    labels = {str(r.id): f"{r.head_name} · {_group(r.category)} · {r.building_code or r.grid_code}"
              for r in people.itertuples()}
    picked = st.selectbox(t("reg_card_pick", language), list(labels), key="visits_card_person",
                          format_func=lambda k: labels.get(k, k))
    if picked:
        card(str(picked))
