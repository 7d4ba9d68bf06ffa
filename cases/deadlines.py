"""Deadlines per category and priority, and the computed due status (never stored).

The clock starts at dispatch. For a category with SLA ``s`` and a priority with factor ``f``
(``core.constants.PRIORITY_FACTORS``):

- respond due = dispatched + ``s.respond_minutes`` x f minutes (clock time);
- arrive due  = dispatched + ``s.arrive_minutes`` x f minutes (clock time);
- close due   = dispatched + ``s.close_working_days`` x f working days on China's working
  calendar (:mod:`cases.calendar`: weekends and public holidays such as 春节 and 国庆 do not
  count, make-up working days (调休) do; local overrides under ``[calendar]``).

Defaults come from ``core.constants.SLA_DEFAULTS``; ``gridcommand.toml`` may override them per
category in ``[sla.<category>]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd

from cases import calendar as working_calendar
from cases.calendar import WorkingCalendar
from core import constants
from core.constants import Sla
from core.errors import InputError

#: Due statuses: ``ok`` (green), ``soon`` (yellow: less than ``SOON_DUE_SHARE`` of the time
#: left), ``overdue`` (red).
DUE_STATUSES: tuple[str, ...] = ("ok", "soon", "overdue")


@dataclass(frozen=True)
class Deadlines:
    """The three deadlines of a dispatched case (naive local datetimes)."""

    respond_due: datetime
    arrive_due: datetime
    close_due: datetime


def sla_table(overrides: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, Sla]:
    """The effective SLA of every category.

    Parameters
    ----------
    overrides : mapping, optional
        ``{category: {field: value}}`` with fields of :class:`core.constants.Sla`; default the
        ``sla`` table of the settings file.

    Returns
    -------
    dict of str to Sla
    """
    if overrides is None:
        return _configured_sla()
    table = dict(constants.SLA_DEFAULTS)
    allowed = {f.name for f in fields(Sla)}
    for category, values in overrides.items():
        if category not in table:
            raise InputError("gridcommand.toml", f"[sla.{category}] is not a category",
                             f"use one of {', '.join(constants.CATEGORIES)}")
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise InputError("gridcommand.toml", f"[sla.{category}] has unknown key(s) {', '.join(unknown)}",
                             f"use only {', '.join(sorted(allowed))}")
        bad = [k for k, v in values.items() if not isinstance(v, int) or isinstance(v, bool) or v <= 0]
        if bad:
            raise InputError("gridcommand.toml", f"[sla.{category}] {', '.join(bad)} must be a positive integer",
                             "write whole minutes or working days, e.g. arrive_minutes = 30")
        table[category] = replace(table[category], **values)
    return table


#: The SLA table built from the current settings, with those settings.
_CONFIGURED: list[tuple[Any, dict[str, Sla]]] = []


def _configured_sla() -> dict[str, Sla]:
    """The settings file's SLA table, built again only when the file changes (dispatch is hot)."""
    from core.settings import current_settings

    settings = current_settings()
    if not _CONFIGURED or _CONFIGURED[0][0] is not settings:
        _CONFIGURED[:] = [(settings, sla_table(settings.sla))]
    return dict(_CONFIGURED[0][1])


def add_working_days(start: datetime, days: float, *, calendar: WorkingCalendar | None = None) -> datetime:
    """``start`` plus ``days`` working days (24 h each; weekends and public holidays skipped,
    make-up working days counted).

    A start on a day off counts from the next working day 00:00. Fractions are hours of a day.

    Parameters
    ----------
    start : datetime
        Naive local time.
    days : float
        Working days to add.
    calendar : WorkingCalendar, optional
        Default :func:`cases.calendar.configured_calendar` (national calendar + ``[calendar]``).

    Returns
    -------
    datetime
    """
    return working_calendar.add_working_days(start, days, calendar)


def compute_deadlines(
    category: str,
    priority: str,
    dispatched_at: datetime,
    *,
    sla: Mapping[str, Sla] | None = None,
) -> Deadlines:
    """Deadlines of a case dispatched at ``dispatched_at``.

    Parameters
    ----------
    category : str
        Key of ``core.constants.CATEGORIES``.
    priority : str
        Key of ``core.constants.PRIORITIES``.
    dispatched_at : datetime
        Start of the clock (naive local time).
    sla : mapping, optional
        Category SLAs; default :func:`sla_table`.

    Returns
    -------
    Deadlines
    """
    table = sla if sla is not None else sla_table()
    if category not in table:
        msg = f"unknown category {category!r}; expected one of {', '.join(table)}"
        raise ValueError(msg)
    if priority not in constants.PRIORITY_FACTORS:
        msg = f"unknown priority {priority!r}; expected one of {', '.join(constants.PRIORITY_FACTORS)}"
        raise ValueError(msg)
    s = table[category]
    factor = constants.PRIORITY_FACTORS[priority]
    return Deadlines(
        respond_due=dispatched_at + timedelta(minutes=s.respond_minutes * factor),
        arrive_due=dispatched_at + timedelta(minutes=s.arrive_minutes * factor),
        close_due=add_working_days(dispatched_at, s.close_working_days * factor),
    )


