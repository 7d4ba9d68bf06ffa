"""The key-population registry (一键可知): matching persons by ID number, the responsible worker,
moves between grids, notes on the person card, visit photos, and visits by time.

``households`` gains its columns with plain ``ALTER TABLE ... ADD COLUMN`` (no table copy); the
household number (户编号) of the rows already stored is their id.

Revision ID: 0007_registry
Revises: 0006_desk_and_field
Create Date: 2026-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_registry"
down_revision = "0006_desk_and_field"
branch_labels = None
depends_on = None

#: New columns of ``households`` (all nullable).
_HOUSEHOLD_COLUMNS = (("household_no", sa.String(32)), ("worker_id", sa.String(32)),
                      ("registered_at", sa.DateTime), ("updated_at", sa.DateTime))


def upgrade() -> None:
    for name, kind in _HOUSEHOLD_COLUMNS:
        op.add_column("households", sa.Column(name, kind))
    op.execute("UPDATE households SET household_no = id")
    op.create_index("ix_households_id_number", "households", ["id_number"])
    op.create_index("ix_visits_at", "visits", ["at"])
    op.create_table(
        "person_moves",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("household_id", sa.String(32), sa.ForeignKey("households.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("from_grid_code", sa.String(32)),
        sa.Column("from_community_code", sa.String(32)),
        sa.Column("from_street_code", sa.String(32)),
        sa.Column("from_building_code", sa.String(40)),
        sa.Column("to_grid_code", sa.String(32)),
        sa.Column("to_building_code", sa.String(40)),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
    )
    op.create_index("ix_person_moves_person_at", "person_moves", ["household_id", "at"])
    op.create_index("ix_person_moves_from_grid", "person_moves", ["from_grid_code"])
    op.create_index("ix_person_moves_from_community", "person_moves", ["from_community_code"])
    op.create_index("ix_person_moves_from_street", "person_moves", ["from_street_code"])
    op.create_table(
        "person_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("household_id", sa.String(32), sa.ForeignKey("households.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_person_notes_person_at", "person_notes", ["household_id", "at"])
    op.create_table(
        "visit_photos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("visit_id", sa.String(32), sa.ForeignKey("visits.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_visit_photos_visit", "visit_photos", ["visit_id", "id"])


def downgrade() -> None:
    op.drop_table("visit_photos")
    op.drop_table("person_notes")
    op.drop_table("person_moves")
    op.drop_index("ix_visits_at", table_name="visits")
    op.drop_index("ix_households_id_number", table_name="households")
    for name, _kind in reversed(_HOUSEHOLD_COLUMNS):
        op.drop_column("households", name)  # SQLite >= 3.35 drops a column in place
