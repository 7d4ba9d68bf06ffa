"""Who is due a visit in a period, by when, and whether the visits were made and verified.

A group's frequency (:mod:`registry.groups`) splits time into visit cycles: a calendar month
(``monthly``), the 1st-15th and the 16th-end of a month (``fortnightly``), a calendar quarter
(``quarterly``). A person is **planned** in a period when one of their cycles ends in it (a
quarterly person only in the quarter's last month) and they were registered before the period
ended; they count where they lived at the period's end (:func:`registry.population.placed_at`).
A cycle is **visited** when the person had a visit inside it, **verified** when one of those
visits was on site (within ``on_site_m`` of the home) and not suspicious
(:mod:`registry.suspicion`). A person is visited (verified) when every planned cycle is; a cycle
not visited is **overdue** once it has ended.

A period is a calendar month (``YYYY-MM``), whole months ``[start, end)``, or any other window,
which counts as one cycle for everybody: each registered person is due once in it and visited
when visited inside it (the month so far, a week, a briefing's slice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from access.scope import Scope
from core.clock import add_months
from core.settings import RegistrySettings
from registry.groups import Group
from registry.population import Population, placed_at
from registry.suspicion import flag_suspicious

#: Columns of :func:`period_status`.
STATUS_COLUMNS: tuple[str, ...] = (
    "id", "category", "frequency", "grid_code", "community_code", "street_code", "worker_id", "planned", "cycles",
    "visited_cycles", "verified_cycles", "visited", "verified", "suspicious", "overdue", "due_by", "status",
    "visits", "visits_on_site", "last_visit_at",
)
#: Statuses of a planned person, the most urgent first.
STATUSES: tuple[str, ...] = ("overdue", "due", "visited", "verified")


@dataclass(frozen=True)
class Cycle:
    """One visit cycle ``[start, end)``, due by its last day."""

    start: datetime
    end: datetime

    @property
    def due_by(self) -> date:
        """The cycle's last day."""
        return (self.end - timedelta(microseconds=1)).date()


def _month(when: datetime) -> datetime:
    return datetime(when.year, when.month, 1)


def _cycles_ending_in_month(frequency: str, month: datetime) -> list[Cycle]:
    following = add_months(month, 1)
    if frequency == "fortnightly":
        middle = month.replace(day=16)
        return [Cycle(month, middle), Cycle(middle, following)]
    if frequency == "quarterly":
        return [Cycle(add_months(month, -2), following)] if month.month % 3 == 0 else []
    return [Cycle(month, following)]


def whole_months(start: datetime, end: datetime) -> bool:
    """Whether ``[start, end)`` is one or more calendar months."""
    return start == _month(start) and end == _month(end)


def cycles(frequency: str, start: datetime, end: datetime) -> list[Cycle]:
    """The cycles of ``frequency`` planned in the period ``[start, end)``: for whole calendar months
    those ending in them, for any other window the window itself."""
    if not whole_months(start, end):
        return [Cycle(start, end)]
    out: list[Cycle] = []
    month = start
    while month < end:
        out.extend(_cycles_ending_in_month(frequency, month))
        month = add_months(month, 1)
    return out


def lookback(start: datetime, end: datetime) -> datetime:
    """The earliest start of a cycle planned in ``[start, end)`` (visits are read from there)."""
    return min([start, *(c.start for f in ("monthly", "fortnightly", "quarterly") for c in cycles(f, start, end))])


def _cycle_counts(persons: pd.DataFrame, visits: pd.DataFrame, frequency: str, start: datetime, end: datetime,
                  now: datetime) -> pd.DataFrame:
    """Per person of one frequency: cycles, visited and verified cycles, overdue, due by."""
    planned = cycles(frequency, start, end)
    ids = persons["id"]
    counts = pd.DataFrame({"cycles": len(planned), "visited_cycles": 0, "verified_cycles": 0, "overdue": False,
                           "due_by": planned[-1].due_by if planned else None}, index=ids)
    for cycle in reversed(planned):
        inside = visits.loc[(visits["at"] >= cycle.start) & (visits["at"] < cycle.end)]
        visited = ids.isin(inside["household_id"]).to_numpy()
        verified = ids.isin(inside.loc[inside["verified"], "household_id"]).to_numpy()
        counts["visited_cycles"] += visited.astype(int)
        counts["verified_cycles"] += verified.astype(int)
        counts["overdue"] |= ~visited & (cycle.end <= now)
        counts.loc[~visited, "due_by"] = cycle.due_by
    return counts


