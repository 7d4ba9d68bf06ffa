"""The KPI table (GB/T 30428 style): closure, on-time closure, rework, extension, arrival, satisfaction.

:data:`metrics.formulas.KPI_FORMULAS` documents each indicator once (numerator, denominator,
exclusions, which direction is better); :func:`kpi_table` computes them all with one SQL ``GROUP BY`` on the server
for a level (street, community, grid, worker, department, or the whole district) and a time
window, then adds red/yellow/green grades and rankings.

Window and time of evaluation: a case belongs to the window when its ``reported_at`` lies in
``[since, until)``; its outcome (closed, on time, ...) is judged as of ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any

import pandas as pd
from sqlalchemy import (
    Engine,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from core import clock, constants
from metrics.formulas import KPI_FORMULAS, RATES, grade, grade_rate
from metrics.score import composite_score, rank_rows
from store import rollup
from store.models import Case
from store.sqltime import seconds_between

#: Levels of :func:`kpi_table` and the case column each groups by.
LEVEL_COLUMNS: dict[str, str] = {
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
    "worker": "assignee_id",
    "department": "assignee_id",
}


@dataclass
class KpiReport:
    """KPI rows of one level and window. Each row: ``code`` plus every key of :data:`~metrics.formulas.KPI_FORMULAS`,
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
                "formulas": {k: asdict(f) for k, f in KPI_FORMULAS.items()}}


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _whole_seconds(start: Any, end: Any) -> Any:
    return cast(func.round(seconds_between(start, end)), Integer)


def _effective_close_due(c: Any) -> Any:
    return case((and_(c.extension_state == "approved", c.extended_close_due.is_not(None)), c.extended_close_due),
                else_=c.close_due)


def _arrival_category(c: Any) -> Any:
    # all four categories need an arrival today: then the test is trivially true and left out
    # (an IN list evaluated four times per row doubles the cost of the scan on SQLite)
    if constants.ARRIVAL_REQUIRED_CATEGORIES >= set(constants.CATEGORIES):
        return true()
    return c.category.in_(sorted(constants.ARRIVAL_REQUIRED_CATEGORIES))


def settled_measures() -> dict[str, Callable[[Any], Any]]:
    """Each case's contributions that do not depend on the time of evaluation.

    Name -> function of a column namespace (``Case``, ``table.c``, trigger rows) returning an
    integer SQL expression (a 0/1 flag or whole seconds). Summed per group they give every
    indicator together with :func:`open_measures`; ``store.rollup`` keeps their daily sums.
    """
    def dispatched(c: Any) -> Any:
        return c.dispatched_at.is_not(None)

    def arrived(c: Any) -> Any:
        return and_(dispatched(c), _arrival_category(c), c.arrived_at.is_not(None))

    def timed(c: Any) -> Any:
        return and_(c.handled_at.is_not(None), dispatched(c))

    return {
        "reported": lambda c: literal(1, Integer),
        "registered": lambda c: _flag(c.registered_at.is_not(None)),
        "dispatched": lambda c: _flag(dispatched(c)),
        "closed": lambda c: _flag(c.closed_at.is_not(None)),
        "closed_dispatched": lambda c: _flag(and_(dispatched(c), c.closed_at.is_not(None))),
        "on_time": lambda c: _flag(and_(dispatched(c), c.closed_at.is_not(None),
                                        c.closed_at <= _effective_close_due(c))),
        "handled": lambda c: _flag(c.handled_at.is_not(None)),
        "reworked": lambda c: _flag(and_(c.handled_at.is_not(None), c.rework_count > 0)),
        "extended": lambda c: _flag(c.extension_state == "approved"),
        "handling_s": lambda c: case((timed(c), _whole_seconds(c.dispatched_at, c.handled_at)), else_=0),
        "handled_timed": lambda c: _flag(timed(c)),
        "arrived_on_time": lambda c: _flag(and_(arrived(c), c.arrived_at <= c.arrive_due)),
        "arrival_s": lambda c: case((arrived(c), _whole_seconds(c.dispatched_at, c.arrived_at)), else_=0),
        "arrived": lambda c: _flag(arrived(c)),
        "rated": lambda c: _flag(c.satisfaction.is_not(None)),
        "satisfied": lambda c: _flag(c.satisfaction.in_(sorted(constants.SATISFIED_RATINGS))),
    }


