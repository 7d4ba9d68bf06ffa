"""A worker's latest GPS fix (used by arrivals, 到场, and later by visits).

:func:`latest_fix` reads ``worker_tracks`` through :func:`workforce.queries.worker_track`, so the
caller's scope applies (a worker's fixes carry their own grid's codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from access.scope import Scope
from core import constants
from workforce import queries


@dataclass(frozen=True)
class Fix:
    """One GPS fix: ``lon``/``lat`` in EPSG:4490 degrees, ``at`` naive local time."""

    worker_id: str
    at: datetime
    lon: float
    lat: float

    def age_minutes(self, now: datetime) -> float:
        """Minutes from the fix to ``now``."""
        return (now - self.at).total_seconds() / 60.0


def latest_fix(
    session: Session,
    scope: Scope,
    worker_id: str,
    *,
    now: datetime,
    max_age_minutes: float = constants.ARRIVAL_FIX_MAX_AGE_MINUTES,
) -> Fix | None:
    """The worker's newest GPS fix taken in ``[now - max_age_minutes, now]``, or None.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller; fixes outside the scope are not seen (leaders are refused).
    worker_id : str
        Staff number (工号).
    now : datetime
        Naive local time (``core.clock.now()``); fixes after it are ignored.
    max_age_minutes : float
        Oldest accepted fix, in minutes (setting ``arrival_fix_max_age_minutes``); must be > 0.

    Returns
    -------
    Fix or None
        None when the worker has no fix in the window (or no worker id is given).

    Raises
    ------
    ValueError
        ``max_age_minutes`` is not positive.
    core.errors.PermissionDenied
        For ``leader`` (no record-level reads).
    """
    if not max_age_minutes or max_age_minutes <= 0:
        msg = f"max_age_minutes must be a positive number of minutes, got {max_age_minutes!r}"
        raise ValueError(msg)
    if not worker_id:
        return None
    track = queries.worker_track(session, scope, str(worker_id), since=now - timedelta(minutes=float(max_age_minutes)),
                                until=now + timedelta(seconds=1))
    track = track.dropna(subset=["lon", "lat", "at"])
    if track.empty:
        return None
    last = track.iloc[-1]
    at = last["at"]
    at = at.to_pydatetime() if hasattr(at, "to_pydatetime") else at
    return Fix(str(worker_id), at, float(last["lon"]), float(last["lat"]))
