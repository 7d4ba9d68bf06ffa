"""Signing in and out of the dashboard, each step one unit of work on the store (no Streamlit here).

The page layer (``views._auth``) keeps the signed-in account in the browser's session and calls
these: password sign-in (lock-out and audit in :mod:`access.accounts`) opening a browser session
(:mod:`access.web_sessions`), resuming it after a reload, keeping it alive, ending it, and
single sign-on (OIDC) mapped onto the local account of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from access import accounts, audit, web_sessions
from access.database import unit_of_work
from core.settings import Settings
from store.models import User


@dataclass(frozen=True)
class Attempt:
    """A password sign-in: the check's result and, on success, the browser session's token."""

    result: accounts.SignIn
    token: str | None


def password(engine: Engine, username: str, secret: str, *, now: datetime, settings: Settings,
             ip: str | None = None) -> Attempt:
    """Check a sign-in (audited, lock-out counted); on success open a browser session."""
    with unit_of_work(engine) as session:
        result = accounts.authenticate(session, username, secret, now, settings=settings, ip=ip)
        token = web_sessions.open_session(session, result.user.username, now, ip=ip) if result.user else None
    return Attempt(result, token)


def resume(engine: Engine, token: str, *, now: datetime, settings: Settings, ip: str | None = None) -> User | None:
    """The account of a still-valid browser session (audited), or None."""
    with unit_of_work(engine) as session:
        return web_sessions.resume(session, token, now, settings=settings, ip=ip)


def touch(engine: Engine, token: str, now: datetime) -> None:
    """Mark the browser session as active now."""
    with unit_of_work(engine) as session:
        web_sessions.touch(session, token, now)


def end(engine: Engine, token: str | None, now: datetime, *, username: str | None, action: str | None,
        ip: str | None = None) -> None:
    """End a browser session and record why (``sign_out``, ``session_expired``) for ``username``."""
    with unit_of_work(engine) as session:
        if token:
            web_sessions.end(session, token, now)
        if username and action:
            audit.record(session, actor=username, action=action, at=now, target_kind="user", target_id=username,
                         ip=ip)


def still_enabled(engine: Engine, username: str) -> bool:
    """False when the account has been disabled since it signed in."""
    with unit_of_work(engine) as session:
        row = accounts.get_user(session, username)
        return row is None or not row.disabled


def single_sign_on(engine: Engine, identity: str, *, now: datetime, ip: str | None = None) -> tuple[User | None, str]:
    """Map an identity provider's user name onto the local account of that name (roles stay local).

    Returns
    -------
    (User or None, str)
        The account and ``""`` on success; else None and the reason: ``no_local_account`` or
        ``disabled`` (both audited as ``sign_in_failed``).
    """
    with unit_of_work(engine) as session:
        user = accounts.get_user(session, identity)
        if user is None or user.disabled:
            reason = "disabled" if user else "no_local_account"
            detail: dict[str, Any] = {"method": "oidc", "reason": "disabled" if user else "no local account"}
            audit.record(session, actor=identity, action="sign_in_failed", at=now, target_kind="user",
                         target_id=identity, detail=detail, ip=ip)
            return None, reason
        user.last_sign_in = now
        audit.record(session, actor=user.username, action="sign_in", at=now, target_kind="user",
                     target_id=user.username, detail={"method": "oidc"}, ip=ip)
        return user, ""
