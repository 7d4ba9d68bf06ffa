"""The state machine: legal paths, illegal transitions, arrival distance, rework, extensions,
supervision and optimistic locking, on SQLite and PostGIS."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import func, select

from cases.actions import ACTIONS, available_actions
from cases.lifecycle import transition
from core import constants
from core.errors import ConflictError, InputError, TransitionError
from store.models import Case, CaseEvent
from tests.factories import CASE_LAT, CASE_LON, T0, add_people, new_case

NEAR = (CASE_LON + 0.0005, CASE_LAT + 0.0003)  # a few tens of metres away

#: Steps (action, fields) that bring a reported case into each state.
PATHS: dict[str, list[tuple[str, dict]]] = {
    "reported": [],
    "voided": [("void", {"reason": "重复工单"})],
    "registered": [("register", {})],
    "dispatched": [("register", {}), ("dispatch", {})],
    "returned": [("register", {}), ("dispatch", {}), ("return", {"reason": "不属于本网格"})],
    "accepted": [("register", {}), ("dispatch", {}), ("accept", {})],
    "on_site": [("register", {}), ("dispatch", {}), ("accept", {}), ("arrive", {})],
}
PATHS["handled"] = PATHS["on_site"] + [("handle", {})]
PATHS["rework"] = PATHS["handled"] + [("rework", {"reason": "未清理干净"})]
PATHS["verified"] = PATHS["handled"] + [("verify", {})]
PATHS["followed_up"] = PATHS["verified"] + [("follow_up", {"satisfaction": "satisfied"})]
PATHS["closed"] = PATHS["followed_up"] + [("close", {})]
PATHS["archived"] = PATHS["closed"] + [("archive", {})]


def drive(session, case_id: int, steps, start: datetime = T0) -> Case:
    case = None
    for i, (action, fields) in enumerate(steps, start=1):
        extra = {"lon": NEAR[0], "lat": NEAR[1]} if action == "arrive" else {}
        case = transition(session, case_id, action, actor="op1", at=start + timedelta(minutes=10 * i),
                          **extra, **fields)
    return case if case is not None else session.get(Case, case_id)


def snapshot(session, case_id: int) -> tuple[dict, int]:
    session.expire_all()
    row = session.execute(select(Case.__table__).where(Case.id == case_id)).mappings().one()
    events = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
    return dict(row), events


def test_paths_cover_every_state():
    assert set(PATHS) == set(constants.STATES)


def test_full_closed_loop(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["archived"])
    with store.Session() as s:
        case = s.get(Case, case_id)
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()
    assert case.state == "archived"
    assert [e.action for e in events] == ["report"] + [a for a, _ in PATHS["archived"]]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert case.version == len(events)
    assert [e.to_state for e in events][-1] == "archived"
    stamps = [case.registered_at, case.dispatched_at, case.accepted_at, case.arrived_at, case.handled_at,
              case.verified_at, case.followed_up_at, case.closed_at, case.archived_at]
    assert stamps == sorted(stamps) and None not in stamps
    assert case.satisfaction == "satisfied"
    assert case.respond_due > case.dispatched_at and case.close_due > case.arrive_due


@pytest.mark.parametrize("state", sorted(constants.STATES))
def test_every_illegal_action_raises_and_changes_nothing(store, state):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS[state])
    with store.Session() as s:
        before = snapshot(s, case_id)
        case = s.get(Case, case_id)
        legal = set(available_actions(case))
        for action in ACTIONS:
            if state in ACTIONS[action].from_states:
                continue
            assert action not in legal
            with pytest.raises(TransitionError, match=rf"case {case_id} is {state} .*allowed now"):
                transition(s, case_id, action, actor="op1", reason="x", satisfaction="satisfied",
                           until=T0 + timedelta(days=30))
            assert snapshot(s, case_id) == before
        s.rollback()
    if state in ("voided", "archived"):
        assert legal == set()


def test_unknown_action_names_the_actions(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        with pytest.raises(TransitionError, match="unknown action 'fly'.*register"):
            transition(s, case_id, "fly", actor="op1")


def test_void_needs_a_reason(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        with pytest.raises(TransitionError, match="reason is required"):
            transition(s, case_id, "void", actor="op1")
        case = transition(s, case_id, "void", actor="op1", reason="重复工单")
        assert case.state == "voided" and case.void_reason == "重复工单"
        assert available_actions(case) == []


def test_send_back_then_redispatch(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["returned"])
        case = s.get(Case, case_id)
        assert case.assignee_id is None and "不属于本网格" in case.unrouted_reason
        first_dispatch, close_due = case.dispatched_at, case.close_due
        with pytest.raises(TransitionError, match="no assignee"):
            transition(s, case_id, "dispatch", actor="op1")
        with pytest.raises(InputError, match="no active worker 'W999'"):
            transition(s, case_id, "dispatch", actor="op1", assignee_kind="worker", assignee_id="W999")
        case = transition(s, case_id, "dispatch", actor="op1", assignee_kind="department", assignee_id="市场监管")
        assert (case.state, case.assignee_kind, case.assignee_id) == ("dispatched", "department", "市场监管")
        assert case.dispatched_at == first_dispatch and case.close_due == close_due
        assert case.unrouted_reason is None


def test_arrival_records_location_and_distance(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["accepted"])
        with pytest.raises(TransitionError, match="location is missing"):
            transition(s, case_id, "arrive", actor="W001")
        case = transition(s, case_id, "arrive", actor="W001", lon=NEAR[0], lat=NEAR[1])
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())).first()
    _, _, geodesic = Geod(ellps="GRS80").inv(CASE_LON, CASE_LAT, NEAR[0], NEAR[1])
    assert case.state == "on_site"
    assert case.arrival_distance_m == pytest.approx(geodesic, abs=0.5)
    assert (event.lon, event.lat) == NEAR and "m from the case" in event.note


@pytest.mark.parametrize("category", sorted(constants.ARRIVAL_REQUIRED_CATEGORIES))
def test_arrival_required_before_handling(store, category):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s, category=category).id
        drive(s, case_id, PATHS["accepted"])
        assert "handle" not in available_actions(s.get(Case, case_id))
        with pytest.raises(TransitionError, match="must be on site first"):
            transition(s, case_id, "handle", actor="W001")


def test_rework_loop_and_reopen_after_dissatisfaction(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["rework"])
        case = transition(s, case_id, "handle", actor="W001")
        assert case.rework_count == 1
        case = transition(s, case_id, "verify", actor="op1")
        case = transition(s, case_id, "follow_up", actor="op1", satisfaction="basically_satisfied")
        with pytest.raises(TransitionError, match="only a case rated dissatisfied"):
            transition(s, case_id, "reopen", actor="op1")
    with store.Session() as s, s.begin():
        other = new_case(s, source_id="A2").id
        drive(s, other, PATHS["verified"])
        with pytest.raises(InputError, match="unknown rating 'great'"):
            transition(s, other, "follow_up", actor="op1", satisfaction="great")
        transition(s, other, "follow_up", actor="op1", satisfaction="dissatisfied")
        case = transition(s, other, "reopen", actor="op1")
        assert (case.state, case.rework_count) == ("rework", 1)
        assert "handle" in available_actions(case)


def test_extension_request_approve_and_refuse(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        case = drive(s, case_id, PATHS["accepted"])
        with pytest.raises(InputError, match="not after the current deadline"):
            transition(s, case_id, "request_extension", actor="W001", until=case.close_due - timedelta(hours=1))
        with pytest.raises(TransitionError, match="no extension has been requested"):
            transition(s, case_id, "approve_extension", actor="C001")
        until = case.close_due + timedelta(days=3)
        case = transition(s, case_id, "request_extension", actor="W001", until=until)
        assert (case.extension_state, case.extended_close_due) == ("requested", until)
        case = transition(s, case_id, "refuse_extension", actor="C001")
        assert (case.extension_state, case.extended_close_due, case.state) == ("refused", None, "accepted")
        transition(s, case_id, "request_extension", actor="W001", until=until)
        case = transition(s, case_id, "approve_extension", actor="C001")
        assert (case.extension_state, case.extended_close_due) == ("approved", until)
        with pytest.raises(TransitionError, match="already approved"):
            transition(s, case_id, "request_extension", actor="W001", until=until + timedelta(days=1))


def test_supervision_keeps_the_state_and_is_raised_once(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["dispatched"])
    with store.Session() as s, s.begin():
        case = transition(s, case_id, "supervise", actor="leader1", note="限期办结")
        assert case.supervised and case.state == "dispatched"
        with pytest.raises(TransitionError, match="already supervised"):
            transition(s, case_id, "supervise", actor="cmd")


def test_stale_expected_version_is_a_conflict(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        version = drive(s, case_id, PATHS["registered"]).version
    with store.Session() as s, s.begin():
        transition(s, case_id, "dispatch", actor="op1", expected_version=version)
    with store.Session() as s:
        stale = rf"case {case_id} was changed by someone else \(version {version + 1}\)"
        with pytest.raises(ConflictError, match=stale):
            transition(s, case_id, "void", actor="op2", expected_version=version, reason="x")


def _events(store, case_id):
    with store.Session() as s:
        return s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()


def test_two_dispatchers_at_once_one_wins(store):
    """Both read the case, both write: one commits, the other gets ConflictError."""
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        version = drive(s, case_id, PATHS["registered"]).version
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def dispatcher(name: str, worker: str) -> None:
        try:
            with store.Session() as s, s.begin():
                barrier.wait()
                transition(s, case_id, "dispatch", actor=name, expected_version=version,
                           assignee_kind="worker", assignee_id=worker)
            outcome[name] = "ok"
        except ConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=dispatcher, args=(n, w)) for n, w in (("op1", "W001"), ("op2", "W002"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in outcome.items() if r == "ok"]
    losers = [r for r in outcome.values() if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1
    assert "reload and try again" in str(losers[0])
    with store.Session() as s:
        case = s.get(Case, case_id)
    assert case.version == version + 1 and case.assignee_id == {"op1": "W001", "op2": "W002"}[winners[0]]
    assert _events(store, case_id) == ["report", "register", "dispatch"]


def test_write_blocked_by_an_uncommitted_one_becomes_a_conflict(store):
    """A writer that read before another's commit is refused by the database's version check."""
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        drive(s, case_id, PATHS["dispatched"])
    first_flushed = threading.Event()
    second_read = threading.Event()
    errors: list[Exception] = []

    def first() -> None:
        with store.Session() as s, s.begin():
            transition(s, case_id, "accept", actor="W001")
            first_flushed.set()
            second_read.wait(10)
            time.sleep(0.3)  # let the second writer reach its UPDATE and wait on our lock

    def second() -> None:
        first_flushed.wait(10)
        try:
            with store.Session() as s, s.begin():
                original_get = s.get

                def get_then_signal(*args, **kwargs):
                    obj = original_get(*args, **kwargs)
                    second_read.set()
                    return obj

                s.get = get_then_signal
                transition(s, case_id, "return", actor="op2", reason="派错了")
        except ConflictError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1
    with store.Session() as s:
        assert s.get(Case, case_id).state == "accepted"
    assert _events(store, case_id) == ["report", "register", "dispatch", "accept"]


@pytest.mark.parametrize("state", ["dispatched", "accepted"])
def test_reassign_hands_the_case_to_another_assignee(store, state):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
        before = drive(s, case_id, PATHS[state])
        dispatched_at, close_due = before.dispatched_at, before.close_due
        with pytest.raises(TransitionError, match="already assigned to worker W001"):
            transition(s, case_id, "reassign", actor="C001", assignee_kind="worker", assignee_id="W001")
        with pytest.raises(TransitionError, match="assignee_kind, assignee_id is required"):
            transition(s, case_id, "reassign", actor="C001")
        with pytest.raises(InputError, match="no active worker 'W999'"):
            transition(s, case_id, "reassign", actor="C001", assignee_kind="worker", assignee_id="W999")
        case = transition(s, case_id, "reassign", actor="C001", assignee_kind="worker", assignee_id="W002",
                          reason="W001 休假")
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())).first()
        assert (case.state, case.assignee_id, case.accepted_at) == ("dispatched", "W002", None)
        assert (case.dispatched_at, case.close_due) == (dispatched_at, close_due)
        assert event.note == "from worker W001 to worker W002 (W001 休假)"
        assert "accept" in available_actions(case)


def test_arrival_without_a_gps_fix_records_no_position(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s, category="dispute").id
        drive(s, case_id, PATHS["accepted"])
        with pytest.raises(TransitionError, match="no_fix=True"):
            transition(s, case_id, "arrive", actor="W001", no_fix=False)
        case = transition(s, case_id, "arrive", actor="W001", no_fix=True, note="信号弱")
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())).first()
    assert case.state == "on_site" and case.arrived_at is not None
    assert (case.arrival_lon, case.arrival_lat, case.arrival_distance_m) == (None, None, None)
    assert event.note == "no GPS fix: position and distance not recorded; 信号弱"
