"""THE read API of the four-visit registry: households, visits and the households still to visit.

Every function takes the caller's :class:`~access.scope.Scope` and filters in SQL; personal data
is masked on every output (:func:`access.protect.protect`). Leaders are refused record-level
reads: they see coverage figures only (``metrics.coverage``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from access.exports import audited_export
from access.protect import protect
from access.scope import Scope
from registry.periods import month_window
from registry.population import person_ids
from registry.status import period_status_of
from store.models import Household, Visit
from store.query import (
    area_filter,
    level_column,
    limit_rows,
    rows_frame,
    select_columns,
)

HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "id", "head_name", "id_number", "phone", "category", "building_code", "grid_code",
    "community_code", "street_code", "lon", "lat",
)
VISIT_COLUMNS: tuple[str, ...] = (
    "id", "household_id", "category", "head_name", "worker_id", "at", "lon", "lat", "outcome",
    "distance_m", "on_site", "grid_code", "community_code", "street_code",
)


def list_households(
    session: Session,
    scope: Scope,
    *,
    category: str | None = None,
    area_code: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Four-visit households in the caller's scope, personal data masked (not for leaders).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HOUSEHOLD_COLUMNS`, ordered by grid and id; lon/lat EPSG:4490.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`count_households`).
    """
    scope.require_records()
    query = _narrow(select_columns(Household, HOUSEHOLD_COLUMNS).where(scope.clause(Household)),
                        category=category, area_code=area_code, limit=limit)
    return protect(rows_frame(session, query, HOUSEHOLD_COLUMNS), "household", scope)


def _narrow(query: Select[Any], *, category: str | None, area_code: str | None,
                limit: int | None) -> Select[Any]:
    """``query`` on households narrowed to a category and an area, in grid order, limited."""
    if category:
        query = query.where(Household.category == str(category))
    area = area_filter(Household, area_code)
    if area is not None:
        query = query.where(area)
    return query.order_by(Household.grid_code, Household.id).limit(limit_rows(limit))


def count_households(session: Session, scope: Scope, *, by: str = "grid") -> pd.DataFrame:
    """Households per area and category in the caller's scope (any role).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``category``, ``households``.
    """
    level = level_column(Household, by)
    query = (
        select(level.label("code"), Household.category, func.count().label("households"))
        .where(scope.clause(Household))
        .group_by(level, Household.category)
        .order_by(level, Household.category)
    )
    rows = session.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["code", "category", "households"])


def list_visits(
    session: Session,
    scope: Scope,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    household_id: str | None = None,
    worker_id: str | None = None,
    on_site: bool | None = None,
    area_code: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Visits in the caller's scope, newest first, with the household's category and masked name.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VISIT_COLUMNS`; ``distance_m`` in metres (measured in EPSG:4548 by
        default), ``on_site`` when within ``VISIT_ON_SITE_M``.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`metrics.coverage.visit_coverage`).
    """
    scope.require_records()
    query = (
        select(Visit, Household.category, Household.head_name)
        .join(Household, Household.id == Visit.household_id)
        .where(scope.clause(Visit))
    )
    if since:
        query = query.where(Visit.at >= since)
    if until:
        query = query.where(Visit.at < until)
    if household_id:
        query = query.where(Visit.household_id == str(household_id))
    if worker_id:
        query = query.where(Visit.worker_id == str(worker_id))
    if on_site is not None:
        query = query.where(Visit.on_site.is_(bool(on_site)))
    area = area_filter(Visit, area_code)
    if area is not None:
        query = query.where(area)
    query = query.order_by(Visit.at.desc(), Visit.id).limit(limit_rows(limit))
    data = []
    for visit, category, head_name in session.execute(query):
        row = {c: getattr(visit, c, None) for c in VISIT_COLUMNS}
        row["category"], row["head_name"] = category, head_name
        data.append(row)
    return protect(pd.DataFrame(data, columns=list(VISIT_COLUMNS)), "visit", scope)


def households_to_visit(
    session: Session,
    scope: Scope,
    period: str | tuple[datetime, datetime],
    *,
    category: str | None = None,
    area_code: str | None = None,
    credible: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Persons planned in ``period`` and not yet visited in every planned cycle (:mod:`registry.schedule`),
    personal data masked (not for leaders).

    Parameters
    ----------
    session : Session
    scope : Scope
    period : str or (datetime, datetime)
        ``"YYYY-MM"`` or a half-open window, as for :func:`metrics.coverage.visit_coverage`.
    category : str, optional
        One key of ``core.constants.VISIT_CATEGORIES``.
    area_code : str, optional
        A street, community or grid code inside the caller's scope.
    credible : bool
        Count only verified visits (on site and not suspicious) as done: a person visited "on
        paper" only is still listed.
    limit : int, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HOUSEHOLD_COLUMNS` plus ``last_visit_at`` (the latest visit before the
        period's end, or NaT) and ``due_by`` (the last day of the earliest cycle still to visit),
        ordered by grid and id; lon/lat EPSG:4490.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`metrics.coverage.visit_coverage`).
    """
    scope.require_records()
    _, end = month_window(period)
    status = period_status_of(session, scope, period, category=category, area_code=area_code)
    todo = status.loc[status["planned"] & ~status["verified" if credible else "visited"]].set_index("id")
    last_visit = (select(func.max(Visit.at)).where(Visit.household_id == Household.id, Visit.at < end)
                  .scalar_subquery().label("last_visit_at"))
    query = (select(*(getattr(Household, c) for c in HOUSEHOLD_COLUMNS), last_visit)
             .where(Household.id.in_(person_ids(scope, category=category))))
    frame = rows_frame(session, query, (*HOUSEHOLD_COLUMNS, "last_visit_at"))
    frame = frame.loc[frame["id"].isin(todo.index)].sort_values(["grid_code", "id"], na_position="last")
    frame = frame.head(limit_rows(limit)).reset_index(drop=True)
    frame["last_visit_at"] = pd.to_datetime(frame["last_visit_at"])
    frame["due_by"] = frame["id"].map(todo["due_by"])
    return protect(frame, "household", scope)


def export_households(
    session: Session,
    scope: Scope,
    *,
    fmt: str = "csv",
    now: datetime,
    ip: str | None = None,
    **filters: Any,
) -> bytes:
    """The caller's four-visit households as CSV/XLSX bytes, masked; audited like :func:`export_cases`."""
    scope.require("export")
    frame = list_households(session, scope, **filters)
    return audited_export(session, scope, frame, kind="households", fmt=fmt, now=now, filters=filters, ip=ip)
