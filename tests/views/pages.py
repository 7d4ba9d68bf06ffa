"""Helpers of the page tests: act as a signed-in account, open a page in AppTest, and a settings file
with a small store."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.layers.sample import sample_hierarchy, write_gpkg

ROOT = Path(__file__).resolve().parents[2]
#: Text that would run script if a page rendered it as HTML.
XSS = "<img src=x onerror=alert(1)>"
#: The sample hierarchy's first two grids lie in different communities.
GRID_A, COMMUNITY_A = "370811004001001", "370811004001"
GRID_B, COMMUNITY_B = "370811004002001", "370811004002"


def signed_in(at, *, role: str = "commander", username: str = "commander"):
    """``at`` acting as a signed-in account (the sign-in gate reads ``st.session_state['auth']``;
    an account unknown to the store counts as enabled). Returns ``at``."""
    from core import clock

    at.session_state["auth"] = {
        "user": {"username": username, "display_name": username, "role": role, "area_codes": ""},
        "last_activity": clock.now(),
    }
    return at


def open_page(script: str, *, role: str) -> AppTest:
    """The dashboard in AppTest signed in as ``role`` (an account of that name), switched to the
    page ``script`` (e.g. ``views/visits.py``) and run; asserts the page raised nothing."""
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60), role=role, username=role).run()
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at


def case_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_for):
    """A settings file with the sample hierarchy and a migrated SQLite store holding the cases
    ``rows_for(grids, points, now)`` returns (``points``: one representative point per grid,
    EPSG:4490). Streamlit's caches are cleared; returns the store's engine."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from core import clock
    from store.db import make_engine, upgrade
    from store.models import Case

    hierarchy = sample_hierarchy()
    gpkg = tmp_path / "hierarchy.gpkg"
    write_gpkg(hierarchy, gpkg)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    grids = hierarchy["grids"]
    points = grids.to_crs("EPSG:4548").geometry.representative_point().to_crs("EPSG:4490")
    with Session(engine) as session, session.begin():
        session.execute(insert(Case), rows_for(grids, points, clock.now()))
    config = tmp_path / "gridcommand.toml"
    config.write_text(f'hierarchy_path = "{gpkg.as_posix()}"\ndemo_dir = "{tmp_path.as_posix()}"\n',
                      encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    return engine


def first_grid_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """:func:`case_store` holding one reported patrol case. Returns the store's engine and the
    sample's first grid as ``{"grid": code, "community": its community's code, "point": a point
    inside it (EPSG:4490)}``, for the households and visits a test puts there."""
    place = {}

    def rows_for(grids, points, now):
        place.update(grid=grids["code"].iloc[0], community=grids["parent_code"].iloc[0], point=points.iloc[0])
        return [{"source": "patrol", "source_id": "P0", "category": "request", "text": "", "state": "reported",
                 "priority": "normal", "reported_at": now, "version": 1, "rework_count": 0, "supervised": False}]

    return case_store(tmp_path, monkeypatch, rows_for), place
