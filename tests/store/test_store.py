"""The store itself: migrations match the models, SQLite pragmas, PostGIS geometry."""

from __future__ import annotations

import geoalchemy2  # noqa: F401 - registers the PostGIS geometry type for reflection
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from store import db, schema
from store.models import Base
from tests.factories import CASE_LAT, CASE_LON, add_people, new_case

MY_TABLES = {"cases", "case_events", "workers", "departments", "categories"}


def test_migrations_match_the_models(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": schema.include_object(conn)})
        diffs = compare_metadata(context, Base.metadata)
    # the KPI roll-up and the month partitions live outside the models (store.schema says which)
    mine = [d for d in diffs if any(t in repr(d) for t in MY_TABLES) and "geom" not in repr(d)]
    assert mine == []
    assert db.current_revision(store.engine) is not None and db.is_migrated(store.engine)


def test_upgrade_is_idempotent_and_categories_are_seeded(store):
    db.upgrade(store.engine)
    with store.engine.connect() as conn:
        keys = {r[0] for r in conn.execute(text("SELECT key FROM categories"))}
    assert keys == {"emergency", "dispute", "hazard", "request"}


def test_sqlite_pragmas(tmp_path):
    path = tmp_path / "nested" / "folder" / "store.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()
    assert path.exists()


def test_postgis_geometry_follows_lon_lat(store):
    if store.backend != "postgis":
        pytest.skip("PostGIS only")
    with store.Session() as s, s.begin():
        add_people(s)
        case_id = new_case(s).id
    with store.engine.begin() as conn:
        srid, x, y = conn.execute(text("SELECT ST_SRID(geom), ST_X(geom), ST_Y(geom) FROM cases WHERE id = :i"),
                                  {"i": case_id}).one()
        assert (srid, x, y) == (4490, CASE_LON, CASE_LAT)
        conn.execute(text("UPDATE cases SET lon = 116.6 WHERE id = :i"), {"i": case_id})
        assert conn.execute(text("SELECT ST_X(geom) FROM cases WHERE id = :i"), {"i": case_id}).scalar() == 116.6
    indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("cases")}
    assert "ix_cases_geom" in indexes
