"""The leaders' briefing (领导驾驶舱, 周报/月报/季报): one period's figures for one area, with 同比/环比.

Every number comes from the project's own measures: the KPI table (:func:`metrics.kpi.kpi_table`),
four-visit coverage (:mod:`metrics.coverage`, summed over the period's months) and the read APIs
of the cases; the new ones are documented in :data:`metrics.formulas.BRIEFING_FORMULAS`. Counts
and rates only: a briefing holds no row with personal data, so leaders may see all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from metrics.briefing_counts import (
    AreaScope,
    Emergencies,
    backlog_by_community,
    category_counts,
    coverage_by,
    coverage_total,
    open_emergencies,
)
from metrics.formulas import FORMULAS, grade, grade_rate
from metrics.kpi import KpiReport, kpi_table
from metrics.periods import Comparison, Period, Window, comparison

#: The headline figures, in the order they are shown.
HEADLINE: tuple[str, ...] = ("reported", "closure_rate", "on_time_rate", "satisfaction_rate", "arrival_rate",
                             "period_coverage")
#: Measures a briefing map can be coloured by (formulas in ``FORMULAS``).
MAP_MEASURES: tuple[str, ...] = ("on_time_rate", "closure_rate", "satisfaction_rate", "arrival_rate",
                                 "period_coverage", "reported", "hotspot_rise")
#: How many hotspots a briefing lists.
HOTSPOTS = 5


@dataclass(frozen=True)
class Change:
    """A comparison (``change_mom`` 环比 or ``change_yoy`` 同比) of a figure with a base value.

    ``delta`` is relative for counts ((value − base) ÷ base) and the difference in share points
    for rates (value − base); None when either value is missing (or a count's base is 0).
    """

    base: float | None
    delta: float | None

    @property
    def direction(self) -> str | None:
        """``up``, ``down``, ``flat``, or None without a change."""
        if self.delta is None:
            return None
        if abs(self.delta) < 5e-4:  # shown as 0.0 % or 0.0 points
            return "flat"
        return "up" if self.delta > 0 else "down"


def change(key: str, value: float | None, base: float | None) -> Change:
    """The change of figure ``key`` from ``base`` to ``value`` (see :class:`Change`)."""
    if value is None or base is None:
        return Change(base, None)
    if FORMULAS[key].unit == "%":
        return Change(base, value - base)
    return Change(base, (value - base) / base if base else None)


@dataclass(frozen=True)
class Figure:
    """A headline figure: its value, grade (rates), 环比 and 同比."""

    key: str
    value: float | None
    grade: str | None
    mom: Change
    yoy: Change


@dataclass
class Briefing:
    """One period's briefing for one area, evaluated at ``now``."""

    comparison: Comparison
    area: str | None
    now: datetime
    #: Headline figures by key (:data:`HEADLINE`).
    figures: dict[str, Figure]
    #: KPI tables of the period per community and per grid (ranked, graded).
    communities: KpiReport
    grids: KpiReport
    #: ``code``, ``current``, ``previous``, ``hotspot_rise`` of the grids whose cases rose most.
    hotspots: pd.DataFrame
    emergencies: Emergencies
    #: Cases per category key.
    categories: dict[str, int]
    #: ``code``, ``overdue_unclosed``, ``reworked_cases`` per community.
    backlog: pd.DataFrame
    #: Four-visit coverage per community and per grid (``code``, ``households_due``, ``visited``, ``coverage``).
    coverage_communities: pd.DataFrame
    coverage_grids: pd.DataFrame
    #: Cases per grid code in the previous window (for ``hotspot_rise`` on the map).
    previous_grid_cases: dict[str, int] = field(default_factory=dict)

    @property
    def period(self) -> Period:
        """The period briefed."""
        return self.comparison.period

    @property
    def window(self) -> Window:
        """The period's window (up to today while it runs)."""
        return self.comparison.current

    @property
    def rank_by(self) -> str:
        """What the rankings are ranked (and graded) by."""
        return self.communities.rank_by

    def ranking(self, level: str) -> list[dict[str, Any]]:
        """The ranked KPI rows of ``community`` or ``grid`` with ``grade`` (of :attr:`rank_by`)."""
        report = self.communities if level == "community" else self.grids
        return [{**row, "grade": row.get(f"grade_{self.rank_by}")} for row in report.rows]

    def grid_values(self, measure: str) -> pd.Series:
        """Values of a :data:`MAP_MEASURES` key per grid code (grids without a value left out)."""
        if measure not in MAP_MEASURES:
            msg = f"unknown map measure {measure!r}; expected one of {', '.join(MAP_MEASURES)}"
            raise ValueError(msg)
        if measure == "period_coverage":
            if self.figures["period_coverage"].value is None:  # nothing recorded in the window
                return pd.Series(dtype=float)
            frame = self.coverage_grids.dropna(subset=["code", "coverage"])
            return pd.Series(frame["coverage"].to_numpy(dtype=float), index=frame["code"].astype(str))
        current = {str(r["code"]): r for r in self.grids.rows}
        if measure == "hotspot_rise":
            codes = sorted(set(current) | set(self.previous_grid_cases))
            return pd.Series({c: float(_reported(current.get(c)) - self.previous_grid_cases.get(c, 0)) for c in codes},
                             dtype=float)
        values = {code: row[measure] for code, row in current.items() if row.get(measure) is not None}
        return pd.Series(values, dtype=float)


def _reported(row: dict[str, Any] | None) -> int:
    return int(row["reported"]) if row else 0


def _totals(session: Session, scope: Scope, window: Window, now: datetime) -> dict[str, float | None]:
    """The headline values over one window."""
    total = kpi_table(session, by=None, since=window.since, until=window.until, now=now, scope=scope).total
    values: dict[str, float | None] = {key: total.get(key) for key in HEADLINE if key != "period_coverage"}
    values["period_coverage"] = coverage_total(coverage_by(session, scope, window, by="community"))[2]
    return values


def hotspots(current: KpiReport, previous: KpiReport, *, limit: int = HOTSPOTS) -> pd.DataFrame:
    """The grids whose cases rose most from the previous window (``hotspot_rise`` > 0), largest
    rise first, then the most cases, then the code."""
    before = {str(r["code"]): int(r["reported"]) for r in previous.rows}
    rows = [(str(r["code"]), int(r["reported"]), before.get(str(r["code"]), 0)) for r in current.rows]
    rises = sorted(((code, now, then, now - then) for code, now, then in rows if now > then),
                   key=lambda r: (-r[3], -r[1], r[0]))
    return pd.DataFrame(rises[:limit], columns=["code", "current", "previous", "hotspot_rise"])


def build_briefing(session: Session, scope: Scope, period: Period, *, now: datetime, area: str | None = None,
                   ) -> Briefing:
    """Every figure of a briefing on ``period`` for ``area`` (default: the caller's whole scope).

    Parameters
    ----------
    session : Session
        The store.
    scope : Scope
        The caller's scope; ``area`` narrows it (a street, community or grid code).
    period : Period
        The week, month or quarter briefed (:mod:`metrics.periods`).
    now : datetime
        Time of evaluation: outcomes (closed, overdue, ...) as of then; a running period counts
        up to the end of that day.
    area : str, optional
        A street, community or grid code.

    Returns
    -------
    Briefing
    """
    narrowed = AreaScope.narrow(scope, area)
    windows = comparison(period, now)
    current = _totals(session, narrowed, windows.current, now)
    previous = _totals(session, narrowed, windows.previous, now)
    year_ago = _totals(session, narrowed, windows.year_ago, now)
    figures = {key: Figure(key, current[key], _grade(key, current[key]), change(key, current[key], previous[key]),
                           change(key, current[key], year_ago[key])) for key in HEADLINE}

    def table(by: str, window: Window) -> KpiReport:
        return kpi_table(session, by=by, since=window.since, until=window.until, now=now, scope=narrowed)

    grids, grids_before = table("grid", windows.current), table("grid", windows.previous)
    return Briefing(
        comparison=windows, area=area or None, now=now, figures=figures,
        communities=table("community", windows.current), grids=grids, hotspots=hotspots(grids, grids_before),
        emergencies=open_emergencies(session, narrowed),
        categories=category_counts(session, narrowed, windows.current),
        backlog=backlog_by_community(session, narrowed, windows.current, now),
        coverage_communities=coverage_by(session, narrowed, windows.current, by="community"),
        coverage_grids=coverage_by(session, narrowed, windows.current, by="grid"),
        previous_grid_cases={str(r["code"]): int(r["reported"]) for r in grids_before.rows},
    )


def _grade(key: str, value: float | None) -> str | None:
    if key == "period_coverage":
        return grade_rate(value)
    return grade(key, value)
