"""Fixtures shared by every test package: paths, the demo district, PostGIS, Chromium, the
dashboard server. Package-specific fixtures live in each sub-folder's own conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import system

#: Fixtures shared across packages: the store on both backends, the small hierarchy, the world.
pytest_plugins = ["tests.fixtures.stores", "tests.fixtures.world"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REALDATA = PROJECT_ROOT.parent / "shared" / "realdata"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Streamlit's AppTest runs a page as ``__main__`` and leaves it there; a process spawned
    later re-imports ``__main__`` and would start that page instead of its own target."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def realdata() -> Path:
    """``../shared/realdata`` (read-only real public datasets)."""
    if not REALDATA.is_dir():
        msg = f"real data missing: {REALDATA} (the project expects ../shared/realdata beside it)"
        if os.environ.get("REQUIRE_SYSTEM") == "1":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return REALDATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep screenshots and reports (``test-artifacts/``, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated demo district (``data/demo``, built by the Makefile; built here if absent)."""
    built = PROJECT_ROOT / "data" / "demo"
    if (built / ".built").exists():
        return built
    out = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, str(PROJECT_ROOT / "data" / "make_demo.py"), "--out", str(out)],
                   check=True)
    return out


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """SQLAlchemy URL of a throwaway PostgreSQL + PostGIS server on 127.0.0.1."""
    with system.postgis_server() as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright (session-wide)."""
    system.require_system("chromium")
    system.require_system("cjk_font")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(system.CHROMIUM), args=system.CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dashboard_url() -> Iterator[str]:
    """Start ``make run``'s server on a free port and yield its base URL."""
    port = system.free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (ARTIFACTS / "dashboard-server.log")
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}", f"API_PORT={system.free_port()}"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            system.wait_for_http(f"{url}/_stcore/health", timeout_s=300)
            yield url
        finally:
            system.stop_group(proc)
