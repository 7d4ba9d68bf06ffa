"""Fixtures of the accounts/scope tests: the case-store fixture of ``tests/cases`` (SQLite and
PostGIS, one database per module), with the people tables emptied before each test, and a small
world of two communities, three grids, cases, households, visits and tracks.

The audit log cannot be emptied (its triggers forbid DELETE), so tests look only at entries
written after a marker (:func:`audit_since`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

import store.models
from access.scope import Scope
from store.models import AuditEntry, Household, Visit, WorkerTrack
from tests.cases.conftest import Store, module_store, store  # noqa: F401 - reused fixtures
from tests.factories import insert_case

T0 = datetime(2026, 11, 16, 9, 0)
STREET = "370811004000"
C1, C2 = "370811004001", "370811004002"
G1, G2, G3 = C1 + "001", C1 + "002", C2 + "001"
#: One point per grid (CGCS2000 degrees), a few hundred metres apart.
POINTS = {G1: (116.5870, 35.4150), G2: (116.5950, 35.4150), G3: (116.6050, 35.4250)}
#: Personal values that must never leave the store unmasked.
SECRETS = {
    "names": ["张三明", "李四光", "王五福", "赵六顺", "钱七宝", "孙八斗"],
    "phones": ["13811112222", "13933334444", "13755556666", "13677778888", "13599990000", "13400001111"],
    "ids": ["370811195001011234", "370811196002022345", "370811197003033456"],
}


@pytest.fixture
def people_store(store: Store) -> Store:  # noqa: F811 - fixture from tests.cases
    """The migrated store with cases, workers and the people tables (but the audit log) empty."""
    with store.engine.begin() as conn:
        for table in ("worker_tracks", "visits", "households", "users"):
            conn.execute(text(f"DELETE FROM {table}"))
    return store


def audit_since(session, marker: int) -> list[AuditEntry]:
    """Audit entries with an id above ``marker`` (see :func:`audit_marker`)."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.id > marker).order_by(AuditEntry.id)))


def audit_marker(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


@dataclass
class World:
    store: Store
    case_ids: dict[str, list[int]]  # grid -> case ids
    household_ids: dict[str, list[str]]
    worker_of: dict[str, str]


SCOPES = {
    "admin": Scope("admin", username="admin"),
    "commander": Scope("commander", username="cmd"),
    "chief_c1": Scope("chief", frozenset({C1}), username="chief1"),
    "chief_street": Scope("chief", frozenset({STREET}), username="chief0"),
    "worker_g1": Scope("worker", frozenset({G1}), username="w1"),
    "worker_g2": Scope("worker", frozenset({G2}), username="w2"),
    "leader": Scope("leader", username="boss"),
}


@pytest.fixture
def world(people_store: Store) -> World:
    """Two cases, two households (with visits) and a short track in each of G1, G2, G3."""
    from store.models import Worker

    worker_of = {G1: "W001", G2: "W002", G3: "W003"}
    case_ids: dict[str, list[int]] = {}
    household_ids: dict[str, list[str]] = {}
    k = 0
    with people_store.Session() as session, session.begin():
        for grid, wid in worker_of.items():
            session.add(Worker(id=wid, name=f"网格员{wid}", phone=None, role="worker", grid_code=grid,
                               community_code=grid[:12], active=True))
        session.flush()
        for grid, (lon, lat) in POINTS.items():
            community = grid[:12]
            for j in range(2):
                case = insert_case(
                    session, actor="import", at=T0 + timedelta(hours=k),
                    source="hotline_12345", source_id=f"GD{grid}{j}", category="request",
                    text=f"楼道堆放杂物，联系电话{SECRETS['phones'][k]}", address=f"{grid}号楼",
                    reporter_name=SECRETS["names"][k], reporter_phone=SECRETS["phones"][k],
                    lon=lon, lat=lat, street_code=STREET, community_code=community, grid_code=grid,
                    join_status="ok", priority="normal", assignee_kind="worker", assignee_id=worker_of[grid],
                )
                case_ids.setdefault(grid, []).append(case.id)
                hid = f"HH{grid[-4:]}{j}"
                session.add(Household(
                    id=hid, head_name=SECRETS["names"][k], id_number=SECRETS["ids"][k % 3],
                    phone=SECRETS["phones"][k], category="empty_nest" if j == 0 else "hardship",
                    building_code=grid + "0001", grid_code=grid, community_code=community,
                    street_code=STREET, lon=lon, lat=lat))
                household_ids.setdefault(grid, []).append(hid)
                k += 1
            session.flush()
            # household 0 visited on site, household 1 visited from far away (a paper visit)
            h0, h1 = household_ids[grid]
            for vid, hid, dist, on_site in ((f"ZF{grid[-4:]}a", h0, 8.0, True), (f"ZF{grid[-4:]}b", h1, 420.0, False)):
                session.add(Visit(id=vid, household_id=hid, worker_id=worker_of[grid], at=T0 + timedelta(days=1),
                                  lon=lon, lat=lat, outcome="情况稳定", distance_m=dist, on_site=on_site,
                                  grid_code=grid, community_code=community, street_code=STREET))
            for minute in range(3):
                session.add(WorkerTrack(worker_id=worker_of[grid], at=T0 + timedelta(minutes=5 * minute),
                                        lon=lon + 0.0001 * minute, lat=lat, grid_code=grid,
                                        community_code=community, street_code=STREET))
    return World(people_store, case_ids, household_ids, worker_of)
