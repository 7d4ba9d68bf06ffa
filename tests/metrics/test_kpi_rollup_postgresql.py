"""PostgreSQL's KPI roll-up: concurrent writers never wait on it, the scheduled fold moves the
delta without changing a figure, and TRUNCATE empties it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from cases import lifecycle
from cases.scheduled import run_job
from metrics import kpi
from tests.factories import T0, add_people, new_case
from tests.metrics.test_kpi_rollup import DIRECT_SINCE, NOW, _kpi_daily_rows, _rollup_rows

pytestmark = [pytest.mark.postgis,
              pytest.mark.parametrize("module_store", [pytest.param("postgis", marks=pytest.mark.postgis)],
                                      indirect=True)]


def _delta_rows(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM kpi_daily_delta")).scalar()


def test_dispatchers_of_one_grid_do_not_wait_on_each_other(store):
    with store.Session() as s, s.begin():
        add_people(s)
        first_id = new_case(s, source_id="A").id
        second_id = new_case(s, source_id="B").id  # same day, grid and worker: one roll-up key
    with store.Session() as first, store.Session() as second:
        lifecycle.transition(first, first_id, "register", actor="t", at=T0 + timedelta(minutes=5))
        first.flush()  # the first dispatcher's row is written, its transaction still open
        second.execute(text("SET lock_timeout = '2s'"))  # waiting on a roll-up row would fail here
        lifecycle.transition(second, second_id, "register", actor="t", at=T0 + timedelta(minutes=6))
        second.commit()
        first.commit()
    fast = kpi.kpi_table(store.engine, by="grid", now=NOW)
    direct = kpi.kpi_table(store.engine, by="grid", now=NOW, since=DIRECT_SINCE)
    assert fast.rows == direct.rows
    with store.engine.connect() as conn:
        assert [row[7] for row in _rollup_rows(conn)] == [2]  # both registered


def test_the_scheduled_fold_moves_the_delta_and_changes_no_figure(store):
    with store.Session() as s, s.begin():
        add_people(s)
        for i in range(6):
            case = new_case(s, source_id=f"F{i}", at=T0 + timedelta(days=i % 3))
            for step, action in enumerate(["register", "dispatch", "accept", "arrive", "handle"][:i]):
                lifecycle.transition(s, case.id, action, actor="t", at=case.reported_at + timedelta(hours=step + 1),
                                     lon=116.587, lat=35.415)
    before = kpi.kpi_table(store.engine, by="grid", now=NOW)
    with store.engine.connect() as conn:
        seen = _rollup_rows(conn)
    assert _delta_rows(store) > 0
    assert run_job(store.engine, "kpi_fold", holder="t", now=NOW) > 0
    assert _delta_rows(store) == 0
    with store.engine.connect() as conn:
        assert _kpi_daily_rows(conn) == seen
    assert kpi.kpi_table(store.engine, by="grid", now=NOW).rows == before.rows
    with store.Session() as s, s.begin():  # a later action counts at once, before any fold
        lifecycle.transition(s, s.scalar(text("SELECT id FROM cases WHERE source_id = 'F0'")), "register",
                             actor="t", at=T0 + timedelta(hours=2))
    after = kpi.kpi_table(store.engine, by=None, now=NOW)
    assert after.rows[0]["registered"] == before.total["registered"] + 1


def test_truncating_the_cases_empties_the_rollup(store):
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="T1")
    run_job(store.engine, "kpi_fold", holder="t", now=NOW)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE cases CASCADE"))
    with store.engine.connect() as conn:
        assert _rollup_rows(conn) == set()
    assert kpi.kpi_table(store.engine, by=None, now=NOW).rows[0]["reported"] == 0
