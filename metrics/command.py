"""The command map's numbers: the cases behind the map and the list, the KPI tiles, the per-grid
totals and measures, and a clicked grid's panel (formulas in :data:`metrics.formulas.FORMULAS`).

Every read goes through the read APIs (``cases.queries``, ``registry.queries``,
``workforce.queries``), so the caller's scope applies in SQL. Scale: the per-grid totals (one
``GROUP BY`` on the server) decide first; at most ``point_limit + 1`` case rows are read for the
map. When more cases match, the map gets those totals and only the open cases are read as rows
(for the tiles, the alerts and the list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from cases import queries
from cases.actions import awaiting_arrival
from cases.deadlines import annotate_due
from cases.queries import CaseFilter
from core.constants import OPEN_STATES, POINT_LIMIT
from geo.areas import grid_codes_under
from metrics.coverage import visit_coverage
from metrics.kpi import kpi_table
from registry.queries import list_visits
from workforce.patrol import stored_week_coverage
from workforce.queries import worker_positions
from workforce.teams import team_members

#: The deadline filter of the map and the list: the pending deadline has passed, or falls within
#: the next ``SOON_HOURS`` hours (not yet passed).
DUE_FILTERS: tuple[str, ...] = ("overdue", "within_24h")
SOON_HOURS = 24.0

#: Time windows of the filter, in days back from today's midnight (None: no lower bound).
WINDOWS: dict[str, int | None] = {"today": 0, "7d": 6, "30d": 29, "90d": 89, "all": None}


def window_bounds(window: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """``[since, until)`` of a :data:`WINDOWS` key at ``now`` (until is None: up to now)."""
    if window not in WINDOWS:
        msg = f"unknown window {window!r}; expected one of {', '.join(WINDOWS)}"
        raise ValueError(msg)
    days = WINDOWS[window]
    if days is None:
        return None, None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days), None


def annotate(cases: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``cases`` plus ``due``, ``arrival_pending`` (``cases.deadlines.annotate_due``) and ``alert``
    (an emergency nobody has reached yet, ``cases.actions.awaiting_arrival``)."""
    out = annotate_due(cases, now)
    alert = [awaiting_arrival(str(s), str(c)) for s, c in zip(cases["state"], cases["category"], strict=True)]
    out["alert"] = pd.Series(alert, index=cases.index, dtype=bool)
    return out


@dataclass
class MapData:
    """What the command page shows for one filter."""

    #: Newest matching cases (at most ``point_limit``; annotated), or all open ones when aggregated.
    rows: pd.DataFrame
    #: Matching open cases (annotated): KPI tiles, alerts, grid panels.
    open_rows: pd.DataFrame
    #: More cases match than ``point_limit``: the map shows ``grid_counts``.
    aggregated: bool
    #: Per-grid totals (``code``, ``cases``, ``open_cases``) when aggregated.
    grid_counts: pd.DataFrame | None
    #: ``today_new``, ``open``, ``overdue``, ``arrivals_pending`` (formulas in ``FORMULAS``).
    kpis: dict[str, int] = field(default_factory=dict)
    #: What the map's points and the list show: ``rows`` narrowed by the deadline filter, the
    #: nearest (most overdue) pending deadline first, cases without one last (newest first).
    shown: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The deadline filter applied to ``shown`` (a key of :data:`DUE_FILTERS` or None).
    due: str | None = None
    #: Most cases the map draws as points.
    point_limit: int = POINT_LIMIT

    @property
    def points(self) -> bool:
        """Whether the map shows ``shown`` as points (else the per-grid totals): always when not
        aggregated, and when a deadline filter leaves at most ``point_limit`` cases."""
        return not self.aggregated or (self.due is not None and len(self.shown) <= self.point_limit)

    @property
    def alerts(self) -> pd.DataFrame:
        """Emergencies nobody has reached yet."""
        return self.open_rows.loc[self.open_rows["alert"]]


def tiles(open_rows: pd.DataFrame, *, today_new: int) -> dict[str, int]:
    """The KPI tiles from the annotated open cases of a filter (formulas ``open``, ``overdue``,
    ``arrivals_pending``) and the count of cases reported today (``today_new``)."""
    return {
        "today_new": int(today_new),
        "open": len(open_rows),
        "overdue": int((open_rows["due"] == "overdue").sum()) if len(open_rows) else 0,
        "arrivals_pending": int(open_rows["arrival_pending"].sum()) if len(open_rows) else 0,
    }


