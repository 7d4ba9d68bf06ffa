"""The synthetic history (``generate-history``): counts, places, lifecycle consistency, KPIs, determinism."""

from __future__ import annotations

import io
import sys
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import text

from cases import history, history_cli
from cases.deadlines import compute_deadlines
from core.errors import InputError
from geo import HierarchyIndex
from metrics import kpi
from tests.intake.test_progress import FakeTerminal, recorded_bars

NOW = datetime(2026, 12, 6, 23, 0)
STAMPS = ("reported_at", "registered_at", "dispatched_at", "accepted_at", "arrived_at", "handled_at", "verified_at",
          "followed_up_at", "closed_at", "archived_at")
TIMES = (*STAMPS, "respond_due", "arrive_due", "close_due", "extended_close_due")
#: How many leading stamps of STAMPS each state has (the rest are empty).
SET_STAMPS = {"reported": 1, "voided": 1, "registered": 2, "dispatched": 3, "returned": 3, "accepted": 4,
              "on_site": 5, "handled": 6, "rework": 6, "verified": 7, "followed_up": 8, "closed": 9, "archived": 10}


def _generate(store, demo_dir, n: int, seed: int = 1, months: int = 6) -> history.HistoryResult:
    return history.generate_history(store.engine, cases=n, seed=seed, months=months,
                                    hierarchy=demo_dir / "hierarchy.gpkg", now=NOW)


def _cases(store) -> pd.DataFrame:
    frame = pd.read_sql(text("SELECT * FROM cases ORDER BY source_id"), store.engine)
    for name in TIMES:
        frame[name] = pd.to_datetime(frame[name])
    return frame.drop(columns=[c for c in ("id", "geom") if c in frame.columns])


def test_counts_places_and_lifecycle(store, demo_dir):
    result = _generate(store, demo_dir, 5000)
    assert result.rows == 5000 and "5,000 cases" in result.summary()
    cases = _cases(store)
    assert len(cases) == 5000 and cases["source_id"].is_unique
    sample = cases.sample(800, random_state=2)
    joined = HierarchyIndex.from_gpkg(demo_dir / "hierarchy.gpkg").join(sample["lon"], sample["lat"])
    for column in ("street_code", "community_code", "grid_code", "building_code"):
        assert joined[column].fillna("").tolist() == sample[column].fillna("").tolist(), column
    assert (joined["join_status"] == "ok").all()
    assert cases["state"].isin(list(SET_STAMPS)).all() and cases["state"].nunique() >= 10
    for state, k in SET_STAMPS.items():
        rows = cases.loc[cases["state"] == state]
        stamps = rows[list(STAMPS)]
        if state == "returned":
            stamps = stamps.drop(columns="accepted_at")
            assert rows["accepted_at"].isna().all() and rows["assignee_id"].isna().all()
            k = 3
        assert stamps.iloc[:, :k].notna().all().all() and stamps.iloc[:, k:].isna().all().all(), state
    ordered = cases[list(STAMPS)].ffill(axis=1)
    assert (ordered.diff(axis=1).iloc[:, 1:].fillna(pd.Timedelta(0)) >= pd.Timedelta(0)).all().all()
    assert (cases[list(STAMPS)].max(axis=1) <= NOW).all()
    dispatched = cases["dispatched_at"].notna()
    assert (cases.loc[dispatched, ["respond_due", "arrive_due", "close_due"]].notna().all().all()
            and cases.loc[~dispatched, ["respond_due", "arrive_due", "close_due"]].isna().all().all())
    assert (cases["satisfaction"].notna() == cases["followed_up_at"].notna()).all()
    assert (cases["void_reason"].notna() == (cases["state"] == "voided")).all()
    assert (cases.loc[cases["state"] == "rework", "rework_count"] >= 1).all()
    for row in cases.loc[dispatched].sample(200, random_state=3).itertuples():
        due = compute_deadlines(row.category, row.priority, row.dispatched_at.to_pydatetime())
        assert (due.respond_due, due.arrive_due, due.close_due) == (
            row.respond_due.to_pydatetime(), row.arrive_due.to_pydatetime(), row.close_due.to_pydatetime())


