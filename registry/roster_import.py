"""Importing and updating the key-population registry from a community's spreadsheet, in one
transaction: ``python -m registry import FILE``.

Rows are checked (:mod:`registry.checks`); each accepted row is matched to a stored person by ID
number (身份证号): an unknown number adds a person, a known one updates the stored fields that
changed (an empty 联系电话 or 户编号 keeps the stored value). A person whose grid changed moved:
the move is recorded (:class:`store.models.people.PersonMove`) and reported, and a responsible
worker set by hand falls back to the new grid's. Importing the same file again adds nobody and
changes nothing. The refused rows come back with the file's row number, the problem, the reason
and the fix, followed by the row's own cells (:func:`rejects_frame`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from access import audit
from core.progress import progress
from registry.checks import Candidate, Reject, check_rows
from registry.groups import Group
from registry.idnumber import normalise_id_number
from registry.places import Places
from registry.roster import Roster, read_roster
from store.models import Household, Worker
from store.models.people import PersonMove

#: Stored fields an import compares and sets.
_FIELDS = ("head_name", "phone", "category", "household_no", "building_code", "grid_code", "community_code",
           "street_code", "lon", "lat", "worker_id")


@dataclass(frozen=True)
class Move:
    """A person the import moved to another grid (``row`` of the file)."""

    row: int
    person_id: str
    id_number: str
    from_grid: str | None
    to_grid: str


@dataclass(frozen=True)
class RosterImport:
    """What an import did: rows read, persons added, updated (moves included) and unchanged, the
    moves and the refused rows."""

    roster: Roster
    added: int
    updated: int
    unchanged: int
    moves: tuple[Move, ...]
    rejects: tuple[Reject, ...]

    @property
    def rows(self) -> int:
        """Rows of the file (blank rows aside)."""
        return len(self.roster.rows)


def _values(candidate: Candidate, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored fields of ``candidate``; blanks in the file keep the stored phone, household
    number and (unless the person moved) responsible worker."""
    place = candidate.place
    values = {"head_name": candidate.name, "phone": candidate.phone, "category": candidate.category,
              "household_no": candidate.household_no, "building_code": place.building_code,
              "grid_code": place.grid_code, "community_code": place.community_code, "street_code": place.street_code,
              "lon": place.lon, "lat": place.lat, "worker_id": candidate.worker_id}
    if stored is not None:
        moved = stored["grid_code"] != place.grid_code
        for key in ("phone", "household_no") + (() if moved else ("worker_id",)):
            if values[key] is None:
                values[key] = stored[key]
    return values


def _new_id(candidate: Candidate, taken: set[str]) -> str:
    """The household number when free, else one derived from it (or from the ID number)."""
    if candidate.household_no and candidate.household_no not in taken:
        return candidate.household_no
    digest = hashlib.sha256(candidate.id_number.encode()).hexdigest().upper()
    base = (candidate.household_no or "P")[:20]
    for width in range(6, len(digest)):
        ident = f"{base}-{digest[:width]}"
        if ident not in taken:
            return ident
    msg = f"no free id for {base}"
    raise RuntimeError(msg)


