"""The store: engine and sessions (SQLite or PostgreSQL + PostGIS), ORM models, Alembic migrations.

No business rule lives here; ``store`` imports only ``core``.
"""
