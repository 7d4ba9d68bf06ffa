"""Case actions in the command map's case panel, by role (AppTest + a real SQLite store)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.views.pages import COMMUNITY_A, GRID_A, signed_in

ROOT = Path(__file__).resolve().parents[2]


def _panel(case_id: int, *, role: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60), role=role,
                   username=role).run()
    at.switch_page("views/command_map.py")
    at.session_state["selected_case"] = case_id
    at.run()
    assert not at.exception, at.exception
    return at


def _case(engine, case_id: int):
    from store.models import Case, CaseEvent

    with Session(engine) as session:
        case = session.get(Case, case_id)
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        return case.state, case.version, [(e.action, e.actor, e.to_state) for e in events]


def test_commander_registers_a_reported_case(actions_store) -> None:
    at = _panel(1, role="commander")
    register = at.button(key="cm_act_register_1_1")
    assert register.label == "立案"
    register.click().run()
    assert not at.exception, at.exception
    state, version, events = _case(actions_store, 1)
    assert (state, version) == ("registered", 2)
    assert ("register", "commander", "registered") in events
    assert any("立案" in s.value for s in at.success)
    assert not at.error
    # the panel's header already shows the new state (it is drawn after the action)
    assert any(m.value.startswith("**#1 ·") and m.value.endswith("· 已立案**") for m in at.markdown)
    # and it offers the new state's actions at once: no "register" any more, "dispatch" instead
    keys = {b.key for b in at.button} | {f.key for f in at.get("form")}
    assert "cm_act_register_1_1" not in keys and "cm_act_dispatch_1_2" in keys


def test_leader_sees_only_supervise_and_it_changes_no_state(actions_store) -> None:
    at = _panel(1, role="leader")
    keys = [b.key for b in at.button if b.key and b.key.startswith("cm_act_")]
    assert keys == ["cm_act_supervise_1_1"]
    at.button(key="cm_act_supervise_1_1").click().run()
    assert not at.exception, at.exception
    state, version, events = _case(actions_store, 1)
    assert state == "reported"
    assert version == 2
    assert ("supervise", "leader", "reported") in events


def test_commander_has_no_action_of_the_assigned_worker(actions_store) -> None:
    at = _panel(2, role="commander")
    keys = [b.key for b in at.button if b.key and b.key.startswith("cm_act_")]
    assert "cm_act_accept_2_1" not in keys
    assert "cm_act_supervise_2_1" in keys


@pytest.mark.parametrize(("worker_id", "can_accept"), [("W001", True), ("W999", False)])
def test_worker_accepts_only_a_case_assigned_to_them(actions_store, worker_id, can_accept) -> None:
    from core import clock
    from tests.layers.sample import sample_hierarchy

    grid = str(sample_hierarchy()["grids"]["code"].iloc[1])
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["auth"] = {
        "user": {"username": "w", "display_name": "w", "role": "worker", "area_codes": grid,
                 "worker_id": worker_id},
        "last_activity": clock.now(),
    }
    at.run()
    at.switch_page("views/command_map.py")
    at.session_state["selected_case"] = 2
    at.run()
    assert not at.exception, at.exception
    keys = [b.key for b in at.button if b.key and b.key.startswith("cm_act_")]
    assert ("cm_act_accept_2_1" in keys) == can_accept
    if can_accept:
        at.button(key="cm_act_accept_2_1").click().run()
        assert _case(actions_store, 2)[0] == "accepted"


def test_void_needs_a_reason_shown_as_one_line_error(actions_store) -> None:
    at = _panel(1, role="commander")
    submit = next(b for b in at.button if b.label == "作废")
    submit.click().run()
    assert not at.exception, at.exception
    assert at.error and "reason is required" in at.error[0].value
    assert _case(actions_store, 1)[0] == "reported"


def _as(role: str, area: str = "", worker_id: str | None = None) -> AppTest:
    from core import clock

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["auth"] = {
        "user": {"username": f"{role}1", "display_name": role, "role": role, "area_codes": area,
                 "worker_id": worker_id},
        "last_activity": clock.now(),
    }
    return at.run()


def _open_case(at: AppTest, case_id: int) -> AppTest:
    at.switch_page("views/command_map.py")
    at.session_state["selected_case"] = case_id
    at.run()
    assert not at.exception, at.exception
    return at


def _last_event(engine, case_id: int):
    from store.models import CaseEvent

    with Session(engine) as session:
        return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                               .order_by(CaseEvent.seq.desc())).first()


def test_commander_picks_the_assignee_with_the_routed_default_preselected(actions_store) -> None:
    at = _panel(3, role="commander")
    picker = at.selectbox(key="cm_act_dispatch_3_1_assignee")
    labels = " | ".join(picker.options)  # AppTest lists the shown labels
    for shown in ("网格员 W001 张*", "网格员 W002 李*", "网格长 C001 王*", "部门 应急管理", "部门 住建"):
        assert shown in labels
    assert picker.value == "worker:W001"  # the routed default, pre-selected
    assert "W001 张* (370811004001001)（路由默认）" in labels
    assert "张伟" not in labels  # names masked
    picker.set_value("department:住建")
    next(b for b in at.button if b.label == "派遣").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    state, version, events = _case(actions_store, 3)
    assert (state, version) == ("dispatched", 2)
    event = _last_event(actions_store, 3)
    assert event.action == "dispatch" and event.actor == "commander" and "to department 住建" in event.note


def test_chief_picks_only_within_their_community(actions_store) -> None:
    at = _open_case(_as("chief", COMMUNITY_A), 3)
    picker = at.selectbox(key="cm_act_dispatch_3_1_assignee")
    people = [o for o in picker.options if not o.startswith("部门")]
    assert len(people) == 2 and "W001" in people[0] and "C001" in people[1]  # W002 works elsewhere
    assert picker.value == "worker:W001"
    picker.set_value("chief:C001")
    next(b for b in at.button if b.label == "派遣").click().run()
    assert not at.exception, at.exception
    assert _case(actions_store, 3)[0] == "dispatched"
    assert "to chief C001" in _last_event(actions_store, 3).note


def _add_fix(engine, minutes_ago: float, lon_shift: float = 0.001) -> tuple[float, float]:
    from core import clock
    from store.models import Case, WorkerTrack

    with Session(engine) as session, session.begin():
        case = session.get(Case, 4)
        lon, lat = case.lon + lon_shift, case.lat
        session.add(WorkerTrack(worker_id="W001", at=clock.now() - timedelta(minutes=minutes_ago), lon=lon, lat=lat,
                                grid_code=GRID_A, community_code=COMMUNITY_A, street_code="370811004"))
    return lon, lat


def test_arrive_records_the_latest_gps_fix_and_its_distance(actions_store) -> None:
    from store.models import Case

    _add_fix(actions_store, 40, lon_shift=0.01)  # too old: ignored
    lon, lat = _add_fix(actions_store, 3)
    at = _open_case(_as("worker", GRID_A, "W001"), 4)
    assert any("按最近定位记录到场" in c.value for c in at.caption)
    assert not at.number_input  # no manual position needed
    next(b for b in at.button if b.label == "到场").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(actions_store) as session:
        case = session.get(Case, 4)
        assert case.state == "on_site"
        assert (case.arrival_lon, case.arrival_lat) == pytest.approx((lon, lat))
        assert 50 < case.arrival_distance_m < 150  # 0.001° of longitude ≈ 91 m here
    note = _last_event(actions_store, 4).note
    assert "GPS fix" in note and "m from the case" in note
    assert any("到场位置距案件" in s.value for s in at.success)  # shown with the confirmation after the rerun


def test_arrive_without_a_recent_fix_asks_for_the_position(actions_store) -> None:
    from store.models import Case

    _add_fix(actions_store, 40)  # older than the 15-minute default
    at = _open_case(_as("worker", GRID_A, "W001"), 4)
    assert any("近 15 分钟内没有您的定位" in c.value for c in at.caption)
    submit = next(b for b in at.button if b.label == "到场")
    submit.click().run()  # nothing entered, "no GPS fix" not ticked
    assert not at.exception, at.exception
    assert at.error and "no GPS fix of W001" in at.error[0].value and "enter lon/lat" in at.error[0].value
    assert _case(actions_store, 4)[0] == "accepted"
    with Session(actions_store) as session:
        case = session.get(Case, 4)
        lon, lat = case.lon + 0.002, case.lat
    at.number_input(key="cm_act_arrive_4_1_lon").set_value(lon)
    at.number_input(key="cm_act_arrive_4_1_lat").set_value(lat)
    next(b for b in at.button if b.label == "到场").click().run()
    assert not at.exception, at.exception
    assert _case(actions_store, 4)[0] == "on_site"
    note = _last_event(actions_store, 4).note
    assert "entered by hand" in note and "no GPS fix in the last 15 min" in note


def test_arrive_with_no_gps_fix_at_all_is_noted_in_the_timeline(actions_store) -> None:
    at = _open_case(_as("worker", GRID_A, "W001"), 4)
    at.checkbox(key="cm_act_arrive_4_1_nofix").check()
    next(b for b in at.button if b.label == "到场").click().run()
    assert not at.exception, at.exception
    from store.models import Case

    assert _case(actions_store, 4)[0] == "on_site"
    assert "no GPS fix" in _last_event(actions_store, 4).note
    with Session(actions_store) as session:
        case = session.get(Case, 4)
        assert case.arrived_at is not None  # the time is kept, no position or distance is made up
        assert (case.arrival_lon, case.arrival_lat, case.arrival_distance_m) == (None, None, None)
    timeline = next(d for d in at.dataframe if "说明" in d.value.columns)
    assert timeline.value["说明"].astype(str).str.contains("no GPS fix").any()


def test_reassign_offers_everyone_but_the_current_assignee(actions_store) -> None:
    at = _panel(2, role="commander")  # case 2: dispatched to W001, in grid B
    picker = at.selectbox(key="cm_act_reassign_2_1_assignee")
    assert not any("W001" in o for o in picker.options)
    assert picker.value == "worker:W002"  # the routing rules' pick: grid B's own worker
    next(b for b in at.button if b.label == "改派").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    state, version, _ = _case(actions_store, 2)
    assert (state, version) == ("dispatched", 2)
    assert "from worker W001 to worker W002" in _last_event(actions_store, 2).note


def test_chief_cannot_reassign_outside_their_community(actions_store) -> None:
    at = _open_case(_as("chief", COMMUNITY_A), 2)  # case 2 lies in community B
    assert not [b for b in at.button if b.label == "改派"]
    assert any("no case 2 in your area" in w.value for w in at.warning)  # not found, as if it did not exist
