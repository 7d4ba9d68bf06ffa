"""Test data written straight into a store: cases in state ``reported`` with their first event.

Production code enters cases only through ``intake.submit``; tests that need a case in a given
grid without a hierarchy file use :func:`insert_case` to set the rows up directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.actions import REPORT_EVENT
from store.models import Case, CaseEvent


def insert_case(session: Session, *, actor: str, at: datetime, note: str | None = None, **values: Any) -> Case:
    """Add one case in state ``reported`` (columns of ``store.models.Case`` in ``values``) with its
    first event; flushed, not committed."""
    values.setdefault("reported_at", at)
    values.setdefault("text", "")
    values.setdefault("priority", "normal")
    case = Case(state="reported", version=1, supervised=False, rework_count=0, **values)
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, seq=1, action=REPORT_EVENT, from_state=None, to_state="reported",
                          actor=actor, at=at, note=note, lon=values.get("lon"), lat=values.get("lat")))
    session.flush()
    return case
