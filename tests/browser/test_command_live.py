"""The command map live, in headless Chromium: the timed refresh brings a new emergency in
without a page reload and keeps the operator's map view; the heat mode draws Leaflet.heat's
canvas offline; building outlines of the signed-in account's area appear from zoom 15 on; a
commander dispatches to an assignee picked in the list; a worker's arrival takes their latest
GPS fix.

These tests run their own dashboard server (``refresh_seconds = 5`` in a settings file of their
own, ``GRIDCOMMAND_CONFIG``) on a copy of the SQLite store that `make run` seeded, so the shared
``dashboard_url`` server and its store stay as they are. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, load_settings
from tests.browser.helpers import (
    app_server,
    go_to_page,
    open_dashboard,
    settings_refreshing_every,
    settle,
    store_copy,
    wait_for_frame_with,
    wait_for_idle,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_TITLE = "指挥地图"
REFRESH_SECONDS = 5


@pytest.fixture(scope="module")
def live_server(dashboard_url, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A dashboard server refreshing every 5 s; yields (base URL, store URL).

    Depends on ``dashboard_url`` only so that `make run` has set up the assets, the demo and
    the seeded store first."""
    folder = tmp_path_factory.mktemp("live")
    store_url = store_copy(load_settings().database_url, folder, name="live-store.db")
    with app_server(store_url, log=PROJECT_ROOT / "test-artifacts" / "live-server.log",
                    extra_env={"GRIDCOMMAND_CONFIG": str(settings_refreshing_every(folder, REFRESH_SECONDS))}) as url:
        yield url, store_url


def _open_command_map(page, url: str, *, account: str = "commander"):
    open_dashboard(page, url, account=account)
    go_to_page(page, MAP_TITLE)
    frame = wait_for_frame_with(page, ".gc-worker, .marker-cluster, .gc-case")
    wait_for_frame_with(page, "path.gc-grid", minimum=2)
    settle(page, frame, ".marker-cluster, .gc-case")
    return frame


def _command_frame(page):
    return wait_for_frame_with(page, ".gc-legend .gc-legend-rows")


