"""The five teams (五团进网): members listed per grid (masked, scoped) and added to a case as
co-handlers through cases.commands.act; SQLite and PostGIS."""

from __future__ import annotations

import pytest

from access.scope import Scope
from cases import lifecycle
from cases.commands import act
from core.errors import InputError, NotFound, PermissionDenied
from tests.factories import T0, add_people, new_case
from workforce.teams import add_member, cohandlers, team_members

G1, G2 = "370811004001001", "370811004001002"
CHIEF = Scope(role="chief", area_codes="370811004001", username="chief1")
WORKER = Scope(role="worker", area_codes=G1, username="w1", worker_id="W001")


@pytest.fixture
def teams(store):
    with store.Session() as s, s.begin():
        add_people(s)
        add_member(s, member_id="T1", team="party", name="刘党员", phone="13900001111", grid_code=G1,
                   community_code="370811004001", street_code="370811004")
        add_member(s, member_id="T2", team="volunteers", name="陈志愿", grid_code=G2, community_code="370811004001",
                   street_code="370811004")
        add_member(s, member_id="T9", team="social", name="外网格", grid_code="370811004002001",
                   community_code="370811004002", street_code="370811004")
        case = new_case(s, source_id="CO1")
        for action in ("register", "dispatch"):
            lifecycle.transition(s, case.id, action, actor="duty", at=T0)
    return store, case.id


def test_members_are_listed_per_grid_masked_and_scoped(teams):
    store, _ = teams
    with store.Session() as s:
        g1 = team_members(s, WORKER, grid_code=G1)
        chief = team_members(s, CHIEF)
        with pytest.raises(PermissionDenied):
            team_members(s, Scope(role="leader", username="boss"))
    assert g1[["id", "team", "name", "phone"]].values.tolist() == [["T1", "party", "刘*员", "139****1111"]]
    assert set(chief["id"]) == {"T1", "T2"}  # T9 serves another community


def test_a_chief_adds_a_co_handler_once(teams):
    store, case_id = teams
    with store.Session() as s, s.begin():
        after = act(s, CHIEF, case_id, "cohandle", 3, member_id="T1", note="请协助入户")
        assert after.state == "dispatched" and after.version == 4
    with store.Session() as s, s.begin():
        act(s, CHIEF, case_id, "cohandle", 4, member_id="T1")  # a repeat records the event, not a second row
    with store.Session() as s:
        assert cohandlers(s, CHIEF, case_id)["id"].tolist() == ["T1"]
        with pytest.raises(NotFound):
            act(s, CHIEF, case_id, "cohandle", 5, member_id="T9")  # outside the chief's area
        with pytest.raises(PermissionDenied, match="may not cohandle"):
            act(s, WORKER, case_id, "cohandle", 5, member_id="T1")
        with pytest.raises(InputError, match="unknown team"):
            add_member(s, member_id="X", team="choir", name="x", grid_code=G1, community_code=None, street_code=None)
