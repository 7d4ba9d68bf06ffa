"""Password hashing with Argon2id (``argon2-cffi``) and the password policy.

Hashes are self-describing PHC strings (``$argon2id$v=19$m=...``), so the parameters can be
raised later: :func:`needs_rehash` tells when a stored hash should be replaced at the next
successful sign-in.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import InputError

#: Shortest and longest accepted password, in characters.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

# OWASP password-storage recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise :class:`~core.errors.InputError` if ``password`` is not acceptable.

    Parameters
    ----------
    password : str
        The new password: 8 to 256 characters, at least one letter and one digit, not equal
        to the user name.
    username : str, optional
        The account the password is for.
    """
    problem = None
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        problem = f"shorter than {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        problem = f"longer than {MAX_PASSWORD_LENGTH} characters"
    elif not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        problem = "needs at least one letter and one digit"
    elif username and password.casefold() == username.casefold():
        problem = "equal to the user name"
    if problem:
        raise InputError("password", problem, "choose a longer password mixing letters and digits")


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string) of ``password``; a new random salt each call."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; ``False`` for a missing or malformed hash."""
    if not stored_hash or not isinstance(password, str):
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with weaker parameters than the current ones."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A valid hash of a random password, verified against for unknown user names so that a
    failed sign-in takes as long whether or not the account exists."""
    return _HASHER.hash(secrets.token_urlsafe(16))
