"""The scaled-out deployment end to end (``python -m deploy.cluster``, what ``make run-cluster`` runs):
a local PostGIS, the intake API and two dashboard processes behind nginx. Pages and health checks
answer through the proxy, an API request through the proxy becomes a case in the store, a killed
dashboard process is routed around, and SIGTERM to the launcher leaves no process behind.

Needs nginx and PostgreSQL + PostGIS: installed with apt-get when run as root, else skipped with a
loud reason (a failure under ``REQUIRE_SYSTEM=1``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from tests import system

pytestmark = [pytest.mark.slow, pytest.mark.postgis]
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


def require_nginx() -> None:
    """nginx present, installed as root when missing, else a loud skip (a failure in CI)."""
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"], env=env,
                       capture_output=True, check=False)
        if Path("/usr/sbin/nginx").exists():
            return
    reason = "SYSTEM PART MISSING: nginx (Debian package nginx); run the tests as root or `apt-get install nginx`"
    if os.environ.get("REQUIRE_SYSTEM") == "1":
        pytest.fail(reason + " [REQUIRE_SYSTEM=1 turns this skip into a failure]", pytrace=False)
    pytest.skip(reason)


def free_run_of_ports(count: int) -> int:
    """A port p with p … p + count - 1 all free on 127.0.0.1, below the kernel's ephemeral range
    (32768-60999 here): a port taken from that range and bound seconds later (after the store
    starts) may meanwhile go to an outgoing connection (seen in CI)."""
    import random
    import socket

    for _ in range(200):
        port = random.randrange(20_000, 32_000 - count)
        sockets = [socket.socket() for _ in range(count)]
        try:
            for offset, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return port
    raise RuntimeError(f"no {count} consecutive free ports")


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    require_nginx()
    system.require_system("postgis")
    var = Path(tempfile.mkdtemp(prefix="gc-cluster-"))
    var.chmod(0o755)
    proxy_port = free_run_of_ports(4)  # nginx, the API, two dashboards
    command = [sys.executable, "-m", "deploy.cluster", "-n", "2", "--port", str(proxy_port),
               "--api-port", str(proxy_port + 1), "--app-port", str(proxy_port + 2), "--no-seed",
               "--var-dir", str(var)]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCOMMAND_JOBS")}
    out = (var / "launcher.log").open("wb")
    launcher = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    state_file = var / "cluster.json"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not state_file.exists():
            assert launcher.poll() is None, (var / "launcher.log").read_text()
            assert time.monotonic() < deadline, "cluster not up in time:\n" + (var / "launcher.log").read_text()
            time.sleep(0.5)
        state = json.loads(state_file.read_text())
        yield {"state": state, "launcher": launcher, "var": var, "log": var / "launcher.log"}
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        out.close()
        shutil.rmtree(var, ignore_errors=True)


def demo_point() -> tuple[float, float]:
    import geo
    from core.settings import load_settings

    grids = geo.read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4490")
    point = grids.geometry.iloc[0].representative_point()
    return point.x, point.y


def test_cluster_serves_survives_a_dead_process_and_stops_cleanly(cluster: dict) -> None:
    state, base = cluster["state"], cluster["state"]["proxy"]
    procs = state["processes"]
    assert {"postgres", "api", "app1", "app2", "nginx"} <= set(procs)
    # every process healthy on its own port
    for name in ("app1", "app2"):
        assert httpx.get(f"http://127.0.0.1:{procs[name]['port']}/_stcore/health", timeout=5).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{procs['api']['port']}/health", timeout=5).json()["store"] == "postgresql"
    # pages and health through nginx, with the sticky cookie
    page = httpx.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "gc_node" in page.cookies
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
        cookies = {"gc_node": f"browser-{n}"}
        assert httpx.get(f"{base}/", cookies=cookies, timeout=10).status_code == 200
        assert httpx.get(f"{base}/_stcore/health", cookies=cookies, timeout=10).status_code == 200
    assert cluster["launcher"].poll() is None, "the launcher must keep running when one app process dies"

    # SIGTERM to the launcher stops everything
    launcher = cluster["launcher"]
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=60) == 0, cluster["log"].read_text()
    time.sleep(0.5)
    left = [name for name, proc in procs.items() if alive(proc["pid"])]
    assert not left, f"processes left after stop: {left}"
    stray = subprocess.run(["pgrep", "-f", str(cluster["var"])], capture_output=True, text=True).stdout.split()
    assert not stray, f"processes of the cluster left: {stray}"
