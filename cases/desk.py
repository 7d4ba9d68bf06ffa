"""The grid chief's desk (派单台): what needs a decision in the caller's area, most urgent first, and
dispatching a case to its suggested assignee in one step.

Queues (a case may stand in several):

- ``to_dispatch``: reported or registered cases (立案、派遣);
- ``unrouted``: cases without an assignee waiting in the unrouted queue, with the routing reason;
- ``returned``: cases a worker sent back (退单), with the reason;
- ``extensions``: extension requests (延期申请) to approve or refuse;
- ``due``: dispatched cases overdue or due soon (超期、临期).

Urgency: emergencies first, then priority, then the least time left before the pending deadline
(cases without one by how long they have waited), then the oldest report.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from cases import queries
from cases.commands import act
from cases.deadlines import annotate_due
from cases.queries import CaseFilter, CaseView
from cases.suggest import Suggestion
from core import constants
from core.errors import InputError

#: The desk's queues, in tab order.
QUEUES: tuple[str, ...] = ("to_dispatch", "unrouted", "returned", "extensions", "due")
_PRIORITY_RANK = {key: rank for rank, key in enumerate(constants.PRIORITIES)}
#: Most rows a queue reads (the desk shows the most urgent first).
QUEUE_LIMIT = 5000


def by_urgency(cases: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``cases`` with ``hours_left`` and ``due`` columns, most urgent first."""
    out = annotate_due(cases, now)
    waited = (now - pd.to_datetime(out["reported_at"])).dt.total_seconds() / 3600
    key = pd.DataFrame({
        "emergency": (out["category"] != "emergency").astype(int),
        "priority": out["priority"].map(_PRIORITY_RANK).fillna(len(_PRIORITY_RANK)),
        "left": out["hours_left"].fillna(-waited),
        "reported": pd.to_datetime(out["reported_at"]),
    }, index=out.index)
    order = key.sort_values(["emergency", "priority", "left", "reported"], kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _queue_filter(queue: str) -> CaseFilter:
    if queue == "to_dispatch":
        return CaseFilter(states=("reported", "registered"))
    if queue == "unrouted":
        return CaseFilter(unrouted=True)
    if queue == "returned":
        return CaseFilter(states=("returned",))
    return CaseFilter(states=tuple(sorted(constants.OPEN_STATES - {"reported", "registered", "returned"})))


def queue(session: Session, scope: Scope, name: str, *, now: datetime, limit: int = QUEUE_LIMIT) -> pd.DataFrame:
    """One queue of the desk in the caller's scope, most urgent first (columns of
    ``cases.queries.CASE_COLUMNS`` plus ``due`` and ``hours_left``)."""
    if name not in QUEUES:
        raise InputError("queue", f"unknown desk queue {name!r}", f"use one of {', '.join(QUEUES)}")
    rows = queries.list_cases(session, scope, _queue_filter(name), limit=limit)
    if name == "extensions":
        rows = rows.loc[rows["extension_state"] == "requested"]
    ordered = by_urgency(rows, now)
    if name == "due":
        ordered = ordered.loc[ordered["due"].isin(("overdue", "soon"))].reset_index(drop=True)
    return ordered


def queues(session: Session, scope: Scope, *, now: datetime, limit: int = QUEUE_LIMIT) -> dict[str, pd.DataFrame]:
    """Every queue of :data:`QUEUES` (see :func:`queue`)."""
    return {name: queue(session, scope, name, now=now, limit=limit) for name in QUEUES}


def dispatch_suggested(session: Session, actor: Scope, case: CaseView, suggestion: Suggestion, *,
                       community_streets: dict[str, str] | None = None, note: str | None = None) -> CaseView:
    """Dispatch ``case`` to its suggested assignee through :func:`cases.commands.act` (registering a
    reported case first); the caller commits.

    Raises
    ------
    core.errors.InputError
        The suggestion names nobody, or the case is past dispatching.
    """
    if suggestion.assignee_kind is None or suggestion.assignee_id is None:
        raise InputError("suggestion", f"case {case.id} has no suggested assignee",
                         "pick an assignee by hand in the case panel")
    if case.state not in ("reported", "registered", "returned"):
        raise InputError("case", f"case {case.id} is {case.state}, not waiting for dispatch",
                         "reassign it from the case panel instead")
    if case.state == "reported":
        case = act(session, actor, case.id, "register", case.version)
    return act(session, actor, case.id, "dispatch", case.version, note=note, community_streets=community_streets,
               assignee_kind=suggestion.assignee_kind, assignee_id=suggestion.assignee_id)
