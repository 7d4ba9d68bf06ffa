"""THE case state machine: one table of actions, one service function that applies them.

::

    reported ──register──▶ registered ──dispatch──▶ dispatched ──accept──▶ accepted
       │                       ▲                      │                      │ arrive
       └──void──▶ voided       └──dispatch── returned ◀──return (退单)        ▼
                                                            handle ◀──── on_site
    accepted ─handle─▶ handled   (only categories that need no arrival)      │
    handled ──verify──▶ verified ──follow_up──▶ followed_up ──close──▶ closed ──archive──▶ archived
       │  ▲                                       │ (dissatisfied)
       │  └────────handle──── rework ◀──reopen────┘
       └──rework──────────────▶ rework

    dispatched, accepted ──reassign (改派: another assignee, who accepts afresh)──▶ dispatched

    side actions (state unchanged): request_extension → approve_extension | refuse_extension
    (dispatched … rework), supervise (督办; any open state; chief, leader or commander only).

Every transition checks the table first and raises :class:`core.errors.TransitionError` naming
the case, its state and the allowed actions, changing nothing. A legal one updates the case,
appends a :class:`store.models.CaseEvent` (``seq`` = the new version) and bumps ``version`` in
the same transaction (``UPDATE ... WHERE version = <the version read>``); a stale write raises
:class:`core.errors.ConflictError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cases import deadlines
from core import clock, constants
from core.errors import ConflictError, InputError, PermissionDenied, TransitionError
from geo.distance import distance_m
from store.models import Case, CaseEvent, Department, Worker

#: Kinds of assignee a case can have.
ASSIGNEE_KINDS: tuple[str, ...] = ("worker", "department", "chief")
#: Roles allowed to raise the supervision flag (督办).
SUPERVISE_ROLES: frozenset[str] = frozenset({"chief", "leader", "commander"})
#: States in which extensions can be requested and decided.
_WORKING_STATES = frozenset({"dispatched", "accepted", "on_site", "handled", "rework"})


@dataclass(frozen=True)
class Action:
    """One row of the transition table.

    ``to_state`` None means a side action that keeps the state. ``required`` and ``optional``
    name the keyword fields :func:`transition` accepts for it.
    """

    key: str
    zh: str
    en: str
    from_states: frozenset[str]
    to_state: str | None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def text(self, lang: str = "zh") -> str:
        """The label in ``lang``."""
        return self.en if lang == "en" else self.zh


def _a(key: str, zh: str, en: str, sources: set[str] | frozenset[str], to: str | None,
       required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> Action:
    return Action(key, zh, en, frozenset(sources), to, required, optional)


#: The transition table, in the order of the closed loop.
ACTIONS: dict[str, Action] = {
    a.key: a
    for a in (
        _a("register", "立案", "Register", {"reported"}, "registered"),
        _a("void", "作废", "Void", {"reported"}, "voided", required=("reason",)),
        _a("dispatch", "派遣", "Dispatch", {"registered", "returned"}, "dispatched",
           optional=("assignee_kind", "assignee_id")),
        _a("return", "退单", "Send back", {"dispatched"}, "returned", required=("reason",)),
        _a("reassign", "改派", "Reassign", {"dispatched", "accepted"}, "dispatched",
           required=("assignee_kind", "assignee_id"), optional=("reason",)),
        _a("accept", "受理", "Accept", {"dispatched"}, "accepted"),
        _a("arrive", "到场", "Arrive on site", {"accepted"}, "on_site", optional=("no_fix",)),
        _a("handle", "处置", "Handle", {"accepted", "on_site", "rework"}, "handled"),
        _a("verify", "核查通过", "Verify", {"handled"}, "verified"),
        _a("rework", "返工", "Send to rework", {"handled"}, "rework", required=("reason",)),
        _a("follow_up", "回访", "Follow up", {"verified"}, "followed_up", required=("satisfaction",)),
        _a("reopen", "不满意重办", "Reopen (dissatisfied)", {"followed_up"}, "rework"),
        _a("close", "结案", "Close", {"followed_up"}, "closed"),
        _a("archive", "归档", "Archive", {"closed"}, "archived"),
        _a("request_extension", "申请延期", "Request extension", _WORKING_STATES, None, required=("until",)),
        _a("approve_extension", "批准延期", "Approve extension", _WORKING_STATES, None),
        _a("refuse_extension", "驳回延期", "Refuse extension", _WORKING_STATES, None),
        _a("supervise", "督办", "Supervise", constants.OPEN_STATES, None),
    )
}
#: Case attributes an action may change (restored when an action fails half-way).
_MUTABLE: tuple[str, ...] = (
    "state", "assignee_kind", "assignee_id", "unrouted_reason", "registered_at", "dispatched_at", "accepted_at",
    "arrived_at", "arrival_lon", "arrival_lat", "arrival_distance_m", "handled_at", "verified_at",
    "followed_up_at", "closed_at", "archived_at", "respond_due", "arrive_due", "close_due", "extension_state",
    "extended_close_due", "supervised", "satisfaction", "rework_count", "void_reason", "version",
)
#: Label of the event written when a case enters the store (not an action one can take).
REPORT_EVENT = "report"


def _guard(case: Case, action: str) -> str | None:
    """Why ``action`` is not possible on ``case`` beyond its state, or None."""
    if action == "handle" and case.category in constants.ARRIVAL_REQUIRED_CATEGORIES and case.arrived_at is None:
        return "it must be on site first (action 'arrive' records the worker's location)"
    if action == "reopen" and case.satisfaction != "dissatisfied":
        return "only a case rated dissatisfied (不满意) can be reopened"
    if action == "request_extension" and case.extension_state in ("requested", "approved"):
        return f"an extension is already {case.extension_state}"
    if action in ("approve_extension", "refuse_extension") and case.extension_state != "requested":
        return "no extension has been requested"
    if action == "supervise" and case.supervised:
        return "it is already supervised (督办)"
    return None


def available_actions(case: Case) -> list[str]:
    """The actions legal on ``case`` now, in table order (roles are not checked here)."""
    return [key for key, a in ACTIONS.items() if case.state in a.from_states and _guard(case, key) is None]


def _state_label(state: str) -> str:
    s = constants.STATES.get(state)
    return f"{state} ({s.zh})" if s else state


def _refuse(case: Case, action: str, why: str) -> TransitionError:
    allowed = ", ".join(available_actions(case)) or "none"
    return TransitionError(f"case {case.id} is {_state_label(case.state)}: cannot {action} because {why}; "
                           f"allowed now: {allowed}")


#: Prepared once: the dispatch target's status (a Core read; the hot path avoids ORM loads).
_WORKER_STATUS = select(Worker.__table__.c.active, Worker.__table__.c.role).where(
    Worker.__table__.c.id == bindparam("ident"))
_DEPARTMENT_STATUS = select(Department.__table__.c.active).where(Department.__table__.c.name == bindparam("ident"))


def _check_assignee(session: Session, kind: str, ident: str) -> None:
    if kind not in ASSIGNEE_KINDS:
        raise InputError("assignee_kind", f"unknown assignee kind {kind!r}", f"use one of {', '.join(ASSIGNEE_KINDS)}")
    connection = session.connection()
    if kind == "department":
        active = connection.execute(_DEPARTMENT_STATUS, {"ident": ident}).scalar()
        if not active:
            raise InputError("assignee_id", f"no active department {ident!r}", "pick a department from the list")
        return
    worker = connection.execute(_WORKER_STATUS, {"ident": ident}).first()
    if worker is None or not worker.active:
        raise InputError("assignee_id", f"no active worker {ident!r}", "pick a worker by staff number (工号)")
    if kind == "chief" and worker.role != "chief":
        raise InputError("assignee_id", f"worker {ident!r} is a {worker.role}, not a chief",
                         "use assignee_kind='worker' or pick a community chief")


def _effect_dispatch(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    kind = f.get("assignee_kind") or case.assignee_kind
    ident = f.get("assignee_id") or case.assignee_id
    if not kind or not ident:
        reason = f" ({case.unrouted_reason})" if case.unrouted_reason else ""
        raise _refuse(case, "dispatch", f"it has no assignee{reason}; pass assignee_kind and assignee_id")
    if ctx.get("check_assignee") is not None:
        ctx["check_assignee"](kind, ident)
    case.assignee_kind, case.assignee_id, case.unrouted_reason = kind, ident, None
    if case.dispatched_at is None:
        case.dispatched_at = at
        due = deadlines.compute_deadlines(case.category, case.priority, at, sla=ctx.get("sla"))
        case.respond_due, case.arrive_due, case.close_due = due.respond_due, due.arrive_due, due.close_due
    return f"to {kind} {ident}"


def _effect_reassign(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    kind, ident = f["assignee_kind"], f["assignee_id"]
    if (kind, ident) == (case.assignee_kind, case.assignee_id):
        raise _refuse(case, "reassign", f"it is already assigned to {kind} {ident}")
    if ctx.get("check_assignee") is not None:
        ctx["check_assignee"](kind, ident)
    before = f"{case.assignee_kind} {case.assignee_id}"
    # the new assignee accepts afresh; dispatch time and deadlines stay (the clock keeps running)
    case.assignee_kind, case.assignee_id, case.accepted_at = kind, ident, None
    reason = f" ({f['reason']})" if f.get("reason") else ""
    return f"from {before} to {kind} {ident}{reason}"


def _effect_arrive(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    lon, lat = ctx["lon"], ctx["lat"]
    if (lon is None or lat is None) and f.get("no_fix"):
        # the worker is there but the device has no fix: arrival time without a position
        case.arrived_at, case.arrival_lon, case.arrival_lat, case.arrival_distance_m = at, None, None, None
        return "no GPS fix: position and distance not recorded"
    if lon is None or lat is None:
        raise _refuse(case, "arrive", "the worker's location is missing; pass lon and lat (EPSG:4490 degrees), "
                                      "or no_fix=True when the device has no GPS fix")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("lon/lat", f"({lon}, {lat}) is not a longitude/latitude", "pass degrees, lon first")
    case.arrived_at, case.arrival_lon, case.arrival_lat = at, lon, lat
    if case.lon is not None and case.lat is not None:
        case.arrival_distance_m = round(distance_m(lon, lat, case.lon, case.lat, metric_crs=ctx["metric_crs"]), 1)
        return f"{case.arrival_distance_m:.0f} m from the case"
    case.arrival_distance_m = None
    return "case has no location; distance unknown"


def _effect_follow_up(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    rating = f["satisfaction"]
    if rating not in constants.SATISFACTION:
        raise InputError("satisfaction", f"unknown rating {rating!r}", f"use one of {', '.join(constants.SATISFACTION)}")
    case.satisfaction, case.followed_up_at = rating, at
    return f"satisfaction {rating} ({constants.SATISFACTION[rating].zh})"


def _effect_request_extension(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    until = f["until"]
    if not isinstance(until, datetime):
        raise InputError("until", f"{until!r} is not a date and time", "pass a datetime")
    current = deadlines.effective_close_due(case) or at
    if until <= current:
        raise InputError("until", f"{until:%Y-%m-%d %H:%M} is not after the current deadline {current:%Y-%m-%d %H:%M}",
                         "ask for a later deadline")
    case.extension_state, case.extended_close_due = "requested", until
    return f"until {until:%Y-%m-%d %H:%M}"


def _effect_supervise(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    role = ctx["actor_role"]
    if role not in SUPERVISE_ROLES:
        msg = f"only {', '.join(sorted(SUPERVISE_ROLES))} may supervise (督办) case {case.id}; actor role is {role!r}"
        raise PermissionDenied(msg)
    case.supervised = True
    return ""


def _stamp(attr: str) -> Callable[..., str]:
    def effect(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
        setattr(case, attr, at)
        return ""

    return effect


def _effect_void(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    case.void_reason = f["reason"]
    return f"reason: {f['reason']}"


def _effect_return(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    previous = f"{case.assignee_kind} {case.assignee_id}"
    case.assignee_kind = case.assignee_id = None
    case.unrouted_reason = f"sent back by {ctx['actor']}: {f['reason']}"
    return f"from {previous}; reason: {f['reason']}"


def _effect_rework(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
    case.rework_count = (case.rework_count or 0) + 1
    return f"reason: {f['reason']}" if f.get("reason") else "reopened after a dissatisfied follow-up"


def _effect_extension_decision(approved: bool) -> Callable[..., str]:
    def effect(case: Case, at: datetime, f: dict[str, Any], ctx: dict[str, Any]) -> str:
        until = case.extended_close_due
        if approved:
            case.extension_state = "approved"
            return f"new deadline {until:%Y-%m-%d %H:%M}"
        case.extension_state, case.extended_close_due = "refused", None
        return f"requested deadline {until:%Y-%m-%d %H:%M} refused"

    return effect


_EFFECTS: dict[str, Callable[..., str]] = {
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
}


def _conflict(case_id: int, version: int | None) -> ConflictError:
    return ConflictError(f"case {case_id} was changed by someone else (version {version}); reload and try again")


def apply(
    case: Case,
    action: str,
    *,
    actor: str,
    actor_role: str | None = None,
    at: datetime | None = None,
    note: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    sla: dict[str, constants.Sla] | None = None,
    metric_crs: str = constants.DEFAULT_METRIC_CRS,
    check_assignee: Callable[[str, str], None] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Apply ``action`` to a case object in memory (no database): the rules of :func:`transition`.

    Checks the transition table and guards, applies the action's effects, sets the new state
    and ``version + 1``, and returns the values of the event to append (``case_id``, ``seq``,
    ``action``, ``from_state``, ``to_state``, ``actor``, ``at``, ``note``, ``lon``, ``lat``).
    On any error the case is left exactly as it was. :func:`transition` is this plus loading,
    writing and the optimistic-lock check; bulk replays (``seed-demo``) call it directly and
    write in bulk. ``check_assignee(kind, id)`` validates a dispatch target (raise to refuse).
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise TransitionError(f"case {case.id}: unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    if case.state not in spec.from_states:
        raise _refuse(case, action, f"{action} needs state {' or '.join(sorted(spec.from_states))}")
    why = _guard(case, action)
    if why:
        raise _refuse(case, action, why)
    allowed = set(spec.required) | set(spec.optional)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        msg = f"{action} takes no field(s) {', '.join(unknown)}"
        raise InputError("transition", msg, f"use only {', '.join(sorted(allowed)) or 'no fields'}")
    missing = [name for name in spec.required if fields.get(name) in (None, "")]
    if missing:
        raise _refuse(case, action, f"{', '.join(missing)} is required")

    at = at or clock.now()
    ctx = {"lon": lon, "lat": lat, "actor": actor, "actor_role": actor_role, "sla": sla, "metric_crs": metric_crs,
           "check_assignee": check_assignee}
    old_version, from_state = case.version, case.state
    before = {name: getattr(case, name) for name in _MUTABLE}
    try:
        detail = _EFFECTS[action](case, at, fields, ctx)
    except Exception:
        for name, value in before.items():
            if getattr(case, name) != value:
                setattr(case, name, value)
        raise
    if spec.to_state is not None:
        case.state = spec.to_state
    case.version = old_version + 1
    text = "; ".join(part for part in (detail, note) if part)
    return {"case_id": case.id, "seq": old_version + 1, "action": action, "from_state": from_state,
            "to_state": case.state, "actor": actor, "at": at, "note": text or None, "lon": lon, "lat": lat}


def transition(
    session: Session,
    case_id: int | Case,
    action: str,
    *,
    actor: str,
    actor_role: str | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
    note: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    sla: dict[str, constants.Sla] | None = None,
    metric_crs: str = constants.DEFAULT_METRIC_CRS,
    **fields: Any,
) -> Case:
    """Apply ``action`` to case ``case_id`` and record it.

    Parameters
    ----------
    session : Session
        An open session; the change is written, not committed: the caller commits (on a
        conflict the session is rolled back).
    case_id : int or Case
        The case: an id (read afresh), or a Case already loaded in ``session`` (used as is; a
        stale one still fails the version check on write).
    action : str
        Key of :data:`ACTIONS`.
    actor : str
        Who acts (account name or staff number); written to the event.
    actor_role : str, optional
        Role key of ``core.constants.ROLES``; needed for ``supervise``.
    expected_version : int, optional
        The version the caller saw; a different current version raises ConflictError.
    at : datetime, optional
        When it happened (naive local time); default now.
    note : str, optional
        Free text added to the event.
    lon, lat : float, optional
        Where the actor is (EPSG:4490 degrees); required by ``arrive``.
    sla : dict, optional
        Category SLAs for ``dispatch``; default :func:`cases.deadlines.sla_table`.
    metric_crs : str
        Metric CRS for the arrival distance.
    **fields
        The action's own fields: ``reason`` (void, return, rework), ``satisfaction``
        (follow_up: satisfied | basically_satisfied | dissatisfied), ``until`` (request_extension),
        ``assignee_kind``/``assignee_id`` (dispatch, optional; reassign, required: worker |
        department | chief), ``no_fix`` (arrive: the device has no GPS fix, so no position).

    Returns
    -------
    Case
        The updated case (written, new version; clean in the session).

    Raises
    ------
    TransitionError
        The action is unknown or not allowed in the case's state (nothing changed).
    ConflictError
        The case changed since the caller read it.
    InputError, PermissionDenied
        A field is wrong, or the actor's role may not do this.
    """
    if isinstance(case_id, Case):
        case, case_id = case_id, case_id.id
    else:
        case = session.execute(_SELECT_CASE, {"case_key": case_id},
                               execution_options={"populate_existing": True}).scalar_one_or_none()
    if case is None:
        raise InputError("case", f"no case {case_id}", "check the case number", where=f"case {case_id}")
    if expected_version is not None and case.version != expected_version:
        raise _conflict(case_id, case.version)
    old_version = case.version
    # the rules run on a plain copy; the case object only takes the values once they are written,
    # so it never becomes dirty (no unit-of-work flush at commit: dispatch is the hot path)
    draft = _Draft(case)
    event = apply(draft, action, actor=actor, actor_role=actor_role, at=at, note=note, lon=lon, lat=lat, sla=sla,
                  metric_crs=metric_crs, check_assignee=lambda kind, ident: _check_assignee(session, kind, ident),
                  **fields)
    changes = {name: value for name in _MUTABLE if (value := getattr(draft, name)) != getattr(case, name)}
    connection = session.connection()
    try:
        result = connection.execute(_update_statement(tuple(changes)), {**changes, "case_key": case.id,
                                                                         "version_read": old_version})
        if result.rowcount != 1:
            session.rollback()
            raise _conflict(case_id, old_version + 1)
        connection.execute(_INSERT_EVENT, event)
    except IntegrityError as exc:
        session.rollback()
        if "uq_case_events_case_seq" in str(exc.orig) or "case_events.case_id" in str(exc.orig):
            raise _conflict(case_id, old_version + 1) from exc
        raise
    for name, value in changes.items():
        set_committed_value(case, name, value)
    return case


class _Draft:
    """A plain copy of a case's columns for :func:`apply` to change (no ORM bookkeeping)."""

    def __init__(self, case: Case) -> None:
        self.__dict__.update({name: getattr(case, name) for name in _COLUMNS})


