"""Assignee picker (cases.assignees) and the latest GPS fix (workforce.positions) on SQLite and PostGIS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from access.scope import Scope
from cases import assignees, lifecycle
from cases.routing import parse_rules
from core import constants
from core.errors import InputError, PermissionDenied
from store.models import CaseEvent, Worker, WorkerTrack
from tests.factories import CASE_LAT, CASE_LON, T0, add_people, new_case
from workforce import positions

COMMUNITY = "370811004001"
OTHER_COMMUNITY = "370811004002"
COMMANDER = Scope(role="commander", username="duty")
CHIEF = Scope(role="chief", area_codes=COMMUNITY, username="chief1")
STREETS = {COMMUNITY: "370811004", OTHER_COMMUNITY: "370811004"}


@pytest.fixture
def people(store):
    """The conftest's people plus a worker and a chief of another community, and an inactive worker."""
    with store.engine.begin() as conn:
        conn.execute(delete(WorkerTrack.__table__))
    with store.Session() as s, s.begin():
        add_people(s)
        s.add_all([
            Worker(id="W101", name="赵敏", role="worker", grid_code="370811004002001",
                   community_code=OTHER_COMMUNITY, active=True),
            Worker(id="C101", name="钱多多", role="chief", grid_code=None, community_code=OTHER_COMMUNITY,
                   active=True),
            Worker(id="W009", name="孙立", role="worker", grid_code="370811004001001",
                   community_code=COMMUNITY, active=False),
        ])
    return store


def _keys(options) -> list[str]:
    return [a.key for a in options]


def test_commander_sees_every_active_person_and_department(people):
    with people.Session() as s:
        options = assignees.candidates(s, COMMANDER)
    keys = _keys(options)
    assert set(keys) == {"worker:W001", "worker:W002", "worker:W101", "chief:C001", "chief:C101",
                         "department:应急管理", "department:市场监管"}
    # workers first, then chiefs, then departments; names masked
    kinds = [a.kind for a in options]
    assert kinds == sorted(kinds, key=assignees.KINDS.index)
    assert next(a for a in options if a.id == "W001").name == "张*"
    assert "张伟" not in " ".join(a.label() for a in options)


def test_chief_sees_only_their_community_and_the_departments(people):
    with people.Session() as s:
        keys = _keys(assignees.candidates(s, CHIEF))
    assert set(keys) == {"worker:W001", "worker:W002", "chief:C001", "department:应急管理", "department:市场监管"}


def test_street_chief_needs_the_community_to_street_map(people):
    street_chief = Scope(role="chief", area_codes="370811004", username="street")
    with people.Session() as s:
        without = _keys(assignees.candidates(s, street_chief))
        with_map = _keys(assignees.candidates(s, street_chief, community_streets=STREETS))
    assert not any(k.startswith(("worker:", "chief:")) for k in without)
    assert {"worker:W001", "worker:W101", "chief:C101"} <= set(with_map)


@pytest.mark.parametrize("role", ["worker", "leader"])
def test_non_dispatchers_get_no_candidates(people, role):
    scope = Scope(role=role, area_codes="370811004001001" if role == "worker" else "", username=role)
    with people.Session() as s, pytest.raises(PermissionDenied, match="may not dispatch"):
        assignees.candidates(s, scope)


def test_chief_cannot_pick_a_worker_outside_their_community(people):
    with people.Session() as s:
        with pytest.raises(PermissionDenied, match=r"chief chief1 may not assign W101 \(370811004002001\): "
                                                   r"outside their area 370811004001"):
            assignees.check_assignee(s, CHIEF, "worker", "W101")
        with pytest.raises(PermissionDenied, match="C101"):
            assignees.check_assignee(s, CHIEF, "chief", "C101")
        assert assignees.check_assignee(s, CHIEF, "worker", "W002").id == "W002"
        assert assignees.check_assignee(s, CHIEF, "department", "市场监管").kind == "department"
        assert assignees.check_assignee(s, COMMANDER, "worker", "W101").community_code == OTHER_COMMUNITY


def test_unknown_or_inactive_assignees_are_input_errors(people):
    with people.Session() as s:
        with pytest.raises(InputError, match="W009"):
            assignees.check_assignee(s, COMMANDER, "worker", "W009")  # inactive
        with pytest.raises(InputError, match="not a chief"):
            assignees.check_assignee(s, COMMANDER, "chief", "W001")
        with pytest.raises(InputError, match="no active department"):
            assignees.check_assignee(s, COMMANDER, "department", "不存在")
        with pytest.raises(InputError, match="unknown assignee kind"):
            assignees.check_assignee(s, COMMANDER, "robot", "W001")


RULES = parse_rules("""
departments = ["应急管理", "市场监管"]
[[rule]]
name = "fire"
category = ["emergency"]
target = "department:应急管理"
[[rule]]
name = "rest"
target = "grid_worker"
""")


def test_routed_default_is_the_current_assignee_else_the_rules(people):
    with people.Session() as s, s.begin():
        routed = new_case(s, source_id="R1")
        lifecycle.transition(s, routed.id, "register", actor="duty")
        fire = new_case(s, source_id="R2", category="emergency", assignee_kind=None, assignee_id=None)
    with people.Session() as s:
        from cases import queries

        case = queries.get_case(s, COMMANDER, routed.id)
        options, index = assignees.picker(s, COMMANDER, case, rules=RULES)
        assert options[index].key == "worker:W001"
        unassigned = queries.get_case(s, COMMANDER, fire.id)
        assert assignees.routed_default(s, unassigned) is None
        options, index = assignees.picker(s, CHIEF, unassigned, rules=RULES)
        assert options[index].key == "department:应急管理"


