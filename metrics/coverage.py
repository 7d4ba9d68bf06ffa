"""Four-visit and key-population coverage (走访覆盖率): planned, visited and verified persons per
period, by grid, community, street, responsible worker or group; the trend over months.

Who is planned, visited and verified in a period is decided by :mod:`registry.schedule` (visit
cycles by the group's frequency, the person placed where they lived at the period's end, visits on
site and not suspicious). Formulas (also in :data:`metrics.formulas.FORMULAS` and
:data:`COVERAGE_FORMULAS`):

- ``planned``: persons with a visit cycle ending in the period;
- ``visited``: planned persons visited in every such cycle;
- ``verified``: planned persons with an on-site visit that is not suspicious in every such cycle;
- ``suspicious``: planned persons with a suspicious visit in the period (shown, never dropped);
- ``overdue``: planned persons with a cycle that ended without a visit;
- ``coverage`` = visited ÷ planned; ``verified_coverage`` = verified ÷ planned (NaN when nobody is
  planned).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from core.errors import InputError
from core.settings import Settings
from metrics.formulas import Formula
from registry.periods import Period, last_months
from registry.status import period_status_of, period_statuses

#: Columns of :func:`coverage_table`.
COVERAGE_COLUMNS: tuple[str, ...] = ("code", "category", "planned", "visited", "verified", "suspicious", "overdue",
                                     "coverage", "verified_coverage")
#: Columns of :func:`coverage_trend`.
TREND_COLUMNS: tuple[str, ...] = ("period", "planned", "visited", "verified", "suspicious", "overdue", "coverage",
                                  "verified_coverage")
#: Levels of :func:`coverage_table` and the status column each groups by.
BY: dict[str, str] = {"grid": "grid_code", "community": "community_code", "street": "street_code",
                      "worker": "worker_id", "category": "category"}
_COUNTS = ("planned", "visited", "verified", "suspicious", "overdue")
_LEGACY = ("code", "households_due", "visited", "visited_on_site", "coverage", "credible_coverage", "visits",
           "visits_on_site")

#: The formulas of the counts and rates above (the rates are ``coverage`` and ``credible_coverage``
#: of :data:`metrics.formulas.FORMULAS`).
COVERAGE_FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("planned", "应访人数", "Planned", "registered persons with a visit cycle ending in the period "
                "(monthly: the month; fortnightly: the 1st-15th and the 16th-end; quarterly: the quarter, in its "
                "last month), placed where they lived at the period's end", None,
                "persons registered after the period", None, "persons"),
        Formula("visited", "已访人数", "Visited", "planned persons with a visit inside every planned cycle", None,
                "persons not planned in the period", None, "persons"),
        Formula("verified", "核实人数", "Verified on site", "planned persons with, in every planned cycle, a visit "
                "within the on-site distance of their home that is not suspicious", None,
                "visits without a position, farther away, or suspicious", None, "persons"),
        Formula("suspicious", "存疑人数", "With a suspicious visit", "planned persons with a visit in the period "
                "flagged as an impossible speed or a shared position", None, "none", None, "persons"),
        Formula("overdue", "逾期人数", "Overdue", "planned persons with a cycle that ended without a visit", None,
                "cycles still running", None, "persons"),
        Formula("verified_coverage", "核实覆盖率", "Verified coverage", "verified persons", "planned persons",
                "nobody planned (no value)", "higher", "%"),
    )
}


def summarise(status: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts and rates of the status frame grouped by ``keys`` (groups with nobody planned and
    no visit left out)."""
    planned = status["planned"]
    frame = pd.DataFrame({**{k: status[k] for k in keys}, "planned": planned.astype(int),
                          "visited": (planned & status["visited"]).astype(int),
                          "verified": (planned & status["verified"]).astype(int),
                          "suspicious": (planned & status["suspicious"]).astype(int),
                          "overdue": (planned & status["overdue"]).astype(int),
                          "visits": status["visits"].astype(int),
                          "visits_on_site": status["visits_on_site"].astype(int)})
    sums = frame.groupby(keys, dropna=False, sort=True).sum().reset_index()
    sums = sums.loc[(sums["planned"] > 0) | (sums["visits"] > 0)].reset_index(drop=True)
    due = sums["planned"].where(sums["planned"] > 0)
    sums["coverage"] = sums["visited"] / due
    sums["verified_coverage"] = sums["verified"] / due
    return sums