def open_measures(c: Any, now: datetime) -> dict[str, Any]:
    """The contributions that depend on ``now``: dispatched cases still open (not closed, or
    not arrived) whose deadline has passed by ``now``."""
    dispatched = c.dispatched_at.is_not(None)
    return {
        "due_open": _flag(and_(dispatched, c.closed_at.is_(None), _effective_close_due(c) <= now)),
        "arrival_open": _flag(and_(dispatched, _arrival_category(c), c.arrived_at.is_(None), c.arrive_due <= now)),
    }


def _ratio(num: Any, den: Any) -> float | None:
    den = int(den or 0)
    return (int(num or 0) / den) if den else None


def _finish(code: str | None, r: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code}
    for key in ("reported", "registered", "dispatched", "closed"):
        row[key] = int(r[key] or 0)
    row["due"] = int(r["closed_dispatched"] or 0) + int(r["due_open"] or 0)
    row["closure_rate"] = _ratio(r["closed"], row["due"])
    row["on_time_rate"] = _ratio(r["on_time"], row["due"])
    row["rework_rate"] = _ratio(r["reworked"], r["handled"])
    row["extension_rate"] = _ratio(r["extended"], r["dispatched"])
    row["mean_handling_hours"] = (int(r["handling_s"]) / int(r["handled_timed"]) / 3600) if r["handled_timed"] else None
    row["arrival_rate"] = _ratio(r["arrived_on_time"], int(r["arrived"] or 0) + int(r["arrival_open"] or 0))
    row["mean_arrival_minutes"] = (int(r["arrival_s"]) / int(r["arrived"]) / 60) if r["arrived"] else None
    row["satisfaction_rate"] = _ratio(r["satisfied"], r["rated"])
    for key in RATES:
        row[f"grade_{key}"] = grade(key, row[key])
    return row


def whole_days_since(now: datetime, days: int | None) -> datetime | None:
    """The start of "the last ``days`` days" at ``now``: midnight ``days`` days ago (None: no start).

    Whole days are what a briefing means, and what the store's daily roll-up answers without
    scanning every case.
    """
    return datetime.combine(now.date() - timedelta(days=days), dt_time()) if days else None


