"""The sign-in page through the gate, with Streamlit's AppTest: wrong password, lock-out,
success and the role's pages, session timeout, sign-out, the admin-only audit page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from access import accounts
from core import clock
from store import db
from store.models import AuditEntry, Household

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAILURES = 3


@pytest.fixture()
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store with an admin and a worker, and settings locking after 3 failures."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = tmp_path / "gridcommand.toml"
    config.write_text(f'database_url = "{url}"\nlockout_failures = {FAILURES}\nlockout_minutes = 15\n'
                      "session_timeout_minutes = 30\n", encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        now = clock.now()
        accounts.add_user(session, username="admin", password="Admin#2026", role="admin", actor="test", now=now)
        accounts.add_user(session, username="worker", password="Worker#2026", role="worker", actor="test",
                          now=now, area_codes=["370811004001001"], display_name="网格员[点我](http://x)")
        accounts.add_user(session, username="leader", password="Leader#2026", role="leader", actor="test", now=now)
        for hid, grid, phone in (("HH1", "370811004001001", "13811112222"), ("HH2", "370811004001002", "13933334444")):
            session.add(Household(id=hid, head_name="张三明", id_number=None, phone=phone, category="hardship",
                                  grid_code=grid, community_code=grid[:12], street_code="370811004000",
                                  lon=116.6, lat=35.45))
    engine.dispose()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()
    st.cache_data.clear()


def _app() -> AppTest:
    return AppTest.from_file(str(HERE / "gate_app.py"), default_timeout=60)


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def _actions(url: str) -> list[str]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        actions = list(conn.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
    engine.dispose()
    return actions


def test_anonymous_visitor_sees_only_the_sign_in_form(app_store):
    at = _app().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "网格指挥台 · 登录"
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert not [m for m in at.markdown if "scope:" in m.value]


def test_wrong_password_then_lock_out(app_store):
    at = _app().run()
    for attempt in range(1, FAILURES):
        _sign_in(at, "worker", "not-the-password1")
        assert not at.exception, at.exception
        assert at.error[0].value.startswith("用户名或密码错误")
        assert f"再失败 {FAILURES - attempt} 次" in at.error[0].value
    _sign_in(at, "worker", "not-the-password1")
    assert "账号已锁定至" in at.error[0].value
    # while locked, even the right password is refused
    _sign_in(at, "worker", "Worker#2026")
    assert "账号已锁定至" in at.error[0].value
    assert at.title[0].value == "网格指挥台 · 登录"
    assert _actions(app_store)[-5:] == ["sign_in_failed"] * 3 + ["account_locked", "sign_in_locked"]


def test_unknown_user_gets_the_same_message(app_store):
    at = _sign_in(_app().run(), "nobody", "whatever1")
    assert at.error[0].value == "用户名或密码错误。"


def test_right_password_opens_the_role_pages(app_store):
    at = _sign_in(_app().run(), "worker", "Worker#2026")
    assert not at.exception, at.exception
    assert at.title[0].value == "home"
    assert any(m.value == "scope:worker:370811004001001" for m in at.markdown)
    assert at.session_state["scope"].role == "worker"  # what views._state.current_scope() returns
    # the display name is shown as text, not as a link
    caption = " ".join(c.value for c in at.caption)
    assert "网格员\\[点我\\]\\(http\\://x\\)" in caption
    # the worker's navigation has no audit page ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(str(ROOT / "views" / "audit.py"))
    assert _actions(app_store)[-1] == "sign_in"
    # ... and the page itself refuses a worker's session too
    page = AppTest.from_file(str(ROOT / "views" / "audit.py"), default_timeout=60)
    page.session_state["auth"] = at.session_state["auth"]
    page.run()
    assert not page.exception, page.exception
    assert page.error[0].value == "当前角色无权访问此页面。" and not page.dataframe


def test_admin_searches_the_audit_log(app_store):
    at = _sign_in(_app().run(), "admin", "Admin#2026")
    at.switch_page(str(ROOT / "views" / "audit.py")).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "审计日志"
    table = at.dataframe[0].value
    assert {"登录成功", "新增账号"} <= set(table["操作类型"])  # sign_in, user_add in the UI language
    at.text_input(key="audit_actor").input("test")
    next(b for b in at.button if b.label == "查询").click().run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["操作人"]) == {"test"}


def test_session_timeout_and_sign_out(app_store):
    at = _sign_in(_app().run(), "admin", "Admin#2026")
    assert at.title[0].value == "home"
    at.session_state["auth"]["last_activity"] = clock.now() - timedelta(minutes=31)
    at.run()
    assert at.title[0].value == "网格指挥台 · 登录"
    assert at.info[0].value == "长时间未操作，已自动退出，请重新登录。"
    assert "scope" not in at.session_state
    at = _sign_in(at, "admin", "Admin#2026")
    at.button(key="auth_sign_out").click().run()
    assert at.title[0].value == "网格指挥台 · 登录"
    assert at.info[0].value == "已退出登录。"
    actions = _actions(app_store)
    assert actions.count("session_expired") == 1 and actions[-1] == "sign_out"


def test_disabled_account_is_signed_out(app_store):
    at = _sign_in(_app().run(), "worker", "Worker#2026")
    assert at.title[0].value == "home"
    engine = db.make_engine(app_store)
    with db.session_scope(engine) as session:
        accounts.disable_user(session, "worker", actor="admin", now=clock.now())
    engine.dispose()
    at.run()
    assert at.title[0].value == "网格指挥台 · 登录"
    assert "停用" in at.info[0].value


AUTH_SECRETS = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "s3cr3t-for-tests",
                "client_id": "grid-command", "client_secret": "x",
                "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def test_no_single_sign_on_button_without_configuration(app_store):
    at = _app().run()
    assert not [b for b in at.button if b.label == "统一身份认证登录"]


def test_single_sign_on_maps_onto_the_local_account(app_store):
    at = _app()
    at.secrets["auth"] = AUTH_SECRETS
    at.run()
    assert [b.label for b in at.button if b.label == "统一身份认证登录"]
    at.user = {"is_logged_in": True, "preferred_username": "admin", "email": "admin@example.gov"}
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "home" and any(m.value == "scope:admin:" for m in at.markdown)
    assert _actions(app_store)[-1] == "sign_in"


def test_single_sign_on_without_local_account_is_refused(app_store):
    at = _app()
    at.secrets["auth"] = AUTH_SECRETS
    at.user = {"is_logged_in": True, "preferred_username": "stranger", "email": "stranger@example.gov"}
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "网格指挥台 · 登录"
    assert "没有同名账号" in at.error[0].value
    assert _actions(app_store)[-1] == "sign_in_failed"


HOUSEHOLDS = [("HH1", "138****2222"), ("HH2", "139****4444")]


def test_unmask_control_reveals_own_grid_only_and_is_audited(app_store):
    at = _app()
    at.session_state["test_households"] = HOUSEHOLDS
    at.run()
    _sign_in(at, "worker", "Worker#2026")
    texts = [x.value for x in at.text]
    assert "phone HH1: 138****2222" in texts and not any("13811112222" in x for x in texts)
    at.button(key="unmask_HH1").click().run()
    assert not at.exception, at.exception
    assert "phone HH1: 13811112222" in [x.value for x in at.text]
    assert _actions(app_store)[-1] == "unmask"
    at.button(key="unmask_HH2").click().run()
    assert "no household HH2 in your area" in at.error[0].value  # another grid's household: "not found"
    assert not any("13933334444" in x.value for x in at.text)
    assert _actions(app_store)[-1] == "unmask"  # the refusal revealed nothing and logged no view
    # the next render is masked again
    at.run()
    assert not any("13811112222" in x.value for x in at.text)


def test_leader_gets_no_unmask_button(app_store):
    at = _app()
    at.session_state["test_households"] = HOUSEHOLDS
    at.run()
    _sign_in(at, "leader", "Leader#2026")
    assert at.title[0].value == "home"
    assert not [b for b in at.button if b.key and b.key.startswith("unmask_")]
