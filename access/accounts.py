"""Local accounts: create, disable, reset, sign in with lock-out, session timeout.

Every sign-in (success or failure) and every account change writes an audit entry in the same
transaction as the change. Functions take an open session and never commit: the caller owns
the transaction (``store.db.session_scope``). :func:`authenticate` returns a result instead of
raising, so that a failed attempt's counter and audit entry are committed like a success.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from access import audit
from access.passwords import (
    check_password_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from access.scope import Scope, parse_codes
from core.errors import ConflictError, InputError
from core.settings import Settings
from store.models import User, WebSession

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


def _normalise_username(username: str) -> str:
    name = str(username or "").strip()
    if not _USERNAME.match(name):
        raise InputError(
            "username",
            f"{name!r} is not a valid user name",
            "use 2 to 64 letters, digits, '_', '.', '@' or '-'",
        )
    return name.lower()


def get_user(session: Session, username: str) -> User | None:
    """The account called ``username`` (case-insensitive), or ``None``."""
    name = str(username or "").strip().lower()
    if not name:
        return None
    return session.scalar(select(User).where(func.lower(User.username) == name))


def _require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise InputError("username", f"no account called {username!r}", "check `python -m cases users list`")
    return user


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    actor: str,
    now: datetime,
    area_codes: tuple[str, ...] | list[str] | str = (),
    display_name: str = "",
    worker_id: str | None = None,
) -> User:
    """Create a local account.

    Parameters
    ----------
    session : Session
    username : str
        2-64 characters of ``A-Z a-z 0-9 _ . @ -``; stored lower-case, unique.
    password : str
        Checked by :func:`access.passwords.check_password_policy`; stored as an Argon2id hash.
    role : str
        One of ``access.policy.ROLES``.
    actor : str
        Who creates the account (audited).
    now : datetime
        Local time.
    area_codes : sequence of str or str
        A chief's street or community code(s), a worker's grid code(s) (comma-separated
        string accepted); required for those two roles, ignored otherwise.
    display_name : str
        The name shown in the dashboard.
    worker_id : str, optional
        The worker's staff number (工号) used in visits and tracks.

    Returns
    -------
    User

    Raises
    ------
    core.errors.InputError
        Bad user name, role, area codes or password.
    core.errors.ConflictError
        The user name exists already.
    """
    name = _normalise_username(username)
    scope = Scope(role=role, area_codes=parse_codes(area_codes), username=name)  # validates role and areas
    check_password_policy(password, username=name)
    if get_user(session, name) is not None:
        msg = f"an account called {name!r} exists already; choose another name or reset its password"
        raise ConflictError(msg)
    codes = "" if scope.whole_district else ",".join(sorted(scope.area_codes))
    user = User(
        username=name,
        display_name=(display_name or name)[:64],
        password_hash=hash_password(password),
        role=role,
        area_codes=codes,
        worker_id=worker_id or None,
        disabled=False,
        failed_attempts=0,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user_add", at=now, target_kind="user", target_id=name,
                 detail={"role": role, "area_codes": codes, "worker_id": worker_id})
    return user


def disable_user(session: Session, username: str, *, actor: str, now: datetime, enable: bool = False) -> User:
    """Disable (or with ``enable=True`` re-enable) an account; audited.

    A disabled account cannot sign in; its history stays. Re-enabling clears a lock-out. The
    last active admin cannot be disabled (:class:`~core.errors.ConflictError`).
    """
    user = _require_user(session, username)
    if not enable and user.role == "admin" and not user.disabled:
        others = session.scalar(select(func.count()).select_from(User).where(
            User.role == "admin", User.disabled.is_(False), User.id != user.id))
        if not others:
            msg = f"{user.username} is the last active admin; add another admin before disabling it"
            raise ConflictError(msg)
    user.disabled = not enable
    if enable:
        user.failed_attempts = 0
        user.locked_until = None
    else:
        end_browser_sessions(session, user.username, now)
    session.flush()
    audit.record(session, actor=actor, action="user_enable" if enable else "user_disable", at=now,
                 target_kind="user", target_id=user.username)
    return user


def reset_password(session: Session, username: str, new_password: str, *, actor: str, now: datetime) -> User:
    """Set a new password for ``username`` and clear its lock-out; audited.

    Raises
    ------
    core.errors.InputError
        Unknown account or a password that fails the policy.
    """
    user = _require_user(session, username)
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.failed_attempts = 0
    user.locked_until = None
    end_browser_sessions(session, user.username, now)
    session.flush()
    audit.record(session, actor=actor, action="password_reset", at=now, target_kind="user",
                 target_id=user.username)
    return user


def end_browser_sessions(session: Session, username: str, now: datetime) -> int:
    """End every open browser session of ``username`` (see :mod:`access.web_sessions`); returns how many."""
    result = session.execute(update(WebSession).where(WebSession.username == username,
                                                      WebSession.ended_at.is_(None)).values(ended_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def list_users(session: Session) -> list[User]:
    """Every account, by user name."""
    return list(session.scalars(select(User).order_by(User.username)))


@dataclass(frozen=True)
class SignIn:
    """Outcome of :func:`authenticate`.

    ``reason`` is ``"ok"``, ``"bad_credentials"`` (unknown user or wrong password: the same
    answer for both), ``"locked"`` (with ``locked_until``) or ``"disabled"``.
    """

    ok: bool
    reason: str
    user: User | None = None
    locked_until: datetime | None = None
    attempts_left: int | None = None


def authenticate(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    settings: Settings,
    ip: str | None = None,
) -> SignIn:
    """Check a sign-in attempt, count failures, lock the account after too many; audited.

    The attempt is counted before the password is checked, in one atomic statement
    (:func:`_claim_attempt`), so however many attempts arrive at once (threads, processes,
    servers), at most ``lockout_failures`` wrong passwords are ever checked before the account
    locks; later attempts are refused as locked without checking the password. A right password
    takes its count back. The claimed row stays locked until the caller's transaction ends, so
    attempts on one account queue behind each other (on SQLite: behind the store's write lock).

    Parameters
    ----------
    session : Session
        Commit it afterwards whatever the outcome (the failure counter and audit entry are
        part of the result).
    username, password : str
        What the user typed.
    now : datetime
        Local time of the attempt.
    settings : Settings
        ``lockout_failures`` failures in a row lock the account for ``lockout_minutes``.
    ip : str, optional
        Client address for the audit entry.

    Returns
    -------
    SignIn
    """
    typed = str(username or "").strip()
    user = get_user(session, typed)
    if user is None:
        verify_password(dummy_hash(), password)  # same cost as a real check
        audit.record(session, actor=typed or "(empty)", action="sign_in_failed", at=now,
                     target_kind="user", target_id=typed, detail={"reason": "unknown user"}, ip=ip)
        return SignIn(ok=False, reason="bad_credentials")
    attempt = _claim_attempt(session, user, now)
    if attempt is None:  # locked: refused without checking the password
        session.refresh(user, ["failed_attempts", "locked_until"])
        audit.record(session, actor=user.username, action="sign_in_locked", at=now, target_kind="user",
                     target_id=user.username,
                     detail={"locked_until": user.locked_until.isoformat() if user.locked_until else None}, ip=ip)
        return SignIn(ok=False, reason="locked", user=None, locked_until=user.locked_until)
    if attempt > settings.lockout_failures:  # the limit was reached before (e.g. lowered since)
        return _lock(session, user, now, settings, ip=ip)
    if not verify_password(user.password_hash, password):
        return _count_failure(session, user, attempt, now, settings, ip=ip)
    if user.disabled:
        _set_attempts(session, user, attempt - 1)  # a right password is no failure
        audit.record(session, actor=user.username, action="sign_in_failed", at=now, target_kind="user",
                     target_id=user.username, detail={"reason": "disabled"}, ip=ip)
        return SignIn(ok=False, reason="disabled")
    user.failed_attempts = 0
    user.last_sign_in = now
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
        audit.record(session, actor=user.username, action="password_rehash", at=now, target_kind="user",
                     target_id=user.username)
    audit.record(session, actor=user.username, action="sign_in", at=now, target_kind="user",
                 target_id=user.username, ip=ip)
    session.flush()
    return SignIn(ok=True, reason="ok", user=user)


def _claim_attempt(session: Session, user: User, now: datetime) -> int | None:
    """Count one more sign-in attempt on ``user`` before its password is checked.

    One ``UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ... AND not locked
    RETURNING failed_attempts``: the database serialises it (row lock on PostgreSQL, the write
    lock on SQLite, both held to the end of the transaction), so every attempt gets its own
    number. An expired lock-out is cleared (the count starts again at 1).

    Returns
    -------
    int or None
        The attempt's number in the current run of failures, or ``None`` while the account is
        locked (nothing changed).
    """
    lock_over = and_(User.locked_until.is_not(None), User.locked_until <= now)
    statement = (
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_attempts=case((lock_over, 1), else_=func.coalesce(User.failed_attempts, 0) + 1),
                locked_until=None)
        .returning(User.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    attempt = session.execute(statement).scalar_one_or_none()
    if attempt is not None:
        set_committed_value(user, "failed_attempts", attempt)
        set_committed_value(user, "locked_until", None)
    return attempt


def _set_attempts(session: Session, user: User, value: int) -> None:
    """Write the failure counter of ``user`` (its row is locked by :func:`_claim_attempt`)."""
    session.execute(update(User).where(User.id == user.id).values(failed_attempts=value)
                    .execution_options(synchronize_session=False))
    set_committed_value(user, "failed_attempts", value)


def _count_failure(session: Session, user: User, attempt: int, now: datetime, settings: Settings, *,
                   ip: str | None) -> SignIn:
    """Audit wrong password number ``attempt`` (already counted); lock the account at the limit."""
    audit.record(session, actor=user.username, action="sign_in_failed", at=now, target_kind="user",
                 target_id=user.username, detail={"reason": "wrong password", "failed_attempts": attempt}, ip=ip)
    left = settings.lockout_failures - attempt
    if left <= 0:
        return _lock(session, user, now, settings, ip=ip)
    session.flush()
    return SignIn(ok=False, reason="bad_credentials", attempts_left=left)


def _lock(session: Session, user: User, now: datetime, settings: Settings, *, ip: str | None) -> SignIn:
    """Lock ``user`` for ``lockout_minutes`` from ``now`` and start its counter afresh; audited."""
    locked_until = now + timedelta(minutes=settings.lockout_minutes)
    session.execute(update(User).where(User.id == user.id).values(locked_until=locked_until, failed_attempts=0)
                    .execution_options(synchronize_session=False))
    set_committed_value(user, "locked_until", locked_until)
    set_committed_value(user, "failed_attempts", 0)
    audit.record(session, actor=user.username, action="account_locked", at=now, target_kind="user",
                 target_id=user.username,
                 detail={"locked_until": locked_until.isoformat(), "after_failures": settings.lockout_failures},
                 ip=ip)
    session.flush()
    return SignIn(ok=False, reason="locked", locked_until=locked_until)


def is_session_expired(last_activity: datetime | None, now: datetime, settings: Settings) -> bool:
    """Whether a signed-in session idle since ``last_activity`` has timed out.

    Parameters
    ----------
    last_activity : datetime or None
        The session's last request; ``None`` counts as expired.
    now : datetime
        Current time (same clock as ``last_activity``).
    settings : Settings
        ``session_timeout_minutes`` of inactivity end a session.
    """
    if last_activity is None:
        return True
    return now - last_activity >= timedelta(minutes=settings.session_timeout_minutes)


def scope_of(user: User) -> Scope:
    """The :class:`~access.scope.Scope` of a signed-in account."""
    return Scope.for_user(user)
