"""Helpers for tests of pages behind the sign-in gate.

AppTest (no store account needed)::

    from tests.access.signin import as_signed_in
    at = AppTest.from_file("dashboard.py")
    as_signed_in(at, role="commander")
    at.run()

Browser (``make run`` seeds the demo accounts)::

    from tests.access.signin import browser_sign_in
    browser_sign_in(page, dashboard_url, "admin", "Admin#2026")
"""

from __future__ import annotations

from typing import Any

from access.scope import Scope
from core import clock

#: Demo accounts seeded by ``make run`` (demo.people.DEMO_ACCOUNTS).
DEMO_PASSWORDS = {"admin": "Admin#2026", "commander": "Command#2026", "chief": "Chief#2026",
                  "worker": "Worker#2026", "leader": "Leader#2026"}


def as_signed_in(at: Any, *, role: str = "commander", area_codes: str = "", username: str | None = None) -> Any:
    """Make an ``AppTest`` run as a signed-in account of ``role`` (before ``at.run()``)."""
    name = username or f"test-{role}"
    user = {"username": name, "display_name": name, "role": role, "area_codes": area_codes,
            "worker_id": None, "id": None, "method": "password"}
    at.session_state["auth"] = {"user": user, "last_activity": clock.now()}
    at.session_state["scope"] = Scope(role=role, area_codes=frozenset(c for c in area_codes.split(",") if c),
                                      username=name)
    return at


def browser_sign_in(page: Any, base_url: str, username: str, password: str, *, timeout_ms: int = 90_000) -> None:
    """Sign in through the dashboard's form in a Playwright ``page`` and wait for the navigation."""
    page.goto(base_url)
    page.get_by_label("用户名").fill(username, timeout=timeout_ms)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(timeout=timeout_ms)
    page.get_by_text("网格指挥台 · 登录").wait_for(state="detached", timeout=timeout_ms)
