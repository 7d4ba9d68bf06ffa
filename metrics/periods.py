"""Reporting periods of the leaders' briefing: ISO weeks, calendar months and quarters.

A period is written ``2026-W27`` (ISO week, Monday to Sunday), ``2026-11`` (month) or ``2026-Q4``
(quarter) and is the half-open local-time window ``[start, end)``. Comparisons (formulas
``change_mom`` and ``change_yoy`` in :data:`metrics.formulas.FORMULAS`):

- 环比 (period on period): the period just before, of the same kind;
- 同比 (year on year): the same period a year before (the same ISO week number, month or quarter).

While a period is still running, it counts whole days up to and including today, and each
comparison counts as many days from the start of its own period (never past its end), so that a
half-finished month is not compared with a whole one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.errors import InputError

#: Period kinds and how each is written.
KINDS: dict[str, str] = {"week": "YYYY-Www, e.g. 2026-W27", "month": "YYYY-MM, e.g. 2026-11",
                         "quarter": "YYYY-Qn, e.g. 2026-Q4"}
_PATTERNS: dict[str, re.Pattern[str]] = {
    "week": re.compile(r"(\d{4})-W(\d{2})"),
    "month": re.compile(r"(\d{4})-(\d{2})"),
    "quarter": re.compile(r"(\d{4})-Q([1-4])"),
}


@dataclass(frozen=True)
class Window:
    """A half-open window ``[since, until)`` of local time, on whole days."""

    since: datetime
    until: datetime

    @property
    def days(self) -> int:
        """Whole days in the window."""
        return (self.until - self.since).days


@dataclass(frozen=True)
class Period:
    """One week, month or quarter.

    Attributes
    ----------
    kind : str
        ``week``, ``month`` or ``quarter``.
    year, number : int
        The (ISO) year and the week, month or quarter number.
    """

    kind: str
    year: int
    number: int

    @property
    def label(self) -> str:
        """How the period is written: ``2026-W27``, ``2026-11`` or ``2026-Q4``."""
        if self.kind == "week":
            return f"{self.year}-W{self.number:02d}"
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> datetime:
        """Midnight of the period's first day."""
        if self.kind == "week":
            return datetime.combine(date.fromisocalendar(self.year, self.number, 1), datetime.min.time())
        month = self.number if self.kind == "month" else 3 * self.number - 2
        return datetime(self.year, month, 1)

    @property
    def end(self) -> datetime:
        """Midnight after the period's last day (excluded)."""
        return self.following().start

    def following(self) -> Period:
        """The next period of the same kind."""
        if self.kind == "week":
            monday = (self.start + timedelta(days=7)).date().isocalendar()
            return Period("week", monday.year, monday.week)
        last = 12 if self.kind == "month" else 4
        if self.number == last:
            return Period(self.kind, self.year + 1, 1)
        return Period(self.kind, self.year, self.number + 1)

    def previous(self) -> Period:
        """The period just before, of the same kind (环比)."""
        if self.kind == "week":
            monday = (self.start - timedelta(days=7)).date().isocalendar()
            return Period("week", monday.year, monday.week)
        last = 12 if self.kind == "month" else 4
        if self.number == 1:
            return Period(self.kind, self.year - 1, last)
        return Period(self.kind, self.year, self.number - 1)

    def year_ago(self) -> Period:
        """The same period a year before (同比); ISO week 53 falls back to week 52 in a year without it."""
        if self.kind == "week":
            weeks = date(self.year - 1, 12, 28).isocalendar().week
            return Period("week", self.year - 1, min(self.number, weeks))
        return Period(self.kind, self.year - 1, self.number)

    def window(self, now: datetime) -> Window:
        """The period up to ``now``: whole, or up to the end of today while it runs."""
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
        return Window(self.start, max(self.start, min(self.end, tomorrow)))

    def comparison_window(self, days: int) -> Window:
        """The first ``days`` whole days of this period (the whole period at most)."""
        return Window(self.start, min(self.end, self.start + timedelta(days=days)))

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in the period."""
        return self.start <= moment < self.end


def parse_period(text: str, kind: str | None = None, *, argument: str = "--period") -> Period:
    """A period from its written form (``2026-W27``, ``2026-11``, ``2026-Q4``).

    Parameters
    ----------
    text : str
        The written period.
    kind : str, optional
        The kind it must be (``week``, ``month``, ``quarter``); any kind when None.
    argument : str
        What the text came from, for the error message.

    Raises
    ------
    core.errors.InputError
        Not a period, not a real week/month, or a period of another kind.
    """
    value = str(text).strip().upper()
    for found, pattern in _PATTERNS.items():
        match = pattern.fullmatch(value)
        if match is None:
            continue
        year, number = int(match.group(1)), int(match.group(2))
        if kind is not None and found != kind:
            raise InputError(argument, f"{text!r} is a {found}, not a {kind}", f"write it as {KINDS[kind]}")
        if not _exists(found, year, number):
            raise InputError(argument, f"no such {found}: {text!r}", f"write it as {KINDS[found]}")
        return Period(found, year, number)
    wanted = KINDS[kind] if kind in KINDS else "; ".join(KINDS.values())
    raise InputError(argument, f"not a period: {text!r}", f"write it as {wanted}")


def _exists(kind: str, year: int, number: int) -> bool:
    if kind == "week":
        return 1 <= number <= date(year, 12, 28).isocalendar().week
    return 1 <= number <= (12 if kind == "month" else 4)


def period_of(kind: str, moment: datetime) -> Period:
    """The period of ``kind`` that contains ``moment``."""
    if kind == "week":
        iso = moment.date().isocalendar()
        return Period("week", iso.year, iso.week)
    if kind == "month":
        return Period("month", moment.year, moment.month)
    if kind == "quarter":
        return Period("quarter", moment.year, (moment.month - 1) // 3 + 1)
    raise InputError("period kind", f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")


def last_complete(kind: str, now: datetime) -> Period:
    """The latest period of ``kind`` that ended before ``now`` (what a report is usually about)."""
    return period_of(kind, now).previous()


def recent_periods(kind: str, now: datetime, count: int = 6) -> list[Period]:
    """The running period of ``kind`` and the ``count - 1`` before it, newest first."""
    periods = [period_of(kind, now)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


@dataclass(frozen=True)
class Comparison:
    """The windows a briefing compares: the period itself, 环比 and 同比."""

    period: Period
    current: Window
    previous: Window
    year_ago: Window


def comparison(period: Period, now: datetime) -> Comparison:
    """The period's window at ``now`` and its two comparison windows of as many days."""
    current = period.window(now)
    return Comparison(period, current, period.previous().comparison_window(current.days),
                      period.year_ago().comparison_window(current.days))

