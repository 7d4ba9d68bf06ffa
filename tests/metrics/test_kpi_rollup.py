"""The daily KPI roll-up (SQLite and PostgreSQL) stays exact through inserts, transitions,
reassignments, deletes and bulk loads; on PostgreSQL concurrent writers never wait on it."""

from __future__ import annotations

import random
from datetime import datetime as dt
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from access.scope import Scope
from cases import lifecycle
from metrics import kpi
from store import db, rollup
from store.models import Case
from tests.factories import T0, add_people, new_case
from tests.fixtures.stores import Store

NOW = T0 + timedelta(days=6)
GRIDS = [("370811004001001", "W001"), ("370811004001002", "W002")]
#: A window start that is not midnight: kpi_table then scans the cases directly (no roll-up).
DIRECT_SINCE = dt(2000, 1, 1, 0, 0, 1)


def _rollup_rows(conn) -> set[tuple]:
    """The roll-up as a query sees it (on PostgreSQL ``kpi_daily`` plus the delta not folded in)."""
    rows = rollup.source(conn.dialect.name, tuple(kpi.settled_measures()))
    keys = [rows.c[k] for k in ("day", *rollup.KEY_COLUMNS)]
    query = select(*keys, *(func.sum(rows.c[m]) for m in kpi.settled_measures()))
    return {tuple(int(v) if i > 5 else v for i, v in enumerate(row))
            for row in conn.execute(query.group_by(*keys).having(func.sum(rows.c.reported) != 0)).all()}


def _kpi_daily_rows(conn) -> set[tuple]:
    measures = ", ".join(kpi.settled_measures())
    return set(conn.execute(text(f"SELECT day, street_code, community_code, grid_code, assignee_kind, assignee_id, "
                                 f"{measures} FROM kpi_daily WHERE reported <> 0")).all())


def _trigger_on(conn) -> bool:
    """Whether the trigger that follows new cases is in place (and enabled)."""
    if conn.dialect.name == "postgresql":
        query = ("SELECT count(*) FROM pg_trigger WHERE tgname = 'trg_kpi_daily' AND tgenabled = 'O' "
                 "AND tgrelid = 'cases'::regclass")  # not its copies on the month partitions
    else:
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'trg_kpi_daily_insert'"
    return conn.execute(text(query)).scalar() == 1


def _busy_store(store, seed: int) -> None:
    """Cases on several days walked through random prefixes of the loop, some reassigned, some
    deleted, one grid code changed by plain SQL."""
    rng = random.Random(seed)
    walk = ["register", "dispatch", "accept", "arrive", "handle", "verify", "follow_up", "close", "archive"]
    with store.Session() as s, s.begin():
        add_people(s)
        for i in range(40):
            grid, worker = GRIDS[i % 2]
            at = T0 + timedelta(days=rng.randrange(5), hours=rng.randrange(24))
            case = new_case(s, source_id=f"R{i}", category=rng.choice(["request", "dispute", "emergency", "hazard"]),
                            grid_code=grid, assignee_id=worker, at=at)
            for step, action in enumerate(walk[:rng.randrange(len(walk) + 1)]):
                fields = {"satisfaction": rng.choice(["satisfied", "dissatisfied"])} if action == "follow_up" else {}
                when = at + timedelta(hours=step * rng.choice([1, 20]))
                if action == "dispatch" and i % 7 == 0:
                    fields = {"assignee_kind": "department", "assignee_id": "应急管理"}
                lifecycle.transition(s, case.id, action, actor="t", at=when, lon=116.587, lat=35.415, **fields)
            if i % 9 == 0 and case.state in ("dispatched", "accepted", "on_site"):
                lifecycle.transition(s, case.id, "request_extension", actor="t", at=at + timedelta(hours=30),
                                     until=at + timedelta(days=9))
                lifecycle.transition(s, case.id, "approve_extension", actor="t", at=at + timedelta(hours=31))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET grid_code = '370811004001002' WHERE source_id = 'R4'"))
        conn.execute(text("DELETE FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE source_id = 'R5')"))
        conn.execute(text("DELETE FROM cases WHERE source_id = 'R5'"))


