"""The hierarchy page through the router, with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.views.pages import signed_in

ROOT = Path(__file__).resolve().parents[2]


def _app() -> AppTest:
    return signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60))


def _map_scripts(at: AppTest) -> list[str]:
    """The Leaflet scripts handed to streamlit-folium's component."""
    return [node.proto.json_args for node in at.get("component_instance")]


def test_page_shows_counts_and_map_in_chinese(app_config: Path) -> None:
    at = _app().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "网格底图"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["网格"] == "6" and metrics["社区/村"] == "2" and metrics["街道"] == "1"
    scripts = _map_scripts(at)
    assert len(scripts) == 1
    assert "gc-grid" in scripts[0] and "/app/static/vendor/leaflet/leaflet.js" in scripts[0]
    assert "https://" not in scripts[0]


def test_english_toggle(app_config: Path) -> None:
    at = _app().run()
    at.radio(key="lang").set_value("en").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Grid hierarchy"
    assert {m.label for m in at.metric} >= {"Grids", "Communities/villages", "Streets"}
    assert "Grid code" in _map_scripts(at)[0]


def test_missing_hierarchy_file_gives_a_hint(app_config: Path) -> None:
    app_config.unlink()
    at = _app().run()
    assert not at.exception, at.exception
    assert "make run" in at.warning[0].value
    assert not at.get("component_instance")


def test_streamlit_widget_texts_follow_the_language() -> None:
    from views._widget_text import widget_text_css

    chinese, english = widget_text_css("zh"), widget_text_css("en")
    assert 'content: "选择文件"' in chinese and 'content: "或将文件拖放到此处"' in chinese
    assert 'content: "Choose files"' in english and "选择" not in english
    assert '[data-testid="InputInstructions"] { display: none; }' in chinese
    from views._widget_text import _css_string

    assert _css_string('a"b</style>') == '"a\\22 b\\3c /style\\3e "'
