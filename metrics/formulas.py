"""Every formula behind a number the project shows or exports, and the grades of rates.

:data:`FORMULAS` documents each indicator once (numerator, denominator, exclusions, which
direction is better): the KPI table's (:data:`KPI_FORMULAS`, computed by :mod:`metrics.kpi`), the
command map's tiles and per-grid measures (:mod:`metrics.command`) and the four-visit coverage
(:mod:`metrics.coverage`). Pages show these texts; they never write a formula of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import constants
from metrics.formulas_zh import FORMULA_TEXT_ZH


@dataclass(frozen=True)
class Formula:
    """How one indicator is computed. ``better`` is ``higher``, ``lower`` or None (a count)."""

    key: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    exclusions: str
    better: str | None
    unit: str


KPI_FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("reported", "受理数", "Reported", "cases reported in the window", None,
                "none (voided cases included)", None, "cases"),
        Formula("registered", "立案数", "Registered", "cases registered (accepted as a case)", None,
                "voided cases (never registered)", None, "cases"),
        Formula("dispatched", "派遣数", "Dispatched", "cases dispatched at least once", None,
                "cases never dispatched", None, "cases"),
        Formula("closed", "结案数", "Closed", "cases closed (closed or archived)", None, "none", None, "cases"),
        Formula("due", "应结案数", "Due to be closed",
                "dispatched cases already closed or whose close deadline (extended if approved) has passed",
                None, "cases not yet dispatched; open cases still within their deadline", None, "cases"),
        Formula("closure_rate", "结案率", "Closure rate", "closed", "due to be closed",
                "cases not yet due (see 'due')", "higher", "%"),
        Formula("on_time_rate", "按期结案率", "On-time closure rate",
                "closed on or before the close deadline (the extended deadline when an extension was approved)",
                "due to be closed", "cases not yet due", "higher", "%"),
        Formula("rework_rate", "返工率", "Rework rate",
                "handled cases sent back to rework at least once (failed verification or dissatisfied follow-up)",
                "cases handled at least once", "cases never handled", "lower", "%"),
        Formula("extension_rate", "延期率", "Extension rate", "cases with an approved extension",
                "cases dispatched", "requested or refused extensions", "lower", "%"),
        Formula("mean_handling_hours", "平均处置用时", "Mean handling time",
                "sum of hours from (first) dispatch to (last) handling", "cases handled",
                "cases not yet handled", None, "h"),
        Formula("arrival_rate", "按时到场率", "On-time arrival rate",
                "four-arrival cases on site by the arrival deadline",
                "dispatched four-arrival cases that arrived or whose arrival deadline has passed",
                "categories outside ARRIVAL_REQUIRED_CATEGORIES; cases still within the arrival deadline",
                "higher", "%"),
        Formula("mean_arrival_minutes", "平均到场用时", "Mean arrival time",
                "sum of minutes from dispatch to arrival on site", "four-arrival cases that arrived",
                "cases not (yet) on site", None, "min"),
        Formula("satisfaction_rate", "满意率", "Satisfaction rate",
                "follow-ups rated satisfied or basically satisfied", "follow-ups with a rating",
                "cases without a follow-up rating", "higher", "%"),
    )
}
#: Rates of the KPI table that get a grade.
RATES: tuple[str, ...] = tuple(k for k, f in KPI_FORMULAS.items() if f.better)


#: Numbers shown outside the KPI table, each with its formula.
OTHER_FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("today_new", "今日新增", "New today", "cases reported since today's midnight, within the filter",
                None, "none", None, "cases"),
        Formula("open", "在办", "Open", "cases in an open state (reported … followed up), within the filter", None,
                "closed, archived and voided cases", None, "cases"),
        Formula("overdue", "超期", "Overdue", "open cases whose pending deadline (respond, arrive or close) has "
                "passed", None, "cases not yet dispatched; closed cases", None, "cases"),
        Formula("arrivals_pending", "待到场", "Arrivals pending", "open cases whose pending deadline is the "
                "arrival (accepted, arrival required, not yet on site)", None, "other pending deadlines", None,
                "cases"),
        Formula("per_1000_buildings", "每千栋楼案件数", "Cases per 1,000 buildings",
                "cases of the grid within the filter × 1000", "buildings of the grid",
                "grids without buildings (no value)", None, "cases"),
        Formula("score", "综合得分", "Composite score",
                "0.30 on-time closure + 0.20 on-time arrival + 0.20 satisfaction + 0.15 closure + 0.10 (1 − rework) "
                "+ 0.05 (1 − extension)",
                "the weights of the rates the group has", "rates without a value (their weight is left out)",
                "higher", "%"),
        Formula("closed_week", "本周结案", "Closed this week", "cases closed in the 7 days before the time of "
                "evaluation", None, "none", None, "cases"),
        Formula("mean_handling_h", "平均处置用时(周)", "Mean handling time (week)",
                "sum of hours from dispatch to handling of the cases handled in the last 7 days",
                "cases handled in the last 7 days", "cases never dispatched", None, "h"),
        Formula("visits_due", "待走访户", "Visits due", "four-visit households of the grid(s) not yet visited "
                "in the month", None, "households already visited this month", None, "households"),
        Formula("gini", "工作量基尼系数", "Workload Gini coefficient",
                "sum over pairs of grid workers of |open_i - open_j|", "2 × workers² × mean open cases",
                "inactive workers; chiefs", "lower", "ratio"),
        Formula("max_over_mean", "最大负荷/平均", "Largest load over the mean", "the most open cases of one grid "
                "worker", "mean open cases per grid worker", "inactive workers; chiefs", "lower", "ratio"),
        Formula("coverage", "走访覆盖率", "Visit coverage", "households visited at least once in the period",
                "households due in the period (every registered household, once per period)",
                "none", "higher", "%"),
        Formula("credible_coverage", "在场走访覆盖率", "On-site visit coverage",
                "households with an on-site visit (worker's GPS within VISIT_ON_SITE_M of the household)",
                "households due in the period", "visits without a GPS fix or farther away", "higher", "%"),
    )
}
#: Every formula, by key.
FORMULAS: dict[str, Formula] = {**KPI_FORMULAS, **OTHER_FORMULAS}


def describe(key: str, language: str = "zh") -> tuple[str, str, str]:
    """Numerator, denominator ("—" for a count) and exclusions of formula ``key`` in ``language``
    (Chinese from :data:`metrics.formulas_zh.FORMULA_TEXT_ZH`, English from the formula)."""
    formula = FORMULAS[key]
    if language == "zh" and key in FORMULA_TEXT_ZH:
        numerator, denominator, exclusions = FORMULA_TEXT_ZH[key]
        return numerator, denominator or "—", exclusions
    return formula.numerator, formula.denominator or "—", formula.exclusions


def grade(key: str, value: float | None) -> str | None:
    """``green``, ``yellow`` or ``red`` for rate ``key`` (thresholds ``core.constants.GRADE_*``;
    for lower-is-better rates the mirrored thresholds ``1 - GRADE_*``); None without a value."""
    if key not in RATES:
        return None
    return grade_rate(value, better=FORMULAS[key].better or "higher")


def grade_rate(value: float | None, *, better: str = "higher") -> str | None:
    """``green``, ``yellow`` or ``red`` for any rate 0..1 (e.g. four-visit coverage) by the
    thresholds ``core.constants.GRADE_*``; None without a value (None or NaN)."""
    if value is None or value != value:
        return None
    if better == "lower":
        value = 1.0 - value
    if value >= constants.GRADE_GREEN:
        return "green"
    if value >= constants.GRADE_YELLOW:
        return "yellow"
    return "red"


#: Numbers of the leaders' briefing and its reports (:mod:`metrics.briefing`, periods of
#: :mod:`metrics.periods`), each with its formula.
BRIEFING_FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("change_mom", "环比", "Period on period",
                "the value in the period − the value in the previous period of the same kind (while a period runs: "
                "as many whole days from the start of each)",
                "the previous period's value for counts (a relative change); none for rates (the difference in "
                "percentage points)", "no value in either period (shown as —)", None, "%"),
        Formula("change_yoy", "同比", "Year on year",
                "the value in the period − the value in the same period a year before (same ISO week number, month "
                "or quarter; while a period runs: as many whole days from the start of each)",
                "the year-before value for counts (a relative change); none for rates (the difference in "
                "percentage points)", "no value in either period (shown as —)", None, "%"),
        Formula("period_coverage", "四访覆盖率", "Four-visit coverage",
                "persons visited in the period's window as metrics.coverage counts them (a whole month or quarter "
                "by the visit cycles ending in it; a running period or a week as one cycle)",
                "persons planned in the window", "a window without any recorded visit has no value (nothing "
                "recorded yet)", "higher", "%"),
        Formula("hotspot_rise", "案件增量", "Rise in cases",
                "cases reported in the grid in the period − in the previous period (as many days)", None,
                "grids whose count did not rise are no hotspot", None, "cases"),
        Formula("open_emergencies", "在办突发事件", "Open emergencies",
                "emergency cases in an open state now, whenever reported", None,
                "closed, archived and voided cases", None, "cases"),
        Formula("emergencies_awaiting", "待到场突发事件", "Emergencies nobody has reached",
                "open emergencies not yet on site (reported … accepted)", None, "emergencies already reached",
                None, "cases"),
        Formula("overdue_unclosed", "超期未结", "Overdue, not closed",
                "cases reported in the period, dispatched, not closed, whose close deadline (extended if approved) "
                "has passed at the time of evaluation", None, "cases not dispatched; cases within their deadline",
                None, "cases"),
        Formula("reworked_cases", "返工件数", "Reworked cases",
                "cases reported in the period, handled and sent back to rework at least once", None,
                "cases never handled", None, "cases"),
        Formula("category_cases", "分类案件数", "Cases per category",
                "cases reported in the period per category (emergency, dispute, safety hazard, citizen request)", None,
                "none (voided cases included)", None, "cases"),
    )
}
FORMULAS.update(BRIEFING_FORMULAS)
