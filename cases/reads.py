"""Case reads the pages and the CLI run (each backed by an index; plans in the README).

Every public function takes an open session and the caller's :class:`access.scope.Scope` as a
REQUIRED keyword argument ``scope=`` (no default): it becomes a SQL condition
(:meth:`~access.scope.Scope.clause`) so no row outside the caller's area is ever read. Callers that
legitimately act district-wide (the CLI, benches, the demo seeder) pass
:func:`district_scope`. Record-level reads (cases, events, points) refuse ``leader`` scopes
(aggregates only). The returned ORM rows carry raw personal fields: mask before display
(:mod:`access.masking`), or use :mod:`cases.queries` which returns masked frames. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from access.scope import Scope
from core import constants
from core.errors import InputError, PermissionDenied
from store.models import Case, CaseEvent

#: States in which a case without an assignee waits in the unrouted queue.
UNROUTED_STATES: tuple[str, ...] = ("reported", "registered", "returned")
#: Area levels and the case column of each.
AREA_COLUMNS: dict[str, str] = {"street": "street_code", "community": "community_code", "grid": "grid_code"}


def district_scope(username: str = "cli") -> Scope:
    """A whole-district ``admin`` scope for trusted district-wide callers (CLI, benches, demo)."""
    return Scope(role="admin", username=username)


def _check_scope(scope: Any) -> Scope:
    if not isinstance(scope, Scope):
        msg = f"scope must be a access.scope.Scope, not {type(scope).__name__}"
        raise TypeError(msg)
    return scope


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
    scope: Scope,
) -> Select[Any]:
    """Add the caller's scope and the common case filters to ``query`` (``since``/``until`` on
    ``reported_at``). ``scope`` is required: the area filters only narrow inside it."""
    query = query.where(_check_scope(scope).clause(Case))
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
    return query


def list_cases(session: Session, *, scope: Scope, limit: int = 100, offset: int = 0,
               **filters: Any) -> list[Case]:
    """Cases in ``scope`` matching ``filters`` (see :func:`case_filter`), newest report first.

    Raises PermissionDenied for ``leader`` (aggregates only). Personal fields are NOT masked.

    Returns
    -------
    list of Case
        At most ``limit`` cases after skipping ``offset``.
    """
    _check_scope(scope).require_records()
    query = case_filter(select(Case), scope=scope, **filters).order_by(Case.reported_at.desc(), Case.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_cases(session: Session, *, scope: Scope, **filters: Any) -> int:
    """How many cases in ``scope`` match ``filters``."""
    query = case_filter(select(func.count()).select_from(Case), scope=scope, **filters)
    return int(session.scalar(query) or 0)


def counts_by_state(session: Session, *, scope: Scope, **filters: Any) -> dict[str, int]:
    """Number of cases in ``scope`` per state (every state present, zero when none)."""
    query = case_filter(select(Case.state, func.count()).select_from(Case), scope=scope, **filters).group_by(Case.state)
    counts = dict.fromkeys(constants.STATES, 0)
    counts.update({state: int(n) for state, n in session.execute(query)})
    return counts


def counts_by_area(session: Session, level: str = "grid", *, scope: Scope,
                   state: str | Iterable[str] | None = None, **filters: Any) -> dict[str, int]:
    """Number of cases in ``scope`` per area code of ``level`` (street | community | grid), e.g. open cases
    per grid for the map (``state=sorted(OPEN_STATES)``)."""
    if level not in AREA_COLUMNS:
        raise InputError("level", f"unknown level {level!r}", f"use one of {', '.join(AREA_COLUMNS)}")
    column = getattr(Case, AREA_COLUMNS[level])
    query = case_filter(select(column, func.count()).select_from(Case), state=state, scope=scope,
                        **filters)
    query = query.where(column.is_not(None)).group_by(column)
    return {code: int(n) for code, n in session.execute(query)}


def get_case(session: Session, case_id: int, *, scope: Scope) -> Case:
    """One case in ``scope`` (personal fields NOT masked).

    Raises
    ------
    core.errors.InputError
        No case with this id.
    core.errors.PermissionDenied
        The case lies outside ``scope``, or the role sees aggregates only.
    """
    _check_scope(scope).require_records()
    case = session.scalar(select(Case).where(Case.id == case_id, scope.clause(Case)))
    if case is not None:
        return case
    if session.scalar(select(Case.id).where(Case.id == case_id)) is None:
        raise InputError("case", f"no case {case_id}", "check the case number (python -m cases list)")
    msg = f"case {case_id} lies outside the area of {scope.username or scope.role} ({scope.role})"
    raise PermissionDenied(msg)


def case_events(session: Session, case_id: int, *, scope: Scope) -> list[CaseEvent]:
    """The audit trail of a case in ``scope``, oldest first (empty when the case is outside it)."""
    _check_scope(scope).require_records()
    query = (select(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
             .where(CaseEvent.case_id == case_id, scope.clause(Case)).order_by(CaseEvent.seq))
    return list(session.scalars(query))


def case_points(session: Session, *, scope: Scope, limit: int = 50_000,
                **filters: Any) -> list[tuple[int, float, float, str, str]]:
    """``(id, lon, lat, state, category)`` of located cases in ``scope`` for the map (EPSG:4490
    degrees)."""
    _check_scope(scope).require_records()
    query = case_filter(select(Case.id, Case.lon, Case.lat, Case.state, Case.category), scope=scope, **filters)
    query = query.where(Case.lon.is_not(None), Case.lat.is_not(None)).order_by(Case.reported_at.desc())
    return [tuple(row) for row in session.execute(query.limit(limit))]