_COLUMNS: tuple[str, ...] = tuple(column.key for column in Case.__table__.columns)
_INSERT_EVENT = insert(CaseEvent.__table__)
_SELECT_CASE = select(Case).where(Case.id == bindparam("case_key"))
_UPDATES: dict[tuple[str, ...], Any] = {}


def _update_statement(names: tuple[str, ...]) -> Any:
    """``UPDATE cases SET <names> WHERE id = :case_key AND version = :version_read``, built once per
    set of changed columns (statement construction is most of a transition's CPU otherwise)."""
    statement = _UPDATES.get(names)
    if statement is None:
        table = Case.__table__
        statement = update(table).where(table.c.id == bindparam("case_key"),
                                        table.c.version == bindparam("version_read"))
        statement = statement.values({name: bindparam(name) for name in names})
        _UPDATES[names] = statement
    return statement


def report(session: Session, *, actor: str, at: datetime | None = None, note: str | None = None,
           **values: Any) -> Case:
    """Add one new case in state ``reported`` with its first event (for single reports:
    随手拍, patrols, superiors' tasks; files go through :func:`intake.pipeline.import_file`).

    Parameters
    ----------
    session : Session
        Open session; the case is flushed, committed by the caller.
    actor : str
        Who reports (account or staff number).
    at : datetime, optional
        Time of the event; default now. ``values['reported_at']`` defaults to it.
    note : str, optional
        Text for the event (e.g. the routing decision).
    **values
        Columns of :class:`store.models.Case` (``source``, ``source_id``, ``category`` ... ).

    Returns
    -------
    Case
    """
    at = at or clock.now()
    values.setdefault("reported_at", at)
    values.setdefault("text", "")
    values.setdefault("priority", "normal")
    for key, allowed in (("source", constants.SOURCES), ("category", constants.CATEGORIES),
                         ("priority", constants.PRIORITIES)):
        if values.get(key) not in allowed:
            raise InputError(key, f"unknown {key} {values.get(key)!r}", f"use one of {', '.join(allowed)}")
    case = Case(state="reported", version=1, supervised=False, rework_count=0, **values)
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, seq=1, action=REPORT_EVENT, from_state=None, to_state="reported",
                          actor=actor, at=at, note=note, lon=values.get("lon"), lat=values.get("lat")))
    session.flush()
    return case
