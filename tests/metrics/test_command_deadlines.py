"""The command map's deadline filter and order (metrics.command): "overdue only" lists exactly the
overdue cases of the store, "due within 24 h" those not yet overdue with at most 24 h left, the
list runs from the most overdue to the latest deadline; the tiles keep counting every case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from access.scope import Scope
from cases import lifecycle
from cases.queries import CaseFilter
from metrics import command
from store.models import Case
from tests.factories import T0, add_people, new_case

NOW = T0 + timedelta(days=2)
DISTRICT = Scope(role="commander", area_codes="", username="cmd")
#: Hours from NOW to each dispatched case's close deadline.
CLOSE_IN = {"D1": -30.0, "D2": -2.0, "D3": 5.0, "D4": 23.5, "D5": 60.0}


@pytest.fixture
def deadlines(store):
    with store.Session() as s, s.begin():
        add_people(s)
        ids = {}
        for source_id, hours in CLOSE_IN.items():
            case_id = new_case(s, source_id=source_id, at=T0).id
            for action in ("register", "dispatch", "accept"):
                lifecycle.transition(s, case_id, action, actor="duty", at=T0)
            lifecycle.transition(s, case_id, "arrive", actor="W001", at=T0, no_fix=True)
            s.execute(update(Case).where(Case.id == case_id).values(close_due=NOW + timedelta(hours=hours)))
            ids[source_id] = case_id
        ids["new"] = new_case(s, source_id="N1", at=NOW - timedelta(hours=1)).id  # not dispatched: no deadline
    return store, ids


def _shown(store, due):
    with store.Session() as s:
        return command.load_map_data(s, DISTRICT, CaseFilter(), now=NOW, due=due)


def test_overdue_only_lists_exactly_the_overdue_cases(deadlines):
    store, ids = deadlines
    data = _shown(store, "overdue")
    assert data.shown["id"].tolist() == [ids["D1"], ids["D2"]]  # most overdue first
    assert data.kpis["overdue"] == 2 and data.kpis["open"] == 6  # tiles: every case of the filter
    assert data.shown["hours_left"].round(1).tolist() == [-30.0, -2.0]


def test_within_24h_and_the_whole_list_by_deadline(deadlines):
    store, ids = deadlines
    soon = _shown(store, "within_24h").shown
    assert soon["id"].tolist() == [ids["D3"], ids["D4"]]
    everything = _shown(store, None).shown
    assert everything["id"].tolist() == [ids[k] for k in ("D1", "D2", "D3", "D4", "D5", "new")]
    assert everything["due_kind"].tolist()[:5] == ["close"] * 5 and everything["due_kind"].iloc[-1] is None


def test_a_small_deadline_selection_is_drawn_as_points_even_when_the_filter_is_aggregated(deadlines):
    store, _ = deadlines
    with store.Session() as s:
        aggregated = command.load_map_data(s, DISTRICT, CaseFilter(), now=NOW, point_limit=3)
        overdue = command.load_map_data(s, DISTRICT, CaseFilter(), now=NOW, point_limit=1, due="overdue")
        few = command.load_map_data(s, DISTRICT, CaseFilter(), now=NOW, point_limit=3, due="overdue")
    assert aggregated.aggregated and not aggregated.points
    assert few.aggregated and few.points and len(few.shown) == 2
    assert overdue.aggregated and not overdue.points  # 2 overdue cases, more than a limit of 1


def test_unknown_deadline_filter_is_refused(deadlines):
    store, _ = deadlines
    with pytest.raises(ValueError, match="overdue, within_24h"):
        _shown(store, "tomorrow")