def kpi_table(
    target: Session | Engine,
    *,
    by: str | None = "grid",
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    rank_by: str = "score",
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
        ``score`` (the composite of :mod:`metrics.score`) or a rate of :data:`RATES` to rank
        groups by (best first; the tie-breakers of :data:`metrics.score.TIE_BREAKERS` follow,
        groups equal on all of them share a rank).
    scope : access.scope.Scope, optional
        Restricts the cases to the caller's area.

    Returns
    -------
    KpiReport
        ``rows`` ranked, ``total`` over all the groups' cases.
    """
    if by is not None and by not in LEVEL_COLUMNS:
        msg = f"unknown KPI level {by!r}; expected one of {', '.join(LEVEL_COLUMNS)} or None"
        raise ValueError(msg)
    if rank_by != "score" and rank_by not in RATES:
        msg = f"cannot rank by {rank_by!r}; expected score or one of {', '.join(RATES)}"
        raise ValueError(msg)
    now = now or clock.now()
    settled = settled_measures()
    names = [*settled, *open_measures(Case, now)]
    rollup = _rollup_sums(target, by, since, until, scope, settled)
    if rollup is None:
        query = select(*(func.sum(expr(Case)).label(name) for name, expr in settled.items()),
                       *(func.sum(expr).label(name) for name, expr in open_measures(Case, now).items()))
        conditions = [*_level_conditions(Case, by), *_window(Case.reported_at, since, until)]
        if scope is not None:
            conditions.append(scope.clause(Case))
        sums = _sums(target, query, Case, by, conditions)
    else:
        sums = rollup
        for code, values in _live_sums(target, now, by, since, until, scope).items():
            sums.setdefault(code, {}).update(values)
    if by is None:
        sums.setdefault("all", {})  # the district is one row, even without cases
    groups = [{name: values.get(name) or 0 for name in names} for values in sums.values()]
    total = _finish("all", {name: sum(g[name] for g in groups) for name in names})
    rows = [_finish(code, values) for code, values in zip(sums, groups, strict=True)]
    rank_rows(rows, by=rank_by)
    total["score"] = composite_score(total)
    total["grade_score"] = grade_rate(total["score"])
    return KpiReport(by=by, since=since, until=until, now=now, rank_by=rank_by, rows=rows, total=total)


def _level_conditions(columns: Any, by: str | None) -> list[Any]:
    conditions = []
    if by == "worker":
        conditions.append(columns.assignee_kind.in_(("worker", "chief")))
    elif by == "department":
        conditions.append(columns.assignee_kind == "department")
    return conditions


def _execute(target: Session | Engine, query: Any) -> list[Any]:
    if isinstance(target, Engine):
        with Session(target) as session:
            return list(session.execute(query).mappings())
    return list(target.execute(query).mappings())


def _sums(target: Session | Engine, query: Any, columns: Any, by: str | None, conditions: list[Any], *,
          none: Any = None) -> dict[str, dict[str, Any]]:
    """Run aggregate ``query`` on ``columns`` (cases or the roll-up) per group of ``by`` under
    ``conditions``: code -> {name: sum}. ``none`` is how the table writes "no code"."""
    if by is not None:
        column = getattr(columns, LEVEL_COLUMNS[by])
        present = column.is_not(None) if none is None else column != none
        query = query.add_columns(column.label("code")).where(present, *conditions).group_by(column)
    else:
        query = query.add_columns(literal("all").label("code")).where(*conditions)
    result = {}
    for row in _execute(target, query):
        values = dict(row)
        result[values.pop("code")] = values
    return result


def _live_sums(target: Session | Engine, now: datetime, by: str | None, since: datetime | None,
               until: datetime | None, scope: Any) -> dict[str, dict[str, int]]:
    """The sums of :func:`open_measures` over the open cases (SQLite, next to the roll-up).

    Grouped by the whole key in the order of the partial index ``rollup.OPEN_INDEX``, so
    SQLite streams the covering index without sorting, then summed up to level ``by`` here.
    """
    c = Case
    measures = open_measures(c, now)
    keys = [c.grid_code, c.community_code, c.street_code, c.assignee_kind, c.assignee_id]
    query = select(*keys, *(func.sum(expr).label(name) for name, expr in measures.items()))
    query = query.where(c.dispatched_at.is_not(None), or_(c.closed_at.is_(None), c.arrived_at.is_(None)),
                        *_window(c.reported_at, since, until), *_level_conditions(c, by))
    if scope is not None:
        query = query.where(scope.clause(c))
    # the partial index of open cases covers this query (the planner would otherwise pick a
    # level's own index and read the table row by row)
    query = query.group_by(*keys).with_hint(c, f"INDEXED BY {rollup.OPEN_INDEX}", dialect_name="sqlite")
    result: dict[str, dict[str, int]] = {}
    for row in _execute(target, query):
        code = row[LEVEL_COLUMNS[by]] if by is not None else "all"
        if code is None:
            continue
        sums = result.setdefault(code, dict.fromkeys(measures, 0))
        for name in measures:
            sums[name] += int(row[name] or 0)
    return result


def _window(column: Any, since: Any, until: Any) -> list[Any]:
    """``since <= column < until``, either bound optional."""
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def _rollup_sums(target: Session | Engine, by: str | None, since: datetime | None, until: datetime | None,
                 scope: Any, settled: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The settled sums from the daily roll-up, or None where there is none (a store not migrated
    to it) or the window does not fall on whole days."""
    bind = target if isinstance(target, Engine) else target.get_bind()
    if not all(t is None or t.time() == dt_time(0) for t in (since, until)):
        return None
    if not _has_rollup(target):
        return None
    rows = rollup.source(bind.dialect.name, tuple(settled))
    query = select(*(func.sum(rows.c[name]).label(name) for name in settled))
    conditions = [*_level_conditions(rows.c, by),
                  *_window(rows.c.day, since and since.date().isoformat(), until and until.date().isoformat())]
    if scope is not None:
        conditions.append(scope.clause(rows.c))
    query = query.having(func.sum(rows.c.reported) > 0)
    return _sums(target, query, rows.c, by, conditions, none="")


def _has_rollup(target: Session | Engine) -> bool:
    """Whether the store holds the roll-up (a store migrated before it has none)."""
    if isinstance(target, Engine):
        with target.connect() as connection:
            return rollup.installed(connection)
    return rollup.installed(target.connection())
