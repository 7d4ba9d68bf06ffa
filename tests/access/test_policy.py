"""The one permission table (access.policy), held against a matrix written out by hand here, and
the actions a caller may take on a case (cases.commands.allowed_actions) built from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from access import policy
from access.scope import Scope
from cases.actions import ACTIONS, awaiting_arrival
from cases.commands import allowed_actions
from cases.queries import CaseView
from core.errors import InputError, PermissionDenied

#: role -> (reach, records, pages, case actions, assigns) -- written out, not computed from the code.
EXPECTED = {
    "admin": ("district", True, {"hierarchy", "command", "desk", "kpi", "visits", "briefing", "audit-log"},
              {"register", "void", "dispatch", "reassign", "verify", "rework", "follow_up", "reopen", "close",
               "archive", "approve_extension", "refuse_extension", "cohandle"}, "district"),
    "commander": ("district", True, {"hierarchy", "command", "desk", "kpi", "visits", "briefing"},
                  {"register", "void", "dispatch", "reassign", "verify", "rework", "follow_up", "reopen", "close",
                   "archive", "approve_extension", "refuse_extension", "supervise", "cohandle"}, "district"),
    "chief": ("area", True, {"hierarchy", "command", "desk", "kpi", "visits"},
              {"register", "dispatch", "reassign", "verify", "rework", "approve_extension", "refuse_extension",
               "supervise", "cohandle"}, "area"),
    "worker": ("grid", True, {"hierarchy", "command", "field", "kpi", "visits"},
               {"accept", "return", "arrive", "handle", "request_extension"}, None),
    "leader": ("district", False, {"hierarchy", "command", "kpi", "visits", "briefing"}, {"supervise"}, None),
}
#: role -> capabilities, and record kinds it may unmask.
EXPECTED_CAPABILITIES = {
    "admin": ({"read_records", "read_aggregates", "unmask", "export", "manage_users", "read_audit"},
              {"case", "household"}),
    "commander": ({"read_records", "read_aggregates", "unmask", "export"}, {"case", "household"}),
    "chief": ({"read_records", "read_aggregates", "unmask", "export"}, {"case", "household"}),
    "worker": ({"read_records", "read_aggregates", "unmask", "export", "record_visits"}, {"household"}),
    "leader": ({"read_aggregates"}, set()),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_table_says_what_each_role_may_do(role):
    reach, records, pages, actions, assigns = EXPECTED[role]
    row = policy.role_policy(role)
    assert (row.reach, row.pages, row.actions, row.assigns) == (reach, pages, actions, assigns)
    assert policy.can(role, "read_records") is records
    capabilities, unmask_kinds = EXPECTED_CAPABILITIES[role]
    assert {c for c in policy.CAPABILITIES if policy.can(role, c)} == capabilities
    assert row.unmask_kinds == unmask_kinds
    assert {p for p in policy.PAGES if policy.may_open(role, p)} == pages
    assert row.own_cases_only is (role == "worker")


def test_the_table_covers_every_role_and_only_actions_of_the_lifecycle():
    assert set(policy.POLICY) == set(EXPECTED) == set(policy.ROLES)
    assert policy.roles_that("supervise") == {"commander", "chief", "leader"}
    assert policy.roles_that("dispatch") == {"admin", "commander", "chief"}
    assert policy.roles_that("register") == {"admin", "commander", "chief"}
    assert all(p.actions <= set(ACTIONS) for p in policy.POLICY.values())


def test_unknown_role_and_capability_are_refused():
    with pytest.raises(InputError, match="unknown role 'guest'"):
        policy.role_policy("guest")
    with pytest.raises(ValueError, match="unknown capability 'fly'"):
        policy.can("admin", "fly")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        policy.require("commander", "manage_users", who="cmd")


def _case(state: str, **extra) -> CaseView:
    values = {f: None for f in CaseView.__dataclass_fields__}
    values.update(id=1, source="hotline_12345", source_id="A1", category="dispute", state=state, priority="normal",
                  supervised=False, rework_count=0, version=1, assignee_kind="worker", assignee_id="W1",
                  grid_code="G1")
    values.update(extra)
    return CaseView(**values)


COMMANDER = Scope("commander", username="cmd")
ADMIN = Scope("admin", username="adm")
CHIEF = Scope("chief", area_codes="C1", username="chief")
LEADER = Scope("leader", username="boss")
WORKER_1 = Scope("worker", area_codes="G1", username="w1", worker_id="W1")
WORKER_2 = Scope("worker", area_codes="G1", username="w2", worker_id="W2")


@pytest.mark.parametrize(("state", "actor", "expected"), [
    ("reported", COMMANDER, ["register", "void", "supervise"]),
    ("reported", ADMIN, ["register", "void"]),
    ("reported", WORKER_1, []),
    ("reported", CHIEF, ["register", "supervise"]),
    ("reported", LEADER, ["supervise"]),
    ("registered", CHIEF, ["dispatch", "supervise", "cohandle"]),
    ("dispatched", WORKER_1, ["return", "accept", "request_extension"]),
    ("dispatched", WORKER_2, []),
    ("dispatched", CHIEF, ["reassign", "supervise", "cohandle"]),
    ("returned", CHIEF, ["dispatch", "supervise", "cohandle"]),
    ("accepted", WORKER_1, ["arrive", "request_extension"]),
    ("on_site", WORKER_1, ["handle", "request_extension"]),
    ("handled", CHIEF, ["verify", "rework", "supervise", "cohandle"]),
    ("verified", COMMANDER, ["follow_up", "supervise", "cohandle"]),
    ("closed", COMMANDER, ["archive"]),
    ("closed", LEADER, []),
    ("archived", ADMIN, []),
])
def test_allowed_actions_by_state_and_caller(state, actor, expected):
    arrived = datetime(2026, 11, 16, 9, 30) if state == "on_site" else None
    assert allowed_actions(_case(state, arrived_at=arrived), actor) == expected


def test_case_guards_apply_after_the_role_filter():
    assert allowed_actions(_case("registered", supervised=True), LEADER) == []
    pending = _case("accepted", extension_state="requested")
    assert "approve_extension" in allowed_actions(pending, CHIEF)
    assert "request_extension" not in allowed_actions(pending, WORKER_1)
    assert "approve_extension" not in allowed_actions(_case("accepted"), COMMANDER)
    assert allowed_actions(_case("dispatched", assignee_kind="department"), WORKER_1) == []


def test_an_arrival_category_is_handled_only_after_arriving():
    assert allowed_actions(_case("accepted", category="emergency"), WORKER_1) == ["arrive", "request_extension"]
    arrived = replace(_case("accepted", category="emergency"), arrived_at=datetime(2026, 11, 16, 9, 30))
    assert allowed_actions(arrived, WORKER_1) == ["arrive", "handle", "request_extension"]


def test_awaiting_arrival_marks_unreached_emergencies_only():
    assert awaiting_arrival("registered", "emergency")
    assert awaiting_arrival("accepted", "emergency")
    assert not awaiting_arrival("on_site", "emergency")
    assert not awaiting_arrival("closed", "emergency")
    assert not awaiting_arrival("registered", "dispute")


def test_forms_are_generated_from_the_action_table():
    assert ACTIONS["dispatch"].inputs == ("assignee",)
    assert ACTIONS["reassign"].inputs == ("assignee", "reason")
    assert ACTIONS["arrive"].inputs == ("position",)
    assert ACTIONS["follow_up"].inputs == ("satisfaction",)
    assert ACTIONS["request_extension"].inputs == ("until",)
    assert ACTIONS["accept"].inputs == ()
    assert ACTIONS["cohandle"].inputs == ("team_member",)
    assert ACTIONS["handle"].inputs == ("photos",)
