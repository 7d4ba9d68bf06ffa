"""Sign-in in a real browser against ``make run``'s dashboard: a wrong password shows the message
(and hostile input stays text), the right one opens the pages, sign-out returns to the form."""

from __future__ import annotations

import pytest

from tests.access.signin import DEMO_PASSWORDS, browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_sign_in_flow(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    page.goto(dashboard_url)
    page.get_by_label("用户名").fill(HOSTILE, timeout=90_000)  # an unknown name: locks nothing
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码错误").wait_for(timeout=30_000)
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.get_by_role("button", name="退出登录").count() == 0
    page.screenshot(path=str(artifacts_dir / "sign_in_refused.png"))

    browser_sign_in(page, dashboard_url, "admin", DEMO_PASSWORDS["admin"])
    assert page.get_by_text("当前用户").count() >= 1
    assert page.get_by_role("link", name="审计日志").count() == 1  # the admin's navigation
    page.get_by_role("heading", name="网格底图").wait_for(timeout=60_000)  # the default page opened
    page.screenshot(path=str(artifacts_dir / "signed_in_admin.png"))
    page.get_by_role("button", name="退出登录").click()
    page.get_by_text("已退出登录").wait_for(timeout=30_000)
    assert rec.outside_hosts() == set(), rec.outside_hosts()


def test_worker_navigation_has_no_audit_page(dashboard_url, recorded_page) -> None:
    page, _rec = recorded_page
    browser_sign_in(page, dashboard_url, "worker", DEMO_PASSWORDS["worker"])
    assert page.get_by_text("当前用户").count() >= 1
    assert page.get_by_role("link", name="审计日志").count() == 0
