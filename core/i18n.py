"""UI text in Chinese (default) and English. Pages call :func:`t`; they never spell a label.

Add a key to ``TEXT`` with both languages; a missing English text falls back to Chinese and a
missing key shows the key itself, so a gap is visible rather than fatal.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "网格指挥台", "en": "Grid Command"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "page_map": {"zh": "指挥地图", "en": "Command map"},
    "page_hierarchy": {"zh": "网格底图", "en": "Grid hierarchy"},
    "page_cases": {"zh": "案件管理", "en": "Cases"},
    "page_kpi": {"zh": "考核指标", "en": "KPIs"},
    "page_visits": {"zh": "四访走访", "en": "Four visits"},
    "page_audit": {"zh": "审计日志", "en": "Audit log"},
    "page_login": {"zh": "登录", "en": "Sign in"},
    # map layers and the hierarchy page (layers/, pages/hierarchy_map.py)
    "code": {"zh": "编码", "en": "Code"},
    "grid_code": {"zh": "网格编码", "en": "Grid code"},
    "hierarchy_caption": {"zh": "街道 → 社区/村 → 网格：悬停查看名称与编码，右上角切换图层。",
                          "en": "Street → community/village → grid: hover for names and codes; toggle layers at the top right."},
    "hierarchy_missing": {"zh": "未找到网格底图文件 {path}。请先运行 make run 生成示例数据。",
                          "en": "Hierarchy file {path} not found. Run make run to build the demo data."},
    "count_streets": {"zh": "街道", "en": "Streets"},
    "count_communities": {"zh": "社区/村", "en": "Communities/villages"},
    "count_grids": {"zh": "网格", "en": "Grids"},
    "count_buildings": {"zh": "楼栋", "en": "Buildings"},
    # command map (layers/cases.py, choropleth.py, workers.py, facilities.py, pages/command_map.py)
    "case_state": {"zh": "状态", "en": "State"},
    "case_source": {"zh": "来源", "en": "Source"},
    "case_reported": {"zh": "上报时间", "en": "Reported"},
    "case_due": {"zh": "时限", "en": "Deadline"},
    "due_overdue": {"zh": "已超期", "en": "Overdue"},
    "due_soon": {"zh": "即将到期", "en": "Due soon"},
    "case_address": {"zh": "地址", "en": "Address"},
    "case_text": {"zh": "内容", "en": "Text"},
    "case_category": {"zh": "类别", "en": "Category"},
    "case_grid": {"zh": "网格", "en": "Grid"},
    "kpi_cases": {"zh": "案件数", "en": "Cases"},
    "kpi_open": {"zh": "在办", "en": "Open"},
    "kpi_overdue": {"zh": "超期", "en": "Overdue"},
    "kpi_today_new": {"zh": "今日新增", "en": "New today"},
    "kpi_arrivals_pending": {"zh": "待到场", "en": "Arrivals pending"},
    "measure": {"zh": "专题指标", "en": "Measure"},
    "measure_open": {"zh": "在办案件数", "en": "Open cases"},
    "measure_overdue": {"zh": "超期案件数", "en": "Overdue cases"},
    "measure_per_1000_buildings": {"zh": "每千栋楼案件数", "en": "Cases per 1,000 buildings"},
    "measure_on_time_rate": {"zh": "按期结案率", "en": "On-time closure rate"},
    "no_data": {"zh": "无数据", "en": "No data"},
    "worker": {"zh": "网格员", "en": "Grid worker"},
    "worker_id": {"zh": "工号", "en": "Staff no."},
    "track_points": {"zh": "轨迹点", "en": "Track points"},
    "last_fix": {"zh": "最后定位", "en": "Last fix"},
    "facility_kind": {"zh": "类型", "en": "Kind"},
    "layer_cases": {"zh": "案件", "en": "Cases"},
    "layer_alerts": {"zh": "未到场突发事件", "en": "Unreached emergencies"},
    "layer_choropleth": {"zh": "网格专题图", "en": "Grid choropleth"},
    "layer_workers": {"zh": "网格员位置", "en": "Grid workers"},
    "layer_facilities": {"zh": "服务设施", "en": "Facilities"},
    "legend_states": {"zh": "案件状态", "en": "Case state"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "filter_window": {"zh": "时间范围", "en": "Time window"},
    "window_today": {"zh": "今天", "en": "Today"},
    "window_7d": {"zh": "近7天", "en": "Last 7 days"},
    "window_30d": {"zh": "近30天", "en": "Last 30 days"},
    "window_90d": {"zh": "近90天", "en": "Last 90 days"},
    "window_all": {"zh": "全部", "en": "All"},
    "filter_category": {"zh": "类别", "en": "Category"},
    "filter_state": {"zh": "状态", "en": "State"},
    "filter_source": {"zh": "来源", "en": "Source"},
    "filter_street": {"zh": "街道", "en": "Street"},
    "filter_community": {"zh": "社区/村", "en": "Community/village"},
    "filter_grid": {"zh": "网格", "en": "Grid"},
    "all": {"zh": "全部", "en": "All"},
    "map_mode": {"zh": "案件显示", "en": "Case display"},
    "mode_cluster": {"zh": "点位聚合", "en": "Clustered points"},
    "mode_heat": {"zh": "热力图", "en": "Heat map"},
    "show_workers": {"zh": "显示网格员", "en": "Show grid workers"},
    "show_facilities": {"zh": "显示服务设施", "en": "Show facilities"},
    "wall_mode": {"zh": "大屏模式", "en": "Wall display"},
    "case_list": {"zh": "案件列表", "en": "Case list"},
    "aggregated_note": {"zh": "案件超过 {limit} 件，地图按网格汇总显示。",
                        "en": "More than {limit} cases: the map shows per-grid totals."},
    "new_emergency_alert": {"zh": "新突发事件：{text}（{grid}）", "en": "New emergency: {text} ({grid})"},
    "grid_panel": {"zh": "网格详情", "en": "Grid details"},
    "grid_worker": {"zh": "网格员", "en": "Grid worker"},
    "visit_coverage": {"zh": "四访覆盖率", "en": "Four-visit coverage"},
    "case_timeline": {"zh": "案件轨迹", "en": "Case timeline"},
    "click_hint": {"zh": "点击网格查看详情，点击案件查看处置轨迹。", "en": "Click a grid for its details, a case for its timeline."},
    "store_missing": {"zh": "案件库不可用：{error}", "en": "Case store unavailable: {error}"},
    "updated_at": {"zh": "更新于 {time}", "en": "Updated {time}"},
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text of ``key`` in ``lang``, formatted with ``values``."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text