def _recount(cases: pd.DataFrame, column: str) -> pd.DataFrame:
    """Reported, closed, due and on time per ``column``, counted from the rows by hand."""
    due_at = cases["close_due"].where(cases["extension_state"] != "approved", cases["extended_close_due"])
    dispatched, closed = cases["dispatched_at"].notna(), cases["closed_at"].notna()
    flags = pd.DataFrame({
        "code": cases[column], "reported": 1, "closed": closed.astype(int),
        "due": (dispatched & (closed | (due_at <= NOW))).astype(int),
        "on_time": (dispatched & closed & (cases["closed_at"] <= due_at)).astype(int)})
    return flags.groupby("code").sum()


@pytest.mark.parametrize(("by", "since", "until"), [("grid", datetime(2026, 10, 1), datetime(2026, 11, 1)),
                                                   ("community", None, None)])
def test_kpi_table_agrees_with_a_recount(store, demo_dir, by, since, until):
    _generate(store, demo_dir, 5000)
    cases = _cases(store)
    window = cases if since is None else cases.loc[(cases["reported_at"] >= since) & (cases["reported_at"] < until)]
    expected = _recount(window, kpi.LEVEL_COLUMNS[by])
    report = kpi.kpi_table(store.engine, by=by, since=since, until=until, now=NOW)
    got = pd.DataFrame(report.rows).set_index("code")
    assert len(got) == len(expected) > 5
    for name in ("reported", "closed", "due"):
        assert got[name].sort_index().tolist() == expected[name].sort_index().tolist(), name
    on_time = (expected["on_time"] / expected["due"]).sort_index()
    assert (got["on_time_rate"].astype(float).sort_index().round(12).fillna(-1).tolist()
            == on_time.round(12).fillna(-1).tolist())
    if store.backend == "sqlite":  # the roll-up was folded in once and its insert trigger put back
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT sum(reported) FROM kpi_daily")).scalar() == 5000
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'trg_kpi_daily_insert'")
                                ).scalar() == 1


def test_same_seed_same_rows(store, demo_dir):
    _generate(store, demo_dir, 2000, seed=7)
    first = _cases(store)
    with pytest.raises(InputError, match="already holds the history of this seed"):
        _generate(store, demo_dir, 10, seed=7)
    store.clear()
    _generate(store, demo_dir, 2000, seed=7)
    pd.testing.assert_frame_equal(first, _cases(store))
    store.clear()
    _generate(store, demo_dir, 2000, seed=8)
    assert not first[["lon", "state"]].equals(_cases(store)[["lon", "state"]])


def test_command_line(store, demo_dir, capsys):
    hierarchy = str(demo_dir / "hierarchy.gpkg")
    code = history_cli.main(["generate-history", "--db", store.url, "--cases", "300", "--seed", "3",
                             "--months", "2", "--hierarchy", hierarchy, "--now", "2026-12-06T23:00"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and out.count("\n") == 1 and "300 cases" in out and "rows/s" in out
    for bad in (["--cases", "0"], ["--cases", "ten"], [], ["--cases", "5", "--months", "-1"],
                ["--cases", "5", "--now", "yesterday"], ["--cases", "5", "--hierarchy", "/nonexistent.gpkg"]):
        code = history_cli.main(["generate-history", "--db", store.url, *bad])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error:"), bad


def test_progress_shows_on_a_terminal_only(store, demo_dir, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with recorded_bars(monkeypatch, history) as bars:
        history.generate_history(store.engine, cases=500, seed=9, months=2, hierarchy=demo_dir / "hierarchy.gpkg",
                                 now=NOW, chunk=200)
    assert bars == [("generate-history", 500, 500, True)] and "generate-history" in terminal.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with recorded_bars(monkeypatch, history) as bars:
        history.generate_history(store.engine, cases=100, seed=10, months=2, hierarchy=demo_dir / "hierarchy.gpkg",
                                 now=NOW)
    assert [drawn for *_, drawn in bars] == [False]
