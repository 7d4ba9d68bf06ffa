"""Daily KPI roll-up of the embedded store (SQLite only; see ``store.rollup``).

Creates ``kpi_daily``, the triggers on ``cases`` that keep it exact, the partial index of open
cases with deadlines, and fills the roll-up from the cases already stored. PostgreSQL is left
alone (it aggregates directly). A later change of the KPI formulas adds a migration that calls
:func:`store.rollup.install` again.

Revision ID: 0003_kpi_rollup
Revises: 0002_people
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from metrics import kpi
from store import rollup

revision = "0003_kpi_rollup"
down_revision = "0002_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # PostgreSQL's came with 0009_kpi_rollup_postgresql
        rollup.install(op.get_bind(), kpi.settled_measures())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        rollup.uninstall(bind)
        op.execute(f"DROP INDEX IF EXISTS {rollup.OPEN_INDEX}")
