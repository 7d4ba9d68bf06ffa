"""Every visible string is in the chosen language: a walk through the dashboard in headless
Chromium, on a server of this module's own (a copy of the store `make run` seeded).

Each demo role (and the anonymous sign-in page) visits every page its navigation offers, in
Chinese and then in English (the sidebar's language switch); on each page, once settled, its
expanders are opened, its tabs visited, wide tables scrolled right, and on the command map a case
is ticked so that the case panel shows. What is read: the visible text (text nodes whose element
is rendered and not a 1-pixel screen-reader box; Material icon ligatures are icons, not words);
the values and placeholders of inputs (a selectbox shows its value in an ``<input>``); the column
headers and the cells in view of every ``st.dataframe`` (its accessible table); in the map
frames, the legend and the layer control (their text even when folded).

Data is what people or imported files put in the store or the hierarchy: case texts, addresses,
reasons, names (and their masked forms), display names, departments, visit outcomes, area and
facility names, ids and codes (``WG0001`` is no word). Text the app composes is UI, even when
stored (event notes such as "to worker WG0055", "sent back by …"). Allowed: "Leaflet", "Excel",
"km", acronyms in capitals (CSV, GPS); the language switch shows both languages by design.

Offending: in Chinese mode a Latin word (2+ letters; ``sign_in`` has two) that is not data; in
English mode Han characters or full-width punctuation that are not data; an error box. Probes in
Chinese mode look at Streamlit's own texts that show on interaction. The offending strings are
printed and written to test-artifacts/language-walk-<role>.txt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, load_settings
from tests.browser.helpers import (
    app_server,
    now_ms,
    open_dashboard,
    pick_option,
    store_copy,
    switch_language,
    tick_grid_row,
    track_server_messages,
    wait_for_settle,
    watch_mutations,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLES = ("anonymous", "admin", "commander", "chief", "worker", "leader")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")
HAN_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60]+")
WRONG = {"zh": LATIN_WORD, "en": HAN_RUN}
#: Product names and the unit "km"; acronyms in capitals (CSV, PDF, GPS) are allowed in Chinese text too.
ALLOWED = frozenset({"Leaflet", "Excel", "km"})
#: Free text people or imported files put in the store: (table, column, is a person's name).
DATA_COLUMNS = (("cases", "text", False), ("cases", "address", False), ("cases", "reporter_name", True),
                ("cases", "void_reason", False), ("cases", "assignee_id", False), ("households", "head_name", True),
                ("team_members", "name", True), ("workers", "name", True), ("users", "display_name", False),
                ("users", "username", False), ("departments", "name", False), ("visits", "outcome", False),
                ("person_notes", "text", False), ("audit_log", "actor", False), ("audit_log", "target_id", False),
                ("case_events", "actor", False))
#: Actors the app itself names ("system:escalation") are UI, not accounts.
APP_ACTOR = "system:"
#: Stored text the app composes around what a person typed: only its Han parts are data.
COMPOSED_COLUMNS = (("case_events", "note"), ("cases", "unrouted_reason"))


@dataclass(frozen=True)
class Offence:
    """One offending string: where it was seen, its words in the wrong language, the string."""

    role: str
    language: str
    page: str
    where: str
    words: tuple[str, ...]
    context: str

    @property
    def view(self) -> str:
        """The page without the view's detail ("派单台 (tab 退单 (8))" -> "派单台")."""
        return self.page.split(" (")[0]


def _words(value: str) -> set[str]:
    return set(LATIN_WORD.findall(value)) | set(HAN_RUN.findall(value))


def data_words(store_url: str) -> frozenset[str]:
    """Every word (Latin word or Han run) of the data: the store's free text, names and their
    masked forms (first and last character), the hierarchy's names, the facilities' names and types."""
    import pandas as pd

    from geo import read_hierarchy
    from store.db import make_engine

    words: set[str] = set()
    engine = make_engine(store_url)
    with Session(engine) as session:
        for table, column, is_name in (*DATA_COLUMNS, *((t, c, None) for t, c in COMPOSED_COLUMNS)):
            query = f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
            for value in (str(v) for (v,) in session.execute(text(query)) if not str(v).startswith(APP_ACTOR)):
                words |= set(HAN_RUN.findall(value)) if is_name is None else _words(value)
                words |= {value[0], value[-1]} if is_name and value else set()
    engine.dispose()
    settings = load_settings()
    names = [layer["name"] for layer in read_hierarchy(settings.hierarchy_path).values()]
    if (settings.demo_dir / "facilities.csv").exists():
        facilities = pd.read_csv(settings.demo_dir / "facilities.csv", encoding="utf-8-sig")
        names += [facilities.iloc[:, 0], facilities.iloc[:, 1]]  # 名称 and 类型, both from the file
    for value in pd.concat(names).dropna().astype(str):
        words |= _words(value)
    return frozenset(words)


