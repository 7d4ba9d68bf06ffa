"""``python -m store backup|restore`` on both backends: a backup taken while writer processes keep
inserting and transitioning cases restores into a fresh store that passes an integrity check and
holds every case committed before the backup started; restores refuse to replace a store with
cases without ``--force``; a missing or garbage backup file is one line on stderr, exit 2."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from cases import lifecycle
from store import db
from tests.factories import T0, add_people, new_case

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WRITERS = 3
CONSISTENCY = """SELECT count(*) FROM cases c
                 WHERE c.version != (SELECT count(*) FROM case_events e WHERE e.case_id = c.id)"""


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _writer(url: str, rank: int, stop, progress) -> None:
    """Insert cases and move each through register and dispatch, one transaction per step."""
    engine = db.make_engine(url)
    try:
        i = 0
        while not stop.is_set():
            at = T0 + timedelta(minutes=i)
            with db.session_scope(engine) as session:
                case_id = new_case(session, source_id=f"W{rank}-{i}", at=at).id
            for action in ("register", "dispatch"):
                with db.session_scope(engine) as session:
                    lifecycle.transition(session, case_id, action, actor="duty", at=at + timedelta(seconds=30))
            with progress.get_lock():
                progress.value += 1
            i += 1
    finally:
        engine.dispose()


def _fresh_store(store, tmp_path: Path) -> str:
    """The URL of a new, empty database on the same backend (no schema at all)."""
    if store.backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored' / 'cases.db'}"
    server = store.url.rsplit("/", 1)[0]
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def _case_ids(url: str) -> set[int]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT id FROM cases"))}
    finally:
        engine.dispose()


def _wait_for(progress, count: int, procs) -> None:
    deadline = time.monotonic() + 120
    while progress.value < count:
        assert all(p.is_alive() for p in procs), "a writer died"
        assert time.monotonic() < deadline, f"writers made only {progress.value} cases"
        time.sleep(0.05)


def _backup_while_writing(store, out: Path) -> tuple[set[int], subprocess.CompletedProcess, int]:
    """Start writer processes, back up while they run; the ids committed before, the backup's
    result, and how many cases the writers finished while the backup ran."""
    ctx = multiprocessing.get_context("spawn")
    stop, progress = ctx.Event(), ctx.Value("i", 0)
    procs = [ctx.Process(target=_writer, args=(store.url, rank, stop, progress)) for rank in range(WRITERS)]
    for proc in procs:
        proc.start()
    try:
        _wait_for(progress, 20, procs)
        committed = _case_ids(store.url)
        before = progress.value
        result = _cli("backup", "--out", str(out), "--db", store.url)
        during = progress.value - before
        _wait_for(progress, progress.value + 5, procs)  # and they went on after it
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    return committed, result, during


@pytest.mark.slow
def test_backup_under_writers_restores_into_a_fresh_store(store, tmp_path):
    with store.Session() as session, session.begin():
        add_people(session)
    out = tmp_path / "backups" / "store.backup"
    committed, result, during = _backup_while_writing(store, out)
    assert result.returncode == 0, result.stderr
    assert during > 0, "the writers were idle during the backup"
    assert result.stdout.startswith("backup of ") and len(result.stdout.splitlines()) == 1
    assert str(out) in result.stdout and result.stderr == ""
    fresh = _fresh_store(store, tmp_path)
    restored = _cli("restore", str(out), "--db", fresh)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"restored {out} into ") and len(restored.stdout.splitlines()) == 1
    engine = db.make_engine(fresh)
    try:
        with engine.connect() as conn:
            if store.backend == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text(CONSISTENCY)).scalar() == 0  # every case's version = its events
            cases = conn.execute(text("SELECT count(*) FROM cases")).scalar()
            events = conn.execute(text("SELECT count(*) FROM case_events")).scalar()
        head = ScriptDirectory(str(db.MIGRATIONS_DIR)).get_current_head()
        assert db.current_revision(engine) == head
    finally:
        engine.dispose()
    ids = _case_ids(fresh)
    assert committed <= ids, f"{len(committed - ids)} committed cases missing from the backup"
    assert ids <= _case_ids(store.url)  # nothing invented
    # the summary lines tell what the backup holds and what was restored
    assert f": {cases} cases, {events} events, revision {head}" in result.stdout
    assert restored.stdout.rstrip().endswith(f": {cases} cases, {events} events, revision {head}")


def _backup_of(store, tmp_path: Path) -> Path:
    with store.Session() as session, session.begin():
        add_people(session)
        new_case(session, source_id="B1")
    out = tmp_path / "one.backup"
    result = _cli("backup", "--out", str(out), "--db", store.url)
    assert result.returncode == 0, result.stderr
    return out


def _one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_restore_refuses_a_store_with_cases_without_force(store, tmp_path):
    out = _backup_of(store, tmp_path)
    with store.Session() as session, session.begin():
        new_case(session, source_id="AFTER")
    before = _case_ids(store.url)
    refused = _cli("restore", str(out), "--db", store.url)
    _one_line_error(refused, "holds 2 cases already", "--force")
    assert _case_ids(store.url) == before
    forced = _cli("restore", str(out), "--db", store.url, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "1 cases" in forced.stdout
    assert len(_case_ids(store.url)) == 1  # back to the backup: the later case is gone


@pytest.mark.parametrize("damage", ["missing", "garbage", "empty", "head_only", "cut_near_the_end"])
def test_a_bad_backup_file_is_one_line_and_changes_nothing(store, tmp_path, damage):
    good = _backup_of(store, tmp_path).read_bytes()
    with store.Session() as session, session.begin():
        new_case(session, source_id="AFTER")
    before = _case_ids(store.url)
    path = tmp_path / "bad.backup"
    contents = {"garbage": os.urandom(4096), "empty": b"", "head_only": good[:2048],
                "cut_near_the_end": good[: len(good) * 9 // 10]}
    if damage in contents:
        path.write_bytes(contents[damage])
    result = _cli("restore", str(path), "--db", store.url, "--force")  # even with --force
    _one_line_error(result, str(path), "Fix:")
    if damage == "missing":
        assert "no such backup file" in result.stderr
    assert _case_ids(store.url) == before


def test_backup_of_the_other_backend_is_refused(store, tmp_path):
    out = _backup_of(store, tmp_path)
    other = "postgresql+psycopg://nobody@127.0.0.1:1/none" if store.backend == "sqlite" \
        else f"sqlite:///{tmp_path / 'x.db'}"
    _one_line_error(_cli("restore", str(out), "--db", other), str(out), "backup but the target store is")


def test_backup_of_a_missing_store_is_one_line(tmp_path):
    missing = tmp_path / "nope.db"
    _one_line_error(_cli("backup", "--out", str(tmp_path / "b"), "--db", f"sqlite:///{missing}"),
                    str(missing), "does not exist")
    assert not missing.exists()


def test_a_restore_script_that_fails_half_way_is_rolled_back(store):
    if store.backend != "postgis":
        pytest.skip("PostGIS only")
    from core.errors import InputError
    from store import pg_programs

    with store.Session() as session, session.begin():
        new_case(session, source_id="KEPT")
    before = _case_ids(store.url)
    uri = store.url.replace("postgresql+psycopg://", "postgresql://")
    cut_short = ["sh", "-c", "echo 'DROP TABLE case_events CASCADE;'; echo 'pg_restore: error: unexpected end' >&2; "
                 "exit 1"]  # what a backup damaged in its data does: part of the script, then an error
    with pytest.raises(InputError, match="sh failed: pg_restore: error: unexpected end"):
        pg_programs.restore_script(cut_short, uri, dict(os.environ), first="DELETE FROM cases", source="x", fix="y")
    assert _case_ids(store.url) == before
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('case_events') IS NOT NULL")).scalar()
