"""Argon2 hashing, verification, rehash detection and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from access.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from core.errors import InputError


def test_hash_and_verify():
    stored = hash_password("Admin#2026")
    assert stored.startswith("$argon2id$")
    assert "Admin#2026" not in stored
    assert verify_password(stored, "Admin#2026")
    assert not verify_password(stored, "admin#2026")
    assert not verify_password(stored, "")
    # a fresh salt each time
    assert hash_password("Admin#2026") != stored
    assert not needs_rehash(stored)


def test_verify_tolerates_missing_or_bad_hash():
    assert not verify_password(None, "x")
    assert not verify_password("", "x")
    assert not verify_password("not a hash", "x")
    assert needs_rehash("not a hash")


def test_weaker_hash_needs_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("Secret123")
    assert verify_password(weak, "Secret123")
    assert needs_rehash(weak)


def test_long_unicode_password_is_fine():
    password = "网格指挥台" * 30 + "1a"  # far beyond bcrypt's 72 bytes
    stored = hash_password(password)
    assert verify_password(stored, password)
    assert not verify_password(stored, password[:-1])


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "shorter than 8"),
        ("lettersonly", "letter and one digit"),
        ("12345678", "letter and one digit"),
        ("x1" * 200, "longer than 256"),
        ("Worker01", "equal to the user name"),
    ],
)
def test_policy_rejects(password, problem):
    with pytest.raises(InputError, match=problem):
        check_password_policy(password, username="worker01")


def test_policy_accepts():
    check_password_policy("Admin#2026", username="admin")
