"""Data wiring of the command map (no Streamlit): filters in, frames for the layers out.

Everything is read through the case store's scoped reads (``cases.queries``), so the caller's
scope applies in SQL; deadlines come from ``cases.deadlines`` and the "emergency nobody has
reached yet" flag (the pulsing ring) from ``access.policy.awaiting_arrival``. Nothing here
decides a business rule of its own.

Scale: the per-grid totals of ``cases.queries.count_cases`` (one ``GROUP BY`` on the server)
decide first; at most ``point_limit + 1`` case rows are read for the map. When more cases
match, the map gets those per-grid totals and only the open cases are read as rows (for the
KPI tiles, the alerts and the list). The per-grid totals cannot filter by source, so with a
source filter the bubbles count every source (the rows, tiles and list do filter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from access.policy import awaiting_arrival
from access.scope import Scope
from cases import deadlines, queries
from core.constants import OPEN_STATES
from layers.cases import POINT_LIMIT

#: Time windows of the filter, in days back from today's midnight (None: no lower bound).
WINDOWS: dict[str, int | None] = {"today": 0, "7d": 6, "30d": 29, "90d": 89, "all": None}
#: Case fields ``cases.deadlines`` reads; the ones a scoped read does not return count as unset.
_DEADLINE_FIELDS = ("state", "category", "dispatched_at", "accepted_at", "arrived_at", "respond_due",
                    "arrive_due", "close_due", "extension_state", "extended_close_due")


@dataclass(frozen=True)
class CaseFilter:
    """The page's filter, shared by the map, the case list and the KPI tiles."""

    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    source: str | None = None
    states: tuple[str, ...] = ()
    area_code: str | None = None

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``cases.queries.list_cases``."""
        return {"since": self.since, "until": self.until, "category": self.category,
                "source": self.source, "states": list(self.states) or None, "area_code": self.area_code}


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


def _value(v: Any) -> Any:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def annotate(cases: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``cases`` plus ``due`` (ok/soon/overdue), ``arrival_pending`` and ``alert`` columns.

    ``due`` and ``arrival_pending`` come from ``cases.deadlines`` (``due_status``,
    ``pending_deadline``); ``alert`` marks ``access.policy.awaiting_arrival`` cases.
    Only the deadline fields are read per row (missing ones count as unset).
    """
    out = cases.copy()
    n = len(cases)
    columns = []
    for name in _DEADLINE_FIELDS:
        if name in cases.columns:
            column = cases[name]
            values = column.astype(object).to_numpy(copy=True)
            values[column.isna().to_numpy()] = None
        else:
            values = np.full(n, None, dtype=object)
        columns.append(values)
    due, arrival = [], []
    for values in zip(*columns, strict=True):
        case = SimpleNamespace(**dict(zip(_DEADLINE_FIELDS, values, strict=True)))
        due.append(deadlines.due_status(case, now))
        pending = deadlines.pending_deadline(case)
        arrival.append(pending is not None and pending[0] == "arrive")
    out["due"] = pd.Series(due, index=cases.index, dtype=object)
    out["arrival_pending"] = pd.Series(arrival, index=cases.index, dtype=bool)
    alert = [awaiting_arrival(str(s), str(c)) for s, c in zip(cases["state"], cases["category"], strict=True)]
    out["alert"] = pd.Series(alert, index=cases.index, dtype=bool)
    return out


def grid_codes_under(hierarchy: dict[str, gpd.GeoDataFrame], area_code: str | None) -> set[str] | None:
    """Grid codes inside a street, community or grid (None when no area is chosen)."""
    if not area_code:
        return None
    grids = hierarchy["grids"]
    communities = hierarchy.get("communities")
    codes = set(grids["code"].astype(str))
    if area_code in codes:
        return {area_code}
    in_community = set(grids.loc[grids["parent_code"].astype(str) == area_code, "code"].astype(str))
    if in_community:
        return in_community
    if communities is not None and len(communities):
        members = set(communities.loc[communities["parent_code"].astype(str) == area_code, "code"].astype(str))
        return set(grids.loc[grids["parent_code"].astype(str).isin(members), "code"].astype(str))
    return set()


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
    kpis: dict[str, int] = field(default_factory=dict)

    @property
    def alerts(self) -> pd.DataFrame:
        """Emergencies nobody has reached yet."""
        return self.open_rows.loc[self.open_rows["alert"]]


