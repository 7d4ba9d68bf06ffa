"""Changing a person's card (一键可知): a note, the responsible worker. Each change is audited.

Who may: notes by the roles that visit or assign (``record_visits``, or an ``assigns`` reach in
:mod:`access.policy`), the responsible worker by the roles that assign cases (chiefs within
their area, commanders and admins), always for a person in the caller's scope ("not found"
otherwise, as for a missing one).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from access import audit, policy
from access.scope import Scope
from core.errors import InputError, NotFound, PermissionDenied
from store.models import Household, Worker
from store.models.people import PersonNote

#: Longest note kept (characters).
NOTE_MAX_CHARS = 1000


def _person(session: Session, actor: Scope, person_id: str) -> Household:
    person = session.get(Household, str(person_id))
    if person is None or not actor.allows(person):
        raise NotFound(f"no person {person_id} in your area; check the number")
    return person


def add_note(session: Session, actor: Scope, person_id: str, text: str, *, now: datetime) -> int:
    """Add a note to a person's card; returns its id (the caller commits)."""
    if not (actor.can("record_visits") or policy.role_policy(actor.role).assigns):
        raise PermissionDenied(f"{actor.username or actor.role} ({actor.role}) may not write notes on person cards")
    person = _person(session, actor, person_id)
    body = text.strip()
    if not body or len(body) > NOTE_MAX_CHARS:
        raise InputError("note", f"a note has 1 to {NOTE_MAX_CHARS} characters, not {len(body)}",
                         "write a short note")
    note = PersonNote(household_id=person.id, at=now, author=actor.username or actor.role, text=body)
    session.add(note)
    audit.record(session, actor=actor.username or actor.role, action="note", at=now, target_kind="household",
                 target_id=person.id, detail={"chars": len(body)})
    session.flush()
    return int(note.id)


def set_worker(session: Session, actor: Scope, person_id: str, worker_id: str | None, *, now: datetime) -> None:
    """Make ``worker_id`` (an active grid worker or chief the caller may assign to) responsible for
    a person, or with None give the person back to their grid's worker (the caller commits)."""
    if not policy.role_policy(actor.role).assigns:
        raise PermissionDenied(f"{actor.username or actor.role} ({actor.role}) may not choose responsible workers")
    person = _person(session, actor, person_id)
    if worker_id:
        worker = session.get(Worker, str(worker_id))
        if worker is None or not worker.active or not actor.allows(grid_code=worker.grid_code,
                                                                   community_code=worker.community_code):
            raise NotFound(f"no active worker {worker_id} in your area; check the staff number")
    before = person.worker_id
    person.worker_id = str(worker_id) if worker_id else None
    person.updated_at = now
    audit.record(session, actor=actor.username or actor.role, action="assign_worker", at=now,
                 target_kind="household", target_id=person.id, detail={"from": before, "to": person.worker_id})
    session.flush()
