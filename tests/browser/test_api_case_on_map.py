"""A case posted through the intake API appears on the command map at its next refresh, in headless
Chromium, with the API and the dashboard both started by ``make run`` (``API_PORT``), and the key
made by ``python -m api keys add``.

The test runs its own ``make run`` on a copy of the seeded SQLite store with ``refresh_seconds =
5`` (``GRIDCOMMAND_CONFIG``), so the shared ``dashboard_url`` server and its store stay as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from core.settings import PROJECT_ROOT, load_settings
from tests import system
from tests.browser.helpers import (
    go_to_page,
    open_dashboard,
    settings_refreshing_every,
    settle,
    store_copy,
    wait_for_frame_with,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_TITLE = "指挥地图"


@pytest.fixture(scope="module")
def make_run(dashboard_url, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """``make run`` on a store copy; yields (dashboard URL, API URL, store URL)."""
    folder = tmp_path_factory.mktemp("api-map")
    if not make_url(load_settings().database_url).drivername.startswith("sqlite"):
        pytest.skip("needs the embedded SQLite store that make run seeds")
    store_url = store_copy(load_settings().database_url, folder, name="api-store.db")
    port, api_port = system.free_port(), system.free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRIDCOMMAND_CONFIG": str(settings_refreshing_every(folder, 5)),
           "DATABASE_URL": store_url}
    env.pop("GRIDCOMMAND_JOBS", None)
    log = PROJECT_ROOT / "test-artifacts" / "api-make-run.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}",
                                 f"API_PORT={api_port}"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            system.wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout_s=300)
            system.wait_for_http(f"http://127.0.0.1:{api_port}/health", timeout_s=120)
            yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{api_port}", store_url
        finally:
            system.stop_group(proc)


def _new_key(store_url: str) -> str:
    done = subprocess.run([sys.executable, "-m", "api", "keys", "add", "--channel", "browser-test"],
                          cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": store_url}, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


def _grid_point() -> tuple[float, float]:
    from geo import read_hierarchy

    grids = read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4548")
    point = grids.geometry.iloc[5].representative_point()
    import geopandas as gpd

    spot = gpd.GeoSeries([point], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    return spot.x, spot.y


def _command_frame(page):
    return wait_for_frame_with(page, ".gc-legend .gc-legend-rows")


def test_a_case_posted_through_the_api_appears_on_the_command_map(make_run, recorded_page, artifacts_dir) -> None:
    url, api_url, store_url = make_run
    page, rec = recorded_page
    key = _new_key(store_url)
    open_dashboard(page, url, account="commander")
    go_to_page(page, MAP_TITLE)
    frame = wait_for_frame_with(page, ".gc-worker, .marker-cluster, .gc-case")
    wait_for_frame_with(page, "path.gc-grid", minimum=2)
    settle(page, frame, ".marker-cluster, .gc-case")
    page.evaluate("() => { window.gcNoReload = 'still here'; }")
    lon, lat = _grid_point()
    posted = httpx.post(f"{api_url}/open311/v2/requests.json", timeout=60, headers={"Idempotency-Key": "browser-1"},
                        data={"api_key": key, "service_code": "emergency.fire", "lat": f"{lat:.7f}",
                              "long": f"{lon:.7f}", "description": "接口上报测试：仓库冒烟",
                              "attribute[priority]": "urgent"})
    assert posted.status_code == 201, posted.text
    case_id = posted.json()[0]["service_request_id"]
    # the map refreshes itself every 5 s: the new emergency's ringed marker comes without a reload
    wait_until(page, lambda: _command_frame(page).locator(f".gc-unreached[data-case='{case_id}']").count() == 1,
               timeout_s=90, what=f"the marker of API case {case_id}")
    assert page.evaluate("() => window.gcNoReload") == "still here"
    page.screenshot(path=str(artifacts_dir / "api_case_on_map.png"), full_page=True)
    status = httpx.get(f"{api_url}/open311/v2/requests/{case_id}.json", params={"api_key": key}, timeout=30).json()
    assert status[0]["status"] == "open" and status[0]["service_code"] == "emergency.fire"
    assert rec.outside_hosts() == set(), rec.outside_hosts()  # nothing leaves 127.0.0.1
    assert rec.errors == [], rec.errors
