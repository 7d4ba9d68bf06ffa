"""Escalation of overdue cases (cases.escalation) and its scheduled job run by one process at a time
(cases.scheduled), on SQLite and PostGIS, with two real processes racing."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from cases import lifecycle
from cases.escalation import due_escalations, escalate_overdue
from cases.scheduled import run_job, take_lease
from store.db import make_engine
from store.models import Case, CaseEvent, JobLease
from tests.factories import T0, add_people, new_case


def _dispatched(store, source_id: str, *, close_in_h: float) -> int:
    """A case dispatched and accepted at T0, on site (so the close deadline is the pending one)."""
    with store.Session() as s, s.begin():
        case = new_case(s, source_id=source_id)
        for action in ("register", "dispatch", "accept"):
            lifecycle.transition(s, case.id, action, actor="duty", at=T0)
        lifecycle.transition(s, case.id, "arrive", actor="W001", at=T0, no_fix=True)
        s.execute(update(Case).where(Case.id == case.id).values(close_due=T0 + timedelta(hours=close_in_h)))
        return case.id


def _escalations(store, case_id: int) -> list[tuple[str, str]]:
    with store.Session() as s:
        rows = s.execute(select(CaseEvent.actor, CaseEvent.note).where(CaseEvent.case_id == case_id,
                                                                      CaseEvent.action == "escalate")
                         .order_by(CaseEvent.seq)).all()
    return [(a, n) for a, n in rows]


@pytest.fixture
def people(store):
    with store.engine.begin() as conn:
        conn.execute(JobLease.__table__.delete())
    with store.Session() as s, s.begin():
        add_people(s)
    return store


def test_an_overdue_case_goes_to_the_chief_then_the_commander_once_each(people):
    late = _dispatched(people, "E1", close_in_h=1)
    on_time = _dispatched(people, "E2", close_in_h=100)
    assert escalate_overdue(people.engine, T0 + timedelta(hours=3)) == 1
    assert escalate_overdue(people.engine, T0 + timedelta(hours=4)) == 0  # level 1 is taken once
    first = _escalations(people, late)
    assert len(first) == 1 and first[0][0] == "system:escalation"
    assert "escalated to chief C001 (level 1)" in first[0][1] and "overdue 2.0 h" in first[0][1]
    assert escalate_overdue(people.engine, T0 + timedelta(hours=26)) == 1  # overdue 25 h: the commander
    assert escalate_overdue(people.engine, T0 + timedelta(hours=50)) == 0
    notes = [n for _, n in _escalations(people, late)]
    assert len(notes) == 2 and "escalated to commander (level 2)" in notes[1]
    assert _escalations(people, on_time) == []
    with people.Session() as s:
        assert s.get(Case, late).escalation_level == 2 and s.get(Case, late).state == "on_site"


def test_a_case_late_by_a_day_goes_straight_to_the_commander(people):
    case_id = _dispatched(people, "E3", close_in_h=1)
    with people.Session() as s:
        due = due_escalations(s, T0 + timedelta(hours=30))
    assert [(d.case_id, d.step.level, d.step.to) for d in due] == [(case_id, 2, "commander")]


def test_a_closed_case_is_never_escalated(people):
    case_id = _dispatched(people, "E4", close_in_h=1)
    with people.Session() as s, s.begin():
        s.execute(update(Case).where(Case.id == case_id).values(state="closed", closed_at=T0))
    assert escalate_overdue(people.engine, T0 + timedelta(days=3)) == 0


def test_the_lease_lets_one_holder_run_at_a_time(people):
    now = T0 + timedelta(hours=3)
    assert take_lease(people.engine, "escalation", "a", now)
    assert not take_lease(people.engine, "escalation", "b", now)
    assert take_lease(people.engine, "escalation", "a", now + timedelta(minutes=1))  # renewed by its holder
    assert take_lease(people.engine, "escalation", "b", now + timedelta(minutes=10))  # expired: free again


def test_a_job_another_process_ran_within_the_gap_is_not_run_again(people):
    now, gap = T0 + timedelta(hours=3), timedelta(seconds=54)
    assert run_job(people.engine, "escalation", holder="a", now=now, min_gap=gap) is not None
    assert run_job(people.engine, "escalation", holder="b", now=now + timedelta(seconds=20), min_gap=gap) is None
    assert run_job(people.engine, "escalation", holder="b", now=now + timedelta(seconds=60), min_gap=gap) is not None
    assert run_job(people.engine, "escalation", holder="a", now=now + timedelta(seconds=61)) is not None  # no gap


def _race(url: str, holder: str, now_iso: str, start, results) -> None:
    from datetime import datetime

    engine = make_engine(url)
    start.wait()
    counts = [run_job(engine, "escalation", holder=holder, now=datetime.fromisoformat(now_iso)) for _ in range(5)]
    results.put((holder, counts))
    engine.dispose()


def test_two_processes_escalate_each_case_exactly_once(people):
    cases = [_dispatched(people, f"R{i}", close_in_h=1) for i in range(12)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    now = (T0 + timedelta(hours=3)).isoformat()
    workers = [context.Process(target=_race, args=(people.url, f"p{k}", now, start, results)) for k in range(2)]
    for proc in workers:
        proc.start()
    start.set()
    for proc in workers:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    runs = dict(results.get(timeout=10) for _ in workers)
    taken = sum(n for counts in runs.values() for n in counts if n)
    assert taken == len(cases)
    with people.Session() as s:
        per_case = dict(s.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.action == "escalate")
                                  .group_by(CaseEvent.case_id)).all())
    assert per_case == {case_id: 1 for case_id in cases}
