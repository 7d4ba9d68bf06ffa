"""KPIs: the single source of every number on screen (GB/T 30428 style).

:data:`FORMULAS` documents each indicator once (numerator, denominator, exclusions, which
direction is better); :func:`kpi_table` computes them all with one SQL ``GROUP BY`` on the server
for a level (street, community, grid, worker, department, or the whole district) and a time
window, then adds red/yellow/green grades and rankings.

Window and time of evaluation: a case belongs to the window when its ``reported_at`` lies in
``[since, until)``; its outcome (closed, on time, ...) is judged as of ``now``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session

from cases import clock
from cases.models import Case
from cases.sqltime import seconds_between
from core import constants


@dataclass(frozen=True)
class Formula:
    """How one indicator is computed. ``better`` is ``higher``, ``lower`` or None (a count)."""

    key: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    exclusions: str
    better: str | None
    unit: str


FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("reported", "受理数", "Reported", "cases reported in the window", None,
                "none (voided cases included)", None, "cases"),
        Formula("registered", "立案数", "Registered", "cases registered (立案)", None,
                "voided cases (never registered)", None, "cases"),
        Formula("dispatched", "派遣数", "Dispatched", "cases dispatched at least once", None,
                "cases never dispatched", None, "cases"),
        Formula("closed", "结案数", "Closed", "cases closed (closed or archived)", None, "none", None, "cases"),
        Formula("due", "应结案数", "Due to be closed",
                "dispatched cases already closed or whose close deadline (extended if approved) has passed",
                None, "cases not yet dispatched; open cases still within their deadline", None, "cases"),
        Formula("closure_rate", "结案率", "Closure rate", "closed", "due to be closed",
                "cases not yet due (see 'due')", "higher", "%"),
        Formula("on_time_rate", "按期结案率", "On-time closure rate",
                "closed on or before the close deadline (the extended deadline when an extension was approved)",
                "due to be closed", "cases not yet due", "higher", "%"),
        Formula("rework_rate", "返工率", "Rework rate",
                "handled cases sent back to rework at least once (failed verification or dissatisfied follow-up)",
                "cases handled at least once", "cases never handled", "lower", "%"),
        Formula("extension_rate", "延期率", "Extension rate", "cases with an approved extension",
                "cases dispatched", "requested or refused extensions", "lower", "%"),
        Formula("mean_handling_hours", "平均处置用时", "Mean handling time",
                "sum of hours from (first) dispatch to (last) handling", "cases handled",
                "cases not yet handled", None, "h"),
        Formula("arrival_rate", "按时到场率", "On-time arrival rate",
                "four-arrival cases on site by the arrival deadline",
                "dispatched four-arrival cases that arrived or whose arrival deadline has passed",
                "categories outside ARRIVAL_REQUIRED_CATEGORIES; cases still within the arrival deadline",
                "higher", "%"),
        Formula("mean_arrival_minutes", "平均到场用时", "Mean arrival time",
                "sum of minutes from dispatch to arrival on site", "four-arrival cases that arrived",
                "cases not (yet) on site", None, "min"),
        Formula("satisfaction_rate", "满意率", "Satisfaction rate",
                "follow-ups rated satisfied or basically satisfied (满意 + 基本满意)", "follow-ups with a rating",
                "cases without a follow-up rating", "higher", "%"),
    )
}
#: Rates that get a grade.
RATES: tuple[str, ...] = tuple(k for k, f in FORMULAS.items() if f.better)

#: Levels of :func:`kpi_table` and the case column each groups by.
LEVEL_COLUMNS: dict[str, str] = {
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
    "worker": "assignee_id",
    "department": "assignee_id",
}


def grade(key: str, value: float | None) -> str | None:
    """``green``, ``yellow`` or ``red`` for rate ``key`` (thresholds ``core.constants.GRADE_*``;
    for lower-is-better rates the mirrored thresholds ``1 - GRADE_*``); None without a value."""
    if value is None or key not in RATES:
        return None
    if FORMULAS[key].better == "lower":
        value = 1.0 - value
    if value >= constants.GRADE_GREEN:
        return "green"
    if value >= constants.GRADE_YELLOW:
        return "yellow"
    return "red"


@dataclass
class KpiReport:
    """KPI rows of one level and window. Each row: ``code`` plus every key of :data:`FORMULAS`,
    ``grade_<rate>`` for each rate, and ``rank`` by ``rank_by``."""

    by: str | None
    since: datetime | None
    until: datetime | None
    now: datetime
    rank_by: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (one per group, ranked order)."""
        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO strings, formulas included."""
        def iso(t: datetime | None) -> str | None:
            return t.isoformat(sep=" ") if t else None

        return {"by": self.by, "since": iso(self.since), "until": iso(self.until), "now": iso(self.now),
                "rank_by": self.rank_by, "rows": self.rows, "total": self.total,
                "formulas": {k: asdict(f) for k, f in FORMULAS.items()}}


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _aggregates(now: datetime) -> list[Any]:
    c = Case
    eff_due = case((and_(c.extension_state == "approved", c.extended_close_due.is_not(None)), c.extended_close_due),
                   else_=c.close_due)
    dispatched = c.dispatched_at.is_not(None)
    closed = c.closed_at.is_not(None)
    # all four categories need an arrival today: then the test is trivially true and left out
    # (an IN list evaluated four times per row doubles the cost of the scan on SQLite)
    arrival_cat = (true() if constants.ARRIVAL_REQUIRED_CATEGORIES >= set(constants.CATEGORIES)
                   else c.category.in_(sorted(constants.ARRIVAL_REQUIRED_CATEGORIES)))
    arrived = c.arrived_at.is_not(None)
    handled = c.handled_at.is_not(None)
    return [
        func.count().label("reported"),
        _count(c.registered_at.is_not(None)).label("registered"),
        _count(dispatched).label("dispatched"),
        _count(closed).label("closed"),
        _count(and_(dispatched, or_(closed, eff_due <= now))).label("due"),
        _count(and_(dispatched, closed, c.closed_at <= eff_due)).label("on_time"),
        _count(handled).label("handled"),
        _count(and_(handled, c.rework_count > 0)).label("reworked"),
        _count(c.extension_state == "approved").label("extended"),
        func.sum(case((and_(handled, dispatched), seconds_between(c.dispatched_at, c.handled_at)),
                      else_=None)).label("handling_s"),
        _count(and_(handled, dispatched)).label("handled_timed"),
        _count(and_(dispatched, arrival_cat, or_(arrived, c.arrive_due <= now))).label("arrival_due"),
        _count(and_(dispatched, arrival_cat, arrived, c.arrived_at <= c.arrive_due)).label("arrived_on_time"),
        func.sum(case((and_(dispatched, arrival_cat, arrived), seconds_between(c.dispatched_at, c.arrived_at)),
                      else_=None)).label("arrival_s"),
        _count(and_(dispatched, arrival_cat, arrived)).label("arrived"),
        _count(c.satisfaction.is_not(None)).label("rated"),
        _count(c.satisfaction.in_(sorted(constants.SATISFIED_RATINGS))).label("satisfied"),
    ]


def _ratio(num: Any, den: Any) -> float | None:
    den = int(den or 0)
    return (int(num or 0) / den) if den else None


def _finish(code: str | None, r: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code}
    for key in ("reported", "registered", "dispatched", "closed", "due"):
        row[key] = int(getattr(r, key) or 0)
    row["closure_rate"] = _ratio(r.closed, r.due)
    row["on_time_rate"] = _ratio(r.on_time, r.due)
    row["rework_rate"] = _ratio(r.reworked, r.handled)
    row["extension_rate"] = _ratio(r.extended, r.dispatched)
    row["mean_handling_hours"] = (float(r.handling_s) / int(r.handled_timed) / 3600) if r.handled_timed else None
    row["arrival_rate"] = _ratio(r.arrived_on_time, r.arrival_due)
    row["mean_arrival_minutes"] = (float(r.arrival_s) / int(r.arrived) / 60) if r.arrived else None
    row["satisfaction_rate"] = _ratio(r.satisfied, r.rated)
    for key in RATES:
        row[f"grade_{key}"] = grade(key, row[key])
    return row


def _rank(rows: list[dict[str, Any]], rank_by: str) -> None:
    sign = -1 if FORMULAS[rank_by].better != "lower" else 1
    rows.sort(key=lambda r: (r[rank_by] is None, sign * (r[rank_by] or 0), str(r["code"])))
    previous, rank = object(), 0
    for position, row in enumerate(rows, start=1):
        if row[rank_by] is None:
            row["rank"] = None
            continue
        if row[rank_by] != previous:
            rank, previous = position, row[rank_by]
        row["rank"] = rank


def kpi_table(
    target: Session | Engine,
    *,
    by: str | None = "grid",
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    rank_by: str = "on_time_rate",
    scope: Any = None,
) -> KpiReport:
    """Every KPI per group of ``by`` for cases reported in ``[since, until)``.

    Parameters
    ----------
    target : Session or Engine
        The store.
    by : str or None
        ``street``, ``community``, ``grid``, ``worker`` (cases assigned to a worker or chief),
        ``department``, or None for the whole district as one row.
    since, until : datetime, optional
        Window on ``reported_at`` (naive local time; until excluded).
    now : datetime, optional
        Time of evaluation for "due" and "arrival due"; default now.
    rank_by : str
        A rate of :data:`RATES` to rank groups by (best first; ties share a rank).
    scope : cases.scope.Scope, optional
        Restricts the cases to the caller's area.

    Returns
    -------
    KpiReport
        ``rows`` ranked, ``total`` over all the groups' cases.
    """
    if by is not None and by not in LEVEL_COLUMNS:
        msg = f"unknown KPI level {by!r}; expected one of {', '.join(LEVEL_COLUMNS)} or None"
        raise ValueError(msg)
    if rank_by not in RATES:
        msg = f"cannot rank by {rank_by!r}; expected one of {', '.join(RATES)}"
        raise ValueError(msg)
    now = now or clock.now()
    conditions = []
    if since is not None:
        conditions.append(Case.reported_at >= since)
    if until is not None:
        conditions.append(Case.reported_at < until)
    if by == "worker":
        conditions.append(Case.assignee_kind.in_(("worker", "chief")))
    elif by == "department":
        conditions.append(Case.assignee_kind == "department")
    if scope is not None:
        conditions.append(scope.clause(Case))
    if by is not None:
        conditions.append(getattr(Case, LEVEL_COLUMNS[by]).is_not(None))
    aggregates = _aggregates(now)
    column = getattr(Case, LEVEL_COLUMNS[by]) if by else None
    group = column.label("code") if by else literal("all").label("code")
    query = select(group, *aggregates).where(*conditions)
    if column is not None:
        query = query.group_by(column)
    if isinstance(target, Engine):
        with Session(target) as session:
            result = session.execute(query).all()
    else:
        result = target.execute(query).all()
    names = [a.name for a in aggregates]
    sums = {name: sum((getattr(r, name) or 0) for r in result) for name in names}
    total = _finish("all", _Sums(**sums))
    rows = [_finish(r.code, r) for r in result]
    _rank(rows, rank_by)
    return KpiReport(by=by, since=since, until=until, now=now, rank_by=rank_by, rows=rows, total=total)


class _Sums:
    """Aggregates summed over groups (every aggregate is a count or a sum, so they add up)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
