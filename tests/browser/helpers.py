"""Browser-test helpers: waits for the folium map inside streamlit-folium's iframe, sign-in and
navigation in the dashboard, idle and condition waits."""

from __future__ import annotations

import time


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


def open_dashboard(page, url: str, *, account: str = "commander", timeout_s: float = 90.0) -> None:
    """Open the dashboard at ``url`` and, when the sign-in gate asks, sign in with the public
    demo account ``account`` (``demo.people.DEMO_ACCOUNTS``)."""
    page.goto(url)
    page.locator("[data-testid='stSidebarNav'], input[type='password']").first.wait_for(
        timeout=timeout_s * 1000)
    wait_for_idle(page, timeout_s=timeout_s)  # a fresh server's first run may still change the page
    if page.locator("input[type='password']").count():
        from demo.people import DEMO_ACCOUNTS

        demo = next(a for a in DEMO_ACCOUNTS if a.username == account)
        page.locator("input[type='text']").first.fill(demo.username)
        page.locator("input[type='password']").first.fill(demo.password)
        page.locator("input[type='password']").first.press("Enter")
        page.locator("input[type='password']").wait_for(state="detached", timeout=timeout_s * 1000)
    page.locator("[data-testid='stSidebarNav']").wait_for(timeout=timeout_s * 1000)
    wait_for_idle(page, timeout_s=timeout_s)


def go_to_page(page, title: str) -> None:
    """Click the sidebar link of the page titled ``title``."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()


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
    """Poll ``predicate()`` until it is true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        page.wait_for_timeout(250)
    msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
    raise AssertionError(msg)
