"""Accounts: creation, sign-in with lock-out, disable/enable, reset, session timeout, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from access import accounts
from core.errors import ConflictError, InputError
from core.settings import Settings
from store.models import User
from tests.fixtures.world import G1, T0, audit_marker, audit_since

SETTINGS = replace(Settings(), lockout_failures=3, lockout_minutes=15, session_timeout_minutes=30)


def _add(session, name="wang", password="Grid#2026", role="worker", area=(G1,)):
    return accounts.add_user(session, username=name, password=password, role=role, actor="admin", now=T0,
                             area_codes=area, display_name="王伟", worker_id="W001")


def test_add_user_hashes_and_audits(people_store):
    with people_store.Session() as session, session.begin():
        marker = audit_marker(session)
        user = _add(session, name="Wang")
        assert user.username == "wang"  # stored lower-case
        assert user.password_hash.startswith("$argon2id$") and "Grid#2026" not in user.password_hash
        assert user.area_code_list == [G1] and not user.disabled
        entries = audit_since(session, marker)
        assert [(e.action, e.actor, e.target_id) for e in entries] == [("user_add", "admin", "wang")]
        assert "Grid#2026" not in str(entries[0].detail)
    with people_store.Session() as session, session.begin():
        with pytest.raises(ConflictError, match="exists already"):
            _add(session, name="WANG")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "a b"}, "not a valid user name"),
        ({"role": "root"}, "unknown role"),
        ({"area": ()}, "needs at least one area code"),
        ({"password": "short"}, "shorter than 8"),
    ],
)
def test_add_user_rejects_bad_input(people_store, kwargs, match):
    with people_store.Session() as session, session.begin():
        with pytest.raises(InputError, match=match):
            _add(session, **kwargs)
        assert session.scalar(select(User)) is None


def test_sign_in_success_is_audited(people_store):
    with people_store.Session() as session, session.begin():
        _add(session)
    with people_store.Session() as session, session.begin():
        marker = audit_marker(session)
        result = accounts.authenticate(session, " WANG ", "Grid#2026", T0, settings=SETTINGS, ip="10.0.0.8")
        assert result.ok and result.user.username == "wang"
        assert result.user.last_sign_in == T0
        entries = audit_since(session, marker)
        assert [(e.action, e.ip) for e in entries] == [("sign_in", "10.0.0.8")]


def test_lock_out_after_failures_then_expiry(people_store):
    with people_store.Session() as session, session.begin():
        _add(session)
        marker = audit_marker(session)
    lefts = []
    for i in range(SETTINGS.lockout_failures):
        # each attempt in its own transaction, as the dashboard does: the counter must persist
        with people_store.Session() as session, session.begin():
            result = accounts.authenticate(session, "wang", "wrong-1", T0 + timedelta(minutes=i), settings=SETTINGS)
        lefts.append(result.attempts_left)
    assert lefts[:-1] == [2, 1] and not result.ok and result.reason == "locked"
    locked_until = result.locked_until
    assert locked_until == T0 + timedelta(minutes=2 + SETTINGS.lockout_minutes)
    # the right password does not help while locked
    with people_store.Session() as session, session.begin():
        result = accounts.authenticate(session, "wang", "Grid#2026", T0 + timedelta(minutes=5), settings=SETTINGS)
    assert not result.ok and result.reason == "locked" and result.user is None
    # after the lock-out it works again
    with people_store.Session() as session, session.begin():
        result = accounts.authenticate(session, "wang", "Grid#2026", locked_until, settings=SETTINGS)
        assert result.ok
        actions = [e.action for e in audit_since(session, marker)]
    assert actions == ["sign_in_failed"] * 3 + ["account_locked", "sign_in_locked", "sign_in"]


def test_unknown_user_and_wrong_password_look_the_same(people_store):
    with people_store.Session() as session, session.begin():
        _add(session)
        marker = audit_marker(session)
        unknown = accounts.authenticate(session, "nobody", "Grid#2026", T0, settings=SETTINGS)
        wrong = accounts.authenticate(session, "wang", "Grid#2027", T0, settings=SETTINGS)
        assert unknown.reason == wrong.reason == "bad_credentials"
        entries = audit_since(session, marker)
        assert [(e.action, e.target_id, e.detail["reason"]) for e in entries] == [
            ("sign_in_failed", "nobody", "unknown user"), ("sign_in_failed", "wang", "wrong password")]


def test_disable_enable_and_reset(people_store):
    with people_store.Session() as session, session.begin():
        _add(session)
        marker = audit_marker(session)
        accounts.disable_user(session, "wang", actor="admin", now=T0)
        assert accounts.authenticate(session, "wang", "Grid#2026", T0, settings=SETTINGS).reason == "disabled"
        accounts.disable_user(session, "wang", actor="admin", now=T0, enable=True)
        assert accounts.authenticate(session, "wang", "Grid#2026", T0, settings=SETTINGS).ok
        for _ in range(SETTINGS.lockout_failures):
            accounts.authenticate(session, "wang", "nope-1234", T0, settings=SETTINGS)
        assert accounts.authenticate(session, "wang", "Grid#2026", T0, settings=SETTINGS).reason == "locked"
        accounts.reset_password(session, "wang", "New#Pass2026", actor="admin", now=T0)
        assert not accounts.authenticate(session, "wang", "Grid#2026", T0, settings=SETTINGS).ok
        assert accounts.authenticate(session, "wang", "New#Pass2026", T0, settings=SETTINGS).ok
        actions = [e.action for e in audit_since(session, marker)]
        for expected in ("user_disable", "user_enable", "password_reset", "account_locked"):
            assert expected in actions
        with pytest.raises(InputError, match="no account called 'ghost'"):
            accounts.reset_password(session, "ghost", "New#Pass2026", actor="admin", now=T0)


def test_weak_hash_is_upgraded_at_sign_in(people_store):
    with people_store.Session() as session, session.begin():
        user = _add(session)
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("Grid#2026")
        session.flush()
        old = user.password_hash
        assert accounts.authenticate(session, "wang", "Grid#2026", T0, settings=SETTINGS).ok
        assert user.password_hash != old and user.password_hash.startswith("$argon2id$v=19$m=19456")


def test_session_timeout():
    assert accounts.is_session_expired(None, T0, SETTINGS)
    assert not accounts.is_session_expired(T0, T0 + timedelta(minutes=29, seconds=59), SETTINGS)
    assert accounts.is_session_expired(T0, T0 + timedelta(minutes=30), SETTINGS)


def test_last_admin_cannot_be_disabled(people_store):
    with people_store.Session() as session, session.begin():
        _add(session, name="root", role="admin", area=())
        with pytest.raises(ConflictError, match="last active admin"):
            accounts.disable_user(session, "root", actor="root", now=T0)
        _add(session, name="root2", role="admin", area=())
        accounts.disable_user(session, "root", actor="root2", now=T0)
        with pytest.raises(ConflictError, match="root2 is the last active admin"):
            accounts.disable_user(session, "root2", actor="root2", now=T0)
