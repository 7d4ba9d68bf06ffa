"""China's working calendar: is a date a working day, and a time plus N working days.

Working days follow the State Council's yearly holiday notice as bundled in the
``chinese-calendar`` package (春节, 国庆 … off; the make-up working days, 调休, on, even on a
Saturday or Sunday). For a year the package has no data for, Monday to Friday are working days
and a warning is logged once per year. The ``[calendar]`` table of ``gridcommand.toml``
(:class:`core.settings.CalendarSettings`) adds local days off (``holidays``) and working days
(``workdays``); they win over the package.

Examples
--------
>>> from datetime import date, datetime
>>> cal = WorkingCalendar()
>>> cal.is_working_day(date(2026, 10, 1)), cal.is_working_day(date(2026, 10, 10))
(False, True)
>>> cal.add_working_days(datetime(2026, 9, 30, 9, 0), 1)
datetime.datetime(2026, 10, 8, 9, 0)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

from core.settings import CalendarSettings, Settings, current_settings

log = logging.getLogger(__name__)

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=8192)
def _national(day: date) -> bool | None:
    """Whether ``day`` is a working day by the package's data; None for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _day(value: date) -> date:
    """The calendar day of a date or datetime."""
    return value.date() if isinstance(value, datetime) else value


class WorkingCalendar:
    """China's working days with local overrides.

    Parameters
    ----------
    holidays : iterable of date
        Extra days off (they win over the national calendar).
    workdays : iterable of date
        Extra working days (they win over the national calendar and weekends).
    """

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(_day(d) for d in holidays)
        self.workdays = frozenset(_day(d) for d in workdays)
        self._warned: set[int] = set()

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> WorkingCalendar:
        """The calendar with the overrides of a ``[calendar]`` settings table."""
        return cls(settings.holidays, settings.workdays)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a date or datetime) is a working day.

        Overrides first, then the national calendar, then (years it does not cover) Monday to
        Friday, with one logged warning per such year.
        """
        day = _day(day)
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        national = _national(day)
        if national is not None:
            return national
        if day.year not in self._warned:
            self._warned.add(day.year)
            log.warning("chinese-calendar has no holiday data for %d: counting Monday to Friday as working days "
                        "that year; upgrade chinese-calendar or list %d's days off and make-up working days "
                        "under [calendar] holidays/workdays in gridcommand.toml", day.year, day.year)
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        day = _day(day)
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """``start`` plus ``days`` working days (24 h each; days off skipped).

        A start on a day off counts from the next working day 00:00. Fractions are hours of a
        day. Naive local datetimes.
        """
        t = start
        if not self.is_working_day(t):
            t = datetime.combine(self.next_working_day(t.date()), time.min)
        remaining = timedelta(days=days)
        while remaining > timedelta(0):
            end_of_day = datetime.combine(t.date() + _ONE_DAY, time.min)
            step = min(remaining, end_of_day - t)
            t += step
            remaining -= step
            if remaining > timedelta(0):
                t = datetime.combine(self.next_working_day(end_of_day.date()), time.min)
        return t


_CONFIGURED: list[tuple[Settings, WorkingCalendar]] = []  # (the settings it was built from, the calendar)


def configured_calendar() -> WorkingCalendar:
    """The working calendar with the settings file's ``[calendar]`` overrides, built again only
    when the file changes (deadlines are computed on every dispatch)."""
    settings = current_settings()
    if not _CONFIGURED or _CONFIGURED[0][0] is not settings:
        _CONFIGURED[:] = [(settings, WorkingCalendar.from_settings(settings.calendar))]
    return _CONFIGURED[0][1]


def is_working_day(day: date, calendar: WorkingCalendar | None = None) -> bool:
    """Whether ``day`` is a working day (default calendar: :func:`configured_calendar`)."""
    return (calendar or configured_calendar()).is_working_day(day)


def add_working_days(start: datetime, days: float, calendar: WorkingCalendar | None = None) -> datetime:
    """``start`` plus ``days`` working days (default calendar: :func:`configured_calendar`).

    See :meth:`WorkingCalendar.add_working_days`.
    """
    return (calendar or configured_calendar()).add_working_days(start, days)
