"""Browser-test helpers: a page that records every request and console error across frames,
and a wait for the folium map inside streamlit-folium's iframe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class Recorder:
    """What a page did: every request URL (all frames) and every console error or page error."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def outside_hosts(self) -> set[str]:
        """Hosts other than the loopback ones that some request went to (data:/blob: ignored)."""
        hosts = set()
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname not in LOCAL_HOSTS:
                hosts.add(parsed.hostname or url)
        return hosts


@pytest.fixture()
def recorded_page(chromium) -> Iterator[tuple[object, Recorder]]:
    """A fresh 1400x900 page with a :class:`Recorder` attached (dialogs are recorded, dismissed)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    rec = Recorder()
    page.on("request", lambda request: rec.requests.append(request.url))
    page.on("console", lambda msg: rec.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: rec.errors.append(f"pageerror: {exc}"))

    def on_dialog(dialog) -> None:
        rec.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page, rec
    context.close()


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
