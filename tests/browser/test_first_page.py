"""Acceptance of the first page: `make run`'s dashboard draws the demo hierarchy offline."""

from __future__ import annotations

import pytest

from core.settings import load_settings
from tests.browser.conftest import open_dashboard, settle, wait_for_frame_with

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
