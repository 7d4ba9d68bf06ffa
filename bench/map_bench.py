"""Command-map benchmark: payload bytes and time to interactive for 1k, 10k and 100k cases.

For each size a throwaway SQLite case store is filled with synthetic cases placed inside the
demo district's grids (about 3 % open, as in the demo), then

- payload: the bytes streamlit-folium sends to the browser for the command map with the
  filter "all time" (map script + header + live feature groups + layer control), built by the
  same code the page runs (``metrics.command`` + ``views._data.hierarchy_layers`` with the
  building outlines and their zoom rule + ``layers``); and the build time ("build s");
- time to interactive: a Streamlit server (``streamlit run dashboard.py``) on that store; in a
  fresh headless Chromium page (signed in as the demo commander when the gate asks) the click
  on the command map's link is timed until the map shows its 198 grid paths and its case layer
  (clusters, markers or per-grid bubbles): "drawn"; and until Leaflet takes a zoom step: "TTI"
  (the component may still rebuild the map once after drawing it). Median of two visits after
  a warm-up visit. The page opens with its default filter (30 days). Breakdown, from one more
  visit that is not timed (listening to websocket frames costs the browser driver CPU): "msg
  s", when the largest websocket message (the one carrying the map) arrived after the click
  (server time + transfer), and "ws MB", every byte the browser received on the websocket from
  the click until drawn (the whole page, not only the map).

``--busy N`` runs N busy-loop processes during the browser part (a loaded 2-core machine).

Prints one line per size. Needs ``make setup`` (assets, demo district). Usage::

    .venv/bin/python bench/map_bench.py [--sizes 1000 10000 100000] [--no-browser] [--busy 1]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATE_SHARES = {"archived": 0.55, "closed": 0.42, "dispatched": 0.008, "accepted": 0.006, "on_site": 0.005,
                "handled": 0.005, "registered": 0.003, "reported": 0.003}


def _points_in_grids(grids, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import shapely

    metric = grids.to_crs("EPSG:4548")
    west, south, east, north = metric.total_bounds
    xs, ys, codes = [], [], []
    tree = shapely.STRtree(metric.geometry.to_numpy())
    code_arr = metric["code"].astype(str).to_numpy()
    while sum(len(c) for c in codes) < n:
        x = rng.uniform(west, east, n)
        y = rng.uniform(south, north, n)
        pts = shapely.points(x, y)
        idx_pts, idx_grid = tree.query(pts, predicate="within")
        xs.append(x[idx_pts])
        ys.append(y[idx_pts])
        codes.append(code_arr[idx_grid])
    x, y, c = (np.concatenate(a)[:n] for a in (xs, ys, codes))
    lonlat = pd.DataFrame({"x": x, "y": y})
    import geopandas as gpd

    g = gpd.GeoSeries(gpd.points_from_xy(lonlat["x"], lonlat["y"]), crs="EPSG:4548").to_crs("EPSG:4490")
    return g.x.to_numpy(), g.y.to_numpy(), c


def build_store(url: str, n: int, hierarchy: dict, *, seed: int = 7) -> None:
    """A migrated store at ``url`` with ``n`` synthetic cases and the demo accounts."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from core import clock
    from demo.people import seed_demo_accounts
    from store.db import make_engine, upgrade
    from store.models import Case

    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    grids = hierarchy["grids"]
    parents = dict(zip(grids["code"].astype(str), grids["parent_code"].astype(str), strict=True))
    lon, lat, codes = _points_in_grids(grids, n, rng)
    now = clock.now()
    reported = [now - timedelta(minutes=int(m)) for m in rng.integers(5, 60 * 24 * 80, n)]
    states = rng.choice(list(STATE_SHARES), n, p=np.array(list(STATE_SHARES.values())) / sum(STATE_SHARES.values()))
    categories = rng.choice(["emergency", "dispute", "hazard", "request"], n, p=[0.03, 0.17, 0.2, 0.6])
    rows = []
    for i in range(n):
        r = reported[i]
        dispatched = r + timedelta(minutes=10) if states[i] not in ("reported", "registered") else None
        closed = r + timedelta(days=2) if states[i] in ("closed", "archived") else None
        rows.append({
            "source": "hotline_12345", "source_id": f"B{n}-{i:07d}", "category": categories[i],
            "text": "楼道堆放杂物，请尽快处理", "address": "示范路 1 号", "lon": float(lon[i]), "lat": float(lat[i]),
            "grid_code": codes[i], "community_code": parents.get(codes[i]), "state": states[i],
            "priority": "normal", "reported_at": r, "registered_at": r + timedelta(minutes=2),
            "dispatched_at": dispatched, "arrive_due": dispatched + timedelta(hours=4) if dispatched else None,
            "close_due": dispatched + timedelta(days=5) if dispatched else None,
            "closed_at": closed, "version": 1, "rework_count": 0, "supervised": False,
        })
    with Session(engine) as session, session.begin():
        for start in range(0, n, 20_000):
            session.execute(insert(Case), rows[start:start + 20_000])
        seed_demo_accounts(session, worker_id="WG0001", grid_code=str(grids["code"].iloc[0]),
                           community_code=str(grids["parent_code"].iloc[0]), chief_id=None, now=now)
    engine.dispose()


