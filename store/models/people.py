"""ORM models of people in the field: grid workers and chiefs, their GPS fixes, and the
key-population registry (一键可知): the four-visit (四访) households and key-group persons, their
moves between grids, notes, visits and visit photos.

Personal data (``head_name``, ``id_number``, ``phone``) is stored in clear and masked on every
output by the read APIs (``registry.queries``); never read these tables directly from a page.
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base


class Worker(Base):
    """A grid worker (网格员, ``role='worker'``, one per grid) or a community chief (网格长,
    ``role='chief'``). ``id`` is the staff number (工号)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="worker")
    grid_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Household(Base):
    """A registered person of the key-population registry: the head of a four-visit household
    (困难家庭, 空巢老人, 社区矫正人员, 戒毒康复人员) or a member of a key group (信访人员 …).

    ``id`` is the household number (户编号) as first imported (a second person of one household
    gets a derived id); the person is matched by ``id_number`` (身份证号). ``worker_id`` overrides
    the responsible worker (default: the worker of the grid); ``lon``/``lat`` are the home's
    position (the building's), EPSG:4490.
    """

    __tablename__ = "households"
    __table_args__ = (
        Index("ix_households_grid", "grid_code", "category"),
        Index("ix_households_community", "community_code"),
        Index("ix_households_street", "street_code"),
        Index("ix_households_id_number", "id_number"),
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
    household_no: Mapped[str | None] = mapped_column(String(32))
    worker_id: Mapped[str | None] = mapped_column(String(32))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

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
        Index("ix_visits_at", "at"),
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


class PersonMove(Base):
    """A registered person moving from one grid to another (reported by the registry import); the
    codes before the move let coverage place the person where they lived at a period's end."""

    __tablename__ = "person_moves"
    __table_args__ = (
        Index("ix_person_moves_person_at", "household_id", "at"),
        Index("ix_person_moves_from_grid", "from_grid_code"),
        Index("ix_person_moves_from_community", "from_community_code"),
        Index("ix_person_moves_from_street", "from_street_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    from_grid_code: Mapped[str | None] = mapped_column(String(32))
    from_community_code: Mapped[str | None] = mapped_column(String(32))
    from_street_code: Mapped[str | None] = mapped_column(String(32))
    from_building_code: Mapped[str | None] = mapped_column(String(40))
    to_grid_code: Mapped[str | None] = mapped_column(String(32))
    to_building_code: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64))


class PersonNote(Base):
    """A dated note on a registered person's card, by the worker or chief who wrote it."""

    __tablename__ = "person_notes"
    __table_args__ = (Index("ix_person_notes_person_at", "household_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class VisitPhoto(Base):
    """A photo taken on a visit: JPEG without metadata (no GPS position kept), with a thumbnail."""

    __tablename__ = "visit_photos"
    __table_args__ = (Index("ix_visit_photos_visit", "visit_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(128))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)


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


class TeamMember(Base):
    """A helper of the five teams that join the grids (五团进网): party members, deputies,
    volunteers, property managers, social workers; attached to one grid."""

    __tablename__ = "team_members"
    __table_args__ = (Index("ix_team_members_grid", "grid_code", "team"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<TeamMember {self.id} {self.team} grid={self.grid_code}>"


class CaseCoHandler(Base):
    """A team member working on a case beside its assignee (co-handler, 协办)."""

    __tablename__ = "case_cohandlers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("team_members.id", ondelete="CASCADE"), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
