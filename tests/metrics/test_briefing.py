"""The leaders' briefing: periods and their comparison windows, 同比/环比 changes, and the briefing's
figures on a small hand-computed table (SQLite and PostGIS)."""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from access.scope import Scope
from core.errors import InputError
from metrics import formulas
from metrics.briefing import HEADLINE, MAP_MEASURES, build_briefing, change
from metrics.briefing_counts import AreaScope
from metrics.periods import Period, Window, comparison, last_complete, parse_period, period_of, recent_periods
from store.models import Case

# --- periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "start", "end"), [
    ("2026-W27", "week", dt(2026, 6, 29), dt(2026, 7, 6)),
    ("2026-11", "month", dt(2026, 11, 1), dt(2026, 12, 1)),
    ("2026-12", "month", dt(2026, 12, 1), dt(2027, 1, 1)),
    ("2026-Q4", "quarter", dt(2026, 10, 1), dt(2027, 1, 1)),
    ("2026-q1", "quarter", dt(2026, 1, 1), dt(2026, 4, 1)),
])
def test_parse_period_windows(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert parse_period(period.label) == period


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("2026-11", "week", "is a month, not a week"),
    ("2026-13", None, "no such month"),
    ("2026-W54", None, "no such week"),
    ("2025-W53", None, "no such week"),  # 2025 has 52 ISO weeks
    ("November", None, "not a period"),
])
def test_parse_period_refuses_with_the_fix(text, kind, message):
    with pytest.raises(InputError) as caught:
        parse_period(text, kind)
    assert message in str(caught.value) and "Fix: write it as" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_previous_and_year_ago_across_boundaries():
    assert parse_period("2026-W01").previous() == Period("week", 2025, 52)
    assert parse_period("2027-W01").previous() == Period("week", 2026, 53)  # 2026 has 53 ISO weeks
    assert parse_period("2026-W53").year_ago() == Period("week", 2025, 52)  # no week 53 in 2025
    assert parse_period("2026-01").previous() == Period("month", 2025, 12)
    assert parse_period("2026-Q1").previous() == Period("quarter", 2025, 4)
    assert parse_period("2026-Q3").year_ago() == Period("quarter", 2025, 3)
    assert parse_period("2026-W52").following() == Period("week", 2026, 53)


def test_running_period_compares_as_many_days():
    now = dt(2026, 11, 20, 12, 0)
    windows = comparison(parse_period("2026-11"), now)
    assert windows.current == Window(dt(2026, 11, 1), dt(2026, 11, 21))  # today included
    assert windows.previous == Window(dt(2026, 10, 1), dt(2026, 10, 21))
    assert windows.year_ago == Window(dt(2025, 11, 1), dt(2025, 11, 21))
    ended = comparison(parse_period("2026-10"), now)
    assert ended.current == Window(dt(2026, 10, 1), dt(2026, 11, 1))
    assert ended.previous == Window(dt(2026, 9, 1), dt(2026, 10, 1))  # a whole (shorter) month
    # March has more days than February: the comparison stops at February's end
    march = comparison(parse_period("2026-03"), dt(2026, 3, 31, 8))
    assert march.previous == Window(dt(2026, 2, 1), dt(2026, 3, 1))


def test_current_and_recent_periods():
    now = dt(2026, 11, 20, 12, 0)
    assert period_of("week", now).label == "2026-W47"
    assert period_of("quarter", now).label == "2026-Q4"
    assert last_complete("month", now).label == "2026-10"
    assert [p.label for p in recent_periods("quarter", now, 3)] == ["2026-Q4", "2026-Q3", "2026-Q2"]


# --- changes -----------------------------------------------------------------------------------------


def test_changes_of_counts_and_rates():
    assert change("reported", 6, 4).delta == pytest.approx(0.5)  # counts: relative
    assert change("reported", 6, 4).direction == "up"
    assert change("reported", 3, 0).delta is None  # no base to compare with
    assert change("on_time_rate", 0.9, 0.95).delta == pytest.approx(-0.05)  # rates: share points
    assert change("on_time_rate", 0.9, 0.95).direction == "down"
    assert change("on_time_rate", 0.9, None).direction is None
    assert change("closure_rate", 0.9, 0.9).direction == "flat"


def test_briefing_formulas_documented():
    for key in (*HEADLINE, *MAP_MEASURES, "change_mom", "change_yoy", "open_emergencies", "emergencies_awaiting",
                "overdue_unclosed", "reworked_cases", "category_cases"):
        formula = formulas.FORMULAS[key]
        assert formula.zh and formula.en and formula.numerator and formula.exclusions


# --- the briefing on a hand-made table ------------------------------------------------------------

NOW = dt(2026, 11, 20, 12, 0)
C1, C2 = "370811004001", "370811004002"
A, B, C = "370811004001001", "370811004001002", "370811004002001"


def _case(n, grid, reported, **kw):
    community = grid[:12]
    base = dict(source="hotline_12345", source_id=f"B{n}", category="request", text="", priority="normal",
                street_code="370811004", community_code=community, grid_code=grid, reported_at=reported,
                supervised=False, rework_count=0, version=1, state="reported", reporter_name="张三丰",
                reporter_phone="13812345678")
    base.update(kw)
    return Case(**base)


def _done(reported, *, closed, due, **kw):
    """A dispatched, handled and closed case (close deadline ``due``)."""
    return dict(state="closed", registered_at=reported, dispatched_at=reported, arrive_due=reported.replace(hour=23),
                arrived_at=reported.replace(hour=11), handled_at=closed, closed_at=closed, close_due=due, **kw)


