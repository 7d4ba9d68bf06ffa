"""Browser-test helpers: a dashboard server of a test's own on a copy of the store, waits for the
folium map inside streamlit-folium's iframe, sign-in and navigation in the dashboard, idle and
condition waits; settling (no run, no DOM change for a while, in every frame), reading and ticking
``st.dataframe`` rows through Glide's accessible table, picking options, the language switch."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests import system

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: A phone's viewport (CSS pixels) for ``new_page(viewport=PHONE)``.
PHONE = {"width": 390, "height": 844}


def settings_refreshing_every(folder, seconds: int) -> Path:
    """A copy of the project's settings file in ``folder`` with ``refresh_seconds`` set to
    ``seconds`` (other keys kept); for ``GRIDCOMMAND_CONFIG``."""
    from core.settings import config_path

    source = config_path()
    text = source.read_text(encoding="utf-8") if source.exists() else ""
    line = f"refresh_seconds = {seconds}"
    if re.search(r"(?m)^\s*refresh_seconds\s*=", text):
        text = re.sub(r"(?m)^\s*refresh_seconds\s*=.*$", line, text)
    else:
        text = f"{line}\n{text}"  # top level: before any [table]
    path = Path(folder) / f"gridcommand-refresh-{seconds}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def store_copy(url: str, folder, *, name: str = "store-copy.db") -> str:
    """A consistent copy of a SQLite store in ``folder`` (sqlite3 backup API) and its URL; other
    databases are returned as they are."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return url
    target = Path(folder) / name
    with sqlite3.connect(parsed.database) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@contextmanager
