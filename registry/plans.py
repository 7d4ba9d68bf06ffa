"""Visit plans (走访计划): per responsible worker and period, who is due a visit and by when, what is
overdue, visited or verified (:mod:`registry.schedule`); personal data masked, not for leaders."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.protect import protect
from access.scope import Scope
from core.settings import Settings
from registry.periods import Period
from registry.population import person_ids
from registry.schedule import STATUSES
from registry.status import period_status_of
from store.models import Household
from store.query import limit_rows, rows_frame

#: Columns of :func:`visit_plan`.
PLAN_COLUMNS: tuple[str, ...] = (
    "worker_id", "id", "head_name", "id_number", "phone", "category", "frequency", "building_code", "grid_code",
    "community_code", "due_by", "status", "cycles", "visited_cycles", "verified_cycles", "suspicious",
    "last_visit_at",
)
_DETAILS = ("id", "head_name", "id_number", "phone", "building_code")


def visit_plan(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    worker_id: str | None = None,
    area_code: str | None = None,
    category: str | None = None,
    status: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The persons planned in ``period`` in the caller's scope, the most urgent first.

    Parameters
    ----------
    session : Session
    scope : Scope
        A role with record rights (leaders are refused: :class:`~core.errors.PermissionDenied`).
    period : str or (datetime, datetime)
        ``YYYY-MM`` or a window.
    worker_id : str, optional
        Only the persons this worker is responsible for (at the period's end).
    area_code, category : str, optional
        One street, community or grid; one group.
    status : str, optional
        One of :data:`registry.schedule.STATUSES` (``overdue``, ``due``, ``visited``, ``verified``).
    settings : Settings, optional
    now : datetime, optional
        For what is overdue; default now.
    limit : int, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PLAN_COLUMNS`; ``due_by`` the last day of the earliest cycle still to
        visit (of the last cycle once all are visited); names, ID numbers and phones masked.
    """
    scope.require_records()
    plan = period_status_of(session, scope, period, category=category, area_code=area_code, settings=settings,
                            now=now)
    plan = plan.loc[plan["planned"]]
    if worker_id:
        plan = plan.loc[plan["worker_id"] == str(worker_id)]
    if status:
        plan = plan.loc[plan["status"] == status]
    details = rows_frame(session, select(*(getattr(Household, c) for c in _DETAILS))
                         .where(Household.id.in_(person_ids(scope, category=category))), _DETAILS)
    plan = plan.merge(details, on="id", how="left")
    plan["urgency"] = plan["status"].map({s: i for i, s in enumerate(STATUSES)})
    plan = plan.sort_values(["urgency", "due_by", "grid_code", "id"], na_position="last", kind="stable")
    plan = plan.head(limit_rows(limit)).reset_index(drop=True)
    return protect(plan[list(PLAN_COLUMNS)], "household", scope)
