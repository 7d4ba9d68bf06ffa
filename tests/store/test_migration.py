"""The people migration: one Alembic head, ORM models in step with the schema, clean downgrade,
and on PostGIS the geometry columns filled by trigger."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import store.models as people
from store import db


def test_single_head_and_people_revision_in_chain():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"
    chain = [rev.revision for rev in script.walk_revisions()]
    assert "0002_people" in chain and chain[-1] == "0001"


@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_models_match_the_migrated_schema(people_store):
    inspector = inspect(people_store.engine)
    for table_name in people.PEOPLE_TABLES:
        table = people.Base.metadata.tables[table_name]
        in_db = {c["name"]: c for c in inspector.get_columns(table_name)}
        extra = set(in_db) - set(table.columns.keys()) - {"geom"}
        assert not extra, f"{table_name}: columns only in the store: {extra}"
        for column in table.columns:
            assert column.name in in_db, f"{table_name}.{column.name} missing in the store"
            assert in_db[column.name]["nullable"] == column.nullable, f"{table_name}.{column.name} nullability"
        indexes = {i["name"] for i in inspector.get_indexes(table_name)}
        assert {i.name for i in table.indexes} <= indexes


def test_downgrade_and_upgrade_again(people_store):
    config = db._alembic_config(people_store.engine)
    with people_store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not inspect(people_store.engine).has_table("audit_log")
    assert inspect(people_store.engine).has_table("cases")
    db.upgrade(people_store.engine)
    assert inspect(people_store.engine).has_table("audit_log")
    assert inspect(people_store.engine).has_table("worker_tracks")


@pytest.mark.postgis
def test_postgis_geometry_follows_lon_lat(people_store):
    if people_store.backend != "postgis":
        pytest.skip("PostGIS only")
    with people_store.engine.begin() as conn:
        conn.execute(text("INSERT INTO households (id, head_name, category, lon, lat) "
                          "VALUES ('HHG', '张三', 'hardship', 116.6, 35.45)"))
        srid, x = conn.execute(text("SELECT ST_SRID(geom), ST_X(geom) FROM households WHERE id = 'HHG'")).one()
        conn.execute(text("UPDATE households SET lon = 116.7 WHERE id = 'HHG'"))
        moved = conn.execute(text("SELECT ST_X(geom) FROM households WHERE id = 'HHG'")).scalar()
    assert srid == 4490 and x == pytest.approx(116.6) and moved == pytest.approx(116.7)
