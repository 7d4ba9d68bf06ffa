"""Per-grid counts by state read from an index alone: ``ix_cases_grid_reported`` becomes
``ix_cases_grid_reported_state`` (grid, reported_at, state); its prefix serves everything the old
index served (one grid's cases newest first, windows per grid).

Revision ID: 0005_grid_state_index
Revises: 0004_web_sessions
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005_grid_state_index"
down_revision = "0004_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_grid_reported_state", "cases", ["grid_code", "reported_at", "state"])
    op.drop_index("ix_cases_grid_reported", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_grid_reported", "cases", ["grid_code", "reported_at"])
    op.drop_index("ix_cases_grid_reported_state", table_name="cases")
