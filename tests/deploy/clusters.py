"""Helpers of the cluster tests: nginx present, a free run of ports, the launcher
(``python -m deploy.cluster``) started on them and stopped afterwards, its ``cluster.json``."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import system

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
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def read_state(var: Path) -> dict:
    """The launcher's ``cluster.json`` in ``var``."""
    return json.loads((var / "cluster.json").read_text())


def wait_for(predicate: Callable[[], object], *, timeout_s: float, what: str | Callable[[], str],
             pause_s: float = 0.5) -> None:
    """Poll ``predicate()`` every ``pause_s`` until it is true; fail after ``timeout_s`` naming ``what``."""
    system.poll_until(predicate, timeout_s=timeout_s, what=what, pause=lambda: time.sleep(pause_s))


@contextmanager
def launched_cluster(processes: int = 2) -> Iterator[dict]:
    """Run the launcher with ``processes`` dashboard processes on free ports, migrate only (no demo
    seeding), in a temporary ``--var-dir``; yield ``state`` (``cluster.json`` once it is written),
    ``launcher`` (its Popen), ``var`` and ``log`` (the launcher's output). Killed outright at the end."""
    require_nginx()
    system.require_system("postgis")
    var = Path(tempfile.mkdtemp(prefix="gc-cluster-"))
    var.chmod(0o755)
    proxy_port = free_run_of_ports(2 + processes)  # nginx, the API, the dashboards
    command = [sys.executable, "-m", "deploy.cluster", "-n", str(processes), "--port", str(proxy_port),
               "--api-port", str(proxy_port + 1), "--app-port", str(proxy_port + 2), "--no-seed",
               "--var-dir", str(var)]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCOMMAND_JOBS")}
    out = (var / "launcher.log").open("wb")
    launcher = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (var / "cluster.json").exists():
            assert launcher.poll() is None, (var / "launcher.log").read_text()
            assert time.monotonic() < deadline, "cluster not up in time:\n" + (var / "launcher.log").read_text()
            time.sleep(0.5)
        yield {"state": read_state(var), "launcher": launcher, "var": var, "log": var / "launcher.log"}
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        out.close()
        shutil.rmtree(var, ignore_errors=True)
