"""The composite KPI score (综合得分) that rankings and grades use, and the ranking with stated
tie-breakers.

score = Σ w_k · v_k / Σ w_k over the rates k a group has (``v`` = the rate where higher is better,
1 − the rate where lower is better), with the weights of :data:`SCORE_WEIGHTS`. Groups are ranked by
score, then 按期结案率 (higher first), then 满意率 (higher first), then 返工率 (lower first); groups
equal on all four share a rank and are marked as tied ("=3").
"""

from __future__ import annotations

from typing import Any

from metrics.formulas import KPI_FORMULAS, grade_rate

#: Weight of each rate in the composite score.
SCORE_WEIGHTS: dict[str, float] = {"on_time_rate": 0.30, "arrival_rate": 0.20, "satisfaction_rate": 0.20,
                                   "closure_rate": 0.15, "rework_rate": 0.10, "extension_rate": 0.05}
#: After the score, in this order: (rate, "higher" | "lower" is better).
TIE_BREAKERS: tuple[tuple[str, str], ...] = (("on_time_rate", "higher"), ("satisfaction_rate", "higher"),
                                             ("rework_rate", "lower"))


def composite_score(row: dict[str, Any]) -> float | None:
    """The score 0..1 of one KPI row (None when it has none of the weighted rates)."""
    total = weight = 0.0
    for key, w in SCORE_WEIGHTS.items():
        value = row.get(key)
        if value is None:
            continue
        total += w * (1.0 - value if KPI_FORMULAS[key].better == "lower" else value)
        weight += w
    return total / weight if weight else None


def _key(row: dict[str, Any], by: str) -> tuple[Any, ...]:
    def signed(key: str, better: str) -> float:
        value = row.get(key)
        if value is None:
            return float("inf")
        return -value if better == "higher" else value

    better = "lower" if by != "score" and KPI_FORMULAS[by].better == "lower" else "higher"
    return (row.get(by) is None, signed(by, better), *(signed(k, b) for k, b in TIE_BREAKERS))


def rank_rows(rows: list[dict[str, Any]], *, by: str = "score") -> None:
    """Add ``score``, ``grade_score``, ``rank`` and ``tied`` to each row and sort them, best first.

    ``by`` is ``score`` or a rate of the KPI table; the tie-breakers of :data:`TIE_BREAKERS`
    follow it. Rows without a value of ``by`` come last, unranked (``rank`` None).
    """
    for row in rows:
        row["score"] = composite_score(row)
        row["grade_score"] = grade_rate(row["score"])
    rows.sort(key=lambda r: (*_key(r, by), str(r.get("code"))))
    keys = [_key(r, by) for r in rows]
    for position, row in enumerate(rows):
        if row.get(by) is None:
            row["rank"], row["tied"] = None, False
            continue
        first = keys.index(keys[position])
        row["rank"] = first + 1
        row["tied"] = keys.count(keys[position]) > 1


def rank_text(row: dict[str, Any]) -> str:
    """How a rank reads in a table: ``3``, ``=3`` when tied, ``—`` when unranked."""
    if row.get("rank") is None:
        return "—"
    return f"={row['rank']}" if row.get("tied") else str(row["rank"])
