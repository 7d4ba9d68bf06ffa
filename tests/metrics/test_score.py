"""The composite score and the ranking: weights, direction of each rate, stated tie-breakers and
ties shown as ties ("=3")."""

from __future__ import annotations

import pytest

from metrics.score import composite_score, rank_rows, rank_text


def _row(code: str, **rates: float | None) -> dict:
    return {"code": code, **rates}


def test_score_weighs_rates_and_mirrors_lower_is_better() -> None:
    perfect = _row("A", on_time_rate=1.0, arrival_rate=1.0, satisfaction_rate=1.0, closure_rate=1.0,
                   rework_rate=0.0, extension_rate=0.0)
    assert composite_score(perfect) == pytest.approx(1.0)
    all_rework = {**perfect, "rework_rate": 1.0}
    assert composite_score(all_rework) == pytest.approx(0.9)  # rework weighs 0.10, lower is better
    # rates without a value leave their weight out: only on-time (0.30) and satisfaction (0.20)
    partial = _row("B", on_time_rate=0.5, satisfaction_rate=1.0)
    assert composite_score(partial) == pytest.approx((0.30 * 0.5 + 0.20 * 1.0) / 0.50)
    assert composite_score(_row("C")) is None


def test_equal_closure_everywhere_still_ranks_by_score_then_tie_breakers() -> None:
    rows = [
        _row("G1", closure_rate=1.0, on_time_rate=0.8, satisfaction_rate=0.9, rework_rate=0.1),
        _row("G2", closure_rate=1.0, on_time_rate=0.9, satisfaction_rate=0.9, rework_rate=0.1),
        _row("G3", closure_rate=1.0, on_time_rate=0.9, satisfaction_rate=0.9, rework_rate=0.1),
        _row("G4", closure_rate=1.0, on_time_rate=0.7, satisfaction_rate=0.95, rework_rate=0.0),
        _row("G5"),
    ]
    rank_rows(rows)
    shown = [(r["code"], rank_text(r)) for r in rows]
    # G1: (0.15 + 0.30·0.8 + 0.20·0.9 + 0.10·0.9) / 0.75 = 0.880 > G4: 0.650 / 0.75 = 0.867
    assert shown == [("G2", "=1"), ("G3", "=1"), ("G1", "3"), ("G4", "4"), ("G5", "—")]


def test_tie_breakers_apply_in_stated_order_when_scores_are_equal() -> None:
    # ranked by closure alone, all equal: on-time decides, then satisfaction, then rework (lower first)
    rows = [
        _row("A", closure_rate=1.0, on_time_rate=0.9, satisfaction_rate=0.8, rework_rate=0.2),
        _row("B", closure_rate=1.0, on_time_rate=0.9, satisfaction_rate=0.8, rework_rate=0.1),
        _row("C", closure_rate=1.0, on_time_rate=0.9, satisfaction_rate=0.9, rework_rate=0.3),
        _row("D", closure_rate=1.0, on_time_rate=0.95, satisfaction_rate=0.1, rework_rate=0.9),
    ]
    rank_rows(rows, by="closure_rate")
    assert [(r["code"], rank_text(r)) for r in rows] == [("D", "1"), ("C", "2"), ("B", "3"), ("A", "4")]


def test_lower_is_better_rate_ranks_ascending() -> None:
    rows = [_row("A", rework_rate=0.3), _row("B", rework_rate=0.1), _row("C", rework_rate=None)]
    rank_rows(rows, by="rework_rate")
    assert [(r["code"], r["rank"]) for r in rows] == [("B", 1), ("A", 2), ("C", None)]
