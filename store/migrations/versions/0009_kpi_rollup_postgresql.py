"""Daily KPI roll-up on PostgreSQL too (see ``store.rollup``).

At ten million cases a year's KPI table per community scanned the cases for 2.6 s; the roll-up
answers it from one row per day, area and assignee. Creates ``kpi_daily``, the append-only
``kpi_daily_delta`` with the row trigger that feeds it, and the partial index of open cases with
deadlines, and fills the roll-up from the cases already stored (one grouped statement; minutes
on a store of ten million). SQLite has had its roll-up since 0003 and is left alone.

Revision ID: 0009_kpi_rollup_postgresql
Revises: 0008_api
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from metrics import kpi
from store import rollup

revision = "0009_kpi_rollup_postgresql"
down_revision = "0008_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        rollup.install(op.get_bind(), kpi.settled_measures())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rollup.uninstall(bind)
        op.execute(f"DROP INDEX IF EXISTS {rollup.OPEN_INDEX}")