def test_chosen_assignee_goes_into_the_dispatch_event(people):
    with people.Session() as s, s.begin():
        case = new_case(s, source_id="D1")
        lifecycle.transition(s, case.id, "register", actor="duty")
        chosen = assignees.check_assignee(s, CHIEF, "worker", "W002")
        lifecycle.transition(s, case.id, "dispatch", actor="chief1", assignee_kind=chosen.kind,
                             assignee_id=chosen.id)
    with people.Session() as s:
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "dispatch")).one()
        assert event.actor == "chief1" and "to worker W002" in event.note
        assert s.get(type(case), case.id).assignee_id == "W002"


# -- positions -------------------------------------------------------------------------------
def _fixes(store, worker_id: str, minutes_ago: list[int], *, grid: str = "370811004001001",
           community: str = COMMUNITY) -> None:
    with store.Session() as s, s.begin():
        for i, minutes in enumerate(minutes_ago):
            s.add(WorkerTrack(worker_id=worker_id, at=T0 - timedelta(minutes=minutes), lon=CASE_LON + 0.001 * (i + 1),
                              lat=CASE_LAT, grid_code=grid, community_code=community, street_code="370811004"))


def test_latest_fix_is_the_newest_within_the_age_limit(people):
    _fixes(people, "W001", [40, 12, 3, -5])  # -5: a fix after "now" is ignored
    worker = Scope(role="worker", area_codes="370811004001001", username="w1")
    with people.Session() as s:
        fix = positions.latest_fix(s, worker, "W001", now=T0)
        assert fix is not None and fix.at == T0 - timedelta(minutes=3)
        assert fix.lon == pytest.approx(CASE_LON + 0.003) and fix.age_minutes(T0) == pytest.approx(3.0)
        assert positions.latest_fix(s, worker, "W001", now=T0 - timedelta(minutes=4), max_age_minutes=5) is None
        old = positions.latest_fix(s, worker, "W001", now=T0 - timedelta(minutes=4), max_age_minutes=30)
        assert old.at == T0 - timedelta(minutes=12)
        assert positions.latest_fix(s, worker, "W002", now=T0) is None  # no fixes at all
        assert positions.latest_fix(s, worker, "", now=T0) is None


def test_default_age_limit_comes_from_the_constants(people):
    limit = constants.ARRIVAL_FIX_MAX_AGE_MINUTES
    _fixes(people, "W001", [limit + 1])
    with people.Session() as s:
        assert positions.latest_fix(s, COMMANDER, "W001", now=T0) is None
        assert positions.latest_fix(s, COMMANDER, "W001", now=T0 - timedelta(minutes=2)) is not None


def test_latest_fix_respects_the_scope(people):
    _fixes(people, "W101", [1], grid="370811004002001", community=OTHER_COMMUNITY)
    with people.Session() as s:
        assert positions.latest_fix(s, CHIEF, "W101", now=T0) is None  # another community's worker
        assert positions.latest_fix(s, COMMANDER, "W101", now=T0) is not None
        with pytest.raises(PermissionDenied):
            positions.latest_fix(s, Scope(role="leader", username="lead"), "W101", now=T0)
        with pytest.raises(ValueError, match="positive"):
            positions.latest_fix(s, COMMANDER, "W101", now=T0, max_age_minutes=0)


def test_arrival_at_the_fix_records_the_distance(people):
    _fixes(people, "W001", [2])
    with people.Session() as s, s.begin():
        case = new_case(s, source_id="G1", category="emergency")
        for action in ("register", "dispatch", "accept"):
            lifecycle.transition(s, case.id, action, actor="duty", at=T0 - timedelta(minutes=30))
        fix = positions.latest_fix(s, COMMANDER, "W001", now=T0)
        lifecycle.transition(s, case.id, "arrive", actor="W001", at=T0, lon=fix.lon, lat=fix.lat)
    with people.Session() as s:
        stored = s.get(type(case), case.id)
        assert stored.arrival_lon == pytest.approx(fix.lon)
        assert 50 < stored.arrival_distance_m < 150  # 0.001° of longitude at 35.4° N ≈ 91 m


def test_reassign_picker_leaves_out_the_current_assignee(people):
    from cases import queries

    with people.Session() as s, s.begin():
        case = new_case(s, source_id="RA1")  # routed to W001, grid 370811004001001
        for action in ("register", "dispatch"):
            lifecycle.transition(s, case.id, action, actor="duty")
    with people.Session() as s:
        row = queries.get_case(s, COMMANDER, case.id)
        options, index = assignees.picker(s, COMMANDER, row, rules=RULES, action="reassign")
        assert "worker:W001" not in _keys(options)
        assert index is None  # the rules would pick W001 again: nothing pre-selected
        options, index = assignees.picker(s, COMMANDER, row, rules=RULES)
        assert options[index].key == "worker:W001"
        with pytest.raises(ValueError, match="dispatch or reassign"):
            assignees.picker(s, COMMANDER, row, action="return")