NOV, OCT = dt(2026, 11, 10, 9), dt(2026, 10, 10, 9)
TABLE = [
    # this month (1-20 Nov): A 3, B 1, C 2
    _case(1, A, NOV, **_done(NOV, closed=dt(2026, 11, 11), due=dt(2026, 11, 12), satisfaction="satisfied")),
    _case(2, A, NOV, category="dispute", rework_count=1,
          **_done(NOV, closed=dt(2026, 11, 14), due=dt(2026, 11, 12), satisfaction="dissatisfied")),
    _case(3, A, NOV, category="emergency", state="accepted", registered_at=NOV, dispatched_at=NOV,
          accepted_at=NOV, arrive_due=dt(2026, 11, 10, 10), close_due=dt(2026, 11, 11)),  # overdue, not reached
    _case(4, B, NOV, **_done(NOV, closed=dt(2026, 11, 11), due=dt(2026, 11, 12), satisfaction="basically_satisfied")),
    _case(5, C, NOV, category="hazard", state="dispatched", registered_at=NOV, dispatched_at=NOV,
          arrive_due=dt(2026, 11, 30), close_due=dt(2026, 11, 30)),  # open, not yet due
    _case(6, C, NOV, state="voided", void_reason="重复"),
    # the same days of October: A 1, C 3
    _case(7, A, OCT, **_done(OCT, closed=dt(2026, 10, 11), due=dt(2026, 10, 12), satisfaction="satisfied")),
    *(_case(8 + i, C, OCT, **_done(OCT, closed=dt(2026, 10, 11), due=dt(2026, 10, 12))) for i in range(3)),
    # after the comparison window (21-31 Oct): not compared with 1-20 Nov
    _case(20, B, dt(2026, 10, 25), **_done(dt(2026, 10, 25), closed=dt(2026, 10, 26), due=dt(2026, 10, 27))),
]


@pytest.fixture
def briefing_store(store):
    with store.Session() as s, s.begin():
        s.add_all([Case(**{c.key: getattr(t, c.key) for c in Case.__table__.columns if c.key != "id"})
                   for t in TABLE])
    return store


def _brief(store, area=None, scope=None):
    with store.Session() as session:
        return build_briefing(session, scope or Scope(role="leader"), parse_period("2026-11"), now=NOW, area=area)


def test_headline_figures_and_changes(briefing_store):
    brief = _brief(briefing_store)
    figures = brief.figures
    assert figures["reported"].value == 6
    assert figures["reported"].mom.base == 4 and figures["reported"].mom.delta == pytest.approx(0.5)
    assert figures["reported"].yoy.base == 0 and figures["reported"].yoy.direction is None
    # due: cases 1, 2, 4 (closed) and 3 (open past its deadline); 5 is within it, 6 never dispatched
    assert figures["closure_rate"].value == pytest.approx(3 / 4)
    assert figures["on_time_rate"].value == pytest.approx(2 / 4)
    assert figures["on_time_rate"].grade == "red"
    assert figures["satisfaction_rate"].value == pytest.approx(2 / 3)
    assert figures["on_time_rate"].mom.base == pytest.approx(1.0)
    assert figures["on_time_rate"].mom.delta == pytest.approx(-0.5)
    assert figures["period_coverage"].value is None  # no households, no visits


def test_hotspots_categories_backlog_emergencies(briefing_store):
    brief = _brief(briefing_store)
    assert brief.hotspots.values.tolist() == [[A, 3, 1, 2], [B, 1, 0, 1]]
    assert brief.categories == {"emergency": 1, "dispute": 1, "hazard": 1, "request": 3}
    assert brief.backlog.values.tolist() == [[C1, 1, 1]]  # case 3 overdue, case 2 reworked; C2 has neither
    assert (brief.emergencies.open, brief.emergencies.awaiting) == (1, 1)
    assert brief.emergencies.by_community.values.tolist() == [[C1, 1]]
    rise = brief.grid_values("hotspot_rise")
    assert rise.to_dict() == {A: 2.0, B: 1.0, C: -1.0}
    assert brief.grid_values("reported").to_dict() == {A: 3.0, B: 1.0, C: 2.0}


def test_rankings_are_the_kpi_tables(briefing_store):
    brief = _brief(briefing_store)
    communities = brief.ranking("community")
    assert {r["code"] for r in communities} == {C1, C2}
    assert all(r["grade"] == r[f"grade_{brief.rank_by}"] for r in communities)
    assert sum(r["reported"] for r in brief.ranking("grid")) == 6


def test_area_narrows_every_figure(briefing_store):
    brief = _brief(briefing_store, area=C2)
    assert brief.figures["reported"].value == 2
    assert brief.figures["reported"].mom.base == 3
    assert brief.hotspots.empty  # C fell from 3 to 2
    assert brief.categories == {"emergency": 0, "dispute": 0, "hazard": 1, "request": 1}
    assert brief.emergencies.open == 0
    assert {r["code"] for r in brief.ranking("grid")} == {C}


def test_area_scope_never_widens_a_chief():
    chief = Scope(role="chief", area_codes=frozenset({C1}), username="chief")
    narrowed = AreaScope.narrow(chief, C2)
    assert not narrowed.allows(street_code="370811004", community_code=C2, grid_code=C)
    assert not narrowed.allows(street_code="370811004", community_code=C1, grid_code=A)
    assert AreaScope.narrow(chief, A).allows(street_code="370811004", community_code=C1, grid_code=A)
    assert AreaScope.narrow(Scope(role="leader"), None).allows(community_code=C2)
