"""seed-demo: the demo district's cases through the real lifecycle, idempotent."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cases import queries
from cases.queries import CaseFilter
from core import constants
from demo import seed
from metrics import kpi
from store.models import Case, CaseEvent


@pytest.fixture(scope="module")
def demo_district(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated demo district with its hierarchy.gpkg (built here when absent)."""
    if (demo_dir / "hierarchy.gpkg").exists():
        return demo_dir
    out = demo_dir
    subprocess.run([sys.executable, "-m", "geo", "build", "--streets", out / "streets.shp",
                    "--communities", out / "communities.shp", "--grids", out / "grids.shp",
                    "--buildings", out / "buildings.shp", "--out", out / "hierarchy.gpkg",
                    "--report", out / "report.json"], check=True, capture_output=True)
    return out


def test_seed_demo_spread_and_idempotence(store, demo_district):
    now = datetime(2026, 11, 23, 9, 0)
    messages: list[str] = []
    summary = seed.seed_demo(store.engine, demo_dir=demo_district, now=now, log=messages.append)
    assert summary.startswith("seeded ") and messages
    with store.Session() as s:
        n_cases = s.scalar(select(func.count()).select_from(Case))
        states = queries.count_by_state(s, queries.district_scope("test"))
        open_states = [k for k in constants.OPEN_STATES if states[k] > 0]
        reworked = s.scalar(select(func.count()).select_from(Case).where(Case.rework_count > 0))
        extended = s.scalar(select(func.count()).select_from(Case).where(Case.extension_state == "approved"))
        supervised = s.scalar(select(func.count()).select_from(Case).where(Case.supervised.is_(True)))
        unrouted = queries.total_cases(s, queries.district_scope("test"), CaseFilter(unrouted=True))
        bad_seq = s.scalar(select(func.count()).select_from(
            select(CaseEvent.case_id).group_by(CaseEvent.case_id)
            .having(func.max(CaseEvent.seq) != func.count()).subquery()))
        versions_match = s.scalar(select(func.count()).select_from(Case).where(
            Case.version != select(func.count()).where(CaseEvent.case_id == Case.id).scalar_subquery())) == 0
        reported_at_max = s.scalar(select(func.max(Case.reported_at)))
    assert n_cases > 2000
    assert states["closed"] + states["archived"] > 0.8 * n_cases
    assert set(open_states) >= {"reported", "registered", "dispatched", "accepted", "on_site", "handled",
                                "rework", "verified", "followed_up", "returned"}
    assert states["voided"] > 0 and reworked > 0 and extended > 0 and supervised > 0 and unrouted > 0
    assert bad_seq == 0 and versions_match
    assert reported_at_max <= now
    report = kpi.kpi_table(store.engine, by="grid", now=now)
    assert len(report.rows) > 100 and 0.5 < report.total["on_time_rate"] <= 1.0
    again = seed.seed_demo(store.engine, demo_dir=demo_district, now=now, log=messages.append)
    assert again.startswith(f"store already has {n_cases} cases; nothing to do")
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == n_cases
