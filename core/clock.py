"""The case store's clock: naive datetimes in the district's local time (China Standard Time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core import constants


def now() -> datetime:
    """The current local time (``core.constants.LOCAL_TIMEZONE``) as a naive datetime, to the second."""
    return datetime.now(ZoneInfo(constants.LOCAL_TIMEZONE)).replace(tzinfo=None, microsecond=0)


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months (the day clamped to the month's length)."""
    if not months:
        return when
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return when.replace(year=year, month=month, day=min(when.day, last_day))
