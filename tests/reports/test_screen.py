"""The big screen's board: every panel, grades as coloured boxes with a word (never emoji), area
names escaped, counts and rates only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from metrics.briefing import build_briefing
from metrics.periods import parse_period
from reports.screen import ScreenOptions, board_html
from store.models import Case
from tests.reports.demo_store import DEMO_NOW

pytestmark = pytest.mark.slow
PANELS = ("headline", "map", "ranking", "hotspots", "emergencies")
XSS = "<img src=x onerror=alert(1)>"
#: Pictographs, dingbats and the coloured circles/squares emoji fonts draw.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\uFE0F]")


@pytest.fixture()
def october(demo_session, leader):
    return build_briefing(demo_session, leader, parse_period("2026-10"), now=DEMO_NOW)


def test_every_panel_and_grade_words(october, demo_layers):
    html = board_html(october, demo_layers, ScreenOptions(), shown_at=DEMO_NOW)
    for panel in PANELS:
        assert f'data-panel="{panel}"' in html
    assert html.count('class="gc-tile"') == 6
    assert re.search(r'<span class="gc-badge gc-grade-(green|yellow|red)">(优|良|差)</span>', html)
    assert 'src="data:image/png;base64,' in html
    assert not EMOJI.search(html)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "2026年10月" in html and "锦川街道 · 领导驾驶舱" in html


def test_rotating_rankings_show_both_levels(october, demo_layers):
    html = board_html(october, demo_layers, ScreenOptions(rotate=True), shown_at=DEMO_NOW)
    assert 'class="gc-ranking gc-rotate"' in html
    assert 'data-level="community"' in html and 'data-level="grid"' in html
    still = board_html(october, demo_layers, ScreenOptions(level="grid"), shown_at=DEMO_NOW)
    assert 'data-level="grid"' in still and 'data-level="community"' not in still
    ranked = sum(1 for row in october.ranking("grid") if row["rank"] is not None)
    assert ranked > 10 and f"… {ranked - 10} …" in still  # the best five and the worst five


def test_names_from_the_hierarchy_are_escaped(october, demo_layers):
    layers = {**demo_layers, "communities": demo_layers["communities"].copy()}
    layers["communities"].loc[layers["communities"].index[0], "name"] = XSS
    html = board_html(october, layers, ScreenOptions(), shown_at=DEMO_NOW)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_no_personal_data(october, demo_layers, demo_session):
    html = board_html(october, demo_layers, ScreenOptions(rotate=True), shown_at=DEMO_NOW)
    people = demo_session.execute(select(Case.reporter_name, Case.reporter_phone, Case.text)
                                  .where(Case.reporter_name.is_not(None)).limit(50)).all()
    for name, phone, text in people:
        assert name not in html and (not phone or phone not in html) and (not text or text not in html)
