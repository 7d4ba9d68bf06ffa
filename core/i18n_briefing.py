"""UI and report text of the leaders' briefing (领导驾驶舱, 周报/月报/季报), merged into
:data:`core.i18n.TEXT`. Labels of the figures themselves come from ``metrics.formulas.FORMULAS``."""

from __future__ import annotations

BRIEFING_TEXT: dict[str, dict[str, str]] = {
    "page_briefing": {"zh": "领导驾驶舱", "en": "Leaders' briefing"},
    # controls of the big screen (views/briefing.py)
    "brief_kind": {"zh": "周期", "en": "Period kind"},
    "brief_kind_week": {"zh": "周", "en": "Week"},
    "brief_kind_month": {"zh": "月", "en": "Month"},
    "brief_kind_quarter": {"zh": "季度", "en": "Quarter"},
    "brief_period": {"zh": "统计期", "en": "Period"},
    "brief_area": {"zh": "范围", "en": "Area"},
    "brief_measure": {"zh": "地图指标", "en": "Map measure"},
    "brief_level": {"zh": "排名层级", "en": "Rank"},
    "brief_level_community": {"zh": "社区/村", "en": "Communities/villages"},
    "brief_level_grid": {"zh": "网格", "en": "Grids"},
    "brief_rotate": {"zh": "自动轮播", "en": "Rotate panels"},
    "brief_download": {"zh": "下载{report}（{fmt}）", "en": "Download the {report} ({fmt})"},
    "brief_report_failed": {"zh": "报告生成失败：{error}", "en": "The report could not be made: {error}"},
    # report kinds and period names
    "report_week": {"zh": "周报", "en": "weekly report"},
    "report_month": {"zh": "月报", "en": "monthly report"},
    "report_quarter": {"zh": "季报", "en": "quarterly report"},
    "period_week": {"zh": "{year}年第{number}周", "en": "week {number} of {year}"},
    "period_month": {"zh": "{year}年{number}月", "en": "{month_name} {year}"},
    "period_quarter": {"zh": "{year}年第{number}季度", "en": "Q{number} {year}"},
    "period_running": {"zh": "（截至{day}）", "en": " (to {day})"},
    "brief_title": {"zh": "{area}{period}{report}", "en": "{area}: {report}, {period}"},
    "brief_district": {"zh": "全区", "en": "Whole district"},
    # panels and sections
    "brief_headline": {"zh": "核心指标", "en": "Headline figures"},
    "brief_map": {"zh": "辖区地图：{measure}", "en": "District map: {measure}"},
    "brief_ranking": {"zh": "{level}排名（按{by}）", "en": "{level} ranked by {by}"},
    "brief_best": {"zh": "前{n}名", "en": "Top {n}"},
    "brief_worst": {"zh": "后{n}名", "en": "Bottom {n}"},
    "brief_hotspots": {"zh": "热点网格（案件增量最大）", "en": "Hotspots (largest rise in cases)"},
    "brief_no_hotspots": {"zh": "各网格案件量均未上升", "en": "No grid's cases rose"},
    "brief_emergencies": {"zh": "在办突发事件", "en": "Open emergencies"},
    "brief_awaiting": {"zh": "其中待到场 {n} 件", "en": "{n} not yet reached"},
    "brief_no_emergencies": {"zh": "当前无在办突发事件", "en": "No open emergency"},
    "brief_categories": {"zh": "案件分类", "en": "Cases per category"},
    "brief_backlog": {"zh": "超期未结与返工（按社区/村）", "en": "Overdue and reworked (per community)"},
    "brief_no_backlog": {"zh": "本期无超期未结或返工案件", "en": "Nothing overdue or reworked"},
    "brief_coverage": {"zh": "四访覆盖率（按社区/村）", "en": "Four-visit coverage (per community)"},
    "brief_summary": {"zh": "综述", "en": "Summary"},
    "brief_note": {"zh": "统计口径：按受理时间统计 {since} 至 {until} 的案件，办理状态截至 {now}；"
                         "环比为上一{unit}、同比为上年同期，统计期未结束时按相同天数对比；四访覆盖率按走访周期统计。"
                         "等级：优 ≥ 95%，良 ≥ 85%，差 < 85%。",
                   "en": "Cases reported {since} to {until}, their outcome as of {now}; period on period compares with "
                         "the previous {unit}, year on year with the same period a year before, as many days while a "
                         "period runs; four-visit coverage counts visit cycles. Grades: good ≥ 95 %, fair ≥ 85 %, "
                         "poor < 85 %."},
    "brief_unit_week": {"zh": "周", "en": "week"},
    "brief_unit_month": {"zh": "月", "en": "month"},
    "brief_unit_quarter": {"zh": "季度", "en": "quarter"},
    # table columns
    "brief_col_rank": {"zh": "排名", "en": "Rank"},
    "brief_col_name": {"zh": "名称", "en": "Name"},
    "brief_col_figure": {"zh": "指标", "en": "Figure"},
    "brief_col_value": {"zh": "本期", "en": "This period"},
    "brief_col_grade": {"zh": "等级", "en": "Grade"},
    "brief_col_current": {"zh": "本期件数", "en": "Cases"},
    "brief_col_previous": {"zh": "上期件数", "en": "Before"},
    "brief_col_due": {"zh": "应访", "en": "Due"},
    "brief_col_visited": {"zh": "已访", "en": "Visited"},
    "brief_col_cases": {"zh": "件数", "en": "Cases"},
    # grades as words (coloured badges, never emoji)
    "brief_grade_green": {"zh": "优", "en": "good"},
    "brief_grade_yellow": {"zh": "良", "en": "fair"},
    "brief_grade_red": {"zh": "差", "en": "poor"},
    # changes
    "change_up_pct": {"zh": "上升{value}%", "en": "up {value} %"},
    "change_down_pct": {"zh": "下降{value}%", "en": "down {value} %"},
    "change_up_points": {"zh": "上升{value}个百分点", "en": "up {value} points"},
    "change_down_points": {"zh": "下降{value}个百分点", "en": "down {value} points"},
    "change_flat": {"zh": "持平", "en": "level"},
    "change_none": {"zh": "无可比数据", "en": "no comparison"},
    # the generated summary (reports.summary), one sentence per key
    "sum_cases": {"zh": "{period}，{area}共受理案件{reported}件，环比{mom}，同比{yoy}。",
                  "en": "In {period}, {area} received {reported} cases, {mom} on the previous period, {yoy} on the "
                        "year before."},
    "sum_rates": {"zh": "结案率{closure}，按期结案率{on_time}，满意率{satisfaction}，"
                        "按时到场率{arrival}，四访覆盖率{coverage}。",
                  "en": "Closure rate {closure}, on-time closure {on_time}, satisfaction {satisfaction}, on-time "
                        "arrival {arrival}, four-visit coverage {coverage}."},
    "sum_weakest": {"zh": "低于良好线（85%）的指标：{figures}。", "en": "Below the fair line (85 %): {figures}."},
    "sum_all_good": {"zh": "各项比率均达到良好线（85%）以上。",
                     "en": "Every rate is at or above the fair line (85 %)."},
    "sum_backlog": {"zh": "本期超期未结{overdue}件，返工{reworked}件。",
                    "en": "{overdue} cases overdue, {reworked} reworked."},
    "sum_hotspot": {"zh": "案件增量最大的网格为{name}（{current}件，增加{rise}件）。",
                    "en": "The largest rise: {name} ({current} cases, {rise} more)."},
    "sum_ranking": {"zh": "{level}中{best}居首，{worst}居末。",
                    "en": "Among {level}, {best} ranks first and {worst} last."},
    "sum_emergencies": {"zh": "当前在办突发事件{open}件，其中待到场{awaiting}件。",
                        "en": "{open} emergencies open now, {awaiting} not yet reached."},
}
