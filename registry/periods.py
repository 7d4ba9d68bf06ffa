"""Periods of the four-visit figures: a calendar month written ``YYYY-MM``, or a window ``[start, end)``."""

from __future__ import annotations

from datetime import datetime

from core.clock import add_months
from core.errors import InputError

#: A month ``"YYYY-MM"`` or a half-open window ``(start, end)`` of naive local times.
Period = str | tuple[datetime, datetime]


def month_window(period: Period) -> tuple[datetime, datetime]:
    """``"YYYY-MM"`` (or a ``(start, end)`` pair) as a half-open window ``[start, end)``."""
    if isinstance(period, tuple):
        start, end = period
        if not start < end:
            raise InputError("period", f"start {start} is not before end {end}", "swap or correct the dates")
        return start, end
    try:
        start = datetime.strptime(str(period), "%Y-%m")
    except ValueError:
        raise InputError("period", f"not a month: {period!r}", "write it as YYYY-MM, e.g. 2026-11") from None
    return start, add_months(start, 1)


def last_months(period: str, count: int) -> list[str]:
    """The ``count`` months ending with ``period`` (``YYYY-MM``), oldest first."""
    start, _ = month_window(period)
    return [add_months(start, k - count + 1).strftime("%Y-%m") for k in range(count)]
