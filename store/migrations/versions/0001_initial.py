"""Initial case store: categories, departments, workers, cases, case events.

On PostgreSQL the migration also adds ``cases.geom geometry(Point, 4490)`` (PostGIS), filled
from ``lon``/``lat`` by a trigger so bulk inserts need not know about it, with a GiST index.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core import constants

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_GEOM_TRIGGER = """
CREATE OR REPLACE FUNCTION cases_set_geom() RETURNS trigger AS $$
BEGIN
    IF NEW.lon IS NULL OR NEW.lat IS NULL THEN
        NEW.geom := NULL;
    ELSE
        NEW.geom := ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), 4490);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    categories = op.create_table(
        "categories",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("label_zh", sa.String(64), nullable=False),
        sa.Column("label_en", sa.String(64), nullable=False),
        sa.Column("respond_minutes", sa.Integer, nullable=False),
        sa.Column("arrive_minutes", sa.Integer, nullable=False),
        sa.Column("close_working_days", sa.Integer, nullable=False),
        sa.Column("arrival_required", sa.Boolean, nullable=False),
    )
    op.create_table(
        "departments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_workers_grid_code", "workers", ["grid_code"])
    op.create_index("ix_workers_community_code", "workers", ["community_code"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("subcategory", sa.String(32)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("reporter_name", sa.String(64)),
        sa.Column("reporter_phone", sa.String(32)),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("street_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("building_code", sa.String(40)),
        sa.Column("join_status", sa.String(24)),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee_kind", sa.String(16)),
        sa.Column("assignee_id", sa.String(64)),
        sa.Column("unrouted_reason", sa.Text),
        sa.Column("reported_at", sa.DateTime, nullable=False),
        sa.Column("registered_at", sa.DateTime),
        sa.Column("dispatched_at", sa.DateTime),
        sa.Column("accepted_at", sa.DateTime),
        sa.Column("arrived_at", sa.DateTime),
        sa.Column("arrival_lon", sa.Float),
        sa.Column("arrival_lat", sa.Float),
        sa.Column("arrival_distance_m", sa.Float),
        sa.Column("handled_at", sa.DateTime),
        sa.Column("verified_at", sa.DateTime),
        sa.Column("followed_up_at", sa.DateTime),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("archived_at", sa.DateTime),
        sa.Column("respond_due", sa.DateTime),
        sa.Column("arrive_due", sa.DateTime),
        sa.Column("close_due", sa.DateTime),
        sa.Column("extension_state", sa.String(16)),
        sa.Column("extended_close_due", sa.DateTime),
        sa.Column("supervised", sa.Boolean, nullable=False),
        sa.Column("satisfaction", sa.String(24)),
        sa.Column("rework_count", sa.Integer, nullable=False),
        sa.Column("void_reason", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("source", "source_id", name="uq_cases_source_source_id"),
    )
    op.create_index("ix_cases_state_reported", "cases", ["state", "reported_at"])
    op.create_index("ix_cases_grid_reported", "cases", ["grid_code", "reported_at"])
    op.create_index("ix_cases_community_reported", "cases", ["community_code", "reported_at"])
    op.create_index("ix_cases_street_reported", "cases", ["street_code", "reported_at"])
    op.create_index("ix_cases_reported", "cases", ["reported_at"])
    op.create_index("ix_cases_assignee", "cases", ["assignee_kind", "assignee_id", "state"])
    op.create_index("ix_cases_category", "cases", ["category", "subcategory"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
    )
    op.create_index("ix_case_events_actor_at", "case_events", ["actor", "at"])
    op.create_index("ix_case_events_at", "case_events", ["at"])

    op.bulk_insert(
        categories,
        [
            {
                "key": key,
                "label_zh": label.zh,
                "label_en": label.en,
                "respond_minutes": constants.SLA_DEFAULTS[key].respond_minutes,
                "arrive_minutes": constants.SLA_DEFAULTS[key].arrive_minutes,
                "close_working_days": constants.SLA_DEFAULTS[key].close_working_days,
                "arrival_required": key in constants.ARRIVAL_REQUIRED_CATEGORIES,
            }
            for key, label in constants.CATEGORIES.items()
        ],
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute("ALTER TABLE cases ADD COLUMN geom geometry(Point, 4490)")
        op.execute("CREATE INDEX ix_cases_geom ON cases USING gist (geom)")
        op.execute(_GEOM_TRIGGER)
        op.execute(
            "CREATE TRIGGER trg_cases_geom BEFORE INSERT OR UPDATE OF lon, lat ON cases "
            "FOR EACH ROW EXECUTE FUNCTION cases_set_geom()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_cases_geom ON cases")
        op.execute("DROP FUNCTION IF EXISTS cases_set_geom()")
    op.drop_table("case_events")
    op.drop_table("cases")
    op.drop_table("workers")
    op.drop_table("departments")
    op.drop_table("categories")
