"""Coverage of a small town in November 2026, computed by hand: planned, visited and verified persons
per grid, worker and group, with a fortnightly and a quarterly group, a person who moved grids on
15 November and a suspicious pair of visits; the persons enter through the registry import, the
visits through the field command. SQLite and PostGIS.

The town (tests/registry/town.py): grid G1 (worker W001) and G2 (worker W002). Registered on
1 October:

====  =========================  ====  ==============================================================
who   group (frequency)          grid  November
====  =========================  ====  ==============================================================
P1    空巢老人 (monthly)          G1    visited on site 10 Nov                   -> visited, verified
P2    困难家庭 (monthly)          G1    visited from 400 m away 12 Nov ("paper")  -> visited
P3    社区矫正人员 (monthly)      G1    not visited                             -> overdue
P4    信访人员 (fortnightly)      G1    on site 3 and 20 Nov (both halves)       -> visited, verified
P5    信访人员 (fortnightly)      G2    on site 5 Nov only (second half missing) -> overdue
P6    残疾人 (quarterly)          G2    visited on site 15 Oct                   -> not planned in November;
                                                                                 planned and verified in December
P7    困难家庭 (monthly)          G1→G2 visited on site 8 Nov by W001, moved to G2 on 15 Nov
                                       -> counted in G2 (where they lived at the month's end), verified
P8    空巢老人 (monthly)          G2    on site 20 Nov 10:00:00  } 2.5 km apart in 40 s (about 220 km/h):
P9    困难家庭 (monthly)          G2    on site 20 Nov 10:00:40  } both suspicious -> visited, not verified
====  =========================  ====  ==============================================================
"""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from pyproj import Geod

from access.scope import Scope
from metrics.coverage import coverage_table, coverage_trend, visit_coverage
from registry.cards import person_card
from registry.cli import main
from registry.commands import record_visit
from registry.groups import registry_groups
from registry.places import Places
from registry.roster_import import import_roster
from store.models import Worker
from tests.registry.town import COMMUNITY, G1, G2, HOMES, roster_line, write_roster, write_town

NOW = datetime(2026, 12, 5, 9, 0)
ADMIN = Scope("admin", username="admin")
WORKERS = {G1: Scope("worker", frozenset({G1}), username="w1", worker_id="W001"),
           G2: Scope("worker", frozenset({G2}), username="w2", worker_id="W002")}
GEOD = Geod(ellps="GRS80")
PERSONS = [  # (id, group, building)
    ("P1", "空巢老人", G1 + "0001"), ("P2", "困难家庭", G1 + "0002"), ("P3", "社区矫正人员", G1 + "0003"),
    ("P4", "信访人员", G1 + "0004"), ("P5", "信访人员", G2 + "0001"), ("P6", "残疾人", G2 + "0002"),
    ("P7", "困难家庭", G1 + "0005"), ("P8", "空巢老人", G2 + "0003"), ("P9", "困难家庭", G2 + "0004"),
]
#: (person, grid of the visiting worker, when, metres from the home)
VISITS = [
    ("P6", G2, datetime(2026, 10, 15, 9, 0), 5), ("P4", G1, datetime(2026, 11, 3, 9, 0), 4),
    ("P5", G2, datetime(2026, 11, 5, 9, 0), 6), ("P7", G1, datetime(2026, 11, 8, 9, 0), 3),
    ("P1", G1, datetime(2026, 11, 10, 9, 0), 5), ("P2", G1, datetime(2026, 11, 12, 15, 0), 400),
    ("P4", G1, datetime(2026, 11, 20, 9, 0), 8), ("P8", G2, datetime(2026, 11, 20, 10, 0, 0), 2),
    ("P9", G2, datetime(2026, 11, 20, 10, 0, 40), 2),
]


def _roster(tmp_path, name, moved: bool):
    lines = [roster_line(pid, f"居民{pid}", int(pid[1:]), group, G2 + "0005" if moved and pid == "P7" else building)
             for pid, group, building in PERSONS]
    return write_roster(tmp_path / name, lines)


@pytest.fixture
def town(people_store, tmp_path):
    places = Places.from_gpkg(write_town(tmp_path))
    groups = registry_groups()
    with people_store.Session() as s, s.begin():
        s.add_all([Worker(id="W001", name="甲", role="worker", grid_code=G1, community_code=COMMUNITY, active=True),
                   Worker(id="W002", name="乙", role="worker", grid_code=G2, community_code=COMMUNITY, active=True)])
        s.flush()
        import_roster(s, _roster(tmp_path, "october.csv", moved=False), places=places, groups=groups,
                      actor="test", now=datetime(2026, 10, 1, 8, 0))
        for pid, grid, at, metres in VISITS:
            if pid == "P7" or at < datetime(2026, 11, 15):
                _visit(s, pid, grid, at, metres)
        result = import_roster(s, _roster(tmp_path, "november.csv", moved=True), places=places, groups=groups,
                               actor="test", now=datetime(2026, 11, 15, 12, 0))
        assert [(m.person_id, m.from_grid, m.to_grid) for m in result.moves] == [("P7", G1, G2)]
        for pid, grid, at, metres in VISITS:
            if pid != "P7" and at >= datetime(2026, 11, 15):
                _visit(s, pid, grid, at, metres)
    return people_store


def _visit(session, pid, grid, at, metres):
    building = next(b for p, _, b in PERSONS if p == pid)
    lon, lat = HOMES[building]
    x, y, _ = GEOD.fwd(lon, lat, 90, metres)
    record_visit(session, WORKERS[grid], pid, outcome="情况稳定", lon=x, lat=y, at=at)


