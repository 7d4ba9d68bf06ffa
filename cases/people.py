"""ORM models of accounts, the audit log and the four-visit registries (四访) with workers' tracks.

They share the declarative base of :mod:`cases.models`; their schema is created by the
migration ``cases/migrations/versions/0002_people.py``. Times are naive local times like the
rest of the store; locations are CGCS2000 (EPSG:4490) longitude/latitude in degrees.

Personal data (``head_name``, ``id_number``, ``phone``) is stored in clear and masked on every
output by :mod:`cases.queries`; never read these tables directly from a page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Base


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


class Household(Base):
    """A household of the four-visit registry (四访): hardship, empty-nest, correction, rehab."""

    __tablename__ = "households"
    __table_args__ = (
        Index("ix_households_grid", "grid_code", "category"),
        Index("ix_households_community", "community_code"),
        Index("ix_households_street", "street_code"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    head_name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    building_code: Mapped[str | None] = mapped_column(String(40))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"<Household {self.id} {self.category} grid={self.grid_code}>"


class Visit(Base):
    """One visit to a household. ``distance_m`` is measured in the metric CRS between the
    worker's GPS fix and the household; ``on_site`` means ``distance_m <= VISIT_ON_SITE_M``.
    The hierarchy codes are copied from the household so reads can be scoped by index."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_grid_at", "grid_code", "at"),
        Index("ix_visits_community_at", "community_code", "at"),
        Index("ix_visits_street_at", "street_code", "at"),
        Index("ix_visits_household_at", "household_id", "at"),
        Index("ix_visits_worker_at", "worker_id", "at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    worker_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(Text, default="")
    distance_m: Mapped[float | None] = mapped_column(Float)
    on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    grid_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32))

    household: Mapped[Household] = relationship(lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"<Visit {self.id} household={self.household_id} on_site={self.on_site}>"


class WorkerTrack(Base):
    """One GPS fix of a grid worker. The hierarchy codes are those of the worker's own grid."""

    __tablename__ = "worker_tracks"
    __table_args__ = (
        Index("ix_worker_tracks_worker_at", "worker_id", "at"),
        Index("ix_worker_tracks_grid_at", "grid_code", "at"),
        Index("ix_worker_tracks_community_at", "community_code", "at"),
        Index("ix_worker_tracks_street_at", "street_code", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"<WorkerTrack {self.worker_id} {self.at:%H:%M:%S} ({self.lon:.5f}, {self.lat:.5f})>"


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


#: Tables of this module, children first.
PEOPLE_TABLES: tuple[str, ...] = ("web_sessions", "worker_tracks", "visits", "households", "audit_log", "users")