def app_server(database_url: str, *, log, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run dashboard.py`` on ``database_url`` (a free port on 127.0.0.1, output to
    the file ``log``, no escalation job: the store changes only through the test); yield its base
    URL, stop its process group afterwards."""
    port = system.free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url, **(extra_env or {})}
    env.pop("GRIDCOMMAND_JOBS", None)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            system.wait_for_http(f"{url}/_stcore/health", timeout_s=120)
            yield url
        finally:
            system.stop_group(proc)


def wait_for_frame_with(page, selector: str, *, timeout_s: float = 90.0, minimum: int = 1):
    """The first frame of ``page`` holding at least ``minimum`` elements matching ``selector``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.locator(selector).count() >= minimum:
                    return frame
            except Exception:
                continue
        page.wait_for_timeout(250)
    msg = f"no frame with {minimum}+ elements matching {selector!r} within {timeout_s:.0f} s"
    raise AssertionError(msg)


def settle(page, frame, selector: str, *, timeout_s: float = 30.0) -> int:
    """Wait until the count of ``selector`` in ``frame`` stops changing; return it."""
    deadline = time.monotonic() + timeout_s
    last, stable = -1, 0
    while time.monotonic() < deadline:
        count = frame.locator(selector).count()
        stable = stable + 1 if count == last else 0
        if stable >= 4:
            return count
        last = count
        page.wait_for_timeout(250)
    return frame.locator(selector).count()


def open_dashboard(page, url: str, *, account: str = "commander", timeout_s: float = 90.0,
                   phone: bool = False) -> None:
    """Open the dashboard at ``url`` and, when the sign-in gate asks, sign in with the public
    demo account ``account`` (``demo.people.DEMO_ACCOUNTS``). ``phone``: ``page`` is sized for a
    phone (:data:`PHONE`), where the sidebar starts collapsed: its menu is there but hidden, so it
    is waited for as attached, not as visible."""
    shown = "attached" if phone else "visible"
    page.goto(url)
    page.locator("[data-testid='stSidebarNav'], input[type='password']").first.wait_for(
        state=shown, timeout=timeout_s * 1000)
    wait_for_idle(page, timeout_s=timeout_s)  # a fresh server's first run may still change the page
    if page.locator("input[type='password']").count():
        from demo.people import DEMO_ACCOUNTS

        demo = next(a for a in DEMO_ACCOUNTS if a.username == account)
        page.locator("input[type='text']").first.fill(demo.username)
        page.locator("input[type='password']").first.fill(demo.password)
        page.locator("input[type='password']").first.press("Enter")
        page.locator("input[type='password']").wait_for(state="detached", timeout=timeout_s * 1000)
    page.locator("[data-testid='stSidebarNav']").wait_for(state=shown, timeout=timeout_s * 1000)
    wait_for_idle(page, timeout_s=timeout_s)


def go_to_page(page, title: str) -> None:
    """Click the sidebar link of the page titled ``title``."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()


def go_to_page_on_phone(page, title: str) -> None:
    """On a phone-sized page (the sidebar collapsed): open the sidebar, click the page titled
    ``title``, wait for its heading and fold the sidebar away again."""
    page.locator("[data-testid='stExpandSidebarButton']").click()
    go_to_page(page, title)
    page.get_by_role("heading", name=title).wait_for(timeout=60_000)
    collapse = page.locator("[data-testid='stSidebarCollapseButton'] button")
    if collapse.is_visible():
        collapse.click()
    page.locator("[data-testid='stExpandSidebarButton']").wait_for()
    wait_for_idle(page)


def wait_for_idle(page, *, timeout_s: float = 60.0) -> None:
    """Wait until Streamlit has finished running the script (no running indicator for 1 s)."""
    deadline = time.monotonic() + timeout_s
    page.wait_for_timeout(300)
    quiet = 0
    while time.monotonic() < deadline:
        running = page.locator("[data-testid='stStatusWidget']").count()
        quiet = 0 if running else quiet + 1
        if quiet >= 4:
            return
        page.wait_for_timeout(250)


def wait_until(page, predicate, *, timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until it is true (the page's events go on between polls)."""
    system.poll_until(predicate, timeout_s=timeout_s, what=what, pause=lambda: page.wait_for_timeout(250))


# --- settling: no script running and no DOM change for a while, in the app and its frames --------

#: Installs (once per document) a MutationObserver that keeps the time of the last DOM change
#: (``Date.now()``, the same clock in every frame) and counts the script runs that ended (Streamlit's
#: ``data-test-script-state`` on ``stApp``) plus the server's messages (:func:`track_server_messages`);
#: returns ``[last change ms, runs ended + messages, script state]``.
_MUTATIONS_JS = """
() => {
  if (!document.__gcSettle) {
    const app = document.querySelector("[data-testid='stApp']");
    const box = {last: Date.now(), runs: 0, state: app ? app.getAttribute('data-test-script-state') : null};
    document.__gcSettle = box;
    new MutationObserver(records => {
      box.last = Date.now();
      for (const r of records) {
        if (r.attributeName === 'data-test-script-state') {
          box.state = r.target.getAttribute('data-test-script-state');
          if (r.oldValue === 'running') { box.runs += 1; }  // a run ended (it may start and end in one batch)
        }
      }
    }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                          attributeOldValue: true});
  }
  const box = document.__gcSettle;
  return [box.last, box.runs + ((window.__gcWs && window.__gcWs.n) || 0), box.state];
}
"""
#: Counts the messages the server sends over Streamlit's websocket (``window.__gcWs.n``): a run
#: too quick to show as "running" in the DOM still sends its deltas.
_SERVER_MESSAGES_JS = """
(() => {
  if (window.__gcWs || !window.WebSocket) { return; }
  window.__gcWs = {n: 0};
  const Original = window.WebSocket;
  function Counted(...args) {
    const socket = new Original(...args);
    socket.addEventListener('message', () => { window.__gcWs.n += 1; });
    return socket;
  }
  Counted.prototype = Original.prototype;
  Object.assign(Counted, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Counted;
})();
"""


def track_server_messages(page) -> None:
    """Count what the server sends to ``page`` (call before the page opens the dashboard), so that
    :func:`wait_for_settle` with ``runs_before`` also sees script runs too quick to show."""
    page.add_init_script(_SERVER_MESSAGES_JS)


def watch_mutations(page) -> tuple[float, int, bool]:
    """Watch every frame of ``page`` for DOM changes (an observer is installed in each document
    that has none yet; installing counts as a change). Returns the latest change over all frames
    (``Date.now()`` ms), a count of server activity (script runs the app document saw end, plus
    the server's messages when :func:`track_server_messages` is on) and whether a script runs."""
    last, runs, running = 0.0, 0, False
    for frame in page.frames:
        try:
            changed, frame_runs, state = frame.evaluate(_MUTATIONS_JS)
        except Exception:  # a frame going away mid-call
            continue
        last = max(last, float(changed))
        if frame == page.main_frame:
            runs, running = int(frame_runs), state in ("running", "rerunRequested")
    running = running or page.locator("[data-testid='stStatusWidget']").count() > 0
    return last, runs, running


def now_ms() -> float:
    """Wall-clock milliseconds, comparable with the pages' ``Date.now()`` (same machine)."""
    return time.time() * 1000


def wait_for_settle(page, since_ms: float, *, quiet_s: float = 1.0, timeout_s: float = 90.0,
                    runs_before: int | None = None) -> float:
    """Wait until no script runs (``stStatusWidget`` absent, ``stApp`` not running) and no DOM
    change happened for ``quiet_s`` in the page and its frames; return the seconds from
    ``since_ms`` (:func:`now_ms`) to the last change (the quiet time is not counted).

    ``runs_before`` (the activity count :func:`watch_mutations` gave before the action) makes the
    wait also require server activity after the action (a run ended, or with
    :func:`track_server_messages` a message arrived)."""
    deadline = time.monotonic() + timeout_s
    busy_until = since_ms
    while time.monotonic() < deadline:
        last, runs, running = watch_mutations(page)
        now = now_ms()
        if running:
            busy_until = now
        settled_at = max(last, busy_until, since_ms)
        ran = runs_before is None or runs > runs_before
        if ran and not running and now - settled_at >= quiet_s * 1000:
            return (settled_at - since_ms) / 1000
        page.wait_for_timeout(100)
    msg = f"the page did not settle within {timeout_s:.0f} s (DOM changes or a script run kept going)"
    raise AssertionError(msg)


# --- st.dataframe: Glide's grid draws on a canvas; its accessible table holds the visible rows ----

_GRID_ROWS_JS = """
(el) => Array.from(el.querySelectorAll("table[role='grid'] tbody tr[aria-rowindex]")).map(
  tr => [Number(tr.getAttribute('aria-rowindex')), Array.from(tr.querySelectorAll('td')).map(td => td.innerText)])
"""


def grid_headers(dataframe) -> list[str]:
    """The column headers of a ``st.dataframe`` (``[data-testid=stDataFrame]`` locator)."""
    return dataframe.locator("table[role='grid'] th[role='columnheader']").all_inner_texts()


def grid_rows(page, dataframe, *, timeout_s: float = 30.0) -> list[list[str]]:
    """Every row of a ``st.dataframe`` as cell texts, in order: the grid is scrolled from top to
    bottom and its accessible table (only the rows in view, updated a moment after a scroll)
    read at each step."""
    total = int(dataframe.locator("table[role='grid']").get_attribute("aria-rowcount")) - 1
    scroller = dataframe.locator(".dvn-scroller")
    height, full = scroller.evaluate("(el) => [el.clientHeight, el.scrollHeight]")
    row_px = full / (total + 1)  # the header row is as high as a data row
    step = max(row_px, height - 2 * row_px)
    rows: dict[int, list[str]] = {}
    top, previous = 0.0, -1.0
    deadline = time.monotonic() + timeout_s
    while len(rows) < total and time.monotonic() < deadline:
        top = scroller.evaluate("(el, top) => { el.scrollTop = top; return el.scrollTop; }", top)
        first = int(top // row_px) + 2  # aria-rowindex of the first row in view
        seen, step_deadline = [], time.monotonic() + 3
        while time.monotonic() < step_deadline:
            seen = dataframe.evaluate(_GRID_ROWS_JS)
            if seen and (abs(seen[0][0] - first) <= 1 or seen[-1][0] == total + 1):
                break
            page.wait_for_timeout(50)
        for index, cells in seen:
            rows[index - 2] = cells
        if top == previous:  # at the bottom
            break
        previous, top = top, top + step
    scroller.evaluate("(el) => { el.scrollTop = 0; }")
    missing = [i for i in range(total) if i not in rows]
    assert not missing, f"rows {missing[:10]} of the grid never came into view"
    return [rows[i] for i in range(total)]


def tick_grid_row(page, dataframe, index: int) -> tuple[list[str], float]:
    """Tick the selection box of row ``index`` of a ``st.dataframe`` (scrolled into view first);
    return the row's cells as the accessible table shows them and the time of the click
    (:func:`now_ms`)."""
    dataframe.scroll_into_view_if_needed()
    scroller = dataframe.locator(".dvn-scroller")
    total = int(dataframe.locator("table[role='grid']").get_attribute("aria-rowcount"))
    row_px, height = scroller.evaluate("(el) => [el.scrollHeight, el.clientHeight]")
    row_px /= total
    in_view = index < (height - row_px) // row_px - 1  # rows that show unscrolled are not scrolled to
    wanted = 0 if in_view else index * row_px
    top = scroller.evaluate("(el, top) => { el.scrollTop = top; return el.scrollTop; }", wanted)
    page.wait_for_timeout(100)
    cells = dataframe.locator(f"table[role='grid'] tr[aria-rowindex='{index + 2}'] td")
    cells.first.wait_for(state="attached", timeout=10_000)
    texts = cells.all_inner_texts()
    box = scroller.bounding_box()
    clicked = now_ms()
    page.mouse.click(box["x"] + 15, box["y"] + row_px + index * row_px - top + row_px / 2)
    return texts, clicked


# --- widgets -------------------------------------------------------------------------------------------


def pick_option(page, label: str, option: str, *, where: str = "[data-testid='stSidebar']") -> float:
    """Choose ``option`` in the selectbox labelled ``label`` (inside ``where``); wait until the page
    settles and return the settle time in seconds (:func:`wait_for_settle`). A live refresh may
    redraw the box while its list is open: the list is opened again until the pick takes."""
    box = page.locator(f"{where} [data-testid='stSelectbox']").filter(has_text=label).first
    target = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.locator("input").focus()  # a click on the box may land on its label and leave the list shut
        page.keyboard.press("ArrowDown")
        try:
            target.wait_for(state="visible", timeout=8_000)
            since = now_ms()
            _, runs, _ = watch_mutations(page)
            target.click(timeout=8_000)
        except Exception:  # the list closed under us (a redraw): open it again
            page.keyboard.press("Escape")
            page.wait_for_timeout(300)
            continue
        return wait_for_settle(page, since, runs_before=runs)
    raise AssertionError(f"could not pick {option!r} in the selectbox {label!r}")


def switch_language(page, language: str) -> None:
    """Pick the UI language (``zh`` or ``en``) in the sidebar's language switch (key ``lang``)."""
    label = {"zh": "中文", "en": "English"}[language]
    option = page.locator(".st-key-lang label", has_text=label).first
    if option.locator("input").is_checked():
        return
    since = now_ms()
    _, runs, _ = watch_mutations(page)
    option.click()
    wait_for_settle(page, since, runs_before=runs)
