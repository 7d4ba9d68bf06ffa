"""Workloads per grid worker, grid or community, and how evenly the work is spread (formulas in
:data:`metrics.formulas.FORMULAS`).

At time ``at`` (default now), for each worker (cases assigned to them), grid or community (cases
lying there):

- ``open``: cases in an open state reported by ``at``;
- ``overdue``: those whose pending deadline (respond, arrive or close) has passed at ``at``;
- ``closed_week``: cases closed in the 7 days before ``at``;
- ``mean_handling_h``: mean hours from dispatch to handling of the cases handled in those 7 days;
- ``visits_due``: four-visit households of the grid(s) not yet visited in the month of ``at``.

Balance over grid workers' open cases: the Gini coefficient (0 = every worker carries the same,
1 = one carries all) and the largest load over the mean; a worker is overloaded above
``overload_ratio`` × the mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.scope import Scope
from cases.deadlines import annotate_due
from core.constants import OPEN_STATES, OVERLOAD_RATIO
from core.errors import InputError
from metrics.coverage import visit_coverage
from store.models import Case, Worker

#: Columns of :func:`workload_table`, in order.
WORKLOAD_COLUMNS: tuple[str, ...] = ("code", "open", "overdue", "closed_week", "mean_handling_h", "visits_due")
#: Levels of :func:`workload_table` and the case column each groups by.
BY: dict[str, str] = {"worker": "assignee_id", "grid": "grid_code", "community": "community_code"}
_CASE_FIELDS = ("assignee_kind", "assignee_id", "grid_code", "community_code", "street_code", "state", "category",
                "reported_at", "dispatched_at", "accepted_at", "arrived_at", "handled_at", "closed_at",
                "respond_due", "arrive_due", "close_due", "extension_state", "extended_close_due")


@dataclass(frozen=True)
class Balance:
    """How evenly open cases are spread over grid workers."""

    workers: int
    mean_open: float
    gini: float
    max_over_mean: float

    def line(self) -> str:
        """``gini=<value> max_over_mean=<value>`` (the last line of ``python -m cases workload``)."""
        return f"gini={self.gini:.4f} max_over_mean={self.max_over_mean:.4f}"


def gini(values: np.ndarray | list[float]) -> float:
    """The Gini coefficient of non-negative ``values`` (0 when they are all equal or all zero)."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * total) - (n + 1) / n)


def balance(open_cases: pd.Series) -> Balance:
    """Gini and max/mean of the open cases per worker (zeros included: idle workers count)."""
    values = open_cases.to_numpy(dtype=float)
    mean = float(values.mean()) if len(values) else 0.0
    return Balance(len(values), mean, gini(values), float(values.max() / mean) if mean else 0.0)


def overloaded(table: pd.DataFrame, *, ratio: float = OVERLOAD_RATIO) -> list[str]:
    """The codes whose open cases exceed ``ratio`` × the mean over the table's rows."""
    mean = float(table["open"].mean()) if len(table) else 0.0
    return table.loc[table["open"] > ratio * mean, "code"].astype(str).tolist() if mean else []


def _cases(session: Session, scope: Scope, at: datetime) -> pd.DataFrame:
    week_start = at - timedelta(days=7)
    query = (select(*(getattr(Case, f) for f in _CASE_FIELDS))
             .where(scope.clause(Case), Case.reported_at <= at)
             .where((Case.state.in_(sorted(OPEN_STATES))) | (Case.closed_at >= week_start)
                    | (Case.handled_at >= week_start)))
    return pd.DataFrame([tuple(r) for r in session.execute(query)], columns=list(_CASE_FIELDS))


def _workers(session: Session, scope: Scope) -> pd.DataFrame:
    rows = session.execute(select(Worker.id, Worker.grid_code, Worker.community_code)
                           .where(Worker.active.is_(True), Worker.role == "worker")).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["code", "grid_code", "community_code"])
    keep = [scope.allows(grid_code=g, community_code=c) for g, c in zip(frame["grid_code"], frame["community_code"],
                                                                         strict=True)]
    return frame.loc[keep].reset_index(drop=True)


def _measures(cases: pd.DataFrame, key: str, at: datetime) -> pd.DataFrame:
    week_start = at - timedelta(days=7)
    open_rows = annotate_due(cases.loc[cases["state"].isin(OPEN_STATES)], at)
    closed = cases.loc[(cases["closed_at"] >= week_start) & (cases["closed_at"] < at)]
    handled = cases.loc[(cases["handled_at"] >= week_start) & (cases["handled_at"] < at)
                        & cases["dispatched_at"].notna()]
    hours = (pd.to_datetime(handled["handled_at"]) - pd.to_datetime(handled["dispatched_at"])).dt.total_seconds() / 3600
    return pd.DataFrame({
        "open": open_rows.groupby(key).size(),
        "overdue": open_rows.loc[open_rows["due"] == "overdue"].groupby(key).size(),
        "closed_week": closed.groupby(key).size(),
        "mean_handling_h": hours.groupby(handled[key]).mean(),
    })


def workload_table(session: Session, scope: Scope, *, by: str = "worker", at: datetime) -> pd.DataFrame:
    """Workload per worker, grid or community in the caller's scope.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller (a chief sees their area).
    by : str
        ``worker`` (every active grid worker, idle ones included), ``grid`` or ``community``.
    at : datetime
        Naive local time of evaluation.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WORKLOAD_COLUMNS`; counts are integers, ``mean_handling_h`` hours (NaN
        when nothing was handled in the week).
    """
    if by not in BY:
        raise InputError("--by", f"unknown level {by!r}", f"use one of {', '.join(BY)}")
    cases = _cases(session, scope, at)
    if by == "worker":
        cases = cases.loc[cases["assignee_kind"] == "worker"]
    measures = _measures(cases, BY[by], at)
    coverage = visit_coverage(session, scope, at.strftime("%Y-%m"), by="grid" if by == "worker" else by)
    due = (coverage["households_due"] - coverage["visited"]).set_axis(coverage["code"].astype(str))
    if by == "worker":
        workers = _workers(session, scope)
        codes = workers["code"].astype(str)
        visits = workers["grid_code"].astype(str).map(due).fillna(0).set_axis(codes)
    else:
        codes = pd.Index(sorted(set(measures.index.dropna().astype(str)) | set(due.index)))
        visits = due
    table = measures.reindex(codes)
    table["visits_due"] = visits.reindex(codes)
    counts = ["open", "overdue", "closed_week", "visits_due"]
    table[counts] = table[counts].fillna(0).astype(int)
    table["mean_handling_h"] = table["mean_handling_h"].astype(float).round(2)
    return table.rename_axis("code").reset_index()[list(WORKLOAD_COLUMNS)]