#: A file's name (what a person imported or exported) is data, whatever its words.
FILE_NAME = re.compile(r"[\w.\-]+\.(?:csv|xlsx|xls|shp|gpkg|geojson|json|zip|gpx|pdf|pptx)\b", re.IGNORECASE)


def offending(value: str, language: str, vocabulary: frozenset[str]) -> list[str]:
    """The words of ``value`` in the wrong script for ``language`` that are not data."""
    value = FILE_NAME.sub(" ", value)
    return [w for w in WRONG[language].findall(value)
            if w not in vocabulary and w not in ALLOWED and not (language == "zh" and w.isupper())]


# --- reading a page ---------------------------------------------------------------------------------------

_COLLECT_JS = """
() => {
  const cache = new Map();
  const shown = el => {
    if (cache.has(el)) { return cache.get(el); }
    const cs = getComputedStyle(el), parent = el.parentElement;
    const up = () => !parent || parent === document.body || shown(parent);
    let ok;
    if (cs.display === 'contents') { ok = up(); }  // no box of its own: as its parent
    else if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) { ok = false; }
    else {
      const r = el.getBoundingClientRect();
      ok = !((r.width <= 1 || r.height <= 1) && (cs.overflow !== 'visible' || cs.clip !== 'auto')) && up();
    }
    cache.set(el, ok);
    return ok;
  };
  const skip = "script, style, noscript, [data-testid='stIconMaterial'], .st-key-lang, table[role='grid'], iframe,"
               + " [data-testid='stException']";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, value = n.textContent.trim();
    if (!value || !el || el.closest(skip) || !shown(el) || getComputedStyle(el).fontFamily.includes('Material')) {
      continue;
    }
    out.push(['text', value]);
  }
  for (const el of document.querySelectorAll('input, textarea')) {
    if (['password', 'radio', 'checkbox', 'hidden'].includes(el.type) || el.closest(skip) || !shown(el)) { continue; }
    out.push(['input', el.value || el.placeholder || '']);
  }
  for (const table of document.querySelectorAll("[data-testid='stDataFrame'] table[role='grid']")) {
    if (!shown(table.closest("[data-testid='stDataFrame']"))) { continue; }
    const heads = {};  // only the columns in view are in the table: by aria-colindex
    table.querySelectorAll('th').forEach(th => { heads[th.getAttribute('aria-colindex')] = th.innerText.trim(); });
    Object.values(heads).forEach(h => out.push(['column header', h]));
    for (const td of table.querySelectorAll('td')) {
      out.push(['cell ' + (heads[td.getAttribute('aria-colindex')] || ''), td.innerText.trim()]);
    }
  }
  return out;
}
"""
_MAP_JS = """() => Array.from(document.querySelectorAll('.gc-legend, .leaflet-control'))
  .map(el => [el.classList.contains('gc-legend') ? 'map legend' : 'map control', el.textContent.trim()])"""


def read_page(page) -> list[tuple[str, str]]:
    """(where, text) of everything the page shows (see the module docstring)."""
    seen = [tuple(item) for item in page.main_frame.evaluate(_COLLECT_JS)]
    for frame in page.frames[1:]:
        try:
            seen += [tuple(item) for item in frame.evaluate(_MAP_JS)]
        except Exception:  # a frame going away
            continue
    if page.locator("[data-testid='stException']").count():
        seen.append(("error box", page.locator("[data-testid='stException']").first.inner_text()[:200]))
    return seen


def judge(seen, *, role: str, language: str, page_name: str, vocabulary: frozenset[str]) -> list[Offence]:
    """An :class:`Offence` for each string of ``seen`` with words in the wrong language, and for
    an error box."""
    offences = []
    for where, value in seen:
        if where == "error box":
            offences.append(Offence(role, language, page_name, where, ("(exception)",), value))
        elif where.startswith("cell") and value in ("true", "false"):
            continue  # a boolean column: drawn as a checkbox, the words are only in the accessible table
        elif words := offending(value, language, vocabulary):
            offences.append(Offence(role, language, page_name, where, tuple(dict.fromkeys(words)), value))
    return offences


