"""The real dashboard behind the sign-in gate (AppTest): the form first, the role's pages after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from access import accounts
from core import clock
from store import db
from tests.layers.sample import sample_hierarchy, write_gpkg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def dashboard_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    gpkg = tmp_path / "hierarchy.gpkg"
    write_gpkg(sample_hierarchy(), gpkg)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = tmp_path / "gridcommand.toml"
    config.write_text(f'hierarchy_path = "{gpkg.as_posix()}"\ndatabase_url = "{url}"\nlockout_failures = 2\n',
                      encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        for name, role in (("admin", "admin"), ("leader", "leader")):
            accounts.add_user(session, username=name, password=f"{name.title()}#2026", role=role, actor="test",
                              now=clock.now())
    engine.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return next(b for b in at.button if b.label == "登录").click().run()


def test_dashboard_shows_the_sign_in_form_first(dashboard_store):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "网格指挥台 · 登录"
    _sign_in(at, "leader", "wrong-password-1")
    assert at.error[0].value.startswith("用户名或密码错误")
    _sign_in(at, "leader", "wrong-password-1")
    assert "账号已锁定至" in at.error[0].value


def test_dashboard_pages_by_role(dashboard_store):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    _sign_in(at, "admin", "Admin#2026")
    assert not at.exception, at.exception
    assert at.title[0].value == "网格底图"  # the default page
    at.switch_page(str(ROOT / "views" / "audit.py")).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "审计日志"
    assert "登录成功" in set(at.dataframe[0].value["操作类型"])  # sign_in, labelled in the UI language

    leader = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    _sign_in(leader, "leader", "Leader#2026")
    assert leader.title[0].value == "网格底图"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        leader.switch_page(str(ROOT / "views" / "audit.py"))
