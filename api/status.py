"""A case as GeoReport v2 shows it: ``open``/``closed`` from the state's group
(``core.constants.STATES``), ``status_notes`` from the case timeline, the service from the
category, times in ISO 8601 with the district's offset, positions in EPSG:4490 degrees (which
GeoReport clients read as WGS84: the two differ by centimetres).

No personal data leaves: no reporter, no worker's staff number, no internal notes; the
description is the case text with phone and ID numbers masked (:mod:`access.protect`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from cases.actions import ACTIONS, REPORT_EVENT
from cases.queries import CaseView
from core import constants
from core.api_settings import ApiSettings, Service

_ZONE = ZoneInfo(constants.LOCAL_TIMEZONE)
#: Who a GeoReport client is told is responsible, by assignee kind.
_AGENCY = {"worker": "网格员 grid worker", "chief": "网格长 grid chief"}


def iso(value: datetime | None) -> str | None:
    """A naive local time as ISO 8601 with the district's offset (``2026-12-06T09:30:00+08:00``)."""
    if value is None or value is pd.NaT:
        return None
    return value.replace(tzinfo=_ZONE).isoformat(timespec="seconds")


def open_or_closed(state: str) -> str:
    """GeoReport's status of a case state: ``open`` or ``closed`` (voided, closed, archived)."""
    return "closed" if constants.STATES[state].group == "closed" else "open"


def service_of(settings: ApiSettings, category: str, subcategory: str | None) -> Service | None:
    """The catalogue's service for a case's category and sub-category (else one for its category)."""
    exact = [s for s in settings.services.values() if s.category == category and s.subcategory == (subcategory or "")]
    if exact:
        return exact[0]
    return next((s for s in settings.services.values() if s.category == category and not s.subcategory), None)


def status_notes(view: CaseView, timeline: pd.DataFrame) -> str:
    """The latest step of the timeline in words: state, action and time, the rating once followed up.

    Example: ``已派遣 Dispatched — 派遣 Dispatch, 2026-12-06 10:02``.
    """
    state = constants.STATES[view.state]
    text = f"{state.zh} {state.en}"
    if len(timeline):
        last = timeline.iloc[-1]
        action = ACTIONS.get(str(last["action"]))
        label = f"{action.zh} {action.en}" if action else ("上报 Reported" if last["action"] == REPORT_EVENT else "")
        at = last["at"]
        when = at.strftime("%Y-%m-%d %H:%M") if isinstance(at, datetime) else ""
        text += f" — {label}, {when}" if label else f", {when}"
    if view.satisfaction and view.satisfaction in constants.SATISFACTION:
        rating = constants.SATISFACTION[view.satisfaction]
        text += f"; 满意度 {rating.zh} ({rating.en})"
    if view.state == "voided" and view.void_reason:
        text += f"; 作废原因 {view.void_reason[:200]}"
    return text


def _updated(view: CaseView, timeline: pd.DataFrame) -> datetime | None:
    if len(timeline):
        at = timeline.iloc[-1]["at"]
        return at if isinstance(at, datetime) else None
    return view.reported_at


def request_row(view: CaseView, timeline: pd.DataFrame, settings: ApiSettings, *,
                media_url: str | None = None) -> dict[str, Any]:
    """One GeoReport ``request`` of a case (the keys in the spec's order)."""
    service = service_of(settings, view.category, view.subcategory)
    agency = view.assignee_id if view.assignee_kind == "department" else _AGENCY.get(view.assignee_kind or "")
    return {
        "service_request_id": str(view.id),
        "status": open_or_closed(view.state),
        "status_notes": status_notes(view, timeline),
        "service_name": service.name if service else constants.CATEGORIES[view.category].zh,
        "service_code": service.code if service else view.category,
        "description": view.text or "",
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": iso(view.reported_at),
        "updated_datetime": iso(_updated(view, timeline)),
        "expected_datetime": iso(view.extended_close_due or view.close_due),
        "address": view.address,
        "address_id": view.building_code,
        "zipcode": None,
        "lat": view.lat,
        "long": view.lon,
        "media_url": media_url,
    }