def _rows(table, *keys):
    return {tuple(r[k] for k in keys): (r["planned"], r["visited"], r["verified"], r["suspicious"], r["overdue"])
            for r in table.to_dict("records")}


def test_november_by_grid_and_group(town):
    with town.Session() as s:
        table = coverage_table(s, ADMIN, "2026-11", by="grid", now=NOW)
    assert _rows(table, "code", "category") == {
        # (planned, visited, verified, suspicious, overdue)
        (G1, "correction"): (1, 0, 0, 0, 1),      # P3
        (G1, "empty_nest"): (1, 1, 1, 0, 0),      # P1
        (G1, "hardship"): (1, 1, 0, 0, 0),        # P2 (paper visit); P7 moved out
        (G1, "petitioner"): (1, 1, 1, 0, 0),      # P4, both halves of the month
        (G2, "empty_nest"): (1, 1, 0, 1, 0),      # P8, suspicious
        (G2, "hardship"): (2, 2, 1, 1, 0),        # P7 (moved in, verified), P9 (suspicious)
        (G2, "petitioner"): (1, 0, 0, 0, 1),      # P5, second half missing
    }
    rates = table.set_index(["code", "category"])[["coverage", "verified_coverage"]]
    assert rates.loc[(G2, "hardship")].tolist() == [1.0, 0.5] and rates.loc[(G1, "hardship")].tolist() == [1.0, 0.0]
    assert rates.loc[(G2, "petitioner")].tolist() == [0.0, 0.0]


def test_november_by_worker_community_and_group(town):
    with town.Session() as s:
        by_worker = coverage_table(s, ADMIN, "2026-11", by="worker", now=NOW)
        by_community = coverage_table(s, ADMIN, "2026-11", by="community", now=NOW)
        by_group = coverage_table(s, ADMIN, "2026-11", by="category", now=NOW)
    workers = by_worker.groupby("code")[["planned", "visited", "verified"]].sum()
    assert workers.loc["W001"].tolist() == [4, 3, 2] and workers.loc["W002"].tolist() == [4, 3, 1]
    assert by_community.groupby("code")[["planned", "visited", "verified"]].sum().loc[COMMUNITY].tolist() == [8, 6, 3]
    assert _rows(by_group, "code") == {("correction",): (1, 0, 0, 0, 1), ("empty_nest",): (2, 2, 1, 1, 0),
                                       ("hardship",): (3, 3, 1, 1, 0), ("petitioner",): (2, 1, 1, 0, 1)}


def test_october_places_the_mover_in_g1_and_december_plans_the_quarter(town):
    with town.Session() as s:
        october = coverage_table(s, ADMIN, "2026-10", by="grid", now=NOW)
        december = coverage_table(s, ADMIN, "2026-12", by="grid", now=datetime(2027, 1, 5))
        worker_view = coverage_table(s, WORKERS[G2], "2026-11", by="grid", now=NOW)
    assert _rows(october, "code", "category")[(G1, "hardship")] == (2, 0, 0, 0, 2)  # P2 and P7, unvisited
    assert (G2, "disabled") not in _rows(october, "code", "category")  # quarterly: not due in October
    assert _rows(december, "code", "category")[(G2, "disabled")] == (1, 1, 1, 0, 0)  # P6, visited 15 Oct
    assert set(worker_view["code"]) == {G2} and worker_view["planned"].sum() == 4


def test_trend_and_the_legacy_figures_agree(town):
    with town.Session() as s:
        trend = coverage_trend(s, ADMIN, "2026-11", now=NOW).set_index("period")
        legacy = visit_coverage(s, ADMIN, "2026-11", by="grid").set_index("code")
    assert len(trend) == 12 and trend.loc["2026-11", ["planned", "visited", "verified"]].tolist() == [8, 6, 3]
    assert trend.loc["2026-10", ["planned", "visited"]].tolist() == [8, 0]
    assert trend.loc["2026-09", "planned"] == 0 and trend["coverage"].isna().sum() == 10  # nobody registered yet
    assert legacy.loc[G2, ["households_due", "visited", "visited_on_site", "visits"]].tolist() == [4, 3, 1, 4]


def test_the_card_shows_both_suspicious_visits(town):
    with town.Session() as s:
        card = person_card(s, Scope("chief", frozenset({COMMUNITY}), username="chief"), "P9")
    visit = card.visits.iloc[0]
    assert (bool(visit["on_site"]), bool(visit["suspicious"]), visit["suspicion"], bool(visit["verified"])) == (
        True, True, "speed", False)
    assert "*" in card.person["head_name"] and "*" in card.person["id_number"]


def test_the_coverage_command_writes_the_contract_columns(town, tmp_path):
    out = tmp_path / "coverage.csv"
    lines: list[str] = []
    assert main(["coverage", "--period", "2026-11", "--by", "grid", "--out", str(out), "--db", town.url],
                out=lines.append) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert {"code", "category", "planned", "visited", "verified"} <= set(rows[0])
    assert sum(int(r["planned"]) for r in rows) == 8 and sum(int(r["verified"]) for r in rows) == 3
    assert lines == [f"{out}: 7 rows by grid for 2026-11: planned 8, visited 6, verified 3, suspicious 2, "
                     f"overdue {sum(int(r['overdue']) for r in rows)}"]
