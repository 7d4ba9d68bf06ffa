"""THE table of case actions: from which states each applies, where it leads, which fields it takes.

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
    (dispatched … rework), supervise (督办; any open state), escalate (超期升级; any open state,
    taken by the scheduled job of :mod:`cases.escalation` only).

Who may take an action is not decided here but in the permission table, :mod:`access.policy`;
how an action changes a case is :mod:`cases.lifecycle`. Forms are generated from this table:
each field names the input it needs (:data:`FIELD_INPUTS`), the page draws one widget per input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import constants

#: Kinds of assignee a case can have.
ASSIGNEE_KINDS: tuple[str, ...] = ("worker", "department", "chief")
#: States in which extensions can be requested and decided.
_WORKING_STATES = frozenset({"dispatched", "accepted", "on_site", "handled", "rework"})
#: Open states in which nobody has reached the scene yet (before ``on_site``).
UNREACHED_STATES: frozenset[str] = frozenset({"reported", "registered", "dispatched", "returned", "accepted"})
#: Label of the event written when a case enters the store (not an action one can take).
REPORT_EVENT = "report"
#: The input a form draws for each action field: ``assignee`` (picker of ``cases.assignees``),
#: ``position`` (the worker's GPS fix, typed lon/lat, or "no GPS fix"), ``reason`` (text),
#: ``satisfaction`` (one of ``core.constants.SATISFACTION``), ``until`` (a date), ``photos``.
FIELD_INPUTS: dict[str, str] = {
    "assignee_kind": "assignee",
    "assignee_id": "assignee",
    "lon": "position",
    "lat": "position",
    "no_fix": "position",
    "source": "position",
    "reason": "reason",
    "satisfaction": "satisfaction",
    "until": "until",
    "photos": "photos",
    "member_id": "team_member",
    "level": "system",  # escalate: taken by the scheduled job, never from a form
    "to": "system",
}


@dataclass(frozen=True)
class Action:
    """One row of the transition table.

    ``to_state`` None means a side action that keeps the state. ``required`` and ``optional``
    name the keyword fields the action takes (``cases.lifecycle.transition``).
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

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs of the action's form, in field order (empty: a plain button)."""
        return tuple(dict.fromkeys(FIELD_INPUTS[name] for name in (*self.required, *self.optional)))


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
        _a("arrive", "到场", "Arrive on site", {"accepted"}, "on_site", optional=("lon", "lat", "no_fix", "source")),
        _a("handle", "处置", "Handle", {"accepted", "on_site", "rework"}, "handled", optional=("photos",)),
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
        _a("cohandle", "协办", "Add a co-handler", constants.OPEN_STATES - {"reported", "voided"}, None,
           required=("member_id",)),
        _a("escalate", "超期升级", "Escalate (overdue)", constants.OPEN_STATES, None, required=("level",),
           optional=("to",)),
    )
}


def guard(case: Any, action: str) -> str | None:
    """Why ``action`` is not possible on ``case`` beyond its state, or None.

    ``case`` is a :class:`store.models.Case` or any object with its attributes (a
    ``cases.queries.CaseView``).
    """
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


def available_actions(case: Any) -> list[str]:
    """The actions legal on ``case`` now, in table order (roles are not checked here)."""
    return [key for key, a in ACTIONS.items() if case.state in a.from_states and guard(case, key) is None]


def awaiting_arrival(state: str, category: str) -> bool:
    """True for an emergency (突发) that is open and nobody has reached yet (before on_site)."""
    return category == "emergency" and state in UNREACHED_STATES
