"""System parts the tests need (PostgreSQL + PostGIS, Chromium, a CJK font).

When a part is missing and the tests run as root, it is installed with ``apt-get``; otherwise the
test is skipped with a loud reason. With ``REQUIRE_SYSTEM=1`` (set by ``.ci/run``) a missing part
fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_apt_updated = False


def _postgis_present() -> bool:
    return (PG_BIN / "initdb").exists() and any(
        Path("/usr/share/postgresql/15/extension").glob("postgis.control")
    )


def _chromium_present() -> bool:
    return CHROMIUM.exists()


def _cjk_font_present() -> bool:
    return Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists()


SYSTEM_PARTS: dict[str, tuple[Callable[[], bool], list[str]]] = {
    "postgis": (_postgis_present, ["postgresql-15-postgis-3", "postgis"]),
    "chromium": (_chromium_present, ["chromium", "chromium-driver"]),
    "cjk_font": (_cjk_font_present, ["fonts-wqy-microhei"]),
}


def require_system(part: str) -> None:
    """Make sure a system part is present: install it as root, else skip (or fail in CI)."""
    global _apt_updated
    present, packages = SYSTEM_PARTS[part]
    if present():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if not _apt_updated:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
            _apt_updated = True
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
            env=env,
            capture_output=True,
            check=False,
        )
        if present():
            return
    reason = (
        f"SYSTEM PART MISSING: {part} (Debian packages {' '.join(packages)}); "
        "run the tests as root to install them, or `apt-get install` them"
    )
    if os.environ.get("REQUIRE_SYSTEM") == "1":
        pytest.fail(reason + " [REQUIRE_SYSTEM=1 turns this skip into a failure]", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgis_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL + PostGIS server on 127.0.0.1; yield its SQLAlchemy URL."""
    require_system("postgis")
    root = Path(tempfile.mkdtemp(prefix="gc-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        root.chmod(0o755)
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8"],
        check=True,
        capture_output=True,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c fsync=off -c full_page_writes=off -k {root}"
    subprocess.run(
        [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"),
         "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
        subprocess.run([*psql, "-c", "CREATE DATABASE gridcommand"], check=True, capture_output=True)
        subprocess.run(
            [*psql, "-d", "gridcommand", "-c", "CREATE EXTENSION postgis"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/gridcommand"
    finally:
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def stop_group(proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """Stop a server started with ``start_new_session=True`` and all its children: SIGTERM to
    its process group, SIGKILL when it has not ended within ``timeout_s``."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def poll_until(predicate: Callable[[], object], *, timeout_s: float, what: str | Callable[[], str],
               pause: Callable[[], object]) -> None:
    """Call ``predicate()`` until it is true (an exception counts as false), ``pause()`` between
    calls; fail after ``timeout_s`` naming ``what`` (a callable is called then, e.g. to show a log)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        pause()
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what() if callable(what) else what}")


def wait_for_http(url: str, timeout_s: float = 120.0) -> None:
    """Poll ``url`` until it answers 200 or the time runs out."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s ({last})")
