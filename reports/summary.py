"""The generated summary paragraph of a report (综述): fixed sentences filled with the briefing's own
figures (:data:`core.i18n_briefing.BRIEFING_TEXT`, keys ``sum_*``); nothing is invented."""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import t
from metrics.briefing import Briefing
from reports.wording import change_text, label, period_title, value_text

#: Rates the summary names when they fall below the fair line (a red grade).
_GRADED = ("closure_rate", "on_time_rate", "satisfaction_rate", "arrival_rate", "period_coverage")


def summary_text(briefing: Briefing, names: Mapping[str, str], area: str, lang: str = "zh") -> str:
    """The paragraph: cases with 环比/同比, the rates, those graded 差, overdue and reworked cases,
    the largest hotspot, the first and last community, open emergencies."""
    figures = briefing.figures
    reported = figures["reported"]
    joiner = "" if lang == "zh" else " "
    parts = [
        t("sum_cases", lang, period=period_title(briefing.period, lang), area=area,
          reported=value_text("reported", reported.value), mom=change_text("reported", reported.mom, lang),
          yoy=change_text("reported", reported.yoy, lang)),
        t("sum_rates", lang, closure=value_text("closure_rate", figures["closure_rate"].value),
          on_time=value_text("on_time_rate", figures["on_time_rate"].value),
          satisfaction=value_text("satisfaction_rate", figures["satisfaction_rate"].value),
          arrival=value_text("arrival_rate", figures["arrival_rate"].value),
          coverage=value_text("period_coverage", figures["period_coverage"].value)),
        _weakest(briefing, lang),
        t("sum_backlog", lang, overdue=int(briefing.backlog["overdue_unclosed"].sum()),
          reworked=int(briefing.backlog["reworked_cases"].sum())),
    ]
    if len(briefing.hotspots):
        top = briefing.hotspots.iloc[0]
        parts.append(t("sum_hotspot", lang, name=names.get(str(top["code"]), str(top["code"])),
                       current=int(top["current"]), rise=int(top["hotspot_rise"])))
    ranked = [row for row in briefing.ranking("community") if row.get("rank") is not None]
    if len(ranked) > 1:
        parts.append(t("sum_ranking", lang, level=t("brief_level_community", lang),
                       best=names.get(str(ranked[0]["code"]), str(ranked[0]["code"])),
                       worst=names.get(str(ranked[-1]["code"]), str(ranked[-1]["code"]))))
    parts.append(t("sum_emergencies", lang, open=briefing.emergencies.open, awaiting=briefing.emergencies.awaiting))
    return joiner.join(parts)


def _weakest(briefing: Briefing, lang: str) -> str:
    weak = [key for key in _GRADED if briefing.figures[key].grade == "red"]
    if not weak:
        return t("sum_all_good", lang)
    separator = "、" if lang == "zh" else ", "
    return t("sum_weakest", lang, figures=separator.join(label(key, lang) for key in weak))
