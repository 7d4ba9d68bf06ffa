"""How a deadline reads on the pages: time left or overdue by, the pending deadline of a case,
and its supervision (督办) and escalation history. The rules are in :mod:`cases.deadlines`."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import streamlit as st

from cases.deadlines import effective_close_due, pending_deadline
from cases.notes import actor_text, event_label, note_text
from cases.queries import CaseView
from core.i18n import t

#: Timeline actions shown as the case's supervision history.
SUPERVISION_ACTIONS: tuple[str, ...] = ("supervise", "escalate")


def duration_text(hours: float, language: str) -> str:
    """A span in the unit that reads best: minutes under an hour, hours under two days, else days."""
    hours = abs(hours)
    if hours < 1:
        return t("due_minutes", language, n=max(1, math.floor(hours * 60)))
    if hours < 48:
        return t("due_hours", language, n=math.floor(hours))
    return t("due_days", language, n=f"{hours / 24:.1f}".rstrip("0").rstrip("."))


def left_text(hours: float | None, language: str) -> str:
    """"剩余 5 小时" / "已超期 2 天" for hours left (negative: overdue); empty without a deadline."""
    if hours is None or pd.isna(hours):
        return ""
    key = "due_overdue_by" if hours < 0 else "due_left"
    return t(key, language, time=duration_text(hours, language))


def _minute(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else ""


def deadline_block(case: CaseView, events: pd.DataFrame, language: str, now: datetime) -> None:
    """The pending deadline with time left (a red badge when overdue), the close deadline in
    force, the escalation level and the supervision history of ``case``."""
    pending = pending_deadline(case)
    if pending is None:
        st.caption(t("case_no_deadline", language))
    else:
        kind, due = pending
        hours = (due - now).total_seconds() / 3600
        colour = "red" if hours < 0 else "orange" if hours <= 24 else "blue"
        st.markdown(f"{t('case_deadline_at', language, kind=t(f'due_kind_{kind}', language), at=_minute(due))} "
                    f":{colour}-badge[{left_text(hours, language)}]")
        close = effective_close_due(case)
        if kind != "close" and close is not None:
            st.caption(t("case_close_due", language, at=_minute(close)))
    if case.extension_state == "approved" and case.extended_close_due is not None:
        st.caption(t("case_extended_to", language, at=_minute(case.extended_close_due)))
    if case.escalation_level:
        st.markdown(f":red-badge[{t('case_escalation_level', language, level=case.escalation_level)}]")
    history = events.loc[events["action"].isin(SUPERVISION_ACTIONS)] if len(events) else events
    st.caption(t("case_supervision", language))
    if history.empty and not case.supervised:
        st.caption(t("case_no_supervision", language))
        return
    for row in history.itertuples():
        note = f" · {note_text(row.note, language)}" if isinstance(row.note, str) and row.note else ""
        st.text(f"{pd.Timestamp(row.at):%m-%d %H:%M} {event_label(str(row.action), language)} · "
                f"{actor_text(row.actor, language)}{note}")
