"""Lock-out under parallel guessing: real processes (not threads) guess wrong passwords for one
account at the same moment, in bursts; however they arrive, at most ``lockout_failures`` wrong
passwords are ever checked per lock-out period, and the counter and the lock end up right.

The number of passwords actually checked is read from the audit log (one ``sign_in_failed`` entry
with reason ``wrong password`` per checked wrong password, written in the same transaction as the
counter).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from access import accounts
from core.settings import Settings
from store import db
from store.models import AuditEntry, User
from tests.fixtures.world import T0, audit_marker

SETTINGS = replace(Settings(), lockout_failures=5, lockout_minutes=15)
GUESSERS = 12
BURSTS = 5
USER, PASSWORD = "wang", "Grid#2026"


def _guess(url: str, rank: int, bursts: int, spacing_min: int, barrier, results) -> None:
    """One guessing process: at each burst, wait for the others, then try a wrong password."""
    engine = db.make_engine(url)
    try:
        for burst in range(bursts):
            now = T0 + timedelta(minutes=spacing_min * burst)
            barrier.wait(timeout=120)
            try:
                with db.session_scope(engine) as session:
                    result = accounts.authenticate(session, USER, f"wrong-{rank}-{burst}", now,
                                                   settings=SETTINGS, ip=f"10.0.0.{rank}")
                results.put((burst, result.reason, result.attempts_left))
            except Exception as exc:  # reported to the test, which fails on it
                results.put((burst, f"error: {exc!r}", None))
    finally:
        engine.dispose()


def _run_bursts(url: str, bursts: int, spacing_min: int) -> list[tuple[int, str, int | None]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(GUESSERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_guess, args=(url, rank, bursts, spacing_min, barrier, results))
             for rank in range(GUESSERS)]
    for proc in procs:
        proc.start()
    out = []
    try:
        for _ in range(GUESSERS * bursts):
            out.append(results.get(timeout=300))
    except queue.Empty:
        pytest.fail(f"only {len(out)} of {GUESSERS * bursts} attempts answered")
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    assert all(proc.exitcode == 0 for proc in procs)
    return out


def _checked_wrong_passwords(session, marker: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.id > marker, AuditEntry.action == "sign_in_failed", AuditEntry.target_id == USER,
    ).order_by(AuditEntry.id)))


def _setup(people_store) -> int:
    with people_store.Session() as session, session.begin():
        accounts.add_user(session, username=USER, password=PASSWORD, role="admin", actor="admin", now=T0)
        return audit_marker(session)


@pytest.mark.slow
def test_parallel_guesses_check_at_most_the_limit(people_store):
    """Five bursts of twelve simultaneous wrong passwords at the same moment: exactly five are
    checked, the fifth locks the account, the other 55 are refused as locked unchecked."""
    marker = _setup(people_store)
    results = _run_bursts(people_store.url, BURSTS, spacing_min=0)
    assert not [r for r in results if r[1].startswith("error")], results
    limit = SETTINGS.lockout_failures
    with people_store.Session() as session:
        checked = _checked_wrong_passwords(session, marker)
        assert len(checked) == limit, f"{len(checked)} wrong passwords checked, the limit is {limit}"
        assert sorted(e.detail["failed_attempts"] for e in checked) == list(range(1, limit + 1))
        assert {e.detail["reason"] for e in checked} == {"wrong password"}
        actions = Counter(session.scalars(select(AuditEntry.action).where(AuditEntry.id > marker)))
        assert actions["account_locked"] == 1
        assert actions["sign_in_locked"] == GUESSERS * BURSTS - limit
        user = session.scalar(select(User).where(User.username == USER))
        assert user.failed_attempts == 0
        assert user.locked_until == T0 + timedelta(minutes=SETTINGS.lockout_minutes)
    reasons = Counter(r[1] for r in results)
    assert reasons == {"bad_credentials": limit - 1, "locked": GUESSERS * BURSTS - (limit - 1)}
    assert sorted(r[2] for r in results if r[1] == "bad_credentials") == list(range(1, limit))
    # the right password does not help while locked, and is not checked either
    with people_store.Session() as session, session.begin():
        result = accounts.authenticate(session, USER, PASSWORD, T0 + timedelta(minutes=1), settings=SETTINGS)
    assert result.reason == "locked" and result.user is None


@pytest.mark.slow
def test_parallel_guesses_after_each_lock_expires(people_store):
    """Each burst comes after the previous lock-out has ended: every burst checks exactly the limit
    and locks the account again; the right password works once the last lock has ended."""
    marker = _setup(people_store)
    spacing = SETTINGS.lockout_minutes + 5
    results = _run_bursts(people_store.url, BURSTS, spacing_min=spacing)
    assert not [r for r in results if r[1].startswith("error")], results
    limit = SETTINGS.lockout_failures
    with people_store.Session() as session:
        checked = _checked_wrong_passwords(session, marker)
        per_burst = Counter(e.at for e in checked)
        assert per_burst == {T0 + timedelta(minutes=spacing * b): limit for b in range(BURSTS)}
        actions = Counter(session.scalars(select(AuditEntry.action).where(AuditEntry.id > marker)))
        assert actions["account_locked"] == BURSTS
        user = session.scalar(select(User).where(User.username == USER))
        last_lock = T0 + timedelta(minutes=spacing * (BURSTS - 1) + SETTINGS.lockout_minutes)
        assert (user.failed_attempts, user.locked_until) == (0, last_lock)
    assert Counter(r[1] for r in results) == {"bad_credentials": BURSTS * (limit - 1),
                                              "locked": BURSTS * (GUESSERS - limit + 1)}
    with people_store.Session() as session, session.begin():
        result = accounts.authenticate(session, USER, PASSWORD, last_lock, settings=SETTINGS)
        assert result.ok and result.user.failed_attempts == 0 and result.user.locked_until is None
