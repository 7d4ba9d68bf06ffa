"""Recording a four-visit (四访) visit from the field: the one way a visit enters the store from a page.

The position follows the arrival rule (:mod:`cases.commands`): a position from the phone (the
browser's geolocation, or typed), else the worker's latest GPS fix if recent, else - when the worker
says so - none at all. The visit is measured against the person's home (their building's position;
:func:`registry.visits.measure_visit`): on site within ``[registry] on_site_m`` (default 50 m).
Photos are checked and stripped of every metadata, the GPS position included
(:func:`intake.photos.prepare_photos`), in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from access import audit
from access.scope import Scope
from core import clock
from core.errors import InputError, NotFound, PermissionDenied
from core.settings import Settings, load_settings
from intake.photos import prepare_photos
from registry.visits import VisitPlace, measure_visit
from store.models import Household, Visit
from store.models.people import VisitPhoto
from workforce.positions import latest_fix


@dataclass(frozen=True)
class RecordedVisit:
    """A visit as stored: its id, when, the distance to the home (m; None without a position), on site."""

    id: str
    household_id: str
    at: datetime
    distance_m: float | None
    on_site: bool
    position: str


def _position(session: Session, actor: Scope, lon: float | None, lat: float | None, no_fix: bool, *,
              at: datetime, max_age_minutes: float) -> tuple[float | None, float | None, str]:
    if (lon is None) != (lat is None):
        raise InputError("visit", "only one of lon/lat given", "give both or neither")
    if lon is not None and lat is not None:
        return float(lon), float(lat), "phone"
    fix = latest_fix(session, actor, str(actor.worker_id or ""), now=at, max_age_minutes=max_age_minutes)
    if fix is not None:
        return fix.lon, fix.lat, "gps_fix"
    if no_fix:
        return None, None, "none"
    raise InputError("visit", f"no GPS fix of {actor.worker_id} in the last {max_age_minutes:g} min and no position "
                     "given", "allow the phone's location, enter lon/lat, or record the visit without a position")


def record_visit(
    session: Session,
    actor: Scope,
    household_id: str,
    *,
    outcome: str = "",
    lon: float | None = None,
    lat: float | None = None,
    no_fix: bool = False,
    at: datetime | None = None,
    photos: Sequence[tuple[str, bytes]] = (),
    settings: Settings | None = None,
) -> RecordedVisit:
    """Record a visit by ``actor`` (a grid worker) to a household of their grid; the caller commits.

    Parameters
    ----------
    session : Session
    actor : Scope
        The worker (``worker_id`` is written to the visit).
    household_id : str
        A household in the actor's scope (NotFound otherwise, as for a missing one).
    outcome : str
        What the worker found (free text).
    lon, lat : float, optional
        The phone's position, EPSG:4490 degrees.
    no_fix : bool
        No position at all (the visit is kept, not verified on site).
    at : datetime, optional
        When (naive local time); default now.
    photos : sequence of (filename, bytes), optional
        JPEG/PNG/HEIC photos of the visit (at most nine; a bad one refuses the visit).
    settings : Settings, optional
        ``arrival_fix_max_age_minutes``, ``metric_crs``, ``registry.on_site_m``, ``upload_max_mb``.

    Returns
    -------
    RecordedVisit
    """
    settings = settings or load_settings()
    at = at or clock.now()
    actor.require("record_visits")
    if not actor.worker_id:
        raise PermissionDenied(f"{actor.username or 'anonymous'} has no staff number (工号) to record visits under")
    household = session.get(Household, str(household_id))
    if household is None or not actor.allows(household):
        raise NotFound(f"no household {household_id} in your area; check the number")
    prepared = prepare_photos(list(photos), max_mb=float(settings.upload_max_mb))
    lon, lat, how = _position(session, actor, lon, lat, no_fix, at=at,
                              max_age_minutes=float(settings.arrival_fix_max_age_minutes))
    check = measure_visit(VisitPlace(lon, lat), VisitPlace(household.lon, household.lat),
                          metric_crs=settings.metric_crs, on_site_m=settings.registry.on_site_m)
    visit = Visit(id=f"V{uuid.uuid4().hex[:20]}", household_id=household.id, worker_id=str(actor.worker_id), at=at,
                  lon=lon, lat=lat, outcome=outcome.strip(), distance_m=check.distance_m, on_site=check.on_site,
                  grid_code=household.grid_code, community_code=household.community_code,
                  street_code=household.street_code)
    session.add(visit)
    session.add_all(VisitPhoto(visit_id=visit.id, filename=p.filename, width=p.width, height=p.height, image=p.jpeg,
                               thumbnail=p.thumbnail) for p in prepared)
    audit.record(session, actor=actor.username or str(actor.worker_id), action="visit", at=at,
                 target_kind="household", target_id=household.id,
                 detail={"position": how, "on_site": check.on_site, "distance_m": check.distance_m,
                         "photos": len(prepared)})
    session.flush()
    return RecordedVisit(visit.id, household.id, at, check.distance_m, check.on_site, how)