def load_map_data(
    session: Session,
    scope: Scope,
    flt: CaseFilter,
    *,
    now: datetime,
    hierarchy: dict[str, gpd.GeoDataFrame],
    point_limit: int = POINT_LIMIT,
) -> MapData:
    """Read the cases of ``flt`` for the map, the list and the KPI tiles.

    Returns
    -------
    MapData
        KPIs: ``today_new`` (reported since today's midnight), ``open``, ``overdue``,
        ``arrivals_pending`` (the pending deadline is the arrival), all within the filter.
    """
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    inside = grid_codes_under(hierarchy, flt.area_code)
    counts = queries.count_cases(session, scope, by="grid", states=list(flt.states) or None,
                                category=flt.category, source=flt.source, since=flt.since,
                                until=flt.until)
    if inside is not None:
        counts = counts.loc[counts["code"].astype(str).isin(inside)]
    # The per-grid counts follow every filter: one GROUP BY decides points versus totals.
    if int(counts["cases"].sum()) > point_limit:
        rows = None
    else:
        rows = queries.list_cases(session, scope, limit=point_limit + 1, **flt.query())
    if rows is not None and len(rows) <= point_limit:
        rows = annotate(rows, now)
        open_rows = rows.loc[rows["state"].astype(str).isin(OPEN_STATES)]
        today_new = int((rows["reported_at"] >= today).sum()) if len(rows) else 0
        aggregated, counts = False, None
    else:
        open_states = [s for s in (flt.states or OPEN_STATES) if s in OPEN_STATES]
        query = {**flt.query(), "states": open_states}
        open_rows = (annotate(queries.list_cases(session, scope, limit=queries.MAX_ROWS, **query), now)
                     if open_states else annotate(pd.DataFrame(columns=list(queries.CASE_COLUMNS)), now))
        rows = open_rows
        since_today = max(flt.since, today) if flt.since else today
        today_new = len(queries.list_cases(session, scope, limit=queries.MAX_ROWS,
                                          **{**flt.query(), "since": since_today}))
        aggregated = True
    kpis = {
        "today_new": today_new,
        "open": len(open_rows),
        "overdue": int((open_rows["due"] == "overdue").sum()) if len(open_rows) else 0,
        "arrivals_pending": int(open_rows["arrival_pending"].sum()) if len(open_rows) else 0,
    }
    return MapData(rows=rows, open_rows=open_rows, aggregated=aggregated, grid_counts=counts, kpis=kpis)


def grid_panel(
    session: Session,
    scope: Scope,
    grid_code: str,
    *,
    data: MapData,
    now: datetime,
) -> dict[str, Any]:
    """What the panel of one clicked grid shows.

    Returns
    -------
    dict
        ``workers`` (staff numbers with their last fix), ``open`` and ``overdue`` (within the
        filter), ``open_cases`` (rows), ``coverage`` (four-visit coverage of the latest month
        with visits in this grid, or None) and ``coverage_period`` (``YYYY-MM``).
    """
    grid_open = data.open_rows.loc[data.open_rows["grid_code"].astype(str) == str(grid_code)]
    workers = pd.DataFrame()
    if scope.records_allowed:
        positions = queries.worker_positions(session, scope)
        workers = positions.loc[positions["grid_code"].astype(str) == str(grid_code)]
    period = now.strftime("%Y-%m")
    if scope.records_allowed:
        latest = queries.list_visits(session, scope, area_code=str(grid_code), limit=1)
        if len(latest):
            period = pd.Timestamp(latest["at"].iloc[0]).strftime("%Y-%m")
    coverage = queries.visit_coverage(session, scope, period, by="grid")
    row = coverage.loc[coverage["code"].astype(str) == str(grid_code)]
    value = None if row.empty or pd.isna(row["coverage"].iloc[0]) else float(row["coverage"].iloc[0])
    return {
        "workers": workers,
        "open": len(grid_open),
        "overdue": int((grid_open["due"] == "overdue").sum()) if len(grid_open) else 0,
        "open_cases": grid_open,
        "coverage": value,
        "coverage_period": period,
    }


