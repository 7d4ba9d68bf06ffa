"""Accounts, the append-only audit log, four-visit households and visits, workers' GPS tracks.

The audit log refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) through triggers, so not
even a bug in the application can rewrite history. On PostgreSQL the location tables also get
a ``geom geometry(Point, 4490)`` column filled from ``lon``/``lat`` by a trigger, with a GiST
index.

Revision ID: 0002_people
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_people"
down_revision = "0001"
branch_labels = None
depends_on = None

_GEOM_TABLES = ("households", "visits", "worker_tracks")

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
_PG_SET_GEOM = """
CREATE OR REPLACE FUNCTION people_set_geom() RETURNS trigger AS $$
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
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("area_codes", sa.String(512), nullable=False),
        sa.Column("worker_id", sa.String(32)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("last_sign_in", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("password_changed_at", sa.DateTime),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target_kind", sa.String(32)),
        sa.Column("target_id", sa.String(64)),
        sa.Column("detail", sa.JSON),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_kind", "target_id"])
    op.create_table(
        "households",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("head_name", sa.String(64), nullable=False),
        sa.Column("id_number", sa.String(32)),
        sa.Column("phone", sa.String(32)),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("building_code", sa.String(40)),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("street_code", sa.String(32)),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
    )
    op.create_index("ix_households_grid", "households", ["grid_code", "category"])
    op.create_index("ix_households_community", "households", ["community_code"])
    op.create_index("ix_households_street", "households", ["street_code"])
    op.create_table(
        "visits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "household_id",
            sa.String(32),
            sa.ForeignKey("households.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("worker_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("distance_m", sa.Float),
        sa.Column("on_site", sa.Boolean, nullable=False),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("street_code", sa.String(32)),
    )
    op.create_index("ix_visits_grid_at", "visits", ["grid_code", "at"])
    op.create_index("ix_visits_community_at", "visits", ["community_code", "at"])
    op.create_index("ix_visits_street_at", "visits", ["street_code", "at"])
    op.create_index("ix_visits_household_at", "visits", ["household_id", "at"])
    op.create_index("ix_visits_worker_at", "visits", ["worker_id", "at"])
    op.create_table(
        "worker_tracks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("street_code", sa.String(32)),
    )
    op.create_index("ix_worker_tracks_worker_at", "worker_tracks", ["worker_id", "at"])
    op.create_index("ix_worker_tracks_grid_at", "worker_tracks", ["grid_code", "at"])
    op.create_index("ix_worker_tracks_community_at", "worker_tracks", ["community_code", "at"])
    op.create_index("ix_worker_tracks_street_at", "worker_tracks", ["street_code", "at"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_audit_log_no_{operation.lower()} BEFORE {operation} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {operation} is not allowed'); END"
            )
    elif dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER trg_audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(_PG_SET_GEOM)
        for table in _GEOM_TABLES:
            op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4490)")
            op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")
            op.execute(
                f"CREATE TRIGGER trg_{table}_geom BEFORE INSERT OR UPDATE OF lon, lat ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION people_set_geom()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_delete")
    elif dialect == "postgresql":
        for table in _GEOM_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_geom ON {table}")
        op.execute("DROP FUNCTION IF EXISTS people_set_geom()")
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("worker_tracks")
    op.drop_table("visits")
    op.drop_table("households")
    op.drop_table("audit_log")
    op.drop_table("users")
