"""The big-screen page (views/briefing.py) through AppTest, signed in as the page tests do: the
board for leaders, commanders and admins, the report buttons, no personal data; others refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from access import policy
from core import clock
from store.db import make_engine
from store.models import Case
from tests.reports.demo_store import DEMO_NOW, settings_file
from tests.views.pages import signed_in

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "views" / "briefing.py"


@pytest.fixture()
def page_env(demo_url, demo_dir, tmp_path, monkeypatch):
    """Settings naming the seeded demo, the clock at the demo's "now", and the page key ``briefing``
    in the permission table for leader, commander and admin (until access/policy.py has it)."""
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(settings_file(tmp_path, demo_dir)))
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setattr(clock, "now", lambda: DEMO_NOW)
    monkeypatch.chdir(ROOT)
    for role in ("admin", "commander", "leader"):
        if "briefing" not in policy.POLICY[role].pages:
            monkeypatch.setitem(policy.POLICY, role, replace(policy.POLICY[role],
                                                             pages=policy.POLICY[role].pages | {"briefing"}))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _page(role: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(PAGE), default_timeout=120), role=role, username=role).run()
    assert not at.exception, at.exception
    return at


def _board(at: AppTest) -> str:
    boards = [element.proto.body for element in at.get("html") if "gc-brief" in element.proto.body]
    assert len(boards) == 1
    return boards[0]


def test_leader_sees_the_board_and_the_report_buttons(page_env):
    at = _page("leader")
    board = _board(at)
    for panel in ("headline", "map", "ranking", "hotspots", "emergencies"):
        assert f'data-panel="{panel}"' in board
    assert "2026年11月（截至2026-11-23）" in board  # the running month by default
    assert [b.proto.label for b in at.get("download_button")] == ["下载月报（PDF）", "下载月报（PPTX）"]

    at.selectbox(key="brief_period_month").select_index(1).run()  # October 2026
    board = _board(at)
    assert 'data-period="2026-10"' in board and ">1,070<" in board

    at.selectbox(key="brief_kind").set_value("week").run()
    assert not at.exception, at.exception
    assert [b.proto.label for b in at.get("download_button")] == ["下载周报（PDF）", "下载周报（PPTX）"]
    assert 'data-period="2026-W48"' in _board(at)


def test_leader_sees_no_personal_data(page_env, demo_url):
    at = _page("leader")
    at.toggle(key="brief_rotate").set_value(True).run()
    board = _board(at)
    assert 'class="gc-ranking gc-rotate"' in board
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        people = conn.execute(select(Case.reporter_name, Case.reporter_phone).where(
            Case.reporter_name.is_not(None)).limit(50)).all()
    engine.dispose()
    for name, phone in people:
        assert name not in board and (not phone or phone not in board)


@pytest.mark.parametrize("role", ["commander", "admin"])
def test_command_centre_roles_open_it(page_env, role):
    assert 'data-panel="map"' in _board(_page(role))


def test_other_roles_are_refused(page_env):
    at = signed_in(AppTest.from_file(str(PAGE), default_timeout=120), role="worker", username="worker")
    at.session_state["auth"]["user"]["area_codes"] = "370811004001001"
    at.run()
    assert [e.value for e in at.error] == ["当前角色无权访问此页面。"]
    assert not [element for element in at.get("html") if "gc-brief" in element.proto.body]
