"""THE read API of the workforce: workers' latest GPS fixes and their tracks, scoped.

A worker's fixes carry the hierarchy codes of the worker's own grid, so a scope filters them like
any other row. Leaders are refused (no record-level reads).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from access.scope import Scope
from store.models import WorkerTrack
from store.query import limit_rows, rows_frame, select_columns

TRACK_COLUMNS: tuple[str, ...] = ("worker_id", "at", "lon", "lat", "grid_code", "community_code", "street_code")


def worker_positions(session: Session, scope: Scope, *, at: datetime | None = None) -> pd.DataFrame:
    """Each worker's latest GPS fix (at or before ``at``) in the caller's scope.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACK_COLUMNS`, one row per worker; lon/lat EPSG:4490 degrees.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader``.
    """
    scope.require_records()
    newest = select(WorkerTrack.worker_id, func.max(WorkerTrack.at).label("at")).where(scope.clause(WorkerTrack))
    if at is not None:
        newest = newest.where(WorkerTrack.at <= at)
    latest = newest.group_by(WorkerTrack.worker_id).subquery()
    query = (
        select_columns(WorkerTrack, TRACK_COLUMNS)
        .join(latest, and_(WorkerTrack.worker_id == latest.c.worker_id, WorkerTrack.at == latest.c.at))
        .where(scope.clause(WorkerTrack))
        .order_by(WorkerTrack.worker_id, WorkerTrack.id.desc())
    )
    frame = rows_frame(session, query, TRACK_COLUMNS)
    return frame.drop_duplicates("worker_id", ignore_index=True)


def worker_track(
    session: Session,
    scope: Scope,
    worker_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """One worker's GPS fixes in time order - only those inside the caller's scope.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACK_COLUMNS`.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader``.
    """
    scope.require_records()
    query = select_columns(WorkerTrack, TRACK_COLUMNS).where(scope.clause(WorkerTrack),
                                                       WorkerTrack.worker_id == str(worker_id))
    if since:
        query = query.where(WorkerTrack.at >= since)
    if until:
        query = query.where(WorkerTrack.at < until)
    query = query.order_by(WorkerTrack.at, WorkerTrack.id).limit(limit_rows(limit))
    return rows_frame(session, query, TRACK_COLUMNS)




def positions_with_tracks(session: Session, scope: Scope, *,
                          grid_code: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last positions of the workers in scope, and the day's track of ``grid_code``'s worker(s).

    The track covers the calendar day of each worker's latest fix. Aggregate-only roles get two
    empty frames (no record-level reads).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Both with columns :data:`TRACK_COLUMNS`; lon/lat EPSG:4490 degrees.
    """
    if not scope.records_allowed:
        return pd.DataFrame(columns=list(TRACK_COLUMNS)), pd.DataFrame(columns=list(TRACK_COLUMNS))
    positions = worker_positions(session, scope)
    tracks = []
    if grid_code:
        for row in positions.loc[positions["grid_code"].astype(str) == str(grid_code)].itertuples():
            day = pd.Timestamp(row.at).normalize().to_pydatetime()
            tracks.append(worker_track(session, scope, str(row.worker_id), since=day, until=day + timedelta(days=1)))
    track = pd.concat(tracks, ignore_index=True) if tracks else pd.DataFrame(columns=list(TRACK_COLUMNS))
    return positions, track


def worker_track_window(session: Session, scope: Scope, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Every worker's fixes in ``[since, until)`` inside the caller's scope, by worker and time.

    Returns
    -------
    pandas.DataFrame
        Columns ``worker_id``, ``at``, ``lon``, ``lat`` (EPSG:4490 degrees).

    Raises
    ------
    core.errors.PermissionDenied
        For aggregate-only roles.
    """
    scope.require_records()
    columns = ("worker_id", "at", "lon", "lat")
    query = (select_columns(WorkerTrack, columns)
             .where(scope.clause(WorkerTrack), WorkerTrack.at >= since, WorkerTrack.at < until)
             .order_by(WorkerTrack.worker_id, WorkerTrack.at))
    return rows_frame(session, query, columns)
