"""The intake API under test: a real uvicorn server on a free 127.0.0.1 port (a thread of the test
process) over the module's migrated store (SQLite and PostGIS, ``store`` fixture) and the small
hand-made hierarchy (street 370811004 ⊃ community 民生社区 370811004001 ⊃ grids 370811004001001
west of lon 116.59 and 370811004001002 east of it, lat 35.41–35.42, EPSG:4490)."""

from __future__ import annotations

import io
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import pytest
import uvicorn
from PIL import Image
from sqlalchemy import func, select

from api.app import create_app
from api.context import ApiContext
from api.keys import add_key
from core import clock
from core.api_settings import ApiSettings
from store.models import AuditEntry
from tests import system
from tests.fixtures.stores import Store

#: A point inside grid 370811004001001 (WGS84 = CGCS2000 degrees) and one in 370811004001002.
WEST = (116.585, 35.415)
EAST = (116.595, 35.415)
_channels = itertools.count(1)


@dataclass
class ApiServer:
    url: str
    ctx: ApiContext
    store: Store

    def client(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **options)

    def key(self, *, allow: str = "report", rate: int | None = None, channel: str | None = None) -> str:
        """A new key of a new channel (unless ``channel`` is given)."""
        with self.store.Session() as session, session.begin():
            _, key = add_key(session, channel or f"t{next(_channels)}", actor="test", now=clock.now(), allow=allow,
                             rate_per_minute=rate)
        return key


def settings_for_tests(**changes) -> ApiSettings:
    base = replace(ApiSettings(), jurisdiction_id="test.gov", rate_per_minute=100_000, rate_burst=10_000,
                   anonymous_per_minute=100_000, backchannel_lag_seconds=0, photo_max_mb=1, max_upload_mb=4,
                   max_body_kb=16)
    return replace(base, **changes)


@contextmanager
def serve(store: Store, hierarchy, settings: ApiSettings) -> Iterator[ApiServer]:
    ctx = ApiContext(store.engine, settings, hierarchy=hierarchy)
    port = system.free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield ApiServer(f"http://127.0.0.1:{port}", ctx, store)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def api_server(module_store: Store, small_hierarchy) -> Iterator[ApiServer]:
    with serve(module_store, small_hierarchy, settings_for_tests()) as server:
        yield server


@pytest.fixture
def api(api_server: ApiServer, store: Store) -> ApiServer:
    """The module's server, its store's data tables emptied (``store``)."""
    return api_server


@pytest.fixture
def key(api: ApiServer) -> str:
    """A key of a fresh channel that may post and read reports."""
    return api.key()


def jpeg(gps: tuple[float, float] | None = None, *, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small JPEG, with EXIF GPS tags at ``gps`` = (lon, lat) WGS84 when given."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    if gps:
        def dms(value: float) -> tuple[float, float, float]:
            d = int(value)
            m = int((value - d) * 60)
            return (d, m, (value - d - m / 60) * 3600)

        exif[0x8825] = {1: "N", 2: dms(gps[1]), 3: "E", 4: dms(gps[0])}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def audit_marker(store: Store) -> int:
    with store.Session() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)


def audit_after(store: Store, marker: int, action: str | None = None) -> list[AuditEntry]:
    with store.Session() as session:
        query = select(AuditEntry).where(AuditEntry.id > marker).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))
