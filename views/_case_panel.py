"""The case panel of the command map: header, text, the caller's actions and the timeline.

Thin: the actions the caller may take come from :func:`cases.commands.allowed_actions`, each
action's form is generated from its inputs in the action table (:data:`cases.actions.ACTIONS`,
one widget per input kind), and a submitted form goes through :func:`cases.commands.act` in one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any, Literal

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.errors import StreamlitAPIException

from access.database import unit_of_work
from access.scope import Scope
from cases import assignees, commands, queries
from cases.actions import ACTIONS
from cases.notes import actor_text, event_label, note_text
from cases.queries import CaseView
from cases.routing import RuleSet, load_rules
from core import clock
from core.constants import ACTION_CONFIRMATION_SECONDS, CATEGORIES, SATISFACTION, STATES, TEAMS
from core.errors import GridCommandError
from core.i18n import t
from core.settings import Settings
from views._auth import md_escape
from views._deadlines import deadline_block
from workforce.positions import Fix, latest_fix
from workforce.teams import team_members


@dataclass
class PanelContext:
    """What the panel needs from its page: the caller, the language, settings and area look-ups."""

    scope: Scope
    language: str
    settings: Settings
    community_streets: Mapping[str, str] = field(default_factory=dict)
    #: Session key of the phone's position (``views._geolocation``), when the page offers it.
    geolocation_key: str | None = None
    #: What reruns after an action: ``fragment`` when the panel is drawn inside one, else ``app``.
    rerun_scope: Literal["app", "fragment"] = "app"


def _state_text(key: object, language: str) -> str:
    return STATES[str(key)].text(language) if str(key) in STATES else str(key)


def _routing_rules(settings: Settings) -> RuleSet | None:
    """The routing rules (for the routed default of the assignee picker), or None when unreadable."""
    try:
        return load_rules(settings.routing_rules_path)
    except GridCommandError:
        return None


# -- one widget per input kind of the action table ----------------------------------------------
def _assignee_input(ctx: PanelContext, key: str, data: Any) -> dict[str, Any]:
    options, default = data
    by_key = {a.key: a for a in options}
    routed = options[default].key if default is not None else None

    def label(k: str) -> str:
        return by_key[k].label(ctx.language) + (t("assignee_routed", ctx.language) if k == routed else "")

    choice = st.selectbox(t("action_assignee", ctx.language), list(by_key), index=default, format_func=label,
                          key=f"{key}_assignee", placeholder=t("assignee_pick", ctx.language))
    if not choice:
        return {}
    kind, ident = choice.split(":", 1)
    return {"assignee_kind": kind, "assignee_id": ident}


def _position_input(ctx: PanelContext, key: str, fix: Fix | None) -> dict[str, Any]:
    """The phone's position when it located itself, else the latest GPS fix (``act`` takes it again
    at submit), else lon/lat typed in or "no GPS fix"."""
    language = ctx.language
    located = st.session_state.get(ctx.geolocation_key) if ctx.geolocation_key else None
    if isinstance(located, dict) and located.get("lon") is not None and located.get("lat") is not None:
        st.caption(t("field_located", language, lon=f"{located['lon']:.6f}", lat=f"{located['lat']:.6f}",
                     accuracy=round(float(located.get("accuracy") or 0))))
        return {"lon": float(located["lon"]), "lat": float(located["lat"]), "source": "phone"}
    if fix is not None:
        age = max(0, round(fix.age_minutes(clock.now())))
        st.caption(t("arrive_gps_fix", language, at=f"{fix.at:%H:%M:%S}", age=age, lon=f"{fix.lon:.6f}",
                     lat=f"{fix.lat:.6f}"))
        return {}
    st.caption(t("arrive_no_fix", language, minutes=int(ctx.settings.arrival_fix_max_age_minutes)))
    lon = st.number_input(t("arrive_lon", language), min_value=-180.0, max_value=180.0, value=None,
                          format="%.6f", key=f"{key}_lon")
    lat = st.number_input(t("arrive_lat", language), min_value=-90.0, max_value=90.0, value=None,
                          format="%.6f", key=f"{key}_lat")
    no_fix = st.checkbox(t("arrive_without_position", language), key=f"{key}_nofix")
    return {"lon": lon, "lat": lat, "no_fix": no_fix}


def _reason_input(ctx: PanelContext, key: str, _data: Any) -> dict[str, Any]:
    return {"reason": st.text_input(t("action_reason", ctx.language), key=f"{key}_reason").strip()}


def _satisfaction_input(ctx: PanelContext, key: str, _data: Any) -> dict[str, Any]:
    return {"satisfaction": st.selectbox(t("action_satisfaction", ctx.language), list(SATISFACTION),
                                         key=f"{key}_sat", format_func=lambda k: SATISFACTION[k].text(ctx.language))}


def _until_input(ctx: PanelContext, key: str, case: CaseView) -> dict[str, Any]:
    due = case.extended_close_due or case.close_due
    start = (due or clock.now()).date()
    day = st.date_input(t("action_until", ctx.language), value=start + timedelta(days=1), key=f"{key}_until")
    return {"until": datetime.combine(day, time(23, 59))}


def _photos_input(ctx: PanelContext, key: str, _data: Any) -> dict[str, Any]:
    files = st.file_uploader(t("field_photos", ctx.language), type=["jpg", "jpeg", "png", "heic", "heif"],
                             accept_multiple_files=True, key=f"{key}_photos") or []
    return {"photos": [(f.name, f.getvalue()) for f in files]} if files else {}


def _team_member_input(ctx: PanelContext, key: str, members: Any) -> dict[str, Any]:
    labels = {row.id: f"{TEAMS[row.team].text(ctx.language) if row.team in TEAMS else row.team} {row.name}"
              for row in members.itertuples()} if members is not None else {}
    choice = st.selectbox(t("teams_title", ctx.language), list(labels), format_func=lambda k: labels.get(k, k),
                          key=f"{key}_member", index=None, placeholder=t("assignee_pick", ctx.language))
    return {"member_id": choice} if choice else {}


_INPUTS: dict[str, Callable[[PanelContext, str, Any], dict[str, Any]]] = {
    "photos": _photos_input,
    "team_member": _team_member_input,
    "assignee": _assignee_input,
    "position": _position_input,
    "reason": _reason_input,
    "satisfaction": _satisfaction_input,
    "until": _until_input,
}


def _input_data(session: Session, ctx: PanelContext, case: CaseView, action: str) -> dict[str, Any]:
    """What each input of ``action`` needs to draw itself (the picker's options, the GPS fix)."""
    data: dict[str, Any] = {"until": case}
    inputs = ACTIONS[action].inputs
    if "assignee" in inputs:
        data["assignee"] = assignees.picker(session, ctx.scope, case, rules=_routing_rules(ctx.settings),
                                            community_streets=ctx.community_streets, action=action)
    if "team_member" in inputs:
        data["team_member"] = team_members(session, ctx.scope, grid_code=case.grid_code)
    if "position" in inputs:
        data["position"] = latest_fix(session, ctx.scope, ctx.scope.worker_id or "", now=clock.now(),
                                      max_age_minutes=ctx.settings.arrival_fix_max_age_minutes)
    return data


def _forms(engine: Engine, ctx: PanelContext, case: CaseView,
           allowed: list[str]) -> tuple[str | None, dict[str, Any], str | None]:
    """Draw one button or form per allowed action; the chosen action, its fields and note."""
    chosen, fields, note = None, {}, None
    for action in allowed:
        label = ACTIONS[action].text(ctx.language)
        key = f"cm_act_{action}_{case.id}_{case.version}"
        if not ACTIONS[action].inputs:
            if st.button(label, key=key):
                chosen = action
            continue
        with Session(engine) as session:
            data = _input_data(session, ctx, case, action)
        with st.form(key):
            values: dict[str, Any] = {}
            for kind in ACTIONS[action].inputs:
                values.update(_INPUTS[kind](ctx, key, data.get(kind)))
            text = st.text_input(t("action_note", ctx.language), key=f"{key}_note").strip()
            if st.form_submit_button(label):
                chosen, fields, note = action, values, text or None
    return chosen, fields, note


def case_actions(engine: Engine, ctx: PanelContext, case: CaseView) -> bool:
    """The caller's actions on ``case``; True when one was taken (committed)."""
    flash = st.session_state.get("case_flash")
    if flash and flash[0] == case.id and monotonic() < flash[2]:
        st.success(" ".join(flash[1]))  # kept for a while: a live refresh right after must not swallow it
    elif flash:
        st.session_state["case_flash"] = None
    allowed = commands.allowed_actions(case, ctx.scope)
    st.caption(t("case_actions", ctx.language))
    if not allowed:
        st.caption(t("case_no_actions", ctx.language))
        return False
    chosen, fields, note = _forms(engine, ctx, case, allowed)
    if chosen is None:
        return False
    fields = {k: v for k, v in fields.items() if v not in (None, "", False)}
    try:
        with unit_of_work(engine) as session:
            after = commands.act(session, ctx.scope, case.id, chosen, case.version, note=note,
                                 community_streets=ctx.community_streets, settings=ctx.settings, **fields)
    except GridCommandError as exc:
        st.error(str(exc))
        return False
    done = [t("action_done", ctx.language, action=ACTIONS[chosen].text(ctx.language), case=case.id)]
    if chosen == "arrive" and after.arrival_distance_m is not None:
        done.append(t("arrive_distance", ctx.language, distance=f"{after.arrival_distance_m:.0f}"))
    # draw again from the new state (its actions, not the old state's), saying what was done
    st.session_state["case_flash"] = (case.id, done, monotonic() + ACTION_CONFIRMATION_SECONDS)
    try:
        st.rerun(scope=ctx.rerun_scope)
    except StreamlitAPIException:  # the fragment is running as part of a whole-page run
        st.rerun()
    return True  # not reached: the rerun ends this run


def case_panel(engine: Engine, ctx: PanelContext, case_id: int) -> None:
    """Header, text, actions and timeline of one case (a case outside the caller's area: not found)."""
    language = ctx.language
    try:
        with Session(engine) as session:
            case = queries.get_case(session, ctx.scope, case_id)
    except GridCommandError as exc:
        st.warning(str(exc))
        return
    header = st.empty()  # filled after the actions, so it shows the state an action just set
    deadlines = st.container()  # likewise: the deadline an action just set (or met)
    st.text(case.text or "")
    acted = case_actions(engine, ctx, case)
    try:
        with Session(engine) as session:
            case = queries.get_case(session, ctx.scope, case_id) if acted else case
            events = queries.case_timeline(session, ctx.scope, case_id)
    except GridCommandError as exc:
        st.warning(str(exc))
        return
    category = CATEGORIES[case.category].text(language) if case.category in CATEGORIES else case.category
    header.markdown(f"**#{case_id} · {md_escape(str(category))} · {_state_text(case.state, language)}**")
    with deadlines:
        deadline_block(case, events, language, clock.now())
    st.caption(t("case_timeline", language))
    st.dataframe(pd.DataFrame({
        t("tl_at", language): events["at"],
        t("tl_action", language): events["action"].map(lambda a: event_label(a, language)),
        t("tl_state", language): events["to_state"].map(lambda s: _state_text(s, language)),
        t("tl_actor", language): events["actor"].map(lambda a: actor_text(a, language)),
        t("tl_note", language): events["note"].map(lambda n: note_text(n, language)),
    }), hide_index=True, width="stretch", height=220)
