"""Seeding the demo's people: the demo accounts, four-visit households and visits, and a day of
GPS tracks, moved in time so the dashboard looks live.

``python -m cases seed-demo`` calls :func:`seed_people` after the demo cases are in. The loaders
themselves are the registry's and the workforce's (``registry.imports``, ``workforce.tracks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from access import accounts
from core import constants
from core.csvfile import read_csv_cells
from demo.teams import seed_teams
from geo.areas import grid_parents
from registry.imports import VISIT_HEADERS, load_households, load_visits
from store.models import User, WorkerTrack
from workforce.tracks import TRACK_HEADERS, load_tracks


@dataclass(frozen=True)
class DemoAccount:
    """A demo account created by ``make run`` (documented in the README)."""

    username: str
    password: str
    role: str
    display_name: str


#: Demo accounts, one per role. The chief gets the community of the first grid worker, the
#: worker that worker's grid; the passwords are public: never use them in production.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "Admin#2026", "admin", "系统管理员"),
    DemoAccount("commander", "Command#2026", "commander", "指挥中心值班员"),
    DemoAccount("chief", "Chief#2026", "chief", "网格长"),
    DemoAccount("worker", "Worker#2026", "worker", "网格员"),
    DemoAccount("leader", "Leader#2026", "leader", "街道领导"),
)


def demo_shifts(visits: pd.DataFrame, tracks: pd.DataFrame, now: datetime) -> tuple[int, timedelta]:
    """How far to move the demo's visits (whole months) and tracks (whole days) so they look live.

    The newest visit month becomes the month before ``now`` (a complete period for coverage);
    the tracks' day becomes today, or yesterday when ``now`` is before the day's first fix.
    """
    month_shift = 0
    times = pd.to_datetime(visits["走访时间"], errors="coerce").dropna()
    if len(times):
        newest = times.max()
        month_shift = (now.year * 12 + now.month - 1) - (newest.year * 12 + newest.month)
    shift = timedelta(0)
    fixes = pd.to_datetime(tracks["时间"], errors="coerce").dropna()
    if len(fixes):
        first = fixes.min().to_pydatetime()
        day = now.date() if now.time() >= first.time() else (now - timedelta(days=1)).date()
        shift = datetime.combine(day, first.time()) - first
    return max(month_shift, 0), max(shift, timedelta(0))


# -- demo accounts -----------------------------------------------------------------------------
def seed_demo_accounts(
    session: Session, *, worker_id: str, grid_code: str, community_code: str, chief_id: str | None, now: datetime
) -> list[str]:
    """Create the :data:`DEMO_ACCOUNTS` that do not exist yet; returns the names created."""
    created = []
    areas = {"chief": [community_code], "worker": [grid_code]}
    links = {"worker": worker_id, "chief": chief_id}
    for account in DEMO_ACCOUNTS:
        if accounts.get_user(session, account.username) is not None:
            continue
        accounts.add_user(session, username=account.username, password=account.password, role=account.role,
                          actor="seed-demo", now=now, area_codes=areas.get(account.role, ()),
                          display_name=account.display_name, worker_id=links.get(account.role))
        created.append(account.username)
    return created


def seed_people(session: Session, demo_dir: Path, *, hierarchy_path: Path, now: datetime,
                metric_crs: str = constants.DEFAULT_METRIC_CRS) -> dict[str, int]:
    """Seed demo accounts, households, visits and tracks (idempotent). Called by ``seed-demo``.

    Visits are moved by whole months so the newest month of visits is the month before ``now``;
    the one day of tracks is moved to today (see :func:`demo_shifts`).

    Parameters
    ----------
    session : Session
        Commit afterwards; everything is one transaction.
    demo_dir : Path
        Folder written by ``data/make_demo.py`` (``households.csv``, ``visits.csv``,
        ``tracks.csv``, ``workers.csv``).
    hierarchy_path : Path
        ``hierarchy.gpkg`` for the grid → community → street codes.
    now : datetime
        Local time for audit entries.

    Returns
    -------
    dict
        Rows added per table, ``accounts`` for the accounts created.
    """
    demo_dir = Path(demo_dir)
    parents = grid_parents(hierarchy_path)
    workers = read_csv_cells(demo_dir / "workers.csv", ("工号", "网格编码", "社区编码"))
    worker_grids = {w: g for w, g in zip(workers["工号"], workers["网格编码"], strict=True) if g}
    first = workers[workers["网格编码"] != ""].iloc[0]
    community = first["社区编码"] or (parents.get(first["网格编码"], (None, None))[0] or "")
    chiefs = workers[(workers["网格编码"] == "") & (workers["社区编码"] == community)]
    created = seed_demo_accounts(
        session, worker_id=first["工号"], grid_code=first["网格编码"], community_code=community,
        chief_id=chiefs["工号"].iloc[0] if len(chiefs) else None, now=now,
    )
    added = {"accounts": len(created)}
    visits = read_csv_cells(demo_dir / "visits.csv", VISIT_HEADERS)
    tracks = read_csv_cells(demo_dir / "tracks.csv", TRACK_HEADERS)
    month_shift, track_shift = demo_shifts(visits, tracks, now)
    added["households"] = load_households(session, demo_dir / "households.csv", parents=parents,
                                          actor="seed-demo", now=now)
    added["visits"] = load_visits(session, demo_dir / "visits.csv", actor="seed-demo", now=now,
                                  metric_crs=metric_crs, month_shift=month_shift)
    added["team_members"] = seed_teams(session, parents)
    added["worker_tracks"] = 0
    if session.scalar(select(WorkerTrack.id).limit(1)) is None:  # tracks move with the day: load once
        added["worker_tracks"] = load_tracks(session, demo_dir / "tracks.csv", worker_grids=worker_grids,
                                             parents=parents, actor="seed-demo", now=now, shift=track_shift)
    return added


def demo_account_rows(session: Session) -> list[dict[str, str]]:
    """The demo accounts as README rows: user, password, role, area."""
    rows = []
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.username == account.username))
        rows.append({"username": account.username, "password": account.password, "role": account.role,
                     "area": (user.area_codes if user else "") or "whole district"})
    return rows
