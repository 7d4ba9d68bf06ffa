"""Suggested assignees (cases.suggest) with their reasons, on hand-made directories and loads."""

from __future__ import annotations

import pytest

from access.scope import Scope
from cases.routing import Directory, parse_rules
from cases.suggest import Context, suggest, suggest_one

RULES = parse_rules("""
departments = ["综合执法", "应急管理"]
[grid_admission]
categories = ["request"]
subcategories = ["neighbour"]
department = "综合执法"
[[rule]]
category = ["emergency"]
target = "department:应急管理"
[[rule]]
target = "grid_worker"
fallback = "community_chief"
""")
COMMANDER = Scope(role="commander", username="duty")


def _ctx(loads: dict[str, int], *, scope: Scope = COMMANDER, workers: dict[str, str] | None = None) -> Context:
    directory = Directory(grid_workers=workers if workers is not None else {"G1": "W1", "G2": "W2", "G3": "W3"},
                          community_chiefs={"C1": "K1"}, departments=frozenset({"综合执法", "应急管理"}))
    neighbours = {"G1": ["G2", "G3"], "G2": ["G1", "G3"], "G3": ["G2", "G1"]}
    return Context(scope, RULES, directory, dict(loads), neighbours, overload_ratio=1.5)


def _case(case_id: int, grid: str | None = "G1", category: str = "request", sub: str | None = "noise") -> dict:
    return {"id": case_id, "category": category, "subcategory": sub, "grid_code": grid, "community_code": "C1",
            "street_code": "S", "source": "hotline_12345", "join_status": "ok"}


def test_the_grids_own_worker_first():
    got = suggest_one(_ctx({"W1": 2, "W2": 2, "W3": 2}), _case(1))
    assert (got.assignee_kind, got.assignee_id, got.reason) == ("worker", "W1", "own_worker")
    assert got.detail == {"worker": "W1", "grid": "G1", "open": 2} and got.key == "worker:W1"


def test_an_overloaded_worker_is_passed_over_for_the_least_loaded_neighbour():
    # mean (9 + 3 + 0) / 3 = 4, limit 6: W1 with 9 is overloaded; W3 (0) beats the nearer W2 (3)
    got = suggest_one(_ctx({"W1": 9, "W2": 3, "W3": 0}), _case(2))
    assert (got.assignee_id, got.reason) == ("W3", "neighbour")
    assert got.detail["passed_over"] == "overloaded" and got.detail["own_open"] == 9 and got.detail["grid"] == "G3"


def test_a_vacant_grid_goes_to_a_neighbour_nearest_first_on_ties():
    ctx = _ctx({"W2": 1, "W3": 1}, workers={"G2": "W2", "G3": "W3"})
    got = suggest_one(ctx, _case(3))
    assert (got.assignee_id, got.detail["passed_over"], got.detail["own"]) == ("W2", "absent", None)


def test_a_chief_is_only_offered_workers_of_their_area():
    chief = Scope(role="chief", area_codes="G1,G3", username="chief")  # G2 lies outside
    got = suggest_one(_ctx({"W1": 9, "W2": 0, "W3": 2}, scope=chief), _case(4))
    assert got.assignee_id == "W3"


def test_a_matter_not_admitted_goes_to_the_department():
    got = suggest_one(_ctx({"W1": 0}), _case(5, category="dispute", sub="labour"))
    assert (got.assignee_kind, got.assignee_id, got.reason) == ("department", "综合执法", "not_admitted")
    assert got.detail["matter"] == "labour"


def test_when_every_worker_is_overloaded_the_rules_decide():
    ctx = _ctx({"W1": 9, "W2": 9, "W3": 9})
    ctx.overload_ratio = 0.5  # limit 4.5: nobody is free
    got = suggest_one(ctx, _case(6))
    assert (got.assignee_kind, got.assignee_id, got.reason) == ("worker", "W1", "rules")
    emergency = suggest_one(ctx, _case(7, category="emergency", sub="fire"))
    assert (emergency.assignee_id, emergency.reason) == ("应急管理", "rules")


def test_outside_every_grid_nobody_and_why():
    ctx = _ctx({}, workers={})
    got = suggest_one(ctx, {**_case(8, grid=None), "community_code": None, "join_status": "outside"})
    assert (got.assignee_id, got.reason) == (None, "none")
    assert "outside every grid" in got.detail["routing"]


def test_a_batch_is_spread_over_workers():
    ctx = _ctx({"W1": 2, "W2": 2, "W3": 2})
    picks = [s.assignee_id for s in suggest(ctx, [_case(i) for i in range(10, 22)])]
    # W1 takes cases until it passes 1.5 × the (rising) mean, then the neighbours share the rest
    assert picks[:3] == ["W1", "W1", "W1"]
    assert set(picks) == {"W1", "W2", "W3"}
    assert max(ctx.loads.values()) - min(ctx.loads.values()) <= 6
    assert sum(ctx.loads.values()) == 6 + 12


@pytest.mark.parametrize("grid", ["G1", "G2", "G3"])
def test_every_suggestion_names_a_reason(grid):
    got = suggest_one(_ctx({"W1": 1, "W2": 1, "W3": 1}), _case(30, grid=grid))
    assert got.reason == "own_worker" and got.detail["grid"] == grid
