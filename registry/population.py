"""The registered persons in a caller's scope as they were at a given time, and their visits.

A person belongs, at time ``t``, to the grid (community, street) they lived in then: the stored
codes, unless a move recorded after ``t`` says where they lived before
(:class:`store.models.people.PersonMove`). Their responsible worker is the one set by hand (while
they still live in that grid), else the active worker of that grid (the lowest staff number).
Reads are scoped in SQL (the person's codes now, or before a move) and again per time in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from access.scope import Scope
from store.models import Household, Visit, Worker
from store.models.people import PersonMove
from store.query import rows_frame

#: Columns of :attr:`Population.persons`.
PERSON_FIELDS: tuple[str, ...] = ("id", "category", "grid_code", "community_code", "street_code", "building_code",
                                  "worker_id", "registered_at")
#: Columns of :func:`load_visits`.
VISIT_FIELDS: tuple[str, ...] = ("id", "household_id", "worker_id", "at", "lon", "lat", "distance_m", "on_site",
                                 "outcome")
_CODES = ("grid_code", "community_code", "street_code")
_MOVE_FIELDS = ("household_id", "at", "from_grid_code", "from_community_code", "from_street_code")


@dataclass(frozen=True)
class Population:
    """The persons read for a scope (codes as stored now; ``worker_id`` the one set by hand), the
    moves of those persons, and the worker of each grid."""

    persons: pd.DataFrame
    moves: pd.DataFrame
    grid_workers: dict[str, str]


def person_ids(scope: Scope, *, category: str | None = None) -> Select[Any]:
    """A SELECT of the ids of the persons in ``scope`` now or before one of their moves."""
    before = SimpleNamespace(grid_code=PersonMove.from_grid_code, community_code=PersonMove.from_community_code,
                             street_code=PersonMove.from_street_code)
    moved_out = select(PersonMove.household_id).where(scope.clause(before))
    query = select(Household.id).where(or_(scope.clause(Household), Household.id.in_(moved_out)))
    return query.where(Household.category == str(category)) if category else query


def load_population(session: Session, scope: Scope, *, category: str | None = None) -> Population:
    """The persons of ``scope`` (optionally of one group), their moves and the grid workers."""
    ids = person_ids(scope, category=category)
    persons = rows_frame(session, select(*(getattr(Household, c) for c in PERSON_FIELDS))
                         .where(Household.id.in_(ids)), PERSON_FIELDS)
    moves = rows_frame(session, select(*(getattr(PersonMove, c) for c in _MOVE_FIELDS))
                       .where(PersonMove.household_id.in_(ids)).order_by(PersonMove.at, PersonMove.id), _MOVE_FIELDS)
    workers = session.execute(select(Worker.grid_code, Worker.id).where(
        Worker.active.is_(True), Worker.role == "worker", Worker.grid_code.is_not(None)).order_by(Worker.id.desc()))
    return Population(persons, moves, {str(grid): str(wid) for grid, wid in workers})


def placed_at(population: Population, at: datetime, scope: Scope, *, area_code: str | None = None) -> pd.DataFrame:
    """The persons registered before ``at``, with the codes and responsible worker they had at
    ``at``, in ``scope`` (and in ``area_code``, a street, community or grid code, when given).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PERSON_FIELDS` (``worker_id`` the responsible worker at ``at``, None
        when the grid has none).
    """
    persons = population.persons
    registered = persons["registered_at"].isna() | (pd.to_datetime(persons["registered_at"]) < at)
    out = persons.loc[registered].copy()
    current_grid = out["grid_code"].copy()
    later = population.moves.loc[pd.to_datetime(population.moves["at"]) >= at]
    if len(later):
        first = later.drop_duplicates("household_id").set_index("household_id")
        moved = out["id"].isin(first.index)
        for code in _CODES:
            out.loc[moved, code] = out.loc[moved, "id"].map(first[f"from_{code}"])
    grid_worker = out["grid_code"].map(population.grid_workers)
    by_hand = out["worker_id"].notna() & (out["grid_code"] == current_grid)
    out["worker_id"] = out["worker_id"].where(by_hand, grid_worker).astype(object)
    out["worker_id"] = out["worker_id"].where(out["worker_id"].notna(), None)
    keep = [scope.allows(grid_code=g, community_code=c, street_code=s)
            for g, c, s in zip(out["grid_code"], out["community_code"], out["street_code"], strict=True)]
    out = out.loc[keep]
    if area_code:
        code = str(area_code)
        out = out.loc[(out["grid_code"] == code) | (out["community_code"] == code) | (out["street_code"] == code)]
    return out.reset_index(drop=True)


def load_visits(session: Session, scope: Scope, since: datetime, until: datetime, *,
                category: str | None = None) -> pd.DataFrame:
    """Visits in ``[since, until)`` to the persons of ``scope``, and every other visit of the same
    workers in that window (the context the suspicion checks need).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VISIT_FIELDS`, by worker and time.
    """
    ids = person_ids(scope, category=category)
    window = (Visit.at >= since, Visit.at < until)
    workers = select(Visit.worker_id).where(Visit.household_id.in_(ids), *window).distinct()
    query = (select(*(getattr(Visit, c) for c in VISIT_FIELDS))
             .where(*window, or_(Visit.household_id.in_(ids), Visit.worker_id.in_(workers)))
             .order_by(Visit.worker_id, Visit.at, Visit.id))
    frame = rows_frame(session, query, VISIT_FIELDS)
    frame["at"] = pd.to_datetime(frame["at"])
    return frame
