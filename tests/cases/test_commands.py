"""cases.commands.act, the one way to act on a case: not found outside the scope, the permission
table, whom a chief may assign to, the arrival's position, optimistic locking; SQLite and PostGIS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from access.scope import Scope
from cases import lifecycle
from cases.commands import act
from core.errors import ConflictError, InputError, NotFound, PermissionDenied, TransitionError
from store.models import Case, CaseEvent, Worker, WorkerTrack
from tests.factories import CASE_LAT, CASE_LON, T0, add_people, new_case

GRID = "370811004001001"
COMMUNITY = "370811004001"
WORKER = Scope(role="worker", area_codes=GRID, username="w1", worker_id="W001")
OTHER_WORKER = Scope(role="worker", area_codes="370811004001002", username="w2", worker_id="W002")
CHIEF = Scope(role="chief", area_codes=COMMUNITY, username="chief1", worker_id="C001")
COMMANDER = Scope(role="commander", username="duty")
LEADER = Scope(role="leader", username="boss")


@pytest.fixture
def people(store):
    with store.engine.begin() as conn:
        conn.execute(delete(WorkerTrack.__table__))
    with store.Session() as s, s.begin():
        add_people(s)
        s.add(Worker(id="W101", name="赵敏", role="worker", grid_code="370811004002001",
                     community_code="370811004002", active=True))
    return store


def _case(store, state_path: tuple[str, ...], *, source_id: str, category: str = "emergency") -> tuple[int, int]:
    with store.Session() as s, s.begin():
        case = new_case(s, source_id=source_id, category=category)
        for action in state_path:
            lifecycle.transition(s, case.id, action, actor="duty", at=T0 - timedelta(minutes=30))
        return case.id, case.version


def _event_note(store, case_id: int, action: str) -> str:
    with store.Session() as s:
        return s.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case_id, CaseEvent.action == action)).one()


def test_the_assigned_worker_accepts_and_gets_the_case_back(people):
    case_id, version = _case(people, ("register", "dispatch"), source_id="A1")
    with people.Session() as s, s.begin():
        after = act(s, WORKER, case_id, "accept", version, at=T0)
    assert (after.state, after.version, after.accepted_at) == ("accepted", version + 1, T0)
    assert after.reporter_phone is None or "*" in after.reporter_phone  # a typed, masked view


def test_another_grid_or_a_missing_case_is_not_found(people):
    case_id, version = _case(people, ("register", "dispatch"), source_id="A2")
    with people.Session() as s:
        with pytest.raises(NotFound) as other:
            act(s, OTHER_WORKER, case_id, "accept", version)
        with pytest.raises(NotFound) as missing:
            act(s, OTHER_WORKER, case_id + 999, "accept", version)
    assert str(other.value).replace(str(case_id), "#") == str(missing.value).replace(str(case_id + 999), "#")


def test_the_permission_table_decides_who_acts(people):
    case_id, version = _case(people, ("register", "dispatch"), source_id="A3")
    with people.Session() as s:
        with pytest.raises(PermissionDenied, match="may not accept"):
            act(s, CHIEF, case_id, "accept", version)
        with pytest.raises(PermissionDenied, match="only on cases assigned to them"):
            act(s, Scope(role="worker", area_codes=GRID, username="w9", worker_id="W009"), case_id, "accept", version)
        with pytest.raises(PermissionDenied, match="may not supervise"):
            act(s, WORKER, case_id, "supervise", version)
        with pytest.raises(TransitionError, match="unknown action 'fly'"):
            act(s, COMMANDER, case_id, "fly", version)
    with people.Session() as s, s.begin():
        after = act(s, LEADER, case_id, "supervise", version, note="限期办结")
    assert after.supervised and after.state == "dispatched"
    with people.Session() as s, pytest.raises(TransitionError, match="cannot register"):
        act(s, COMMANDER, case_id, "register", after.version)


def test_a_chief_assigns_only_inside_the_area(people):
    case_id, version = _case(people, ("register",), source_id="A4", category="request")
    with people.Session() as s, pytest.raises(PermissionDenied, match="outside their area"):
        act(s, CHIEF, case_id, "dispatch", version, assignee_kind="worker", assignee_id="W101")
    with people.Session() as s, s.begin():
        after = act(s, CHIEF, case_id, "dispatch", version, assignee_kind="worker", assignee_id="W002")
    assert (after.assignee_kind, after.assignee_id) == ("worker", "W002")
    assert "to worker W002" in _event_note(people, case_id, "dispatch")


def test_a_stale_version_is_a_conflict(people):
    case_id, version = _case(people, ("register", "dispatch"), source_id="A5")
    with people.Session() as s, pytest.raises(ConflictError, match="reload"):
        act(s, WORKER, case_id, "accept", version - 1)


# -- the arrival's position -----------------------------------------------------------------------
def _fixes(store, minutes_ago: list[int]) -> None:
    with store.Session() as s, s.begin():
        for minutes in minutes_ago:
            s.add(WorkerTrack(worker_id="W001", at=T0 - timedelta(minutes=minutes), lon=CASE_LON + 0.001,
                              lat=CASE_LAT, grid_code=GRID, community_code=COMMUNITY, street_code="370811004"))


def _arrive(store, case_id: int, **fields):
    with store.Session() as s, s.begin():
        return act(s, WORKER, case_id, "arrive", 4, at=T0, **fields)


def test_arrival_takes_the_latest_fix_and_says_so(people):
    _fixes(people, [30, 4])  # 30 min is older than the 15-minute limit
    case_id, _ = _case(people, ("register", "dispatch", "accept"), source_id="P1")
    after = _arrive(people, case_id, note="到达现场")
    assert after.state == "on_site" and 50 < after.arrival_distance_m < 150  # 0.001° of lon ≈ 91 m
    note = _event_note(people, case_id, "arrive")
    assert "GPS fix 08:56:00 (4 min old)" in note and "m from the case" in note and note.endswith("到达现场")


def test_arrival_prefers_a_typed_position(people):
    _fixes(people, [2])
    case_id, _ = _case(people, ("register", "dispatch", "accept"), source_id="P2")
    after = _arrive(people, case_id, lon=CASE_LON, lat=CASE_LAT + 0.001)
    assert 100 < after.arrival_distance_m < 120  # 0.001° of latitude ≈ 111 m
    assert "position entered by hand (no GPS fix in the last 15 min)" in _event_note(people, case_id, "arrive")


def test_arrival_without_any_position_needs_no_fix(people):
    _fixes(people, [16])  # just too old
    case_id, _ = _case(people, ("register", "dispatch", "accept"), source_id="P3")
    with pytest.raises(InputError, match="no GPS fix of W001 in the last 15 min"):
        _arrive(people, case_id)
    with pytest.raises(InputError, match="only one of lon/lat"):
        _arrive(people, case_id, lon=CASE_LON)
    after = _arrive(people, case_id, no_fix=True)
    assert after.state == "on_site" and after.arrival_distance_m is None
    with people.Session() as s:
        stored = s.get(Case, case_id)
        assert stored.arrived_at == T0 and (stored.arrival_lon, stored.arrival_lat) == (None, None)
    assert "no GPS fix" in _event_note(people, case_id, "arrive")
