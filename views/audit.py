"""Audit log search (admin only): sign-ins, account changes, unmask views, imports, exports and
case transitions, newest first. Thin: the reading rules live in :mod:`access.audit`."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from access import audit
from access.database import unit_of_work
from core import clock
from core.i18n import t
from views._auth import require_page, store_engine
from views._state import lang

language = lang()
user = require_page("audit-log")
st.title(t("page_audit", language))

ALL = "*"
action_options = [ALL, *audit.ACTIONS, "case:"]
action_labels = {ALL: t("all", language), "case:": t("audit_all_case_events", language),
                 **{k: f"{k} · {v}" if language == "zh" else k for k, v in audit.ACTIONS.items()}}
kinds = [ALL, "user", "case", "household", "cases", "households", "visits", "tracks"]
today = clock.now().date()

with st.form("audit_filters"):
    c1, c2, c3, c4 = st.columns(4)
    actor = c1.text_input(t("audit_actor", language), key="audit_actor", max_chars=64)
    action = c2.selectbox(t("audit_action", language), action_options, key="audit_action",
                          format_func=lambda k: action_labels.get(k, k))
    kind = c3.selectbox(t("audit_target_kind", language), kinds, key="audit_kind",
                        format_func=lambda k: t("all", language) if k == ALL else k)
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
        t("audit_actor", language): r.actor,
        t("audit_action", language): r.action,
        t("audit_target_kind", language): r.target_kind,
        t("audit_target_id", language): r.target_id,
        t("audit_detail", language): json.dumps(r.detail, ensure_ascii=False, default=str) if r.detail else "",
        t("audit_ip", language): r.ip,
    } for r in rows],
    columns=[t(k, language) for k in ("audit_at", "audit_actor", "audit_action", "audit_target_kind",
                                      "audit_target_id", "audit_detail", "audit_ip")],
)
st.caption(t("audit_count", language, n=len(frame)))
st.dataframe(frame, hide_index=True, width="stretch")
