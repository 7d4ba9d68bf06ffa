"""ORM models of the intake API: channel keys (hashed), what each request submitted (with its
idempotency key), registered alarm devices with their merge state, and the signatures of alarms
already seen (replay protection).

Positions are CGCS2000 (EPSG:4490) longitude/latitude in degrees; times naive local time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class ApiKey(Base):
    """A channel's API key: only its SHA-256 is stored (``key_hash``); ``key_id`` is its public part.

    ``allow`` is a comma-separated list of what the key may do (``report``, ``alarm``, ``hotline``);
    ``rate_per_minute`` overrides the ``[api]`` default when set.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(24))
    allow: Mapped[str] = mapped_column(String(64))
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<ApiKey {self.key_id} {self.channel}{' revoked' if self.revoked_at else ''}>"


class ApiSubmission(Base):
    """One accepted report or alarm: the case it became and the answer given, so that a repeated
    request with the same idempotency key gets the same answer and no second case."""

    __tablename__ = "api_submissions"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key", name="uq_api_submissions_channel_key"),
        Index("ix_api_submissions_channel_case", "channel", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(24))
    key_id: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<ApiSubmission {self.id} {self.channel} {self.kind} case={self.case_id}>"


class ApiDevice(Base):
    """A camera or sensor that may send alarms, at a fixed position (EPSG:4490 degrees).

    ``merge_case_id``/``merge_last_at``/``merge_count``: the case the device's recent alarms were
    merged into, when the last one came and how many there were.
    """

    __tablename__ = "api_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(128))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    alarms_total: Mapped[int] = mapped_column(Integer, default=0)
    merge_case_id: Mapped[int | None] = mapped_column(Integer)
    merge_last_at: Mapped[datetime | None] = mapped_column(DateTime)
    merge_count: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<ApiDevice {self.id} {self.channel} ({self.lon:.5f}, {self.lat:.5f})>"


class ApiNonce(Base):
    """The SHA-256 of a signed alarm's signature, kept for the replay window: a second alarm with
    the same signature is a replay and is refused."""

    __tablename__ = "api_nonces"
    __table_args__ = (Index("ix_api_nonces_at", "at"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
