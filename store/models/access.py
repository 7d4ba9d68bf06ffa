"""ORM models of access: local accounts, the append-only audit log and browser sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class User(Base):
    """A local account. ``area_codes`` is a comma-separated list of hierarchy codes (a chief's
    street or community, a worker's grids); ``worker_id`` links a worker to their staff number
    (工号) in ``workers`` and in visits and tracks."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    area_codes: Mapped[str] = mapped_column(String(512), default="")
    worker_id: Mapped[str | None] = mapped_column(String(32))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_sign_in: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def area_code_list(self) -> list[str]:
        """``area_codes`` as a list."""
        return [c for c in (self.area_codes or "").split(",") if c]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}{' disabled' if self.disabled else ''}>"


class AuditEntry(Base):
    """One entry of the append-only audit log (sign-ins, account changes, unmask views,
    imports, exports, case transitions). The store forbids UPDATE and DELETE by trigger."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target_kind: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}>"


class WebSession(Base):
    """A signed-in browser: the hash of the token its cookie carries, so that reloading the page
    resumes the session (until sign-out, the idle timeout or the account being disabled)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_username", "username"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<WebSession {self.username} since {self.created_at:%Y-%m-%d %H:%M}>"


class JobLease(Base):
    """Who runs a scheduled job now: one holder per job across every app process, until ``until``."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    until: Mapped[datetime] = mapped_column(DateTime)
    last_run: Mapped[datetime | None] = mapped_column(DateTime)
