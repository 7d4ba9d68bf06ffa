"""The case store's clock: naive datetimes in the district's local time (China Standard Time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core import constants


def now() -> datetime:
    """The current local time (``core.constants.LOCAL_TIMEZONE``) as a naive datetime, to the second."""
    return datetime.now(ZoneInfo(constants.LOCAL_TIMEZONE)).replace(tzinfo=None, microsecond=0)
