"""Fixtures of the page tests: a settings file pointing at a small hierarchy (and a small store), fresh
caches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st

from tests.layers.sample import sample_hierarchy, write_gpkg
from tests.views.pages import XSS, case_store

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
