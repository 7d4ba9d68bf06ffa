"""The person card (一键可知): one registered person as the caller may see them - masked details, the
responsible worker, the household, moves, visit history with the on-site and suspicion verdicts,
open cases at the same address, notes. Not for leaders; "not found" outside the caller's scope.

Open cases "at the same address" are the open cases of the person's building, or located within
the on-site distance of their home. Free text (visit outcomes, case texts, notes) is scrubbed of
phone and ID numbers; revealing a name, phone or ID number is :func:`access.unmask.unmask`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.masking import scrub_text
from access.protect import protect
from access.scope import Scope
from cases.queries import CaseFilter, list_cases
from core.clock import add_months
from core.constants import OPEN_STATES
from core.errors import NotFound
from core.settings import RegistrySettings, Settings, load_settings
from geo.distance import to_metric
from registry.queries import HOUSEHOLD_COLUMNS
from registry.suspicion import flag_suspicious
from store.models import Household, Visit, Worker
from store.models.people import PersonMove, PersonNote, VisitPhoto
from store.query import rows_frame, select_columns

#: Columns of :attr:`PersonCard.visits`.
CARD_VISIT_COLUMNS: tuple[str, ...] = ("id", "at", "worker_id", "distance_m", "on_site", "suspicious", "suspicion",
                                       "verified", "outcome", "photos")
#: Columns of :attr:`PersonCard.open_cases`.
CARD_CASE_COLUMNS: tuple[str, ...] = ("id", "category", "state", "reported_at", "address", "text", "distance_m")
_VISIT_FIELDS = ("id", "household_id", "worker_id", "at", "lon", "lat", "distance_m", "on_site", "outcome")


@dataclass(frozen=True)
class PersonCard:
    """One person's card; ``person`` holds :data:`registry.queries.HOUSEHOLD_COLUMNS` (masked) plus
    ``household_no``, ``registered_at``; ``worker_id`` is the responsible worker now,
    ``worker_by_hand`` whether it was set by hand."""

    person: dict[str, Any]
    worker_id: str | None
    worker_by_hand: bool
    household: pd.DataFrame
    moves: pd.DataFrame
    visits: pd.DataFrame
    open_cases: pd.DataFrame
    notes: pd.DataFrame


def _visits(session: Session, person_id: str, rules: RegistrySettings, metric_crs: str, limit: int) -> pd.DataFrame:
    """The person's latest visits with the verdicts, suspicion judged within their calendar months."""
    mine = rows_frame(session, select_columns(Visit, _VISIT_FIELDS)
                      .where(Visit.household_id == person_id).order_by(Visit.at.desc()).limit(limit), _VISIT_FIELDS)
    if mine.empty:
        return pd.DataFrame(columns=list(CARD_VISIT_COLUMNS))
    times = pd.to_datetime(mine["at"])
    since = times.min().to_period("M").to_timestamp().to_pydatetime()
    until = add_months(times.max().to_period("M").to_timestamp().to_pydatetime(), 1)
    context = rows_frame(session, select_columns(Visit, _VISIT_FIELDS).where(
        Visit.worker_id.in_(sorted(set(mine["worker_id"]))), Visit.at >= since, Visit.at < until), _VISIT_FIELDS)
    context["at"] = pd.to_datetime(context["at"])
    flagged = flag_suspicious(context, max_speed_kmh=rules.max_speed_kmh, min_distance_m=rules.on_site_m,
                              shared_position_visits=rules.shared_position_visits, metric_crs=metric_crs)
    out = flagged.loc[flagged["household_id"] == person_id].sort_values("at", ascending=False)
    out["on_site"] = out["distance_m"].notna() & (out["distance_m"].astype(float) <= rules.on_site_m)
    out["verified"] = out["on_site"] & ~out["suspicious"]
    out["outcome"] = out["outcome"].map(lambda v: scrub_text(v) if isinstance(v, str) else v)
    photos = dict(session.execute(select(VisitPhoto.visit_id, func.count()).where(
        VisitPhoto.visit_id.in_(list(out["id"]))).group_by(VisitPhoto.visit_id)).all())
    out["photos"] = out["id"].map(lambda v: int(photos.get(v, 0)))
    return out[list(CARD_VISIT_COLUMNS)].reset_index(drop=True)


def _open_cases(session: Session, scope: Scope, person: Household, on_site_m: float, metric_crs: str) -> pd.DataFrame:
    if not person.grid_code:
        return pd.DataFrame(columns=list(CARD_CASE_COLUMNS))
    cases = list_cases(session, scope, CaseFilter(states=tuple(sorted(OPEN_STATES)), area_codes=(person.grid_code,)),
                       limit=2000)
    distance = pd.Series(np.nan, index=cases.index)
    located = cases["lon"].notna() & cases["lat"].notna()
    if located.any() and person.lon is not None and person.lat is not None:
        x, y = to_metric(cases.loc[located, "lon"].to_numpy(float), cases.loc[located, "lat"].to_numpy(float),
                         metric_crs=metric_crs)
        hx, hy = to_metric([person.lon], [person.lat], metric_crs=metric_crs)
        distance[located] = np.round(np.hypot(x - hx[0], y - hy[0]), 1)
    cases["distance_m"] = distance
    same_building = cases["building_code"].notna() & (cases["building_code"] == person.building_code)
    near = cases.loc[same_building | (distance <= on_site_m)]
    return near[list(CARD_CASE_COLUMNS)].reset_index(drop=True)


def person_card(session: Session, scope: Scope, person_id: str, *, settings: Settings | None = None,
                visits: int = 50) -> PersonCard:
    """The card of ``person_id``.

    Raises
    ------
    core.errors.PermissionDenied
        For roles without record rights (leaders).
    core.errors.NotFound
        No such person in the caller's scope.
    """
    scope.require_records()
    settings = settings or load_settings()
    person = session.get(Household, str(person_id))
    if person is None or not scope.allows(person):
        raise NotFound(f"no person {person_id} in your area; check the number")
    columns = (*HOUSEHOLD_COLUMNS, "household_no", "registered_at")
    row = protect(pd.DataFrame([{c: getattr(person, c) for c in columns}]), "household", scope).iloc[0].to_dict()
    grid_worker = session.scalar(select(func.min(Worker.id)).where(
        Worker.active.is_(True), Worker.role == "worker", Worker.grid_code == person.grid_code))
    kin, move, note = ("id", "head_name", "category"), ("at", "from_grid_code", "to_grid_code", "source"), \
        ("at", "author", "text")
    household = protect(rows_frame(session, select_columns(Household, kin).where(
        Household.household_no == (person.household_no or person.id), Household.id != person.id,
        scope.clause(Household)), kin), "household", scope)
    moves = rows_frame(session, select_columns(PersonMove, move).where(PersonMove.household_id == person.id)
                       .order_by(PersonMove.at.desc()), move)
    notes = rows_frame(session, select_columns(PersonNote, note).where(PersonNote.household_id == person.id)
                       .order_by(PersonNote.at.desc()), note)
    notes["text"] = notes["text"].map(scrub_text)
    return PersonCard(row, person.worker_id or grid_worker, bool(person.worker_id), household, moves,
                      _visits(session, person.id, settings.registry, settings.metric_crs, visits),
                      _open_cases(session, scope, person, settings.registry.on_site_m, settings.metric_crs), notes)
