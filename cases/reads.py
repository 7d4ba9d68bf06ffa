"""Case reads the pages and the CLI run (each backed by an index; plans in the README).

Every function takes an open session and an optional :class:`cases.scope.Scope` that limits the
rows to the caller's area. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cases.models import Case, CaseEvent
from core import constants
from core.errors import InputError

#: States in which a case without an assignee waits in the unrouted queue.
UNROUTED_STATES: tuple[str, ...] = ("reported", "registered", "returned")
#: Area levels and the case column of each.
AREA_COLUMNS: dict[str, str] = {"street": "street_code", "community": "community_code", "grid": "grid_code"}


def _states(state: str | Iterable[str] | None) -> list[str] | None:
    if state is None:
        return None
    states = [state] if isinstance(state, str) else list(state)
    unknown = [s for s in states if s not in constants.STATES]
    if unknown:
        raise InputError("--state", f"unknown state(s) {', '.join(unknown)}", f"use one of {', '.join(constants.STATES)}")
    return states


def case_filter(
    query: Select[Any],
    *,
    state: str | Iterable[str] | None = None,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    assignee: str | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unrouted: bool = False,
    scope: Any = None,
) -> Select[Any]:
    """Add the common case filters to ``query`` (``since``/``until`` on ``reported_at``)."""
    states = _states(state)
    if states:
        query = query.where(Case.state.in_(states))
    for column, value in ((Case.street_code, street), (Case.community_code, community), (Case.grid_code, grid),
                          (Case.assignee_id, assignee), (Case.category, category)):
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Case.reported_at >= since)
    if until is not None:
        query = query.where(Case.reported_at < until)
    if unrouted:
        query = query.where(Case.assignee_id.is_(None), Case.state.in_(UNROUTED_STATES))
    if scope is not None:
        query = query.where(scope.clause(Case))
    return query


def list_cases(session: Session, *, limit: int = 100, offset: int = 0, **filters: Any) -> list[Case]:
    """Cases matching ``filters`` (see :func:`case_filter`), newest report first.

    Returns
    -------
    list of Case
        At most ``limit`` cases after skipping ``offset``.
    """
    query = case_filter(select(Case), **filters).order_by(Case.reported_at.desc(), Case.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_cases(session: Session, **filters: Any) -> int:
    """How many cases match ``filters``."""
    return int(session.scalar(case_filter(select(func.count()).select_from(Case), **filters)) or 0)


def counts_by_state(session: Session, **filters: Any) -> dict[str, int]:
    """Number of cases per state (every state present, zero when none)."""
    query = case_filter(select(Case.state, func.count()).select_from(Case), **filters).group_by(Case.state)
    counts = dict.fromkeys(constants.STATES, 0)
    counts.update({state: int(n) for state, n in session.execute(query)})
    return counts


def counts_by_area(session: Session, level: str = "grid", *, state: str | Iterable[str] | None = None,
                   **filters: Any) -> dict[str, int]:
    """Number of cases per area code of ``level`` (street | community | grid), e.g. open cases
    per grid for the map (``state=sorted(OPEN_STATES)``)."""
    if level not in AREA_COLUMNS:
        raise InputError("level", f"unknown level {level!r}", f"use one of {', '.join(AREA_COLUMNS)}")
    column = getattr(Case, AREA_COLUMNS[level])
    query = case_filter(select(column, func.count()).select_from(Case), state=state, **filters)
    query = query.where(column.is_not(None)).group_by(column)
    return {code: int(n) for code, n in session.execute(query)}


def get_case(session: Session, case_id: int) -> Case:
    """One case; InputError naming the id when it does not exist."""
    case = session.get(Case, case_id)
    if case is None:
        raise InputError("case", f"no case {case_id}", "check the case number (python -m cases list)")
    return case


def case_events(session: Session, case_id: int) -> list[CaseEvent]:
    """The case's audit trail, oldest first."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))


def case_points(session: Session, *, limit: int = 50_000, **filters: Any) -> list[tuple[int, float, float, str, str]]:
    """``(id, lon, lat, state, category)`` of located cases for the map (EPSG:4490 degrees)."""
    query = case_filter(select(Case.id, Case.lon, Case.lat, Case.state, Case.category), **filters)
    query = query.where(Case.lon.is_not(None), Case.lat.is_not(None)).order_by(Case.reported_at.desc())
    return [tuple(row) for row in session.execute(query.limit(limit))]
