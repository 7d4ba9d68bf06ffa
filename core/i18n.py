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
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text of ``key`` in ``lang``, formatted with ``values``."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text
