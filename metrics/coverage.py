"""Four-visit coverage (四访覆盖率): every household due once per period, visited or not.

Formulas (also in :data:`metrics.formulas.FORMULAS`): ``coverage`` = households visited at least
once in the period ÷ households due; ``credible_coverage`` = households with an on-site visit (the
worker's GPS within ``VISIT_ON_SITE_M`` of the household) ÷ households due.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import case as sql_case
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from access.scope import Scope
from registry.queries import month_window
from store.models import Household, Visit
from store.query import level_column


def visit_coverage(
    session: Session,
    scope: Scope,
    period: str | tuple[datetime, datetime],
    *,
    by: str = "grid",
    category: str | None = None,
) -> pd.DataFrame:
    """Four-visit coverage per area for one period (any role; no personal data).

    Every registered household is due once per period. ``visited`` counts households with at
    least one visit in the period; ``visited_on_site`` only those with an on-site visit (the
    worker's GPS within ``VISIT_ON_SITE_M`` of the household) - the credible figure.

    Parameters
    ----------
    session : Session
    scope : Scope
    period : str or (datetime, datetime)
        ``"YYYY-MM"`` for a calendar month, or a half-open window ``[start, end)``.
    by : str
        ``street``, ``community`` or ``grid``.
    category : str, optional
        One key of ``core.constants.VISIT_CATEGORIES``; default all four.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``households_due``, ``visited``, ``visited_on_site``, ``coverage``
        (visited ÷ due), ``credible_coverage`` (visited_on_site ÷ due), ``visits``,
        ``visits_on_site``; rates 0..1 (NaN when nothing is due).
    """
    start, end = month_window(period)
    level_h = level_column(Household, by)
    households = [scope.clause(Household)]
    if category:
        households.append(Household.category == str(category))
    due_query = select(level_h, func.count()).where(*households).group_by(level_h)
    due: dict[str | None, int] = {code: int(n) for code, n in session.execute(due_query).all()}
    level_v = level_column(Visit, by)
    on_site = Visit.on_site.is_(True)
    visited_rows = session.execute(
        select(
            level_v,
            func.count(distinct(Visit.household_id)),
            func.count(distinct(sql_case((on_site, Visit.household_id), else_=None))),
            func.count(),
            func.sum(sql_case((on_site, 1), else_=0)),
        )
        .where(scope.clause(Visit), Visit.at >= start, Visit.at < end,
               *([Visit.household_id.in_(select(Household.id).where(*households))] if category else []))
        .group_by(level_v)
    ).all()
    visited = {row[0]: row[1:] for row in visited_rows}
    codes = sorted(set(due) | set(visited), key=lambda c: (c is None, c or ""))
    data = []
    for code in codes:
        n_due = int(due.get(code, 0))
        n_visited, n_on_site, n_visits, n_visits_on_site = (int(v or 0) for v in visited.get(code, (0, 0, 0, 0)))
        data.append({
            "code": code,
            "households_due": n_due,
            "visited": n_visited,
            "visited_on_site": n_on_site,
            "coverage": n_visited / n_due if n_due else float("nan"),
            "credible_coverage": n_on_site / n_due if n_due else float("nan"),
            "visits": n_visits,
            "visits_on_site": n_visits_on_site,
        })
    columns = ["code", "households_due", "visited", "visited_on_site", "coverage", "credible_coverage",
               "visits", "visits_on_site"]
    return pd.DataFrame(data, columns=columns)




def coverage_totals(coverage: pd.DataFrame) -> dict[str, float | int]:
    """The totals over the rows of :func:`visit_coverage`: households due, visited, visited on
    site, and the two rates (NaN when nothing is due)."""
    due, visited, on_site = (int(coverage[c].sum()) for c in ("households_due", "visited", "visited_on_site"))
    return {
        "households_due": due,
        "visited": visited,
        "visited_on_site": on_site,
        "coverage": visited / due if due else float("nan"),
        "credible_coverage": on_site / due if due else float("nan"),
    }
