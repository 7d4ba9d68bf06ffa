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
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text of ``key`` in ``lang``, formatted with ``values``."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text
