"""Who is calling: the channel key of a request (GeoReport's ``api_key`` field or query parameter,
else the ``X-Api-Key`` header), its grant for what it asks, and its rate limit.

Requests without a valid key count against their client address's limit (brute force on keys
is slowed as much as anything else), requests with one against the key's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.errors import ApiError
from api.keys import Caller, find_caller
from api.requestlog import RequestInfo

if TYPE_CHECKING:
    from api.context import ApiContext

#: What each grant lets a key do, for error messages.
_GRANT_TEXT = {"report": "post and read reports", "alarm": "send alarms", "hotline": "read the 12345 change feed"}


def context(request: Request) -> ApiContext:
    """The server's shared :class:`~api.context.ApiContext`."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


def client_ip(request: Request) -> str | None:
    """The client's address (the peer; no proxy headers are trusted)."""
    return request.client.host if request.client else None


def request_info(request: Request) -> RequestInfo:
    """The request as the audit log keeps it (with the caller once known)."""
    caller: Caller | None = getattr(request.state, "caller", None)
    return RequestInfo(request.method, request.url.path, client_ip(request), caller)


def limit_anonymous(request: Request) -> None:
    """Count a request without a valid key against its address (429 past the limit)."""
    ctx = context(request)
    ip = client_ip(request) or "unknown"
    per_minute = ctx.settings.anonymous_per_minute
    ctx.limiter.check(f"ip:{ip}", per_minute, max(1, per_minute // 2), who=f"address {ip}")


def _lookup(ctx: ApiContext, key: str) -> Caller | None:
    with Session(ctx.engine) as session:
        return find_caller(session, key)


async def authenticate(request: Request, key: str | None, need: str) -> Caller:
    """The caller of a request that must carry a key with grant ``need``.

    Parameters
    ----------
    request : Request
    key : str or None
        The ``api_key`` from the form or the query; else the ``X-Api-Key`` header is used.
    need : str
        ``report``, ``alarm`` or ``hotline``.

    Raises
    ------
    ApiError
        401 without a key, 403 for an unknown or revoked key or one without the grant, 429 past
        the rate limit.
    """
    ctx = context(request)
    key = (key or request.headers.get("x-api-key") or "").strip()
    if not key:
        limit_anonymous(request)
        raise ApiError(401, "api_key", "no API key", "send the channel's key as the api_key field or parameter, or "
                       "as the X-Api-Key header (`python -m api keys add --channel NAME` makes one)", reason="no_key")
    caller = await run_in_threadpool(_lookup, ctx, key)
    if caller is None:
        limit_anonymous(request)
        raise ApiError(403, "api_key", "the API key is unknown or revoked",
                       "check the key, or ask for a new one (`python -m api keys add --channel NAME`)",
                       reason="bad_key")
    request.state.caller = caller
    allow(caller, need)
    rate = caller.rate_per_minute or ctx.settings.rate_per_minute
    ctx.limiter.check(f"key:{caller.key_id}", rate, ctx.settings.rate_burst, who=f"key {caller.key_id}")
    return caller


def allow(caller: Caller, need: str) -> None:
    """Raise 403 unless the key has grant ``need``."""
    if need not in caller.allow:
        raise ApiError(403, "api_key", f"this key may not {_GRANT_TEXT.get(need, need)}",
                       f"use a key made with `python -m api keys add --channel {caller.channel} --allow {need}`",
                       reason="not_allowed")