def _tile(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def _pick_radio(page, option: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stRadio'] label", has_text=option).first.click()
    wait_for_idle(page)


def _pick(page, label: str, option: str) -> None:
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_idle(page)


def _insert_emergency(store_url: str, text: str, *, grid: str | None = None, **values) -> int:
    """A new, unreached emergency reported now in ``grid`` (default the first grid) at the
    grid's representative point; ``values`` override case columns. Returns its id."""
    import geopandas as gpd

    from core import clock
    from geo import read_hierarchy
    from store.db import make_engine
    from store.models import Case

    grids = read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4548")
    row = grids.loc[grids["code"].astype(str) == grid].iloc[0] if grid else grids.iloc[0]
    point = gpd.GeoSeries([row.geometry.representative_point()], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    engine = make_engine(store_url)
    now = clock.now()
    columns = {"source": "snapshot", "source_id": f"live-{now:%H%M%S%f}", "category": "emergency",
               "subcategory": "fire", "text": text, "lon": point.x, "lat": point.y, "grid_code": str(row["code"]),
               "community_code": str(row["parent_code"]), "state": "reported", "priority": "urgent",
               "reported_at": now, "version": 1, "rework_count": 0, "supervised": False}
    with Session(engine) as session, session.begin():
        case = Case(**{**columns, **values})
        session.add(case)
        session.flush()
        case_id = case.id
    engine.dispose()
    return case_id


def _delete_case(store_url: str, case_id: int) -> None:
    from store.db import make_engine
    from store.models import Case, CaseEvent

    engine = make_engine(store_url)
    with Session(engine) as session, session.begin():
        session.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
        session.execute(delete(Case).where(Case.id == case_id))
    engine.dispose()


_VIEW_JS = "() => [window.gcMarker, window.map.getZoom(), window.map.getCenter().lat, window.map.getCenter().lng]"


def test_timed_refresh_shows_a_new_emergency_and_keeps_the_view(live_server, recorded_page, artifacts_dir) -> None:
    url, store_url = live_server
    page, rec = recorded_page
    frame = _open_command_map(page, url)
    view = frame.evaluate(
        "() => { window.map.setView([35.43, 116.59], 14, {animate: false}); window.gcMarker = 1; "
        "return [window.map.getZoom(), window.map.getCenter().lat, window.map.getCenter().lng]; }")
    page.evaluate("() => { window.gcNoReload = 'still here'; }")
    before = int(_tile(page, "今日新增"))
    text = f"实时测试{os.getpid() % 10000}"
    case_id = _insert_emergency(store_url, text)
    try:
        # the fragment reruns on its own every 5 s: the alert (toast and error) names the case
        wait_until(page, lambda: page.get_by_text(text, exact=False).count() >= 1, timeout_s=60,
                   what="the new-emergency alert")
        page.screenshot(path=str(artifacts_dir / "command_live_alert.png"), full_page=True)
        wait_until(page, lambda: int(_tile(page, "今日新增")) == before + 1, timeout_s=30,
                   what=f"'today new' going from {before} to {before + 1}")
        frame = _command_frame(page)
        wait_until(page, lambda: _command_frame(page).locator(f".gc-unreached[data-case='{case_id}']").count() == 1,
                   timeout_s=30, what=f"the ringed marker of case {case_id}")
        # no reload: the page's own window object and the same Leaflet map, same view
        assert page.evaluate("() => window.gcNoReload") == "still here"
        after = _command_frame(page).evaluate(_VIEW_JS)
        assert after[0] == 1 and after[1:] == pytest.approx(view, abs=1e-6)
        page.screenshot(path=str(artifacts_dir / "command_live_refreshed.png"), full_page=True)
    finally:
        _delete_case(store_url, case_id)
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors


def test_heat_mode_draws_the_heat_canvas_offline(live_server, recorded_page, artifacts_dir) -> None:
    url, _ = live_server
    page, rec = recorded_page
    _open_command_map(page, url)
    _pick(page, "时间范围", "全部")
    assert _command_frame(page).locator("canvas.leaflet-heatmap-layer").count() == 0
    _pick_radio(page, "热力图")
    wait_until(page, lambda: _command_frame(page).locator("canvas.leaflet-heatmap-layer").count() == 1,
               timeout_s=60, what="the leaflet.heat canvas")
    frame = _command_frame(page)
    # the heat layer replaced the clustered points, and it drew something
    assert frame.locator(".marker-cluster").count() == 0
    painted = frame.evaluate(
        "() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n; }")
    assert painted > 0
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "command_live_heat.png"), full_page=True)
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors


def _buildings_in_scope(store_url: str, account: str):
    """The demo buildings the account's scope covers (EPSG:4326), from the hierarchy file."""
    from access import accounts
    from access.scope import Scope
    from geo import read_hierarchy
    from store.db import make_engine

    engine = make_engine(store_url)
    with Session(engine) as session:
        scope = Scope.for_user(accounts.get_user(session, account))
    engine.dispose()
    layers = read_hierarchy(load_settings().hierarchy_path)
    streets = dict(zip(layers["communities"]["code"].astype(str), layers["communities"]["parent_code"].astype(str),
                       strict=True))
    grids = layers["grids"]
    inside = {str(g) for g, c in zip(grids["code"], grids["parent_code"], strict=True)
              if scope.allows(street_code=streets.get(str(c)), community_code=str(c), grid_code=str(g))}
    buildings = layers["buildings"]
    return buildings.loc[buildings["parent_code"].astype(str).isin(inside)].to_crs("EPSG:4326")


@pytest.mark.parametrize("account", ["commander", "chief"])
def test_buildings_of_the_scope_appear_from_zoom_15(live_server, recorded_page, artifacts_dir, account) -> None:
    url, store_url = live_server
    page, rec = recorded_page
    mine = _buildings_in_scope(store_url, account)
    assert len(mine) > 0
    open_dashboard(page, url, account=account)
    go_to_page(page, MAP_TITLE)
    frame = wait_for_frame_with(page, "path.gc-grid", minimum=2)
    frame = _command_frame(page)
    west, south, east, north = mine.total_bounds
    centre = frame.evaluate("() => { const c = window.map.getCenter(); return [c.lng, c.lat]; }")
    if account == "commander":  # the whole district: opened zoomed out, no building outlines
        assert frame.evaluate("() => window.map.getZoom()") < 15
        assert frame.locator("path.gc-building").count() == 0
    else:  # a chief's map opens on the community
        assert west <= centre[0] <= east and south <= centre[1] <= north, (centre, mine.total_bounds)
    frame.evaluate("() => { window.map.setZoom(13, {animate: false}); }")
    wait_until(page, lambda: _command_frame(page).locator("path.gc-building").count() == 0, timeout_s=15,
               what="no building outlines at zoom 13")
    spot = mine.geometry.iloc[0].representative_point()

    def zoomed_in() -> bool:
        # the component's first renders may still fit the map to the district: zoom in again until it holds
        current = _command_frame(page)
        if current.evaluate("() => window.map.getZoom()") != 16:
            current.evaluate(f"() => {{ window.map.setView([{spot.y}, {spot.x}], 16, {{animate: false}}); }}")
            return False
        return current.locator("path.gc-building").count() == len(mine)

    wait_until(page, zoomed_in, timeout_s=30, what=f"{len(mine)} building outlines of {account}'s area at zoom 16")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / f"command_live_buildings_{account}.png"), full_page=True)
    _command_frame(page).evaluate("() => { window.map.setZoom(13, {animate: false}); }")
    wait_until(page, lambda: _command_frame(page).locator("path.gc-building").count() == 0, timeout_s=15,
               what="building outlines gone at zoom 13")
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors


