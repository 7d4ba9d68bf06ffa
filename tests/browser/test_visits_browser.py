"""A visit in headless Chromium, three roles on one store: the grid worker records a visit on a
390x844 phone with the phone's position (工作通); the chief sees it verified on site (四访走访);
the leader sees the coverage but no name, phone or ID number.

The test runs its own dashboard server on a copy of the SQLite demo store (the shared store stays
as it is), and the phone stands a few metres from the home of the first person still due this
month. Nothing may leave 127.0.0.1 (but the favicon ``test_loop.py`` tolerates). Screenshots go
to test-artifacts/ (``visits_*.png``).
"""

from __future__ import annotations

import contextlib
import csv
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, load_settings
from tests.browser.conftest import Recorder
from tests.browser.helpers import (
    PHONE,
    app_server,
    go_to_page,
    go_to_page_on_phone,
    open_dashboard,
    store_copy,
    wait_for_frame_with,
    wait_for_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The phone stands about 9 m east of the home.
PHONE_OFFSET_DEG = 0.0001
FAVICON = re.compile(r"^https://fonts\.gstatic\.com/s/i/short-term/release/materialsymbolsrounded/")


@pytest.fixture(scope="module")
def visits_server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A dashboard server on a copy of the demo store; yields (base URL, store URL)."""
    from store.db import upgrade

    cfg = load_settings()
    url = make_url(cfg.database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        pytest.skip(f"the test copies the SQLite demo store; the store here is {url.drivername}")
    if not (Path(url.database).exists() and (PROJECT_ROOT / "static" / "vendor").is_dir()):
        subprocess.run(["make", "--no-print-directory", "seed"], cwd=PROJECT_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    store_url = store_copy(cfg.database_url, tmp_path_factory.mktemp("visits"), name="visits-store.db")
    upgrade(store_url)
    with app_server(store_url, log=PROJECT_ROOT / "test-artifacts" / "visits-server.log") as base:
        yield base, store_url


def _first_due(store_url: str) -> tuple[str, float, float]:
    """The person the phone's visit form offers first, and their home (EPSG:4490)."""
    from access import accounts
    from access.scope import Scope
    from core import clock
    from registry.queries import households_to_visit
    from store.db import make_engine

    engine = make_engine(store_url)
    with Session(engine) as session:
        worker = Scope.for_user(accounts.get_user(session, "worker"))
        todo = households_to_visit(session, worker, clock.now().strftime("%Y-%m"), limit=200)
    engine.dispose()
    assert len(todo), "the demo worker has nobody left to visit this month"
    return str(todo["id"].iloc[0]), float(todo["lon"].iloc[0]), float(todo["lat"].iloc[0])


def _stored_visit(store_url: str, outcome: str):
    from sqlalchemy import select

    from store.db import make_engine
    from store.models import Visit

    engine = make_engine(store_url)
    with Session(engine) as session:
        visit = session.scalars(select(Visit).where(Visit.outcome == outcome)).one_or_none()
    engine.dispose()
    return visit


def _worker_records(page, url: str, outcome: str, artifacts_dir: Path) -> None:
    open_dashboard(page, url, account="worker", phone=True)
    go_to_page_on_phone(page, "工作通")
    page.get_by_role("tab", name="本月待走访").click()
    wait_for_idle(page)
    wait_for_frame_with(page, "#locate").locator("#locate").click()
    wait_for_idle(page)
    page.get_by_label("走访情况").fill(outcome)
    page.get_by_role("button", name="登记走访").click()
    page.get_by_text("在场核验通过").wait_for(timeout=60_000)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the phone page scrolls sideways: {width} px wide"
    page.screenshot(path=str(artifacts_dir / "visits_1_phone.png"), full_page=True)


def _chief_sees_it_verified(page, url: str, outcome: str, artifacts_dir: Path) -> None:
    open_dashboard(page, url, account="chief")
    go_to_page(page, "四访走访")
    row = page.locator("[data-testid='stTable'] tr", has_text=outcome)
    row.wait_for(timeout=90_000)
    assert "在场核验通过" in row.inner_text()
    page.screenshot(path=str(artifacts_dir / "visits_2_chief.png"), full_page=True)


def _leader_sees_no_person(page, url: str, outcome: str, artifacts_dir: Path) -> None:
    open_dashboard(page, url, account="leader")
    go_to_page(page, "四访走访")
    page.get_by_role("heading", name="近 12 个月走访覆盖率").wait_for(timeout=90_000)
    wait_for_idle(page)
    tile = page.locator("[data-testid='stMetric']", has_text="应访户数")
    assert int(tile.locator("[data-testid='stMetricValue']").inner_text()) > 0
    text = page.locator("body").inner_text()
    with (load_settings().demo_dir / "households.csv").open(encoding="utf-8-sig") as fh:
        people = list(csv.DictReader(fh))
    shown = [v for p in people for v in (p["户主姓名"], p["联系电话"], p["身份证号"]) if v and v in text]
    assert shown == [], shown
    assert not re.search(r"1\d{2}\*{4}\d{4}|\d{3}\*{11}[\dX]{4}|[\u4e00-\u9fff]\*", text)
    assert outcome not in text and page.locator("[data-testid='stTable']").count() == 0
    page.screenshot(path=str(artifacts_dir / "visits_3_leader.png"), full_page=True)


def test_a_visit_recorded_on_the_phone_is_verified_for_the_chief_and_counted_for_the_leader(
        visits_server, new_page, artifacts_dir) -> None:
    url, store_url = visits_server
    person, lon, lat = _first_due(store_url)
    outcome = f"浏览器测试走访{uuid.uuid4().hex[:6]}：情况稳定"
    worker, worker_rec = new_page(viewport=PHONE, permissions=["geolocation"],
                                  geolocation={"longitude": lon + PHONE_OFFSET_DEG, "latitude": lat, "accuracy": 5})
    chief, chief_rec = new_page(viewport={"width": 1400, "height": 900})
    leader, leader_rec = new_page(viewport={"width": 1400, "height": 900})
    try:
        _worker_records(worker, url, outcome, artifacts_dir)
        visit = _stored_visit(store_url, outcome)
        assert visit is not None and visit.household_id == person and visit.on_site
        assert 5 < visit.distance_m < 15 and visit.worker_id == "WG0001"
        _chief_sees_it_verified(chief, url, outcome, artifacts_dir)
        _leader_sees_no_person(leader, url, outcome, artifacts_dir)
    except BaseException:
        for name, page in (("worker", worker), ("chief", chief), ("leader", leader)):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(artifacts_dir / f"visits_failed_{name}.png"), full_page=True)
        raise
    for rec in (worker_rec, chief_rec, leader_rec):
        favicon = any(FAVICON.match(u) for u in rec.requests)
        assert Recorder(requests=[u for u in rec.requests if not FAVICON.match(u)]).outside_hosts() == set()
        errors = [e for e in rec.errors if not (favicon and "net::ERR_NAME_NOT_RESOLVED" in e)]  # that favicon
        assert errors == [], errors
