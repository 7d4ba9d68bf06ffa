"""An operator's first minutes with issue 14, in headless Chromium, on a server of this module's
own (a copy of the store `make run` seeded, so what the tests read stays put):

- the command map's case list: ticking a row opens that case in the panel within 2 s of the
  click (not at the next timed refresh); "overdue only" lists exactly the overdue cases of the
  store (computed here from the ORM rows with ``cases.deadlines.pending_deadline``), most overdue
  first, and "due within 24 h" exactly those due in the next 24 hours;
- the KPI page: every grid's rank as ``python -m cases kpi --json`` gives it, ties shown as
  "=N" for groups equal on score and the three tie-breakers, grade words 优/良/差 in coloured
  cells, no emoji;
- the demo worker on a 390x844 phone: the command map's legend folded and the map on the
  worker's own grid; the 工作通 page's "我的网格" tab opens its map on that grid too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, load_settings
from tests.browser.helpers import (
    app_server,
    go_to_page,
    grid_headers,
    grid_rows,
    now_ms,
    open_dashboard,
    pick_option,
    store_copy,
    tick_grid_row,
    track_server_messages,
    wait_for_frame_with,
    wait_for_settle,
    watch_mutations,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP_TITLE = "指挥地图"
KPI_TITLE = "考核指标"
#: The case panel's header: "**#<id> · <category> · <state>**".
PANEL_HEADER = re.compile(r"^#(\d+) · (.+) · (.+)$")
#: Most seconds from ticking a row to the case in the panel (issue 14).
TICK_TO_PANEL_S = 2.0
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]")


def _clean(rec) -> list[str]:
    """The console errors, once no request has left the machine."""
    assert rec.outside_hosts() == set(), rec.outside_hosts()
    return rec.errors


@pytest.fixture(scope="module")
def server(dashboard_url, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, store URL) of a dashboard on a copy of the seeded store. Depends on
    ``dashboard_url`` only so that `make run` has set up assets, demo and store first."""
    store_url = store_copy(load_settings().database_url, tmp_path_factory.mktemp("first-minutes"))
    with app_server(store_url, log=PROJECT_ROOT / "test-artifacts" / "first-minutes-server.log") as url:
        yield url, store_url


def _open(page, url: str, title: str, *, account: str = "commander") -> None:
    track_server_messages(page)
    open_dashboard(page, url, account=account)
    since = now_ms()
    _, runs, _ = watch_mutations(page)
    go_to_page(page, title)
    wait_for_settle(page, since, runs_before=runs)


def _case_list(page):
    return page.locator("[data-testid='stDataFrame']").filter(
        has=page.locator("th", has_text="剩余/超期")).first


def _panel_header(page) -> str | None:
    texts = page.locator("[data-testid='stMarkdownContainer'] strong").all_inner_texts()
    return next((text.strip() for text in texts if PANEL_HEADER.match(text.strip())), None)


def _tick_and_time(page, index: int) -> tuple[list[str], float, str]:
    """Tick row ``index`` of the case list; (the row's cells, seconds from the click until the
    panel shows that case, the panel header)."""
    row, clicked = tick_grid_row(page, _case_list(page), index)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        header = _panel_header(page)
        if header and PANEL_HEADER.match(header).group(1) == row[0]:
            return row, (now_ms() - clicked) / 1000, header
        page.wait_for_timeout(20)
    raise AssertionError(f"case #{row[0]} never opened in the panel (header {_panel_header(page)!r})")


