"""The chief's desk (cases.desk): queues in the caller's area, most urgent first, and dispatching a
case to its suggested assignee in one step; SQLite and PostGIS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from access.scope import Scope
from cases import lifecycle, queries
from cases.desk import QUEUES, dispatch_suggested, queue, queues
from cases.suggest import Suggestion
from core.errors import InputError
from store.models import Case, Worker
from tests.factories import T0, add_people, new_case

CHIEF = Scope(role="chief", area_codes="370811004001", username="chief1", worker_id="C001")
NOW = T0 + timedelta(days=2)


@pytest.fixture
def desk(store):
    """Reported, registered, returned, overdue, soon-due and extension-requested cases in the chief's
    community, and one reported case in another community."""
    with store.Session() as s, s.begin():
        add_people(s)
        s.add(Worker(id="W101", name="赵", role="worker", grid_code="370811004002001",
                     community_code="370811004002", active=True))
        ids = {}
        ids["old_request"] = new_case(s, source_id="Q1", at=T0 - timedelta(hours=5)).id
        ids["new_emergency"] = new_case(s, source_id="Q2", category="emergency", at=T0 + timedelta(hours=1)).id
        ids["registered"] = new_case(s, source_id="Q3", at=T0).id
        lifecycle.transition(s, ids["registered"], "register", actor="duty", at=T0)
        ids["returned"] = new_case(s, source_id="Q4", at=T0).id
        for action, fields in (("register", {}), ("dispatch", {}), ("return", {"reason": "不属于本网格"})):
            lifecycle.transition(s, ids["returned"], action, actor="duty", at=T0, **fields)
        ids["overdue"] = new_case(s, source_id="Q5", at=T0).id
        ids["soon"] = new_case(s, source_id="Q6", at=T0).id
        for key in ("overdue", "soon"):
            for action in ("register", "dispatch", "accept"):
                lifecycle.transition(s, ids[key], action, actor="duty", at=T0)
            lifecycle.transition(s, ids[key], "arrive", actor="W001", at=T0, no_fix=True)
        s.execute(update(Case).where(Case.id == ids["overdue"]).values(close_due=NOW - timedelta(hours=3)))
        s.execute(update(Case).where(Case.id == ids["soon"]).values(close_due=NOW + timedelta(hours=2)))
        lifecycle.transition(s, ids["soon"], "request_extension", actor="W001", at=T0,
                             until=NOW + timedelta(days=3))
        ids["elsewhere"] = new_case(s, source_id="Q7", grid_code="370811004002001", community_code="370811004002",
                                    assignee_id="W101").id
    return store, ids


def test_queues_hold_what_needs_a_decision_most_urgent_first(desk):
    store, ids = desk
    with store.Session() as s:
        got = queues(s, CHIEF, now=NOW)
    assert list(got) == list(QUEUES)
    # the emergency first, then the request waiting longest, then the registered one
    assert got["to_dispatch"]["id"].tolist() == [ids["new_emergency"], ids["old_request"], ids["registered"]]
    assert got["returned"]["id"].tolist() == [ids["returned"]]
    assert got["unrouted"]["id"].tolist() == [ids["returned"]]  # sent back: no assignee any more
    assert "不属于本网格" in got["returned"]["unrouted_reason"].iloc[0]
    assert got["extensions"]["id"].tolist() == [ids["soon"]]
    due = got["due"]
    assert due["id"].tolist() == [ids["overdue"], ids["soon"]]
    assert due["due"].tolist() == ["overdue", "soon"]
    assert due["hours_left"].iloc[0] == pytest.approx(-3.0) and due["hours_left"].iloc[1] == pytest.approx(2.0)
    assert ids["elsewhere"] not in set().union(*(set(q["id"]) for q in got.values()))


def test_a_suggestion_is_dispatched_in_one_step(desk):
    store, ids = desk
    with store.Session() as s, s.begin():
        case = queries.get_case(s, CHIEF, ids["old_request"])
        after = dispatch_suggested(s, CHIEF, case, Suggestion(case.id, "worker", "W002", "neighbour"))
    assert (after.state, after.assignee_id, after.version) == ("dispatched", "W002", case.version + 2)
    with store.Session() as s:
        case = queries.get_case(s, CHIEF, ids["returned"])
        with pytest.raises(InputError, match="no suggested assignee"):
            dispatch_suggested(s, CHIEF, case, Suggestion(case.id, None, None, "none"))
        overdue = queries.get_case(s, CHIEF, ids["overdue"])
        with pytest.raises(InputError, match="not waiting for dispatch"):
            dispatch_suggested(s, CHIEF, overdue, Suggestion(overdue.id, "worker", "W002", "own_worker"))


def test_unknown_queue_is_named(desk):
    store, _ = desk
    with store.Session() as s, pytest.raises(InputError, match="unknown desk queue"):
        queue(s, CHIEF, "inbox", now=NOW)
