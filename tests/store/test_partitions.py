"""Cases partitioned by month on PostgreSQL: where a case lands, what the guard table still
guarantees (one copy of a work order, events deleted with their case), the scheduled job that
re-homes the default partition, pruning by report time, and the migration both ways with data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cases import lifecycle
from cases.scheduled import run_job
from metrics import kpi
from store import db, partitions
from tests.factories import T0, add_people, new_case

pytestmark = [pytest.mark.postgis,
              pytest.mark.parametrize("module_store", [pytest.param("postgis", marks=pytest.mark.postgis)],
                                      indirect=True)]
OLD = datetime(2025, 6, 3, 8, 30)  # before every month the migration created


def _home(store, case_id: int) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT tableoid::regclass::text FROM cases WHERE id = :i"), {"i": case_id}).scalar()


def _scalar(store, sql: str, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _walk(session, case_id: int, at: datetime) -> None:
    for step, action in enumerate(["register", "dispatch", "accept"]):
        lifecycle.transition(session, case_id, action, actor="t", at=at + timedelta(hours=step + 1))


def test_a_case_lands_in_the_partition_of_its_month(store):
    with store.Session() as s, s.begin():
        add_people(s)
        # a month no other test creates (the store is the module's)
        recent, old = new_case(s, source_id="NOV").id, new_case(s, source_id="OLD", at=datetime(2024, 3, 5)).id
    assert _home(store, recent) == "cases_y2026m11"
    assert _home(store, old) == partitions.DEFAULT_PARTITION


def test_a_work_order_is_stored_once_across_months(store):
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="DUP")
    with pytest.raises(IntegrityError, match="uq_cases_source_source_id"), store.Session() as s, s.begin():
        new_case(s, source_id="DUP", at=OLD)  # another partition: only case_keys can tell
    assert _scalar(store, "SELECT count(*) FROM cases WHERE source_id = 'DUP'") == 1


def test_deleting_a_case_deletes_its_events_and_truncate_empties_the_keys(store):
    with store.Session() as s, s.begin():
        add_people(s)
        gone, kept = new_case(s, source_id="GONE").id, new_case(s, source_id="KEPT", at=OLD).id
        _walk(s, gone, T0)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id = :i"), {"i": gone})
    assert _scalar(store, "SELECT count(*) FROM case_events WHERE case_id = :i", i=gone) == 0
    assert _scalar(store, "SELECT count(*) FROM case_events WHERE case_id = :i", i=kept) == 1
    assert _scalar(store, "SELECT array_agg(id) FROM case_keys") == [kept]
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE cases"))
    assert _scalar(store, "SELECT count(*) FROM case_keys") == 0
    assert _scalar(store, "SELECT count(*) FROM case_events") == 0


def test_the_job_rehomes_the_default_partition_without_changing_a_figure(store):
    with store.Session() as s, s.begin():
        add_people(s)
        old = new_case(s, source_id="OLD", at=OLD).id
        _walk(s, old, OLD)
        new_case(s, source_id="NOV")
    now = T0 + timedelta(days=3)
    before = kpi.kpi_table(store.engine, by="grid", now=now, since=datetime(2025, 1, 1)).rows
    events = _scalar(store, "SELECT count(*) FROM case_events WHERE case_id = :i", i=old)
    assert run_job(store.engine, "case_partitions", holder="t", now=now) >= 1
    assert _home(store, old) == "cases_y2025m06"
    assert _scalar(store, f"SELECT count(*) FROM {partitions.DEFAULT_PARTITION}") == 0
    assert _scalar(store, "SELECT count(*) FROM case_events WHERE case_id = :i", i=old) == events == 4
    assert kpi.kpi_table(store.engine, by="grid", now=now, since=datetime(2025, 1, 1)).rows == before
    with store.Session() as s, s.begin():  # the moved case goes on through the loop
        lifecycle.transition(s, old, "arrive", actor="t", at=OLD + timedelta(hours=5), lon=116.587, lat=35.415)
    assert run_job(store.engine, "case_partitions", holder="t", now=now + timedelta(hours=1)) == 0


def test_the_job_keeps_the_coming_months_ready(store):
    run_job(store.engine, "case_partitions", holder="t", now=datetime(2027, 5, 20, 10, 0))
    with store.engine.connect() as conn:
        names = partitions.names(conn)
    assert {"cases_y2027m04", "cases_y2027m05", "cases_y2027m06", "cases_y2027m07", "cases_y2027m08"} <= set(names)


def test_a_case_whose_report_time_moves_keeps_its_events(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s, source_id="MOVE").id
        _walk(s, case_id, T0)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET reported_at = :at WHERE id = :i"), {"at": OLD, "i": case_id})
    assert _home(store, case_id) in {partitions.partition_name(OLD), partitions.DEFAULT_PARTITION}
    assert _scalar(store, "SELECT count(*) FROM case_events WHERE case_id = :i", i=case_id) == 4
    assert _scalar(store, "SELECT count(*) FROM case_keys WHERE id = :i", i=case_id) == 1


def test_a_query_bounded_by_report_time_reads_only_its_months(store):
    with store.engine.connect() as conn:
        plan = "\n".join(conn.execute(text(
            "EXPLAIN SELECT id FROM cases WHERE reported_at >= :a AND reported_at < :b"),
            {"a": datetime(2026, 12, 6, 10), "b": datetime(2026, 12, 7, 10)}).scalars())
    assert "cases_y2026m12" in plan
    assert "cases_y2026m11" not in plan and partitions.DEFAULT_PARTITION not in plan


def test_the_migration_goes_down_and_up_again_with_the_data(store):
    with store.Session() as s, s.begin():
        add_people(s)
        ids = [new_case(s, source_id=f"M{i}", at=at).id for i, at in enumerate((T0, OLD, T0 + timedelta(days=20)))]
        _walk(s, ids[0], T0)

    def snapshot() -> tuple:
        with store.engine.connect() as conn:
            cases = conn.execute(text("SELECT id, source_id, state, reported_at FROM cases ORDER BY id")).all()
            events = conn.execute(text("SELECT case_id, seq, action FROM case_events ORDER BY case_id, seq")).all()
        return cases, events, kpi.kpi_table(store.engine, by="grid", now=T0, since=datetime(2025, 1, 1)).rows
    before = snapshot()
    config = db._alembic_config(store.engine)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_kpi_rollup_postgresql")
    with store.engine.connect() as conn:
        assert not partitions.is_partitioned(conn)
    assert snapshot() == before
    db.upgrade(store.engine)
    with store.engine.connect() as conn:
        assert partitions.is_partitioned(conn)
        assert _home(store, ids[1]) == "cases_y2025m06"  # the months of the stored cases got theirs
    assert snapshot() == before
    with store.Session() as s, s.begin():  # ids go on from the same sequence
        assert new_case(s, source_id="NEXT").id == max(ids) + 1


def test_a_backup_from_before_the_partitions_restores_and_migrates(store, tmp_path):
    from store import backup
    from tests.store.test_backup import _fresh_store

    plain_url = _fresh_store(store, tmp_path)
    plain = db.make_engine(plain_url)
    db.upgrade(plain, revision="0009_kpi_rollup_postgresql")
    with db.session_factory(plain)() as s, s.begin():
        add_people(s)
        new_case(s, source_id="PLAIN")
    plain.dispose()
    backup.backup(tmp_path / "plain.backup", plain_url)
    with store.Session() as s, s.begin():
        add_people(s)
        new_case(s, source_id="PARTITIONED")
    store.engine.dispose()
    backup.restore(tmp_path / "plain.backup", store.url, force=True)
    assert db.current_revision(store.engine) == "0009_kpi_rollup_postgresql"
    db.upgrade(store.engine)  # what the next start does
    with store.engine.connect() as conn:
        assert partitions.is_partitioned(conn)
        assert conn.execute(text("SELECT array_agg(source_id) FROM cases")).scalar() == ["PLAIN"]
        assert conn.execute(text("SELECT count(*) FROM case_keys")).scalar() == 1
