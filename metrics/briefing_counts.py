"""Counts behind the leaders' briefing: an area's scope, four-visit coverage of a period's window,
cases per category, overdue and reworked cases per community, open emergencies (formulas in
:data:`metrics.formulas.BRIEFING_FORMULAS`). Counts and rates only: no row with personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from access.scope import Scope
from cases.actions import awaiting_arrival
from cases.queries import CaseFilter, count_by_state, count_cases, total_cases
from core import constants
from metrics.coverage import visit_coverage
from metrics.kpi import open_measures, settled_measures
from metrics.periods import Window
from store.models import Case
from store.query import area_filter


@dataclass(frozen=True)
class AreaScope(Scope):
    """A caller's scope narrowed to one street, community or grid (``within``; None: no narrowing).

    Every read API takes it as the caller's scope: rows must lie in both.
    """

    within: str | None = None

    @classmethod
    def narrow(cls, scope: Scope, area: str | None) -> AreaScope:
        """``scope`` narrowed to ``area``."""
        return cls(role=scope.role, area_codes=scope.area_codes, username=scope.username, user_id=scope.user_id,
                   worker_id=scope.worker_id, within=area or None)

    def clause(self, columns: Any) -> ColumnElement[bool]:
        """The caller's condition and the area's (bound parameters)."""
        base = super().clause(columns)
        narrowed = area_filter(columns, self.within)
        return base if narrowed is None else and_(base, narrowed)

    def allows(self, row: Any = None, *, street_code: str | None = None, community_code: str | None = None,
               grid_code: str | None = None) -> bool:
        """Whether a row (or these codes) lies in the caller's scope and in the area."""
        if row is not None:
            get = row.get if isinstance(row, dict) else lambda k: getattr(row, k, None)
            street_code, community_code, grid_code = (get(k) for k in ("street_code", "community_code", "grid_code"))
        if not super().allows(street_code=street_code, community_code=community_code, grid_code=grid_code):
            return False
        codes = {str(c) for c in (street_code, community_code, grid_code) if c is not None}
        return not self.within or self.within in codes


#: Columns of :func:`coverage_by`.
COVERAGE_COLUMNS: tuple[str, ...] = ("code", "households_due", "visited", "coverage")


def coverage_by(session: Session, scope: Scope, window: Window, *, by: str) -> pd.DataFrame:
    """Four-visit coverage (``period_coverage``) per street, community or grid over ``window``,
    as :func:`metrics.coverage.visit_coverage` counts it.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS` (``code`` None for persons without one); coverage 0..1,
        NaN when nobody is due.
    """
    frame = visit_coverage(session, scope, (window.since, window.until), by=by)
    return frame[list(COVERAGE_COLUMNS)].reset_index(drop=True)


def coverage_total(table: pd.DataFrame) -> tuple[int, int, float | None]:
    """Households due, visited and the coverage over the rows of :func:`coverage_by`; the coverage
    is None when nothing is due or no visit at all was recorded (a window before any record)."""
    due, visited = int(table["households_due"].sum()), int(table["visited"].sum())
    return due, visited, (visited / due if due and visited else None)


def category_counts(session: Session, scope: Scope, window: Window) -> dict[str, int]:
    """Cases reported in ``window`` per category (``category_cases``), in the order of
    ``core.constants.CATEGORIES``."""
    return {key: total_cases(session, scope, CaseFilter(category=key, since=window.since, until=window.until))
            for key in constants.CATEGORIES}


#: Columns of :func:`backlog_by_community`.
BACKLOG_COLUMNS: tuple[str, ...] = ("code", "overdue_unclosed", "reworked_cases")


def backlog_by_community(session: Session, scope: Scope, window: Window, now: datetime) -> pd.DataFrame:
    """Per community, the cases reported in ``window`` that are overdue and not closed at ``now``
    (``overdue_unclosed``) and those reworked at least once (``reworked_cases``).

    The flags are the KPI table's own (``due_open`` and ``reworked`` of :mod:`metrics.kpi`), so
    these counts add up with the closure and rework rates. Communities with neither are left out;
    most overdue first.
    """
    overdue = open_measures(Case, now)["due_open"]
    reworked = settled_measures()["reworked"](Case)
    query = (select(Case.community_code, func.sum(overdue), func.sum(reworked))
             .where(scope.clause(Case), Case.reported_at >= window.since, Case.reported_at < window.until)
             .group_by(Case.community_code))
    rows = [(code, int(a or 0), int(b or 0)) for code, a, b in session.execute(query)]
    rows = sorted((r for r in rows if r[1] or r[2]), key=lambda r: (-r[1], -r[2], r[0] is None, str(r[0])))
    return pd.DataFrame(rows, columns=list(BACKLOG_COLUMNS))


@dataclass(frozen=True)
class Emergencies:
    """Emergencies open now in the area (``open_emergencies``, ``emergencies_awaiting``)."""

    open: int
    awaiting: int
    #: ``code`` (community), ``cases``: open emergencies per community, most first.
    by_community: pd.DataFrame


def open_emergencies(session: Session, scope: Scope) -> Emergencies:
    """Open emergencies now, whenever reported: how many, how many nobody has reached, and per community."""
    states = count_by_state(session, scope, CaseFilter(category="emergency"))
    open_states = sorted(constants.OPEN_STATES)
    awaiting = sum(n for state, n in states.items() if awaiting_arrival(state, "emergency"))
    per_community = count_cases(session, scope, CaseFilter(category="emergency", states=tuple(open_states)),
                                by="community")
    return Emergencies(open=sum(states[s] for s in open_states), awaiting=awaiting,
                       by_community=per_community[["code", "cases"]])
