"""Escalation of overdue cases (超期升级 / 督办): to the community chief first, then the command centre.

A case whose pending deadline (respond, arrive or close; :mod:`cases.deadlines`) has passed by at
least a step's ``after_hours`` is escalated to that step's level, once: each escalation is an
``escalate`` event on the case's timeline (actor ``system:escalation``, naming the recipient), and
the case's ``escalation_level`` rises, so a level is never taken twice, whichever process runs the
job (:mod:`cases.scheduled` lets only one run it at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cases.deadlines import pending_deadline
from cases.lifecycle import transition
from cases.routing import load_directory
from core.constants import ESCALATION_STEPS, OPEN_STATES, EscalationStep
from core.errors import ConflictError, TransitionError
from store.db import session_scope
from store.models import Case

#: The actor of escalation events.
ACTOR = "system:escalation"


@dataclass(frozen=True)
class Due:
    """One escalation to take: the case, the version read, the step and how overdue it is (hours)."""

    case_id: int
    version: int
    step: EscalationStep
    overdue_hours: float
    community_code: str | None


def due_escalations(session: Session, now: datetime,
                    steps: Sequence[EscalationStep] = ESCALATION_STEPS) -> list[Due]:
    """The escalations due at ``now``: for each open, dispatched, overdue case the highest step it
    has reached and not yet been escalated to."""
    if not steps:
        return []
    top = max(step.level for step in steps)
    rows = session.scalars(select(Case).where(Case.state.in_(sorted(OPEN_STATES)), Case.dispatched_at.is_not(None),
                                              Case.escalation_level < top))
    due = []
    for case in rows:
        pending = pending_deadline(case)
        if pending is None or now <= pending[1]:
            continue
        hours = (now - pending[1]).total_seconds() / 3600
        reached = [s for s in steps if hours >= s.after_hours and s.level > (case.escalation_level or 0)]
        if reached:
            step = max(reached, key=lambda s: s.level)
            due.append(Due(case.id, case.version, step, hours, case.community_code))
    return due


def escalate_overdue(engine: Engine, now: datetime, steps: Sequence[EscalationStep] = ESCALATION_STEPS) -> int:
    """Take every escalation due at ``now``, each in its own transaction; returns how many were taken.

    A case changed meanwhile (a stale version: someone acted on it, or another process escalated
    it first) or already at that level is left alone; the next run looks at it again.
    """
    with session_scope(engine) as session:
        directory = load_directory(session)
        due = due_escalations(session, now, steps)
    done = 0
    for item in due:
        chief = directory.community_chiefs.get(item.community_code or "")
        to = f"chief {chief}" if item.step.to == "chief" and chief else "commander"
        try:
            with session_scope(engine) as session:
                transition(session, item.case_id, "escalate", actor=ACTOR, expected_version=item.version, at=now,
                           note=f"overdue {item.overdue_hours:.1f} h", level=item.step.level, to=to)
        except (ConflictError, TransitionError):
            continue
        done += 1
    return done
