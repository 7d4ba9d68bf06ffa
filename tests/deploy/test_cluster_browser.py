"""An operator moves between dashboard processes, in a real headless Chromium through the cluster's
nginx (``python -m deploy.cluster``, two processes): signed in as the demo commander, the process
that serves the browser is killed; the page reconnects by itself to the other process, still
signed in, and is pinned there (its cookie names it); once the launcher has started the dead process
again and nginx's fail_timeout is over, a reload and a page change still come from the other
process, signed in, with no error; the access log shows every request of the browser after the
kill answered by the survivor.

Needs nginx, PostgreSQL + PostGIS and Chromium (installed as root, else a loud skip; a failure
under ``REQUIRE_SYSTEM=1``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from demo.people import DEMO_ACCOUNTS
from deploy.nginx import FAIL_TIMEOUT_S
from tests.browser.helpers import go_to_page, open_dashboard, wait_for_idle, wait_until
from tests.deploy.clusters import ROOT, alive, launched_cluster, read_state, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgis, pytest.mark.browser]
ACCOUNT = "commander"
SIGNED_IN_AS = "当前用户：指挥中心值班员（指挥中心值班员）"  # the sidebar's account line (name, role)
DESK = "派单台"
#: nginx writes its access log at least this often (``flush=2s``), plus a margin.
LOG_FLUSH_S = 2.5
#: An nginx access-log line of the cluster's format (deploy/nginx.conf.template).
LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) \d+ upstream=(?P<upstream>.*?) '
                  r"upstream_status=.* browser=(?P<browser>[0-9a-f]+)$")


@dataclass(frozen=True)
class Hit:
    """One request of the access log: its path, status and the process that answered it."""

    path: str
    status: int
    tried: tuple[str, ...]

    @property
    def answered_by(self) -> str:
        return self.tried[-1]


def hits(var: Path, browser: str, names: dict[str, str]) -> list[Hit]:
    """The requests of browser key ``browser`` in the access log, oldest first; addresses named
    by ``names`` (``127.0.0.1:port`` → ``app1``)."""
    found = []
    for line in (var / "nginx" / "access.log").read_text().splitlines():
        match = LINE.search(line)
        if match and match["browser"] == browser:
            tried = tuple(names.get(a, a) for a in re.split(r", | : ", match["upstream"]))
            found.append(Hit(match["path"], int(match["status"]), tried))
    return found


def add_demo_account(database_url: str, username: str) -> None:
    """Create the public demo account ``username`` (``demo.people``) in the cluster's store."""
    demo = next(a for a in DEMO_ACCOUNTS if a.username == username)
    subprocess.run([sys.executable, "-m", "cases", "users", "add", demo.username, "--role", demo.role, "--name",
                    demo.display_name, "--password-stdin", "--db", database_url],
                   input=demo.password + "\n", text=True, capture_output=True, check=True, cwd=ROOT)


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    with launched_cluster(processes=2) as running:
        add_demo_account(running["state"]["database_url"], ACCOUNT)
        yield running


def pinned_to(context) -> tuple[str, str]:
    """The process and browser key of the browser's sticky cookie ``gc_node``."""
    value = next(c["value"] for c in context.cookies() if c["name"] == "gc_node")
    node, key = value.split(".")
    return node, key


def assert_signed_in(page) -> None:
    """No sign-in form; the sidebar names the account and its role."""
    assert page.locator("input[type='password']").count() == 0
    page.get_by_text(SIGNED_IN_AS).wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_operator_keeps_working_on_another_process_when_theirs_dies(cluster: dict, chromium,
                                                                    artifacts_dir: Path) -> None:
    started = time.monotonic()
    var, state = cluster["var"], cluster["state"]
    apps = {n: p for n, p in state["processes"].items() if n.startswith("app")}
    names = {f"127.0.0.1:{p['port']}": n for n, p in apps.items()}
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        open_dashboard(page, f"{state['proxy']}/", account=ACCOUNT)
        assert_signed_in(page)
        node, key = pinned_to(context)
        time.sleep(LOG_FLUSH_S)  # every request so far is in the access log
        before_kill = len(hits(var, key, names))
        assert any(h.path == "/" and h.answered_by == node for h in hits(var, key, names)), hits(var, key, names)
        survivor = next(n for n in apps if n != node)
        os.kill(apps[node]["pid"], signal.SIGKILL)
        killed_at = time.monotonic()

        # keep going: the front end reconnects by itself, to the survivor (the cookie follows), signed in
        wait_until(page, lambda: pinned_to(context)[0] == survivor, timeout_s=30, what=f"the move to {survivor}")
        wait_for_idle(page)
        assert_signed_in(page)
        # the launcher starts the dead process again; the browser stays where it is
        wait_for(lambda: read_state(var)["processes"][node]["pid"] != apps[node]["pid"] and httpx.get(
            f"http://127.0.0.1:{apps[node]['port']}/_stcore/health", timeout=2).status_code == 200,
            timeout_s=60, what=f"{node} restarted by the launcher")
        # ... and is back in nginx's group once its fail_timeout is over: a browser hashed to it by a
        # key alone would now go back to it, away from its session
        time.sleep(max(0.0, killed_at + FAIL_TIMEOUT_S + 1 - time.monotonic()))

        errors.clear()
        page.reload()
        page.locator("[data-testid='stSidebarNav'], input[type='password']").first.wait_for(timeout=60_000)
        wait_for_idle(page)
        assert_signed_in(page)
        go_to_page(page, DESK)
        page.get_by_role("heading", name=DESK).wait_for(timeout=60_000)
        wait_for_idle(page)
        assert_signed_in(page)
        assert pinned_to(context) == (survivor, key)
        page.screenshot(path=str(artifacts_dir / "cluster_operator_moved.png"))
        assert not errors, errors  # no 404 for media or components: they come from the process of the session
    finally:
        context.close()  # closes the WebSocket, so nginx logs it

    def after_kill() -> list[Hit]:
        return hits(var, key, names)[before_kill:]

    wait_for(lambda: any(h.path == "/_stcore/stream" and h.answered_by == survivor for h in after_kill()),
             timeout_s=10, what=lambda: f"the WebSocket to {survivor} in the access log: {after_kill()}")
    moved = after_kill()
    old_socket = [i for i, h in enumerate(moved) if h.path == "/_stcore/stream" and h.tried == (node,)]
    assert len(old_socket) <= 1, moved  # the socket open at the kill, logged when it broke
    moved = [h for i, h in enumerate(moved) if i not in old_socket]
    # lines are written in the order requests end; under load a request answered by the old process
    # just before the kill can reach the log after LOG_FLUSH_S: only the ones before the move may be its
    first = next(i for i, h in enumerate(moved) if h.answered_by == survivor)
    assert all(h.answered_by == node for h in moved[:first]), moved[:first]
    moved = moved[first:]
    assert {h.answered_by for h in moved} == {survivor}, [h for h in moved if h.answered_by != survivor]
    assert any(h.path == "/" for h in moved) and all(h.status < 400 for h in moved), moved
    assert alive(read_state(var)["processes"][node]["pid"])
    print(f"operator moved from {node} to {survivor}; {len(moved)} requests after the kill, "
          f"{time.monotonic() - started:.0f} s")
