"""The intake API: channel keys (SHA-256 only), accepted submissions with their idempotency keys,
alarm devices with their merge state, and the signatures of alarms already seen.

Revision ID: 0008_api
Revises: 0007_registry
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_api"
down_revision = "0007_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("allow", sa.String(64), nullable=False),
        sa.Column("rate_per_minute", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_table(
        "api_submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE")),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("channel", "idempotency_key", name="uq_api_submissions_channel_key"),
    )
    op.create_index("ix_api_submissions_channel_case", "api_submissions", ["channel", "case_id"])
    op.create_table(
        "api_devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("subcategory", sa.String(32)),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("alarms_total", sa.Integer, nullable=False),
        sa.Column("merge_case_id", sa.Integer),
        sa.Column("merge_last_at", sa.DateTime),
        sa.Column("merge_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_nonces",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_api_nonces_at", "api_nonces", ["at"])


def downgrade() -> None:
    op.drop_index("ix_api_nonces_at", table_name="api_nonces")
    op.drop_table("api_nonces")
    op.drop_table("api_devices")
    op.drop_index("ix_api_submissions_channel_case", table_name="api_submissions")
    op.drop_table("api_submissions")
    op.drop_table("api_keys")
