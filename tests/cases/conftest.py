"""Fixtures of the case-store tests: a migrated store on SQLite and on PostGIS.

``store`` is parametrised over both backends. Each test module gets its own database (a file in
tmp_path on SQLite, ``CREATE DATABASE ... TEMPLATE gridcommand`` on the session's PostGIS
server); each test starts from empty data tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from store import db
from store.models import DATA_TABLES
from tests.factories import insert_case


@dataclass
class Store:
    """A migrated case store for one test module."""

    backend: str
    url: str
    engine: Engine
    Session: sessionmaker[Session]

    def clear(self) -> None:
        with self.engine.begin() as conn:
            if self.backend == "postgis":
                conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))
            else:
                for table in DATA_TABLES:
                    conn.execute(text(f"DELETE FROM {table}"))


def _postgis_database(server_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE gridcommand'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def module_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'cases.db'}"
    else:
        url = _postgis_database(request.getfixturevalue("postgis_url"))
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield Store(request.param, url, engine, db.session_factory(engine))
    engine.dispose()


@pytest.fixture
def store(module_store: Store) -> Store:
    module_store.clear()
    return module_store


#: A point in the demo district's area (CGCS2000 degrees) used as the case location.
CASE_LON, CASE_LAT = 116.587, 35.415
T0 = __import__("datetime").datetime(2026, 11, 16, 9, 0)  # a Monday


def add_people(session: Session) -> None:
    """Two grid workers, a community chief and two departments."""
    from store.models import Department, Worker

    session.add_all([
        Worker(id="W001", name="张伟", phone="13800000001", role="worker",
               grid_code="370811004001001", community_code="370811004001", active=True),
        Worker(id="W002", name="李娜", phone="13800000002", role="worker",
               grid_code="370811004001002", community_code="370811004001", active=True),
        Worker(id="C001", name="王强", phone="13800000003", role="chief",
               grid_code=None, community_code="370811004001", active=True),
        Department(name="应急管理", active=True),
        Department(name="市场监管", active=True),
    ])
    session.flush()


def new_case(session: Session, *, source_id: str = "A1", category: str = "request",
             priority: str = "normal", at=T0, **extra):
    """A reported case in grid 370811004001001, routed to worker W001."""

    values = dict(source="hotline_12345", source_id=source_id, category=category, subcategory=None,
                  text="楼道堆放杂物", lon=CASE_LON, lat=CASE_LAT, street_code="370811004",
                  community_code="370811004001", grid_code="370811004001001", join_status="ok",
                  priority=priority, assignee_kind="worker", assignee_id="W001", reported_at=at)
    values.update(extra)
    return insert_case(session, actor="import", at=at, **values)


@pytest.fixture(scope="session")
def small_hierarchy(tmp_path_factory: pytest.TempPathFactory):
    """A hand-made hierarchy (EPSG:4490): street 370811004 ⊃ community 370811004001 ⊃ grids
    370811004001001 (west half, lon 116.58–116.59) and 370811004001002 (east half, 116.59–116.60),
    lat 35.41–35.42."""
    import geopandas as gpd
    from shapely.geometry import box

    import geo

    def layer(rows):
        return gpd.GeoDataFrame(
            {"code": [r[0] for r in rows], "name": [r[1] for r in rows], "parent_code": [r[2] for r in rows]},
            geometry=[box(*r[3]) for r in rows], crs="EPSG:4490")

    whole = (116.58, 35.41, 116.60, 35.42)
    layers = {
        "streets": layer([("370811004", "锦川街道", "", whole)]),
        "communities": layer([("370811004001", "民生社区", "370811004", whole)]),
        "grids": layer([("370811004001001", "第一网格", "370811004001", (116.58, 35.41, 116.59, 35.42)),
                        ("370811004001002", "第二网格", "370811004001", (116.59, 35.41, 116.60, 35.42))]),
    }
    layers["buildings"] = layers["grids"].iloc[0:0].copy()
    path = tmp_path_factory.mktemp("hierarchy") / "hierarchy.gpkg"
    geo.write_hierarchy(layers, path)
    return path
