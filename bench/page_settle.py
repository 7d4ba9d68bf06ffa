"""Page settle benchmark: how long each page of the dashboard takes to settle after a navigation
click, per demo role, and how long a ticked row of the command map's case list takes to show its
case in the panel.

- settle time after a navigation click: a headless Chromium page (1400x900), signed in as the
  role, clicks a page's link in the sidebar navigation; the clock runs from the click until the
  page has settled: a script run has ended after the click, no script is running (Streamlit's
  ``[data-testid="stStatusWidget"]`` absent and ``stApp`` not running) and neither the app's DOM
  nor any frame's DOM (the maps' iframes) has changed for 1 s, watched by a MutationObserver in
  every document. The settle time is the time of the last change (or of the end of the run,
  whichever is later): the final quiet second is not counted. The same rule for every page; each
  run visits every page the role's navigation offers, in menu order, starting from the second page
  (so every visit is a click away from another page);
- tick -> panel: on the command map (roles that have it), after the page settled, a row of the
  case list (``st.dataframe``, key ``cm_case_list``) is ticked; the clock runs from the click until
  the case panel's header reads ``#<id> · …`` for that row's id.

Runs: ``--warmup`` untimed passes first (default 1: the server's caches fill on the first visits),
then ``--runs`` timed passes; the table shows min / median / max over the timed runs, in seconds.
The server: ``streamlit run dashboard.py`` on a copy of the seeded demo store
(``data/gridcommand.db``; ``make run`` or ``make seed`` makes it), or ``--url`` of a running
server (its store and accounts must be the demo's). ``--small`` (CI, under a minute): the
commander only, the hierarchy, command map and KPI pages, one run, no warm-up. A loaded machine
(other tests, ``uptime``) slows everything: the load average is printed with the table.

Usage::

    .venv/bin/python bench/page_settle.py [--roles admin commander chief worker leader] [--runs 3]
        [--warmup 1] [--url http://127.0.0.1:8501] [--json out.json] [--small]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROLES = ("admin", "commander", "chief", "worker", "leader")
SMALL_PAGES = ("hierarchy", "command", "kpi")
TICK = "tick -> panel"


@contextmanager
def serve(url: str | None) -> Iterator[str]:
    """``url`` as it is, or a fresh server on a copy of the seeded demo store (seeded here first when
    there is none, as in a fresh clone)."""
    if url:
        yield url.rstrip("/")
        return
    from core.settings import load_settings
    from tests.browser.helpers import app_server, store_copy

    database_url = load_settings().database_url
    source = Path(database_url.removeprefix("sqlite:///")) if database_url.startswith("sqlite:///") else None
    with tempfile.TemporaryDirectory(prefix="gc-settle-") as tmp:
        if source is not None and not source.exists():  # a fresh clone: what `make seed` would make
            print(f"no demo store at {source}: seeding one for this run (python -m cases seed-demo)", flush=True)
            database_url = f"sqlite:///{Path(tmp) / 'seeded.db'}"
            subprocess.run([sys.executable, "-m", "cases", "seed-demo"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, "DATABASE_URL": database_url})
        with app_server(store_copy(database_url, tmp), log=Path(tmp) / "server.log") as served:
            yield served


def _nav_links(page) -> list[tuple[str, str]]:
    """(URL path, title) of the navigation's links, in menu order."""
    links = page.locator("[data-testid='stSidebarNav'] a")
    out = []
    for index in range(links.count()):
        link = links.nth(index)
        path = urlparse(link.get_attribute("href") or "").path.strip("/") or "hierarchy"
        out.append((path, link.locator("span").last.inner_text().strip()))
    return out


def _navigate(page, title: str) -> float:
    from tests.browser.helpers import go_to_page, now_ms, wait_for_settle, watch_mutations

    _, runs, _ = watch_mutations(page)
    since = now_ms()
    go_to_page(page, title)
    return wait_for_settle(page, since, runs_before=runs)


def _tick(page, row: int) -> float | None:
    """Seconds from ticking row ``row`` of the case list to its case in the panel (None: no list)."""
    import re

    from tests.browser.helpers import now_ms, tick_grid_row, wait_for_settle

    listing = page.locator("[data-testid='stDataFrame']").filter(has=page.locator("th", has_text="#"))
    if not listing.count() or listing.first.locator("table[role='grid'] td").count() == 0:
        return None
    cells, clicked = tick_grid_row(page, listing.first, row)
    header = re.compile(rf"^#{re.escape(cells[0])} · ")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        texts = page.locator("[data-testid='stMarkdownContainer'] strong").all_inner_texts()
        if any(header.match(text.strip()) for text in texts):
            seconds = (now_ms() - clicked) / 1000
            wait_for_settle(page, now_ms())
            return seconds
        page.wait_for_timeout(20)
    shot = Path(tempfile.gettempdir()) / f"page_settle_lost_tick_{cells[0]}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"lost tick: case #{cells[0]} (row {row}) not in the panel 15 s after the click; see {shot}",
          file=sys.stderr)
    return float("inf")


def measure_role(browser, url: str, role: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """Settle seconds per page title (and per tick) over the timed runs of one role."""
    from tests.browser.helpers import open_dashboard, switch_language, track_server_messages

    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    track_server_messages(page)
    times: dict[str, list[float]] = {}
    try:
        open_dashboard(page, url, account=role)
        switch_language(page, args.language)
        links = [(p, t) for p, t in _nav_links(page) if not args.small or p in SMALL_PAGES]
        order = links[1:] + links[:1]
        for run in range(args.warmup + args.runs):
            timed = run >= args.warmup
            for path, title in order:
                seconds = _navigate(page, title)
                if timed:
                    times.setdefault(title, []).append(seconds)
                if path == "command":
                    tick = _tick(page, run % 4)
                    if timed and tick is not None:
                        times.setdefault(TICK, []).append(tick)
    finally:
        context.close()
    return times


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def table(results: list[dict]) -> str:
    lines = [f"{'role':10} {'page':24} {'runs':>4} {'min s':>7} {'median s':>9} {'max s':>7}"]
    for row in results:
        lines.append(f"{row['role']:10} {_pad(row['page'], 24)} {len(row['seconds']):>4} {row['min']:>7.2f} "
                     f"{row['median']:>9.2f} {row['max']:>7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", nargs="+", choices=ROLES, default=list(ROLES))
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the pages")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes first")
    parser.add_argument("--language", choices=("zh", "en"), default="zh")
    parser.add_argument("--url", help="a running server (default: start one on a copy of the demo store)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--small", action="store_true",
                        help="CI: commander, hierarchy/command/KPI pages, one run, no warm-up")
    args = parser.parse_args(argv)
    if args.small:
        args.roles, args.runs, args.warmup = ["commander"], 1, 0
    from playwright.sync_api import sync_playwright

    from tests.system import CHROMIUM, CHROMIUM_ARGS

    started = time.perf_counter()
    results = []
    with serve(args.url) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        for role in args.roles:
            for page_name, seconds in measure_role(browser, url, role, args).items():
                results.append({"role": role, "page": page_name, "seconds": [round(s, 3) for s in seconds],
                                "min": min(seconds), "median": statistics.median(seconds), "max": max(seconds)})
        browser.close()
    print(table(results))
    print(f"({args.runs} timed run(s) after {args.warmup} warm-up; language {args.language}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {time.perf_counter() - started:.0f} s "
          "in all)")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
