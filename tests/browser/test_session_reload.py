"""Reloading the page keeps the operator signed in (session cookie, resumed from the store);
signing out ends it for good: a reload then shows the sign-in form."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_dashboard, wait_for_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_reload_resumes_and_sign_out_ends(dashboard_url, recorded_page, artifacts_dir) -> None:
    page, rec = recorded_page
    open_dashboard(page, dashboard_url, account="chief")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "gc_session" in cookies and cookies["gc_session"]["sameSite"] == "Strict"

    page.reload()
    page.locator("[data-testid='stSidebarNav'], input[type='password']").first.wait_for(timeout=60_000)
    wait_for_idle(page)
    assert page.locator("input[type='password']").count() == 0
    assert page.get_by_text("网格长").count() >= 1  # the sidebar names the signed-in role
    page.screenshot(path=str(artifacts_dir / "session_after_reload.png"))

    page.get_by_role("button", name="退出登录").click()
    page.locator("input[type='password']").wait_for(timeout=60_000)
    wait_for_idle(page)
    page.reload()
    page.locator("input[type='password']").wait_for(timeout=60_000)
    wait_for_idle(page)
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    assert rec.outside_hosts() == set()
