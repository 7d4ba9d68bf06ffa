"""How a briefing's figures read: values, 同比/环比 changes with arrows, grades as words, period
titles and area names. Shared by the big screen, the PDF and the slides, so they print alike."""

from __future__ import annotations

import math
from collections.abc import Mapping

import geopandas as gpd

from core.i18n import t
from metrics.briefing import Change
from metrics.formulas import FORMULAS
from metrics.periods import Period

#: Report kind of the command line -> period kind.
REPORT_KINDS: dict[str, str] = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}
#: Arrows of a change (geometric shapes, present in the CJK font; never emoji).
ARROWS: dict[str | None, str] = {"up": "▲", "down": "▼", "flat": "＝", None: ""}
#: Colours of the grades: (fill, text).
GRADE_COLOURS: dict[str, tuple[str, str]] = {"green": ("#2f9e44", "#ffffff"), "yellow": ("#f2b600", "#1f1500"),
                                             "red": ("#d6336c", "#ffffff")}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def label(key: str, lang: str = "zh") -> str:
    """The name of figure ``key`` (from its formula)."""
    formula = FORMULAS[key]
    return formula.en if lang == "en" else formula.zh


def is_rate(key: str) -> bool:
    """Whether figure ``key`` is a share 0..1."""
    return FORMULAS[key].unit == "%"


def value_text(key: str, value: float | None) -> str:
    """``98.13%`` for a rate, ``1,070`` for a count, ``—`` without a value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if is_rate(key):
        return f"{100 * value:.2f}%"
    return f"{int(round(value)):,}"


def change_text(key: str, change: Change, lang: str = "zh") -> str:
    """A change in words: 上升12.5% / 下降0.30个百分点 / 持平 / 无可比数据."""
    direction = change.direction
    if direction is None or change.delta is None:
        return t("change_none", lang)
    if direction == "flat":
        return t("change_flat", lang)
    unit = "points" if is_rate(key) else "pct"
    amount = abs(change.delta) * 100
    return t(f"change_{direction}_{unit}", lang, value=f"{amount:.2f}" if unit == "points" else f"{amount:.1f}")


def arrow(change: Change) -> str:
    """▲, ▼ or ＝ (empty without a change)."""
    return ARROWS[change.direction]


def tone(key: str, change: Change) -> str:
    """``good``, ``bad`` or ``neutral``: whether the change goes the way the figure is better."""
    better = FORMULAS[key].better
    if change.direction in (None, "flat") or better is None:
        return "neutral"
    return "good" if (change.direction == "up") == (better == "higher") else "bad"


def grade_word(grade: str | None, lang: str = "zh") -> str:
    """优 / 良 / 差 (good / fair / poor); empty without a grade."""
    return t(f"brief_grade_{grade}", lang) if grade in GRADE_COLOURS else ""


def period_title(period: Period, lang: str = "zh") -> str:
    """2026年第27周 / 2026年11月 / 2026年第4季度 (or the English)."""
    month_name = _MONTHS[period.number - 1] if period.kind == "month" else ""
    return t(f"period_{period.kind}", lang, year=period.year, number=period.number, month_name=month_name)


def report_name(period: Period, lang: str = "zh") -> str:
    """周报 / 月报 / 季报."""
    return t(f"report_{period.kind}", lang)


def area_name(hierarchy: Mapping[str, gpd.GeoDataFrame], area: str | None, lang: str = "zh") -> str:
    """The name of a street, community or grid code; without one, the only street's name (else 全区)."""
    if not area:
        streets = hierarchy.get("streets")
        if streets is not None and len(streets) == 1:
            return str(streets["name"].iloc[0])
        return t("brief_district", lang)
    return names(hierarchy).get(str(area), str(area))


def names(hierarchy: Mapping[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """Code -> name over the streets, communities and grids."""
    found: dict[str, str] = {}
    for level in ("streets", "communities", "grids"):
        layer = hierarchy.get(level)
        if layer is not None and len(layer):
            found.update(zip(layer["code"].astype(str), layer["name"].astype(str), strict=True))
    return found