def payload(url: str, hierarchy: dict) -> tuple[int, float, bool]:
    """(bytes sent to the browser, seconds to build, aggregated?) for the 'all time' filter."""
    import folium
    import streamlit_folium
    from sqlalchemy.orm import Session

    from access.database import open_store
    from access.scope import Scope
    from cases.queries import CaseFilter
    from core import clock
    from core.settings import load_settings
    from layers.assets import offline_map
    from layers.basemaps import build_basemap
    from layers.cases import build_case_totals_layer, build_cases_layer, legend_items
    from layers.compose import bounds_of
    from layers.facilities import build_facilities_layer
    from layers.legend import Legend
    from layers.workers import build_workers_layer
    from layers.zoom import BUILDINGS_MIN_ZOOM, ZoomVisibility
    from metrics import command
    from views import _data
    from workforce.queries import positions_with_tracks

    captured: dict = {}

    def fake_component(**kwargs):
        captured.update(kwargs)
        return kwargs["default"]

    streamlit_folium._component_func = fake_component
    settings = load_settings()
    basemap = build_basemap(settings.basemap)
    scope = Scope(role="commander", username="bench")
    engine = open_store(url, migrate=False)
    _data.hierarchy_layers(settings.hierarchy_path, "zh", settings.basemap)  # built once per server
    start = time.perf_counter()
    with Session(engine) as session:
        now = clock.now()
        data = command.load_map_data(session, scope, CaseFilter(), now=now)
        grids = hierarchy["grids"]
        bounds = bounds_of(grids)
        (south, west), (north, east) = bounds
        fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12)
        for group in _data.hierarchy_layers(settings.hierarchy_path, "zh", settings.basemap):
            group.add_to(fmap)
            if not group.show:  # the building outlines, drawn from zoom 15 on
                fmap.add_child(ZoomVisibility(group, min_zoom=BUILDINGS_MIN_ZOOM))
        facilities = _data.facilities(settings.demo_dir / "facilities.csv")
        if facilities is not None and len(facilities):
            build_facilities_layer(facilities, name="f", basemap=basemap).add_to(fmap)
        fmap.add_child(Legend("l", legend_items("zh"), key="states"))
        fmap.fit_bounds(bounds)
        positions, tracks = positions_with_tracks(session, scope)
        live = [build_workers_layer(positions, tracks=tracks, name="w", basemap=basemap)]
        if data.aggregated:
            totals = data.grid_counts.rename(columns={"open_cases": "open"})
            live.append(build_case_totals_layer(totals, grids=grids, alerts=data.alerts, name="c"))
        else:
            live.append(build_cases_layer(data.rows, name="c", grids=grids))
        streamlit_folium.st_folium(fmap, key="bench", feature_group_to_add=live,
                                   layer_control=folium.LayerControl(), returned_objects=[])
    seconds = time.perf_counter() - start
    engine.dispose()
    keys = ("script", "header", "html", "feature_group", "layer_control")
    payload.parts = {k: len((captured.get(k) or "").encode()) for k in keys}
    size = sum(payload.parts.values())
    size += len(json.dumps(captured.get("js_links", [])) + json.dumps(captured.get("css_links", [])))
    return size, seconds, data.aggregated