def _stored(session: Session) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Stored persons by normalised ID number, and every stored id."""
    columns = ("id", "id_number", *_FIELDS)
    rows = session.execute(select(*(getattr(Household, c) for c in columns))).all()
    by_number = {normalise_id_number(r.id_number): dict(zip(columns, r, strict=True)) for r in rows if r.id_number}
    return by_number, {r.id for r in rows}


def import_roster(session: Session, path: str | Path, *, places: Places, groups: dict[str, Group], actor: str,
                  now: datetime, check_digits: bool = True) -> RosterImport:
    """Import a registry file into the caller's transaction (the caller commits).

    Parameters
    ----------
    session : Session
    path : str or Path
        CSV (UTF-8 or GBK) or XLSX with the headers of :mod:`registry.roster`.
    places : Places
        Buildings and grids of the hierarchy.
    groups : dict of str to Group
        The registry's groups.
    actor : str
        Audited as the importer; recorded with each move.
    now : datetime
        Local time of the import (registration, update and move times).
    check_digits : bool
        Refuse ID numbers with a wrong GB 11643 check digit (default).

    Raises
    ------
    InputError
        The file cannot be read as a registry (nothing is changed).
    """
    roster, name = read_roster(path), Path(path).name
    workers = set(session.scalars(select(Worker.id).where(Worker.active.is_(True))))
    with progress(len(roster.rows), f"{name}: check", unit="rows") as bar:
        candidates, rejects = check_rows(roster, places, groups, workers=workers, check_digits=check_digits,
                                         on_row=lambda: bar.update(1))
    stored, taken = _stored(session)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    moves: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    unchanged = 0
    with progress(len(candidates), f"{name}: compare", unit="persons") as bar:
        for candidate in candidates:
            bar.update(1)
            unchanged += _sort(candidate, stored, taken, now, new, changed, moves)
    _write(session, new, changed, moves, source=name, actor=actor, now=now)
    moved = tuple(Move(row, b["id"], b["id_number"], b["grid_code"], v["grid_code"]) for row, b, v in moves)
    result = RosterImport(roster, len(new), len(changed), unchanged, moved, tuple(rejects))
    audit.record(session, actor=actor, action="import", at=now, target_kind="registry", target_id=name,
                 detail={"file": name, "rows": result.rows, "added": result.added,
                         "updated": result.updated, "moved": len(moves), "rejected": len(rejects)})
    session.flush()
    return result


def _sort(candidate: Candidate, stored: dict[str, dict[str, Any]], taken: set[str], now: datetime,
          new: list[dict[str, Any]], changed: list[dict[str, Any]],
          moves: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> int:
    """File ``candidate`` as new, changed (and moved) or unchanged; 1 when unchanged."""
    before = stored.get(candidate.id_number)
    values = _values(candidate, before)
    if before is None:
        ident = _new_id(candidate, taken)
        taken.add(ident)
        new.append({"id": ident, "id_number": candidate.id_number, **values, "registered_at": now,
                    "updated_at": now})
    elif any(before[k] != values[k] for k in _FIELDS):
        changed.append({"id": before["id"], **values, "updated_at": now})
        if before["grid_code"] != values["grid_code"]:
            moves.append((candidate.row, before, values))
    else:
        return 1
    return 0


def _write(session: Session, new: list[dict[str, Any]], changed: list[dict[str, Any]],
           moves: list[tuple[int, dict[str, Any], dict[str, Any]]], *, source: str, actor: str, now: datetime) -> None:
    if new:
        session.execute(insert(Household), new)
    if changed:
        session.execute(update(Household), changed)
    if moves:
        session.execute(insert(PersonMove), [
            {"household_id": before["id"], "at": now, "from_grid_code": before["grid_code"],
             "from_community_code": before["community_code"], "from_street_code": before["street_code"],
             "from_building_code": before["building_code"], "to_grid_code": after["grid_code"],
             "to_building_code": after["building_code"], "source": source[:128], "actor": actor[:64]}
            for _, before, after in moves])


#: The leading columns of the rejects file.
REJECT_COLUMNS: tuple[str, ...] = ("row", "problem", "column", "reason", "fix")


def rejects_frame(result: RosterImport) -> pd.DataFrame:
    """The refused rows for the rejects file: :data:`REJECT_COLUMNS` (``row`` is the file's row
    number), then the row's own cells (a file column named like one of those gets `` (file)``)."""
    original = result.roster.original.copy()
    original.index = pd.Index(result.roster.rows)
    original.columns = [f"{c} (file)" if c in REJECT_COLUMNS else c for c in original.columns]
    head = pd.DataFrame([[getattr(r, c) for c in REJECT_COLUMNS] for r in result.rejects], columns=list(REJECT_COLUMNS))
    cells = original.loc[[r.row for r in result.rejects]].reset_index(drop=True)
    return pd.concat([head, cells], axis=1)
