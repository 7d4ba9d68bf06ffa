"""How a case moves: apply one action of the table (:mod:`cases.actions`) to a case and record it.

Every transition checks the table first and raises :class:`core.errors.TransitionError` naming
the case, its state and the allowed actions, changing nothing. A legal one updates the case,
appends a :class:`store.models.CaseEvent` (``seq`` = the new version) and bumps ``version`` in
the same transaction (``UPDATE ... WHERE version = <the version read>``); a stale write raises
:class:`core.errors.ConflictError`. Roles are not checked here: :func:`cases.commands.act` checks
the permission table (:mod:`access.policy`) first, and is the one way pages act on a case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cases.actions import ACTIONS, ASSIGNEE_KINDS, guard
from cases.effects import EFFECTS, refuse
from core import clock, constants
from core.errors import ConflictError, InputError, TransitionError
from store.models import Case, CaseEvent, Department, Worker, table_of

#: Case attributes an action may change (restored when an action fails half-way).
_MUTABLE: tuple[str, ...] = (
    "state", "assignee_kind", "assignee_id", "unrouted_reason", "registered_at", "dispatched_at", "accepted_at",
    "arrived_at", "arrival_lon", "arrival_lat", "arrival_distance_m", "handled_at", "verified_at",
    "followed_up_at", "closed_at", "archived_at", "respond_due", "arrive_due", "close_due", "extension_state",
    "extended_close_due", "supervised", "satisfaction", "rework_count", "void_reason", "escalation_level", "version",
)


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


def _conflict(case_id: int, version: int | None) -> ConflictError:
    return ConflictError(f"case {case_id} was changed by someone else (version {version}); reload and try again")


def apply(
    case: Any,
    action: str,
    *,
    actor: str,
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
        raise refuse(case, action, f"{action} needs state {' or '.join(sorted(spec.from_states))}")
    why = guard(case, action)
    if why:
        raise refuse(case, action, why)
    allowed = set(spec.required) | set(spec.optional)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        msg = f"{action} takes no field(s) {', '.join(unknown)}"
        raise InputError("transition", msg, f"use only {', '.join(sorted(allowed)) or 'no fields'}")
    missing = [name for name in spec.required if fields.get(name) in (None, "")]
    if missing:
        raise refuse(case, action, f"{', '.join(missing)} is required")

    at = at or clock.now()
    ctx = {"lon": lon, "lat": lat, "actor": actor, "sla": sla, "metric_crs": metric_crs,
           "check_assignee": check_assignee}
    old_version, from_state = case.version, case.state
    before = {name: getattr(case, name) for name in _MUTABLE}
    try:
        detail = EFFECTS[action](case, at, fields, ctx)
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
    case: Case | None
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
    event = apply(draft, action, actor=actor, at=at, note=note, lon=lon, lat=lat, sla=sla,
                  metric_crs=metric_crs, check_assignee=lambda kind, ident: _check_assignee(session, kind, ident),
                  **fields)
    changes = {name: value for name in _MUTABLE if (value := getattr(draft, name)) != getattr(case, name)}
    connection = session.connection()
    try:
        result = connection.execute(_update_statement(tuple(changes), connection.dialect.name), {
            **changes, "case_key": case.id, "reported_read": case.reported_at, "version_read": old_version})
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
_INSERT_EVENT = insert(table_of(CaseEvent))
_SELECT_CASE = select(Case).where(Case.id == bindparam("case_key"))
_UPDATES: dict[tuple[str, ...], Any] = {}


def _update_statement(names: tuple[str, ...], dialect: str) -> Any:
    """``UPDATE cases SET <names> WHERE id = :case_key AND version = :version_read``, built once per
    set of changed columns (statement construction is most of a transition's CPU otherwise).
    On PostgreSQL also ``AND reported_at = :reported_read``: the report time (never changed by an
    action) takes it straight to the case's month partition instead of probing every month's key
    (SQLite compares its stored text, whose format raw SQL may have chosen: left out there)."""
    statement = _UPDATES.get((dialect, *names))
    if statement is None:
        table = table_of(Case)
        statement = update(table).where(table.c.id == bindparam("case_key"),
                                        table.c.version == bindparam("version_read"))
        if dialect == "postgresql":
            statement = statement.where(table.c.reported_at == bindparam("reported_read"))
        statement = statement.values({name: bindparam(name) for name in names})
        _UPDATES[(dialect, *names)] = statement
    return statement
