"""The five teams that join the grids (五团进网): helpers attached to a grid, listed with the grid and
added to a case as co-handlers (协办) beside its assignee.

Names and phones are personal data: masked on every output like the rest (``access.protect``).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from access.protect import protect
from access.scope import Scope
from core.constants import TEAMS
from core.errors import InputError, NotFound
from store.models import CaseCoHandler, TeamMember
from store.query import rows_frame, select_columns

TEAM_COLUMNS: tuple[str, ...] = ("id", "team", "name", "phone", "grid_code", "community_code", "street_code")


def team_members(session: Session, scope: Scope, *, grid_code: str | None = None) -> pd.DataFrame:
    """Active team members in the caller's scope (one grid's with ``grid_code``), masked, by team.

    Raises
    ------
    core.errors.PermissionDenied
        For aggregate-only roles.
    """
    scope.require_records()
    query = select_columns(TeamMember, TEAM_COLUMNS).where(TeamMember.active.is_(True), scope.clause(TeamMember))
    if grid_code:
        query = query.where(TeamMember.grid_code == str(grid_code))
    query = query.order_by(TeamMember.grid_code, TeamMember.team, TeamMember.id)
    return protect(rows_frame(session, query, TEAM_COLUMNS), "team_member", scope)


def add_member(session: Session, *, member_id: str, team: str, name: str, grid_code: str,
               community_code: str | None, street_code: str | None, phone: str | None = None) -> TeamMember:
    """Attach a helper of ``team`` (a key of ``core.constants.TEAMS``) to a grid; the caller commits."""
    if team not in TEAMS:
        raise InputError("team", f"unknown team {team!r}", f"use one of {', '.join(TEAMS)}")
    member = TeamMember(id=member_id, team=team, name=name, phone=phone, grid_code=grid_code,
                        community_code=community_code, street_code=street_code, active=True)
    session.add(member)
    session.flush()
    return member


def check_member(session: Session, scope: Scope, member_id: str) -> TeamMember:
    """The active team member ``member_id`` in the caller's scope (NotFound otherwise)."""
    member = session.get(TeamMember, str(member_id))
    if member is None or not member.active or not scope.allows(member):
        raise NotFound(f"no team member {member_id} in your area; check the list")
    return member


def add_cohandler(session: Session, case_id: int, member: TeamMember, *, by: str, at: datetime) -> None:
    """Record ``member`` as a co-handler of case ``case_id`` (once; a repeat changes nothing)."""
    if session.get(CaseCoHandler, (case_id, member.id)) is None:
        session.add(CaseCoHandler(case_id=case_id, member_id=member.id, added_by=by, at=at))
        session.flush()


def cohandlers(session: Session, scope: Scope, case_id: int) -> pd.DataFrame:
    """The co-handlers of a case (the caller reads the case through ``cases.queries`` first), masked."""
    query = (select_columns(TeamMember, TEAM_COLUMNS)
             .join(CaseCoHandler, CaseCoHandler.member_id == TeamMember.id)
             .where(CaseCoHandler.case_id == int(case_id)).order_by(TeamMember.team, TeamMember.id))
    return protect(rows_frame(session, query, TEAM_COLUMNS), "team_member", scope)