# --- the walk ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(dashboard_url, tmp_path_factory) -> Iterator[tuple[str, frozenset[str]]]:
    """(base URL, data words) of a dashboard on a copy of the seeded store. Depends on
    ``dashboard_url`` only so that `make run` has set up assets, demo and store first."""
    store_url = store_copy(load_settings().database_url, tmp_path_factory.mktemp("language-walk"))
    vocabulary = data_words(store_url)
    with app_server(store_url, log=PROJECT_ROOT / "test-artifacts" / "language-walk-server.log") as url:
        yield url, vocabulary


@contextmanager
def _fresh_page(chromium) -> Iterator:
    """A page in a browser context of its own (cookies: one account per context)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        track_server_messages(page)
        yield page
    finally:
        context.close()


_SCROLL_RIGHT_JS = """() => Array.from(document.querySelectorAll("[data-testid='stDataFrame'] .dvn-scroller"))
  .filter(el => el.scrollWidth > el.clientWidth + 2).map(el => { el.scrollLeft = el.scrollWidth; }).length"""


def _act(page, action, *, run: bool = True) -> float:
    """Do ``action`` and wait until the page settles (after a script run when ``run``)."""
    since = now_ms()
    _, runs, _ = watch_mutations(page)
    action()
    return wait_for_settle(page, since, runs_before=runs if run else None)


def _views(page, name: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The page as it opened, with its expanders open, each of its tabs, and (command map) with
    the first case of the list in the panel."""
    yield name, read_page(page)
    closed = page.locator("[data-testid='stMain'] details:not([open]) > summary")
    if closed.count():
        while closed.count():
            _act(page, closed.first.click, run=False)
        yield f"{name} (expanders open)", read_page(page)
    tabs = page.locator("[data-testid='stMain'] [role='tab']")
    for index in range(1, tabs.count()):
        _act(page, tabs.nth(index).click, run=False)
        yield f"{name} (tab {tabs.nth(index).inner_text().strip()})", read_page(page)
    case_list = page.locator("[data-testid='stDataFrame']").filter(has=page.locator("th", has_text="#"))
    if page.url.rstrip("/").endswith("/command") and case_list.count():
        _act(page, lambda: tick_grid_row(page, case_list.first, 0))
        yield f"{name} (case panel)", read_page(page)
    if page.evaluate(_SCROLL_RIGHT_JS):  # tables wider than their box: their right-hand columns too
        page.wait_for_timeout(500)
        yield f"{name} (tables scrolled right)", read_page(page)


def walk_role(page, url: str, role: str, vocabulary: frozenset[str], visited: list[str]) -> list[Offence]:
    """Every page of ``role`` in Chinese, then in English (each view named in ``visited``); the
    offences found."""
    offences: list[Offence] = []
    if role == "anonymous":
        page.goto(url)
        page.locator("input[type='password']").wait_for(timeout=90_000)
        wait_for_settle(page, now_ms())
    else:
        open_dashboard(page, url, account=role)
    for language in ("zh", "en"):
        switch_language(page, language)
        links = page.locator("[data-testid='stSidebarNav'] a")
        views = [("sign-in", read_page(page))] if role == "anonymous" else []
        for index in range(links.count()):
            title = links.nth(index).locator("span").last.inner_text().strip()
            _act(page, links.nth(index).click)
            views += list(_views(page, title))
        for name, seen in views:
            visited.append(f"{language} {name}")
            offences += judge(seen, role=role, language=language, page_name=name, vocabulary=vocabulary)
    return offences


def report(offences: list[Offence], name: str) -> str:
    """The offending strings, one a line: language, page (view), where, the words, how many
    strings of that kind and one of them; also written to test-artifacts/<name>.txt."""
    groups: dict[tuple, list[Offence]] = {}
    for offence in offences:
        key = (offence.language, offence.view, offence.where, offence.words)
        groups.setdefault(key, []).append(offence)
    lines = []
    for (language, _view, where, words), found in groups.items():
        strings = sorted({o.context for o in found})
        roles = ",".join(sorted({o.role for o in found}))
        lines.append(f"{roles} | {language} | {found[0].page} | {where} | {' '.join(words)} | x{len(strings)} | "
                     f"{strings[0][:110]!r}")
    body = "\n".join(lines) or "(none)"
    out = PROJECT_ROOT / "test-artifacts" / f"{name}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(body + "\n", encoding="utf-8")
    return body


#: Streamlit 1.67's own frontend texts that no app setting reaches (no localisation of its widgets):
#: the README lists them as a known gap. Any other English string on interaction fails the probes.
STREAMLIT_BUILT_INS = frozenset({"No results", "Download as CSV", "Fullscreen", "Date range", "Select...",
                                 "Skip to main content", "Past Week", "Past Month", "Past 3 Months",
                                 "Past 6 Months", "Past Year", "Past 2 Years"})