def period_status(population: Population, visits: pd.DataFrame, start: datetime, end: datetime, *, scope: Scope,
                  groups: dict[str, Group], rules: RegistrySettings, now: datetime, metric_crs: str,
                  area_code: str | None = None) -> pd.DataFrame:
    """Every person placed in ``scope`` at ``end``, with what the period ``[start, end)`` asked of them.

    Parameters
    ----------
    population : Population
    visits : pandas.DataFrame
        Columns of :func:`registry.population.load_visits`, covering ``[lookback(start, end), end)``.
    start, end : datetime
        The period.
    scope : Scope
    groups : dict of str to Group
        Frequencies by group (persons of a group no longer configured are visited monthly).
    rules : RegistrySettings
        On-site distance and the suspicion limits.
    now : datetime
        For ``overdue``.
    metric_crs : str
        For distances between visits.
    area_code : str, optional
        Only persons of this street, community or grid.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATUS_COLUMNS`: one row per person; ``planned`` False for persons with no
        cycle ending in the period (their visits still counted in ``visits``).
    """
    persons = placed_at(population, end, scope, area_code=area_code)
    persons["frequency"] = persons["category"].map(lambda k: groups[k].frequency if k in groups else "monthly")
    since = lookback(start, end)
    window = flag_suspicious(visits.loc[(visits["at"] >= since) & (visits["at"] < end)],
                             max_speed_kmh=rules.max_speed_kmh, min_distance_m=rules.on_site_m,
                             shared_position_visits=rules.shared_position_visits, metric_crs=metric_crs)
    window = window.loc[window["household_id"].isin(persons["id"])]
    on_site = window["distance_m"].notna() & (window["distance_m"].astype(float) <= rules.on_site_m)
    window = window.assign(on_site_now=on_site, verified=on_site & ~window["suspicious"].astype(bool))
    parts = [_cycle_counts(persons.loc[persons["frequency"] == f], window, f, start, end, now)
             for f in persons["frequency"].unique()]
    columns = ["cycles", "visited_cycles", "verified_cycles", "overdue", "due_by"]
    counts = (pd.concat(parts) if parts else pd.DataFrame(columns=columns)).reindex(persons["id"].to_numpy())
    out = persons.assign(**{c: counts[c].to_numpy() for c in columns})
    in_period = window.loc[window["at"] >= start]
    per_person = in_period.groupby("household_id")
    out["visits"] = _by_person(per_person.size(), out["id"]).fillna(0).astype(int)
    out["visits_on_site"] = _by_person(per_person["on_site_now"].sum(), out["id"]).fillna(0).astype(int)
    out["suspicious"] = out["id"].isin(in_period.loc[in_period["suspicious"], "household_id"])
    out["last_visit_at"] = _by_person(window.groupby("household_id")["at"].max(), out["id"])
    return _finish(out)


def _by_person(values: pd.Series, ids: pd.Series) -> pd.Series:
    """``values`` (indexed by person id) in the order of ``ids`` (NaN/NaT where missing)."""
    return pd.Series(values.reindex(ids.to_numpy()).to_numpy(), index=ids.index)


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    out["cycles"] = out["cycles"].fillna(0).astype(int)
    out["planned"] = out["cycles"] > 0
    for column in ("visited_cycles", "verified_cycles"):
        out[column] = out[column].fillna(0).astype(int)
    out["visited"] = out["planned"] & (out["visited_cycles"] == out["cycles"])
    out["verified"] = out["planned"] & (out["verified_cycles"] == out["cycles"])
    out["overdue"] = out["planned"] & out["overdue"].fillna(False).astype(bool)
    status = pd.Series("due", index=out.index, dtype=object)
    status = status.mask(out["overdue"], "overdue").mask(out["visited"], "visited").mask(out["verified"], "verified")
    out["status"] = status.where(out["planned"], None)
    return out[list(STATUS_COLUMNS)]