def narrow_due(rows: pd.DataFrame, due: str | None) -> pd.DataFrame:
    """The annotated ``rows`` (:func:`annotate`) whose pending deadline has passed (``overdue``)
    or is due within :data:`SOON_HOURS` (``within_24h``: 0 ≤ hours left ≤ 24); all for None."""
    if due is None:
        return rows
    if due == "overdue":
        return rows.loc[rows["due"] == "overdue"]
    if due == "within_24h":
        return rows.loc[(rows["hours_left"] >= 0) & (rows["hours_left"] <= SOON_HOURS)]
    msg = f"unknown deadline filter {due!r}; expected one of {', '.join(DUE_FILTERS)} or None"
    raise ValueError(msg)


def by_deadline(rows: pd.DataFrame) -> pd.DataFrame:
    """The annotated ``rows`` ordered by hours left (the most overdue first); cases without a
    pending deadline after them, newest report first."""
    if rows.empty:
        return rows
    key = pd.DataFrame({"none": rows["hours_left"].isna(), "left": rows["hours_left"].fillna(0.0),
                        "reported": pd.to_datetime(rows["reported_at"])}, index=rows.index)
    order = key.sort_values(["none", "left", "reported"], ascending=[True, True, False], kind="stable").index
    return rows.loc[order]


def load_map_data(session: Session, scope: Scope, flt: CaseFilter, *, now: datetime, point_limit: int = POINT_LIMIT,
                  due: str | None = None) -> MapData:
    """Read the cases of ``flt`` for the map, the list and the KPI tiles (see :class:`MapData`);
    ``due`` narrows what the map and the list show (:func:`narrow_due`), not the tiles."""
    data = _load(session, scope, flt, now=now, point_limit=point_limit)
    data.shown = by_deadline(narrow_due(data.rows, due))
    data.due, data.point_limit = due, point_limit
    return data


def _load(session: Session, scope: Scope, flt: CaseFilter, *, now: datetime, point_limit: int) -> MapData:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = queries.count_cases(session, scope, flt, by="grid")
    if int(counts["cases"].sum()) <= point_limit:
        rows = annotate(queries.list_cases(session, scope, flt, limit=point_limit), now)
        open_rows = rows.loc[rows["state"].astype(str).isin(OPEN_STATES)]
        today_new = int((rows["reported_at"] >= today).sum()) if len(rows) else 0
        return MapData(rows=rows, open_rows=open_rows, aggregated=False, grid_counts=None,
                       kpis=tiles(open_rows, today_new=today_new))
    open_states = tuple(s for s in (flt.states or OPEN_STATES) if s in OPEN_STATES)
    if open_states:
        open_rows = annotate(queries.list_cases(session, scope, replace(flt, states=open_states), limit=None), now)
    else:
        open_rows = annotate(pd.DataFrame(columns=list(queries.CASE_COLUMNS)), now)
    since_today = max(flt.since, today) if flt.since else today
    today_new = queries.total_cases(session, scope, replace(flt, since=since_today))
    return MapData(rows=open_rows, open_rows=open_rows, aggregated=True, grid_counts=counts,
                   kpis=tiles(open_rows, today_new=today_new))


