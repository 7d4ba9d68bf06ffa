"""The visits of a period with their verdicts (走访记录): on site or not, suspicious or not, verified;
for the chief who checks them. Scoped, masked, not for leaders."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from access.protect import protect
from access.scope import Scope
from core.settings import Settings, load_settings
from registry.periods import Period, month_window
from registry.population import load_visits, person_ids
from registry.suspicion import flag_suspicious
from store.models import Household
from store.query import limit_rows, rows_frame, select_columns

#: Columns of :func:`checked_visits`.
CHECKED_VISIT_COLUMNS: tuple[str, ...] = (
    "id", "at", "household_id", "head_name", "category", "building_code", "grid_code", "worker_id", "distance_m",
    "on_site", "suspicious", "suspicion", "verified", "outcome",
)
_PERSON = ("id", "head_name", "category", "building_code", "grid_code", "community_code", "street_code")


def checked_visits(session: Session, scope: Scope, period: Period, *, worker_id: str | None = None,
                   settings: Settings | None = None, limit: int | None = 200) -> pd.DataFrame:
    """The visits of ``period`` to the persons of the caller's scope, newest first, with verdicts.

    ``on_site``: within ``[registry] on_site_m`` of the home; ``suspicious``/``suspicion``: see
    :mod:`registry.suspicion` (judged over all the period's visits of the same workers);
    ``verified``: on site and not suspicious. Names masked, outcomes scrubbed of numbers.

    Raises
    ------
    core.errors.PermissionDenied
        For roles without record rights (leaders).
    """
    scope.require_records()
    settings = settings or load_settings()
    rules = settings.registry
    start, end = month_window(period)
    flagged = flag_suspicious(load_visits(session, scope, start, end), max_speed_kmh=rules.max_speed_kmh,
                              min_distance_m=rules.on_site_m, shared_position_visits=rules.shared_position_visits,
                              metric_crs=settings.metric_crs)
    persons = rows_frame(session, select_columns(Household, _PERSON).where(Household.id.in_(person_ids(scope))),
                         _PERSON)
    visits = flagged.merge(persons.rename(columns={"id": "household_id"}), on="household_id", how="inner")
    visits = visits.loc[[scope.allows(grid_code=g, community_code=c, street_code=s) for g, c, s in
                         zip(visits["grid_code"], visits["community_code"], visits["street_code"], strict=True)]]
    if worker_id:
        visits = visits.loc[visits["worker_id"] == str(worker_id)]
    visits["on_site"] = visits["distance_m"].notna() & (visits["distance_m"].astype(float) <= rules.on_site_m)
    visits["verified"] = visits["on_site"] & ~visits["suspicious"]
    visits = visits.sort_values(["at", "id"], ascending=[False, True]).head(limit_rows(limit))
    return protect(visits[list(CHECKED_VISIT_COLUMNS)].reset_index(drop=True), "visit", scope)