def test_ticking_a_row_opens_its_case_at_once(server, recorded_page, artifacts_dir) -> None:
    url, _ = server
    page, rec = recorded_page
    _open(page, url, MAP_TITLE)
    headers = grid_headers(_case_list(page))
    assert headers[:5] == ["#", "类别", "状态", "当前时限", "剩余/超期"], headers
    timings = {}
    for index in (1, 4, 0, 7):
        row, seconds, header = _tick_and_time(page, index)
        assert header == f"#{row[0]} · {row[1]} · {row[2]}", (header, row)
        timings[row[0]] = round(seconds, 2)
        wait_for_settle(page, now_ms())
    page.screenshot(path=str(artifacts_dir / "first_minutes_tick.png"), full_page=True)
    print(f"tick -> panel seconds: {timings}")
    # on the click, not at the timed refresh (30 s) ...
    assert max(timings.values()) < 10, f"a ticked row waited for the timed refresh: {timings}"
    # ... and within the budget: the median tick (one slow tick on a busy machine is tolerated)
    median = sorted(timings.values())[len(timings) // 2]
    assert median <= TICK_TO_PANEL_S, f"ticked rows opened in the panel after more than {TICK_TO_PANEL_S} s: {timings}"
    assert _clean(rec) == [], rec.errors


# --- the deadline filter against the store -------------------------------------------------------


def _pending(store_url: str) -> dict[int, datetime]:
    """Pending deadline of every case that has one, read from the ORM rows (no query API)."""
    from cases.deadlines import pending_deadline
    from store.db import make_engine
    from store.models import Case

    engine = make_engine(store_url)
    with Session(engine) as session:
        due = {case.id: pending[1] for case in session.scalars(select(Case))
               if (pending := pending_deadline(case)) is not None}
    engine.dispose()
    return due


def _listed(page) -> tuple[int, list[list[str]]]:
    caption = page.get_by_text(re.compile(r"^共 \d+ 件，按时限排序")).first.inner_text()
    count = int(re.match(r"共 (\d+) 件", caption).group(1))
    listing = _case_list(page)
    rows = grid_rows(page, listing) if listing.count() else []
    assert "仅显示前" not in caption or count > 500, caption
    return count, rows


def _check_listed(rows: list[list[str]], count: int, pending: dict[int, datetime], want, before: datetime,
                  after: datetime) -> None:
    """The listed ids are the cases ``want(hours_left)`` picks, at any time between ``before``
    and ``after`` (a case may cross a boundary meanwhile), in deadline order."""
    ids = [int(row[0]) for row in rows]
    assert len(ids) == len(set(ids)) == count
    hours = {cid: ((due - before).total_seconds() / 3600, (due - after).total_seconds() / 3600)
             for cid, due in pending.items()}
    surely = {cid for cid, (h0, h1) in hours.items() if want(h0) and want(h1)}
    maybe = {cid for cid, (h0, h1) in hours.items() if want(h0) or want(h1)}
    assert surely <= set(ids), f"missing from the list: {sorted(surely - set(ids))}"
    assert set(ids) <= maybe, f"listed but not matching the filter: {sorted(set(ids) - maybe)}"
    dues = [pending[cid] for cid in ids]
    assert dues == sorted(dues), "the list is not ordered by pending deadline, nearest (most overdue) first"


def test_overdue_only_lists_exactly_the_overdue_cases(server, recorded_page, artifacts_dir) -> None:
    from core import clock

    url, store_url = server
    page, rec = recorded_page
    _open(page, url, MAP_TITLE)
    pick_option(page, "时间范围", "全部")
    before = clock.now() - timedelta(seconds=5)
    pick_option(page, "时限筛选", "仅看已超期")
    count, rows = _listed(page)
    after = clock.now()
    pending = _pending(store_url)
    assert count > 0, "the demo store has overdue cases; the list shows none"
    _check_listed(rows, count, pending, lambda h: h < 0, before, after)
    assert all(row[4].startswith("已超期") for row in rows), [row[4] for row in rows if not row[4].startswith("已超期")]
    page.screenshot(path=str(artifacts_dir / "first_minutes_overdue.png"), full_page=True)

    before = clock.now() - timedelta(seconds=5)
    pick_option(page, "时限筛选", "24小时内到期")
    count, rows = _listed(page)
    _check_listed(rows, count, _pending(store_url), lambda h: 0 <= h <= 24, before, clock.now())
    assert all(row[4].startswith("剩余") for row in rows), [row[4] for row in rows]
    assert _clean(rec) == [], rec.errors


# --- the KPI ranking against the command line ------------------------------------------------------

GRADE_WORDS = {"green": "优", "yellow": "良", "red": "差"}
#: Cell backgrounds of the grades (views._grades.CELL_STYLE), as canvas pixels.
GRADE_RGB = {"green": (0xd3, 0xf0, 0xd8), "yellow": (0xfd, 0xf0, 0xc2), "red": (0xfb, 0xd5, 0xd5)}
LEADING = ("score", "on_time_rate", "satisfaction_rate", "rework_rate")
_RUNS_JS = """(canvas, y) => {
  const d = canvas.getContext('2d').getImageData(0, y, canvas.width, 1).data;
  const runs = []; let cur = null;
  for (let x = 0; x < canvas.width; x++) {
    const c = [d[4 * x], d[4 * x + 1], d[4 * x + 2]];
    if (cur && c.every((v, i) => v === cur[0][i])) { cur[2] = x; } else { cur = [c, x, x]; runs.push(cur); }
  }
  return runs.filter(r => r[2] - r[1] >= 20).map(r => r[0]);
}"""


def _cli_kpi(store_url: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "cases", "kpi", "--json"], cwd=PROJECT_ROOT, check=True,
                         capture_output=True, text=True, env={**os.environ, "DATABASE_URL": store_url}, timeout=300)
    return json.loads(out.stdout)["rows"]


