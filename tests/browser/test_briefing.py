"""Acceptance of the big screen (领导驾驶舱) in headless Chromium at 1920x1080: every panel drawn on
one screen with no scrollbar, nothing loaded from outside 127.0.0.1, no console error, the report
button hands over a PDF, the rankings rotate.

The page runs behind the real sign-in gate in ``tests/browser/briefing_app.py`` (a stand-in for the
router until ``dashboard.py`` lists it) against a store seeded with the demo district now.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from core import clock
from tests import system
from tests.browser.helpers import open_dashboard, wait_for_idle, wait_until
from tests.reports.demo_store import seeded_store, settings_file

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PANELS = ("headline", "map", "ranking", "hotspots", "emergencies")
WIDTH, HEIGHT = 1920, 1080
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@pytest.fixture(scope="module")
def briefing_url(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[str]:
    """A Streamlit server of the briefing test app on a store seeded with the demo district now."""
    folder = tmp_path_factory.mktemp("briefing-browser")
    env = {**os.environ, "DATABASE_URL": seeded_store(folder, demo_dir, clock.now()),
           "GRIDCOMMAND_CONFIG": str(settings_file(folder, demo_dir)), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    port = system.free_port()
    with (artifacts_dir / "briefing-server.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "tests/browser/briefing_app.py", "--server.address",
             "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            system.wait_for_http(f"{url}/_stcore/health", timeout_s=180)
            yield url
        finally:
            system.stop_group(proc)


@pytest.fixture()
def big_screen(chromium, briefing_url):
    """A 1920x1080 page signed in as the demo leader on the big screen; yields (page, requests, errors)."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    open_dashboard(page, briefing_url, account="leader")
    page.locator(".gc-brief [data-panel='emergencies']").wait_for(timeout=90_000)
    wait_until(page, lambda: page.evaluate("() => { const i = document.querySelector('.gc-map img');"
                                           " return !!i && i.complete && i.naturalWidth > 0; }"),
               what="the district map image")
    wait_for_idle(page)
    yield page, requests, errors
    context.close()


def _outside(requests: list[str]) -> set[str]:
    parsed = [urlparse(url) for url in requests]
    return {p.hostname or p.geturl() for p in parsed
            if p.scheme not in ("data", "blob", "about") and p.hostname not in LOCAL_HOSTS}


def test_one_screen_every_panel_no_scrollbar_offline(big_screen, artifacts_dir):
    page, requests, errors = big_screen
    page.screenshot(path=str(artifacts_dir / "briefing_1920x1080.png"))
    for panel in PANELS:
        box = page.locator(f".gc-brief [data-panel='{panel}']").bounding_box()
        assert box is not None, panel
        assert box["width"] > 150 and box["height"] > 100, (panel, box)
        assert box["x"] >= 0 and box["y"] >= 0, (panel, box)
        assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, (panel, box)
    assert page.locator(".gc-brief .gc-tile").count() == 6
    assert page.locator(".gc-brief [data-panel='ranking'] .gc-badge").count() >= 1
    assert page.locator(".gc-brief [data-panel='ranking'] .gc-badge").first.inner_text() in ("优", "良", "差")
    overflow = page.evaluate("""() => [document.scrollingElement, document.querySelector('[data-testid="stMain"]'),
                                       document.querySelector('.gc-brief')].filter(Boolean).map(e => ({
        name: e.className || e.tagName, v: e.scrollHeight - e.clientHeight, h: e.scrollWidth - e.clientWidth}))""")
    assert all(o["v"] <= 0 and o["h"] <= 0 for o in overflow), overflow
    assert _outside(requests) == set(), f"requests left the machine: {_outside(requests)}"
    assert errors == [], errors


def test_report_button_hands_over_a_pdf(big_screen, tmp_path):
    page, requests, _errors = big_screen
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="下载月报（PDF）").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".pdf" and saved.read_bytes().startswith(b"%PDF")
    assert _outside(requests) == set()


def test_rankings_rotate_between_communities_and_grids(big_screen):
    page, _requests, errors = big_screen
    page.get_by_text("自动轮播").click()
    page.locator(".gc-ranking.gc-rotate").wait_for(timeout=60_000)
    wait_for_idle(page)
    levels = page.eval_on_selector_all(".gc-rotate .gc-rotor", "rotors => rotors.map(r => r.dataset.level)")
    assert levels == ["community", "grid"]
    shown = page.eval_on_selector_all(".gc-rotate .gc-rotor",
                                      "rotors => rotors.map(r => parseFloat(getComputedStyle(r).opacity))")
    assert max(shown) > 0.5  # one of them is on screen
    assert errors == [], errors
