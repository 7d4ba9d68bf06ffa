"""Reading what a period asked of each person in a scope (:func:`registry.schedule.period_status`)
from the store: one period, or several at once (the trend) reading the store once."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from access.scope import Scope
from core import clock
from core.settings import Settings, load_settings
from registry.groups import registry_groups
from registry.periods import Period, month_window
from registry.population import load_population, load_visits
from registry.schedule import lookback, period_status


def period_statuses(
    session: Session,
    scope: Scope,
    periods: list[Period],
    *,
    category: str | None = None,
    area_code: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> list[pd.DataFrame]:
    """The status frame (:data:`registry.schedule.STATUS_COLUMNS`) of each period, in order.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller; persons are placed where they lived at each period's end.
    periods : list of str or (datetime, datetime)
        ``YYYY-MM`` months or windows.
    category : str, optional
        One group's key.
    area_code : str, optional
        A street, community or grid code inside the scope.
    settings : Settings, optional
        ``registry`` rules and ``metric_crs``; default the configured ones.
    now : datetime, optional
        Local time for what is overdue; default now.
    """
    settings = settings or load_settings()
    now = now or clock.now()
    windows = [month_window(p) for p in periods]
    if not windows:
        return []
    population = load_population(session, scope, category=category)
    since = min(lookback(start, end) for start, end in windows)
    visits = load_visits(session, scope, since, max(end for _, end in windows), category=category)
    groups = registry_groups(settings.registry)
    return [period_status(population, visits, start, end, scope=scope, groups=groups, rules=settings.registry,
                          now=now, metric_crs=settings.metric_crs, area_code=area_code)
            for start, end in windows]


def period_status_of(session: Session, scope: Scope, period: Period, *, category: str | None = None,
                     area_code: str | None = None, settings: Settings | None = None,
                     now: datetime | None = None) -> pd.DataFrame:
    """The status frame of one period (parameters as :func:`period_statuses`)."""
    return period_statuses(session, scope, [period], category=category, area_code=area_code, settings=settings,
                           now=now)[0]