def worker_data(session: Session, scope: Scope, *, grid_code: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last positions of the workers in scope, and the day's track of ``grid_code``'s worker(s).

    The track covers the calendar day of each worker's latest fix.
    """
    if not scope.records_allowed:
        return pd.DataFrame(columns=["worker_id", "lon", "lat", "at"]), pd.DataFrame()
    positions = queries.worker_positions(session, scope)
    tracks = []
    if grid_code:
        for row in positions.loc[positions["grid_code"].astype(str) == str(grid_code)].itertuples():
            day = pd.Timestamp(row.at).normalize().to_pydatetime()
            tracks.append(queries.worker_track(session, scope, row.worker_id, since=day,
                                              until=day + timedelta(days=1)))
    return positions, (pd.concat(tracks, ignore_index=True) if tracks else pd.DataFrame())


def grid_measure(
    measure: str,
    *,
    data: MapData,
    hierarchy: dict[str, gpd.GeoDataFrame],
    session: Session,
    scope: Scope,
    flt: CaseFilter,
    now: datetime,
) -> pd.Series:
    """Values per grid code of a ``layers.choropleth.MEASURES`` key for the current filter.

    ``open``/``overdue`` count the filtered open cases; ``per_1000_buildings`` divides the
    filtered cases by the grid's buildings (grids without buildings get no value);
    ``on_time_rate`` is ``metrics.kpi``'s 按期结案率 per grid over the filter's time window.
    """
    open_rows = data.open_rows
    inside = grid_codes_under(hierarchy, flt.area_code)
    grids = sorted(inside) if inside is not None else hierarchy["grids"]["code"].astype(str).tolist()
    if measure in ("open", "overdue"):
        rows = open_rows if measure == "open" else open_rows.loc[open_rows["due"] == "overdue"]
        counts = rows.groupby(rows["grid_code"].astype(str)).size().astype(float)
        return counts.reindex(grids, fill_value=0.0)
    if measure == "per_1000_buildings":
        if data.aggregated and data.grid_counts is not None:
            cases = data.grid_counts.set_index(data.grid_counts["code"].astype(str))["cases"].astype(float)
        else:
            cases = data.rows.groupby(data.rows["grid_code"].astype(str)).size().astype(float)
        buildings = hierarchy.get("buildings")
        if buildings is None or len(buildings) == 0:
            return pd.Series(dtype=float)
        per_grid = buildings.groupby(buildings["parent_code"].astype(str)).size().astype(float)
        per_grid = per_grid[per_grid > 0]
        return (cases.reindex(per_grid.index, fill_value=0.0) / per_grid * 1000.0).dropna()
    if measure == "on_time_rate":
        from metrics.kpi import kpi_table

        report = kpi_table(session, by="grid", since=flt.since, until=flt.until, now=now, scope=scope)
        frame = report.to_frame()
        if frame.empty:
            return pd.Series(dtype=float)
        return pd.Series(frame["on_time_rate"].to_numpy(dtype=float), index=frame["code"].astype(str))
    msg = f"unknown measure {measure!r}"
    raise ValueError(msg)


def _plain(case: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(**{k: _value(v) for k, v in case.items()})


def case_actions(case: dict[str, Any], role: str, *, worker_id: str | None = None) -> list[str]:
    """Actions ``role`` may take now on ``case`` (a ``cases.queries.get_case`` dict):
    ``access.policy.actions_for_case``."""
    from access.policy import actions_for_case

    return actions_for_case(_plain(case), role, worker_id=worker_id)


def act_on_case(
    session: Session,
    scope: Scope,
    case_id: int,
    action: str,
    *,
    role: str,
    expected_version: int,
    worker_id: str | None = None,
    note: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    community_streets: Mapping[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Take ``action`` on case ``case_id`` as the scope's user; the caller commits.

    The case must lie in ``scope`` (``cases.queries.get_case`` raises PermissionDenied) and the
    role must be allowed the action (``access.policy``). A chosen assignee (dispatch,
    reassign) must be one the caller may pick (``cases.assignees.check_assignee``; a street-level
    chief's reach needs ``community_streets``, community code -> street code). ``arrive`` takes the worker's
    ``lon``/``lat`` (EPSG:4490) or ``no_fix=True`` (time only); the page records arrivals through
    ``workforce.positions.record_arrival``, which finds the latest GPS fix first.

    Returns
    -------
    dict
        The case after the action (``cases.queries.get_case``).
    """
    from cases.assignees import check_assignee
    from cases.lifecycle import transition
    from core.errors import PermissionDenied

    case = queries.get_case(session, scope, case_id)
    if action not in case_actions(case, role, worker_id=worker_id):
        msg = f"role {role} ({scope.username or 'anonymous'}) may not {action} case {case_id} now"
        raise PermissionDenied(msg)
    if action in ("dispatch", "reassign") and fields.get("assignee_kind"):
        check_assignee(session, scope, fields["assignee_kind"], fields.get("assignee_id"),
                       community_streets=community_streets)
    transition(session, int(case_id), action, actor=scope.username, actor_role=role,
               expected_version=expected_version, note=note, lon=lon, lat=lat, **fields)
    return queries.get_case(session, scope, case_id)
