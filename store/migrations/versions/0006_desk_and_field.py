"""The chief's desk and the worker's phone: how far an overdue case was escalated, photos of cases,
the five teams attached to grids (五团进网) and their co-handling, and the leases that let one app
process run each scheduled job.

``cases.escalation_level`` is added with a plain ``ALTER TABLE ... ADD COLUMN`` (no table copy), so
the SQLite KPI roll-up's triggers and partial index stay in place.

Revision ID: 0006_desk_and_field
Revises: 0005_grid_state_index
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_desk_and_field"
down_revision = "0005_grid_state_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "case_photos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_seq", sa.Integer),
        sa.Column("taken_by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_case_photos_case", "case_photos", ["case_id", "id"])
    op.create_table(
        "team_members",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("street_code", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_team_members_grid", "team_members", ["grid_code", "team"])
    op.create_table(
        "case_cohandlers",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.String(32), sa.ForeignKey("team_members.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("until", sa.DateTime, nullable=False),
        sa.Column("last_run", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_table("case_cohandlers")
    op.drop_table("team_members")
    op.drop_index("ix_case_photos_case", table_name="case_photos")
    op.drop_table("case_photos")
    op.drop_column("cases", "escalation_level")  # SQLite >= 3.35 drops a column in place
