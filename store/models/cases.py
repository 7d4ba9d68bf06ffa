"""ORM models of cases: categories, departments, cases and their event trail.

On PostGIS the migration adds ``cases.geom geometry(Point, 4490)`` kept in step by a trigger, with
a GiST index. ``version`` is the optimistic lock of a case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base


class Category(Base):
    """A category of the four arrivals with its SLA (mirrors the effective SLA settings)."""

    __tablename__ = "categories"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    respond_minutes: Mapped[int] = mapped_column(Integer)
    arrive_minutes: Mapped[int] = mapped_column(Integer)
    close_working_days: Mapped[int] = mapped_column(Integer)
    arrival_required: Mapped[bool] = mapped_column(Boolean, default=True)


class Department(Base):
    """A department cases can be routed to (市场监管, 综合执法, 应急管理, ...)."""

    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Case(Base):
    """One incident followed through the closed loop. ``version`` is the optimistic lock."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_cases_source_source_id"),
        Index("ix_cases_state_reported", "state", "reported_at"),
        Index("ix_cases_grid_reported_state", "grid_code", "reported_at", "state"),
        Index("ix_cases_community_reported", "community_code", "reported_at"),
        Index("ix_cases_street_reported", "street_code", "reported_at"),
        Index("ix_cases_reported", "reported_at"),
        Index("ix_cases_assignee", "assignee_kind", "assignee_id", "state"),
        Index("ix_cases_category", "category", "subcategory"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    street_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    building_code: Mapped[str | None] = mapped_column(String(40))
    join_status: Mapped[str | None] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(16), default="reported")
    assignee_kind: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    unrouted_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime)
    arrival_lon: Mapped[float | None] = mapped_column(Float)
    arrival_lat: Mapped[float | None] = mapped_column(Float)
    arrival_distance_m: Mapped[float | None] = mapped_column(Float)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    respond_due: Mapped[datetime | None] = mapped_column(DateTime)
    arrive_due: Mapped[datetime | None] = mapped_column(DateTime)
    close_due: Mapped[datetime | None] = mapped_column(DateTime)
    extension_state: Mapped[str | None] = mapped_column(String(16))
    extended_close_due: Mapped[datetime | None] = mapped_column(DateTime)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    void_reason: Mapped[str | None] = mapped_column(Text)
    #: How far an overdue case has been escalated (0 none, 1 the chief, 2 the commander, ...).
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", lazy="raise_on_sql"
    )

    #: The lifecycle sets ``version`` itself (old + 1); the ORM still adds
    #: ``WHERE version = <value read>`` to every UPDATE and raises StaleDataError on 0 rows.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.source}:{self.source_id} {self.state} v{self.version}>"


class CaseEvent(Base):
    """One entry of a case's append-only audit trail (every transition and side action)."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
        Index("ix_case_events_actor_at", "actor", "at"),
        Index("ix_case_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)

    case: Mapped[Case] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<CaseEvent case={self.case_id} #{self.seq} {self.action} by {self.actor}>"


class CasePhoto(Base):
    """A photo of a case (taken on handling): JPEG, location data stripped, with a thumbnail."""

    __tablename__ = "case_photos"
    __table_args__ = (Index("ix_case_photos_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    event_seq: Mapped[int | None] = mapped_column(Integer)
    taken_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    filename: Mapped[str] = mapped_column(String(128))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"<CasePhoto {self.id} case={self.case_id} {self.width}x{self.height}>"
