"""Fixtures of the report tests: the demo district seeded once per session at a fixed "now"."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from access.scope import Scope
from store.db import make_engine
from tests.reports.demo_store import DEMO_NOW, demo_hierarchy, seeded_store


@pytest.fixture(scope="session")
def demo_url(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a SQLite store holding the seeded demo district (cases, people, visits, accounts)."""
    return seeded_store(tmp_path_factory.mktemp("briefing"), demo_dir, DEMO_NOW)


@pytest.fixture(scope="session")
def demo_layers(demo_dir: Path) -> dict:
    """The demo district's hierarchy layers."""
    from geo import read_hierarchy

    return dict(read_hierarchy(demo_hierarchy(demo_dir)))


@pytest.fixture()
def demo_session(demo_url: str):
    engine = make_engine(demo_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture()
def leader() -> Scope:
    return Scope(role="leader", username="leader")