def coverage_table(session: Session, scope: Scope, period: Period, *, by: str = "grid", category: str | None = None,
                   area_code: str | None = None, settings: Settings | None = None,
                   now: datetime | None = None) -> pd.DataFrame:
    """Coverage per area (or worker, or group) and group for one period (any role: no personal data).

    Parameters
    ----------
    session : Session
    scope : Scope
    period : str or (datetime, datetime)
        ``YYYY-MM`` or a window (see :mod:`registry.schedule`).
    by : str
        ``grid``, ``community``, ``street``, ``worker`` (the responsible worker's staff number) or
        ``category`` (then ``code`` is the group's key too).
    category, area_code : str, optional
        One group; one street, community or grid.
    settings : Settings, optional
    now : datetime, optional
        For ``overdue``; default now.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`, one row per code and group with somebody planned; counts
        of persons, rates 0..1; ``code`` None for persons without one (e.g. no worker).
    """
    if by not in BY:
        raise InputError("--by", f"unknown level {by!r}", f"use one of {', '.join(BY)}")
    status = period_status_of(session, scope, period, category=category, area_code=area_code, settings=settings,
                              now=now)
    keys = ["category"] if by == "category" else [BY[by], "category"]
    sums = summarise(status, keys)
    sums["code"] = sums[BY[by]]
    return sums.loc[sums["planned"] > 0, list(COVERAGE_COLUMNS)].reset_index(drop=True)


def per_code(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`coverage_table` summed over the groups: one row per code, rates again."""
    sums = table.groupby("code", dropna=False, sort=True)[list(_COUNTS)].sum().reset_index()
    due = sums["planned"].where(sums["planned"] > 0)
    return sums.assign(coverage=sums["visited"] / due, verified_coverage=sums["verified"] / due)


def totals(table: pd.DataFrame) -> dict[str, float]:
    """The counts over the rows of :func:`coverage_table` and the two rates (NaN when nobody is planned)."""
    out = {k: float(table[k].sum()) for k in _COUNTS}
    due = out["planned"]
    out["coverage"] = out["visited"] / due if due else float("nan")
    out["verified_coverage"] = out["verified"] / due if due else float("nan")
    return out


def coverage_trend(session: Session, scope: Scope, period: str, *, months: int = 12, category: str | None = None,
                   area_code: str | None = None, settings: Settings | None = None,
                   now: datetime | None = None) -> pd.DataFrame:
    """Coverage totals of the ``months`` months ending with ``period`` (``YYYY-MM``), oldest first.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`; a month with nobody planned has NaN rates.
    """
    periods = last_months(period, months)
    frames = period_statuses(session, scope, list(periods), category=category, area_code=area_code,
                             settings=settings, now=now)
    rows = []
    for month, status in zip(periods, frames, strict=True):
        total = summarise(status.assign(all=""), ["all"])
        values = total.iloc[0].to_dict() if len(total) else {k: 0 for k in _COUNTS}
        rows.append({"period": month, **{k: int(values.get(k, 0)) for k in _COUNTS},
                     "coverage": values.get("coverage", float("nan")),
                     "verified_coverage": values.get("verified_coverage", float("nan"))})
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def visit_coverage(session: Session, scope: Scope, period: Period, *, by: str = "grid",
                   category: str | None = None) -> pd.DataFrame:
    """Coverage per street, community or grid in the columns the command map, the workloads and the
    briefing read (any role; no personal data).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``households_due`` (planned persons), ``visited``, ``visited_on_site``
        (verified), ``coverage``, ``credible_coverage`` (verified ÷ planned), ``visits`` and
        ``visits_on_site`` (visits of the period to these persons, and those on site).
    """
    if by not in ("grid", "community", "street"):
        raise InputError("by", f"unknown level {by!r}", "use one of street, community, grid")
    sums = summarise(period_status_of(session, scope, period, category=category), [BY[by]])
    sums = sums.rename(columns={BY[by]: "code", "planned": "households_due", "verified": "visited_on_site",
                                "verified_coverage": "credible_coverage"})
    order = sorted(range(len(sums)), key=lambda i: (pd.isna(sums["code"].iloc[i]), str(sums["code"].iloc[i])))
    return sums.iloc[order].reset_index(drop=True)[list(_LEGACY)]


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
