"""Browser sessions that survive a reload: resumed while open and recent, ended by sign-out, the
idle timeout, disabling the account or resetting its password; the store keeps hashes only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from access import accounts, web_sessions
from core.settings import Settings
from store.models import AuditEntry
from tests.fixtures.world import T0

SETTINGS = Settings(session_timeout_minutes=30)


def _account(session, name: str = "duty1"):
    return accounts.add_user(session, username=name, password="Duty#2026x", role="commander", actor="test", now=T0)


def _actions(session, name: str) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == name).order_by(AuditEntry.id)))


def test_resume_while_open_and_recent(people_store):
    with people_store.Session() as s, s.begin():
        _account(s)
        token = web_sessions.open_session(s, "duty1", T0, ip="10.0.0.8")
        stored = s.execute(text("SELECT token_hash FROM web_sessions")).scalars().all()
        assert stored != [token] and token not in str(stored) and len(stored[0]) == 64
        user = web_sessions.resume(s, token, T0 + timedelta(minutes=20), settings=SETTINGS)
        assert user is not None and user.username == "duty1"
        # activity moves the idle clock: 20 + 25 minutes after sign-in still resumes
        web_sessions.touch(s, token, T0 + timedelta(minutes=25))
        assert web_sessions.resume(s, token, T0 + timedelta(minutes=50), settings=SETTINGS) is not None
        assert web_sessions.resume(s, token + "x", T0, settings=SETTINGS) is None
        assert web_sessions.resume(s, None, T0, settings=SETTINGS) is None
        assert _actions(s, "duty1")[-2:] == ["session_resumed", "session_resumed"]


def test_idle_timeout_and_sign_out_end_the_session(people_store):
    with people_store.Session() as s, s.begin():
        _account(s)
        idle = web_sessions.open_session(s, "duty1", T0)
        assert web_sessions.resume(s, idle, T0 + timedelta(minutes=31), settings=SETTINGS) is None
        assert _actions(s, "duty1")[-1] == "session_expired"
        assert web_sessions.resume(s, idle, T0 + timedelta(minutes=32), settings=SETTINGS) is None  # stays ended
        signed_out = web_sessions.open_session(s, "duty1", T0)
        web_sessions.end(s, signed_out, T0 + timedelta(minutes=1))
        assert web_sessions.resume(s, signed_out, T0 + timedelta(minutes=2), settings=SETTINGS) is None


def test_disabling_or_resetting_the_password_ends_every_session(people_store):
    with people_store.Session() as s, s.begin():
        _account(s, "duty1")
        _account(s, "duty2")
        first, second = (web_sessions.open_session(s, "duty1", T0) for _ in range(2))
        other = web_sessions.open_session(s, "duty2", T0)
        accounts.reset_password(s, "duty1", "Fresh#2026pw", actor="admin", now=T0 + timedelta(minutes=1))
        for token in (first, second):
            assert web_sessions.resume(s, token, T0 + timedelta(minutes=2), settings=SETTINGS) is None
        assert web_sessions.resume(s, other, T0 + timedelta(minutes=2), settings=SETTINGS) is not None
        accounts.disable_user(s, "duty2", actor="admin", now=T0 + timedelta(minutes=3))
        assert web_sessions.resume(s, other, T0 + timedelta(minutes=4), settings=SETTINGS) is None
