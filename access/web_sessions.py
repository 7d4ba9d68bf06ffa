"""Browser sessions that survive a page reload.

A sign-in opens a session and hands the browser a random token (kept in a cookie by the
dashboard); the store keeps only its SHA-256. Reloading the page presents the token again and
:func:`resume` gives the account back while the session is open, was seen within the idle
timeout (``session_timeout_minutes``) and the account is still enabled. Sign-out, expiry,
disabling the account and resetting its password (``access.accounts``) end it for good. Every
resume and end is audited; no Streamlit here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from access import audit
from access.accounts import get_user, is_session_expired
from core.settings import Settings
from store.models import User, WebSession

#: Bytes of randomness in a token (its URL-safe text is ~43 characters).
TOKEN_BYTES = 32
#: How often an active browser refreshes ``last_seen_at`` in the store.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, username: str, now: datetime, *, ip: str | None = None) -> str:
    """Start a browser session for ``username``; returns the token for the cookie (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(WebSession(token_hash=_digest(token), username=username, created_at=now, last_seen_at=now, ip=ip))
    session.flush()
    return token


def resume(session: Session, token: str | None, now: datetime, *, settings: Settings,
           ip: str | None = None) -> User | None:
    """The account of an open session, or None (unknown, ended, idle too long, account gone or disabled).

    Parameters
    ----------
    session : Session
        Commit it afterwards (the session's last-seen time, an expiry and the audit entry).
    token : str or None
        What the browser's cookie holds.
    now : datetime
        Local time.
    settings : Settings
        ``session_timeout_minutes``.
    ip : str, optional
        Client address for the audit entry.
    """
    if not token:
        return None
    row = session.get(WebSession, _digest(str(token)))
    if row is None or row.ended_at is not None:
        return None
    user = get_user(session, row.username)
    why = None
    if user is None or user.disabled:
        why = "account disabled"
    elif is_session_expired(row.last_seen_at, now, settings):
        why = "idle timeout"
    if why:
        row.ended_at = now
        audit.record(session, actor=row.username, action="session_expired", at=now, target_kind="user",
                     target_id=row.username, detail={"reason": why, "on": "resume"}, ip=ip)
        return None
    row.last_seen_at = now
    audit.record(session, actor=row.username, action="session_resumed", at=now, target_kind="user",
                 target_id=row.username, detail={"since": row.created_at.isoformat(sep=" ")}, ip=ip)
    return user


def touch(session: Session, token: str | None, now: datetime) -> None:
    """Record activity of an open session (the dashboard calls it at most every :data:`TOUCH_EVERY`)."""
    if token:
        session.execute(update(WebSession).where(WebSession.token_hash == _digest(str(token)),
                                                 WebSession.ended_at.is_(None)).values(last_seen_at=now))


def end(session: Session, token: str | None, now: datetime) -> None:
    """End a session (sign-out, expiry): its token no longer resumes anything."""
    if token:
        session.execute(update(WebSession).where(WebSession.token_hash == _digest(str(token)),
                                                 WebSession.ended_at.is_(None)).values(ended_at=now))