def _case_row(store_url: str, case_id: int):
    from store.db import make_engine
    from store.models import Case, CaseEvent

    engine = make_engine(store_url)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()
        result = (case.state, case.assignee_kind, case.assignee_id, case.arrival_lon, case.arrival_lat,
                  case.arrival_distance_m, [(e.action, e.note) for e in events])
    engine.dispose()
    return result


def _open_case_panel(page, url: str, case_id: int, *, account: str) -> None:
    frame = _open_command_map(page, url, account=account)
    wait_for_idle(page)
    marker = frame.locator(f".gc-unreached[data-case='{case_id}']")
    marker.wait_for(timeout=30_000)
    marker.hover(force=True)
    marker.click(force=True)
    page.get_by_text(f"#{case_id}", exact=False).first.wait_for(timeout=30_000)
    wait_for_idle(page)


def test_commander_dispatches_to_a_chosen_department(live_server, recorded_page, artifacts_dir) -> None:
    url, store_url = live_server
    page, rec = recorded_page
    case_id = _insert_emergency(store_url, "派遣选择测试", state="registered", assignee_kind="department",
                                assignee_id="应急管理")
    try:
        _open_case_panel(page, url, case_id, account="commander")
        picker = page.locator("[data-testid='stSelectbox']").filter(has_text="指派给").first
        # the routed default, pre-selected
        assert picker.locator("input").input_value() == "部门 应急管理（路由默认）"
        field = picker.locator("input")  # a long list: type to filter it, as an operator would
        field.click()
        field.fill("城管")
        page.get_by_role("option", name="部门 城管", exact=True).click()
        page.get_by_role("button", name="派遣", exact=True).click()
        wait_until(page, lambda: _case_row(store_url, case_id)[0] == "dispatched", timeout_s=30,
                   what=f"case {case_id} dispatched")
        page.screenshot(path=str(artifacts_dir / "command_live_dispatch.png"), full_page=True)
        state, kind, ident, *_, events = _case_row(store_url, case_id)
        assert (kind, ident) == ("department", "城管")
        assert events[-1][0] == "dispatch" and "to department 城管" in events[-1][1]
    finally:
        _delete_case(store_url, case_id)
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors


def test_worker_arrives_at_their_latest_gps_fix(live_server, recorded_page, artifacts_dir) -> None:
    from access import accounts
    from core import clock
    from store.db import make_engine
    from store.models import WorkerTrack

    url, store_url = live_server
    page, rec = recorded_page
    engine = make_engine(store_url)
    with Session(engine) as session:
        worker = accounts.get_user(session, "worker")
    grid, worker_id = worker.area_codes.split(",")[0], worker.worker_id
    case_id = _insert_emergency(store_url, "到场定位测试", grid=grid, state="accepted", assignee_kind="worker",
                                assignee_id=worker_id)
    with Session(engine) as session, session.begin():
        from store.models import Case

        case = session.get(Case, case_id)
        lon, lat = case.lon + 0.001, case.lat
        # the demo's own track of today may hold fixes around "now" (depending on the time of
        # day): clear the worker's fixes near now in this copy of the store, so the test's fix is
        # the latest one whatever the clock says
        session.execute(delete(WorkerTrack).where(WorkerTrack.worker_id == worker_id,
                                                  WorkerTrack.at > clock.now() - timedelta(hours=1),
                                                  WorkerTrack.at < clock.now() + timedelta(hours=1)))
        session.add(WorkerTrack(worker_id=worker_id, at=clock.now() - timedelta(minutes=2), lon=lon, lat=lat,
                                grid_code=grid, community_code=case.community_code, street_code=case.street_code))
    engine.dispose()
    try:
        _open_case_panel(page, url, case_id, account="worker")
        page.get_by_text("按最近定位记录到场", exact=False).first.wait_for(timeout=30_000)
        page.get_by_role("button", name="到场", exact=True).click()
        wait_until(page, lambda: _case_row(store_url, case_id)[0] == "on_site", timeout_s=30,
                   what=f"case {case_id} on site")
        page.get_by_text("到场位置距案件", exact=False).first.wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "command_live_arrive.png"), full_page=True)
        state, *_, arrival_lon, arrival_lat, distance, events = _case_row(store_url, case_id)
        assert (arrival_lon, arrival_lat) == pytest.approx((lon, lat))
        assert 50 < distance < 150
        assert events[-1][0] == "arrive" and "GPS fix" in events[-1][1] and "m from the case" in events[-1][1]
    finally:
        _delete_case(store_url, case_id)
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    assert rec.errors == [], rec.errors
