"""Workloads and balance (metrics.workload) against a table computed by hand, SQLite and PostGIS."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, update

from access.scope import Scope
from metrics.workload import balance, gini, overloaded, workload_table
from store.models import Case, Household, Visit, Worker
from tests.factories import new_case

AT = datetime(2026, 11, 20, 12, 0)  # a Friday noon
G1, G2 = "370811004001001", "370811004001002"
COMMUNITY = "370811004001"
COMMANDER = Scope(role="commander", username="duty")


@pytest.fixture
def loads(store):
    """W001 (G1): 3 open (1 overdue), 1 closed this week handled in 10 h; W002 (G2): 1 open, none closed;
    W003 (G2, idle): nothing. One old closed case outside the week. Households: 2 in G1 (1 visited in
    November), 1 in G2 (not visited)."""
    with store.engine.begin() as conn:
        conn.execute(delete(Visit.__table__))
        conn.execute(delete(Household.__table__))
    with store.Session() as s, s.begin():
        s.add_all([Worker(id="W001", name="甲", role="worker", grid_code=G1, community_code=COMMUNITY, active=True),
                   Worker(id="W002", name="乙", role="worker", grid_code=G2, community_code=COMMUNITY, active=True),
                   Worker(id="W003", name="丙", role="worker", grid_code=G2, community_code=COMMUNITY, active=True),
                   Worker(id="C001", name="长", role="chief", community_code=COMMUNITY, active=True)])
        specs = [  # (id, grid, worker, state, dispatched, close_due, handled, closed)
            ("O1", G1, "W001", "on_site", AT - timedelta(days=3), AT - timedelta(hours=1), None, None),  # overdue
            ("O2", G1, "W001", "dispatched", AT - timedelta(hours=2), AT + timedelta(days=3), None, None),
            ("O3", G1, "W001", "on_site", AT - timedelta(days=1), AT + timedelta(days=2), None, None),
            ("C1", G1, "W001", "closed", AT - timedelta(days=2), AT + timedelta(days=3),
             AT - timedelta(days=2) + timedelta(hours=10), AT - timedelta(days=1)),
            ("C0", G1, "W001", "closed", AT - timedelta(days=30), AT - timedelta(days=25),
             AT - timedelta(days=29), AT - timedelta(days=28)),  # outside the week
            ("O4", G2, "W002", "dispatched", AT - timedelta(hours=5), AT + timedelta(days=1), None, None),
        ]
        for sid, grid, worker, state, dispatched, close_due, handled, closed in specs:
            case = new_case(s, source_id=sid, grid_code=grid, assignee_id=worker, at=dispatched - timedelta(hours=1))
            s.execute(update(Case).where(Case.id == case.id).values(
                state=state, dispatched_at=dispatched, accepted_at=dispatched if state != "dispatched" else None,
                respond_due=dispatched + timedelta(days=5), arrive_due=dispatched + timedelta(days=5),
                arrived_at=dispatched if state in ("on_site", "closed") else None, close_due=close_due,
                handled_at=handled, closed_at=closed))
        s.add_all([Household(id="H1", head_name="张", category="hardship", grid_code=G1, community_code=COMMUNITY),
                   Household(id="H2", head_name="李", category="empty_nest", grid_code=G1, community_code=COMMUNITY),
                   Household(id="H3", head_name="王", category="rehab", grid_code=G2, community_code=COMMUNITY)])
        s.flush()
        s.add(Visit(id="V1", household_id="H1", worker_id="W001", at=datetime(2026, 11, 3, 10), grid_code=G1,
                    community_code=COMMUNITY, on_site=True, outcome=""))
    return store


def test_workload_per_worker_matches_the_hand_table(loads):
    with loads.Session() as s:
        table = workload_table(s, COMMANDER, by="worker", at=AT).set_index("code")
    assert list(table.index) == ["W001", "W002", "W003"]  # grid workers only, the idle one included
    assert table.loc["W001", ["open", "overdue", "closed_week", "visits_due"]].tolist() == [3, 1, 1, 1]
    assert table.loc["W001", "mean_handling_h"] == pytest.approx(10.0)
    assert table.loc["W002", ["open", "overdue", "closed_week", "visits_due"]].tolist() == [1, 0, 0, 1]
    assert table.loc["W003", ["open", "overdue", "closed_week", "visits_due"]].tolist() == [0, 0, 0, 1]
    assert table["mean_handling_h"].isna().tolist() == [False, True, True]


def test_workload_per_grid_and_community(loads):
    with loads.Session() as s:
        grids = workload_table(s, COMMANDER, by="grid", at=AT).set_index("code")
        community = workload_table(s, COMMANDER, by="community", at=AT).set_index("code")
        chief = workload_table(s, Scope(role="chief", area_codes=COMMUNITY, username="c"), by="grid", at=AT)
        worker = workload_table(s, Scope(role="worker", area_codes=G2, username="w"), by="grid", at=AT)
    assert grids.loc[G1, ["open", "overdue", "closed_week", "visits_due"]].tolist() == [3, 1, 1, 1]
    assert grids.loc[G2, ["open", "overdue", "closed_week", "visits_due"]].tolist() == [1, 0, 0, 1]
    assert community.loc[COMMUNITY, ["open", "overdue", "closed_week", "visits_due"]].tolist() == [4, 1, 1, 2]
    assert set(chief["code"]) == {G1, G2}
    assert worker["code"].tolist() == [G2]  # a worker's own grid only


def test_balance_gini_and_overload(loads):
    with loads.Session() as s:
        table = workload_table(s, COMMANDER, by="worker", at=AT)
    result = balance(table["open"])
    # open = 3, 1, 0: mean 4/3; pairwise |differences| 2 + 3 + 1 = 6, both orders 12; Gini = 12 / (2 * 9 * 4/3)
    assert result.mean_open == pytest.approx(4 / 3)
    assert result.gini == pytest.approx(12 / (2 * 9 * 4 / 3))
    assert result.max_over_mean == pytest.approx(3 / (4 / 3))
    assert result.line() == f"gini={12 / 24:.4f} max_over_mean={2.25:.4f}"
    assert overloaded(table) == ["W001"]  # 3 > 1.5 × 4/3
    assert overloaded(table, ratio=3) == []


def test_gini_edges():
    assert gini([]) == 0.0 and gini([0, 0, 0]) == 0.0 and gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 10]) == pytest.approx(2 / 3)  # (n - 1) / n when one carries all


def test_the_command_line_writes_the_table_and_ends_with_the_balance(loads, tmp_path):
    import csv

    from cases.cli import main

    lines: list[str] = []
    out = tmp_path / "workload.csv"
    assert main(["workload", "--db", loads.url, "--by", "worker", "--out", str(out), "--at", AT.isoformat()],
                out=lines.append) == 0
    assert lines[-1] == f"gini={0.5:.4f} max_over_mean={2.25:.4f}"
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    assert list(next(iter(rows.values())))[:6] == ["code", "open", "overdue", "closed_week", "mean_handling_h",
                                                   "visits_due"]
    assert (rows["W001"]["open"], rows["W001"]["overdue"], rows["W001"]["mean_handling_h"]) == ("3", "1", "10.0")
    lines.clear()
    assert main(["workload", "--db", loads.url, "--by", "grid", "--out", str(out), "--at",
                 (AT - timedelta(hours=8)).isoformat() + "Z"], out=lines.append) == 0  # 04:00Z is 12:00 local
    assert lines[-1].startswith("gini=")
