"""Who may take which case action, on top of the state machine of :mod:`cases.lifecycle`.

The states an action applies to come from :data:`cases.lifecycle.ACTIONS` (no second state
table here); this module only adds the role filter and the "emergency nobody has reached yet"
rule used by the command map.

========== ==============================================================================
role       actions
========== ==============================================================================
admin      register, void, dispatch, reassign (改派), verify, rework, follow_up, reopen, close,
commander  archive, approve/refuse extensions; commander also supervise (督办) (the lifecycle's
           ``SUPERVISE_ROLES`` does not include admin)
chief      dispatch and reassign (within the area), verify, rework, approve/refuse extensions,
           supervise
worker     accept, return (退单), arrive, handle, request extension - only on cases
           assigned to the worker
leader     supervise only
========== ==============================================================================
"""

from __future__ import annotations

from typing import Any

from cases.lifecycle import ACTIONS, SUPERVISE_ROLES, available_actions
from core import constants
from core.errors import InputError

_COMMAND = frozenset({"register", "void", "dispatch", "reassign", "verify", "rework", "follow_up", "reopen", "close",
                      "archive", "approve_extension", "refuse_extension"})
_BY_ROLE: dict[str, frozenset[str]] = {
    "admin": _COMMAND,
    "commander": _COMMAND,
    "chief": frozenset({"dispatch", "reassign", "verify", "rework", "approve_extension", "refuse_extension"}),
    "worker": frozenset({"accept", "return", "arrive", "handle", "request_extension"}),
    "leader": frozenset(),
}
#: Actions each role of ``core.constants.ROLES`` may take (states are checked by the lifecycle);
#: supervise (督办) goes to the lifecycle's ``SUPERVISE_ROLES``.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    role: actions | ({"supervise"} if role in SUPERVISE_ROLES else set()) for role, actions in _BY_ROLE.items()
}
#: Actions that only the worker a case is assigned to may take.
ASSIGNEE_ONLY: frozenset[str] = ROLE_ACTIONS["worker"]
#: Open states in which nobody has reached the scene yet (before ``on_site``).
UNREACHED_STATES: frozenset[str] = frozenset({"reported", "registered", "dispatched", "returned", "accepted"})


def _role_actions(role: str) -> frozenset[str]:
    if role not in ROLE_ACTIONS:
        raise InputError("role", f"unknown role {role!r}", f"use one of {', '.join(ROLE_ACTIONS)}")
    return ROLE_ACTIONS[role]


def actions_for(case_state: str, category: str, role: str) -> list[str]:
    """Actions ``role`` may take on a case in ``case_state`` of ``category``, in table order.

    Parameters
    ----------
    case_state : str
        Key of ``core.constants.STATES``.
    category : str
        Key of ``core.constants.CATEGORIES``; an arrival-required category cannot be handled
        straight from ``accepted``.
    role : str
        Key of ``core.constants.ROLES``.

    Returns
    -------
    list of str
        Keys of :data:`cases.lifecycle.ACTIONS`. Guards that depend on the case row (an
        extension pending, already supervised, assignment) are left to :func:`actions_for_case`.
    """
    allowed = _role_actions(role)
    out = []
    for key, spec in ACTIONS.items():
        if key not in allowed or case_state not in spec.from_states:
            continue
        if key == "handle" and case_state == "accepted" and category in constants.ARRIVAL_REQUIRED_CATEGORIES:
            continue
        out.append(key)
    return out


def actions_for_case(case: Any, role: str, *, worker_id: str | None = None) -> list[str]:
    """Actions ``role`` may take on ``case`` now: :func:`cases.lifecycle.available_actions`
    (state and guards) filtered by role; a worker's actions need the case assigned to
    ``worker_id`` (``assignee_kind`` ``worker``).

    ``case`` is a :class:`store.models.Case` (or any object with its attributes).
    """
    allowed = _role_actions(role)
    assigned = (worker_id is not None and getattr(case, "assignee_kind", None) == "worker"
                and str(getattr(case, "assignee_id", "")) == str(worker_id))
    return [key for key in available_actions(case)
            if key in allowed and (role != "worker" or key not in ASSIGNEE_ONLY or assigned)]


def awaiting_arrival(state: str, category: str) -> bool:
    """True for an emergency (突发) that is open and nobody has reached yet (before on_site)."""
    return category == "emergency" and state in UNREACHED_STATES
