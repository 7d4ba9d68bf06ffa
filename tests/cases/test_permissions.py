"""Role filter of the case actions (access.policy) over the lifecycle's own table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from access.policy import ROLE_ACTIONS, actions_for, actions_for_case, awaiting_arrival
from cases.lifecycle import ACTIONS, SUPERVISE_ROLES
from core.constants import (
    ARRIVAL_REQUIRED_CATEGORIES,
    CATEGORIES,
    OPEN_STATES,
    ROLES,
    STATES,
)
from core.errors import InputError


def _case(state: str, **extra) -> SimpleNamespace:
    values = {"id": 1, "state": state, "category": "dispute", "arrived_at": None, "satisfaction": None,
              "extension_state": None, "supervised": False, "assignee_kind": "worker", "assignee_id": "W1"}
    values.update(extra)
    return SimpleNamespace(**values)


def test_every_role_is_covered_and_every_action_exists():
    assert set(ROLE_ACTIONS) == set(ROLES)
    for actions in ROLE_ACTIONS.values():
        assert actions <= set(ACTIONS)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("state", list(STATES))
def test_actions_are_legal_in_the_state_and_allowed_for_the_role(role, state):
    for key in actions_for(state, "dispute", role):
        assert state in ACTIONS[key].from_states
        assert key in ROLE_ACTIONS[role]


def test_commander_registers_and_voids_a_reported_case_a_worker_cannot():
    assert actions_for("reported", "dispute", "commander") == ["register", "void", "supervise"]
    assert actions_for("reported", "dispute", "admin") == ["register", "void"]
    assert actions_for("reported", "dispute", "worker") == []
    assert actions_for("reported", "dispute", "chief") == ["supervise"]


def test_only_the_lifecycle_supervise_roles_get_supervise():
    for role in ROLES:
        assert ("supervise" in actions_for("registered", "dispute", role)) == (role in SUPERVISE_ROLES)


def test_dispatched_case_worker_accepts_or_sends_back_chief_reassigns_nothing_else():
    assert actions_for("dispatched", "dispute", "worker") == ["return", "accept", "request_extension"]
    assert "dispatch" not in actions_for("dispatched", "dispute", "chief")
    assert actions_for("returned", "dispute", "chief") == ["dispatch", "supervise"]
    assert "approve_extension" in actions_for("dispatched", "dispute", "chief")


def test_leader_may_only_supervise_open_cases():
    for state in STATES:
        expected = ["supervise"] if state in OPEN_STATES else []
        assert actions_for(state, "dispute", "leader") == expected


def test_arrival_required_category_cannot_be_handled_from_accepted():
    for category in CATEGORIES:
        got = actions_for("accepted", category, "worker")
        assert "arrive" in got
        assert ("handle" in got) == (category not in ARRIVAL_REQUIRED_CATEGORIES)
    assert "handle" in actions_for("on_site", "emergency", "worker")


def test_unknown_role_is_a_one_line_error():
    with pytest.raises(InputError, match="unknown role 'guest'"):
        actions_for("reported", "dispute", "guest")


def test_worker_acts_only_on_cases_assigned_to_them():
    case = _case("dispatched")
    assert actions_for_case(case, "worker", worker_id="W1") == ["return", "accept", "request_extension"]
    assert actions_for_case(case, "worker", worker_id="W2") == []
    assert actions_for_case(case, "worker") == []
    assert actions_for_case(_case("dispatched", assignee_kind="department"), "worker", worker_id="W1") == []


def test_case_guards_apply_after_the_role_filter():
    assert actions_for_case(_case("registered"), "leader") == ["supervise"]
    assert actions_for_case(_case("registered", supervised=True), "leader") == []
    pending = _case("accepted", extension_state="requested")
    assert "approve_extension" in actions_for_case(pending, "chief")
    assert "request_extension" not in actions_for_case(pending, "worker", worker_id="W1")
    assert "approve_extension" not in actions_for_case(_case("accepted"), "commander")


def test_awaiting_arrival_marks_unreached_emergencies_only():
    assert awaiting_arrival("registered", "emergency")
    assert awaiting_arrival("accepted", "emergency")
    assert not awaiting_arrival("on_site", "emergency")
    assert not awaiting_arrival("closed", "emergency")
    assert not awaiting_arrival("registered", "dispute")
