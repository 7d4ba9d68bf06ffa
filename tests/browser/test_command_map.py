"""Acceptance of the command-centre live map against `make run`'s server in headless Chromium:
layers drawn, a filter changing the map, a grid click opening its panel, an XSS text shown
inert, and no request leaving 127.0.0.1 with the default basemap. Screenshots are kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.settings import load_settings
from tests.browser.helpers import (
    go_to_page,
    open_dashboard,
    settle,
    wait_for_frame_with,
    wait_for_idle,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS = "<img src=x onerror=alert(1)>"
MAP_TITLE = "指挥地图"


def _open_command_map(page, url: str):
    open_dashboard(page, url)
    go_to_page(page, MAP_TITLE)
    # the command map's frame: its live layers (cases, workers) arrive with the component's
    # feature groups; the hierarchy page's map, which may linger a moment, has neither
    frame = wait_for_frame_with(page, ".gc-worker, .marker-cluster, .gc-case")
    wait_for_frame_with(page, "path.gc-grid", minimum=198)
    settle(page, frame, ".marker-cluster, .gc-case")
    return frame


def _command_frame(page):
    return wait_for_frame_with(page, ".gc-legend .gc-legend-rows")


_COUNT_CASES_JS = """
() => {
  // every case the map holds, wherever the view is: clustered markers plus the alert markers
  let n = 0;
  window.map.eachLayer(layer => {
    if (typeof layer.refreshClusters === 'function') { n += layer.getLayers().length; }
    else if (layer.options && layer.options.zIndexOffset === 1000 && layer.options.icon
             && String(layer.options.icon.options.html).includes('gc-case')) { n += 1; }
  });
  return n;
}
"""


def _drawn_cases(frame) -> int:
    """Cases on the map (clustered markers and unreached-emergency markers)."""
    return frame.evaluate(_COUNT_CASES_JS)


def test_layers_drawn_offline(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    frame = _open_command_map(page, dashboard_url)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "command_map.png"), full_page=True)
    assert frame.locator("path.gc-grid").count() == 198
    assert _drawn_cases(frame) > 0
    assert frame.locator(".gc-worker").count() > 0
    assert frame.locator(".gc-facility").count() > 0
    assert frame.locator(".gc-legend").count() >= 1
    for label in ("今日新增", "在办", "超期", "待到场"):
        assert page.get_by_text(label, exact=True).count() >= 1
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors


def _located_cases(**filters) -> int:
    """Cases with coordinates in the store `make run` serves, by the scoped read."""
    from access.scope import Scope
    from cases import queries
    from store.db import make_engine

    engine = make_engine(load_settings().database_url)
    with Session(engine) as session:
        rows = queries.list_cases(session, Scope(role="commander", username="test"), queries.CaseFilter(**filters),
                                  limit=100_000)
    engine.dispose()
    return int((rows["lon"].notna() & rows["lat"].notna()).sum())


def _pick(page, label: str, option: str) -> None:
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_idle(page)


def test_filter_changes_the_map(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    frame = _open_command_map(page, dashboard_url)
    _pick(page, "时间范围", "全部")
    everything = _located_cases()
    wait_until(page, lambda: _drawn_cases(_command_frame(page)) == everything,
               what=f"{everything} cases drawn")
    view = _command_frame(page).evaluate(
        "() => { window.map.setView([35.45, 116.6], 14, {animate: false}); window.gcMarker = 1; "
        "return [window.map.getZoom(), window.map.getCenter().lat, window.map.getCenter().lng]; }")
    _pick(page, "类别", "矛盾纠纷")
    disputes = _located_cases(category="dispute")
    assert 0 < disputes < everything
    wait_until(page, lambda: _drawn_cases(_command_frame(page)) == disputes,
               what=f"{disputes} dispute cases drawn")
    frame = _command_frame(page)
    # the map was updated in place: same Leaflet map (our marker survives), same view
    after = frame.evaluate("() => [window.gcMarker, window.map.getZoom(), window.map.getCenter().lat, "
                           "window.map.getCenter().lng]")
    assert after[0] == 1 and after[1:] == pytest.approx(view, abs=1e-6)
    page.screenshot(path=str(artifacts_dir / "command_map_filtered.png"), full_page=True)
    singles = frame.locator(".gc-case")
    classes = [singles.nth(i).get_attribute("class") for i in range(singles.count())]
    assert all("gc-case-dispute" in c for c in classes), classes
    assert rec.outside_hosts() == set()
    assert rec.errors == [], rec.errors


_FREE_POINT_JS = """
(paths) => {
  // a point inside a grid path that no marker covers, in the frame's coordinates
  for (const path of paths) {
    const box = path.getBoundingClientRect();
    for (let fy = 0.3; fy <= 0.7; fy += 0.1) {
      for (let fx = 0.3; fx <= 0.7; fx += 0.1) {
        const x = box.left + fx * box.width, y = box.top + fy * box.height;
        if (document.elementFromPoint(x, y) === path) { return [x, y]; }
      }
    }
  }
  return null;
}
"""


def _frame_offset(page, frame) -> tuple[float, float]:
    box = frame.frame_element().bounding_box()
    return box["x"], box["y"]


def test_grid_click_shows_its_panel(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    frame = _open_command_map(page, dashboard_url)
    point = frame.locator("path.gc-grid").evaluate_all(_FREE_POINT_JS)
    assert point is not None, "no grid point free of markers"
    dx, dy = _frame_offset(page, frame)
    page.mouse.move(dx + point[0], dy + point[1])
    tooltip = frame.locator(".leaflet-tooltip", has_text="网格编码").first  # the grid's (not a marker's)
    tooltip.wait_for(timeout=10_000)
    code = re.search(r"网格编码\s*(\d{15})", tooltip.inner_text()).group(1)
    page.mouse.click(dx + point[0], dy + point[1])
    panel = page.get_by_text("网格详情", exact=False)
    panel.first.wait_for(timeout=30_000)
    page.get_by_text(code, exact=True).first.wait_for(timeout=10_000)
    assert page.get_by_text("四访覆盖率", exact=False).count() >= 1
    # the grid's buildings come onto the map with the selection
    from geo import read_hierarchy

    buildings = read_hierarchy(load_settings().hierarchy_path)["buildings"]
    expected = int((buildings["parent_code"].astype(str) == code).sum())
    if expected:
        wait_until(page, lambda: _command_frame(page).locator("path.gc-building").count() == expected,
                   what=f"{expected} buildings of grid {code}")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "command_map_grid_panel.png"), full_page=True)
    assert rec.outside_hosts() == set()
    assert rec.errors == [], rec.errors


@pytest.fixture()
def xss_case(dashboard_url) -> Iterator[int]:
    """An unreached emergency whose text is markup, in the store `make run` serves."""
    from core import clock
    from geo import read_hierarchy
    from store.db import make_engine
    from store.models import Case, CaseEvent

    settings = load_settings()
    grids = read_hierarchy(settings.hierarchy_path)["grids"].to_crs("EPSG:4548")
    inside = grids.geometry.iloc[0].representative_point()
    import geopandas as gpd

    point = gpd.GeoSeries([inside], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    engine = make_engine(settings.database_url)
    now = clock.now()
    with Session(engine) as session, session.begin():
        case = Case(source="snapshot", source_id=f"xss-test-{now:%H%M%S%f}", category="emergency",
                    subcategory="fire", text=XSS, address=XSS, lon=point.x, lat=point.y,
                    grid_code=str(grids["code"].iloc[0]), community_code=str(grids["parent_code"].iloc[0]),
                    state="registered", priority="urgent", reported_at=now - timedelta(minutes=1),
                    registered_at=now - timedelta(minutes=1))
        session.add(case)
        session.flush()
        case_id = case.id
    yield case_id
    with Session(engine) as session, session.begin():
        session.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
        session.execute(delete(Case).where(Case.id == case_id))
        assert session.scalar(select(Case.id).where(Case.id == case_id)) is None
    engine.dispose()


def test_xss_text_is_shown_inert(dashboard_url, recorded_page, xss_case, artifacts_dir) -> None:
    page, rec = recorded_page
    frame = _open_command_map(page, dashboard_url)
    marker = frame.locator(f".gc-unreached[data-case='{xss_case}']")
    marker.wait_for(timeout=30_000)
    marker.hover(force=True)
    tooltip = frame.locator(".leaflet-tooltip", has_text="#" + str(xss_case))
    tooltip.wait_for(timeout=10_000)
    assert XSS in tooltip.inner_text()  # shown as text
    marker.click(force=True)
    page.get_by_text(f"#{xss_case}", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "command_map_xss.png"), full_page=True)
    for f in page.frames:
        assert f.locator("img[src='x']").count() == 0
    assert page.get_by_text(XSS, exact=True).count() >= 1  # the case panel shows the text
    assert rec.dialogs == [], rec.dialogs
    assert rec.outside_hosts() == set()
    assert rec.errors == [], rec.errors
