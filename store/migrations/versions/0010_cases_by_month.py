"""Cases partitioned by month of ``reported_at`` on PostgreSQL (see ``store.partitions``).

``cases`` becomes a range-partitioned table (one partition per month, a default partition for
the rest) with the primary key ``(id, reported_at)``; ``case_keys`` keeps one row per case for
the foreign keys of events, photos and API submissions and for the unique work-order key. The
rows are copied once. SQLite is left alone.

Revision ID: 0010_cases_by_month
Revises: 0009_kpi_rollup_postgresql
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from core import clock
from store import partitions, repartition

revision = "0010_cases_by_month"
down_revision = "0009_kpi_rollup_postgresql"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and not partitions.is_partitioned(bind):
        repartition.partition_by_month(bind, clock.now())


def downgrade() -> None:
    bind = op.get_bind()
    if partitions.is_partitioned(bind):
        repartition.merge_partitions(bind)