def time_to_interactive(url: str, port: int) -> tuple[float, float, float, float]:
    """Seconds from the click on the command map's link until the map is drawn (grids and
    cases on screen) and until it is interactive (Leaflet takes a zoom step); warm server.
    Also: seconds until the largest websocket message arrived, and MB received until drawn."""
    from playwright.sync_api import sync_playwright

    from tests.system import CHROMIUM, CHROMIUM_ARGS, wait_for_http

    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    log = tempfile.NamedTemporaryFile("w+b", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "dashboard.py", "--server.address", "127.0.0.1",
         "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout_s=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            timings, drawn, message, received = [], [], [], []
            from tests.browser.helpers import (
                go_to_page,
                open_dashboard,
                wait_for_frame_with,
                wait_for_idle,
            )

            # visit 0 warms the server's caches, visits 1-2 are timed, visit 3 (untimed figures
            # kept apart: listening to websocket frames costs the browser driver CPU) records
            # when the map's message arrived and how many bytes the page received
            for attempt in range(4):
                breakdown = attempt == 3
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                frames: list[tuple[float, int]] = []
                if breakdown:
                    def on_socket(ws, frames=frames):
                        ws.on("framereceived", lambda data: frames.append((time.perf_counter(), len(data or b""))))

                    page.on("websocket", on_socket)
                open_dashboard(page, f"http://127.0.0.1:{port}/")
                wait_for_frame_with(page, "path.gc-grid", minimum=198, timeout_s=120)  # first page drawn
                wait_for_idle(page)
                t0 = time.perf_counter()
                go_to_page(page, "指挥地图")
                # the command map's frame (the hierarchy page's map has no legend and no cases)
                frame = wait_for_frame_with(page, ".marker-cluster, .gc-case, .gc-agg", timeout_s=120)
                wait_for_frame_with(page, "path.gc-grid", minimum=198, timeout_s=120)
                seconds_drawn = time.perf_counter() - t0
                if breakdown:
                    after = [(at, size) for at, size in list(frames) if t0 <= at <= t0 + seconds_drawn]
                    message.append(max(after, key=lambda f: f[1])[0] - t0 if after else float("nan"))
                    received.append(sum(size for _, size in after) / 1e6)
                    context.close()
                    continue
                drawn.append(seconds_drawn)
                # interactive: Leaflet takes a zoom step (retried while the map is still busy)
                for _try in range(100):
                    step = frame.evaluate("() => { const z = window.map.getZoom(); "
                                          "window.map.setZoom(z + 1, {animate: false}); "
                                          "return window.map.getZoom() - z; }")
                    if step == 1:
                        break
                    page.wait_for_timeout(50)
                else:
                    msg = "the map did not take a zoom step within 5 s"
                    raise RuntimeError(msg)
                timings.append(time.perf_counter() - t0)
                context.close()
            browser.close()
        return message[0], received[0], float(np.median(drawn[1:])), float(np.median(timings[1:]))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _busy(n: int) -> list[subprocess.Popen]:
    """``n`` busy-loop processes (one core each), to measure on a loaded machine."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--no-browser", action="store_true", help="payload only")
    parser.add_argument("--busy", type=int, default=0, help="busy-loop processes during the browser part")
    parser.add_argument("--port", type=int, default=8599)
    args = parser.parse_args(argv)
    from core.settings import load_settings
    from geo import read_hierarchy

    hierarchy = read_hierarchy(load_settings().hierarchy_path)
    print(f"{'cases':>8} {'mode':>10} {'payload':>12} {'build s':>8} {'msg s':>6} {'ws MB':>6} "
          f"{'drawn s':>8} {'TTI s':>7}" + (f"  (busy x{args.busy})" if args.busy else ""))
    with tempfile.TemporaryDirectory(prefix="gc-mapbench-") as tmp:
        for n in args.sizes:
            url = f"sqlite:///{Path(tmp) / f'bench_{n}.db'}"
            build_store(url, n, hierarchy)
            size, seconds, aggregated = payload(url, hierarchy)
            if args.no_browser:
                msg, ws, drawn, tti = (float("nan"),) * 4
            else:
                busy = _busy(args.busy)
                try:
                    msg, ws, drawn, tti = time_to_interactive(url, args.port)
                finally:
                    for proc in busy:
                        proc.kill()
                        proc.wait()
            mode = "per-grid" if aggregated else "points"
            print(f"{n:>8} {mode:>10} {size / 1e6:>9.2f} MB {seconds:>8.2f} {msg:>6.2f} {ws:>6.2f} "
                  f"{drawn:>8.2f} {tti:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
