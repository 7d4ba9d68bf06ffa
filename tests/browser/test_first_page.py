"""Acceptance of the first page: `make run`'s dashboard draws the demo hierarchy offline."""

from __future__ import annotations

import pytest

from core.settings import load_settings
from tests.browser.helpers import open_dashboard, settle, wait_for_frame_with

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The published example subdistrict has 198 base grids; the demo district models it.
DEMO_GRIDS = 198


def test_hierarchy_map_offline(dashboard_url, recorded_page, artifacts_dir) -> None:
    from geo import read_hierarchy

    grids = read_hierarchy(load_settings().hierarchy_path)["grids"]
    page, rec = recorded_page
    open_dashboard(page, dashboard_url)  # signs in; the hierarchy page is the default page
    frame = wait_for_frame_with(page, "path.gc-grid")
    drawn = settle(page, frame, "path.gc-grid")
    page.wait_for_timeout(1000)  # let the labels and the layer control paint
    page.screenshot(path=str(artifacts_dir / "first_page.png"), full_page=True)

    assert drawn == len(grids) == DEMO_GRIDS
    assert frame.locator("path.gc-community").count() >= 1
    assert frame.locator("path.gc-street").count() >= 1
    assert frame.locator(".leaflet-control-layers").count() == 1
    assert page.get_by_text("网格底图").count() >= 1  # Chinese UI by default
    assert rec.outside_hosts() == set(), f"requests left the machine: {rec.outside_hosts()}"
    assert any("/app/static/vendor/leaflet/leaflet.js" in u for u in rec.requests)
    assert rec.errors == [], rec.errors


def test_hover_shows_escaped_grid_label(dashboard_url, recorded_page) -> None:
    page, _rec = recorded_page
    open_dashboard(page, dashboard_url)  # signs in; the hierarchy page is the default page
    frame = wait_for_frame_with(page, "path.gc-grid")
    settle(page, frame, "path.gc-grid")
    frame.locator("path.gc-grid").nth(0).hover(force=True)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert "网格编码" in tooltip.inner_text()


def test_buildings_appear_when_zoomed_in(dashboard_url, recorded_page, artifacts_dir) -> None:
    """楼栋 outlines are not drawn at district zoom and appear from zoom 15 on."""
    from geo import read_hierarchy
    from layers.zoom import BUILDINGS_MIN_ZOOM

    buildings = read_hierarchy(load_settings().hierarchy_path)["buildings"]
    page, rec = recorded_page
    open_dashboard(page, dashboard_url)
    frame = wait_for_frame_with(page, "path.gc-grid")
    settle(page, frame, "path.gc-grid")
    assert frame.locator("path.gc-building").count() == 0
    # zoom the Leaflet map in on the town centre (the map object is a global of the map frame)
    frame.evaluate(
        """(zoom) => {
            const name = Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom);
            const map = window[name];
            map.setZoom(zoom, {animate: false});
        }""",
        BUILDINGS_MIN_ZOOM + 1,
    )
    frame.locator("path.gc-building").first.wait_for(state="attached", timeout=20_000)
    page.wait_for_timeout(500)
    # Leaflet keeps off-screen paths as "M0 0"; some buildings of the town centre are on screen
    on_screen = frame.evaluate(
        "() => Array.from(document.querySelectorAll('path.gc-building'))"
        ".filter(p => (p.getAttribute('d') || 'M0 0') !== 'M0 0').length"
    )
    assert on_screen > 0
    page.screenshot(path=str(artifacts_dir / "hierarchy_buildings_zoomed.png"), full_page=True)
    frame.evaluate(
        """(zoom) => {
            const name = Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom);
            window[name].setZoom(zoom, {animate: false});
        }""",
        BUILDINGS_MIN_ZOOM - 2,
    )
    page.wait_for_timeout(500)
    assert frame.locator("path.gc-building").count() == 0
    assert len(buildings) > 0
    assert rec.errors == [], rec.errors