@pytest.mark.parametrize("role", ROLES)
def test_every_visible_string_is_in_the_chosen_language(server, chromium, role) -> None:
    url, vocabulary = server
    visited: list[str] = []
    with _fresh_page(chromium) as page:
        offences = walk_role(page, url, role, vocabulary, visited)
    body = report(offences, f"language-walk-{role}")
    print(f"\n--- {role}: {len(visited)} views: {'; '.join(visited)}\n--- offending strings, {role} ---\n{body}")
    assert not offences, f"{len(offences)} strings in the wrong language or error boxes ({role}):\n{body}"


# --- Streamlit's own texts that show on interaction (Chinese mode) ---------------------------------------


def _probe(page, name: str, action, vocabulary: frozenset[str], *, role: str, typed: str = "") -> list[Offence]:
    """Offences among the strings that ``action`` makes appear (``typed``, what it typed, aside)."""
    before = set(read_page(page))
    action()
    page.wait_for_timeout(700)
    fresh = [item for item in read_page(page) if item not in before and item[1] != typed]
    return judge(fresh, role=role, language="zh", page_name=f"probe: {name}", vocabulary=vocabulary)


def _hover_toolbar(page) -> None:
    listing = page.locator("[data-testid='stDataFrame']").first
    listing.scroll_into_view_if_needed()
    listing.hover()
    buttons = listing.locator("[data-testid='stElementToolbarButton'] button")
    for index in range(buttons.count()):
        buttons.nth(index).hover(force=True)
        tip = page.locator("[data-testid='stTooltipContent']")
        try:
            tip.first.wait_for(timeout=3000)
        except Exception:  # no tooltip on this button
            continue
        page.evaluate("(tips) => { window.gcTips = (window.gcTips || []).concat(tips); }", tip.all_inner_texts())
        page.mouse.move(0, 0)
        tip.first.wait_for(state="detached", timeout=3000)


def _command_map_probes(page, url: str, vocabulary: frozenset[str]) -> list[Offence]:
    open_dashboard(page, url, account="commander")
    _act(page, lambda: page.locator("[data-testid='stSidebarNav'] a").nth(1).click())
    found = _probe(page, "command map after a filter change", lambda: pick_option(page, "时间范围", "全部"),
                   vocabulary, role="commander")
    category = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="类别").first

    def type_nonsense() -> None:
        category.locator("input").focus()
        page.keyboard.type("zzq")

    found += _probe(page, "selectbox typed into", type_nonsense, vocabulary, role="commander", typed="zzq")
    page.keyboard.press("Escape")
    _hover_toolbar(page)
    tips = [("tooltip", tip) for tip in page.evaluate("() => window.gcTips || []")]
    found += judge(tips, role="commander", language="zh", page_name="probe: dataframe toolbar hover",
                   vocabulary=vocabulary)
    return found


def _audit_probes(page, url: str, vocabulary: frozenset[str]) -> list[Offence]:
    open_dashboard(page, url, account="admin")
    _act(page, lambda: page.locator("[data-testid='stSidebarNav'] a", has_text="审计日志").click())
    dates = page.locator("[data-testid='stDateInput'] [role='group']").first
    found = _probe(page, "date input opened", dates.click, vocabulary, role="admin")
    page.keyboard.press("Escape")

    def type_text() -> None:
        page.locator("[data-testid='stTextInput'] input").first.click()
        page.keyboard.type("ab")

    found += _probe(page, "text input typed into", type_text, vocabulary, role="admin", typed="ab")
    page.goto(f"{url}/audit-log")
    wait_for_settle(page, now_ms())
    found += _probe(page, "keyboard Tab on a fresh page", lambda: page.keyboard.press("Tab"), vocabulary,
                    role="admin")
    return found


def test_streamlit_texts_on_interaction_are_chinese_but_for_its_built_ins(server, chromium) -> None:
    url, vocabulary = server
    offences: list[Offence] = []
    for probes in (_command_map_probes, _audit_probes):
        with _fresh_page(chromium) as page:
            offences += probes(page, url, vocabulary)
    body = report(offences, "language-walk-probes")
    print(f"\n--- offending strings, interaction probes ---\n{body}")
    built_ins = {o.context for o in offences} & STREAMLIT_BUILT_INS
    offences = [o for o in offences if o.context not in STREAMLIT_BUILT_INS]
    assert built_ins, "the probes no longer reach Streamlit's built-in texts: check the probes still act"
    assert not offences, f"{len(offences)} strings in English on interaction in Chinese mode:\n{body}"
