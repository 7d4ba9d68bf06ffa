"""A worker's latest GPS fix, and the arrival (到场) recorded with it.

:func:`latest_fix` reads ``worker_tracks`` through :func:`cases.queries.worker_track`, so the
caller's scope applies (a worker's fixes carry their own grid's codes). :func:`record_arrival`
takes the "arrive" action with the best position there is - a position typed in, else the
latest fix if recent, else, when the worker says so, none at all (``no_fix``) - and says which
in the event note. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from cases import queries
from core import constants
from core.errors import InputError, PermissionDenied


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


def _plain(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def record_arrival(
    session: Session,
    scope: Scope,
    case_id: int,
    *,
    role: str,
    worker_id: str | None,
    expected_version: int,
    now: datetime,
    max_age_minutes: float = constants.ARRIVAL_FIX_MAX_AGE_MINUTES,
    lon: float | None = None,
    lat: float | None = None,
    no_fix: bool = False,
    note: str | None = None,
) -> dict[str, Any]:
    """Take "arrive" on case ``case_id`` as the assigned worker; the caller commits.

    The position, in this order: ``lon``/``lat`` typed in (EPSG:4490 degrees; the note says
    "position entered by hand"); else the worker's :func:`latest_fix` if at most
    ``max_age_minutes`` old (note "GPS fix HH:MM:SS (N min old)"); else, with ``no_fix``, no
    position (the lifecycle records the time only and notes "no GPS fix"). The lifecycle adds
    the distance to the case.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller; the case must lie in it.
    case_id : int
    role : str
        The caller's role (``access.policy``: only the assigned worker may arrive).
    worker_id : str or None
        The caller's staff number (工号).
    expected_version : int
        The case version the caller saw (optimistic lock).
    now : datetime
        Naive local time: when the arrival happens, and the reference of the fix's age.
    max_age_minutes : float
        Oldest GPS fix accepted (setting ``arrival_fix_max_age_minutes``).
    lon, lat : float, optional
        A position typed in; both or neither.
    no_fix : bool
        No position at all: the device has no GPS fix.
    note : str, optional
        The worker's own note, appended.

    Returns
    -------
    dict
        The case after the action (``cases.queries.get_case``).

    Raises
    ------
    core.errors.PermissionDenied
        Not the assigned worker, or the case lies outside the scope.
    core.errors.InputError
        Only one of lon/lat, or no position at all without ``no_fix``.
    core.errors.TransitionError, core.errors.ConflictError
        From the lifecycle.
    """
    from access.policy import actions_for_case
    from cases.lifecycle import transition

    case = queries.get_case(session, scope, case_id)
    if "arrive" not in actions_for_case(SimpleNamespace(**{k: _plain(v) for k, v in case.items()}), role,
                                        worker_id=worker_id):
        who = " ".join(p for p in (role, scope.username or worker_id) if p)
        msg = f"{who} may not record an arrival on case {case_id} now (only its assigned worker, once accepted)"
        raise PermissionDenied(msg)
    minutes = float(max_age_minutes)
    fields: dict[str, Any] = {}
    if (lon is None) != (lat is None):
        raise InputError("arrive", f"only one of lon/lat given for case {case_id}", "give both or neither")
    if lon is not None:
        how = f"position entered by hand (no GPS fix in the last {minutes:g} min)"
    else:
        fix = latest_fix(session, scope, str(worker_id or ""), now=now, max_age_minutes=minutes)
        if fix is not None:
            lon, lat = fix.lon, fix.lat
            how = f"GPS fix {fix.at:%H:%M:%S} ({max(0, round(fix.age_minutes(now)))} min old)"
        elif no_fix:
            how, fields = None, {"no_fix": True}
        else:
            raise InputError("arrive", f"no GPS fix of {worker_id} in the last {minutes:g} min and no position given",
                             "enter lon/lat, or record the arrival with no_fix")
    text = "; ".join(p for p in (how, note) if p) or None
    transition(session, int(case_id), "arrive", actor=scope.username or str(worker_id), actor_role=role,
               expected_version=expected_version, at=now, note=text, lon=lon, lat=lat, **fields)
    return queries.get_case(session, scope, case_id)
