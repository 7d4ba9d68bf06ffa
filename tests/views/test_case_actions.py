"""Case actions in the command map's case panel, by role (AppTest + a real SQLite store)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.views.conftest import case_store, signed_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings with the sample hierarchy and a store holding one reported and one dispatched case."""
    import streamlit as st

    def rows_for(grids, points, now):
        return [{"source": "hotline_12345", "source_id": f"A{i}", "category": "dispute", "text": "噪音扰民",
                 "lon": points.iloc[i].x, "lat": points.iloc[i].y, "grid_code": grids["code"].iloc[i],
                 "community_code": grids["parent_code"].iloc[i], "state": state, "priority": "normal",
                 "reported_at": now - timedelta(hours=2), "version": 1, "rework_count": 0,
                 "supervised": False, "assignee_kind": "worker" if i else None,
                 "assignee_id": "W001" if i else None,
                 "dispatched_at": now - timedelta(hours=1) if i else None,
                 "close_due": now + timedelta(days=2)}
                for i, state in enumerate(("reported", "dispatched"))]

    engine = case_store(tmp_path, monkeypatch, rows_for)
    yield engine
    engine.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()


def _panel(case_id: int, *, role: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60), role=role,
                   username=role).run()
    at.switch_page("views/command_map.py")
    at.session_state["selected_case"] = case_id
    at.run()
    assert not at.exception, at.exception
    return at


def _case(engine, case_id: int):
    from cases.models import Case, CaseEvent

    with Session(engine) as session:
        case = session.get(Case, case_id)
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        return case.state, case.version, [(e.action, e.actor, e.to_state) for e in events]


def test_commander_registers_a_reported_case(store) -> None:
    at = _panel(1, role="commander")
    register = at.button(key="cm_act_register_1_1")
    assert register.label == "立案"
    register.click().run()
    assert not at.exception, at.exception
    state, version, events = _case(store, 1)
    assert (state, version) == ("registered", 2)
    assert ("register", "commander", "registered") in events
    assert any("立案" in s.value for s in at.success)
    assert not at.error


def test_leader_sees_only_supervise_and_it_changes_no_state(store) -> None:
    at = _panel(1, role="leader")
    keys = [b.key for b in at.button if b.key and b.key.startswith("cm_act_")]
    assert keys == ["cm_act_supervise_1_1"]
    at.button(key="cm_act_supervise_1_1").click().run()
    assert not at.exception, at.exception
    state, version, events = _case(store, 1)
    assert state == "reported"
    assert version == 2
    assert ("supervise", "leader", "reported") in events


def test_commander_has_no_action_of_the_assigned_worker(store) -> None:
    at = _panel(2, role="commander")
    keys = [b.key for b in at.button if b.key and b.key.startswith("cm_act_")]
    assert "cm_act_accept_2_1" not in keys
    assert "cm_act_supervise_2_1" in keys


@pytest.mark.parametrize(("worker_id", "can_accept"), [("W001", True), ("W999", False)])
def test_worker_accepts_only_a_case_assigned_to_them(store, worker_id, can_accept) -> None:
    from cases import clock
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
        assert _case(store, 2)[0] == "accepted"


def test_void_needs_a_reason_shown_as_one_line_error(store) -> None:
    at = _panel(1, role="commander")
    submit = next(b for b in at.button if b.label == "作废")
    submit.click().run()
    assert not at.exception, at.exception
    assert at.error and "reason is required" in at.error[0].value
    assert _case(store, 1)[0] == "reported"
