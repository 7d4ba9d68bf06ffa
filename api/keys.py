"""API keys per channel: created once (the key is shown once and never stored), kept as their
SHA-256, revoked for good.

A key reads ``gc_<key id>_<43 random characters>``; the key id (``k`` + 8 hex digits) is its public
part, shown by ``keys list`` and sent as ``X-GC-Key-Id`` with signed alarms. Keys are 256-bit
random, so a plain SHA-256 (no slow password hash) is enough and costs microseconds per request.
The signing key of a device channel's alarms is that SHA-256's 32 bytes (:mod:`api.signing`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access import audit
from core.errors import InputError, NotFound
from store.models import ApiKey

#: What a key may be allowed: post reports (Open311, 随手拍) and read them back, send signed
#: alarms, read the 12345 change feed.
GRANTS: tuple[str, ...] = ("report", "alarm", "hotline")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
_KEY = re.compile(r"^gc_(k[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Caller:
    """The channel behind a request's key.

    Attributes
    ----------
    key_id, channel : str
        The key's public id and its channel name.
    allow : frozenset of str
        Its grants (:data:`GRANTS`).
    rate_per_minute : int or None
        Its own rate limit, else the ``[api]`` default.
    key_hash : str
        The key's SHA-256 (hex), the signing key of its alarms.
    """

    key_id: str
    channel: str
    allow: frozenset[str]
    rate_per_minute: int | None
    key_hash: str

    @property
    def actor(self) -> str:
        """The actor of audit entries and case events: ``api:<channel>``."""
        return f"api:{self.channel}"


def key_hash(key: str) -> str:
    """The SHA-256 of a key, hex (what the store keeps)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_channel(channel: str) -> str:
    """A channel name, checked: 1-24 of ``a-z 0-9 _ -``, starting with a letter or digit."""
    if not _CHANNEL.match(channel or ""):
        raise InputError("--channel", f"{channel!r} is not a channel name",
                         "use 1-24 lower-case letters, digits, '-' or '_', e.g. wechat-snap or 12345")
    return channel


def _grants(allow: str | list[str]) -> str:
    items = [a.strip() for a in (allow.split(",") if isinstance(allow, str) else allow) if a.strip()]
    unknown = [a for a in items if a not in GRANTS]
    if unknown or not items:
        raise InputError("--allow", f"unknown grant(s) {', '.join(unknown) or '(none)'}",
                         f"use one or more of {', '.join(GRANTS)}, comma-separated")
    return ",".join(dict.fromkeys(items))


def add_key(session: Session, channel: str, *, actor: str, now: datetime, allow: str = "report",
            rate_per_minute: int | None = None) -> tuple[ApiKey, str]:
    """Create a key for ``channel``; returns the stored row and the key (shown once, never stored).

    Raises
    ------
    core.errors.InputError
        A bad channel name, grant or rate.
    """
    check_channel(channel)
    grants = _grants(allow)
    if rate_per_minute is not None and rate_per_minute <= 0:
        raise InputError("--rate", f"{rate_per_minute} is not a rate", "give requests per minute, e.g. 600")
    while True:
        key_id = f"k{secrets.token_hex(4)}"
        if session.scalar(select(ApiKey.id).where(ApiKey.key_id == key_id)) is None:
            break
    key = f"gc_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, key_hash=key_hash(key), channel=channel, allow=grants, rate_per_minute=rate_per_minute,
                 created_at=now, created_by=actor[:64])
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="api_key_add", at=now, target_kind="api_key", target_id=key_id,
                 detail={"channel": channel, "allow": grants, "rate_per_minute": rate_per_minute})
    return row, key


def revoke_key(session: Session, key_id: str, *, actor: str, now: datetime) -> ApiKey:
    """Revoke a key by its id (``k...``); requests with it are refused from now on."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if row is None:
        raise NotFound(f"no API key {key_id}; list them with `python -m api keys list`")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(session, actor=actor, action="api_key_revoke", at=now, target_kind="api_key", target_id=key_id,
                     detail={"channel": row.channel})
    return row


def list_keys(session: Session) -> list[ApiKey]:
    """Every key (revoked ones too), oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _caller(row: ApiKey) -> Caller:
    return Caller(row.key_id, row.channel, frozenset(row.allow.split(",")), row.rate_per_minute, row.key_hash)


def find_caller(session: Session, key: str) -> Caller | None:
    """The channel of a presented key, or None (malformed, unknown or revoked)."""
    if not _KEY.match(key or ""):
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(key)))
    if row is None or row.revoked_at is not None or not secrets.compare_digest(row.key_hash, key_hash(key)):
        return None
    return _caller(row)


def caller_by_id(session: Session, key_id: str) -> Caller | None:
    """The channel of a key id (signed alarms name the key by its id), or None (unknown or revoked)."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == (key_id or "")[:16]))
    return None if row is None or row.revoked_at is not None else _caller(row)