class _CaseLike(Protocol):
    """What the deadline rules read of a case (a ``store.models.Case``, a ``cases.queries.CaseView``)."""

    @property
    def state(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def dispatched_at(self) -> datetime | None: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def arrived_at(self) -> datetime | None: ...
    @property
    def respond_due(self) -> datetime | None: ...
    @property
    def arrive_due(self) -> datetime | None: ...
    @property
    def close_due(self) -> datetime | None: ...
    @property
    def extension_state(self) -> str | None: ...
    @property
    def extended_close_due(self) -> datetime | None: ...


def effective_close_due(case: _CaseLike) -> datetime | None:
    """The close deadline in force: the extended one once an extension is approved."""
    if case.extension_state == "approved" and case.extended_close_due is not None:
        return case.extended_close_due
    return case.close_due


#: States in which the respond deadline is the one pending (not yet accepted).
_RESPOND_STATES = frozenset({"dispatched", "returned"})
#: States in which the arrive deadline may be the pending one.
_ARRIVE_STATES = frozenset({"accepted"})


def pending_deadline(case: _CaseLike) -> tuple[str, datetime] | None:
    """The next deadline a case must meet: ``('respond'|'arrive'|'close', due)`` or ``None``.

    None for cases not yet dispatched and for closed or voided ones. Dispatched but not
    accepted: respond. Accepted, arrival required and not yet on site: arrive. Otherwise close.
    """
    if case.state not in constants.OPEN_STATES or case.dispatched_at is None:
        return None
    if case.state in _RESPOND_STATES and case.respond_due is not None:
        return "respond", case.respond_due
    if (
        case.state in _ARRIVE_STATES
        and case.category in constants.ARRIVAL_REQUIRED_CATEGORIES
        and case.arrived_at is None
        and case.arrive_due is not None
    ):
        return "arrive", case.arrive_due
    due = effective_close_due(case)
    return ("close", due) if due is not None else None


def due_status(case: _CaseLike, now: datetime) -> str:
    """``'ok'``, ``'soon'`` or ``'overdue'`` for the pending deadline of ``case`` at ``now``.

    Overdue when ``now`` is past the pending deadline (:func:`pending_deadline`); soon when less
    than ``core.constants.SOON_DUE_SHARE`` of the span from dispatch to that deadline is left;
    ok otherwise, and for cases with no pending deadline.
    """
    pending = pending_deadline(case)
    if pending is None:
        return "ok"
    _, due = pending
    if now > due:
        return "overdue"
    if case.dispatched_at is None:
        return "ok"
    span = (due - case.dispatched_at).total_seconds()
    left = (due - now).total_seconds()
    if span > 0 and left < constants.SOON_DUE_SHARE * span:
        return "soon"
    return "ok"


#: Case fields the deadline rules read; a frame without one of them counts it as unset.
DEADLINE_FIELDS: tuple[str, ...] = ("state", "category", "dispatched_at", "accepted_at", "arrived_at", "respond_due",
                                    "arrive_due", "close_due", "extension_state", "extended_close_due")
class _DeadlineRow(NamedTuple):
    """One case's deadline fields (the order of :data:`DEADLINE_FIELDS`)."""

    state: Any
    category: Any
    dispatched_at: Any
    accepted_at: Any
    arrived_at: Any
    respond_due: Any
    arrive_due: Any
    close_due: Any
    extension_state: Any
    extended_close_due: Any


def annotate_due(cases: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``cases`` plus, at ``now``: ``due`` (ok/soon/overdue, :func:`due_status`), ``due_kind``
    (respond/arrive/close or None) and ``due_at`` of the pending deadline (:func:`pending_deadline`),
    ``hours_left`` until it (negative: overdue by; NaN: none) and ``arrival_pending``.

    Only :data:`DEADLINE_FIELDS` are read per row (missing columns count as unset).
    """
    out = cases.copy()
    n = len(cases)
    columns = []
    for name in DEADLINE_FIELDS:
        if name in cases.columns:
            column = cases[name]
            values = column.astype(object).to_numpy(copy=True)
            values[column.isna().to_numpy()] = None
        else:
            values = np.full(n, None, dtype=object)
        columns.append(values)
    due, kinds, ats, left = [], [], [], []
    for values in zip(*columns, strict=True):
        case = _DeadlineRow(*values)
        due.append(due_status(case, now))
        pending = pending_deadline(case)
        kinds.append(pending[0] if pending else None)
        ats.append(pending[1] if pending else None)
        left.append((pending[1] - now).total_seconds() / 3600 if pending else np.nan)
    out["due"] = pd.Series(due, index=cases.index, dtype=object)
    out["due_kind"] = pd.Series(kinds, index=cases.index, dtype=object)
    out["due_at"] = pd.Series(pd.to_datetime(pd.Series(ats, dtype=object)).to_numpy(), index=cases.index)
    out["hours_left"] = pd.Series(left, index=cases.index, dtype=float)
    out["arrival_pending"] = out["due_kind"] == "arrive"
    return out
