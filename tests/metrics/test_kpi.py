"""KPIs on a small hand-computed table, on SQLite and PostGIS."""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from metrics import formulas, kpi
from store.models import Case

NOW = dt(2026, 11, 20, 12, 0)
A, B = "370811004001001", "370811004001002"


def _case(n, grid, worker, **kw):
    base = dict(source="hotline_12345", source_id=f"K{n}", category="request", text="", priority="normal",
                street_code="370811004", community_code="370811004001", grid_code=grid,
                assignee_kind="worker" if worker else None, assignee_id=worker, reported_at=dt(2026, 11, 16, 8),
                supervised=False, rework_count=0, version=1)
    base.update(kw)
    return Case(**base)


D = dt(2026, 11, 16, 9)  # dispatch time of most cases
DUE = dict(registered_at=D, dispatched_at=D, respond_due=dt(2026, 11, 16, 10), arrive_due=dt(2026, 11, 17, 9),
           close_due=dt(2026, 11, 19, 9))

TABLE = [
    _case(1, A, "W001", state="closed", **DUE, arrived_at=dt(2026, 11, 16, 10), handled_at=dt(2026, 11, 18, 9),
          closed_at=dt(2026, 11, 18, 10), satisfaction="satisfied"),
    _case(2, A, "W001", state="archived", **DUE, arrived_at=dt(2026, 11, 17, 10), handled_at=dt(2026, 11, 19, 10),
          closed_at=dt(2026, 11, 19, 12), satisfaction="dissatisfied", rework_count=1),
    _case(3, A, "W001", state="accepted", category="dispute", reported_at=dt(2026, 11, 17, 8),
          registered_at=dt(2026, 11, 17, 9), dispatched_at=dt(2026, 11, 17, 9), arrive_due=dt(2026, 11, 18, 9),
          close_due=dt(2026, 11, 24, 9)),
    _case(4, A, "W001", state="closed", **DUE, arrived_at=dt(2026, 11, 16, 9, 30), handled_at=dt(2026, 11, 20, 9),
          closed_at=dt(2026, 11, 20, 10), satisfaction="basically_satisfied", extension_state="approved",
          extended_close_due=dt(2026, 11, 21, 9)),
    _case(5, B, "W002", state="handled", category="emergency", registered_at=D, dispatched_at=D,
          arrive_due=dt(2026, 11, 16, 9, 30), close_due=dt(2026, 11, 16, 21), arrived_at=dt(2026, 11, 16, 9, 20),
          handled_at=dt(2026, 11, 16, 15)),
    _case(6, B, None, state="reported", reported_at=dt(2026, 11, 18)),
    _case(7, B, None, state="voided", reported_at=dt(2026, 11, 18), void_reason="重复"),
]


@pytest.fixture
def kpi_store(store):
    with store.Session() as s, s.begin():
        s.add_all([Case(**{c.key: getattr(t, c.key) for c in Case.__table__.columns if c.key != "id"})
                   for t in TABLE])
    return store


def test_per_grid_matches_hand_computation(kpi_store):
    report = kpi.kpi_table(kpi_store.engine, by="grid", now=NOW)
    rows = {r["code"]: r for r in report.rows}
    a, b = rows[A], rows[B]
    assert (a["reported"], a["registered"], a["dispatched"], a["closed"], a["due"]) == (4, 4, 4, 3, 3)
    assert a["closure_rate"] == pytest.approx(1.0)
    assert a["on_time_rate"] == pytest.approx(2 / 3)
    assert a["rework_rate"] == pytest.approx(1 / 3)
    assert a["extension_rate"] == pytest.approx(1 / 4)
    assert a["mean_handling_hours"] == pytest.approx((48 + 73 + 96) / 3)
    assert a["arrival_rate"] == pytest.approx(2 / 4)
    assert a["mean_arrival_minutes"] == pytest.approx((60 + 1500 + 30) / 3)
    assert a["satisfaction_rate"] == pytest.approx(2 / 3)
    assert (b["reported"], b["registered"], b["dispatched"], b["closed"], b["due"]) == (3, 1, 1, 0, 1)
    assert (b["closure_rate"], b["on_time_rate"], b["rework_rate"], b["extension_rate"]) == (0, 0, 0, 0)
    assert b["mean_handling_hours"] == pytest.approx(6)
    assert (b["arrival_rate"], b["mean_arrival_minutes"]) == (pytest.approx(1.0), pytest.approx(20))
    assert b["satisfaction_rate"] is None and b["grade_satisfaction_rate"] is None
    assert (a["grade_closure_rate"], a["grade_on_time_rate"], a["grade_rework_rate"]) == ("green", "red", "red")
    assert (b["grade_rework_rate"], b["grade_extension_rate"], b["grade_arrival_rate"]) == ("green", "green", "green")
    assert [(r["code"], r["rank"]) for r in report.rows] == [(A, 1), (B, 2)]
    # score of A: 0.30·2/3 + 0.20·2/4 + 0.20·2/3 + 0.15·1 + 0.10·(1 − 1/3) + 0.05·(1 − 1/4)
    assert a["score"] == pytest.approx(0.2 + 0.1 + 0.4 / 3 + 0.15 + 0.2 / 3 + 0.0375)


