"""What each action of the table (:mod:`cases.actions`) changes on a case: one effect function per
action, applied by :func:`cases.lifecycle.apply` to a plain copy of the case.

Each effect sets the columns it owns and returns the text the event's note starts with; it raises
:class:`core.errors.TransitionError` (via :func:`refuse`) or :class:`core.errors.InputError` to refuse,
and the lifecycle then restores the copy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cases import deadlines
from cases.actions import available_actions
from core import constants
from core.errors import InputError, TransitionError
from geo.distance import distance_m


def _state_label(state: str) -> str:
    s = constants.STATES.get(state)
    return f"{state} ({s.zh})" if s else state


def refuse(case: Any, action: str, why: str) -> TransitionError:
    """The error refusing ``action`` on ``case``: its state, why, and what is allowed now."""
    allowed = ", ".join(available_actions(case)) or "none"
    return TransitionError(f"case {case.id} is {_state_label(case.state)}: cannot {action} because {why}; "
                           f"allowed now: {allowed}")


def _effect_dispatch(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    kind = f.get("assignee_kind") or case.assignee_kind
    ident = f.get("assignee_id") or case.assignee_id
    if not kind or not ident:
        reason = f" ({case.unrouted_reason})" if case.unrouted_reason else ""
        raise refuse(case, "dispatch", f"it has no assignee{reason}; pass assignee_kind and assignee_id")
    if ctx.get("check_assignee") is not None:
        ctx["check_assignee"](kind, ident)
    case.assignee_kind, case.assignee_id, case.unrouted_reason = kind, ident, None
    if case.dispatched_at is None:
        case.dispatched_at = at
        due = deadlines.compute_deadlines(case.category, case.priority, at, sla=ctx.get("sla"))
        case.respond_due, case.arrive_due, case.close_due = due.respond_due, due.arrive_due, due.close_due
    return f"to {kind} {ident}"


def _effect_reassign(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    kind, ident = f["assignee_kind"], f["assignee_id"]
    if (kind, ident) == (case.assignee_kind, case.assignee_id):
        raise refuse(case, "reassign", f"it is already assigned to {kind} {ident}")
    if ctx.get("check_assignee") is not None:
        ctx["check_assignee"](kind, ident)
    before = f"{case.assignee_kind} {case.assignee_id}"
    # the new assignee accepts afresh; dispatch time and deadlines stay (the clock keeps running)
    case.assignee_kind, case.assignee_id, case.accepted_at = kind, ident, None
    reason = f" ({f['reason']})" if f.get("reason") else ""
    return f"from {before} to {kind} {ident}{reason}"


def _effect_arrive(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    lon, lat = ctx["lon"], ctx["lat"]
    if (lon is None or lat is None) and f.get("no_fix"):
        # the worker is there but the device has no fix: arrival time without a position
        case.arrived_at, case.arrival_lon, case.arrival_lat, case.arrival_distance_m = at, None, None, None
        return "no GPS fix: position and distance not recorded"
    if lon is None or lat is None:
        raise refuse(case, "arrive", "the worker's location is missing; pass lon and lat (EPSG:4490 degrees), "
                                      "or no_fix=True when the device has no GPS fix")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("lon/lat", f"({lon}, {lat}) is not a longitude/latitude", "pass degrees, lon first")
    case.arrived_at, case.arrival_lon, case.arrival_lat = at, lon, lat
    if case.lon is not None and case.lat is not None:
        case.arrival_distance_m = round(distance_m(lon, lat, case.lon, case.lat, metric_crs=ctx["metric_crs"]), 1)
        return f"{case.arrival_distance_m:.0f} m from the case"
    case.arrival_distance_m = None
    return "case has no location; distance unknown"


def _effect_follow_up(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    rating = f["satisfaction"]
    if rating not in constants.SATISFACTION:
        raise InputError("satisfaction", f"unknown rating {rating!r}",
                         f"use one of {', '.join(constants.SATISFACTION)}")
    case.satisfaction, case.followed_up_at = rating, at
    return f"satisfaction {rating} ({constants.SATISFACTION[rating].zh})"


def _effect_request_extension(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    until = f["until"]
    if not isinstance(until, datetime):
        raise InputError("until", f"{until!r} is not a date and time", "pass a datetime")
    current = deadlines.effective_close_due(case) or at
    if until <= current:
        raise InputError("until", f"{until:%Y-%m-%d %H:%M} is not after the current deadline {current:%Y-%m-%d %H:%M}",
                         "ask for a later deadline")
    case.extension_state, case.extended_close_due = "requested", until
    return f"until {until:%Y-%m-%d %H:%M}"


def _effect_escalate(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    level = int(f["level"])
    if level <= (case.escalation_level or 0):
        raise refuse(case, "escalate", f"it is already escalated to level {case.escalation_level}")
    case.escalation_level = level
    to = f" to {f['to']}" if f.get("to") else ""
    return f"escalated{to} (level {level})"


def _effect_cohandle(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    return f"co-handler {f['member_id']}"


def _effect_supervise(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    case.supervised = True
    return ""


def _stamp(attr: str) -> Callable[..., str]:
    def effect(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
        setattr(case, attr, at)
        return ""

    return effect


def _effect_void(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    case.void_reason = f["reason"]
    return f"reason: {f['reason']}"


def _effect_return(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    previous = f"{case.assignee_kind} {case.assignee_id}"
    case.assignee_kind = case.assignee_id = None
    case.unrouted_reason = f"sent back by {ctx['actor']}: {f['reason']}"
    return f"from {previous}; reason: {f['reason']}"


def _effect_rework(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    case.rework_count = (case.rework_count or 0) + 1
    return f"reason: {f['reason']}" if f.get("reason") else "reopened after a dissatisfied follow-up"


def _effect_extension_decision(approved: bool) -> Callable[..., str]:
    def effect(case: Any, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
        until = case.extended_close_due
        if approved:
            case.extension_state = "approved"
            return f"new deadline {until:%Y-%m-%d %H:%M}"
        case.extension_state, case.extended_close_due = "refused", None
        return f"requested deadline {until:%Y-%m-%d %H:%M} refused"

    return effect


#: The effect of each action.
EFFECTS: dict[str, Callable[..., str]] = {
    "register": _stamp("registered_at"),
    "void": _effect_void,
    "dispatch": _effect_dispatch,
    "reassign": _effect_reassign,
    "return": _effect_return,
    "accept": _stamp("accepted_at"),
    "arrive": _effect_arrive,
    "handle": _stamp("handled_at"),
    "verify": _stamp("verified_at"),
    "rework": _effect_rework,
    "follow_up": _effect_follow_up,
    "reopen": _effect_rework,
    "close": _stamp("closed_at"),
    "archive": _stamp("archived_at"),
    "request_extension": _effect_request_extension,
    "approve_extension": _effect_extension_decision(True),
    "refuse_extension": _effect_extension_decision(False),
    "supervise": _effect_supervise,
    "escalate": _effect_escalate,
    "cohandle": _effect_cohandle,
}


