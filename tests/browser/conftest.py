"""Browser-test fixtures: pages that record every request, console error and dialog across frames
(one page, or several in contexts of their own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def attach_recorder(page) -> Recorder:
    """A :class:`Recorder` of ``page``'s requests, console errors and dialogs (dismissed)."""
    rec = Recorder()
    page.on("request", lambda request: rec.requests.append(request.url))
    page.on("console", lambda msg: rec.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: rec.errors.append(f"pageerror: {exc}"))

    def on_dialog(dialog) -> None:
        rec.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return rec


@pytest.fixture()
def recorded_page(chromium) -> Iterator[tuple[object, Recorder]]:
    """A fresh 1400x900 page with a :class:`Recorder` attached (dialogs are recorded, dismissed)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page, attach_recorder(page)
    context.close()


@pytest.fixture()
def new_page(chromium) -> Iterator[Callable[..., tuple[object, Recorder]]]:
    """Make pages in contexts of their own (options of ``new_context``), each with a
    :class:`Recorder` attached as ``recorded_page`` does; all are closed at the end."""
    contexts = []

    def make(**options) -> tuple[object, Recorder]:
        context = chromium.new_context(locale="zh-CN", **options)
        contexts.append(context)
        page = context.new_page()
        return page, attach_recorder(page)

    yield make
    for context in contexts:
        context.close()