def grid_measure(measure: str, *, data: MapData, hierarchy: Mapping[str, gpd.GeoDataFrame], session: Session,
                 scope: Scope, flt: CaseFilter, now: datetime) -> pd.Series:
    """Values per grid code of a measure (``open``, ``overdue``, ``per_1000_buildings`` or
    ``on_time_rate``; formulas in :data:`metrics.formulas.FORMULAS`) for the current filter.

    ``open``/``overdue`` count the filtered open cases; ``per_1000_buildings`` divides the
    filtered cases by the grid's buildings (grids without buildings get no value);
    ``on_time_rate`` is the KPI table's 按期结案率 per grid over the filter's time window.
    """
    inside = grid_codes_under(hierarchy, flt.area_codes[-1] if flt.area_codes else None)
    grids = sorted(inside) if inside is not None else hierarchy["grids"]["code"].astype(str).tolist()
    if measure in ("open", "overdue"):
        rows = data.open_rows if measure == "open" else data.open_rows.loc[data.open_rows["due"] == "overdue"]
        return rows.groupby(rows["grid_code"].astype(str)).size().astype(float).reindex(grids, fill_value=0.0)
    if measure == "per_1000_buildings":
        return _per_1000_buildings(data, hierarchy.get("buildings"))
    if measure == "on_time_rate":
        frame = kpi_table(session, by="grid", since=flt.since, until=flt.until, now=now, scope=scope).to_frame()
        if frame.empty:
            return pd.Series(dtype=float)
        return pd.Series(frame["on_time_rate"].to_numpy(dtype=float), index=frame["code"].astype(str))
    msg = f"unknown measure {measure!r}; expected open, overdue, per_1000_buildings or on_time_rate"
    raise ValueError(msg)


def _per_1000_buildings(data: MapData, buildings: gpd.GeoDataFrame | None) -> pd.Series:
    if data.aggregated and data.grid_counts is not None:
        cases = data.grid_counts.set_index(data.grid_counts["code"].astype(str))["cases"].astype(float)
    else:
        cases = data.rows.groupby(data.rows["grid_code"].astype(str)).size().astype(float)
    if buildings is None or len(buildings) == 0:
        return pd.Series(dtype=float)
    per_grid = buildings.groupby(buildings["parent_code"].astype(str)).size().astype(float)
    per_grid = per_grid[per_grid > 0]
    return (cases.reindex(per_grid.index, fill_value=0.0) / per_grid * 1000.0).dropna()


def grid_panel(session: Session, scope: Scope, grid_code: str, *, data: MapData, now: datetime,
               hierarchy: Mapping[str, gpd.GeoDataFrame] | None = None) -> dict[str, Any]:
    """What the panel of one clicked grid shows.

    Returns
    -------
    dict
        ``workers`` (staff numbers with their last fix), ``teams`` (the grid's five-team helpers,
        masked), ``open`` and ``overdue`` (within the
        filter), ``open_cases`` (rows), ``coverage`` (four-visit coverage of the latest month
        with visits in this grid, or None), ``coverage_period`` (``YYYY-MM``) and ``patrol`` (the
        share of the grid's buildings patrolled this ISO week, ``workforce.patrol``; None without
        ``hierarchy`` or for aggregate-only roles).
    """
    grid_open = data.open_rows.loc[data.open_rows["grid_code"].astype(str) == str(grid_code)]
    workers = pd.DataFrame()
    period = now.strftime("%Y-%m")
    if scope.records_allowed:
        positions = worker_positions(session, scope)
        workers = positions.loc[positions["grid_code"].astype(str) == str(grid_code)]
        latest = list_visits(session, scope, area_code=str(grid_code), limit=1)
        if len(latest):
            period = pd.Timestamp(latest["at"].iloc[0]).strftime("%Y-%m")
    coverage = visit_coverage(session, scope, period, by="grid")
    row = coverage.loc[coverage["code"].astype(str) == str(grid_code)]
    value = None if row.empty or pd.isna(row["coverage"].iloc[0]) else float(row["coverage"].iloc[0])
    return {
        "workers": workers,
        "teams": team_members(session, scope, grid_code=str(grid_code)) if scope.records_allowed else pd.DataFrame(),
        "open": len(grid_open),
        "overdue": int((grid_open["due"] == "overdue").sum()) if len(grid_open) else 0,
        "open_cases": grid_open,
        "coverage": value,
        "coverage_period": period,
        "patrol": _patrol(session, scope, grid_code, hierarchy, now),
    }


def _patrol(session: Session, scope: Scope, grid_code: str, hierarchy: Mapping[str, gpd.GeoDataFrame] | None,
            now: datetime) -> float | None:
    if hierarchy is None or not scope.records_allowed or "buildings" not in hierarchy:
        return None
    one = {"grids": hierarchy["grids"].loc[hierarchy["grids"]["code"].astype(str) == str(grid_code)],
           "buildings": hierarchy["buildings"]}
    table, _ = stored_week_coverage(session, scope, one, now.strftime("%G-W%V"))
    return float(table["coverage"].iloc[0]) if len(table) else None