def _expected_rank(rows: list[dict]) -> dict[str, str]:
    """Rank text per code from the rates alone: 1 + the groups strictly better on (score,
    on-time closure, satisfaction, rework), "=N" when another group is equal on all four."""
    def key(row: dict) -> tuple:
        signed = [(row.get(k), -1 if k != "rework_rate" else 1) for k in LEADING]
        return tuple(float("inf") if v is None else s * v for v, s in signed)

    keys = {str(row["code"]): key(row) for row in rows}
    expected = {}
    for code, mine in keys.items():
        if rows[[str(r["code"]) for r in rows].index(code)].get("score") is None:
            expected[code] = "—"
            continue
        better = sum(other < mine for other in keys.values())
        tied = sum(other == mine for other in keys.values()) > 1
        expected[code] = f"={better + 1}" if tied else str(better + 1)
    return expected


def test_kpi_ranks_and_ties_match_the_command_line(server, recorded_page, artifacts_dir) -> None:
    from geo import read_hierarchy

    url, store_url = server
    page, rec = recorded_page
    _open(page, url, KPI_TITLE, account="leader")
    pick_option(page, "时间范围", "全部", where="[data-testid='stMain']")
    cli = _cli_kpi(store_url)
    grids = read_hierarchy(load_settings().hierarchy_path)["grids"]
    code_of = dict(zip(grids["name"].astype(str), grids["code"].astype(str), strict=True))
    ranking = page.locator("[data-testid='stDataFrame']").first
    assert grid_headers(ranking) == ["排名", "名称", "综合得分", "按期结案率", "满意率", "返工率"]
    rows = grid_rows(page, ranking)
    shown = {code_of.get(row[1], row[1]): row[0] for row in rows}
    assert shown == {str(r["code"]): _expected_rank(cli)[str(r["code"])] for r in cli}
    assert [code_of.get(row[1], row[1]) for row in rows] == [str(r["code"]) for r in cli], "order differs from the CLI"
    ties = {text for text in shown.values() if text.startswith("=") and text != "=1"}
    assert ties, "the demo has tied grids below the top (e.g. =69); the page shows none"
    for row, mine in zip(rows, cli, strict=True):
        for cell, key in zip(row[2:], LEADING, strict=True):
            word = GRADE_WORDS.get(mine.get(f"grade_{key}"), "")
            assert cell.endswith(word) if word else cell[-1] not in "优良差", (row, key, mine.get(f"grade_{key}"))
    _check_grade_colours(page, ranking, cli)
    text = page.evaluate("() => document.body.innerText") + "".join("".join(row) for row in rows)
    assert not EMOJI.findall(text), EMOJI.findall(text)
    page.screenshot(path=str(artifacts_dir / "first_minutes_kpi.png"), full_page=True)
    assert _clean(rec) == [], rec.errors


