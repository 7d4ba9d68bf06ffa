"""The thematic grid layer and the service circle map of the hierarchy page against `make run`'s
server in headless Chromium: the theme toggled in the layer control, the isochrones, the buildings
left outside and the suggested sites drawn, and no request of the maps leaving 127.0.0.1.
Screenshots are kept."""

from __future__ import annotations

import pytest

from tests.browser.helpers import go_to_page, open_dashboard, settle, wait_for_frame_with, wait_for_idle, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE_TITLE = "网格底图"
THEME_LABEL = "安全生产网格"
SERVICE_TAB = "15分钟便民生活圈"
#: App bug reported elsewhere (tests/browser/test_operator_first_minutes.py): dashboard.py's
#: ``page_icon=":material/map:"`` makes the browser fetch the favicon from fonts.gstatic.com. Only
#: that request is tolerated; nothing the maps load may leave the machine.
FAVICON = "fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/map/"


def _offline(rec) -> None:
    outside = [url for url in rec.requests if url.startswith(("http://", "https://"))
               and "127.0.0.1" not in url and "localhost" not in url]
    assert all(FAVICON in url for url in outside), outside
    errors = [e for e in rec.errors if "net::ERR_NAME_NOT_RESOLVED" not in e]
    assert errors == [], errors


def _hierarchy_frame(page, url: str):
    open_dashboard(page, url)
    go_to_page(page, PAGE_TITLE)
    return wait_for_frame_with(page, "path.gc-grid", minimum=198, timeout_s=180)


def test_theme_layer_toggles_in_the_layer_control(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    frame = _hierarchy_frame(page, dashboard_url)
    control = frame.locator(".leaflet-control-layers-overlays label", has_text=THEME_LABEL)
    assert control.count() == 1
    assert frame.locator("path.gc-theme").count() == 0  # off when the map opens
    control.click()
    wait_until(page, lambda: frame.locator("path.gc-theme").count() == 16, timeout_s=30, what="16 thematic cells")
    frame.locator("path.gc-theme").first.hover(force=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "hierarchy_theme.png"), full_page=True)
    control.click()
    wait_until(page, lambda: frame.locator("path.gc-theme").count() == 0, timeout_s=30, what="theme hidden again")
    assert page.get_by_text("对照关系", exact=True).count() >= 1  # the crosswalk tab's figures
    _offline(rec)


def test_service_circle_map(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    _hierarchy_frame(page, dashboard_url)
    tab = page.get_by_role("tab", name=SERVICE_TAB)
    wait_for_idle(page, timeout_s=180)  # the service circle is computed once, on the first visit
    # while a rerun replaces the page's elements the old tab bar may linger a moment
    wait_until(page, lambda: tab.count() == 1, timeout_s=60, what="one service tab")
    tab.click()
    wait_until(page, lambda: tab.get_attribute("aria-selected") == "true", timeout_s=30, what="the service tab")
    frame = wait_for_frame_with(page, "path.gc-iso", minimum=3, timeout_s=180)
    page.locator("iframe").last.scroll_into_view_if_needed()
    settle(page, frame, "path.gc-outside")
    bands = {cls for cls in frame.evaluate(
        "() => Array.from(document.querySelectorAll('path.gc-iso')).map(p => p.getAttribute('class'))")
        for cls in cls.split() if cls.startswith("gc-iso-")}
    assert bands == {"gc-iso-5", "gc-iso-10", "gc-iso-15"}
    assert frame.locator("path.gc-outside").count() > 0
    assert 1 <= frame.locator(".gc-site").count() <= 10  # until the gap is closed, at most --top 10
    assert frame.locator(".gc-facility").count() == 18  # the 党群服务中心 of every community
    assert page.get_by_text("15分钟外户数占比", exact=True).count() >= 1
    page.screenshot(path=str(artifacts_dir / "service_circle.png"), full_page=True)
    _offline(rec)
