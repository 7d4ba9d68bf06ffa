"""THE one way to act on a case: :func:`act` (pages, the CLI and later the API call only this).

In one call, inside the caller's transaction: the case is read in the caller's scope (NotFound
outside it), the permission table (:mod:`access.policy`) is asked whether the role may take the
action (a grid worker only on their own cases), a picked assignee is checked against whom the
role may assign to (:mod:`cases.assignees`), an arrival gets its position (typed in, else the
worker's latest GPS fix, else "no GPS fix" when the worker says so), the lifecycle applies the
action (:mod:`cases.lifecycle`), and the case is read back as a typed view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from access.policy import role_policy
from access.scope import Scope
from cases.actions import ACTIONS, available_actions
from cases.assignees import check_assignee
from cases.lifecycle import transition
from cases.queries import CaseView, get_case
from core import clock
from core.errors import InputError, PermissionDenied, TransitionError
from core.settings import Settings, load_settings
from intake.photos import prepare_photos
from store.models import CasePhoto
from workforce.positions import latest_fix
from workforce.teams import add_cohandler, check_member


def _assigned_to(case: Any, actor: Scope) -> bool:
    return bool(actor.worker_id) and case.assignee_kind == "worker" and str(case.assignee_id) == str(actor.worker_id)


def may_take(case: Any, actor: Scope, action: str) -> bool:
    """Whether the permission table lets ``actor`` take ``action`` on ``case`` (in any state)."""
    policy = role_policy(actor.role)
    return action in policy.actions and (not policy.own_cases_only or _assigned_to(case, actor))


def allowed_actions(case: Any, actor: Scope) -> list[str]:
    """The actions ``actor`` may take on ``case`` now, in table order.

    ``case`` is a :class:`cases.queries.CaseView` (or any object with its attributes): the
    lifecycle's legal actions in its state (:func:`cases.actions.available_actions`) that the
    permission table grants the caller's role.
    """
    return [key for key in available_actions(case) if may_take(case, actor, key)]


def _arrival_position(session: Session, actor: Scope, case_id: int, fields: dict[str, Any], *, now: datetime,
                      max_age_minutes: float) -> tuple[float | None, float | None, str | None]:
    """``(lon, lat, how)`` of an arrival: typed, else the latest GPS fix, else none with ``no_fix``."""
    lon, lat, source = fields.pop("lon", None), fields.pop("lat", None), fields.pop("source", None)
    if (lon is None) != (lat is None):
        raise InputError("arrive", f"only one of lon/lat given for case {case_id}", "give both or neither")
    if lon is not None:
        fields.pop("no_fix", None)
        how = ("position from the phone's location" if source == "phone"
               else f"position entered by hand (no GPS fix in the last {max_age_minutes:g} min)")
        return float(lon), float(lat), how
    fix = latest_fix(session, actor, str(actor.worker_id or ""), now=now, max_age_minutes=max_age_minutes)
    if fix is not None:
        fields.pop("no_fix", None)
        return fix.lon, fix.lat, f"GPS fix {fix.at:%H:%M:%S} ({max(0, round(fix.age_minutes(now)))} min old)"
    if fields.get("no_fix"):
        return None, None, None
    raise InputError("arrive", f"no GPS fix of {actor.worker_id} in the last {max_age_minutes:g} min and no position "
                     "given", "enter lon/lat, or record the arrival with no_fix")


def act(
    session: Session,
    actor: Scope,
    case_id: int,
    action: str,
    expected_version: int,
    *,
    note: str | None = None,
    at: datetime | None = None,
    community_streets: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    **fields: Any,
) -> CaseView:
    """Take ``action`` on case ``case_id`` as ``actor``; the caller commits (or rolls back).

    Parameters
    ----------
    session : Session
        An open session; everything happens in its transaction.
    actor : Scope
        The signed-in caller: role, area, account name (the event's actor), staff number.
    case_id : int
    action : str
        A key of :data:`cases.actions.ACTIONS`.
    expected_version : int
        The case version the caller saw (optimistic lock).
    note : str, optional
        Free text for the event.
    at : datetime, optional
        When (naive local time); default now. Also the reference of a GPS fix's age.
    community_streets : mapping, optional
        Community code -> street code, for a street-level chief's reach when assigning.
    settings : Settings, optional
        ``arrival_fix_max_age_minutes`` and ``metric_crs``; default :func:`core.settings.load_settings`.
    **fields
        The action's fields (:data:`cases.actions.ACTIONS`): ``reason``, ``satisfaction``,
        ``until``, ``assignee_kind``/``assignee_id``, for ``arrive`` ``lon``/``lat``
        (EPSG:4490 degrees; ``source="phone"`` when the phone located itself) or ``no_fix``, for
        ``handle`` ``photos`` (``(filename, bytes)`` pairs: JPEG/PNG/HEIC, stored as JPEG without
        metadata, with a thumbnail).

    Returns
    -------
    CaseView
        The case after the action, as the caller may see it.

    Raises
    ------
    core.errors.NotFound
        No such case in the caller's scope.
    core.errors.PermissionDenied
        The role may not take the action, on this case or on assignees outside its reach.
    core.errors.TransitionError, core.errors.ConflictError, core.errors.InputError
        From the lifecycle, or a bad field.
    """
    settings = settings or load_settings()
    at = at or clock.now()
    case = get_case(session, actor, case_id)
    if action not in ACTIONS:
        raise TransitionError(f"case {case.id}: unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    if not may_take(case, actor, action):
        who = f"{actor.role} ({actor.username or 'anonymous'})"
        own = " (only on cases assigned to them)" if role_policy(actor.role).own_cases_only else ""
        raise PermissionDenied(f"role {who} may not {action} case {case.id}{own}")
    member = check_member(session, actor, fields["member_id"]) if action == "cohandle" else None
    if action in ("dispatch", "reassign") and fields.get("assignee_kind"):
        check_assignee(session, actor, fields["assignee_kind"], fields.get("assignee_id") or "",
                       community_streets=community_streets)
    lon = lat = how = None
    if action == "arrive":
        lon, lat, how = _arrival_position(session, actor, case.id, fields, now=at,
                                          max_age_minutes=float(settings.arrival_fix_max_age_minutes))
    photos = prepare_photos(list(fields.pop("photos", None) or ()), max_mb=settings.upload_max_mb)
    counted = f"{len(photos)} photo(s)" if photos else None
    text = "; ".join(part for part in (how, counted, note) if part) or None
    after = transition(session, case.id, action, actor=actor.username or actor.role,
                       expected_version=expected_version, at=at, note=text, lon=lon, lat=lat,
                       metric_crs=settings.metric_crs, **fields)
    if member is not None:
        add_cohandler(session, case.id, member, by=actor.username or actor.role, at=at)
    session.add_all(CasePhoto(case_id=case.id, event_seq=after.version, taken_by=actor.username or actor.role, at=at,
                              filename=p.filename, width=p.width, height=p.height, image=p.jpeg,
                              thumbnail=p.thumbnail) for p in photos)
    session.flush()
    return get_case(session, actor, case.id)
