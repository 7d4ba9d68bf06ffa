"""The scaled-out deployment end to end (``python -m deploy.cluster``, what ``make run-cluster`` runs):
a local PostGIS, the intake API and two dashboard processes behind nginx. Pages and health checks
answer through the proxy, an API request through the proxy becomes a case in the store, a killed
dashboard process is routed around and started again (so is a killed API), and SIGTERM to the
launcher leaves no process behind. The tests run in order on one cluster.

Needs nginx and PostgreSQL + PostGIS: installed with apt-get when run as root, else skipped with a
loud reason (a failure under ``REQUIRE_SYSTEM=1``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from tests.deploy.clusters import alive, launched_cluster, read_state, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgis]
ROOT = Path(__file__).resolve().parents[2]
#: Seconds a killed process has to be back: the launcher's first back-off (1 s) plus a start.
RESTART_TIMEOUT_S = 60
#: A browser key for the sticky cookie (``gc_node`` = ``<process>.<key>``).
KEY = "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    with launched_cluster(processes=2) as running:
        running["pids"] = {name: proc["pid"] for name, proc in running["state"]["processes"].items()}
        yield running


def demo_point() -> tuple[float, float]:
    import geo
    from core.settings import load_settings

    grids = geo.read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4490")
    point = grids.geometry.iloc[0].representative_point()
    return point.x, point.y


def test_cluster_serves_and_routes_around_a_dead_process(cluster: dict) -> None:
    state, base = cluster["state"], cluster["state"]["proxy"]
    procs = state["processes"]
    assert {"postgres", "api", "app1", "app2", "nginx"} <= set(procs)
    # every process healthy on its own port
    for name in ("app1", "app2"):
        assert httpx.get(f"http://127.0.0.1:{procs[name]['port']}/_stcore/health", timeout=5).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{procs['api']['port']}/health", timeout=5).json()["store"] == "postgresql"
    # pages and health through nginx, with the sticky cookie
    page = httpx.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and re.fullmatch(r"app[12]\.[0-9a-f]{32}", page.cookies["gc_node"])
    for name in ("app1", "app2"):  # a browser pinned to a process is served by it (and stays pinned)
        pinned = httpx.get(f"{base}/_stcore/health", cookies={"gc_node": f"{name}.{KEY}"}, timeout=5)
        assert pinned.cookies["gc_node"] == f"{name}.{KEY}"
    assert "gc_node" not in httpx.get(f"{base}/api/health", timeout=5).cookies
    assert httpx.get(f"{base}/_stcore/health", timeout=5).status_code == 200
    assert httpx.get(f"{base}/api/health", timeout=5).status_code == 200
    document = httpx.get(f"{base}/api/openapi.json", timeout=10).json()  # its paths resolve under /api
    assert document["servers"] == [{"url": "/api"}]

    # an Open311 request through the proxy becomes a case in the store
    env = {**os.environ, "DATABASE_URL": state["database_url"]}
    made = subprocess.run([sys.executable, "-m", "api", "keys", "add", "--channel", "test"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    key = made.stdout.strip().splitlines()[-1]
    lon, lat = demo_point()
    answer = httpx.post(f"{base}/api/open311/v2/requests.json", timeout=30, data={
        "api_key": key, "service_code": "request.municipal", "lat": f"{lat:.7f}", "long": f"{lon:.7f}",
        "description": "集群测试 through nginx"})
    assert answer.status_code in (200, 201), answer.text
    case_id = int(answer.json()[0]["service_request_id"])
    from store.models import Case

    engine = create_engine(state["database_url"])
    with engine.connect() as conn:
        assert conn.scalar(select(Case.text).where(Case.id == case_id)) == "集群测试 through nginx"
    engine.dispose()

    # one dashboard process dies: every browser, whatever process it was pinned to, is still served
    os.kill(procs["app1"]["pid"], signal.SIGKILL)
    time.sleep(0.5)
    for n in range(12):
        cookies = {"gc_node": f"app{1 + n % 2}.{n:032x}"} if n < 10 else {}
        page = httpx.get(f"{base}/", cookies=cookies, timeout=10)
        node = page.cookies["gc_node"].split(".")[0]  # re-pinned to app2 (or to app1 if already restarted)
        assert page.status_code == 200 and (node == "app2" or read_state(cluster["var"])["processes"]["app1"][
            "pid"] != procs["app1"]["pid"]), node
        assert httpx.get(f"{base}/_stcore/health", cookies=cookies, timeout=10).status_code == 200
    assert cluster["launcher"].poll() is None, "the launcher must keep running when one app process dies"


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_dead_dashboard_or_api_process_is_started_again(cluster: dict) -> None:
    var, base, before = cluster["var"], cluster["state"]["proxy"], cluster["state"]["processes"]
    for name in ("app1", "api"):  # app1 is dead already when the test above ran
        if alive(before[name]["pid"]):
            os.kill(before[name]["pid"], signal.SIGKILL)
    started = time.monotonic()

    def back(name: str, health: str) -> bool:
        now = read_state(var)["processes"][name]
        return now["pid"] != before[name]["pid"] and alive(now["pid"]) and healthy(
            f"http://127.0.0.1:{now['port']}{health}")

    wait_for(lambda: back("app1", "/_stcore/health") and back("api", "/health"), timeout_s=RESTART_TIMEOUT_S,
             what=lambda: "app1 and the API restarted:\n" + cluster["log"].read_text())
    print(f"app1 and the API back in {time.monotonic() - started:.1f} s")
    after = read_state(var)["processes"]
    cluster["pids"] |= {f"{name} (restarted)": after[name]["pid"] for name in ("app1", "api")}
    assert after["app1"]["port"] == before["app1"]["port"] and after["app1"]["restarts"] == 1
    assert after["api"]["restarts"] == 1 and after["app2"]["restarts"] == 0
    assert after["app2"]["pid"] == before["app2"]["pid"]
    text = cluster["log"].read_text()
    assert "app1 restarted (pid" in text and "api restarted (pid" in text, text
    assert "restarted by the launcher" in Path(after["app1"]["log"]).read_text(errors="replace")
    # the restarted processes serve through nginx: a browser still pinned to app1 is served by the
    # new app1 at once, one that moved to app2 stays there; new browsers go to either
    for name in ("app1", "app2"):
        pinned = httpx.get(f"{base}/", cookies={"gc_node": f"{name}.{KEY}"}, timeout=10)
        assert pinned.status_code == 200 and pinned.cookies["gc_node"] == f"{name}.{KEY}"
    for _ in range(6):
        assert httpx.get(f"{base}/", timeout=10).status_code == 200
    assert httpx.get(f"{base}/api/health", timeout=10).json()["store"] == "postgresql"
    assert cluster["launcher"].poll() is None


def test_sigterm_stops_every_process(cluster: dict) -> None:
    launcher = cluster["launcher"]
    pids = {**cluster["pids"], **{name: p["pid"] for name, p in read_state(cluster["var"])["processes"].items()}}
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=60) == 0, cluster["log"].read_text()
    time.sleep(0.5)
    left = [name for name, pid in pids.items() if alive(pid)]
    assert not left, f"processes left after stop: {left}"
    stray = subprocess.run(["pgrep", "-f", str(cluster["var"])], capture_output=True, text=True).stdout.split()
    assert not stray, f"processes of the cluster left: {stray}"