def _check_grade_colours(page, ranking, cli: list[dict], *, rows_in_view: int = 8) -> None:
    """The graded cells of the first rows are painted in their grade's colour, left to right."""
    ranking.scroll_into_view_if_needed()
    canvas = ranking.locator("canvas").first
    ratio = page.evaluate("() => window.devicePixelRatio")
    for index in range(min(rows_in_view, len(cli))):
        y = int((35 + index * 35 + 3) * ratio)
        painted = [tuple(c) for c in canvas.evaluate(_RUNS_JS, y)]
        graded = [GRADE_RGB[g] for g in (cli[index].get(f"grade_{k}") for k in LEADING) if g in GRADE_RGB]
        assert [c for c in painted if c in GRADE_RGB.values()] == graded, (index, painted, graded)


# --- the worker's map on a phone ------------------------------------------------------------------------


@pytest.fixture()
def phone_page(chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    track_server_messages(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    yield page, errors
    context.close()


def _sign_in_on_phone(page, url: str, account: str) -> None:
    from demo.people import DEMO_ACCOUNTS

    demo = next(a for a in DEMO_ACCOUNTS if a.username == account)
    page.goto(url)
    page.locator("input[type='password']").wait_for(timeout=90_000)
    page.locator("input[type='text']").first.fill(demo.username)
    page.locator("input[type='password']").first.fill(demo.password)
    page.locator("input[type='password']").first.press("Enter")
    page.locator("input[type='password']").wait_for(state="detached", timeout=90_000)
    wait_for_settle(page, now_ms())


def _own_grid(store_url: str, account: str):
    """The account's grid outline (EPSG:4326) and the district's bounds."""
    from access import accounts
    from geo import read_hierarchy
    from store.db import make_engine

    engine = make_engine(store_url)
    with Session(engine) as session:
        code = accounts.get_user(session, account).area_codes.split(",")[0]
    engine.dispose()
    grids = read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4326")
    return grids.loc[grids["code"].astype(str) == code].geometry.iloc[0], grids.total_bounds


_VIEW_JS = "() => { const b = window.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"


def _assert_on_own_grid(view: list[float], grid, district) -> None:
    west, south, east, north = view
    gw, gs, ge, gn = grid.bounds
    inside = west <= gw and south <= gs and east >= ge and north >= gn
    assert inside, f"the grid {tuple(grid.bounds)} is not all in view {view}"
    dw, ds, de, dn = district
    assert not (west <= dw and south <= ds and east >= de and north >= dn), f"the view {view} shows the whole district"


def test_worker_command_map_on_a_phone(server, phone_page, artifacts_dir) -> None:
    url, store_url = server
    page, errors = phone_page
    _sign_in_on_phone(page, url, "worker")
    since = now_ms()
    page.goto(f"{url}/command")
    frame = wait_for_frame_with(page, ".gc-legend details")
    wait_for_settle(page, since)
    assert frame.evaluate("() => window.map.getSize().x") < 400
    assert frame.locator(".gc-legend details").count() == 1
    assert frame.locator(".gc-legend details[open]").count() == 0, "the legend is unfolded on a phone-width map"
    grid, district = _own_grid(store_url, "worker")
    _assert_on_own_grid(frame.evaluate(_VIEW_JS), grid, district)
    page.screenshot(path=str(artifacts_dir / "first_minutes_worker_phone_map.png"), full_page=True)
    assert errors == [], errors


def test_worker_field_map_opens_on_own_grid(server, phone_page, artifacts_dir) -> None:
    url, store_url = server
    page, errors = phone_page
    _sign_in_on_phone(page, url, "worker")
    since = now_ms()
    page.goto(f"{url}/field")
    wait_for_settle(page, since)
    since = now_ms()
    page.get_by_role("tab", name="我的网格").click()
    wait_for_settle(page, since)
    frame = wait_for_frame_with(page, ".leaflet-container")
    page.wait_for_timeout(500)
    grid, district = _own_grid(store_url, "worker")
    view = frame.evaluate(_VIEW_JS)
    page.screenshot(path=str(artifacts_dir / "first_minutes_worker_phone_field_map.png"), full_page=True)
    _assert_on_own_grid(view, grid, district)
    assert errors == [], errors
