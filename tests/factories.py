"""Test data written straight into a store: people, and cases in state ``reported`` with their first event.

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


#: A point in the demo district's area (CGCS2000 degrees) used as the case location.
CASE_LON, CASE_LAT = 116.587, 35.415
T0 = datetime(2026, 11, 16, 9, 0)  # a Monday


def add_people(session: Session) -> None:
    """Two grid workers, a community chief and two departments."""
    from store.models import Department, Worker

    session.add_all([
        Worker(id="W001", name="张伟", phone="13800000001", role="worker",
               grid_code="370811004001001", community_code="370811004001", active=True),
        Worker(id="W002", name="李娜", phone="13800000002", role="worker",
               grid_code="370811004001002", community_code="370811004001", active=True),
        Worker(id="C001", name="王强", phone="13800000003", role="chief",
               grid_code=None, community_code="370811004001", active=True),
        Department(name="应急管理", active=True),
        Department(name="市场监管", active=True),
    ])
    session.flush()


def new_case(session: Session, *, source_id: str = "A1", category: str = "request",
             priority: str = "normal", at=T0, **extra):
    """A reported case in grid 370811004001001, routed to worker W001."""

    values = dict(source="hotline_12345", source_id=source_id, category=category, subcategory=None,
                  text="楼道堆放杂物", lon=CASE_LON, lat=CASE_LAT, street_code="370811004",
                  community_code="370811004001", grid_code="370811004001001", join_status="ok",
                  priority=priority, assignee_kind="worker", assignee_id="W001", reported_at=at)
    values.update(extra)
    return insert_case(session, actor="import", at=at, **values)