@pytest.fixture
def sqlite_store(tmp_path) -> Store:
    """A migrated SQLite store of its own (the roll-up exists on SQLite stores only)."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'rollup.db'}")
    db.upgrade(engine)
    yield Store("sqlite", str(engine.url), engine, db.session_factory(engine))
    engine.dispose()


@pytest.mark.parametrize("seed", [1, 2])
def test_triggers_keep_the_rollup_equal_to_a_rebuild(store, seed):
    _busy_store(store, seed)
    with store.engine.begin() as conn:
        maintained = _rollup_rows(conn)
        rollup.install(conn, kpi.settled_measures())
        rebuilt = _rollup_rows(conn)
    assert maintained == rebuilt
    assert sum(row[6] for row in rebuilt) == 39  # 'reported' over all keys: 40 cases, one deleted


@pytest.mark.parametrize("by", ["grid", "community", "street", "worker", "department", None])
def test_rollup_path_equals_the_direct_scan(store, by):
    _busy_store(store, 3)
    level = {"worker": "assignee_kind IN ('worker', 'chief')", "department": "assignee_kind = 'department'"}
    with store.Session() as s:
        assert s.scalar(select(func.min(Case.reported_at))) > DIRECT_SINCE
        expected = s.scalar(text(f"SELECT count(*) FROM cases WHERE {level.get(by, 'true')}"))
    fast = kpi.kpi_table(store.engine, by=by, now=NOW)
    direct = kpi.kpi_table(store.engine, by=by, now=NOW, since=DIRECT_SINCE)
    assert fast.rows == direct.rows and fast.total == direct.total
    assert fast.total["reported"] == expected > 0
    assert fast.total["due"] > 0 or by == "department"
    day = kpi.kpi_table(store.engine, by=by, now=NOW, since=T0.replace(hour=0) + timedelta(days=1),
                        until=T0.replace(hour=0) + timedelta(days=3))
    # cases are reported on whole hours: one second before midnight selects the same ones, directly
    day_direct = kpi.kpi_table(store.engine, by=by, now=NOW, since=T0.replace(hour=0) + timedelta(days=1, seconds=-1),
                               until=T0.replace(hour=0) + timedelta(days=3))
    assert day.rows == day_direct.rows and day.total["reported"] < fast.total["reported"]


def test_rollup_respects_scope(store):
    _busy_store(store, 4)
    worker = Scope(role="worker", username="w", area_codes=frozenset({"370811004001001"}))
    fast = kpi.kpi_table(store.engine, by="grid", now=NOW, scope=worker)
    direct = kpi.kpi_table(store.engine, by="grid", now=NOW, scope=worker, since=DIRECT_SINCE)
    assert [r["code"] for r in fast.rows] == ["370811004001001"]
    assert fast.rows == direct.rows


def test_migration_fills_the_rollup_from_stored_cases(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, revision="0002_people")
    # a dispatched case as that revision stored it (plain SQL: today's models have more columns)
    old = {"source": "hotline_12345", "source_id": "OLD1", "category": "request", "text": "楼道堆放杂物",
           "street_code": "370811004", "community_code": "370811004001", "grid_code": "370811004001001",
           "join_status": "ok", "state": "dispatched", "priority": "normal", "assignee_kind": "worker",
           "assignee_id": "W001", "reported_at": T0, "registered_at": T0, "dispatched_at": T0,
           "close_due": T0 + timedelta(days=3), "version": 3, "rework_count": 0, "supervised": False}
    with engine.begin() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("cases")}
        assert set(old) <= columns
        conn.execute(text(f"INSERT INTO cases ({', '.join(old)}) VALUES ({', '.join(':' + k for k in old)})"), old)
    db.upgrade(engine)
    with engine.connect() as conn:
        rows = _rollup_rows(conn)
        plan = " ".join(str(r[-1]) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT grid_code, count(*) FROM cases INDEXED BY ix_cases_open_deadlines "
            "WHERE dispatched_at IS NOT NULL AND (closed_at IS NULL OR arrived_at IS NULL) "
            "GROUP BY grid_code, community_code, street_code, assignee_kind, assignee_id")))
    assert len(rows) == 1 and next(iter(rows))[6:9] == (1, 1, 1)  # reported, registered, dispatched
    assert "COVERING INDEX ix_cases_open_deadlines" in plan and "TEMP B-TREE" not in plan
    report = kpi.kpi_table(engine, by="grid", now=T0 + timedelta(days=30))
    assert report.rows[0]["due"] == 1 and report.rows[0]["closure_rate"] == 0
    engine.dispose()


def test_import_folds_new_cases_into_the_rollup_and_keeps_the_trigger(store, small_hierarchy, tmp_path):
    from intake.files import import_file

    csv = tmp_path / "hotline.csv"
    csv.write_text("工单编号,来源渠道,一级分类,诉求内容,经度,纬度,受理时间\n"
                   "H1,12345热线,群众诉求,路灯不亮,116.585,35.415,2026-11-16 08:00:00\n"
                   "H2,12345热线,安全隐患,电线裸露,116.595,35.415,2026-11-17 09:30:00\n", encoding="utf-8")
    engine = store.engine
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="BEFORE", at=T0 - timedelta(days=1))
    result = import_file(engine, csv, hierarchy=small_hierarchy, actor="t")
    assert result.added == 2
    with engine.begin() as conn:
        trigger_on = _trigger_on(conn)
        maintained = _rollup_rows(conn)
        rollup.install(conn, kpi.settled_measures())
        assert _rollup_rows(conn) == maintained
    assert trigger_on
    assert sum(row[6] for row in maintained) == 3
    with store.Session() as s, s.begin():  # the trigger still follows single reports
        new_case(s, source_id="AFTER")
    assert kpi.kpi_table(engine, by=None, now=NOW).rows[0]["reported"] == 4


def test_a_failed_bulk_insert_leaves_rollup_and_trigger_as_they_were(store):
    engine = store.engine
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="ONE")
    with pytest.raises(RuntimeError, match="midway"), engine.begin() as conn:
        with rollup.deferred(conn, kpi.settled_measures(), lock_writers=True):
            conn.execute(text("INSERT INTO cases (source, source_id, category, text, priority, state, reported_at, "
                              "supervised, rework_count, version) VALUES ('patrol', 'X', 'request', '', 'normal', "
                              "'reported', '2026-11-16 10:00:00', false, 0, 1)"))
            raise RuntimeError("midway")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 1
        assert sum(row[6] for row in _rollup_rows(conn)) == 1
        assert _trigger_on(conn)


def test_a_bulk_load_holding_off_writers_is_folded_in_once(store):
    """``lock_writers`` (generate-history): no row trigger during the load, the sums exact after it."""
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="ONE")
    with store.engine.begin() as conn, rollup.deferred(conn, kpi.settled_measures(), lock_writers=True):
        for i in range(3):
            conn.execute(text("INSERT INTO cases (source, source_id, category, text, priority, state, reported_at, "
                              "supervised, rework_count, version) VALUES ('patrol', :id, 'request', '', 'normal', "
                              "'reported', '2026-11-16 10:00:00', false, 0, 1)"), {"id": f"B{i}"})
        assert not _trigger_on(conn)
    with store.engine.begin() as conn:
        maintained = _rollup_rows(conn)
        assert _trigger_on(conn)
        rollup.install(conn, kpi.settled_measures())
        assert _rollup_rows(conn) == maintained
    assert sum(row[6] for row in maintained) == 4