def test_total_and_district_level(kpi_store):
    report = kpi.kpi_table(kpi_store.engine, by="grid", now=NOW)
    district = kpi.kpi_table(kpi_store.engine, by=None, now=NOW)
    for t in (report.total, district.rows[0]):
        assert (t["reported"], t["dispatched"], t["closed"], t["due"]) == (7, 5, 3, 4)
        assert t["closure_rate"] == pytest.approx(3 / 4) and t["on_time_rate"] == pytest.approx(2 / 4)
        assert t["rework_rate"] == pytest.approx(1 / 4) and t["extension_rate"] == pytest.approx(1 / 5)
        assert t["mean_handling_hours"] == pytest.approx((48 + 73 + 96 + 6) / 4)
        assert t["arrival_rate"] == pytest.approx(3 / 5)
        assert t["mean_arrival_minutes"] == pytest.approx((60 + 1500 + 30 + 20) / 4)


def test_by_worker_and_window(kpi_store):
    workers = {r["code"]: r for r in kpi.kpi_table(kpi_store.engine, by="worker", now=NOW).rows}
    assert set(workers) == {"W001", "W002"} and workers["W002"]["reported"] == 1
    assert kpi.kpi_table(kpi_store.engine, by="department", now=NOW).rows == []
    later = {r["code"]: r for r in kpi.kpi_table(kpi_store.engine, by="grid", now=NOW,
                                                  since=dt(2026, 11, 17)).rows}
    assert (later[A]["reported"], later[A]["due"], later[A]["closure_rate"]) == (1, 0, None)
    assert (later[B]["reported"], later[B]["registered"]) == (2, 0)
    # A has rates (arrival 0 %, extension 0 %): score (0.20·0 + 0.05·1) / 0.25; B has none: unranked
    assert later[A]["score"] == pytest.approx(0.2) and later[A]["rank"] == 1
    assert later[B]["score"] is None and later[B]["rank"] is None
    assert kpi.kpi_table(kpi_store.engine, by="grid", now=NOW, since=dt(2026, 11, 17),
                         rank_by="closure_rate").rows[0]["rank"] is None
    earlier = kpi.kpi_table(kpi_store.engine, by="street", now=NOW, until=dt(2026, 11, 17))
    assert [(r["code"], r["reported"]) for r in earlier.rows] == [("370811004", 4)]


def test_formulas_documented_and_grades():
    for key in formulas.RATES:
        f = formulas.FORMULAS[key]
        assert f.numerator and f.denominator and f.exclusions and f.better in ("higher", "lower")
    assert formulas.grade("closure_rate", 0.95) == "green"
    assert formulas.grade("closure_rate", 0.9) == "yellow"
    assert formulas.grade("closure_rate", 0.8) == "red"
    assert formulas.grade("rework_rate", 0.01) == "green"
    assert formulas.grade("rework_rate", 0.2) == "red"
    assert formulas.grade("reported", 5) is None
    with pytest.raises(ValueError, match="unknown KPI level 'planet'"):
        kpi.kpi_table(None, by="planet")
