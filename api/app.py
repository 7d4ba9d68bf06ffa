"""The ASGI application: routers, size limits, errors that name the field and the fix, the audit
of refusals, the OpenAPI document at ``/openapi.json`` (no CDN-hosted docs page: the machine may
be offline).

``uvicorn --factory api.app:create_app`` (what ``python -m api serve`` runs) opens the configured
store (migrating it), reads the ``[api]`` settings and the hierarchy, and starts the writer thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from api import alarms, backchannel, open311, open311_post, snap
from api.auth import request_info
from api.context import ApiContext
from api.errors import ApiError
from api.limits import BodyLimit
from api.requestlog import RefusalLog, RequestInfo
from api.xml import to_xml
from core.api_settings import ApiSettings, load_api_settings

log = logging.getLogger(__name__)
VERSION = "1.0.0"
_KEY_IN_QUERY = re.compile(r"(api_key=)[^&\s]+")


class _RedactKeys(logging.Filter):
    """Masks ``api_key=...`` in uvicorn's access log lines (GET requests carry the key in the query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the logged path; never drop the line."""
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactKeys) for f in access.filters):
        access.addFilter(_RedactKeys())


def render_error(path: str, error: ApiError) -> Response:
    """The error as GeoReport's error list under ``/open311/`` (XML for ``.xml`` paths), else JSON."""
    headers = dict(error.headers) or None
    if path.startswith("/open311/"):
        if path.endswith(".xml"):
            return Response(to_xml("errors", "error", error.open311()), status_code=error.status,
                            media_type="application/xml; charset=utf-8", headers=headers)
        return JSONResponse(error.open311(), status_code=error.status, headers=headers)
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def _validation_error(exc: RequestValidationError) -> ApiError:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "header", "body")]
    name = loc[-1] if loc else "request"
    where = first.get("loc", ("",))[0]
    status = 404 if where == "path" else 400
    fix = "use a path from the OpenAPI document (/openapi.json)" if where == "path" else \
        "correct the value as the OpenAPI document (/openapi.json) describes it"
    return ApiError(status, name, str(first.get("msg", "invalid value")), fix, reason="bad_value")


def _http_error(exc: StarletteHTTPException) -> ApiError:
    if exc.status_code == 404:
        return ApiError(404, "path", "no such endpoint", "use a path from the OpenAPI document (/openapi.json)",
                        reason="not_found")
    if exc.status_code == 405:
        return ApiError(405, "method", "this endpoint does not take this method",
                        "use the method the OpenAPI document (/openapi.json) names", reason="bad_method")
    return ApiError(exc.status_code, "body", str(exc.detail)[:200], "send a well-formed request", reason="bad_request")


async def _refused(request: Request, error: ApiError) -> Response:
    refusals: RefusalLog = request.app.state.refusals
    try:
        await run_in_threadpool(refusals.write, request_info(request), error)
    except Exception:  # an audit failure must not hide the refusal from the client
        log.exception("could not audit a refused request")
    return render_error(request.url.path, error)


def _install_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return await _refused(request, exc)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return await _refused(request, _validation_error(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return await _refused(request, _http_error(exc))

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("request failed", exc_info=exc)
        return await _refused(request, ApiError(500, "", "the server failed on this request",
                                                "send it again later; if it keeps failing, tell the operators",
                                                reason="server_error"))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)


def _limits(app: FastAPI, settings: ApiSettings) -> None:
    def limit_for(content_type: str) -> int:
        if content_type.startswith("multipart/form-data"):
            return settings.max_upload_mb * 1024 * 1024
        return settings.max_body_kb * 1024

    async def on_refusal(scope: MutableMapping[str, Any], error: ApiError,
                         ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        client = scope.get("client")
        info = RequestInfo(scope.get("method", ""), scope.get("path", ""), client[0] if client else None)
        await run_in_threadpool(app.state.refusals.write, info, error)
        response = render_error(scope.get("path", ""), error)
        return response.status_code, response.raw_headers, bytes(response.body)

    app.add_middleware(BodyLimit, limit_for=limit_for, on_refusal=on_refusal)


def create_app(ctx: ApiContext | None = None) -> FastAPI:
    """The API over ``ctx`` (default: the configured store, migrated, and the ``[api]`` settings).

    The writer thread starts with the server (lifespan) and finishes its queue when it stops.
    """
    if ctx is None:
        from access.database import open_store

        ctx = ApiContext(open_store(), load_api_settings())
    shared = ctx

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(shared.start)
        yield
        await run_in_threadpool(shared.stop)

    app = FastAPI(title="Grid Command intake API (网格指挥台 接口)", version=VERSION, docs_url=None, redoc_url=None,
                  lifespan=lifespan, description=__doc__ or "")
    app.state.ctx = ctx
    _redact_access_log()
    app.state.refusals = RefusalLog(ctx.engine)
    for module in (open311, open311_post, snap, alarms, backchannel):
        app.include_router(module.router)
    _install_handlers(app)
    _limits(app, ctx.settings)

    @app.get("/health", tags=["service"], summary="Liveness and the store's backend")
    async def health() -> dict[str, Any]:
        """``{"ok": true, "store": "sqlite" | "postgresql"}``."""
        return {"ok": True, "store": shared.engine.dialect.name}

    return app
