"""Audit log search (admin only): sign-ins, account changes, unmask views, imports, exports and
case transitions, newest first. Thin: the reading rules live in :mod:`access.audit`."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from access import audit
from access.database import unit_of_work
from cases.notes import actor_text, event_label, note_text
from core import clock
from core.constants import STATES
from core.i18n import t
from views._auth import require_page, store_engine
from views._state import lang

language = lang()
user = require_page("audit-log")
st.title(t("page_audit", language))

ALL = "*"


def _action(action: str) -> str:
    """An audit action, a case transition (``case:<action>``) by the action table's label."""
    if action.startswith("case:"):
        return f"{t('audit_case', language)} · {event_label(action[5:], language)}"
    return audit.action_text(action, language)


def _detail(action: str, detail: dict | None) -> str:
    """An entry's detail; a case transition's as ``from → to · note`` in the UI language."""
    if not (action.startswith("case:") and detail):
        return audit.detail_text(detail, language)
    states = [STATES[s].text(language) if s in STATES else str(s or "—")
              for s in (detail.get("from"), detail.get("to"))]
    note = note_text(detail.get("note"), language)
    return " → ".join(states) + (f" · {note}" if note else "")


action_options = [ALL, *audit.ACTIONS, "case:"]
action_labels = {ALL: t("all", language), "case:": t("audit_all_case_events", language)}
kinds = [ALL, *audit.TARGET_KINDS]
today = clock.now().date()

with st.form("audit_filters"):
    c1, c2, c3, c4 = st.columns(4)
    actor = c1.text_input(t("audit_actor", language), key="audit_actor", max_chars=64)
    action = c2.selectbox(t("audit_action", language), action_options, key="audit_action",
                          format_func=lambda k: action_labels.get(k) or audit.action_text(k, language))
    kind = c3.selectbox(t("audit_target_kind", language), kinds, key="audit_kind",
                        format_func=lambda k: t("all", language) if k == ALL else audit.target_kind_text(k, language))
    target = c4.text_input(t("audit_target_id", language), key="audit_target", max_chars=64)
    c5, c6, c7 = st.columns([2, 1, 1])
    period = c5.date_input(t("audit_period", language), value=(today - timedelta(days=30), today),
                           key="audit_period")
    limit = c6.number_input(t("audit_limit", language), min_value=10, max_value=10_000, value=500, step=100,
                            key="audit_limit")
    with_cases = c7.checkbox(t("audit_case_events", language), value=True, key="audit_cases")
    st.form_submit_button(t("audit_search", language))

since = until = None
if isinstance(period, (list, tuple)) and len(period) == 2:
    since = datetime.combine(period[0], time.min)
    until = datetime.combine(period[1], time.min) + timedelta(days=1)

with unit_of_work(store_engine()) as session:
    rows = audit.search(
        session, user.scope,
        actor=actor.strip() or None,
        action=None if action == ALL else action,
        target_kind=None if kind == ALL else kind,
        target_id=target.strip() or None,
        since=since, until=until, include_case_events=with_cases, limit=int(limit),
    )

frame = pd.DataFrame(
    [{
        t("audit_at", language): r.at,
        t("audit_actor", language): actor_text(r.actor, language),
        t("audit_action", language): _action(r.action),
        t("audit_target_kind", language): audit.target_kind_text(r.target_kind, language),
        t("audit_target_id", language): r.target_id,
        t("audit_detail", language): _detail(r.action, r.detail),
        t("audit_ip", language): r.ip,
    } for r in rows],
    columns=[t(k, language) for k in ("audit_at", "audit_actor", "audit_action", "audit_target_kind",
                                      "audit_target_id", "audit_detail", "audit_ip")],
)
st.caption(t("audit_count", language, n=len(frame)))
st.dataframe(frame, hide_index=True, width="stretch")
