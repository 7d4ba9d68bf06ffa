"""Fixtures of the page tests: a settings file pointing at a small hierarchy (and a small store), fresh
caches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.orm import Session

from tests.layers.sample import sample_hierarchy, write_gpkg
from tests.views.pages import COMMUNITY_A, COMMUNITY_B, GRID_A, GRID_B, XSS, case_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def app_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``gridcommand.toml`` in ``tmp_path`` whose hierarchy is the sample one; yields the
    hierarchy path. Streamlit's caches are cleared around the test."""
    gpkg = tmp_path / "hierarchy.gpkg"
    write_gpkg(sample_hierarchy(), gpkg)
    config = tmp_path / "gridcommand.toml"
    config.write_text(f'hierarchy_path = "{gpkg.as_posix()}"\n', encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield gpkg
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def store_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A settings file with the sample hierarchy and a store holding four located cases."""
    import streamlit as st

    def rows_for(grids, points, now):
        rows = []
        for i, (category, state) in enumerate([("emergency", "registered"), ("dispute", "dispatched"),
                                               ("request", "closed"), ("hazard", "on_site")]):
            rows.append({"source": "hotline_12345", "source_id": f"T{i}", "category": category,
                         "text": XSS if i == 0 else "噪音扰民", "lon": points.iloc[i].x,
                         "lat": points.iloc[i].y, "grid_code": grids["code"].iloc[i],
                         "community_code": grids["parent_code"].iloc[i], "state": state,
                         "priority": "normal", "reported_at": now - timedelta(hours=2 + i),
                         "dispatched_at": now - timedelta(hours=1) if state != "registered" else None,
                         "close_due": now + timedelta(days=2), "version": 1, "rework_count": 0,
                         "supervised": False})
        return rows

    engine = case_store(tmp_path, monkeypatch, rows_for)
    yield str(engine.url)
    engine.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()




@pytest.fixture()
def actions_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings with the sample hierarchy and a store holding cases 1 reported (grid A), 2
    dispatched to W001 (grid B), 3 registered and routed to W001 (grid A), 4 an accepted
    emergency of W001 (grid A); workers W001 (grid A), W002 (grid B), chief C001 (community A),
    two departments."""
    import streamlit as st

    from store.models import Department, Worker

    def rows_for(grids, points, now):
        rows = [{"source": "hotline_12345", "source_id": f"A{i}", "category": "dispute", "text": "噪音扰民",
                 "lon": points.iloc[i].x, "lat": points.iloc[i].y, "grid_code": grids["code"].iloc[i],
                 "community_code": grids["parent_code"].iloc[i], "state": state, "priority": "normal",
                 "reported_at": now - timedelta(hours=2), "version": 1, "rework_count": 0,
                 "supervised": False, "assignee_kind": "worker" if i else None,
                 "assignee_id": "W001" if i else None,
                 "dispatched_at": now - timedelta(hours=1) if i else None,
                 "close_due": now + timedelta(days=2)}
                for i, state in enumerate(("reported", "dispatched"))]
        base = {"source": "hotline_12345", "text": "燃气味", "lon": points.iloc[0].x, "lat": points.iloc[0].y,
                "grid_code": grids["code"].iloc[0], "community_code": grids["parent_code"].iloc[0],
                "priority": "normal", "reported_at": now - timedelta(hours=1), "version": 1, "rework_count": 0,
                "supervised": False, "assignee_kind": "worker", "assignee_id": "W001"}
        rows.append({**base, "source_id": "A2", "category": "request", "state": "registered",
                     "registered_at": now - timedelta(minutes=50)})
        rows.append({**base, "source_id": "A3", "category": "emergency", "state": "accepted",
                     "dispatched_at": now - timedelta(minutes=40), "accepted_at": now - timedelta(minutes=30),
                     "close_due": now + timedelta(days=1)})
        return rows

    engine = case_store(tmp_path, monkeypatch, rows_for)
    with Session(engine) as session, session.begin():
        session.add_all([
            Worker(id="W001", name="张伟", role="worker", grid_code=GRID_A, community_code=COMMUNITY_A, active=True),
            Worker(id="W002", name="李娜", role="worker", grid_code=GRID_B, community_code=COMMUNITY_B, active=True),
            Worker(id="C001", name="王强", role="chief", community_code=COMMUNITY_A, active=True),
            Department(name="应急管理", active=True),
            Department(name="住建", active=True),
        ])
    yield engine
    engine.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()
