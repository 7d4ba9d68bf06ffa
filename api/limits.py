"""Rate limits per key (token buckets in the server process) and request size limits (an ASGI
middleware counting the body as it arrives).

The buckets live in memory: with several server processes each holds its own, so the effective
limit is the per-process limit times the processes (one by default).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.errors import ApiError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class RateLimiter:
    """Token buckets by name: ``per_minute`` tokens a minute, at most ``burst`` saved up.

    Parameters
    ----------
    clock : callable, optional
        Monotonic seconds (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, per_minute: int, burst: int) -> float:
        """Take one token from ``name``'s bucket.

        Returns
        -------
        float
            0 when the request may go on, else the seconds until a token is back (``Retry-After``).
        """
        burst = max(1, min(burst, per_minute))
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(name, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1.0 - tokens) / rate

    def check(self, name: str, per_minute: int, burst: int, *, who: str) -> None:
        """:meth:`take`, raising a 429 :class:`~api.errors.ApiError` with ``Retry-After`` when empty."""
        wait = self.take(name, per_minute, burst)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, "api_key", f"rate limit of {per_minute} requests per minute reached for {who}",
                           f"wait {seconds} s (Retry-After) and send again, or ask for a higher limit",
                           headers={"Retry-After": str(seconds)}, reason="rate_limited")


class BodyTooLarge(ApiError):
    """A request body over its limit (413)."""


def _limit_error(limit: int) -> BodyTooLarge:
    shown = f"{limit / 1024 / 1024:g} MiB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KiB"
    return BodyTooLarge(413, "body", f"the request is larger than {shown}",
                        "send fewer or smaller photos, or a shorter text", reason="too_large")


class BodyLimit:
    """ASGI middleware: bodies over the limit are refused with 413 (by their ``Content-Length`` at
    once, else when the counted bytes pass it while the app reads them).

    Parameters
    ----------
    app : ASGI app
    limit_for : callable
        ``limit_for(content_type) -> bytes`` (multipart uploads get the larger limit).
    on_refusal : callable
        ``on_refusal(scope, error) -> (status, headers, body)`` renders the 413 sent before the app
        ran (for a ``Content-Length`` over the limit).
    """

    def __init__(self, app: App, limit_for: Callable[[str], int],
                 on_refusal: Callable[[Scope, ApiError], Awaitable[tuple[int, list[tuple[bytes, bytes]], bytes]]],
                 ) -> None:
        self.app, self.limit_for, self.on_refusal = app, limit_for, on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = self.limit_for(headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > limit:
            status, extra, body = await self.on_refusal(scope, _limit_error(limit))
            await send({"type": "http.response.start", "status": status, "headers": extra})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _limit_error(limit)
            return message

        await self.app(scope, counted, send)
